"""
The config entries the adapter shows: fields, buttons, notices, the live 2FA code and health.

Both MA generations use these builders: 2.9's settings form (``legacy/``), 2.10's setup flow
and the options page of a running instance. Secret fields are never given a value here: MA
fills a returned entry's empty value with what the frontend itself sent, so a secret is neither
echoed back nor lost from the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from music_assistant_models.config_entries import ConfigEntry, ConfigValueOption
from music_assistant_models.enums import ConfigEntryType

from music_assistant_alexa.auth.endpoints import DEFAULT_MARKETPLACE, MARKETPLACES
from music_assistant_alexa.auth.errors import AlexaAuthError
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key
from music_assistant_alexa.diagnostics import CheckKey, CheckStatus
from music_assistant_alexa.diagnostics.handoff import ALEXA_PLAYERS_CHECK_KEY
from music_assistant_alexa.guide import GuideSlug, guide_link

from .constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SIGN_IN,
    ACTION_TEST,
    CONF_ALEXA_PLAYERS,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_TOTP_KEY,
    CONTINUE_LABEL,
    DEFAULT_REFRESH_INTERVAL,
    ENTRY_CAPTCHA,
    ENTRY_CAPTCHA_IMAGE,
    ENTRY_CHECK,
    ENTRY_KEY_CODE,
    ENTRY_KEY_PROBLEM,
    ENTRY_NOTICE,
    ENTRY_PROBLEM,
    ENTRY_STATUS,
    REFRESH_INTERVAL_RANGE,
    REFRESH_LABEL,
    SIGN_IN_LABEL,
)
from .notices import Notice

if TYPE_CHECKING:
    from collections.abc import Iterable

    from music_assistant_alexa.auth.session import SessionStatus
    from music_assistant_alexa.diagnostics import HealthCheck

#: ``ConfigEntryType.IMAGE`` exists from models 1.1.1xx on; older frontends get a link instead.
IMAGE_TYPE: Final = getattr(ConfigEntryType, "IMAGE", None)
#: Checks whose good news goes into the status line instead of an entry of their own.
_SUMMARY_CHECKS: Final = (CheckKey.COOKIE_AGE, CheckKey.LAST_REFRESH, ALEXA_PLAYERS_CHECK_KEY)


def text_entry(
    key: str, text: str, *, warning: bool = False, help_link: str | None = None
) -> ConfigEntry:
    """
    Return a blue information box, or a yellow warning box.

    :param key: The entry's key.
    :param text: The text (a warning carries its guide link in it too: not every frontend
        shows help links).
    :param warning: A warning (ALERT) instead of information (LABEL).
    :param help_link: A link to the guide, if any.
    """
    kind = ConfigEntryType.ALERT if warning else ConfigEntryType.LABEL
    return ConfigEntry(key=key, type=kind, label=text, required=False, help_link=help_link)


def notice_entry(notice: Notice, key: str) -> ConfigEntry:
    """
    Return a notice as a LABEL (good news) or ALERT (a problem) entry.

    :param notice: The notice.
    :param key: The entry's key.
    """
    return text_entry(key, notice.text, warning=not notice.ok, help_link=notice.guide_url)


def notice_entries(notices: Iterable[Notice]) -> list[ConfigEntry]:
    """
    Return the notices for the top of a form.

    :param notices: The notices, in order.
    """
    return [notice_entry(notice, f"{ENTRY_NOTICE}_{i}") for i, notice in enumerate(notices)]


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

    def keep_note(key: str) -> str:
        return " Leave empty to keep the one entered before." if key in keep else ""

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
            + keep_note(CONF_PASSWORD),
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
                'barcode?"). Not the 6-digit code.' + keep_note(CONF_TOTP_KEY)
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
        check = button_entry(
            ACTION_CHECK_KEY,
            "Check the 2FA key",
            description="Shows whether the key is valid and the code it makes right now.",
        )
        entries.insert(3, check)
    return entries


def code_hint(key: TotpKey, now: float) -> str:
    """
    Return the sentences showing the current one-time code, to compare with the app.

    :param key: The validated 2FA key.
    :param now: Epoch seconds.
    """
    code = key.code_at(now)
    left = int(key.seconds_left(now))
    return (
        f"Your authenticator app should show {code[:3]} {code[3:]} right now ({left} s left). "
        "A different code means the key is not the one in your app."
    )


def key_entries(raw_key: str | None, now: float) -> list[ConfigEntry]:
    """
    Return the verdict on a 2FA key: the live code, or exactly what is wrong.

    :param raw_key: The key as typed (None: nothing typed yet, nothing shown).
    :param now: Epoch seconds.
    """
    if not raw_key:
        return []
    try:
        key = parse_totp_key(raw_key)
    except AlexaAuthError as err:
        return [notice_entry(Notice.from_error(err, field=CONF_TOTP_KEY), ENTRY_KEY_PROBLEM)]
    return [text_entry(ENTRY_KEY_CODE, f"The 2FA key is valid. {code_hint(key, now)}")]


def captcha_entries(captcha_url: str, *, flow: bool = False) -> list[ConfigEntry]:
    """
    Return the captcha picture (or its link on older MA) and the answer field.

    :param captcha_url: The picture Amazon wants solved.
    :param flow: For a setup-flow form (the answer is required there).
    """
    how = "continue." if flow else f'press "{CONTINUE_LABEL}".'
    guide = guide_link(GuideSlug.CAPTCHA)
    entries = [
        text_entry(
            ENTRY_CAPTCHA,
            "Amazon wants a picture puzzle solved before it goes on. Open the picture "
            f"({captcha_url}), type its characters below and {how} How to fix it: {guide}",
            warning=True,
            help_link=guide,
        )
    ]
    if IMAGE_TYPE is not None:
        entries.append(
            ConfigEntry(
                key=ENTRY_CAPTCHA_IMAGE,
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
    :param from_form: Signing in uses the form's values (2.9's dialog); otherwise the stored ones.
    """
    sign_in_help = (
        "Signs in with the values above; nothing is saved or used until you press Save."
        if from_form
        else "Signs in again with the stored e-mail, password and 2FA key."
    )
    sign_in_label = CONTINUE_LABEL if captcha else SIGN_IN_LABEL
    return [
        button_entry(ACTION_SIGN_IN, sign_in_label, description=sign_in_help),
        button_entry(
            ACTION_TEST,
            "Test authentication",
            description="Asks Amazon once whether the stored session still works.",
            hidden=not existing,
        ),
        button_entry(
            ACTION_REFRESH,
            REFRESH_LABEL,
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
    """Return the options: automatic refresh, its interval, notices, and the Alexa players."""
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
        ConfigEntry(
            key=CONF_ALEXA_PLAYERS,
            type=ConfigEntryType.BOOLEAN,
            label="Keep Music Assistant's Alexa players signed in",
            description=(
                "When Music Assistant's own Alexa player provider signs in to the same Amazon "
                "account and site, this session is written into its cookie file after every "
                "sign-in and renewal, and it is restarted to use it once no Echo plays. Your "
                "own newer sign-in there is never overwritten. Does nothing while no such "
                "provider is set up."
            ),
            default_value=True,
            required=False,
            help_link=guide_link(GuideSlug.ALEXA_PLAYERS),
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


def signed_in_as(status: SessionStatus) -> str:
    """
    Return " as <masked account>" for a signed-in session ("" when the account is unknown).

    :param status: The manager's snapshot.
    """
    return f" as {status.account_label}" if status.account_label else ""


def health_section(
    status: SessionStatus, checks: list[HealthCheck], problem: Notice | None
) -> list[ConfigEntry]:
    """
    Return the health section: who is signed in where, cookie age, refreshes, and warnings.

    :param status: The manager's snapshot.
    :param checks: The health checks (no request to Amazon).
    :param problem: The error that needs the user, or the outage, if any.
    """
    entries = [notice_entry(problem, ENTRY_PROBLEM)] if problem is not None else []
    if status.signed_in:
        device = f' (device "{status.device_name}")' if status.device_name else ""
        summary = [f"Signed in{signed_in_as(status)} on {status.marketplace}{device}."]
    else:
        summary = [f'Not signed in to Amazon ({status.marketplace}): press "{SIGN_IN_LABEL}".']
    summary.extend(
        check.message
        for check in checks
        if check.key in _SUMMARY_CHECKS and check.status is CheckStatus.OK
    )
    entries.append(text_entry(ENTRY_STATUS, " ".join(summary)))
    for index, check in enumerate(checks):
        if check.status is CheckStatus.OK or (
            check.key == CheckKey.SIGNED_IN and not status.signed_in
        ):
            continue
        link = f" How to fix it: {check.guide_url}" if check.guide_url else ""
        text = check.message + link
        key = f"{ENTRY_CHECK}_{index}"
        entries.append(text_entry(key, text, warning=True, help_link=check.guide_url))
    return entries
