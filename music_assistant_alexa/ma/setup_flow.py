"""
The setup flow for newer Music Assistant (models 1.1.169 and later).

Newer MA adds a provider only through ``setup_flow.py``'s ``run_setup(session)`` and runs it
again as "Reconfigure" (with ``reason == "auth"`` after a sign-in failure). The flow asks for
the credentials, checks the 2FA key before anything is sent (and shows the code it makes),
signs in while a progress step shows, asks for a captcha when Amazon wants one, and hands the
signed-in session to the new instance: the sign-in goes into a pending folder that the instance
takes over when ``finish`` loads it, so loading needs neither a password nor a second sign-in.

Every failure comes back to the form with the reason and the guide link; nothing is stored
until the sign-in succeeded. A reconfigure keeps the device Amazon knows (the pending folder
starts as a copy of the instance's), and may leave the secret fields empty to keep them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from music_assistant.models.setup_flow import SetupFlowError

from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug, guide_link

from . import helpers
from .config_entries import (
    Notice,
    captcha_entries,
    check_credentials,
    credential_entries,
    key_entries,
)
from .constants import (
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping
    from pathlib import Path

    from music_assistant.models.setup_flow import SetupSession
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.auth.session import AuthSessionManager

    from .config_entries import Credentials

_LOGGER = logging.getLogger(__name__)

STEP_USER: Final = "user"
STEP_SIGN_IN: Final = "sign_in"
STEP_CAPTCHA: Final = "captcha"
#: Longest wait for Amazon to take our device back when the flow is abandoned.
_DEREGISTER_TIMEOUT: Final = 15.0


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
        self.mass = session.mass
        context = session.context
        self.reconfigure = context.kind == "reconfigure" and bool(context.instance_id)
        stored: dict[str, Any] = {**(context.values or {}), **(context.setup_data or {})}
        self.prefill = {
            key: stored[key] for key in (CONF_EMAIL, CONF_MARKETPLACE) if stored.get(key)
        }
        #: Secrets typed earlier in this flow (or stored, on a reconfigure): a re-shown form
        #: may leave them empty, because MA never shows a secret again.
        self.remembered: dict[str, str] = {
            key: value
            for key in (CONF_PASSWORD, CONF_TOTP_KEY)
            if isinstance(value := stored.get(key), str) and value
        }
        self.pending_id = helpers.safe_id(session.flow_id)
        self.folder: Path = helpers.pending_dir(self.mass, self.pending_id)
        self.seed: Path | None = (
            helpers.instance_dir(self.mass, str(context.instance_id)) if self.reconfigure else None
        )
        self.manager: AuthSessionManager | None = None
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
            creds = self._credentials(values, errors, notices)
            if creds is None:
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
                text = helpers.avoid_suppressed(str(err))
                errors["base"] = text
                notices.append(Notice(text, ok=False))
                self.signed_in = False
                continue
            self.finished = True
            return

    def _user_entries(self, notices: list[Notice]) -> list[ConfigEntry]:
        entries: list[ConfigEntry] = [
            notice.entry(f"alexa_notice_{i}") for i, notice in enumerate(notices)
        ]
        fields = credential_entries(flow=True, keep=frozenset(self.remembered))
        for entry in fields:
            if entry.key in self.prefill:
                entry = replace(entry, value=self.prefill[entry.key])  # noqa: PLW2901
            entries.append(entry)
            if entry.key == CONF_TOTP_KEY:
                now = helpers.SETTINGS.clock.time()
                entries.extend(key_entries(self.remembered.get(CONF_TOTP_KEY), now))
        return entries

    def _credentials(
        self, values: Mapping[str, Any], errors: dict[str, str], notices: list[Notice]
    ) -> Credentials | None:
        """Check the submitted values; on a problem fill ``errors`` and return None."""
        email = values.get(CONF_EMAIL)
        market = values.get(CONF_MARKETPLACE)
        self.prefill.update(
            {k: v for k, v in ((CONF_EMAIL, email), (CONF_MARKETPLACE, market)) if v}
        )
        for key in (CONF_PASSWORD, CONF_TOTP_KEY):
            typed = values.get(key)
            if isinstance(typed, str) and typed:
                self.remembered[key] = typed
        creds = check_credentials(
            email.strip() if isinstance(email, str) else "",
            self.remembered.get(CONF_PASSWORD),
            self.remembered.get(CONF_TOTP_KEY),
            market if isinstance(market, str) else None,
        )
        if isinstance(creds, Notice):
            if creds.field == CONF_TOTP_KEY:
                # A bad key is never kept: the re-shown form must ask for it again.
                self.remembered.pop(CONF_TOTP_KEY, None)
            errors[creds.field or "base"] = creds.text
            notices.append(creds)
            return None
        return creds

    async def _sign_in(self, creds: Credentials) -> Notice | None:
        """Sign in into the pending folder; return the problem, or None when signed in."""
        await self._reset_pending()
        now = helpers.SETTINGS.clock.time()
        await helpers.run_blocking(
            helpers.prepare_pending, self.folder, copy_from=self.seed, now=now
        )
        manager = helpers.create_manager(self.mass, self.folder, creds.marketplace)
        self.manager = manager
        step: Awaitable[None] = manager.login(creds.email, creds.password, creds.key)
        captcha_errors: dict[str, str] = {}
        while True:
            # The code shown is the one of this moment (a captcha step may have taken minutes).
            hint = helpers.code_hint(creds.key, helpers.SETTINGS.clock.time())
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
                await self._reset_pending()
                return Notice.from_error(err)
        self.signed_in = True
        await manager.close()
        return None

    async def _reset_pending(self) -> None:
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.close()
        self.signed_in = False
        await helpers.run_blocking(helpers.discard_pending, self.folder)

    async def cleanup(self) -> None:
        """Close the manager; if the flow ended without finishing, undo its sign-in."""
        if self.manager is not None:
            await self.manager.close()
            self.manager = None
        if self.finished:
            return
        if self.signed_in and not self.reconfigure:
            # A device was registered for an instance that will never exist: take it off the
            # account again. (A reconfigure shares its device with the live instance.)
            with contextlib.suppress(AlexaAuthError, TimeoutError):
                async with asyncio.timeout(_DEREGISTER_TIMEOUT):
                    await self._deregister()
        await helpers.run_blocking(helpers.discard_pending, self.folder)

    async def _deregister(self) -> None:
        manager = helpers.create_manager(
            self.mass, self.folder, helpers.registered_marketplace(self.folder)
        )
        try:
            result = await manager.reset(deregister=True)
            if result.backup is not None:
                await helpers.run_blocking(helpers.discard_pending, result.backup)
        finally:
            await manager.close()
