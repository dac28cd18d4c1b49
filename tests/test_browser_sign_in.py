"""
The sign-in in the user's own browser (issue 15), against the simulator, driven as a person would.

Invariants protected here: the link is the automatic sign-in's first page for our one device (the
stored serial, a fresh PKCE challenge, the marketplace); accounts whose automatic sign-in is
blocked (passkey only, text messages only, a captcha loop, a robot wall) get a working,
refreshable session through the browser, with one device at Amazon, also after an earlier
automatic sign-in; a restart between link and paste loses nothing; every wrong, stale, foreign
or reused address gets a clear error and changes nothing stored (and what can be judged locally
sends nothing); the code works once; the errors of the automatic path say that the browser way
exists.
"""

from __future__ import annotations

import base64
import hashlib
import stat
from typing import TYPE_CHECKING, Final

import pytest
from yarl import URL

from music_assistant_alexa.auth.browser_sign_in import (
    BROWSER_SIGN_IN_TTL,
    MAX_PASTE,
    REUSE_MARGIN,
    AddressProblem,
)
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    AmazonConnectionError,
    BotChallengeError,
    BrowserAddressError,
    BrowserAddressUsedError,
    BrowserAttemptMismatchError,
    BrowserCodeRefusedError,
    BrowserSignInExpiredError,
    CaptchaRequiredError,
    ErrorCategory,
    LoginBackoffError,
    NoBrowserSignInError,
    PasskeyRequiredError,
    TwoFactorMethodError,
    browser_sign_in_helps,
)
from music_assistant_alexa.auth.models import Registration
from music_assistant_alexa.auth.registration import CODE_PARAMETER
from music_assistant_alexa.auth.store import BROWSER_SIGN_IN_FILE, STORE_MARKER, SessionStore
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.simulator import (
    PASSKEY_RESPONSE_FIELD,
    AmazonSimulator,
    Scenario,
    SimPasskey,
)

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock, make_manager
from .user_browser import Person, UserBrowser

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager

#: Each account whose automatic sign-in Amazon blocks, and the error that blocks it.
BLOCKED: Final[dict[str, tuple[Scenario, type[AlexaAuthError]]]] = {
    "passkey only": (Scenario(passkey_forced=True), PasskeyRequiredError),
    "text messages only": (Scenario(sms_only=True), TwoFactorMethodError),
    "captcha loop": (Scenario(captcha_loop=True), CaptchaRequiredError),
    "robot wall": (Scenario(waf_challenge=True), BotChallengeError),
}


@pytest.fixture
async def browser(simulator: AmazonSimulator) -> AsyncIterator[UserBrowser]:
    """Return the person's browser."""
    opened = UserBrowser(simulator)
    yield opened
    await opened.close()


@pytest.fixture
def person(simulator: AmazonSimulator, clock: FakeClock) -> Person:
    """Return the test account's owner (authenticator app, no passkey)."""
    return Person(TEST_EMAIL, TEST_PASSWORD, simulator, clock, totp_key=TEST_KEY)


def files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Return every file of a folder with its content and inode (a rewrite changes the inode)."""
    return {
        path.name: (path.read_bytes(), path.stat().st_ino)
        for path in sorted(folder.iterdir())
        if path.name != STORE_MARKER
    }


def challenge_of(verifier: str) -> str:
    """Return the S256 challenge of a PKCE verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def serial_in(link: str) -> str:
    """Return the device serial in a link's client id."""
    client_id = URL(link).query["openid.oa2.client_id"].removeprefix("device:")
    return bytes.fromhex(client_id).decode().split("#")[0]


async def stored_serial(manager: AuthSessionManager) -> str:
    """Return the serial of the device registration on disk."""
    registration = await manager.store.read_registration()
    assert registration is not None
    return registration.device_serial


def set_scenario(simulator: AmazonSimulator, scenario: Scenario) -> None:
    """Give the test account its own misbehaviour."""
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.scenario = scenario


async def sign_in_in_browser(
    manager: AuthSessionManager, person: Person, browser: UserBrowser
) -> None:
    """Run the whole browser sign-in: link, the person at the browser, the paste."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    await manager.finish_browser_sign_in(final, attempt_id=link.attempt_id)


# --- the link ---------------------------------------------------------------------------------


async def test_the_link_is_the_automatic_sign_in_for_our_device(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The automatic sign-in's page for our device, with a private PKCE challenge; no request."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    url = URL(link.url)
    assert (url.host, url.path) == ("www.amazon.com", "/ap/signin")
    query = url.query
    assert query["openid.return_to"] == "https://www.amazon.com/ap/maplanding"
    assert query["openid.oa2.code_challenge_method"] == "S256"
    assert query["openid.assoc_handle"] == "amzn_dp_project_dee_ios"
    assert serial_in(link.url) == await stored_serial(manager)
    record = await manager.store.read_browser_sign_in()
    assert record is not None
    assert query["openid.oa2.code_challenge"] == challenge_of(record.code_verifier)
    assert record.code_verifier not in link.url
    assert link.expires_at - link.created_at == BROWSER_SIGN_IN_TTL
    assert link.marketplace == "amazon.com"
    assert simulator.request_count() == 0
    folder = manager.store.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / BROWSER_SIGN_IN_FILE).stat().st_mode) == 0o600
    assert record.code_verifier not in repr(record) + repr(link)


async def test_a_link_is_shown_again_until_it_is_nearly_used_up(
    manager: AuthSessionManager, clock: FakeClock
) -> None:
    """The same link comes back (an open tab stays good) until it is nearly used up or renewed."""
    first = await manager.start_browser_sign_in(email=TEST_EMAIL)
    again = await manager.start_browser_sign_in()
    assert (again.attempt_id, again.url) == (first.attempt_id, first.url)
    assert await manager.pending_browser_sign_in() == first
    renewed = await manager.start_browser_sign_in(renew=True)
    assert renewed.attempt_id != first.attempt_id
    assert serial_in(renewed.url) == serial_in(first.url)  # still the one device
    clock.advance(BROWSER_SIGN_IN_TTL - REUSE_MARGIN + 1)
    assert await manager.pending_browser_sign_in() == renewed  # still open ...
    late = await manager.start_browser_sign_in()
    assert late.attempt_id != renewed.attempt_id  # ... but too short to show again
    clock.advance(BROWSER_SIGN_IN_TTL)
    assert await manager.pending_browser_sign_in() is None


# --- accounts whose automatic sign-in is blocked ------------------------------------------------


async def automatic_sign_in_is_blocked(
    manager: AuthSessionManager, simulator: AmazonSimulator, expected: type[AlexaAuthError]
) -> None:
    """Check that the automatic sign-in stops, and that its error points at the browser."""
    with pytest.raises(expected) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    err: AlexaAuthError = caught.value
    if isinstance(err, CaptchaRequiredError):
        # The answer is right, and still a new picture comes: the loop.
        with pytest.raises(CaptchaRequiredError) as again:
            await manager.answer_captcha(simulator.captcha_answer)
        err = again.value
        assert "another picture puzzle" in err.message
    assert browser_sign_in_helps(err)
    assert "browser" in err.message
    assert manager.status().signed_in is False


@pytest.mark.parametrize("account", list(BLOCKED))
async def test_a_blocked_account_signs_in_in_the_browser(  # noqa: PLR0917 - fixtures
    account: str,
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
) -> None:
    """Passkey only, texts only, captcha loop, robot wall: the browser gives a lasting session."""
    scenario, expected = BLOCKED[account]
    set_scenario(simulator, scenario)
    if scenario.passkey_forced:
        person.passkey = simulator.add_passkey(TEST_EMAIL)
    await automatic_sign_in_is_blocked(manager, simulator, expected)
    spent = manager.status().password_attempts_last_hour

    await sign_in_in_browser(manager, person, browser)

    status = manager.status()
    assert status.signed_in
    assert status.login_not_before is None  # a pause the obstacle started ends
    assert status.password_attempts_last_hour == spent  # the browser way sends no password
    assert simulator.device_count(TEST_EMAIL) == 1
    assert (await manager.state()).events[-1].detail == "in the browser"
    assert await manager.check()
    clock.advance(8 * 86_400)
    await manager.refresh()
    assert manager.status().last_refresh_ok is True
    assert await manager.check()
    assert simulator.violations == []


async def test_the_browser_way_needs_no_pause_to_end(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """A robot wall pauses the automatic sign-in; the pause says the browser helps, and it does."""
    set_scenario(simulator, Scenario(waf_challenge=True))
    with pytest.raises(BotChallengeError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    with pytest.raises(LoginBackoffError) as paused:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert paused.value.reason == BotChallengeError.code
    assert browser_sign_in_helps(paused.value)
    assert not browser_sign_in_helps(LoginBackoffError("the budget", not_before=0.0))
    await sign_in_in_browser(manager, person, browser)
    assert manager.status().signed_in


async def test_an_earlier_automatic_sign_ins_device_is_the_one_registered(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """After an automatic sign-in, the browser way registers that same device again: one device."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    serial = await stored_serial(manager)
    old = manager.registration
    assert old is not None
    old_token = old.refresh_token
    set_scenario(simulator, Scenario(passkey_forced=True))
    person.passkey = simulator.add_passkey(TEST_EMAIL)
    link = await manager.start_browser_sign_in()
    assert serial_in(link.url) == serial
    await manager.finish_browser_sign_in(await person.sign_in(browser, link.url))
    assert await stored_serial(manager) == serial
    assert simulator.device_count(TEST_EMAIL) == 1
    registration = manager.registration
    assert registration is not None
    assert registration.refresh_token != old_token
    assert registration.email == TEST_EMAIL  # the label stays
    await manager.refresh()


async def test_an_automatic_sign_in_meanwhile_registers_the_same_device(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """The link's device is stored at once: both ways register it, never a second one."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert await stored_serial(manager) == serial_in(link.url)
    await manager.finish_browser_sign_in(await person.sign_in(browser, link.url))
    assert simulator.device_count(TEST_EMAIL) == 1
    assert manager.status().signed_in


async def test_a_restart_between_link_and_paste_loses_nothing(  # noqa: PLR0917 - fixtures
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    person: Person,
    browser: UserBrowser,
) -> None:
    """The link is made by one manager; a new one on the same folder finishes it."""
    folder = tmp_path / "account"
    before = make_manager(http_session, folder, simulator.base_url, clock)
    link = await before.start_browser_sign_in(email=TEST_EMAIL)
    await before.close()
    final = await person.sign_in(browser, link.url)
    after = make_manager(http_session, folder, simulator.base_url, clock)
    try:
        assert await after.pending_browser_sign_in() == link
        await after.finish_browser_sign_in(final, attempt_id=link.attempt_id)
        assert after.status().signed_in
    finally:
        await after.close()
    again = make_manager(http_session, folder, simulator.base_url, clock)
    try:
        assert await again.restore()
        assert again.status().signed_in
    finally:
        await again.close()
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_new_link_after_a_restart_keeps_the_device(
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A restarted host restores (nothing registered yet), then asks for a new link: same device."""
    folder = tmp_path / "account"
    before = make_manager(http_session, folder, simulator.base_url, clock)
    first = await before.start_browser_sign_in(email=TEST_EMAIL)
    await before.close()
    after = make_manager(http_session, folder, simulator.base_url, clock)
    try:
        assert not await after.restore()
        renewed = await after.start_browser_sign_in(email=TEST_EMAIL, renew=True)
        assert renewed.attempt_id != first.attempt_id
        assert serial_in(renewed.url) == serial_in(first.url)
        assert await stored_serial(after) == serial_in(first.url)
    finally:
        await after.close()


async def test_the_code_alone_is_enough(
    manager: AuthSessionManager, simulator: AmazonSimulator, person: Person, browser: UserBrowser
) -> None:
    """Pasting only the code (as some people copy it) finishes the sign-in, in three requests."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    simulator.reset_counts()
    await manager.finish_browser_sign_in(f"  {URL(final).query[CODE_PARAMETER]}\n")
    assert manager.status().signed_in
    # Register, csrf, validation: what follows the code in the automatic sign-in, no more.
    assert simulator.request_count() <= 3
    assert simulator.request_count(host="www.amazon.com") == 0


async def test_a_long_address_broken_over_lines_is_read_whole(
    manager: AuthSessionManager, person: Person, browser: UserBrowser
) -> None:
    """Line breaks a terminal or mail put into the address, and quotes around it, are ignored."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    broken = "\n".join(final[i : i + 60] for i in range(0, len(final), 60))
    await manager.finish_browser_sign_in(f"<{broken}>")
    assert manager.status().signed_in


# --- wrong, stale, foreign and reused addresses --------------------------------------------------


def _without_code(final: str) -> str:
    url = URL(final)
    return str(url.with_query({k: v for k, v in url.query.items() if k != CODE_PARAMETER}))


def _with(final: str, changes: dict[str, str]) -> str:
    url = URL(final)
    return str(url.with_query({**url.query, **changes}))


#: (what is pasted, made from the link and the final address; why it is refused)
WRONG: Final[dict[str, tuple[Callable[[str, str], str], AddressProblem]]] = {
    "nothing": (lambda _link, _final: " \n ", AddressProblem.EMPTY),
    "prose": (lambda _link, _final: "page not found", AddressProblem.MALFORMED),
    "a broken address": (
        lambda _link, _final: "https://www.amazon.com:99999999/ap/maplanding",
        AddressProblem.MALFORMED,
    ),
    "far too long": (lambda _link, final: final + "x" * MAX_PASTE, AddressProblem.TOO_LONG),
    "the link itself": (lambda link, _final: link, AddressProblem.START_LINK),
    "the sign-in page": (
        lambda _link, _final: "https://www.amazon.com/ap/signin",
        AddressProblem.SIGN_IN_PAGE,
    ),
    "an error page": (
        lambda _link, _final: "https://www.amazon.com/ap/cvf/approval?arb=1234",
        AddressProblem.SIGN_IN_PAGE,
    ),
    "the home page link of the last page": (
        lambda _link, _final: "https://www.amazon.com/ref=cs_404_link",
        AddressProblem.NOT_FINAL,
    ),
    "cut off before the code": (lambda _link, final: _without_code(final), AddressProblem.NO_CODE),
    "cancelled at Amazon": (
        lambda _link, final: _with(_without_code(final), {"openid.mode": "cancel"}),
        AddressProblem.CANCELLED,
    ),
    "a damaged code": (
        lambda _link, final: _with(final, {CODE_PARAMETER: "ab'<>cd"}),
        AddressProblem.MALFORMED,
    ),
    "not Amazon": (
        lambda _link, final: str(URL(final).with_host("amazon.com.example.net")),
        AddressProblem.NOT_AMAZON,
    ),
    "plain http": (
        lambda _link, final: str(URL(final).with_scheme("http")),
        AddressProblem.NOT_HTTPS,
    ),
    "another marketplace": (
        lambda _link, final: str(URL(final).with_host("www.amazon.de")),
        AddressProblem.OTHER_MARKETPLACE,
    ),
    "another app's sign-in": (
        lambda _link, final: _with(final, {"openid.assoc_handle": "amzn_audible_ios_us"}),
        AddressProblem.OTHER_APP,
    ),
    "a broken landing page": (
        lambda _link, final: _with(final, {"openid.return_to": "https://[::1/ap/maplanding"}),
        AddressProblem.OTHER_APP,
    ),
    "another landing page": (
        lambda _link, final: _with(final, {"openid.return_to": "https://www.amazon.com/a/landing"}),
        AddressProblem.OTHER_APP,
    ),
}


async def test_wrong_addresses_are_refused_and_change_nothing(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """Each wrong paste says what is wrong, asks and stores nothing; then the right one works."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    before = files_of(manager.store.folder)
    simulator.reset_counts()
    for pasted, (make, problem) in WRONG.items():
        with pytest.raises(BrowserAddressError) as caught:
            await manager.finish_browser_sign_in(make(link.url, final), attempt_id=link.attempt_id)
        err = caught.value
        assert err.problem == problem, pasted
        assert err.category is ErrorCategory.BAD_INPUT
        assert err.guide_slug is GuideSlug.BROWSER_SIGN_IN
        assert URL(final).query[CODE_PARAMETER] not in str(err), pasted
    assert simulator.request_count() == 0
    assert files_of(manager.store.folder) == before
    await manager.finish_browser_sign_in(final, attempt_id=link.attempt_id)
    assert manager.status().signed_in


async def test_an_address_pasted_twice_works_once(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """A second paste of an address is refused before Amazon is asked, also after a new link."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    await manager.finish_browser_sign_in(final)
    before = files_of(manager.store.folder)
    simulator.reset_counts()
    with pytest.raises(BrowserAddressUsedError) as caught:
        await manager.finish_browser_sign_in(final)
    assert caught.value.category is ErrorCategory.BAD_INPUT
    assert simulator.request_count() == 0
    assert files_of(manager.store.folder) == before
    await manager.start_browser_sign_in()
    with pytest.raises(BrowserAddressUsedError):
        await manager.finish_browser_sign_in(final)
    record = await manager.store.read_browser_sign_in()
    assert record is not None
    assert URL(final).query[CODE_PARAMETER] not in repr(record)
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_finished_link_takes_no_other_address(
    manager: AuthSessionManager, person: Person, browser: UserBrowser
) -> None:
    """After the sign-in, a link is done: its secret is wiped, and another code is not taken."""
    await sign_in_in_browser(manager, person, browser)
    record = await manager.store.read_browser_sign_in()
    assert record is not None
    assert (record.code_verifier, record.device_serial, record.finished) == ("", "", True)
    with pytest.raises(NoBrowserSignInError, match="already finished"):
        await manager.finish_browser_sign_in("ANeGrdrnBRfxyPFeCHsnRVmI")


async def test_nothing_waiting(manager: AuthSessionManager, simulator: AmazonSimulator) -> None:
    """A paste without a link made before says so (needs the user), with nothing sent."""
    with pytest.raises(NoBrowserSignInError) as caught:
        await manager.finish_browser_sign_in("ANeGrdrnBRfxyPFeCHsnRVmI")
    assert caught.value.category is ErrorCategory.NEEDS_USER
    assert simulator.request_count() == 0
    assert await manager.pending_browser_sign_in() is None


async def test_an_expired_link_is_refused_and_changes_nothing(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
) -> None:
    """After its time the link takes no address; nothing is sent or stored; a new link works."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    clock.advance(BROWSER_SIGN_IN_TTL - 60)
    final = await person.sign_in(browser, link.url)
    clock.advance(61)
    before = files_of(manager.store.folder)
    simulator.reset_counts()
    with pytest.raises(BrowserSignInExpiredError, match="expired") as caught:
        await manager.finish_browser_sign_in(final, attempt_id=link.attempt_id)
    assert caught.value.category is ErrorCategory.NEEDS_USER
    assert simulator.request_count() == 0
    assert files_of(manager.store.folder) == before
    assert await manager.pending_browser_sign_in() is None
    fresh = await manager.start_browser_sign_in()
    assert fresh.attempt_id != link.attempt_id
    await manager.finish_browser_sign_in(await person.sign_in(browser, fresh.url))
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_code_amazon_no_longer_takes_changes_no_session_file(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
) -> None:
    """A code older than Amazon allows: Amazon's refusal, clearly worded; only the history grows."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    clock.advance(6 * 60)  # the link is still open; Amazon's code lives five minutes
    before = files_of(manager.store.folder)
    with pytest.raises(BrowserCodeRefusedError) as caught:
        await manager.finish_browser_sign_in(final, attempt_id=link.attempt_id)
    err = caught.value
    assert err.category is ErrorCategory.NEEDS_USER
    assert err.amazon_text
    after = files_of(manager.store.folder)
    changed = {name for name in before | after if before.get(name) != after.get(name)}
    assert changed == {"state.json"}
    last = (await manager.state()).events[-1]
    assert (last.ok, last.error_code, last.guide_slug) == (
        False,
        "browser_code_refused",
        "sign-in-in-your-browser",
    )
    assert simulator.device_count(TEST_EMAIL) == 0
    await sign_in_in_browser(manager, person, browser)
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_an_address_of_another_link_is_refused(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    clock: FakeClock,
) -> None:
    """A replaced link, an address older than the link, and Amazon's PKCE check refuse it."""
    first = await manager.start_browser_sign_in(email=TEST_EMAIL)
    first_final = await person.sign_in(browser, first.url)
    second = await manager.start_browser_sign_in(renew=True)
    second_final = await person.sign_in(browser, second.url)
    before = files_of(manager.store.folder)
    simulator.reset_counts()
    # The caller showed the first link, which was replaced since.
    with pytest.raises(BrowserAttemptMismatchError, match="replaced"):
        await manager.finish_browser_sign_in(first_final, attempt_id=first.attempt_id)
    # Made at almost the same moment: only Amazon can tell (the code wants the first verifier).
    with pytest.raises(BrowserCodeRefusedError):
        await manager.finish_browser_sign_in(first_final)
    assert simulator.request_count() == 1
    after = files_of(manager.store.folder)
    assert {name for name in before if before[name] != after.get(name)} == {"state.json"}
    # An address Amazon issued well before the newest link was made: refused here.
    clock.advance(10 * 60)
    third = await manager.start_browser_sign_in(renew=True)
    simulator.reset_counts()
    with pytest.raises(BrowserAttemptMismatchError, match="before the current link was made"):
        await manager.finish_browser_sign_in(second_final, attempt_id=third.attempt_id)
    assert simulator.request_count() == 0
    await manager.finish_browser_sign_in(await person.sign_in(browser, third.url))
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_link_of_another_marketplace_is_not_finished(  # noqa: PLR0917 - fixtures
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    person: Person,
    browser: UserBrowser,
) -> None:
    """The marketplace changed between link and paste: a new link is needed."""
    folder = tmp_path / "account"
    us = make_manager(http_session, folder, simulator.base_url, clock)
    link = await us.start_browser_sign_in(email=TEST_EMAIL)
    await us.close()
    final = await person.sign_in(browser, link.url)
    de = make_manager(http_session, folder, simulator.base_url, clock, marketplace="amazon.de")
    try:
        assert await de.pending_browser_sign_in() is None
        with pytest.raises(BrowserSignInExpiredError, match=r"made for amazon\.com"):
            await de.finish_browser_sign_in(final)
    finally:
        await de.close()


async def test_when_amazon_took_the_code_but_the_rest_failed(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
) -> None:
    """Registered, then the connection drops: temporary; the address is spent; a refresh heals."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    simulator.scenario.drop_connections = 2  # aiohttp sends a GET twice before it gives up
    simulator.scenario.drop_on_path = "/api/language"
    with pytest.raises(AmazonConnectionError) as caught:
        await manager.finish_browser_sign_in(final)
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert manager.status().device_registered
    with pytest.raises(BrowserAddressUsedError):
        await manager.finish_browser_sign_in(final)
    await manager.refresh()
    assert manager.status().signed_in
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_a_link_whose_device_was_replaced_meanwhile_is_not_finished(
    manager: AuthSessionManager, person: Person, browser: UserBrowser, simulator: AmazonSimulator
) -> None:
    """Another process stored another device since the link was made: no second device."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    elsewhere = SessionStore(manager.store.folder)
    await elsewhere.write_registration(
        Registration(device_serial="ANOTHERDEVICE", marketplace="amazon.com", refresh_token="x")
    )
    simulator.reset_counts()
    with pytest.raises(BrowserSignInExpiredError, match="registered another device"):
        await manager.finish_browser_sign_in(final)
    assert simulator.request_count() == 0


async def test_a_reset_removes_a_waiting_link(manager: AuthSessionManager) -> None:
    """The waiting link is part of the session: a reset removes it (and names it)."""
    await manager.start_browser_sign_in(email=TEST_EMAIL)
    result = await manager.reset(deregister=False, keep_state=True)
    assert BROWSER_SIGN_IN_FILE in result.removed
    assert not (manager.store.folder / BROWSER_SIGN_IN_FILE).exists()
    assert await manager.pending_browser_sign_in() is None


# --- the simulator's browser side -----------------------------------------------------------


async def test_a_browser_without_page_scripts_stays_blocked(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """The captcha loop and the robot wall let a browser through because its scripts run."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    for scenario, last_step in (
        (Scenario(captcha_loop=True), "captcha"),
        (Scenario(waf_challenge=True), "password"),
    ):
        set_scenario(simulator, scenario)
        no_scripts = UserBrowser(simulator, runs_scripts=False)
        stuck = Person(TEST_EMAIL, TEST_PASSWORD, simulator, clock, totp_key=TEST_KEY)
        try:
            with pytest.raises(AssertionError, match=r"got stuck|does not know"):
                await stuck.sign_in(no_scripts, link.url)
        finally:
            await no_scripts.close()
        assert stuck.steps[-1] == last_step


async def test_a_passkey_answers_only_its_own_challenge(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Another account's passkey, a forged answer or a used challenge get no code."""
    simulator.add_account("other@example.com", "other password", TEST_KEY)
    set_scenario(simulator, Scenario(passkey_forced=True))
    real = simulator.add_passkey(TEST_EMAIL)
    forged = SimPasskey(TEST_EMAIL, credential_id=real.credential_id)  # not the real secret
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    for passkey in (simulator.add_passkey("other@example.com"), forged):
        browser = UserBrowser(simulator)
        owner = Person(TEST_EMAIL, TEST_PASSWORD, simulator, clock, passkey=passkey)
        try:
            with pytest.raises(AssertionError, match="does not know"):
                await owner.sign_in(browser, link.url)
            assert browser.shown is not None
            assert "could not sign you in with this passkey" in browser.shown.text
        finally:
            await browser.close()
    assert simulator.ledger.codes == {}
    browser = UserBrowser(simulator)
    try:
        shown = await browser.open(link.url)
        sign_in = shown.form(name="signIn")
        assert sign_in is not None
        forced = await browser.submit(sign_in, email=TEST_EMAIL, password=TEST_PASSWORD)
        form = forced.form(name="signInWithPasskeyButton")
        assert form is not None
        answer = real.answer(form.hidden["webAuthnGetParametersForButton"])
        landed = await browser.submit(form, **{PASSKEY_RESPONSE_FIELD: answer})
        assert URL(landed.address).query[CODE_PARAMETER]
        browser.shown = forced  # back, and the same answer once more
        replayed = await browser.submit(form, **{PASSKEY_RESPONSE_FIELD: answer})
        assert "Please start over" in replayed.text
    finally:
        await browser.close()
    assert len(simulator.ledger.codes) == 1


async def test_a_passkey_form_with_no_answer_is_refused(
    manager: AuthSessionManager, simulator: AmazonSimulator, browser: UserBrowser
) -> None:
    """What is not a WebAuthn answer gets Amazon's error page, and no code."""
    set_scenario(simulator, Scenario(passkey_forced=True))
    passkey = simulator.add_passkey(TEST_EMAIL)
    with pytest.raises(ValueError, match="WebAuthn"):
        passkey.answer(base64.b64encode(b'{"rpId": "amazon.com"}').decode())
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    for answer in ("not base64!", base64.b64encode(b'["a list"]').decode(), "e30="):
        shown = await browser.open(link.url)
        sign_in = shown.form(name="signIn")
        assert sign_in is not None
        forced = await browser.submit(sign_in, email=TEST_EMAIL, password=TEST_PASSWORD)
        form = forced.form(name="signInWithPasskeyButton")
        assert form is not None
        refused = await browser.submit(form, **{PASSKEY_RESPONSE_FIELD: answer})
        assert "could not sign you in with this passkey" in refused.text
    assert simulator.ledger.codes == {}


async def test_the_landing_address_carries_amazons_time(
    manager: AuthSessionManager, person: Person, browser: UserBrowser
) -> None:
    """OpenID's response nonce starts with the time Amazon issued the code (UTC)."""
    link = await manager.start_browser_sign_in(email=TEST_EMAIL)
    final = await person.sign_in(browser, link.url)
    nonce = URL(final).query["openid.response_nonce"]
    assert nonce.startswith("2026-11-01T12:00:00Z")
    assert len(nonce) > len("2026-11-01T12:00:00Z")


def test_address_errors_name_no_secret_and_bounds_hold() -> None:
    """The address reader is pure: it judges text alone and never echoes a code."""
    from music_assistant_alexa.auth.browser_sign_in import read_address  # noqa: PLC0415
    from music_assistant_alexa.auth.endpoints import AmazonHosts  # noqa: PLC0415

    hosts = AmazonHosts.for_marketplace("amazon.de")
    code = "ANeGrdrnBRfxyPFeCHsnRVmI"
    landing = f"https://www.amazon.com/ap/maplanding?{CODE_PARAMETER}={code}"
    assert read_address(landing, hosts).code == code
    assert read_address(landing.replace("www.amazon.com", "www.amazon.de"), hosts).code == code
    assert read_address(landing.removeprefix("https://"), hosts).code == code
    nonce = f"{landing}&openid.response_nonce=2026-11-01T12:00:00Zxyz"
    assert read_address(nonce, hosts).issued_at == 1_793_534_400.0
    odd = f"{landing}&openid.response_nonce=9999-99-99T00:00:00Zxyz"
    assert read_address(odd, hosts).issued_at is None
    with pytest.raises(BrowserAddressError) as caught:
        read_address(landing.replace("www.amazon.com", "www.amazon.co.uk"), hosts)
    assert code not in str(caught.value)
    assert caught.value.problem == AddressProblem.OTHER_MARKETPLACE
