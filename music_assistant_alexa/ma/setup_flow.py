"""
The setup flow of Music Assistant 2.10+ (models 1.1.169 and later).

2.10+ adds a provider only through ``setup_flow.py``'s ``run_setup(session)`` and runs it again
as "Reconfigure" (with ``reason == "auth"`` after a sign-in failure). The flow asks for the
credentials, checks the 2FA key before anything is sent, signs in while a progress step shows
the code the key makes (renewed with every 30-second window, so it is never stale), asks for a
captcha when Amazon wants one (its picture fetched by us, as a ``data:`` URI), and hands the
signed-in session to the new instance: the sign-in goes into a pending session (see
``pending.py``) that the instance takes over when ``finish`` loads it, so loading needs neither
a password nor a second sign-in.

What a stock MA shows of it: MA titles a step only from the catalog it compiled when it was
built, which a provider installed later cannot add to, so each form starts with a heading of its
own (see :func:`~.entries.heading_entries`); the ``strings.json`` next to the provider holds the
titles for the day the provider is built into MA. Each problem is said once, in an alert at the
top with the guide link (alerts are Markdown in MA's dialog: the link opens in a new tab); a
field at fault gets a short pointer, never the same words again. The submit button says "Next"
on the credentials (a captcha may follow) and "Finish" on the captcha (nothing follows).

Every failure comes back to the form; nothing is stored until the sign-in succeeded, and a
session nobody takes over is signed out at Amazon (its device removed) and deleted: after a
failed ``finish`` at once, after a cancelled flow in the background (MA waits only 10 s for a
cancelled flow's clean-up). A reconfigure keeps the device Amazon knows (the pending folder
starts as a copy of the instance's), and may leave the secret fields empty to keep them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from music_assistant.models.setup_flow import SetupFlowError, StepExpiredError

from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug

from .constants import (
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
    STEP_CAPTCHA,
    STEP_SIGN_IN,
    STEP_USER,
)
from .context import AdapterContext
from .credentials import AccountCredentials, field_at_fault, parse_credentials
from .entries import (
    IMAGE_TYPE,
    captcha_answer_key,
    captcha_entries,
    code_hint,
    credential_entries,
    heading_entries,
    key_entries,
    notice_entries,
)
from .notices import Notice, avoid_suppressed
from .pending import safe_id

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping

    from music_assistant.models.setup_flow import SetupSession
    from music_assistant_models.config_entries import ConfigEntry

    from .pending import PendingSignIn

#: Secrets a re-shown form may leave empty (MA never shows a secret again).
_SECRETS: Final = (CONF_PASSWORD, CONF_TOTP_KEY)
#: The pointer under a field at fault; the alert at the top says what is wrong.
FIELD_POINTER: Final = "Check this field: the message at the top says what is wrong."
#: Shortest deadline given to a progress step (a window about to end gets the next code).
_MIN_WINDOW: Final = 0.01


async def run_setup(session: SetupSession) -> None:
    """
    Collect the credentials, sign in (with a captcha step when needed), and finish.

    :param session: The flow's session, from MA's flow engine.
    """
    flow = _Flow(session)
    route = flow.context.guide_route
    route.hold(flow.holder)  # every step links to the guide
    try:
        await flow.run()
    except BaseException:
        # Cancelled (the dialog was closed, or a newer flow replaced this one) or broken: a
        # session nobody will take over goes, in the background, as MA waits only 10 s.
        flow.context.create_task(flow.undo())
        raise
    finally:
        route.release(flow.holder)


class _Flow:
    """One run of the setup (or reconfigure) flow."""

    def __init__(self, session: SetupSession) -> None:
        self.session = session
        self.context = AdapterContext.of(session.mass)
        self.link = self.context.link
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
        self.holder = f"flow:{self.pending_id}"
        self.seed = (
            self.context.instance_folder(str(flow.instance_id)) if self.reconfigure else None
        )
        self.sign_in: PendingSignIn | None = None
        self.captcha_round = 0

    async def run(self) -> None:
        errors: dict[str, str] = {}
        notices: list[Notice] = []
        if self.reconfigure and self.session.context.reason == "auth":
            notices.append(
                Notice.problem(
                    "Amazon no longer accepts the stored session. Sign in again; the device "
                    "already known to Amazon is kept.",
                    self.link(GuideSlug.COMPLETE_REAUTH),
                )
            )
        while True:
            values = await self.session.form(
                self._user_entries(notices),
                step_id=STEP_USER,
                errors=errors,
                # A captcha may follow: the button says "Next".
                last_step=False,
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
                notices.append(Notice.from_error(err, self.link, field=field))
                if field is not None:
                    errors[field] = FIELD_POINTER
                continue
            problem = await self._sign_in(creds)
            if problem is not None:
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
                # MA could not load the instance with the session (rare: it was signed in a
                # moment ago). Nobody will use this sign-in: its device goes off the account.
                await self.undo()
                notices.append(self._finish_problem(err))
                continue
            return

    def _finish_problem(self, err: SetupFlowError) -> Notice:
        text = avoid_suppressed(str(err) or "Music Assistant could not start the account.")
        guide = self.link(GuideSlug.COMPLETE_REAUTH)
        if "How to fix it:" in text:
            return Notice(text, ok=False, guide_url=guide)
        return Notice.problem(
            f"Music Assistant could not start the account with this sign-in ({text}). Try again.",
            guide,
        )

    def _user_entries(self, notices: list[Notice]) -> list[ConfigEntry]:
        if self.reconfigure:
            entries = heading_entries(
                "Sign in to Amazon again",
                "Music Assistant signs in once more with your Amazon account; the stored "
                "session is replaced only when the new sign-in works.",
            )
        else:
            entries = heading_entries(
                "Sign in to Amazon",
                "Music Assistant signs in to your Amazon account once, registers itself as a "
                "device (like the Alexa app does) and keeps that session fresh. Nothing is "
                "stored until the sign-in has worked.",
            )
        entries.extend(notice_entries(notices))
        for entry in credential_entries(self.link, flow=True, keep=frozenset(self.remembered)):
            prefilled = self.prefill.get(entry.key)
            entries.append(replace(entry, value=prefilled) if prefilled else entry)
            if entry.key == CONF_TOTP_KEY:
                entries.extend(key_entries(self.remembered.get(CONF_TOTP_KEY), self.link))
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
        await self.undo()
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
        step: Coroutine[Any, Any, None] = manager.login(creds.email, creds.password, creds.key)
        captcha_errors: dict[str, str] = {}
        while True:
            try:
                await self._show_progress(step, creds)
                break
            except CaptchaRequiredError as err:
                if not manager.captcha_url:
                    await self.undo()
                    return Notice.from_error(err, self.link)
                self.captcha_round += 1
                answer = await self._ask_captcha(sign_in, captcha_errors)
                step = manager.answer_captcha(answer)
                captcha_errors = {
                    captcha_answer_key(self.captcha_round + 1): "Amazon did not accept those "
                    "characters; this is a new picture."
                }
            except AlexaAuthError as err:
                await self.undo()
                return Notice.from_error(err, self.link)
        await pending.finish(sign_in)
        self.sign_in = None
        return None

    async def _show_progress(
        self, step: Coroutine[Any, Any, None], creds: AccountCredentials
    ) -> None:
        """
        Run a sign-in step while the progress step shows the code of the current window.

        The step is published again (with the next code) when its window ends, so the code on
        screen is never older than its 30 seconds; the countdown MA's dialog shows is the
        window's.
        """
        work = asyncio.ensure_future(step)
        try:
            while True:
                now = self.context.clock.time()
                left = max(creds.key.seconds_left(now), _MIN_WINDOW)
                text = f"Signing in to {creds.marketplace}. {code_hint(creds.key, now)}"
                try:
                    await self.session.progress_until(
                        asyncio.shield(work), STEP_SIGN_IN, text=text, expires_in=left
                    )
                except StepExpiredError:
                    continue  # a new window: show its code
                return
        finally:
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, AlexaAuthError):
                    await work

    async def _ask_captcha(self, sign_in: PendingSignIn, errors: dict[str, str]) -> str:
        """Show the captcha (a new picture under new keys) until an answer is typed in."""
        url = sign_in.manager.captcha_url or ""
        picture = await self.context.pending.captcha_picture(sign_in) if IMAGE_TYPE else None
        key = captcha_answer_key(self.captcha_round)
        entries = heading_entries("Solve Amazon's picture puzzle")
        entries.extend(
            captcha_entries(
                self.link, captcha_url=url, picture=picture, round_number=self.captcha_round
            )
        )
        while True:
            answered = await self.session.form(
                entries,
                step_id=STEP_CAPTCHA,
                errors=errors,
                # Nothing follows the captcha: the button says "Finish".
                last_step=True,
            )
            answer = answered.get(key)
            if isinstance(answer, str) and answer.strip():
                return answer.strip()
            # MA counts "" (and spaces) as filled in: never spend a request on no answer.
            errors = {key: "Type the characters you see in the picture."}

    async def undo(self) -> None:
        """Delete this flow's pending session (and its open sign-in); sign its device out."""
        sign_in, self.sign_in = self.sign_in, None
        pending = self.context.pending
        # A copy of a reconfigured instance's folder shares its device: only deleted.
        await pending.discard(sign_in or pending.folder(self.pending_id), sign_out=True)
