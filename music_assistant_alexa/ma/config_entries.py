"""
The settings form: credentials, the live 2FA code, captcha, health, buttons and options.

Older Music Assistant builds the add and edit dialogs from the module-level
:func:`get_config_entries` and calls it again, with every form value, when a button is pressed;
it is also called a dozen times per save, so without an action it only reads memory and
computes (no request to Amazon). Newer MA adds providers through ``setup_flow.py`` and asks the
running instance for its options (see ``provider.py``); both reuse the builders here.

"Sign in now" signs in from the form into a pending folder, not into the instance's own store:
nothing the instance uses changes until the user presses Save, and the instance then takes the
pending session over when it loads (no second sign-in, no second password). A captcha keeps the
sign-in open between two button presses in :data:`_IN_FLIGHT`.

Secret fields are never given a value here: MA fills a returned entry's empty value with what
the frontend itself sent, so a secret is neither echoed back nor lost from the form.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.config_entries import ConfigEntry, ConfigValueOption
from music_assistant_models.enums import ConfigEntryType

from music_assistant_alexa.auth.endpoints import (
    DEFAULT_MARKETPLACE,
    MARKETPLACES,
    normalise_marketplace,
)
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    CaptchaRequiredError,
    InvalidTwoFactorKeyError,
    MissingCredentialsError,
)
from music_assistant_alexa.auth.session import CAPTCHA_TTL
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key
from music_assistant_alexa.guide import GuideSlug, guide_link

from . import helpers
from .constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SIGN_IN,
    ACTION_TEST,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_TOTP_KEY,
    DEFAULT_REFRESH_INTERVAL,
    DOMAIN,
    REFRESH_INTERVAL_RANGE,
    SESSION_ID,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.session import AuthSessionManager

    from .provider import AlexaAuthProvider

_LOGGER = logging.getLogger(__name__)

#: ``ConfigEntryType.IMAGE`` exists from models 1.1.1xx on; older frontends get a link instead.
IMAGE_TYPE: Final = getattr(ConfigEntryType, "IMAGE", None)
SIGN_IN_LABEL: Final = "Sign in now"
CONTINUE_LABEL: Final = "Continue sign-in"
#: How often abandoned pending folders are looked for (they are rare; listing costs a syscall).
_SWEEP_INTERVAL: Final = 300.0


@dataclass(frozen=True, slots=True)
class Notice:
    """The outcome of a button, shown at the top of the form."""

    text: str
    ok: bool = True
    guide_url: str | None = None
    #: The form field at fault, for a setup flow's per-field errors (None: the whole form).
    field: str | None = None
    #: The error behind a problem notice, for callers that must act on it (not shown).
    error: AlexaAuthError | None = None

    @classmethod
    def from_error(cls, err: AlexaAuthError, *, field: str | None = None) -> Notice:
        """
        Return the notice for an auth error: message, Amazon's words, guide link.

        :param err: The error.
        :param field: The form field at fault, if one is.
        """
        return cls(
            helpers.user_message(err), ok=False, guide_url=err.guide_url, field=field, error=err
        )

    def entry(self, key: str) -> ConfigEntry:
        """
        Return the notice as a LABEL (success) or ALERT (problem) entry.

        :param key: The entry's key.
        """
        if self.ok:
            return info_entry(key, self.text, help_link=self.guide_url)
        return warning_entry(key, self.text, help_link=self.guide_url)


# --- entry builders ---------------------------------------------------------------------------


def info_entry(key: str, text: str, *, help_link: str | None = None) -> ConfigEntry:
    """
    Return a blue information box.

    :param key: The entry's key (prefixed: the frontend looks up ``settings.<key>.label``).
    :param text: The text.
    :param help_link: A link to the guide, if any.
    """
    return ConfigEntry(
        key=key, type=ConfigEntryType.LABEL, label=text, required=False, help_link=help_link
    )


def warning_entry(key: str, text: str, *, help_link: str | None = None) -> ConfigEntry:
    """
    Return a yellow warning box.

    :param key: The entry's key.
    :param text: The text (the guide link is part of it: not every frontend shows help links).
    :param help_link: A link to the guide, if any.
    """
    return ConfigEntry(
        key=key, type=ConfigEntryType.ALERT, label=text, required=False, help_link=help_link
    )


def button_entry(
    action: str, label: str, *, description: str | None = None, hidden: bool = False
) -> ConfigEntry:
    """
    Return an action button.

    :param action: The action id (also the key).
    :param label: The button text.
    :param description: Help text.
    :param hidden: Leave the button out of the form.
    """
    return ConfigEntry(
        key=action,
        type=ConfigEntryType.ACTION,
        label=label,
        action=action,
        action_label=label,
        description=description,
        required=False,
        hidden=hidden,
    )


def credential_entries(
    *, flow: bool = False, keep: frozenset[str] = frozenset()
) -> list[ConfigEntry]:
    """
    Return the e-mail, password, 2FA key and marketplace fields.

    :param flow: For a setup-flow form (no buttons are allowed there).
    :param keep: Secret fields that may stay empty because the value entered before (or the
        stored one, in a reconfigure flow) is kept.
    """
    keep_note = " Leave empty to keep the one entered before."
    entries = [
        ConfigEntry(
            key=CONF_EMAIL,
            type=ConfigEntryType.STRING,
            label="Amazon e-mail address",
            description="The e-mail address (or phone number) you sign in to Amazon with.",
            required=True,
        ),
        ConfigEntry(
            key=CONF_PASSWORD,
            type=ConfigEntryType.SECURE_STRING,
            label="Amazon password",
            description="Used only to sign in; the session is kept without it."
            + (keep_note if CONF_PASSWORD in keep else ""),
            required=CONF_PASSWORD not in keep,
            help_link=guide_link(GuideSlug.CREDENTIALS),
        ),
        ConfigEntry(
            key=CONF_TOTP_KEY,
            type=ConfigEntryType.SECURE_STRING,
            label="2FA key of your authenticator app",
            description=(
                "The 52-character key Amazon shows when you add an authenticator app "
                "(Login & security > 2-Step Verification > Add new app > \"Can't scan the "
                'barcode?"). Not the 6-digit code.' + (keep_note if CONF_TOTP_KEY in keep else "")
            ),
            required=CONF_TOTP_KEY not in keep,
            help_link=guide_link(GuideSlug.TWO_FACTOR_KEY),
        ),
        ConfigEntry(
            key=CONF_MARKETPLACE,
            type=ConfigEntryType.STRING,
            label="Amazon marketplace",
            description="The Amazon site your account and your Echo devices belong to.",
            options=[
                ConfigValueOption(title=market.label, value=market.domain)
                for market in MARKETPLACES.values()
            ],
            default_value=DEFAULT_MARKETPLACE,
            required=True,
            help_link=guide_link(GuideSlug.CREDENTIALS),
        ),
    ]
    if not flow:
        entries.insert(
            3,
            button_entry(
                ACTION_CHECK_KEY,
                "Check the 2FA key",
                description="Shows whether the key is valid and the code it makes right now.",
            ),
        )
    return entries


def key_entries(raw_key: str | None, now: float) -> list[ConfigEntry]:
    """
    Return the verdict on a 2FA key: the live code, or exactly what is wrong.

    :param raw_key: The key as typed (None: nothing typed yet, nothing shown).
    :param now: Epoch seconds.
    """
    if not raw_key:
        return []
    key_or_notice = check_key(raw_key)
    if isinstance(key_or_notice, Notice):
        return [key_or_notice.entry("alexa_2fa_key_problem")]
    return [info_entry("alexa_2fa_key_code", helpers.live_code_text(key_or_notice, now))]


def check_key(raw_key: str) -> TotpKey | Notice:
    """
    Return the parsed key, or the notice saying what is wrong with it.

    :param raw_key: The key as typed.
    """
    try:
        return parse_totp_key(raw_key)
    except AlexaAuthError as err:
        return Notice.from_error(err, field=CONF_TOTP_KEY)


def captcha_entries(captcha_url: str, *, flow: bool = False) -> list[ConfigEntry]:
    """
    Return the captcha picture (or its link on older MA) and the answer field.

    :param captcha_url: The picture Amazon wants solved.
    :param flow: For a setup-flow form (the answer is required there).
    """
    how = (
        "type its characters below and continue."
        if flow
        else f'type its characters below and press "{CONTINUE_LABEL}".'
    )
    entries = [
        warning_entry(
            "alexa_captcha",
            f"Amazon wants a picture puzzle solved before it goes on. Open the picture "
            f"({captcha_url}), {how} How to fix it: {guide_link(GuideSlug.CAPTCHA)}",
            help_link=guide_link(GuideSlug.CAPTCHA),
        )
    ]
    if IMAGE_TYPE is not None:
        entries.append(
            ConfigEntry(
                key="alexa_captcha_image",
                type=IMAGE_TYPE,
                label="The captcha picture",
                value=captcha_url,
                required=False,
            )
        )
    entries.append(
        ConfigEntry(
            key=CONF_CAPTCHA_ANSWER,
            type=ConfigEntryType.STRING,
            label="Characters in the picture",
            required=flow,
            # A used answer is never right for the next picture.
            value="",
        )
    )
    return entries


def action_entries(*, existing: bool, captcha: bool, from_form: bool) -> list[ConfigEntry]:
    """
    Return the buttons.

    :param existing: For an instance that exists (test, refresh and reset need one).
    :param captcha: A captcha is waiting, so signing in continues instead of starting.
    :param from_form: Signing in uses the form's values (older MA's dialog); otherwise the
        stored ones.
    """
    sign_in_help = (
        "Signs in with the values above; nothing is saved or used until you press Save."
        if from_form
        else "Signs in again with the stored e-mail, password and 2FA key."
    )
    return [
        button_entry(
            ACTION_SIGN_IN, CONTINUE_LABEL if captcha else SIGN_IN_LABEL, description=sign_in_help
        ),
        button_entry(
            ACTION_TEST,
            "Test authentication",
            description="Asks Amazon once whether the stored session still works.",
            hidden=not existing,
        ),
        button_entry(
            ACTION_REFRESH,
            "Refresh now",
            description="Renews the session's cookies now instead of waiting for the schedule.",
            hidden=not existing,
        ),
        button_entry(
            ACTION_RESET,
            "Reset authentication",
            description=(
                "Backs up and deletes the stored session and removes this device from your "
                "Amazon account. Sign in again afterwards."
            ),
            hidden=not existing,
        ),
    ]


def option_entries() -> list[ConfigEntry]:
    """Return the options: automatic refresh, its interval, and notices."""
    return [
        ConfigEntry(
            key=CONF_REFRESH_ENABLED,
            type=ConfigEntryType.BOOLEAN,
            label="Keep the session fresh automatically",
            description="Renews Amazon's cookies in the background; they stop working at 14 days.",
            default_value=True,
            required=False,
            help_link=guide_link(GuideSlug.COOKIE_REFRESH),
        ),
        ConfigEntry(
            key=CONF_REFRESH_INTERVAL,
            type=ConfigEntryType.INTEGER,
            label="Refresh the cookies every (days)",
            default_value=DEFAULT_REFRESH_INTERVAL,
            range=REFRESH_INTERVAL_RANGE,
            required=False,
            depends_on=CONF_REFRESH_ENABLED,
        ),
        ConfigEntry(
            key=CONF_NOTIFY,
            type=ConfigEntryType.BOOLEAN,
            label="Tell me in Music Assistant when the session needs me",
            description=(
                "Marks this provider as needing attention (with the reason and a link to the "
                "fix) when Amazon stops accepting the session."
            ),
            default_value=True,
            required=False,
        ),
    ]


def pending_entry(value: str | None) -> ConfigEntry:
    """
    Return the hidden field carrying a form sign-in's session to the instance.

    :param value: The pending session's id, when one was just signed in.
    """
    return ConfigEntry(
        key=CONF_PENDING_SESSION,
        type=ConfigEntryType.STRING,
        label="Session signed in from this form",
        required=False,
        hidden=True,
        value=value,
    )


# --- actions on a session ---------------------------------------------------------------------


async def session_action(manager: AuthSessionManager, action: str) -> Notice:
    """
    Test, refresh or reset a stored session.

    :param manager: The account's manager.
    :param action: ACTION_TEST, ACTION_REFRESH or ACTION_RESET.
    """
    try:
        if manager.registration is None and action != ACTION_RESET:
            await manager.restore(validate=False)
        if action == ACTION_RESET:
            result = await manager.reset(deregister=True)
            where = f" A backup is in {result.backup.name}." if result.backup else ""
            device = (
                "The device was removed from your Amazon account."
                if result.deregistered
                else "The device could not be removed at Amazon (or there was none); if it is "
                'still listed under "Your devices", remove it there.'
            )
            return Notice(f"Signed out and the stored session deleted.{where} {device}")
        if not manager.signed_in:
            return Notice(
                f'Not signed in to Amazon yet: press "{SIGN_IN_LABEL}".',
                ok=False,
                guide_url=guide_link(GuideSlug.COOKIE_REFRESH),
            )
        if action == ACTION_REFRESH:
            await manager.refresh()
            return Notice("Refreshed: Amazon issued new cookies (good for 14 days).")
        if await manager.check():
            return Notice("Amazon accepts the session.")
        return Notice(
            'Amazon no longer accepts the stored cookies. Press "Refresh now"; if that fails, '
            f"sign in again. How to fix it: {guide_link(GuideSlug.COOKIE_REFRESH)}",
            ok=False,
            guide_url=guide_link(GuideSlug.COOKIE_REFRESH),
        )
    except AlexaAuthError as err:
        return Notice.from_error(err)


# --- the form's values ------------------------------------------------------------------------


@dataclass(slots=True)
class FormValues:
    """The credential fields of one call, resolved (secrets in plaintext: never log this)."""

    email: str = field(repr=False)
    password: str | None = field(repr=False)
    totp_key: str | None = field(repr=False)
    marketplace: str | None
    captcha_answer: str

    @classmethod
    def read(
        cls,
        mass: MusicAssistant,
        instance_id: str | None,
        values: Mapping[str, Any] | None,
    ) -> FormValues:
        """
        Resolve the credential fields from the form values (or the stored ones).

        :param mass: The MusicAssistant instance.
        :param instance_id: The existing instance, or None in the add dialog.
        :param values: The values passed to ``get_config_entries``.
        """
        email = helpers.resolve_value(mass, instance_id, values, CONF_EMAIL)
        market = helpers.resolve_value(mass, instance_id, values, CONF_MARKETPLACE)
        answer = (values or {}).get(CONF_CAPTCHA_ANSWER)
        return cls(
            email=email.strip() if isinstance(email, str) else "",
            password=helpers.resolve_secret(mass, instance_id, values, CONF_PASSWORD),
            totp_key=helpers.resolve_secret(mass, instance_id, values, CONF_TOTP_KEY),
            marketplace=market if isinstance(market, str) and market else None,
            captcha_answer=answer.strip() if isinstance(answer, str) else "",
        )


@dataclass(slots=True)
class Credentials:
    """Checked credentials, ready for a sign-in (secrets inside: never log this)."""

    email: str = field(repr=False)
    password: str = field(repr=False)
    key: TotpKey = field(repr=False)
    marketplace: str

    @property
    def fingerprint(self) -> str:
        """Return a salted fingerprint, to recognise the same credentials later."""
        return helpers.credential_fingerprint(
            self.email.lower(), self.password, self.key.secret, self.marketplace
        )


def parse_credentials(
    email: str, password: str | None, raw_key: str | None, marketplace: str | None
) -> Credentials:
    """
    Check credentials before anything is sent: every problem here is the user's to fix.

    :param email: The e-mail address.
    :param password: The password.
    :param raw_key: The 2FA key as typed.
    :param marketplace: The marketplace as chosen.
    :raises MissingCredentialsError: E-mail or password is empty, or the marketplace unknown.
    :raises InvalidTwoFactorKeyError: The 2FA key is malformed (the message says how).
    """
    if not email or not password:
        msg = "Enter the e-mail address and the password of your Amazon account."
        raise MissingCredentialsError(msg)
    key = parse_totp_key(raw_key)
    try:
        market = normalise_marketplace(marketplace)
    except ValueError as err:
        raise MissingCredentialsError(str(err)) from err
    return Credentials(email, password, key, market)


def check_credentials(
    email: str, password: str | None, raw_key: str | None, marketplace: str | None
) -> Credentials | Notice:
    """
    Check credentials; return them, or the notice saying what to fix (and in which field).

    :param email: The e-mail address.
    :param password: The password.
    :param raw_key: The 2FA key as typed.
    :param marketplace: The marketplace as chosen.
    """
    try:
        return parse_credentials(email, password, raw_key, marketplace)
    except InvalidTwoFactorKeyError as err:
        return Notice.from_error(err, field=CONF_TOTP_KEY)
    except MissingCredentialsError as err:
        field = CONF_MARKETPLACE if email and password else None
        return Notice.from_error(err, field=field)


# --- sign-in from the form (older MA) ---------------------------------------------------------


@dataclass(slots=True)
class _Attempt:
    """A form sign-in waiting for its captcha answer."""

    manager: AuthSessionManager
    folder: Path
    fingerprint: str
    started: float


#: Form sign-ins waiting for a captcha answer, by dialog (see :func:`_registry_key`).
_IN_FLIGHT: dict[str, _Attempt] = {}
_last_sweep: float | None = None


async def _drop_attempt(key: str, *, discard: bool) -> None:
    attempt = _IN_FLIGHT.pop(key, None)
    if attempt is None:
        return
    await attempt.manager.close()
    if discard:
        await helpers.run_blocking(helpers.discard_pending, attempt.folder)


async def _forget_abandoned(mass: MusicAssistant, folder: Path) -> None:
    """Remove the device of a session signed in from a dialog that was never saved."""
    if not helpers.pending_was_seeded(folder) and (folder / "registration.json").exists():
        # A fresh sign-in registered a device nobody will use: take it off the account.
        # (A seeded folder shares its device with a live instance and is only deleted.)
        manager = helpers.create_manager(mass, folder, helpers.registered_marketplace(folder))
        try:
            result = await manager.reset(deregister=True)
            if result.backup is not None:
                await helpers.run_blocking(helpers.discard_pending, result.backup)
        except AlexaAuthError as err:
            _LOGGER.info("Could not remove an abandoned sign-in's device: %s", err.code)
        finally:
            await manager.close()
    await helpers.run_blocking(helpers.discard_pending, folder)


async def _forget_removed(mass: MusicAssistant, folder: Path) -> None:
    """Sign out and delete the session of an instance MA removed while it was not running."""
    manager = helpers.create_manager(mass, folder, helpers.registered_marketplace(folder))
    try:
        result = await manager.reset(deregister=True)
    except AlexaAuthError as err:
        _LOGGER.warning("Could not sign out the session of a removed instance: %s", err.code)
    else:
        _LOGGER.info(
            "Signed out the session of removed instance %s (device removed: %s)",
            folder.name,
            "yes" if result.deregistered else "no",
        )
    finally:
        await manager.close()


async def sweep(mass: MusicAssistant, now: float) -> None:
    """
    Close captcha sign-ins nobody answered, and clean up after dialogs and removals.

    Deletes the sessions of abandoned dialogs, and signs out the sessions of instances MA
    removed while they were not running (MA does not unload those, so they never heard).

    :param mass: The MusicAssistant instance.
    :param now: Epoch seconds (the adapter's clock).
    """
    global _last_sweep  # noqa: PLW0603 - one sweep timer for the module's registry
    for key, attempt in list(_IN_FLIGHT.items()):
        if now - attempt.started > CAPTCHA_TTL:
            await _drop_attempt(key, discard=True)
    if _last_sweep is not None and 0 <= now - _last_sweep < _SWEEP_INTERVAL:
        return
    keep = {attempt.folder.name for attempt in _IN_FLIGHT.values()}
    stale = await helpers.run_blocking(helpers.stale_pending, mass, now=now, keep=keep)
    for folder in stale:
        mass.create_task(_forget_abandoned(mass, folder))
    configured = {helpers.safe_id(str(i)) for i in mass.config.get("providers") or {}}
    if not any(name.startswith(f"{DOMAIN}--") for name in configured):
        # MA lists none of our instances (the add dialog of the first one, say): that is no
        # proof that the stored sessions are gone. Look again once an instance exists.
        return
    _last_sweep = now
    removed = await helpers.run_blocking(helpers.removed_instances, mass, configured=configured)
    for folder in removed:
        mass.create_task(_forget_removed(mass, folder))


def _pending_key(instance_id: str | None, values: Mapping[str, Any] | None) -> str:
    session_id = (values or {}).get(SESSION_ID)
    if isinstance(session_id, str) and session_id:
        return helpers.safe_id(session_id)
    return helpers.safe_id(instance_id) if instance_id else "add"


async def form_sign_in(
    mass: MusicAssistant,
    instance_id: str | None,
    pending_key: str,
    form: FormValues,
) -> tuple[Notice, str | None]:
    """
    Sign in with the form's values into a pending folder, or continue at a captcha.

    Failures store nothing (the pending folder is deleted); the instance's own store is never
    touched.

    :param mass: The MusicAssistant instance.
    :param instance_id: The existing instance, or None in the add dialog.
    :param pending_key: The dialog's pending session id.
    :param form: The resolved form values.
    :returns: The notice, and the pending session id when the sign-in completed.
    """
    creds = check_credentials(form.email, form.password, form.totp_key, form.marketplace)
    if isinstance(creds, Notice):
        return creds, None
    registry_key = _registry_key(mass, pending_key)
    attempt = _IN_FLIGHT.get(registry_key)
    waiting = (
        attempt is not None
        and attempt.fingerprint == creds.fingerprint
        and attempt.manager.captcha_url is not None
    )
    if waiting and not form.captcha_answer:
        # Starting over would send the password again and replace the picture being read.
        notice = Notice(
            "Type the characters from the picture first.",
            ok=False,
            guide_url=guide_link(GuideSlug.CAPTCHA),
        )
        return notice, None
    if waiting and attempt is not None:
        step = attempt.manager.answer_captcha(form.captcha_answer)
    else:
        await _drop_attempt(registry_key, discard=True)
        # A new folder name for every sign-in: the hidden field then changes on each one, so
        # Save always reloads the instance with the new session.
        folder = helpers.pending_dir(mass, f"{pending_key}-{helpers.new_pending_id()[:8]}")
        seed = helpers.instance_dir(mass, instance_id) if instance_id else None
        now = helpers.SETTINGS.clock.time()
        await helpers.run_blocking(helpers.prepare_pending, folder, copy_from=seed, now=now)
        manager = helpers.create_manager(mass, folder, creds.marketplace)
        attempt = _Attempt(manager, folder, creds.fingerprint, now)
        _IN_FLIGHT[registry_key] = attempt
        step = manager.login(creds.email, creds.password, creds.key)
    try:
        await step
    except CaptchaRequiredError as err:
        if attempt.manager.captcha_url:
            return Notice.from_error(err), None
        await _drop_attempt(registry_key, discard=True)
        return Notice.from_error(err), None
    except AlexaAuthError as err:
        await _drop_attempt(registry_key, discard=True)
        return Notice.from_error(err), None
    except BaseException:
        await _drop_attempt(registry_key, discard=True)
        raise
    status = attempt.manager.status()
    await _drop_attempt(registry_key, discard=False)
    who = f" as {status.account_label}" if status.account_label else ""
    notice = Notice(
        f"Signed in to {creds.marketplace}{who}. Press Save to keep this session "
        "(nothing is used until then)."
    )
    return notice, attempt.folder.name


def captcha_waiting(mass: MusicAssistant, pending_key: str) -> str | None:
    """
    Return the captcha picture a form sign-in waits on, if any.

    :param mass: The MusicAssistant instance.
    :param pending_key: The dialog's pending session id.
    """
    attempt = _IN_FLIGHT.get(_registry_key(mass, pending_key))
    return attempt.manager.captcha_url if attempt is not None else None


def _registry_key(mass: MusicAssistant, pending_key: str) -> str:
    """Return the key of a dialog's sign-in in :data:`_IN_FLIGHT` (unique per MA)."""
    return f"{helpers.storage_root(mass)}/{pending_key}"


def _loaded_provider(mass: MusicAssistant, instance_id: str | None) -> AlexaAuthProvider | None:
    from .provider import AlexaAuthProvider  # noqa: PLC0415 - provider.py imports this module

    if not instance_id:
        return None
    provider = mass.get_provider(instance_id)
    return provider if isinstance(provider, AlexaAuthProvider) else None


async def _instance_action(mass: MusicAssistant, instance_id: str, action: str) -> Notice:
    """Run a session button on an instance that is not running (it failed to load)."""
    market = helpers.stored_value(mass, instance_id, CONF_MARKETPLACE)
    try:
        marketplace = normalise_marketplace(market if isinstance(market, str) else None)
    except ValueError as err:
        return Notice(str(err), ok=False, guide_url=guide_link(GuideSlug.CREDENTIALS))
    manager = helpers.create_manager(mass, helpers.instance_dir(mass, instance_id), marketplace)
    try:
        return await session_action(manager, action)
    finally:
        await manager.close()


async def _form_action(  # noqa: PLR0913 - one button press and its context
    mass: MusicAssistant,
    instance_id: str | None,
    action: str,
    *,
    form: FormValues,
    pending_key: str,
    provider: AlexaAuthProvider | None,
) -> tuple[Notice | None, str | None]:
    """Run a button of older MA's dialog; return its notice and a signed-in pending id."""
    if action == ACTION_SIGN_IN:
        return await form_sign_in(mass, instance_id, pending_key, form)
    if action == ACTION_CHECK_KEY and not form.totp_key:
        notice = Notice(
            "Type the 2FA key first.", ok=False, guide_url=guide_link(GuideSlug.TWO_FACTOR_KEY)
        )
        return notice, None
    if action in (ACTION_TEST, ACTION_REFRESH, ACTION_RESET):
        if provider is not None:
            return await provider.run_action(action), None
        if instance_id:
            return await _instance_action(mass, instance_id, action), None
    return None, None


async def get_config_entries(
    mass: MusicAssistant,
    instance_id: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Return the add/edit form for older Music Assistant, running a pressed button first.

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance being edited, or None when adding one.
    :param action: The pressed button's action id, if any.
    :param values: The form's current values (and the dialog's ``session_id``).
    """
    clock = helpers.SETTINGS.clock
    form = FormValues.read(mass, instance_id, values)
    provider = _loaded_provider(mass, instance_id)
    pending_key = _pending_key(instance_id, values)
    notices: list[Notice] = []
    signed_in_pending: str | None = None
    if action is not None:
        await sweep(mass, clock.time())
        notice, signed_in_pending = await _form_action(
            mass, instance_id, action, form=form, pending_key=pending_key, provider=provider
        )
        if notice is not None:
            notices.append(notice)
        if signed_in_pending is not None and values is not None:
            # MA fills a returned entry's empty value from ``values``; this keeps the hidden
            # field in step with the entry below, whichever the MA version does.
            values[CONF_PENDING_SESSION] = signed_in_pending
    captcha_url = captcha_waiting(mass, pending_key)
    entries = [notice.entry(f"alexa_notice_{i}") for i, notice in enumerate(notices)]
    signed_in_here = signed_in_pending or (values or {}).get(CONF_PENDING_SESSION)
    if provider is not None:
        entries.extend(await provider.health_entries())
    elif instance_id and not signed_in_here:
        # Once this dialog has signed in, "press Sign in now" would contradict its notice.
        entries.append(
            warning_entry(
                "alexa_status",
                f'This Amazon account is not running in Music Assistant. Press "{SIGN_IN_LABEL}"'
                ", then Save.",
                help_link=guide_link(GuideSlug.COMPLETE_REAUTH),
            )
        )
    entries.extend(credential_entries())
    # The verdict goes right under the key's field (before the "check" button).
    key_index = next(i for i, e in enumerate(entries) if e.key == CONF_TOTP_KEY) + 1
    entries[key_index:key_index] = key_entries(form.totp_key, clock.time())
    if captcha_url:
        entries.extend(captcha_entries(captcha_url))
    entries.extend(
        action_entries(
            existing=instance_id is not None, captcha=captcha_url is not None, from_form=True
        )
    )
    entries.extend(option_entries())
    entries.append(pending_entry(signed_in_pending))
    return tuple(entries)


async def close_all() -> None:
    """Close every open form sign-in (for tests and shutdown); their folders are deleted."""
    for key in list(_IN_FLIGHT):
        with contextlib.suppress(Exception):
            await _drop_attempt(key, discard=True)


__all__ = [
    "Notice",
    "action_entries",
    "captcha_entries",
    "check_credentials",
    "credential_entries",
    "get_config_entries",
    "key_entries",
    "option_entries",
    "session_action",
]
