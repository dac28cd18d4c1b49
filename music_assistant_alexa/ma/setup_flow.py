"""
The setup flow of Music Assistant 2.10+ (models 1.1.169 and later).

2.10+ adds a provider only through ``setup_flow.py``'s ``run_setup(session)`` and runs it again
as "Reconfigure" (with ``reason == "auth"`` after a sign-in failure). The flow asks for the
credentials, checks the 2FA key before anything is sent (and shows the code it makes), signs in
while a progress step shows, asks for a captcha when Amazon wants one, and hands the signed-in
session to the new instance: the sign-in goes into a pending session (see ``pending.py``) that
the instance takes over when ``finish`` loads it, so loading needs neither a password nor a
second sign-in.

Every failure comes back to the form with the reason and the guide link; nothing is stored
until the sign-in succeeded. A reconfigure keeps the device Amazon knows (the pending folder
starts as a copy of the instance's), and may leave the secret fields empty to keep them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from music_assistant.models.setup_flow import SetupFlowError

from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug, guide_link

from .constants import (
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
)
from .context import AdapterContext
from .credentials import AccountCredentials, field_at_fault, parse_credentials
from .entries import captcha_entries, code_hint, credential_entries, key_entries, notice_entries
from .notices import Notice, avoid_suppressed
from .pending import safe_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from music_assistant.models.setup_flow import SetupSession
    from music_assistant_models.config_entries import ConfigEntry

    from .pending import PendingSignIn

STEP_USER: Final = "user"
STEP_SIGN_IN: Final = "sign_in"
STEP_CAPTCHA: Final = "captcha"
#: Secrets a re-shown form may leave empty (MA never shows a secret again).
_SECRETS: Final = (CONF_PASSWORD, CONF_TOTP_KEY)


async def run_setup(session: SetupSession) -> None:
    """
    Collect the credentials, sign in (with a captcha step when needed), and finish.

    :param session: The flow's session, from MA's flow engine.
    """
    flow = _Flow(session)
    try:
        await flow.run()
    finally:
        await flow.cleanup()


class _Flow:
    """One run of the setup (or reconfigure) flow."""

    def __init__(self, session: SetupSession) -> None:
        self.session = session
        self.context = AdapterContext.of(session.mass)
        flow = session.context
        self.reconfigure = flow.kind == "reconfigure" and bool(flow.instance_id)
        stored: dict[str, Any] = {**(flow.values or {}), **(flow.setup_data or {})}
        self.prefill = {
            key: stored[key] for key in (CONF_EMAIL, CONF_MARKETPLACE) if stored.get(key)
        }
        #: Secrets typed earlier in this flow (or stored, on a reconfigure).
        self.remembered: dict[str, str] = {
            key: value for key in _SECRETS if isinstance(value := stored.get(key), str) and value
        }
        self.pending_id = safe_id(session.flow_id)
        self.seed = (
            self.context.instance_folder(str(flow.instance_id)) if self.reconfigure else None
        )
        self.sign_in: PendingSignIn | None = None
        self.signed_in = False
        self.finished = False

    async def run(self) -> None:
        errors: dict[str, str] = {}
        notices: list[Notice] = []
        if self.reconfigure and self.session.context.reason == "auth":
            notices.append(
                Notice(
                    "Amazon no longer accepts the stored session. Sign in again; the device "
                    "already known to Amazon is kept.",
                    ok=False,
                    guide_url=guide_link(GuideSlug.COMPLETE_REAUTH),
                )
            )
        while True:
            values = await self.session.form(
                self._user_entries(notices), step_id=STEP_USER, errors=errors, last_step=True
            )
            errors, notices = {}, []
            try:
                creds = self._credentials(values)
            except AlexaAuthError as err:
                email = values.get(CONF_EMAIL)
                password = self.remembered.get(CONF_PASSWORD)
                field = field_at_fault(err, email if isinstance(email, str) else "", password)
                if field == CONF_TOTP_KEY:
                    # A bad key is never kept: the re-shown form must ask for it again.
                    self.remembered.pop(CONF_TOTP_KEY, None)
                notice = Notice.from_error(err, field=field)
                errors[field or "base"] = notice.text
                notices.append(notice)
                continue
            problem = await self._sign_in(creds)
            if problem is not None:
                errors["base"] = problem.text
                notices.append(problem)
                continue
            try:
                await self.session.finish(
                    {
                        CONF_EMAIL: creds.email,
                        CONF_PASSWORD: creds.password,
                        CONF_TOTP_KEY: creds.key.secret,
                        CONF_MARKETPLACE: creds.marketplace,
                        CONF_PENDING_SESSION: self.pending_id,
                    }
                )
            except SetupFlowError as err:
                # The instance did not load with the session (rare: it was signed in a moment
                # ago); show why and let the user try again.
                text = avoid_suppressed(str(err))
                errors["base"] = text
                notices.append(Notice(text, ok=False))
                self.signed_in = False
                continue
            self.finished = True
            return

    def _user_entries(self, notices: list[Notice]) -> list[ConfigEntry]:
        entries = notice_entries(notices)
        for entry in credential_entries(flow=True, keep=frozenset(self.remembered)):
            prefilled = self.prefill.get(entry.key)
            entries.append(replace(entry, value=prefilled) if prefilled else entry)
            if entry.key == CONF_TOTP_KEY:
                now = self.context.clock.time()
                entries.extend(key_entries(self.remembered.get(CONF_TOTP_KEY), now))
        return entries

    def _credentials(self, values: Mapping[str, Any]) -> AccountCredentials:
        """Remember the submitted values and check them; raise the problem the user must fix."""
        email = values.get(CONF_EMAIL)
        market = values.get(CONF_MARKETPLACE)
        self.prefill.update(
            {k: v for k, v in ((CONF_EMAIL, email), (CONF_MARKETPLACE, market)) if v}
        )
        for key in _SECRETS:
            typed = values.get(key)
            if isinstance(typed, str) and typed:
                self.remembered[key] = typed
        return parse_credentials(
            email if isinstance(email, str) else "",
            self.remembered.get(CONF_PASSWORD),
            self.remembered.get(CONF_TOTP_KEY),
            market if isinstance(market, str) else None,
        )

    async def _sign_in(self, creds: AccountCredentials) -> Notice | None:
        """Sign in into the pending session; return the problem, or None when signed in."""
        await self._discard(sign_out=False)
        pending = self.context.pending
        sign_in = await pending.prepare(
            self.pending_id,
            marketplace=creds.marketplace,
            seed=self.seed,
            pending_id=self.pending_id,
            credentials=creds,
        )
        self.sign_in = sign_in
        manager = sign_in.manager
        step: Awaitable[None] = manager.login(creds.email, creds.password, creds.key)
        captcha_errors: dict[str, str] = {}
        while True:
            # The code shown is the one of this moment (a captcha step may have taken minutes).
            hint = code_hint(creds.key, self.context.clock.time())
            try:
                await self.session.progress_until(
                    step, STEP_SIGN_IN, text=f"Signing in to {creds.marketplace}. {hint}"
                )
                break
            except CaptchaRequiredError as err:
                url = manager.captcha_url
                if not url:
                    return Notice.from_error(err)
                answered = await self.session.form(
                    captcha_entries(url, flow=True),
                    step_id=STEP_CAPTCHA,
                    errors=captcha_errors,
                    last_step=False,
                )
                answer = answered.get(CONF_CAPTCHA_ANSWER)
                step = manager.answer_captcha(answer if isinstance(answer, str) else "")
                captcha_errors = {
                    CONF_CAPTCHA_ANSWER: "Amazon did not accept those characters; this is a "
                    "new picture."
                }
            except AlexaAuthError as err:
                await self._discard(sign_out=False)
                return Notice.from_error(err)
        await pending.finish(sign_in)
        self.sign_in = None
        self.signed_in = True
        return None

    async def _discard(self, *, sign_out: bool) -> None:
        """Delete this flow's pending session (and its open sign-in); sign it out if asked."""
        sign_in, self.sign_in = self.sign_in, None
        self.signed_in = False
        pending = self.context.pending
        await pending.discard(sign_in or pending.folder(self.pending_id), sign_out=sign_out)

    async def cleanup(self) -> None:
        """Close the sign-in; if the flow ended without finishing, undo it."""
        if self.finished:
            return
        # A device registered for an instance that will never exist goes off the account
        # again. (A reconfigure's copy shares its device with the live instance: kept.)
        await self._discard(sign_out=self.signed_in)
