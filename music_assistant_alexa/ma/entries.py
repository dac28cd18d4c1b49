"""
The config entries the adapter shows: fields, buttons, notices, the live 2FA code and health.

Both MA generations use these builders: 2.9's settings form (``legacy/``), 2.10's setup flow
and the options page of a running instance. Secret fields are never given a value here: MA
fills a returned entry's empty value with what the frontend itself sent, so a secret is neither
echoed back nor lost from the form. Every guide link is rendered by the caller's linker (MA's
web server's guide, see :attr:`~.context.AdapterContext.link`).

The current one-time code of a 2FA key is never put where it could sit on screen after its
30-second window: a page shows whether the key is valid; the code itself goes into a button's
outcome (with the clock time it belongs to) or the sign-in's progress step (renewed with each
window).

The sign-in in the user's own browser (:func:`browser_entries`) shows its link as each frontend
can open it: a Markdown link in the setup flow (MA's dialog opens it in a new tab), and in 2.9's
form, whose frontend shows text plainly, the address itself with the entry's help link set to
it (its question mark opens the page in a new tab on the user's click).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from music_assistant_models.config_entries import ConfigEntry, ConfigValueOption
from music_assistant_models.enums import ConfigEntryType

from music_assistant_alexa.auth.clock import format_utc
from music_assistant_alexa.auth.endpoints import DEFAULT_MARKETPLACE, MARKETPLACES
from music_assistant_alexa.auth.errors import AlexaAuthError
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key
from music_assistant_alexa.diagnostics import CheckKey, CheckStatus
from music_assistant_alexa.diagnostics.handoff import ALEXA_PLAYERS_CHECK_KEY
from music_assistant_alexa.guide import GuideSlug

from .constants import (
    ACTION_BROWSER,
    ACTION_BROWSER_FINISH,
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SHOW_CODE,
    ACTION_SIGN_IN,
    ACTION_TEST,
    BROWSER_CHOICE_LABEL,
    BROWSER_FINISH_LABEL,
    BROWSER_LABEL,
    CONF_ALEXA_PLAYERS,
    CONF_BROWSER_ATTEMPT,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_FINAL_ADDRESS,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_SIGN_IN_METHOD,
    CONF_TOTP_KEY,
    CONTINUE_LABEL,
    DEFAULT_REFRESH_INTERVAL,
    ENTRY_BROWSER_COPY,
    ENTRY_BROWSER_LINK,
    ENTRY_CAPTCHA,
    ENTRY_CAPTCHA_IMAGE,
    ENTRY_CHECK,
    ENTRY_HEADING,
    ENTRY_INTRO,
    ENTRY_KEY_CODE,
    ENTRY_KEY_PROBLEM,
    ENTRY_NOT_RUNNING,
    ENTRY_NOTICE,
    ENTRY_PROBLEM,
    ENTRY_STATUS,
    ENTRY_USE_BROWSER,
    METHOD_BROWSER,
    METHOD_FIELD_LABEL,
    METHOD_PASSWORD,
    REFRESH_INTERVAL_RANGE,
    REFRESH_LABEL,
    SIGN_IN_LABEL,
)
from .notices import Notice

if TYPE_CHECKING:
    from collections.abc import Iterable

    from music_assistant_alexa.auth.browser_sign_in import BrowserSignInLink
    from music_assistant_alexa.auth.session import SessionStatus
    from music_assistant_alexa.diagnostics import HealthCheck
    from music_assistant_alexa.guide import GuideLinker

#: ``ConfigEntryType.IMAGE`` exists from models 1.1.1xx on; older frontends get a link instead.
IMAGE_TYPE: Final = getattr(ConfigEntryType, "IMAGE", None)
#: Checks whose good news goes into the status line instead of an entry of their own.
_SUMMARY_CHECKS: Final = (CheckKey.COOKIE_AGE, CheckKey.LAST_REFRESH, ALEXA_PLAYERS_CHECK_KEY)
#: A guide link in a text: the web route's anchor, or the terminal command's slug.
_LINKED_SLUG: Final = re.compile(r"(?:#|guide )([a-z0-9][a-z0-9-]*)")
#: The "How to fix it" link that ends a message (a URL, or the terminal command).
_TRAILING_LINK: Final = re.compile(r"\s*How to fix it: .*$")
#: What the password and the 2FA key fields add when the browser way needs neither.
_NOT_NEEDED_IN_BROWSER: Final = " Not needed when you sign in in your browser."
#: The two sentences on what to copy at the end of a sign-in in the browser.
WHAT_TO_COPY: Final = (
    'At the end Amazon shows a page saying it was not found ("Looking for something?"): '
    "that is expected. Copy the whole address of that page from your browser's address bar "
    "(it contains /ap/maplanding) and paste it below."
)


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


def heading_entries(title: str, intro: str | None = None) -> list[ConfigEntry]:
    """
    Return a step's heading: its title as a labelled divider, and an introduction below it.

    MA shows a setup-flow step's title only from its compiled catalog, which a provider
    installed after MA was built cannot add to; a labelled divider is the heading every
    frontend draws (a line and the label in bold), and the introduction is an information box.

    :param title: What the step is, in a few words.
    :param intro: What the user does here, if it needs saying.
    """
    entries = [
        ConfigEntry(key=ENTRY_HEADING, type=ConfigEntryType.DIVIDER, label=title, required=False)
    ]
    if intro:
        entries.append(text_entry(ENTRY_INTRO, intro))
    return entries


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
    link: GuideLinker,
    *,
    flow: bool = False,
    keep: frozenset[str] = frozenset(),
    browser: bool = False,
) -> list[ConfigEntry]:
    """
    Return the e-mail, password, 2FA key and marketplace fields (and the flow's choice of way).

    :param link: Renders guide links.
    :param flow: For a setup-flow form (no buttons are allowed there): it starts with the
        choice between the password and the browser, and the password and 2FA key fields
        depend on it (MA's dialog disables them, and does not require them, for the browser).
    :param keep: Secret fields that may stay empty because the value entered before (or the
        stored one, in a reconfigure flow) is kept.
    :param browser: 2.9's form when the account signs in in the browser: the password and the
        2FA key are not required (the frontend would otherwise keep Save disabled).
    """

    def secret_note(key: str) -> str:
        kept = " Leave empty to keep the one entered before." if key in keep else ""
        return kept + _NOT_NEEDED_IN_BROWSER

    def required(key: str) -> bool:
        return key not in keep and not browser

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
            + secret_note(CONF_PASSWORD),
            required=required(CONF_PASSWORD),
            help_link=link(GuideSlug.CREDENTIALS),
        ),
        ConfigEntry(
            key=CONF_TOTP_KEY,
            type=ConfigEntryType.SECURE_STRING,
            label="2FA key of your authenticator app",
            description=(
                "The 52-character key Amazon shows when you add an authenticator app "
                "(Login & security > 2-Step Verification > Add new app > \"Can't scan the "
                'barcode?"). Not the 6-digit code.' + secret_note(CONF_TOTP_KEY)
            ),
            required=required(CONF_TOTP_KEY),
            help_link=link(GuideSlug.TWO_FACTOR_KEY),
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
            help_link=link(GuideSlug.CREDENTIALS),
        ),
    ]
    if flow:
        entries = [method_entry(link), *(password_only(entry) for entry in entries)]
    else:
        check = button_entry(
            ACTION_CHECK_KEY,
            "Check the 2FA key",
            description="Shows whether the key is valid and the code it makes at this moment.",
        )
        entries.insert(3, check)
    return entries


def method_entry(link: GuideLinker) -> ConfigEntry:
    """
    Return the setup flow's choice: sign in with the password and 2FA key, or in the browser.

    :param link: Renders guide links.
    """
    return ConfigEntry(
        key=CONF_SIGN_IN_METHOD,
        type=ConfigEntryType.STRING,
        label=METHOD_FIELD_LABEL,
        description=(
            "With your password and 2FA key, Music Assistant signs in by itself. In your "
            "browser, you sign in on Amazon's own page, where passkeys, codes by text message "
            "and captchas work, and paste the address of its last page here: no password or "
            "2FA key is needed or stored."
        ),
        options=[
            ConfigValueOption(title="With my password and 2FA key", value=METHOD_PASSWORD),
            ConfigValueOption(title=BROWSER_CHOICE_LABEL, value=METHOD_BROWSER),
        ],
        default_value=METHOD_PASSWORD,
        required=True,
        help_link=link(GuideSlug.BROWSER_SIGN_IN),
    )


def password_only(entry: ConfigEntry) -> ConfigEntry:
    """
    Return a setup-flow entry as it depends on the choice of way: used only with the password.

    MA's dialog disables an input (hides a text) whose dependency is unmet, and neither it nor
    the flow engine requires it then.

    :param entry: The entry (the e-mail and the marketplace are needed either way).
    """
    if entry.key in (CONF_EMAIL, CONF_MARKETPLACE):
        return entry
    return replace(entry, depends_on=CONF_SIGN_IN_METHOD, depends_on_value=METHOD_PASSWORD)


def code_hint(key: TotpKey, now: float) -> str:
    """
    Return the sentences showing the current one-time code, to compare with the app.

    For a place that shows it once and renews it with its window (a progress step).

    :param key: The validated 2FA key.
    :param now: Epoch seconds.
    """
    code = key.code_at(now)
    return (
        f"Your authenticator app shows {code[:3]} {code[3:]} now (a new code every 30 seconds). "
        "A different code means the key is not the one in your app."
    )


def timed_code_hint(key: TotpKey, now: float) -> str:
    """
    Return the current one-time code with the clock time it is valid until, to compare with the app.

    For a place that may stay on screen after the window (a button's outcome): the time tells a
    later reader that the code has changed since.

    :param key: The validated 2FA key.
    :param now: Epoch seconds.
    """
    code = key.code_at(now)
    left = int(key.seconds_left(now))
    until = time.strftime("%H:%M:%S", time.localtime(now + key.seconds_left(now)))
    return (
        f"Your authenticator app should show {code[:3]} {code[3:]} until {until} ({left} s left "
        "when this was shown). A different code means the key is not the one in your app."
    )


def key_entries(raw_key: str | None, link: GuideLinker) -> list[ConfigEntry]:
    """
    Return the verdict on a 2FA key: valid, or exactly what is wrong (never the code).

    :param raw_key: The key as typed (None: nothing typed yet, nothing shown).
    :param link: Renders guide links.
    """
    if not raw_key:
        return []
    try:
        parse_totp_key(raw_key)
    except AlexaAuthError as err:
        return [notice_entry(Notice.from_error(err, link, field=CONF_TOTP_KEY), ENTRY_KEY_PROBLEM)]
    return [
        text_entry(
            ENTRY_KEY_CODE,
            'The 2FA key is valid. "Check the 2FA key" shows the code it makes at that moment, '
            "to compare with your authenticator app.",
        )
    ]


def key_check_notice(raw_key: str | None, now: float, link: GuideLinker) -> Notice:
    """
    Return the outcome of checking a 2FA key: the code it makes now, or what is wrong.

    :param raw_key: The key as typed or stored (None or empty: there is none).
    :param now: Epoch seconds.
    :param link: Renders guide links.
    """
    if not raw_key:
        guide = link(GuideSlug.TWO_FACTOR_KEY)
        return Notice("There is no 2FA key to check yet.", ok=False, guide_url=guide)
    try:
        key = parse_totp_key(raw_key)
    except AlexaAuthError as err:
        return Notice.from_error(err, link, field=CONF_TOTP_KEY)
    return Notice(f"The 2FA key is valid. {timed_code_hint(key, now)}")


def captcha_answer_key(round_number: int | None) -> str:
    """
    Return the key of the captcha's answer field.

    In a setup flow every new picture gets new keys: MA's dialog keeps the typed value (and
    the picture) of an entry whose key did not change when the same step is shown again.

    :param round_number: The picture's number in a setup flow; None in 2.9's form.
    """
    return CONF_CAPTCHA_ANSWER if round_number is None else f"{CONF_CAPTCHA_ANSWER}_{round_number}"


def use_browser_key(round_number: int) -> str:
    """
    Return the key of the setup flow's "sign in in my browser instead" on a captcha.

    :param round_number: The picture's number (a new key for each, like the answer's).
    """
    return f"{ENTRY_USE_BROWSER}_{round_number}"


def captcha_entries(
    link: GuideLinker,
    *,
    captcha_url: str,
    picture: str | None,
    round_number: int | None = None,
    repeated: bool = False,
) -> list[ConfigEntry]:
    """
    Return the captcha: what to do, the picture (or its address), and the answer field.

    :param link: Renders guide links.
    :param captcha_url: Amazon's address of the picture.
    :param picture: The picture as a ``data:`` URI (fetched by us), or None when it could not
        be fetched or MA has no picture entries: the text then gives the address instead.
    :param round_number: The picture's number in a setup flow (a new key for each); None for
        2.9's form.
    :param repeated: Amazon showed this picture after an answer: the sign-in in the browser is
        offered (where one answer is usually enough); in a flow as a tick box that switches
        to it (the answer is then not needed).
    """
    flow = round_number is not None
    how = "continue." if flow else f'press "{CONTINUE_LABEL}".'
    guide = link(GuideSlug.CAPTCHA)
    shown = picture is not None and IMAGE_TYPE is not None
    where = "in the picture below" if shown else f"in the picture at {captcha_url}"
    offer = ""
    if repeated:
        choice = '"Sign in in my browser instead" below' if flow else f'"{BROWSER_LABEL}"'
        offer = (
            f"If new pictures keep coming, choose {choice}: on Amazon's own page in your "
            "browser one answer is usually enough. "
        )
    entries = [
        text_entry(
            ENTRY_CAPTCHA,
            "Amazon wants a picture puzzle solved before it goes on. Type the characters "
            f"{where} and {how} {offer}How to fix it: {guide}",
            warning=not flow,
            help_link=guide,
        )
    ]
    if picture is not None and IMAGE_TYPE is not None:
        image_key = ENTRY_CAPTCHA_IMAGE if not flow else f"{ENTRY_CAPTCHA_IMAGE}_{round_number}"
        entries.append(
            ConfigEntry(
                key=image_key,
                type=IMAGE_TYPE,
                label="The captcha picture",
                value=picture,
                required=False,
            )
        )
    answer = ConfigEntry(
        key=captcha_answer_key(round_number),
        type=ConfigEntryType.STRING,
        label="Characters in the picture",
        required=flow,
        # A flow's field starts without a value, so MA's dialog keeps "Finish" disabled until
        # something is typed ("" would count as filled in). 2.9 fills an entry without a
        # value from the form it got, so there "" clears the answer to the last picture.
        value=None if flow else "",
        default_value=None,
    )
    if flow and repeated:
        switch = use_browser_key(round_number or 0)
        entries.append(
            ConfigEntry(
                key=switch,
                type=ConfigEntryType.BOOLEAN,
                label="Sign in in my browser instead",
                description=(
                    "Sign in on Amazon's own page in your browser and paste the address of its "
                    "last page; the characters are then not needed."
                ),
                default_value=False,
                required=False,
                help_link=link(GuideSlug.BROWSER_SIGN_IN),
            )
        )
        # Ticked, the answer field is disabled and no longer required (dialog and engine).
        answer = replace(answer, depends_on=switch, depends_on_value_not=True)
    entries.append(answer)
    return entries


def show_code_entry() -> ConfigEntry:
    """Return the options page's button that shows the stored 2FA key's code of the moment."""
    return button_entry(
        ACTION_SHOW_CODE,
        "Show the current 2FA code",
        description="Shows the code the stored 2FA key makes now, to compare with your app.",
    )


def action_entries(
    *, existing: bool, captcha: bool, from_form: bool, signs_in_itself: bool = True
) -> list[ConfigEntry]:
    """
    Return the buttons.

    :param existing: For an instance that exists (test, refresh and reset need one).
    :param captcha: A captcha is waiting, so signing in continues instead of starting.
    :param from_form: Signing in uses the form's values (2.9's dialog, which also offers the
        sign-in in the browser); otherwise the stored ones.
    :param signs_in_itself: The instance has a password and 2FA key to sign in with (the options
        page of one that signs in in the browser has no "Sign in now": Reconfigure does it).
    """
    sign_in_help = (
        "Signs in with the values above; nothing is saved or used until you press Save."
        if from_form
        else "Signs in again with the stored e-mail, password and 2FA key."
    )
    sign_in_label = CONTINUE_LABEL if captcha else SIGN_IN_LABEL
    entries = [
        button_entry(
            ACTION_SIGN_IN,
            sign_in_label,
            description=sign_in_help,
            hidden=not (from_form or signs_in_itself),
        )
    ]
    if from_form:
        entries.append(
            button_entry(
                ACTION_BROWSER,
                BROWSER_LABEL,
                description=(
                    "Opens Amazon's own sign-in page in a new tab, where passkeys, codes by "
                    "text message and captchas work; then you paste the address of its last "
                    "page here. Needs no password or 2FA key. Nothing is saved or used until "
                    "you press Save."
                ),
            )
        )
    entries.extend(
        [
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
    )
    return entries


def browser_entries(
    link: BrowserSignInLink, linker: GuideLinker, *, round_number: int | None = None
) -> list[ConfigEntry]:
    """
    Return the sign-in in the browser: the link to open, what to copy, and the field for it.

    :param link: The waiting link (Amazon's sign-in page for the pending session's device).
    :param linker: Renders guide links.
    :param round_number: In a setup flow, the number of the form shown (the paste field gets a
        new key each time, so MA's dialog does not keep a refused address); None in 2.9's form,
        which also gets its "Finish sign-in" button.
    """
    flow = round_number is not None
    until = format_utc(link.expires_at)
    how = (
        "Sign in there the way Amazon asks: with your passkey, a code sent by text message, or "
        f"by solving a captcha. The link works until {until}."
    )
    if flow:
        # MA's setup dialog renders labels as Markdown and opens their links in a new tab.
        opener = markdown_link("Open Amazon's sign-in page", link.url)
        text = f"**{opener}** (a new tab). {how}"
        link_entry = text_entry(ENTRY_BROWSER_LINK, text)
    else:
        # 2.9's frontend shows text plainly; an entry's help link is what it opens on a click.
        text = (
            f'"{BROWSER_LABEL}" opens Amazon\'s sign-in page in a new tab. If it did not open, '
            "press the question mark next to this text, or open this address in a browser: "
            f"{link.url} {how}"
        )
        link_entry = text_entry(ENTRY_BROWSER_LINK, text, help_link=link.url)
    copy = WHAT_TO_COPY if flow else f'{WHAT_TO_COPY} Then press "{BROWSER_FINISH_LABEL}".'
    entries = [
        link_entry,
        text_entry(ENTRY_BROWSER_COPY, copy, help_link=linker(GuideSlug.BROWSER_SIGN_IN)),
        ConfigEntry(
            key=CONF_FINAL_ADDRESS if not flow else f"{CONF_FINAL_ADDRESS}_{round_number}",
            type=ConfigEntryType.STRING,
            label="Address of Amazon's last page",
            description="The whole address, starting with https:// and containing /ap/maplanding.",
            required=flow,
            # As with the captcha: a flow's field starts without a value (MA's dialog then keeps
            # its button disabled); 2.9's form gets "" so an address once pasted goes.
            value=None if flow else "",
            default_value=None,
        ),
    ]
    if not flow:
        entries.append(
            button_entry(
                ACTION_BROWSER_FINISH,
                BROWSER_FINISH_LABEL,
                description="Finishes the sign-in with the pasted address (it works only once).",
            )
        )
    return entries


def markdown_link(text: str, url: str) -> str:
    """
    Return a Markdown link whose address survives Markdown (brackets in it are escaped).

    :param text: The link's text.
    :param url: The address.
    """
    safe = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{text}]({safe})"


def hidden_entry(key: str, label: str, value: str | None) -> ConfigEntry:
    """
    Return a hidden field: a value the form keeps between its calls (2.9's frontend submits it).

    :param key: The config key.
    :param label: What it holds.
    :param value: The value to set; None lets MA fill in what the form (or the store) holds.
    """
    return ConfigEntry(
        key=key,
        type=ConfigEntryType.STRING,
        label=label,
        required=False,
        hidden=True,
        value=value,
    )


def method_field(value: str | None) -> ConfigEntry:
    """
    Return 2.9's hidden field of how the account signs in (the setup flow shows the choice).

    :param value: :data:`METHOD_BROWSER` or :data:`METHOD_PASSWORD` right after a sign-in of
        that kind; None otherwise (MA fills in the form's, or the stored, value).
    """
    entry = hidden_entry(CONF_SIGN_IN_METHOD, "How the account signs in", value)
    # Stored only when it is not the default (MA's ``to_raw``): the password is the old way.
    return replace(entry, default_value=METHOD_PASSWORD)


def browser_attempt_field(value: str | None) -> ConfigEntry:
    """
    Return 2.9's hidden field naming the browser sign-in that waits for its address.

    :param value: ``<pending id>:<attempt id>``, "" once nothing waits, None to keep the form's.
    """
    return hidden_entry(CONF_BROWSER_ATTEMPT, "Sign-in in the browser that waits", value)


def option_entries(link: GuideLinker) -> list[ConfigEntry]:
    """
    Return the options: automatic refresh, its interval, notices, and the Alexa players.

    :param link: Renders guide links.
    """
    return [
        ConfigEntry(
            key=CONF_REFRESH_ENABLED,
            type=ConfigEntryType.BOOLEAN,
            label="Keep the session fresh automatically",
            description="Renews Amazon's cookies in the background; they stop working at 14 days.",
            default_value=True,
            required=False,
            help_link=link(GuideSlug.COOKIE_REFRESH),
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
            help_link=link(GuideSlug.ALEXA_PLAYERS),
        ),
    ]


def pending_entry(value: str | None) -> ConfigEntry:
    """
    Return the hidden field carrying a form sign-in's session to the instance.

    :param value: The pending session's id, when one was just signed in.
    """
    return hidden_entry(CONF_PENDING_SESSION, "Session signed in from this form", value)


def signed_in_as(status: SessionStatus) -> str:
    """
    Return " as <masked account>" for a signed-in session ("" when the account is unknown).

    :param status: The manager's snapshot.
    """
    return f" as {status.account_label}" if status.account_label else ""


def health_section(
    status: SessionStatus,
    checks: list[HealthCheck],
    problem: Notice | None,
    link: GuideLinker,
    *,
    sign_in_hint: str = f'press "{SIGN_IN_LABEL}"',
) -> list[ConfigEntry]:
    """
    Return the health section: who is signed in where, cookie age, refreshes, and warnings.

    :param status: The manager's snapshot.
    :param checks: The health checks (no request to Amazon).
    :param problem: The error that needs the user, or the outage, if any.
    :param link: Renders guide links.
    :param sign_in_hint: How to sign in here, for a session that is not signed in.
    """
    entries = [notice_entry(problem, ENTRY_PROBLEM)] if problem is not None else []
    if status.signed_in:
        device = f' (device "{status.device_name}")' if status.device_name else ""
        summary = [f"Signed in{signed_in_as(status)} on {status.marketplace}{device}."]
    else:
        summary = [f"Not signed in to Amazon ({status.marketplace}): {sign_in_hint}."]
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
        guide = link(check.guide_slug) if check.guide_slug is not None else None
        text = check.message + (f" How to fix it: {guide}" if guide else "")
        key = f"{ENTRY_CHECK}_{index}"
        entries.append(text_entry(key, text, warning=True, help_link=guide))
    return entries


def not_running_entry(last_error: str | None, link: GuideLinker, action: str) -> ConfigEntry:
    """
    Return the warning at the top of 2.9's edit page of an instance that is not running.

    2.9's edit page shows neither ``last_error`` nor a link; this entry says why the instance
    stopped (its ``last_error``, whose guide link becomes the entry's help link, the one 2.9
    can open) and the one action that fixes it.

    :param last_error: The instance's ``last_error`` (2.9: a string), if MA recorded one.
    :param link: Renders guide links.
    :param action: What to do about it, as a sentence.
    """
    slug = GuideSlug.COMPLETE_REAUTH
    if last_error:
        named = (match.group(1) for match in _LINKED_SLUG.finditer(last_error))
        slug = next((GuideSlug(s) for s in named if s in set(GuideSlug)), slug)
        # The reason's own link goes last, after the action, as in every other message.
        reason = _TRAILING_LINK.sub("", last_error.strip())
        text = f"This Amazon account is not running in Music Assistant: {reason} {action}"
    else:
        text = f"This Amazon account is not running in Music Assistant. {action}"
    text += f" How to fix it: {link(slug)}"
    return text_entry(ENTRY_NOT_RUNNING, text, warning=True, help_link=link(slug))
