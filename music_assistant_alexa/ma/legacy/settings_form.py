"""
The settings form of Music Assistant 2.9: the module-level ``get_config_entries`` and its buttons.

2.9 builds the add and edit dialogs from :func:`get_config_entries` and calls it again, with
every form value, when a button is pressed; it is also called a dozen times per save, so without
a button it only reads memory and computes (no request to Amazon).

"Sign in now" signs in from the form into a pending session (see ``pending.py``), not into the
instance's own store: nothing the instance uses changes until the user presses Save, and the
instance then takes the pending session over when it loads. A captcha keeps the sign-in open
between two button presses, under the dialog's key, in the server's
:class:`~music_assistant_alexa.ma.context.AdapterContext`.

"Sign in in my browser" needs neither the password nor the 2FA key: it makes the link to
Amazon's own sign-in page for a pending session (nothing is sent), has the frontend open it in
a new tab (see :mod:`.new_tab`), and shows the link, what to copy and a field for the address
of Amazon's last page; "Finish sign-in" finishes it into the pending session, which Save hands
to the instance like any other. A wrong address is said with its guide link and changes
nothing; an expired link is replaced. Once the browser signed in, the password and key fields
are emptied (nothing of them is stored) and a hidden field records the way, so the instance
never tries to sign in by itself. The waiting sign-in's folder is named in another hidden field,
so "Finish sign-in" still finds it after Music Assistant restarted; like the address field, it
is part of a button's answer only, so Save never stores either.

2.9's edit page shows nothing of an instance that failed to load but its fields: the form
starts with why it is not running (its ``last_error``), the guide link (as the entry's help
link: 2.9 shows text plainly) and the one action that fixes it. The 2FA key's code is shown
only by "Check the 2FA key" (with the time it is valid until): a form stays open for long.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.enums import ConfigEntryType

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.browser_path import finish_with
from music_assistant_alexa.ma.constants import (
    ACTION_BROWSER,
    ACTION_BROWSER_FINISH,
    ACTION_CHECK_KEY,
    ACTION_SIGN_IN,
    BROWSER_FINISH_LABEL,
    BROWSER_LABEL,
    CONF_BROWSER_ATTEMPT,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_FINAL_ADDRESS,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_SIGN_IN_METHOD,
    CONF_TOTP_KEY,
    METHOD_BROWSER,
    METHOD_PASSWORD,
    SESSION_ID,
    SIGN_IN_LABEL,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.credentials import (
    AccountName,
    field_at_fault,
    parse_account,
    parse_credentials,
)
from music_assistant_alexa.ma.entries import (
    IMAGE_TYPE,
    action_entries,
    browser_attempt_field,
    browser_entries,
    captcha_entries,
    credential_entries,
    key_check_notice,
    key_entries,
    method_field,
    not_running_entry,
    notice_entries,
    option_entries,
    pending_entry,
)
from music_assistant_alexa.ma.notices import WAY_IN_FORM, Notice, browser_offer
from music_assistant_alexa.ma.pending import safe_id
from music_assistant_alexa.ma.provider import (
    SESSION_BUTTONS,
    AlexaAuthProvider,
    session_action,
    signed_in_notice,
)
from music_assistant_alexa.ma.values import (
    configured_instances,
    form_value,
    stored_last_error,
    stored_text,
)

from .new_tab import open_in_new_tab

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.guide import GuideLinker
    from music_assistant_alexa.ma.pending import PendingSignIn

#: What a sign-in from the form says once it worked.
_THEN_SAVE: Final = "Press Save to keep this session (nothing is used until then)."
#: How a session is signed in from this form.
_SIGN_IN_HINT: Final = f'press "{SIGN_IN_LABEL}" or "{BROWSER_LABEL}"'


async def get_config_entries(
    mass: MusicAssistant,
    instance_id: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Return the add/edit form of Music Assistant 2.9, running a pressed button first.

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance being edited, or None when adding one.
    :param action: The pressed button's action id, if any.
    :param values: The form's current values (and the dialog's ``session_id``).
    """
    dialog = _Dialog(mass, AdapterContext.of(mass), instance_id, values)
    link = dialog.context.link
    dialog.context.guide_route.ensure()  # the form links to the guide
    pressed = _Pressed()
    if action is not None:
        await dialog.context.pending.sweep(configured_instances(mass))
        pressed = await dialog.press(action)
        if pressed.pending is not None and values is not None:
            # MA fills a returned entry's empty value from ``values``; this keeps the hidden
            # field in step with the entry below, whichever the MA version does.
            values[CONF_PENDING_SESSION] = pressed.pending
    pending = dialog.context.pending
    waiting = pending.open_sign_in(dialog.key)
    captcha_url = waiting.manager.captcha_url if waiting is not None else None
    # The browser sign-in's entries come with a button's answer only: Save never stores them.
    browser_link = waiting.browser if waiting is not None and action is not None else None
    method = pressed.method or dialog.text(CONF_SIGN_IN_METHOD) or METHOD_PASSWORD
    in_browser = method == METHOD_BROWSER or browser_link is not None
    entries: list[ConfigEntry] = []
    provider = dialog.provider
    if provider is None and instance_id and not dialog.signed_in(pressed.pending):
        # Once this dialog has signed in, "press Sign in now" would contradict its notice.
        button = BROWSER_LABEL if method == METHOD_BROWSER else SIGN_IN_LABEL
        todo = f'Press "{button}" below, then Save.'
        entries.append(not_running_entry(stored_last_error(mass, instance_id), link, todo))
    entries.extend(notice_entries([pressed.notice] if pressed.notice is not None else []))
    if provider is not None:
        entries.extend(await provider.health_entries(browser_way=WAY_IN_FORM))
    entries.extend(
        _credential_fields(dialog, browser=in_browser, emptied=pressed.method == METHOD_BROWSER)
    )
    if captcha_url and waiting is not None:
        picture = await pending.captcha_picture(waiting) if IMAGE_TYPE is not None else None
        entries.extend(
            captcha_entries(
                link, captcha_url=captcha_url, picture=picture, repeated=pressed.after_answer
            )
        )
    if browser_link is not None:
        entries.extend(browser_entries(browser_link, link))
    existing = instance_id is not None
    entries.extend(action_entries(existing=existing, captcha=bool(captcha_url), from_form=True))
    entries.extend(option_entries(link))
    entries.append(pending_entry(pressed.pending))
    entries.append(method_field(pressed.method))
    if action is not None:
        entries.append(browser_attempt_field(pressed.attempt))
    return tuple(entries)


def _credential_fields(dialog: _Dialog, *, browser: bool, emptied: bool) -> list[ConfigEntry]:
    """
    Return the credential fields, with the 2FA key's verdict under the key.

    :param dialog: The dialog.
    :param browser: The account signs in (or is signing in) in the browser: no field but the
        e-mail address and the marketplace is required.
    :param emptied: It just signed in in the browser: the password and the key are emptied, so
        that neither is stored.
    """
    entries = []
    for entry in credential_entries(dialog.link, browser=browser):
        if emptied and entry.type == ConfigEntryType.SECURE_STRING:
            entries.append(replace(entry, value=""))
            continue
        entries.append(entry)
        if entry.key == CONF_TOTP_KEY and not emptied:
            # The verdict goes right under the key's field (before the "check" button).
            entries.extend(key_entries(dialog.text(CONF_TOTP_KEY), dialog.link))
    return entries


@dataclass(slots=True)
class _Pressed:
    """What a button did, for the form that answers it."""

    notice: Notice | None = None
    #: The pending session it signed in (the hidden field's new value).
    pending: str | None = None
    #: The way it signed in (:data:`METHOD_PASSWORD` or :data:`METHOD_BROWSER`).
    method: str | None = None
    #: The browser sign-in that waits (``<pending id>:<attempt id>``; "" once none does).
    attempt: str | None = None
    #: Amazon showed another captcha right after the user's answer.
    after_answer: bool = False


@dataclass(slots=True, repr=False)
class _Dialog:
    """One call of the dialog: its values, resolved on demand (secrets inside: never log)."""

    mass: MusicAssistant
    context: AdapterContext
    instance_id: str | None
    values: Mapping[str, Any] | None

    @property
    def key(self) -> str:
        """Return the key of the dialog's sign-in: the frontend's session id, else the instance."""
        session_id = self.session_id
        if session_id:
            return safe_id(session_id)
        return safe_id(self.instance_id) if self.instance_id else "add"

    @property
    def session_id(self) -> str | None:
        """Return the frontend's id of this dialog (its events are sent under it)."""
        session_id = (self.values or {}).get(SESSION_ID)
        return session_id if isinstance(session_id, str) and session_id else None

    @property
    def provider(self) -> AlexaAuthProvider | None:
        """Return the instance being edited when it is running."""
        provider = self.mass.get_provider(self.instance_id) if self.instance_id else None
        return provider if isinstance(provider, AlexaAuthProvider) else None

    @property
    def link(self) -> GuideLinker:
        """Return how the form links to the guide (MA's web server's)."""
        return self.context.link

    def signed_in(self, just_now: str | None) -> bool:
        """
        Return whether this dialog signed in a session that waits for Save.

        :param just_now: The pending session signed in by the button just pressed, if any.
        """
        if just_now:
            return True
        pending_id = (self.values or {}).get(CONF_PENDING_SESSION)
        return (
            isinstance(pending_id, str)
            and bool(pending_id)
            and (self.context.pending.has_session(pending_id))
        )

    def text(self, key: str) -> str:
        """Return a field's real value as text: the form's, else the stored one ("": none)."""
        value = form_value(self.mass, self.instance_id, self.values, key)
        return value if isinstance(value, str) else ""

    async def press(self, action: str) -> _Pressed:
        """Run a button; say what it did."""
        signs_in = {
            ACTION_SIGN_IN: self.sign_in,
            ACTION_BROWSER: self.start_in_browser,
            ACTION_BROWSER_FINISH: self.finish_in_browser,
        }
        if (button := signs_in.get(action)) is not None:
            return await button()
        if action == ACTION_CHECK_KEY:
            return _Pressed(self.check_key())
        if action not in SESSION_BUTTONS:
            return _Pressed()
        if (provider := self.provider) is not None:
            return _Pressed(await provider.run_action(action))
        if self.instance_id:
            return _Pressed(await self._not_running_action(self.instance_id, action))
        return _Pressed()

    def check_key(self) -> Notice:
        """Check the typed (or stored) 2FA key: the code it makes now, or what is wrong."""
        raw_key = self.text(CONF_TOTP_KEY)
        if not raw_key:
            guide = self.link(GuideSlug.TWO_FACTOR_KEY)
            return Notice("Type the 2FA key first.", ok=False, guide_url=guide)
        return key_check_notice(raw_key, self.context.clock.time(), self.link)

    async def sign_in(self) -> _Pressed:
        """
        Sign in with the form's values into a pending session, or continue at a captcha.

        Failures store nothing (the pending folder is deleted); the instance's own store is
        never touched. An obstacle the browser gets past says where to press for it.
        """
        email, password = self.text(CONF_EMAIL), self.text(CONF_PASSWORD) or None
        key, market = self.text(CONF_TOTP_KEY) or None, self.text(CONF_MARKETPLACE) or None
        try:
            creds = parse_credentials(email, password, key, market)
        except AlexaAuthError as err:
            field = field_at_fault(err, email, password)
            return _Pressed(Notice.from_error(err, self.link, field=field))
        pending = self.context.pending
        sign_in = pending.open_sign_in(self.key)
        answered = False
        if sign_in is not None and sign_in.credentials == creds and sign_in.manager.captcha_url:
            answer = str((self.values or {}).get(CONF_CAPTCHA_ANSWER) or "").strip()
            if not answer:
                # Starting over would send the password again and replace the picture.
                guide = self.link(GuideSlug.CAPTCHA)
                text = "Type the characters from the picture first."
                return _Pressed(Notice(text, ok=False, guide_url=guide))
            step = sign_in.manager.answer_captcha(answer)
            answered = True
        else:
            seed = self.context.instance_folder(self.instance_id) if self.instance_id else None
            sign_in = await pending.prepare(
                self.key, marketplace=creds.marketplace, seed=seed, credentials=creds
            )
            step = sign_in.manager.login(creds.email, creds.password, creds.key)
        try:
            await step
        except AlexaAuthError as err:
            if not (isinstance(err, CaptchaRequiredError) and sign_in.manager.captcha_url):
                await pending.discard(sign_in, sign_out=True)
            offer = browser_offer(err, WAY_IN_FORM, self.link, after_answer=answered)
            notice = Notice.from_error(err, self.link, then=offer)
            return _Pressed(notice, after_answer=answered)
        except BaseException:
            await pending.discard(sign_in, sign_out=True)
            raise
        notice = signed_in_notice(sign_in.manager.status(), self.link, then=_THEN_SAVE)
        return _Pressed(notice, await pending.finish(sign_in), METHOD_PASSWORD, attempt="")

    # --- the sign-in in the user's own browser ---------------------------------------------

    def _account(self) -> AccountName | Notice:
        """Return the account a browser sign-in is for, or what is wrong with the form."""
        email = self.text(CONF_EMAIL)
        try:
            return parse_account(email, self.text(CONF_MARKETPLACE) or None)
        except AlexaAuthError as err:
            field = CONF_MARKETPLACE if email.strip() else CONF_EMAIL
            return Notice.from_error(err, self.link, field=field)

    async def _browser_sign_in(self, account: AccountName) -> PendingSignIn:
        """
        Return the dialog's browser sign-in for this account: the open one, or a new one.

        After a restart the open one is found again through the hidden field that names its
        pending folder; a sign-in for another account or marketplace is replaced.
        """
        pending = self.context.pending
        sign_in = pending.open_sign_in(self.key) or await self._reopen(account.marketplace)
        if (
            sign_in is not None
            and sign_in.credentials is None
            and sign_in.email in ("", account.email)
            and sign_in.manager.hosts.marketplace.domain == account.marketplace
        ):
            sign_in.email = account.email
            return sign_in
        seed = self.context.instance_folder(self.instance_id) if self.instance_id else None
        sign_in = await pending.prepare(self.key, marketplace=account.marketplace, seed=seed)
        sign_in.email = account.email
        return sign_in

    async def _reopen(self, marketplace: str) -> PendingSignIn | None:
        """Open the pending folder the hidden field names (MA restarted since the link)."""
        raw = (self.values or {}).get(CONF_BROWSER_ATTEMPT)
        pending_id = raw.partition(":")[0] if isinstance(raw, str) else ""
        # Only a folder of this dialog: its ids start with the dialog's key.
        if not pending_id.startswith(f"{self.key}-") or safe_id(pending_id) != pending_id:
            return None
        return await self.context.pending.reopen(self.key, pending_id, marketplace=marketplace)

    async def start_in_browser(self) -> _Pressed:
        """
        Make (or show again) the link of a sign-in in the browser and open it in a new tab.

        Nothing is sent to Amazon; the attempt is stored in the pending folder. The link stays
        the same while it has a few minutes left, so a tab already open stays good.
        """
        account = self._account()
        if isinstance(account, Notice):
            return _Pressed(account)
        sign_in = await self._browser_sign_in(account)
        try:
            link = await sign_in.manager.start_browser_sign_in(email=account.email)
        except AlexaAuthError as err:
            await self.context.pending.discard(sign_in, sign_out=True)
            return _Pressed(Notice.from_error(err, self.link))
        sign_in.browser = link
        await open_in_new_tab(
            self.mass,
            self.session_id,
            link.url,
            clock=self.context.clock,
            hold=self.context.new_tab_hold,
        )
        text = (
            "Amazon's sign-in page opens in a new tab: sign in there. Then paste the address of "
            f'its last page below and press "{BROWSER_FINISH_LABEL}".'
        )
        return _Pressed(Notice(text), attempt=_attempt(sign_in))

    async def finish_in_browser(self) -> _Pressed:
        """Finish the waiting browser sign-in with the pasted address (or say what is wrong)."""
        account = self._account()
        if isinstance(account, Notice):
            return _Pressed(account)
        pending = self.context.pending
        sign_in = pending.open_sign_in(self.key)
        if sign_in is None or sign_in.credentials is not None:
            sign_in = await self._reopen(account.marketplace)
        link = sign_in.browser if sign_in is not None else None
        if sign_in is not None and link is None:
            link = await sign_in.manager.pending_browser_sign_in()
        if sign_in is None or link is None:
            text = f'No sign-in in your browser is waiting here: press "{BROWSER_LABEL}" first.'
            return _Pressed(Notice.problem(text, self.link(GuideSlug.BROWSER_SIGN_IN)))
        sign_in.browser, sign_in.email = link, account.email
        pasted = str((self.values or {}).get(CONF_FINAL_ADDRESS) or "")
        if not pasted.strip():
            text = (
                "Paste the address of Amazon's last page first: the whole address from the "
                "address bar of the tab where you signed in."
            )
            guide = self.link(GuideSlug.BROWSER_SIGN_IN)
            return _Pressed(Notice(text, ok=False, guide_url=guide), attempt=_attempt(sign_in))
        try:
            outcome = await finish_with(
                sign_in.manager, pasted, link, email=account.email, linker=self.link
            )
        except AlexaAuthError as err:  # a new link was needed, and could not be made
            await pending.discard(sign_in, sign_out=True)
            return _Pressed(Notice.from_error(err, self.link), attempt="")
        if outcome.problem is not None:
            sign_in.browser = outcome.link or link
            return _Pressed(outcome.problem, attempt=_attempt(sign_in))
        notice = signed_in_notice(sign_in.manager.status(), self.link, then=_THEN_SAVE)
        return _Pressed(notice, await pending.finish(sign_in), METHOD_BROWSER, attempt="")

    async def _not_running_action(self, instance_id: str, action: str) -> Notice:
        """Run a session button on an instance that is not running (it failed to load)."""
        try:
            stored = stored_text(self.mass, instance_id, CONF_MARKETPLACE)
            marketplace = normalise_marketplace(stored or None)
        except ValueError as err:
            return Notice(str(err), ok=False, guide_url=self.link(GuideSlug.CREDENTIALS))
        folder = self.context.instance_folder(instance_id)
        manager = self.context.open_manager(folder, marketplace)
        try:
            return await session_action(manager, action, self.link, hint=_SIGN_IN_HINT)
        finally:
            await manager.close()


def _attempt(sign_in: PendingSignIn) -> str:
    """Return the hidden field's value for a waiting browser sign-in."""
    attempt_id = sign_in.browser.attempt_id if sign_in.browser is not None else ""
    return f"{sign_in.pending_id}:{attempt_id}"
