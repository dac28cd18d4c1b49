"""
The setup flow of Music Assistant 2.10+ (models 1.1.169 and later).

2.10+ adds a provider only through ``setup_flow.py``'s ``run_setup(session)`` and runs it again
as "Reconfigure" (with ``reason == "auth"`` after a sign-in failure). The first step asks for
the e-mail address, the marketplace and how to sign in:

- **with the password and 2FA key** (Music Assistant signs in by itself): the key is checked
  before anything is sent, a progress step shows the code the key makes while it signs in
  (renewed with every 30-second window, so it is never stale), and a captcha step asks for the
  characters when Amazon wants them (its picture fetched by us, as a ``data:`` URI). Where this
  meets what only a browser gets past (a passkey, codes by text message, a robot wall, captchas
  that keep coming), the message says so and offers the way below;
- **in the user's own browser**: a step shows the link to Amazon's own sign-in page (it opens
  in a new tab), says what to copy, and takes the pasted address of Amazon's last page; a
  wrong one is said with its guide link and the same link stays, an expired one gets a new
  link. The step counts down to the link's expiry (MA's dialog shows it), and a new link comes
  when it ends. No password or 2FA key is needed, and none is stored (a reconfigure clears the
  stored ones).

Either way the sign-in goes into a pending session (see ``pending.py``) that the new instance
takes over when ``finish`` loads it, so loading needs neither a password nor a second sign-in.

What a stock MA shows of it: MA titles a step only from the catalog it compiled when it was
built, which a provider installed later cannot add to, so each form starts with a heading of its
own (see :func:`~.entries.heading_entries`); the ``strings.json`` next to the provider holds the
titles for the day the provider is built into MA. Each problem is said once, in an alert at the
top with the guide link (alerts are Markdown in MA's dialog: the link opens in a new tab); a
field at fault gets a short pointer, never the same words again. The submit button says "Next"
on the first step (more may follow) and "Finish" on the captcha and the browser step.

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

from music_assistant_alexa.auth.browser_sign_in import BROWSER_SIGN_IN_TTL
from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug

from .browser_path import NEW_LINK, finish_with
from .constants import (
    CONF_EMAIL,
    CONF_FINAL_ADDRESS,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_SIGN_IN_METHOD,
    CONF_TOTP_KEY,
    METHOD_BROWSER,
    METHOD_PASSWORD,
    STEP_BROWSER,
    STEP_CAPTCHA,
    STEP_SIGN_IN,
    STEP_USER,
)
from .context import AdapterContext
from .credentials import (
    AccountCredentials,
    AccountName,
    field_at_fault,
    parse_account,
    parse_credentials,
)
from .entries import (
    IMAGE_TYPE,
    browser_entries,
    captcha_answer_key,
    captcha_entries,
    code_hint,
    credential_entries,
    heading_entries,
    key_entries,
    notice_entries,
    password_only,
    use_browser_key,
)
from .notices import WAY_IN_FLOW, Notice, avoid_suppressed, browser_offer
from .pending import safe_id

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping

    from music_assistant.models.setup_flow import SetupSession
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.auth.browser_sign_in import BrowserSignInLink

    from .pending import PendingSignIn

#: Secrets a re-shown form may leave empty (MA never shows a secret again).
_SECRETS: Final = (CONF_PASSWORD, CONF_TOTP_KEY)
#: The pointer under a field at fault; the alert at the top says what is wrong.
FIELD_POINTER: Final = "Check this field: the message at the top says what is wrong."
#: Shortest deadline given to a progress step (a window about to end gets the next code).
_MIN_WINDOW: Final = 0.01
#: What the browser step says when its link ran out while it was shown.
LINK_EXPIRED: Final = (
    f"The link expired (each works for {round(BROWSER_SIGN_IN_TTL / 60)} minutes). {NEW_LINK}"
)
#: What the browser step says when the user switched to it at a captcha that kept coming.
AFTER_CAPTCHAS: Final = (
    "Amazon kept showing new pictures. Sign in on Amazon's own page in your browser instead: "
    "one answer is usually enough there."
)


class _BrowserChosen:
    """The user chose, at a captcha, to sign in in the browser instead."""


_BROWSER_CHOSEN: Final = _BrowserChosen()


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
        if method := stored.get(CONF_SIGN_IN_METHOD):
            self.prefill[CONF_SIGN_IN_METHOD] = method
        self.sign_in: PendingSignIn | None = None
        self.captcha_round = 0
        #: How often the browser step was shown (each time with a new field key).
        self.browser_round = 0

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
                # A captcha or the browser step follows: the button says "Next".
                last_step=False,
            )
            errors, notices = {}, []
            self._remember(values)
            try:
                result = await self._sign_in_as_chosen(values)
            except _FormProblem as problem:
                notices.append(problem.notice)
                if problem.notice.field is not None:
                    errors[problem.notice.field] = FIELD_POINTER
                continue
            if isinstance(result, Notice):
                notices.append(result)
                continue
            try:
                await self.session.finish(result)
            except SetupFlowError as err:
                # MA could not load the instance with the session (rare: it was signed in a
                # moment ago). Nobody will use this sign-in: its device goes off the account.
                await self.undo()
                notices.append(self._finish_problem(err))
                continue
            return

    async def _sign_in_as_chosen(self, values: Mapping[str, Any]) -> dict[str, Any] | Notice:
        """
        Sign in the way the user chose; return the values to finish with, or the problem.

        :raises _FormProblem: A value on the form is wrong (nothing was sent).
        """
        if self.prefill.get(CONF_SIGN_IN_METHOD) == METHOD_BROWSER:
            account = self._account(values)
            problem = await self._sign_in_in_browser(account)
            return problem or self._browser_values(account)
        creds = self._credentials(values)
        outcome = await self._sign_in(creds)
        if outcome is _BROWSER_CHOSEN:
            account = AccountName(creds.email, creds.marketplace)
            intro = Notice(AFTER_CAPTCHAS)
            problem = await self._sign_in_in_browser(account, intro=intro)
            return problem or self._browser_values(account)
        if isinstance(outcome, Notice):
            return outcome
        return {
            CONF_EMAIL: creds.email,
            CONF_PASSWORD: creds.password,
            CONF_TOTP_KEY: creds.key.secret,
            CONF_MARKETPLACE: creds.marketplace,
            CONF_SIGN_IN_METHOD: METHOD_PASSWORD,
            CONF_PENDING_SESSION: self.pending_id,
        }

    def _browser_values(self, account: AccountName) -> dict[str, Any]:
        """Return what a sign-in in the browser finishes with: no password, no 2FA key."""
        return {
            CONF_EMAIL: account.email,
            CONF_MARKETPLACE: account.marketplace,
            CONF_SIGN_IN_METHOD: METHOD_BROWSER,
            # Cleared, so a reconfigure does not keep the ones stored before.
            CONF_PASSWORD: None,
            CONF_TOTP_KEY: None,
            CONF_PENDING_SESSION: self.pending_id,
        }

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
                "Music Assistant signs in once more with your Amazon account, with your "
                "password and 2FA key or in your browser; the stored session is replaced only "
                "when the new sign-in works.",
            )
        else:
            entries = heading_entries(
                "Sign in to Amazon",
                "Music Assistant signs in to your Amazon account once, registers itself as a "
                "device (like the Alexa app does) and keeps that session fresh. It signs in by "
                "itself with your password and 2FA key, or you sign in in your browser. Nothing "
                "is stored until the sign-in has worked.",
            )
        entries.extend(notice_entries(notices))
        for entry in credential_entries(self.link, flow=True, keep=frozenset(self.remembered)):
            prefilled = self.prefill.get(entry.key)
            entries.append(replace(entry, value=prefilled) if prefilled else entry)
            if entry.key == CONF_TOTP_KEY:
                verdict = key_entries(self.remembered.get(CONF_TOTP_KEY), self.link)
                entries.extend(password_only(e) for e in verdict)
        return entries

    def _remember(self, values: Mapping[str, Any]) -> None:
        """Keep what was submitted for the next form: e-mail, marketplace, way, secrets typed."""
        for key in (CONF_EMAIL, CONF_MARKETPLACE, CONF_SIGN_IN_METHOD):
            value = values.get(key)
            if isinstance(value, str) and value:
                self.prefill[key] = value
        if self.prefill.get(CONF_SIGN_IN_METHOD) == METHOD_BROWSER:
            return  # the secret fields were disabled: nothing typed there counts
        for key in _SECRETS:
            typed = values.get(key)
            if isinstance(typed, str) and typed:
                self.remembered[key] = typed

    def _account(self, values: Mapping[str, Any]) -> AccountName:
        """Check what a sign-in in the browser needs; raise the problem the user must fix."""
        email, market = values.get(CONF_EMAIL), values.get(CONF_MARKETPLACE)
        email = email if isinstance(email, str) else ""
        try:
            return parse_account(email, market if isinstance(market, str) else None)
        except AlexaAuthError as err:
            field = CONF_MARKETPLACE if email.strip() else None
            raise _FormProblem(Notice.from_error(err, self.link, field=field)) from err

    def _credentials(self, values: Mapping[str, Any]) -> AccountCredentials:
        """Check the submitted credentials; raise the problem the user must fix."""
        email, market = values.get(CONF_EMAIL), values.get(CONF_MARKETPLACE)
        email = email if isinstance(email, str) else ""
        try:
            return parse_credentials(
                email,
                self.remembered.get(CONF_PASSWORD),
                self.remembered.get(CONF_TOTP_KEY),
                market if isinstance(market, str) else None,
            )
        except AlexaAuthError as err:
            field = field_at_fault(err, email, self.remembered.get(CONF_PASSWORD))
            if field == CONF_TOTP_KEY:
                # A bad key is never kept: the re-shown form must ask for it again.
                self.remembered.pop(CONF_TOTP_KEY, None)
            raise _FormProblem(Notice.from_error(err, self.link, field=field)) from err

    async def _sign_in(self, creds: AccountCredentials) -> Notice | _BrowserChosen | None:
        """
        Sign in into the pending session with the password and 2FA key.

        Returns the problem, :data:`_BROWSER_CHOSEN` when the user chose the browser at a
        captcha that kept coming, or None when signed in.
        """
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
        answered = False
        while True:
            try:
                await self._show_progress(step, creds)
                break
            except CaptchaRequiredError as err:
                if not manager.captcha_url:
                    await self.undo()
                    return self._problem(err, after_answer=answered)
                self.captcha_round += 1
                answer = await self._ask_captcha(sign_in, captcha_errors, repeated=answered)
                if answer is None:
                    return _BROWSER_CHOSEN
                step = manager.answer_captcha(answer)
                answered = True
                captcha_errors = {
                    captcha_answer_key(self.captcha_round + 1): "Amazon did not accept those "
                    "characters; this is a new picture."
                }
            except AlexaAuthError as err:
                await self.undo()
                return self._problem(err, after_answer=answered)
        await pending.finish(sign_in)
        self.sign_in = None
        return None

    def _problem(self, err: AlexaAuthError, *, after_answer: bool = False) -> Notice:
        """Return an error of the sign-in, offering the browser where it gets past it."""
        offer = browser_offer(err, WAY_IN_FLOW, self.link, after_answer=after_answer)
        return Notice.from_error(err, self.link, then=offer)

    async def _sign_in_in_browser(
        self, account: AccountName, *, intro: Notice | None = None
    ) -> Notice | None:
        """
        Sign in in the user's browser into the pending session; return the problem, or None.

        The step shows the link and takes the pasted address until the sign-in finishes;
        problems with a paste are said on the step itself. Only a failure to make a link
        (the disk) goes back to the first step.
        """
        await self.undo()
        pending = self.context.pending
        sign_in = await pending.prepare(
            self.pending_id,
            marketplace=account.marketplace,
            seed=self.seed,
            pending_id=self.pending_id,
        )
        sign_in.email = account.email
        self.sign_in = sign_in
        manager = sign_in.manager
        notices = [intro] if intro is not None else []
        try:
            link = await manager.start_browser_sign_in(email=account.email)
            while True:
                sign_in.browser = link
                try:
                    pasted = await self._ask_address(link, notices)
                except StepExpiredError:
                    link = await manager.start_browser_sign_in(email=account.email, renew=True)
                    notices = [Notice.problem(LINK_EXPIRED, self.link(GuideSlug.BROWSER_SIGN_IN))]
                    continue
                text = f"Finishing the sign-in at Amazon ({account.marketplace})."
                outcome = await self.session.progress_until(
                    finish_with(manager, pasted, link, email=account.email, linker=self.link),
                    STEP_SIGN_IN,
                    text=text,
                )
                if outcome.problem is None:
                    break
                notices, link = [outcome.problem], outcome.link or link
        except AlexaAuthError as err:
            await self.undo()
            return Notice.from_error(err, self.link)
        await pending.finish(sign_in)
        self.sign_in = None
        return None

    async def _ask_address(self, link: BrowserSignInLink, notices: list[Notice]) -> str:
        """
        Show the link until an address is pasted; the step ends with the link's expiry.

        Each showing gets a new field key (MA's dialog would keep a refused address).

        :raises StepExpiredError: The link expired while it was shown.
        """
        missing: str | None = None
        while True:
            self.browser_round += 1
            key = f"{CONF_FINAL_ADDRESS}_{self.browser_round}"
            entries = heading_entries("Sign in in your browser")
            entries.extend(notice_entries(notices))
            entries.extend(browser_entries(link, self.link, round_number=self.browser_round))
            left = max(link.expires_at - self.context.clock.time(), _MIN_WINDOW)
            values = await self.session.form(
                entries,
                step_id=STEP_BROWSER,
                errors={key: missing} if missing else {},
                # The sign-in ends here: the button says "Finish".
                last_step=True,
                # MA's dialog counts down to it, and does not close a flow that has one.
                expires_in=left,
            )
            pasted = values.get(key)
            if isinstance(pasted, str) and pasted.strip():
                return pasted
            # MA counts "" (and spaces) as filled in: nothing to judge, nothing to send.
            missing = "Paste the address of Amazon's last page."

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

    async def _ask_captcha(
        self, sign_in: PendingSignIn, errors: dict[str, str], *, repeated: bool
    ) -> str | None:
        """
        Show the captcha (a new picture under new keys) until an answer is typed in.

        A picture that came after an answer also offers the browser; returns None when the user
        chose it.
        """
        url = sign_in.manager.captcha_url or ""
        picture = await self.context.pending.captcha_picture(sign_in) if IMAGE_TYPE else None
        key = captcha_answer_key(self.captcha_round)
        entries = heading_entries("Solve Amazon's picture puzzle")
        entries.extend(
            captcha_entries(
                self.link,
                captcha_url=url,
                picture=picture,
                round_number=self.captcha_round,
                repeated=repeated,
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
            if answered.get(use_browser_key(self.captcha_round)) is True:
                return None
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


class _FormProblem(Exception):  # noqa: N818 - not an error: the form is shown again with it
    """A value on the first step is wrong; the notice says which and why (nothing was sent)."""

    def __init__(self, notice: Notice) -> None:
        super().__init__(notice.text)
        self.notice = notice
