"""
The sign-in in the user's own browser in Music Assistant (issue 15): 2.9's form and the flow.

Invariants protected here, with a person at a browser on the simulated Amazon: an account whose
automatic sign-in Amazon blocks (a passkey only) gets a working, refreshable session through the
browser in 2.9's settings form and in 2.10's setup flow, with one device at Amazon and no
password or 2FA key stored, and the form never demands them; the link opens Amazon's page in a
new tab where the frontend can (2.9: MA's ``auth_session`` event and the entry's help link;
the flow: a Markdown link); a wrong, stale, foreign or reused address gets its clear error with
the guide link and changes nothing stored; the way is offered after a passkey, text-message,
captcha-loop or robot-wall refusal; an instance made this way restarts without credentials, and
one whose session is gone needs the user with the way in its message, never an automatic
sign-in; a later refresh that fails for good offers it again; Reconfigure (2.10) and the edit
dialog (2.9) offer it and keep the device; 2.9's form finds its waiting link after a restart;
the hand-off, diagnostics and Reset work as after the automatic sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import pytest
from music_assistant_models.enums import EventType
from yarl import URL

from music_assistant_alexa.auth.browser_sign_in import BROWSER_SIGN_IN_TTL
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.browser_path import NEW_LINK
from music_assistant_alexa.ma.constants import (
    ACTION_BROWSER,
    ACTION_BROWSER_FINISH,
    ACTION_RESET,
    ACTION_SIGN_IN,
    CONF_BROWSER_ATTEMPT,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_FINAL_ADDRESS,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_SIGN_IN_METHOD,
    CONF_TOTP_KEY,
    DOMAIN,
    ENTRY_BROWSER_LINK,
    METHOD_BROWSER,
    SESSION_ID,
    STEP_BROWSER,
    STEP_CAPTCHA,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.entries import use_browser_key
from music_assistant_alexa.ma.notices import (
    WAY_BY_RECONFIGURE,
    WAY_IN_FLOW,
    WAY_IN_FORM,
    WAY_IN_SETTINGS,
)
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.ma.values import stored_secret, stored_text
from music_assistant_alexa.simulator import Scenario
from tests.helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD
from tests.user_browser import Person, UserBrowser

from . import alexa_stand_in, frontend
from .support import (
    DIALOG,
    FORM,
    add,
    by_key,
    eventually,
    fire_timers,
    form,
    form_values,
    ma_guide,
    restart,
    settle,
    start_flow,
    submit,
    texts,
    try_add,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock

    from .support import SteppedClock

DAY: Final = 86_400.0
#: What a sign-in in the browser needs: the account and its marketplace, nothing secret.
ACCOUNT: Final[dict[str, Any]] = {CONF_EMAIL: TEST_EMAIL, CONF_MARKETPLACE: "amazon.com"}
_MARKDOWN_LINK: Final = re.compile(r"\]\((https?://[^)\s]+)\)")
#: The guide section every problem with a paste links to.
BROWSER_GUIDE: Final = GuideSlug.BROWSER_SIGN_IN


@pytest.fixture
async def browser(simulator: AmazonSimulator) -> AsyncIterator[UserBrowser]:
    """Return the person's browser."""
    opened = UserBrowser(simulator)
    yield opened
    await opened.close()


@pytest.fixture
def person(simulator: AmazonSimulator, clock: FakeClock) -> Person:
    """Return the account's owner: the password, the authenticator app and a passkey."""
    passkey = simulator.add_passkey(TEST_EMAIL)
    return Person(TEST_EMAIL, TEST_PASSWORD, simulator, clock, totp_key=TEST_KEY, passkey=passkey)


def block(simulator: AmazonSimulator, scenario: Scenario) -> None:
    """Give the account what stops the automatic sign-in (a passkey only, ...)."""
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.scenario = scenario


def passkey_only(simulator: AmazonSimulator) -> None:
    """Make the account one that Amazon signs in with its passkey only."""
    block(simulator, Scenario(passkey_forced=True))


def stored_files(mass: MusicAssistant) -> dict[str, bytes]:
    """Return every file under the adapter's storage (sessions, pending ones, backups)."""
    root = AdapterContext.of(mass).storage_root
    if not root.exists():
        return {}
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): path.read_bytes() for path in files}


def _shown(entries: Iterable[ConfigEntry]) -> str:
    """Return what the alerts and labels of a form say."""
    return "\n".join(e.label or "" for e in entries if str(e.type) in ("alert", "label"))


@dataclass
class Waiting:
    """A sign-in in the browser waiting for its address, in either generation of MA."""

    mass: MusicAssistant
    entries: list[ConfigEntry]
    #: The flow's step (2.10+); None in 2.9's form.
    step: Any = None
    instance_id: str | None = None
    #: The values 2.9's frontend holds besides the form's (the secrets as the user left them).
    typed: dict[str, Any] = field(default_factory=dict)

    @property
    def link(self) -> str:
        """Return the link shown: 2.9's help link, or the flow's Markdown link."""
        entry = by_key(self.entries)[ENTRY_BROWSER_LINK]
        if self.step is None:
            assert entry.help_link is not None
            assert entry.help_link in (entry.label or "")
            return entry.help_link
        found = _MARKDOWN_LINK.search(entry.label or "")
        assert found is not None, entry.label
        return found.group(1)

    @property
    def shown(self) -> str:
        """Return what the form says (its alerts and labels, with the flow's field errors)."""
        errors = "\n".join(self.step.errors.values()) if self.step is not None else ""
        return f"{_shown(self.entries)}\n{errors}"

    @property
    def waits(self) -> bool:
        """Return whether the form still shows a link (and takes an address)."""
        return ENTRY_BROWSER_LINK in by_key(self.entries)

    async def paste(self, address: str) -> None:
        """Paste an address and press the button ("Finish sign-in", or the flow's "Finish")."""
        if self.step is not None:
            key = next(e.key for e in self.step.entries if e.key.startswith(CONF_FINAL_ADDRESS))
            self.step = await submit(self.mass, self.step, {key: address})
            self.entries = list(self.step.entries)
            return
        values = {**form_values(self.entries), **self.typed, CONF_FINAL_ADDRESS: address}
        self.entries = list(
            await form(
                self.mass, values, action=ACTION_BROWSER_FINISH, instance_id=self.instance_id
            )
        )

    async def keep(self) -> str:
        """Keep the session: 2.9's Save, or the flow's finish that already happened."""
        if self.step is not None:
            assert self.step.type == "finish", (self.step.errors, self.shown)
            instance_id: str = self.step.result["instance_id"]
            await settle(self.mass)
            return instance_id
        entries = by_key(self.entries)
        assert entries[CONF_PENDING_SESSION].value, self.shown
        values = {SESSION_ID: DIALOG, **form_values(self.entries)}
        config = await self.mass.config.save_provider_config(DOMAIN, values, self.instance_id)
        await fire_timers(self.mass)  # a reload MA schedules after a change
        await settle(self.mass)
        kept: str = config.instance_id
        return kept


async def in_browser(
    mass: MusicAssistant, *, instance_id: str | None = None, typed: dict[str, Any] | None = None
) -> Waiting:
    """
    Choose the sign-in in the browser: 2.9's button, or the flow's first step.

    :param mass: The stand-in.
    :param instance_id: An instance signed in again (2.9's edit dialog, 2.10's Reconfigure).
    :param typed: What else the user left in 2.9's form.
    """
    if mass.generation == "new":
        if instance_id is None:
            step = await start_flow(mass)
        else:
            step = await mass.config.reconfigure_provider(instance_id)
        step = await submit(mass, step, {**ACCOUNT, CONF_SIGN_IN_METHOD: METHOD_BROWSER})
        assert step.step_id == STEP_BROWSER, (step.errors, texts(step.entries))
        return Waiting(mass, list(step.entries), step, instance_id)
    values = {**ACCOUNT, **(typed or {})}
    entries = await form(mass, values, action=ACTION_BROWSER, instance_id=instance_id)
    return Waiting(mass, list(entries), None, instance_id, typed or {})


async def add_in_browser(mass: MusicAssistant, person: Person, browser: UserBrowser) -> str:
    """Add an instance signed in in the browser; return its id."""
    waiting = await in_browser(mass)
    await waiting.paste(await person.sign_in(browser, waiting.link))
    return await waiting.keep()


def _ours(mass: MusicAssistant, instance_id: str) -> AlexaAuthProvider:
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    return provider


def _way(mass: MusicAssistant) -> str:
    """Return where ``last_error`` says to click for the browser, on this generation."""
    return WAY_BY_RECONFIGURE if mass.generation == "new" else WAY_IN_SETTINGS


# --- a blocked account signs in through the browser ------------------------------------------


async def test_a_passkey_account_signs_in_through_the_browser(  # noqa: PLR0917 - fixtures
    mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
    background_clock: SteppedClock,
) -> None:
    """A working, refreshable session with one device, no password or 2FA key stored."""
    passkey_only(simulator)
    waiting = await in_browser(mass)
    link = waiting.link
    assert URL(link).path == "/ap/signin"
    assert "openid.oa2.code_challenge" in URL(link).query
    _check_the_step(waiting, clock)
    final = await person.sign_in(browser, link)
    assert "passkey" in person.steps
    await waiting.paste(final)
    if mass.generation == "old":
        entries = by_key(waiting.entries)
        assert "Signed in to amazon.com" in waiting.shown
        assert entries[CONF_SIGN_IN_METHOD].value == METHOD_BROWSER
        assert entries[CONF_PASSWORD].value == entries[CONF_TOTP_KEY].value == ""
        assert not waiting.waits
    simulator.reset_counts()

    instance_id = await waiting.keep()

    provider = _ours(mass, instance_id)
    assert provider.manager is not None
    assert provider.manager.signed_in
    assert not provider.signs_in_itself
    assert stored_secret(mass, instance_id, CONF_PASSWORD) is None
    assert stored_secret(mass, instance_id, CONF_TOTP_KEY) is None
    assert stored_text(mass, instance_id, CONF_SIGN_IN_METHOD) == METHOD_BROWSER
    assert mass.config.get(f"providers/{instance_id}/values/{CONF_BROWSER_ATTEMPT}") is None
    assert simulator.device_count(TEST_EMAIL) == 1
    assert simulator.request_count("/auth/register") == 0  # taken over, not signed in again
    if mass.generation == "old":
        await _check_the_edit_page(mass, instance_id)
    # refreshable: the schedule renews the cookies a week later, with no sign-in
    await background_clock.advance(8 * DAY)
    await settle(mass)
    status = provider.manager.status()
    assert status.last_refresh_ok is True
    assert simulator.request_count("/ap/signin", method="POST") == 0
    assert simulator.device_count(TEST_EMAIL) == 1


def _check_the_step(waiting: Waiting, clock: FakeClock) -> None:
    """Check how the link opens, what the step says, and that no secret is demanded."""
    mass, link = waiting.mass, waiting.link
    assert "/ap/maplanding" in waiting.shown
    if mass.generation == "old":
        # MA's own way to open a page from 2.9's form: the auth_session event for this dialog,
        # while the button's answer waits a moment (the frontend's link lives only that long).
        assert (EventType.AUTH_SESSION, DIALOG, link) in mass.events
        assert AdapterContext.of(mass).new_tab_hold in clock.sleeps
        entries = by_key(waiting.entries)
        assert not entries[CONF_PASSWORD].required
        assert not entries[CONF_TOTP_KEY].required
        return
    step = waiting.step
    assert step.last_step is True
    assert step.expires_at is not None  # MA's dialog counts down to the link's expiry
    held = frontend.initial_values(step)
    assert not frontend.can_submit(step, held)
    assert frontend.can_submit(step, {**held, next(k for k in held if "final" in k): "x"})


async def _check_the_edit_page(mass: MusicAssistant, instance_id: str) -> None:
    """2.9's edit page (MA passes the stored values): Save must not wait for the secrets."""
    stored = mass.config.get(f"providers/{instance_id}/values")
    page = by_key(await form(mass, dict(stored), instance_id=instance_id))
    assert not page[CONF_PASSWORD].required
    assert not page[CONF_TOTP_KEY].required


async def test_the_flow_does_not_demand_the_secrets_for_the_browser(
    new_mass: MusicAssistant,
) -> None:
    """Choosing "In my browser" disables the password and the key; MA's button stays enabled."""
    step = await start_flow(new_mass)
    entries = by_key(step.entries)
    method = entries[CONF_SIGN_IN_METHOD]
    assert {o.value for o in method.options} == {"password", METHOD_BROWSER}
    held = {**frontend.initial_values(step), CONF_EMAIL: TEST_EMAIL}
    assert not frontend.can_submit(step, held)  # the password way needs them
    browser_way = {**held, CONF_SIGN_IN_METHOD: METHOD_BROWSER}
    assert frontend.can_submit(step, browser_way)
    for key in (CONF_PASSWORD, CONF_TOTP_KEY):
        assert frontend.dependency_unmet(entries[key], step, browser_way)
    # the e-mail address is needed either way: it names the session and the Alexa players' file
    blank = {CONF_EMAIL: "  ", CONF_MARKETPLACE: "amazon.com", CONF_SIGN_IN_METHOD: "browser"}
    step = await submit(new_mass, step, blank)
    assert step.step_id == "user"
    assert "Enter the e-mail address of your Amazon account" in texts(step.entries)


# --- wrong, stale, foreign and reused addresses ------------------------------------------------


def _other_app(final: str) -> str:
    return str(URL(final, encoded=True).update_query({"openid.assoc_handle": "amzn_other_app"}))


def _other_marketplace(final: str) -> str:
    return str(URL(final, encoded=True).with_host("www.amazon.de"))


#: A wrong address, and words of the error it gets.
class Pasted(NamedTuple):
    """What the person has at hand: Amazon's last address, and the link they opened."""

    final: str
    link: str


#: A wrong address, and words of the error it gets.
WRONG: Final[dict[str, tuple[Callable[[Pasted], str], str]]] = {
    "not amazon": (
        lambda p: p.final.replace("www.amazon.com", "amazon.example.net"),
        "not on Amazon",
    ),
    "the link itself": (lambda p: p.link, "This is the link to open"),
    "another app's": (lambda p: _other_app(p.final), "another app's sign-in"),
    "another marketplace": (
        lambda p: _other_marketplace(p.final),
        "not where the sign-in for amazon.com ends",
    ),
    "cut off": (lambda p: p.final.split("openid.oa2.authorization_code")[0], "cut off"),
    "the page's text": (
        lambda p: f"Looking for something? We're sorry. {p.final.partition('?')[0]}",
        "neither a web address nor a code",
    ),
}


async def test_wrong_addresses_are_refused_and_change_nothing(
    mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """Each wrong paste says what is wrong with the guide link; nothing stored, nothing sent."""
    passkey_only(simulator)
    waiting = await in_browser(mass)
    link = waiting.link
    final = await person.sign_in(browser, link)
    before = stored_files(mass)
    simulator.reset_counts()

    for name, (make, words) in WRONG.items():
        await waiting.paste(make(Pasted(final, link)))
        assert words in waiting.shown, (name, waiting.shown)
        assert ma_guide(BROWSER_GUIDE) in waiting.shown, name
        assert waiting.link == link, name  # the same link: the open tab stays good
        assert URL(final).query["openid.oa2.authorization_code"] not in waiting.shown

    assert simulator.request_count() == 0
    assert stored_files(mass) == before
    assert mass.config.get("providers") == {}
    assert simulator.device_count(TEST_EMAIL) == 0
    await waiting.paste(final)  # and the right one still works
    instance_id = await waiting.keep()
    assert _ours(mass, instance_id).manager is not None
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_stale_link_gets_a_new_one(
    mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
) -> None:
    """An address of a link that expired is refused before Amazon is asked; a new link comes."""
    passkey_only(simulator)
    waiting = await in_browser(mass)
    old_link = waiting.link
    stale = await person.sign_in(browser, old_link)
    clock.advance(BROWSER_SIGN_IN_TTL + 60)
    simulator.reset_counts()

    await waiting.paste(stale)

    assert "The link expired" in waiting.shown
    assert NEW_LINK in waiting.shown
    assert ma_guide(BROWSER_GUIDE) in waiting.shown
    assert waiting.link != old_link
    assert simulator.request_count() == 0
    assert simulator.device_count(TEST_EMAIL) == 0
    assert mass.config.get("providers") == {}
    await waiting.paste(await person.sign_in(browser, waiting.link))
    await waiting.keep()
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_amazon_out_of_reach_at_the_paste_keeps_the_link(
    mass: MusicAssistant, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """A temporary failure is said; the link stays, and the same address works a moment later."""
    passkey_only(simulator)
    waiting = await in_browser(mass)
    link = waiting.link
    final = await person.sign_in(browser, link)
    simulator.scenario.server_error = 1

    await waiting.paste(final)

    assert ma_guide(GuideSlug.AMAZON_UNREACHABLE) in waiting.shown, waiting.shown
    assert waiting.link == link
    assert mass.config.get("providers") == {}
    await waiting.paste(final)
    await waiting.keep()
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_signing_in_again_in_the_browser_keeps_the_device(
    mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    background_clock: SteppedClock,
) -> None:
    """
    2.9's edit dialog and 2.10's Reconfigure offer the browser: one device, no password kept.

    The instance signed in with its password until Amazon started to want the passkey; the
    address of an earlier browser sign-in is refused as used, and changes nothing.
    """
    instance_id = await add(mass)
    typed = {CONF_PASSWORD: TEST_PASSWORD, CONF_TOTP_KEY: TEST_KEY}
    passkey_only(simulator)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    await background_clock.advance(8 * DAY)
    await settle(mass)
    await fire_timers(mass)
    assert _ours(mass, instance_id).health.blocked_by is not None
    folder = AdapterContext.of(mass).instance_folder(instance_id)

    waiting = await in_browser(mass, instance_id=instance_id, typed=typed)
    first = await person.sign_in(browser, waiting.link)
    await waiting.paste(first)
    await waiting.keep()

    provider = _ours(mass, instance_id)
    assert provider.manager is not None
    assert provider.manager.signed_in
    assert provider.health.blocked_by is None
    assert mass.config.last_error_message(instance_id) is None
    assert simulator.device_count(TEST_EMAIL) == 1
    assert stored_secret(mass, instance_id, CONF_PASSWORD) is None
    assert stored_secret(mass, instance_id, CONF_TOTP_KEY) is None
    assert stored_text(mass, instance_id, CONF_SIGN_IN_METHOD) == METHOD_BROWSER

    # the same address again, in a new sign-in: used, refused, nothing changed
    live = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    again = await in_browser(mass, instance_id=instance_id)
    simulator.reset_counts()
    await again.paste(first)
    assert "already used" in again.shown
    assert ma_guide(BROWSER_GUIDE) in again.shown
    assert simulator.request_count() == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == live


# --- the offer where the automatic sign-in is blocked ------------------------------------------

BLOCKS: Final = {
    "passkey only": (Scenario(passkey_forced=True), GuideSlug.PASSKEY),
    "text messages only": (Scenario(sms_only=True), GuideSlug.TWO_FACTOR),
    "robot wall": (Scenario(waf_challenge=True), GuideSlug.HEADLESS),
}


async def test_an_upgraded_instance_keeps_no_secret_after_the_browser(
    new_mass: MusicAssistant, person: Person, browser: UserBrowser
) -> None:
    """
    2.10: an instance carried over from 2.9 has its secrets in ``values`` too; none survives.

    The setup data has the last word (a cleared secret included), and the instance clears the
    old values once it loads as a browser account.
    """
    instance_id = await add(new_mass)
    base = f"providers/{instance_id}"
    carried = {CONF_PASSWORD: TEST_PASSWORD, CONF_TOTP_KEY: TEST_KEY}
    for key, secret in carried.items():
        new_mass.config.set(f"{base}/values/{key}", new_mass.config.encrypt_string(secret))

    waiting = await in_browser(new_mass, instance_id=instance_id)
    await waiting.paste(await person.sign_in(browser, waiting.link))
    await waiting.keep()

    for key in carried:
        assert stored_secret(new_mass, instance_id, key) is None
        assert new_mass.config.get(f"{base}/values/{key}") is None
        assert new_mass.config.get(f"{base}/setup_data/{key}") is None


@pytest.mark.parametrize(("scenario", "slug"), BLOCKS.values(), ids=BLOCKS.keys())
async def test_a_blocked_sign_in_offers_the_browser(
    mass: MusicAssistant, simulator: AmazonSimulator, scenario: Scenario, slug: GuideSlug
) -> None:
    """The refusal says why, and where to click for the sign-in in the browser."""
    block(simulator, scenario)

    where, text = await try_add(mass, FORM)

    assert ma_guide(slug) in text, (where, text)
    way = WAY_IN_FLOW if mass.generation == "new" else WAY_IN_FORM
    assert f"To sign in in your browser (no password needed): {way}." in text, text


async def test_sign_in_now_on_the_options_page_offers_reconfigure(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """2.10+: "Sign in now" meets the passkey; the outcome says to use Reconfigure for it."""
    instance_id = await add(new_mass)
    passkey_only(simulator)

    page = await new_mass.config.invoke_provider_config_action(instance_id, ACTION_SIGN_IN)

    assert f"To sign in in your browser (no password needed): {WAY_BY_RECONFIGURE}." in texts(page)
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_wrong_password_does_not_offer_the_browser(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """A refusal the password fixes says so, without sending the user elsewhere."""
    _, text = await try_add(mass, {**FORM, CONF_PASSWORD: "not my password"})
    assert "To sign in in your browser" not in text
    del simulator


async def test_captchas_that_keep_coming_offer_the_browser_in_the_form(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """2.9: a new picture right after an answer offers "Sign in in my browser"."""
    block(simulator, Scenario(captcha_loop=True))
    first = await form(old_mass, FORM, action=ACTION_SIGN_IN)
    assert WAY_IN_FORM not in _shown(first)  # a first picture is for answering

    answered = {**FORM, CONF_CAPTCHA_ANSWER: simulator.captcha_answer}
    again = await form(old_mass, answered, action=ACTION_SIGN_IN)

    assert "another picture puzzle" in _shown(again)
    assert WAY_IN_FORM in _shown(again)
    assert '"Sign in in my browser"' in (by_key(again)["alexa_captcha"].label or "")


async def test_captchas_that_keep_coming_switch_the_flow_to_the_browser(
    new_mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """2.10+: the second picture has "Sign in in my browser instead", which gets there."""
    from music_assistant_alexa.ma.setup_flow import AFTER_CAPTCHAS  # noqa: PLC0415 - 2.10+ only

    block(simulator, Scenario(captcha_loop=True))
    step = await start_flow(new_mass)
    step = await submit(new_mass, step, FORM)
    assert step.step_id == STEP_CAPTCHA
    assert use_browser_key(1) not in by_key(step.entries)
    step = await submit(new_mass, step, {f"{CONF_CAPTCHA_ANSWER}_1": simulator.captcha_answer})
    assert step.step_id == STEP_CAPTCHA
    switch = use_browser_key(2)
    assert switch in by_key(step.entries)
    held = {**frontend.initial_values(step), switch: True}
    assert frontend.can_submit(step, held)  # no characters needed once ticked

    step = await submit(new_mass, step, {switch: True})

    assert step.step_id == STEP_BROWSER
    waiting = Waiting(new_mass, list(step.entries), step)
    assert AFTER_CAPTCHAS in waiting.shown
    await waiting.paste(await person.sign_in(browser, waiting.link))
    assert "captcha" in person.steps  # one answer in the browser was enough
    instance_id = await waiting.keep()
    assert _ours(new_mass, instance_id).manager is not None
    assert simulator.device_count(TEST_EMAIL) == 1


# --- the instance afterwards --------------------------------------------------------------------


async def test_an_instance_made_in_the_browser_restarts_without_credentials(
    mass: MusicAssistant, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """It restores its session; one it cannot restore needs the user, never an auto sign-in."""
    passkey_only(simulator)
    instance_id = await add_in_browser(mass, person, browser)
    await mass.stop()
    simulator.reset_counts()

    restarted = restart(mass)
    try:
        await restarted.start()
        provider = _ours(restarted, instance_id)
        assert provider.manager is not None
        assert provider.manager.signed_in
        assert simulator.request_count("/ap/signin") == 0
    finally:
        await restarted.stop()

    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.expire_cookies(TEST_EMAIL)
    simulator.reset_counts()
    again = restart(restarted)
    try:
        await again.start()
        await fire_timers(again)  # 2.9 retries the load after two minutes
        assert again.get_provider(instance_id) is None
        message = again.config.last_error_message(instance_id)
        assert message is not None
        assert "no longer accepts this device" in message
        assert _way(again) in message
        assert ma_guide(BROWSER_GUIDE) in message
        assert simulator.request_count("/ap/signin") == 0  # no password to send, none sent
        if again.generation == "new":
            assert again.config.provider_status(instance_id) == "auth_required"
        else:
            # 2.9's edit page, which "Reconfigure" opens: the one button that fixes it
            stored = again.config.get(f"providers/{instance_id}/values")
            page = by_key(await form(again, dict(stored), instance_id=instance_id))
            first = page["alexa_not_running"].label or ""
            assert 'Press "Sign in in my browser" below, then Save.' in first
    finally:
        await again.stop()


async def test_a_refresh_that_fails_for_good_offers_the_browser_again(
    mass: MusicAssistant,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    background_clock: SteppedClock,
) -> None:
    """last_error and the health section say where to click for the browser."""
    instance_id = await add_in_browser(mass, person, browser)
    provider = _ours(mass, instance_id)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.reset_counts()

    await background_clock.advance(8 * DAY)
    await settle(mass)
    await fire_timers(mass)

    message = mass.config.last_error_message(instance_id)
    assert message is not None
    assert _way(mass) in message
    health = texts(await provider.health_entries())
    assert _way(mass) in health
    if mass.generation == "old":
        # 2.9's edit page says it in its own words: the button is right there
        page = texts(await form(mass, {}, instance_id=instance_id))
        assert WAY_IN_FORM in page
    else:
        options = by_key(await mass.config.get_provider_config_entries(instance_id))
        assert options[ACTION_SIGN_IN].hidden  # no password to sign in with: Reconfigure does
    assert simulator.request_count("/ap/signin", method="POST") == 0


async def test_hand_off_diagnostics_and_reset_work_the_same(
    mass: MusicAssistant, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """MA's Alexa players get the session; the report has no secret; Reset removes the device."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass)
    instance_id = await add_in_browser(mass, person, browser)
    alexa = alexa_stand_in.running(mass)
    assert alexa is not None
    assert alexa.signed_in
    provider = _ours(mass, instance_id)

    report = await provider.get_diagnostics()
    assert report["extra"]["sign_in_method"] == METHOD_BROWSER
    assert TEST_EMAIL not in str(report)
    assert TEST_PASSWORD not in str(report)

    if mass.generation == "new":
        await mass.config.invoke_provider_config_action(instance_id, ACTION_RESET)
    else:
        await form(mass, {}, action=ACTION_RESET, instance_id=instance_id)
    assert simulator.device_count(TEST_EMAIL) == 0
    health = texts(await provider.health_entries())
    assert "Not signed in to Amazon" in health
    assert ("Reconfigure" if mass.generation == "new" else '"Sign in in my browser"') in health


# --- 2.9's form across a restart ---------------------------------------------------------------


async def test_the_form_finds_its_link_again_after_a_restart(
    old_mass: MusicAssistant, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """MA restarts between link and paste: the form's next press finishes the same sign-in."""
    passkey_only(simulator)
    waiting = await in_browser(old_mass)
    link = waiting.link
    await old_mass.stop()
    restarted = restart(old_mass)
    try:
        await restarted.start()
        final = await person.sign_in(browser, link)
        waiting.mass = restarted
        await waiting.paste(final)
        assert "Signed in to amazon.com" in waiting.shown, waiting.shown
        instance_id = await waiting.keep()
        provider = _ours(restarted, instance_id)
        assert provider.manager is not None
        assert provider.manager.signed_in
        assert simulator.device_count(TEST_EMAIL) == 1
    finally:
        await restarted.stop()


async def test_pressing_again_shows_the_same_link(
    old_mass: MusicAssistant, clock: FakeClock
) -> None:
    """A tab the user opened stays good: the link is the same until it nearly runs out."""
    first = await in_browser(old_mass)
    values = form_values(first.entries)
    again = await form(old_mass, values, action=ACTION_BROWSER)
    assert Waiting(old_mass, list(again)).link == first.link
    clock.advance(BROWSER_SIGN_IN_TTL - 60)
    later = await form(old_mass, form_values(again), action=ACTION_BROWSER)
    assert Waiting(old_mass, list(later)).link != first.link


async def test_finish_without_an_address_or_a_link_sends_nothing(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """No e-mail address, an empty paste, or none waiting: a plain word, no request, no file."""
    no_email = await form(old_mass, {CONF_MARKETPLACE: "amazon.com"}, action=ACTION_BROWSER)
    assert "Enter the e-mail address of your Amazon account" in _shown(no_email)
    assert ENTRY_BROWSER_LINK not in by_key(no_email)
    pasted = {**ACCOUNT, CONF_FINAL_ADDRESS: "x"}
    nothing = await form(old_mass, pasted, action=ACTION_BROWSER_FINISH)
    assert "No sign-in in your browser is waiting here" in _shown(nothing)
    waiting = await in_browser(old_mass)
    simulator.reset_counts()
    await waiting.paste("   ")
    assert "Paste the address of Amazon's last page first" in waiting.shown
    assert waiting.waits
    assert simulator.request_count() == 0
    assert not list(Path(AdapterContext.of(old_mass).storage_root).rglob("cookies.json"))


# --- the setup flow's own rules --------------------------------------------------------------


async def test_reconfigure_of_a_browser_account_starts_with_the_browser(
    new_mass: MusicAssistant, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """Reconfigure preselects the way the account signs in; the secrets are not demanded."""
    instance_id = await add_in_browser(new_mass, person, browser)

    step = await new_mass.config.reconfigure_provider(instance_id)

    entries = by_key(step.entries)
    assert entries[CONF_SIGN_IN_METHOD].value == METHOD_BROWSER
    assert entries[CONF_EMAIL].value == TEST_EMAIL
    assert frontend.can_submit(step, frontend.initial_values(step))
    del simulator


async def test_a_link_that_runs_out_while_shown_is_replaced(
    new_mass: MusicAssistant, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """The step counts down to the link's expiry; then a new link comes, with a word on it."""
    waiting = await in_browser(new_mass)
    old_link = waiting.link
    session = new_mass.config.sessions[waiting.step.flow_id]
    clock.advance(BROWSER_SIGN_IN_TTL - 0.05)  # 50 ms (real) left on the step's deadline

    await waiting.paste("  ")  # nothing pasted: shown again, with the deadline that is left
    assert "Paste the address of Amazon's last page." in waiting.shown

    # the stand-in's deadline runs on real time (MA's does too)
    await eventually(lambda: old_link not in texts(session.current_step.entries))
    step = session.current_step
    waiting.step, waiting.entries = step, list(step.entries)
    assert step.step_id == STEP_BROWSER
    assert "The link expired" in waiting.shown
    assert waiting.link != old_link
    assert simulator.request_count() == 0


async def test_the_form_follows_a_change_of_mind(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """2.9: another marketplace gets its own link; "Sign in now" after all signs in as before."""
    first = await in_browser(old_mass)
    values = {**form_values(first.entries), CONF_MARKETPLACE: "amazon.de"}
    other = Waiting(old_mass, list(await form(old_mass, values, action=ACTION_BROWSER)))
    assert other.link != first.link
    assert URL(other.link).query["language"] == "de_DE"  # the link made for amazon.de
    simulator.reset_counts()

    typed = {**form_values(first.entries), **FORM}
    entries = by_key(await form(old_mass, typed, action=ACTION_SIGN_IN))

    assert entries[CONF_PENDING_SESSION].value, texts(entries.values())
    assert entries[CONF_SIGN_IN_METHOD].value == "password"
    assert ENTRY_BROWSER_LINK not in entries  # nothing waits in the browser any more
    assert entries[CONF_BROWSER_ATTEMPT].value == ""
    assert simulator.request_count("/ap/signin", method="POST") >= 1
