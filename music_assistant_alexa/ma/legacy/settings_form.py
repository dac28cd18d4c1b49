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

2.9's edit page shows nothing of an instance that failed to load but its fields: the form
starts with why it is not running (its ``last_error``), the guide link (as the entry's help
link: 2.9 shows text plainly) and the one action that fixes it. The 2FA key's code is shown
only by "Check the 2FA key" (with the time it is valid until): a form stays open for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.errors import AlexaAuthError, CaptchaRequiredError
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import (
    ACTION_CHECK_KEY,
    ACTION_SIGN_IN,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
    SESSION_ID,
    SIGN_IN_LABEL,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.credentials import field_at_fault, parse_credentials
from music_assistant_alexa.ma.entries import (
    IMAGE_TYPE,
    action_entries,
    captcha_entries,
    credential_entries,
    key_check_notice,
    key_entries,
    not_running_entry,
    notice_entries,
    option_entries,
    pending_entry,
)
from music_assistant_alexa.ma.notices import Notice
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

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.guide import GuideLinker


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
    notice: Notice | None = None
    signed_in_pending: str | None = None
    if action is not None:
        await dialog.context.pending.sweep(configured_instances(mass))
        notice, signed_in_pending = await dialog.press(action)
        if signed_in_pending is not None and values is not None:
            # MA fills a returned entry's empty value from ``values``; this keeps the hidden
            # field in step with the entry below, whichever the MA version does.
            values[CONF_PENDING_SESSION] = signed_in_pending
    pending = dialog.context.pending
    waiting = pending.open_sign_in(dialog.key)
    captcha_url = waiting.manager.captcha_url if waiting is not None else None
    entries: list[ConfigEntry] = []
    provider = dialog.provider
    if provider is None and instance_id and not dialog.signed_in(signed_in_pending):
        # Once this dialog has signed in, "press Sign in now" would contradict its notice.
        action = f'Press "{SIGN_IN_LABEL}" below, then Save.'
        entries.append(not_running_entry(stored_last_error(mass, instance_id), link, action))
    entries.extend(notice_entries([notice] if notice is not None else []))
    if provider is not None:
        entries.extend(await provider.health_entries())
    for entry in credential_entries(link):
        entries.append(entry)
        if entry.key == CONF_TOTP_KEY:
            # The verdict goes right under the key's field (before the "check" button).
            entries.extend(key_entries(dialog.text(CONF_TOTP_KEY), link))
    if captcha_url and waiting is not None:
        picture = await pending.captcha_picture(waiting) if IMAGE_TYPE is not None else None
        entries.extend(captcha_entries(link, captcha_url=captcha_url, picture=picture))
    existing = instance_id is not None
    entries.extend(action_entries(existing=existing, captcha=bool(captcha_url), from_form=True))
    entries.extend(option_entries(link))
    entries.append(pending_entry(signed_in_pending))
    return tuple(entries)


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
        session_id = (self.values or {}).get(SESSION_ID)
        if isinstance(session_id, str) and session_id:
            return safe_id(session_id)
        return safe_id(self.instance_id) if self.instance_id else "add"

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

    async def press(self, action: str) -> tuple[Notice | None, str | None]:
        """Run a button; return its notice and a signed-in pending session's id."""
        if action == ACTION_SIGN_IN:
            return await self.sign_in()
        if action == ACTION_CHECK_KEY:
            return self.check_key(), None
        if action not in SESSION_BUTTONS:
            return None, None
        if (provider := self.provider) is not None:
            return await provider.run_action(action), None
        if self.instance_id:
            return await self._not_running_action(self.instance_id, action), None
        return None, None

    def check_key(self) -> Notice:
        """Check the typed (or stored) 2FA key: the code it makes now, or what is wrong."""
        raw_key = self.text(CONF_TOTP_KEY)
        if not raw_key:
            guide = self.link(GuideSlug.TWO_FACTOR_KEY)
            return Notice("Type the 2FA key first.", ok=False, guide_url=guide)
        return key_check_notice(raw_key, self.context.clock.time(), self.link)

    async def sign_in(self) -> tuple[Notice, str | None]:
        """
        Sign in with the form's values into a pending session, or continue at a captcha.

        Failures store nothing (the pending folder is deleted); the instance's own store is
        never touched. Returns the notice, and the pending session's id once signed in.
        """
        email, password = self.text(CONF_EMAIL), self.text(CONF_PASSWORD) or None
        key, market = self.text(CONF_TOTP_KEY) or None, self.text(CONF_MARKETPLACE) or None
        try:
            creds = parse_credentials(email, password, key, market)
        except AlexaAuthError as err:
            field = field_at_fault(err, email, password)
            return Notice.from_error(err, self.link, field=field), None
        pending = self.context.pending
        sign_in = pending.open_sign_in(self.key)
        if sign_in is not None and sign_in.credentials == creds and sign_in.manager.captcha_url:
            answer = str((self.values or {}).get(CONF_CAPTCHA_ANSWER) or "").strip()
            if not answer:
                # Starting over would send the password again and replace the picture.
                guide = self.link(GuideSlug.CAPTCHA)
                text = "Type the characters from the picture first."
                return Notice(text, ok=False, guide_url=guide), None
            step = sign_in.manager.answer_captcha(answer)
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
            return Notice.from_error(err, self.link), None
        except BaseException:
            await pending.discard(sign_in, sign_out=True)
            raise
        then = "Press Save to keep this session (nothing is used until then)."
        notice = signed_in_notice(sign_in.manager.status(), self.link, then=then)
        return notice, await pending.finish(sign_in)

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
            return await session_action(manager, action, self.link)
        finally:
            await manager.close()
