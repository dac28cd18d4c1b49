"""
Two hundred households on one event loop: every one signs in and refreshes, none sees another.

Invariant: many accounts signing in and refreshing at the same moment over Music Assistant's one
shared ``aiohttp`` session (a real cookie jar, one connection pool) all succeed with the usual
number of requests, each account's folder holds only its own session, and no cookie, token or
csrf value of one account is ever sent for, or stored by, another. The shared session's own
cookie jar stays empty: Amazon cookies never leak into it.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Final

import aiohttp
import pyotp
import pytest

from music_assistant_alexa.auth.endpoints import resolver_kwargs
from music_assistant_alexa.auth.private_files import FILE_MODE
from music_assistant_alexa.auth.store import (
    COOKIES_FILE,
    REGISTRATION_FILE,
    STORE_MARKER,
)
from music_assistant_alexa.simulator.accounts import unquote_cookie

from .helpers import make_manager

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

    from .helpers import FakeClock

ACCOUNTS: Final = 200
#: Seconds one request may take in the load test (only a guard against a hang).
LOAD_REQUEST_TIMEOUT: Final = 60.0
#: Per account: a sign-in (5), two concurrent refreshes sharing one (2), a validity check (1).
REQUESTS_PER_ACCOUNT: Final = 5 + 2 + 1


@pytest.fixture
async def shared_session(simulator: AmazonSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    """Return one session for everybody, with a real cookie jar, as Music Assistant has."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**resolver_kwargs(simulator.base_url))
    )
    yield session
    await session.close()


def email_of(index: int) -> str:
    """
    Return the e-mail address of one load-test account.

    :param index: The account's number.
    """
    return f"household-{index:03d}@example.com"


async def sign_in_and_refresh(manager: AuthSessionManager, index: int, key: str) -> None:
    """
    Sign one account in, refresh it twice at once, and check it.

    :param manager: The account's manager.
    :param index: The account's number.
    :param key: The account's 2FA key.
    """
    await manager.login(email_of(index), f"password-{index}", key)
    await asyncio.gather(manager.refresh(), manager.refresh())
    assert await manager.check()


async def test_many_accounts_sign_in_and_refresh_at_once(
    simulator: AmazonSimulator,
    shared_session: aiohttp.ClientSession,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """200 concurrent households: all succeed, each folder is its own, no cross-talk."""
    keys = [pyotp.random_base32(length=52) for _ in range(ACCOUNTS)]
    for index, key in enumerate(keys):
        simulator.add_account(email_of(index), f"password-{index}", key)
    # 200 sign-ins share one event loop with the simulator: on a busy machine one request can
    # wait longer than the usual 5 s guard without anything being wrong.
    managers = [
        make_manager(
            shared_session,
            tmp_path / f"account-{i:03d}",
            simulator.base_url,
            clock,
            request_timeout=LOAD_REQUEST_TIMEOUT,
        )
        for i in range(ACCOUNTS)
    ]
    try:
        results = await asyncio.gather(
            *(sign_in_and_refresh(m, i, keys[i]) for i, m in enumerate(managers)),
            return_exceptions=True,
        )
        failures = {i: repr(r) for i, r in enumerate(results) if r is not None}
        assert failures == {}
        assert simulator.request_count() == ACCOUNTS * REQUESTS_PER_ACCOUNT
        assert simulator.violations == []  # includes "cookies of two accounts in one request"
        assert overlapping_sign_ins(simulator) >= ACCOUNTS // 2
        assert len(shared_session.cookie_jar) == 0
        seen_tokens: set[str] = set()
        for index, manager in enumerate(managers):
            assert_own_session(manager, email_of(index), simulator, seen_tokens)
    finally:
        await asyncio.gather(*(m.close() for m in managers))


def overlapping_sign_ins(simulator: AmazonSimulator) -> int:
    """
    Return how many sign-ins had started before the first one registered its device.

    Run one after another this is 1; at once (the point of this test) nearly all of them.

    :param simulator: The simulator, whose request log is in order of completion.
    """
    log = simulator.request_log
    first = next(i for i, record in enumerate(log) if record.path == "/auth/register")
    return sum(1 for record in log[:first] if (record.method, record.path) == ("GET", "/ap/signin"))


def assert_own_session(
    manager: AuthSessionManager, email: str, simulator: AmazonSimulator, seen: set[str]
) -> None:
    """
    Assert that an account's folder and memory hold its own session and nobody else's.

    :param manager: The account's manager.
    :param email: The account's e-mail address.
    :param simulator: The simulator, whose ledger says who owns each token and cookie.
    :param seen: Tokens of the accounts checked so far (none may repeat).
    """
    ledger = simulator.ledger
    assert simulator.device_count(email) == 1
    folder = manager.store.folder
    assert {p.name for p in folder.iterdir()} == {
        REGISTRATION_FILE,
        COOKIES_FILE,
        "state.json",
        STORE_MARKER,
    }
    assert all(p.stat().st_mode & 0o777 == FILE_MODE for p in folder.iterdir())
    stored = json.loads((folder / REGISTRATION_FILE).read_text())["formerRegistrationData"]
    refresh_grant = ledger.refresh[stored["refresh_token"]]
    assert refresh_grant.email == email
    assert not refresh_grant.revoked
    assert ledger.access[stored["access_token"]].email == email
    cookies = json.loads((folder / COOKIES_FILE).read_text())
    at_cookie = next(c["value"] for c in cookies["cookies"] if c["name"] == "at-main")
    assert ledger.cookie_sets[unquote_cookie(at_cookie)].email == email
    assert ledger.csrf[cookies["csrf"]].email == email
    # session-id-time is a timestamp every account shares; every other value names its owner.
    owners = {
        (name, unquote_cookie(value)): cookie_set.email
        for cookie_set in ledger.cookie_sets.values()
        for name, value in cookie_set.values.items()
        if name != "session-id-time"
    }
    held = [(c["name"], c["value"]) for c in cookies["cookies"]]
    held += [(c.name, c.value) for c in manager.http.cookies_for("amazon.com")]
    for name, value in held:
        owner = owners.get((name, unquote_cookie(value)))
        assert owner in (None, email), f"{email} holds the {name} cookie of {owner}"
    registration = manager.registration
    assert registration is not None
    assert registration.refresh_token == stored["refresh_token"]
    for token in (
        stored["refresh_token"],
        stored["access_token"],
        at_cookie,
        stored["device_serial"],
    ):
        assert token not in seen
        seen.add(token)
