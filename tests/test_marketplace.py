"""
The account's own marketplace: found at sign-in within five requests, kept, and moved to.

Invariants protected here: the rule (:func:`judge`) believes the marketplace Amazon names over
a region and raises no alarm without evidence (amazon.co.uk and amazon.de share a region,
amazon.in is believed in two, a site we do not sign in to is no evidence); a sign-in asks
``/api/users/me`` only when the registration's home region cannot be the marketplace's, and
then still takes five requests; a refresh re-judges from what the sign-in learnt without
another request; a session moves to another marketplace in two requests with the same device;
and the requests the sign-in and the refresh no longer send proved nothing the others do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import music_assistant_alexa.simulator.accounts as sim_accounts
from music_assistant_alexa.auth.account_marketplace import MarketplaceMismatch, judge, needs_lookup
from music_assistant_alexa.auth.endpoints import MARKETPLACES
from music_assistant_alexa.auth.errors import SessionExpiredError
from music_assistant_alexa.auth.store import COOKIES_FILE
from music_assistant_alexa.diagnostics import CheckKey, CheckStatus, run_checks
from music_assistant_alexa.guide import GuideSlug

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, make_manager

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

    from .helpers import FakeClock

DE_EMAIL = "familie@example.de"
UK_EMAIL = "household@example.co.uk"
USERS_ME = "/api/users/me"
CSRF = "/api/language"
DEVICES = "/api/devices-v2/device"


@pytest.fixture
def accounts(simulator: AmazonSimulator) -> AmazonSimulator:
    """Add an amazon.de and an amazon.co.uk account to the simulator."""
    simulator.add_account(DE_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de", name="Jo")
    simulator.add_account(UK_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.co.uk")
    return simulator


async def echo_count(manager: AuthSessionManager) -> int:
    """Return how many Echo devices the Alexa host of the manager's marketplace lists."""
    hosts = manager.hosts
    resp = await manager.http.request("GET", hosts.url(hosts.alexa, DEVICES))
    devices: list[dict[str, Any]] = resp.json()["devices"]
    return sum(device["deviceFamily"] == "ECHO" for device in devices)


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "home_region", "reported", "expected"),
    [
        # Global sign-in: an amazon.de account through amazon.com, named by /api/users/me.
        ("amazon.com", "EU", "amazon.de", MarketplaceMismatch("amazon.com", "amazon.de")),
        # The marketplace Amazon names wins over a region that fits.
        ("amazon.de", "EU", "amazon.co.uk", MarketplaceMismatch("amazon.de", "amazon.co.uk")),
        ("amazon.de", "EU", "amazon.de", None),
        # A region alone: an alarm only when it cannot be the marketplace's.
        ("amazon.com", "EU", "", MarketplaceMismatch("amazon.com", home_region="EU")),
        ("amazon.co.uk", "EU", "", None),  # amazon.co.uk and amazon.de are both EU
        ("amazon.co.jp", "FE", "", None),
        ("amazon.com.au", "NA", "", MarketplaceMismatch("amazon.com.au", home_region="NA")),
        ("amazon.in", "EU", "", None),  # India is believed in Europe and the Far East
        ("amazon.in", "FE", "", None),
        ("amazon.in", "NA", "", MarketplaceMismatch("amazon.in", home_region="NA")),
        # No evidence, no alarm: nothing known, a region we do not know, a site we do not
        # sign in to (then the region decides).
        ("amazon.com", "", "", None),
        ("amazon.com", "CN", "", None),
        ("amazon.de", "EU", "amazon.nl", None),
        ("amazon.com", "EU", "amazon.nl", MarketplaceMismatch("amazon.com", home_region="EU")),
    ],
)
def test_judge(
    configured: str, home_region: str, reported: str, expected: MarketplaceMismatch | None
) -> None:
    """The most specific evidence Amazon gave decides, and no evidence raises no alarm."""
    assert judge(configured, home_region, reported) == expected


def test_lookup_only_when_the_region_cannot_be_the_marketplaces() -> None:
    """The sign-in spends its one lookup only where the answer can change the verdict."""
    wanted = {
        domain
        for domain, market in MARKETPLACES.items()
        for region in ("NA", "EU", "FE")
        if needs_lookup(market, region) and judge(domain, region, "") is not None
    }
    assert wanted == set(MARKETPLACES)  # every marketplace has a region that is not its own
    assert not needs_lookup(MARKETPLACES["amazon.co.uk"], "EU")
    assert not needs_lookup(MARKETPLACES["amazon.com"], "")


def test_messages_name_the_marketplace_or_the_region() -> None:
    """The statement names what Amazon said; the settings' fix names the marketplace to pick."""
    named = MarketplaceMismatch("amazon.com", "amazon.de")
    assert named.statement.startswith("Amazon says this account belongs to amazon.de, not ")
    assert "Choose amazon.de as the marketplace in the settings" in named.settings_fix
    region = MarketplaceMismatch("amazon.com", home_region="EU")
    assert "European marketplaces (amazon.co.uk, amazon.de, amazon.fr, amazon.it, amazon.es, " in (
        region.statement
    )


# --- at sign-in -------------------------------------------------------------------------------


async def test_an_account_of_another_region_is_named_at_sign_in_in_five_requests(
    manager: AuthSessionManager, accounts: AmazonSimulator
) -> None:
    """
    An amazon.de account signing in through amazon.com: named, in five requests.

    The home region (EU) cannot be amazon.com's, so the fifth request is /api/users/me, which
    names amazon.de and proves the cookies as the csrf request would; the csrf of a session
    that is to be moved is not fetched.
    """
    await manager.login(DE_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    assert accounts.request_count() == 5
    assert accounts.request_count(USERS_ME, host="alexa.amazon.com") == 1
    assert accounts.request_count(CSRF) == 0
    status = manager.status()
    assert status.marketplace == "amazon.com"
    assert status.home_region == "EU"
    assert status.account_marketplace == "amazon.de"
    assert status.marketplace_mismatch == MarketplaceMismatch("amazon.com", "amazon.de")
    events = (await manager.state()).events
    assert events[-1].kind == "sign_in"
    assert events[-1].detail == "Amazon says the account belongs to amazon.de, not amazon.com"
    # What Amazon says about the wrong site: the Echo devices are not there.
    assert await echo_count(manager) == 0
    assert accounts.violations == []


async def test_a_lookup_amazon_cannot_answer_does_not_fail_the_sign_in(
    manager: AuthSessionManager, accounts: AmazonSimulator
) -> None:
    """
    /api/users/me dropped: the sign-in goes on with its csrf, and the region still tells.

    The lookup only names the marketplace; losing it must not cost a sign-in (and a password
    attempt). The home region's verdict stands, without a name.
    """
    accounts.scenario.drop_on_path = USERS_ME
    accounts.scenario.drop_connections = 5  # aiohttp retries a GET once: drop every try
    await manager.login(DE_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    assert accounts.request_count(CSRF) == 1
    status = manager.status()
    assert status.account_marketplace is None
    assert status.marketplace_mismatch == MarketplaceMismatch("amazon.com", home_region="EU")
    assert manager.cookies is not None
    assert manager.cookies.csrf


async def test_an_account_of_the_marketplaces_region_costs_no_lookup(
    accounts: AmazonSimulator, http_session: aiohttp.ClientSession, tmp_path: Path, clock: FakeClock
) -> None:
    """
    An amazon.co.uk account on amazon.de: both EU, so the sign-in asks nothing more.

    `doctor` (with validation) asks Amazon and names amazon.co.uk, in one request.
    """
    manager = make_manager(
        http_session, tmp_path / "uk", accounts.base_url, clock, marketplace="amazon.de"
    )
    try:
        await manager.login(UK_EMAIL, TEST_PASSWORD, TEST_KEY)
        assert accounts.request_count() == 5
        assert accounts.request_count(USERS_ME) == 0
        assert manager.status().marketplace_mismatch is None
        checks = await run_checks(manager)
        marketplace = next(c for c in checks if c.key == CheckKey.MARKETPLACE)
        assert marketplace.status is CheckStatus.OK

        accounts.reset_counts()
        checks = await run_checks(manager, validate=True)
        marketplace = next(c for c in checks if c.key == CheckKey.MARKETPLACE)
        assert marketplace.status is CheckStatus.WARNING
        assert marketplace.guide_slug is GuideSlug.CREDENTIALS
        assert "belongs to amazon.co.uk, not amazon.de" in marketplace.message
        assert accounts.request_count(USERS_ME) == 1
        # Remembered: the offline checks (Music Assistant's settings page) say it from now on.
        again = make_manager(
            http_session, tmp_path / "uk", accounts.base_url, clock, marketplace="amazon.de"
        )
        try:
            assert await again.restore(validate=False)
            assert again.status().account_marketplace == "amazon.co.uk"
        finally:
            await again.close()
    finally:
        await manager.close()


async def test_the_marketplaces_own_account_asks_nothing_more(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """An amazon.com account on amazon.com: five requests, the csrf last, nothing to report."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert [r.path for r in simulator.request_log][-2:] == ["/auth/register", CSRF]
    assert simulator.request_count(USERS_ME) == 0
    assert manager.status().home_region == "NA"
    assert manager.status().marketplace_mismatch is None
    assert await echo_count(manager) == 2


# --- after a refresh, and the move ------------------------------------------------------------


async def test_a_refresh_judges_again_without_asking(
    manager: AuthSessionManager, accounts: AmazonSimulator
) -> None:
    """
    A session stored before Amazon was asked (an older version): the refresh finds it.

    Two requests, as every refresh: the stored home region is the evidence.
    """
    await manager.login(DE_EMAIL, TEST_PASSWORD, TEST_KEY)
    registration = manager.registration
    assert registration is not None
    registration.account_marketplace = ""  # as an older version stored it
    await manager.store.write_registration(registration)
    accounts.reset_counts()
    await manager.refresh()
    assert accounts.request_count() == 2
    mismatch = manager.status().marketplace_mismatch
    assert mismatch == MarketplaceMismatch("amazon.com", home_region="EU")
    events = (await manager.state()).events
    assert events[-1].kind == "refresh"
    assert events[-1].detail == "Amazon says the account belongs to the EU region, not amazon.com"


async def test_moving_the_session_takes_two_requests_and_keeps_the_device(
    manager: AuthSessionManager,
    accounts: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """A refresh on the account's marketplace moves the session: same device, its Echos back."""
    await manager.login(DE_EMAIL, TEST_PASSWORD, TEST_KEY)
    folder = manager.store.folder
    await manager.close()
    accounts.reset_counts()
    moved = make_manager(http_session, folder, accounts.base_url, clock, marketplace="amazon.de")
    try:
        assert await moved.restore(validate=False)
        assert not moved.signed_in  # amazon.com's cookies are never used on amazon.de
        await moved.refresh()
        assert accounts.request_count() == 2
        assert accounts.request_count("/ap/exchangetoken/cookies", host="www.amazon.de") == 1
        assert accounts.request_count(CSRF, host="alexa.amazon.de") == 1
        status = moved.status()
        assert status.signed_in
        assert status.marketplace == "amazon.de"
        assert status.marketplace_mismatch is None
        assert moved.registration is not None
        assert moved.registration.marketplace == "amazon.de"
        assert accounts.device_count(DE_EMAIL) == 1
        assert await echo_count(moved) == 2
        assert await moved.check()
    finally:
        await moved.close()


# --- what the removed requests proved ---------------------------------------------------------


@pytest.mark.parametrize("redirect", [False, True], ids=["401", "sign-in-redirect"])
async def test_the_csrf_request_proves_the_new_session(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    monkeypatch: pytest.MonkeyPatch,
    *,
    redirect: bool,
) -> None:
    """
    Cookies the Alexa host refuses end the sign-in at the csrf request: nothing is adopted.

    This is what the session check after the csrf used to prove.
    """
    monkeypatch.setattr(sim_accounts, "COOKIE_LIFETIME", 0)  # refused from the start
    simulator.scenario.alexa_unauth_redirect = redirect
    with pytest.raises(SessionExpiredError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 5
    assert not manager.signed_in
    assert not (manager.store.folder / COOKIES_FILE).exists()


async def test_a_reset_mints_the_access_token_it_needs(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Refreshes no longer renew the access token; the deregistration mints one when stale."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    clock.advance(7 * 86400)
    await manager.refresh()
    assert simulator.request_count("/auth/token") == 0
    simulator.reset_counts()
    result = await manager.reset(deregister=True, keep_state=True)
    assert result.deregistered
    assert result.had_device
    assert simulator.request_count("/auth/token") == 1
    assert simulator.device_count(TEST_EMAIL) == 0
