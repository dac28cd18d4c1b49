"""
Amazon misbehaving mid-flow never costs the session, and never costs more than a few requests.

Invariant: for every fault the simulator can inject (429 and 503 bursts with "Rate exceeded",
plain 503s, connections dropped mid-login and mid-refresh, answers slower than our timeout,
truncated JSON, ``invalid_grant`` on refresh, Amazon's clock 90 s off either way, a full or
read-only disk during a save) the auth core

* raises the one typed error that names the fault (temporary faults are never mistaken for a
  wrong password or a revoked device, and a revoked device is never retried),
* sends a bounded number of requests: no retry storm, the failing request is the last one,
* loses no data: the stored session is byte-for-byte what it was, a restarted manager restores
  it, and once the fault clears the same manager recovers.

Faults are armed at an exact request ("the second POST to /ap/signin") through an aiohttp trace
hook on the client session, so "mid-login" means the same step on every run.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest

from music_assistant_alexa.auth.endpoints import resolver_kwargs
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    AmazonConnectionError,
    AmazonServerError,
    AmazonTimeoutError,
    ErrorCategory,
    RateLimitedError,
    SessionRevokedError,
    StoreError,
    UnexpectedResponseError,
)
from music_assistant_alexa.auth.models import REGISTRATION_KEY
from music_assistant_alexa.auth.registration import (
    DEVICE_TYPE,
    DeviceIdentity,
    Pkce,
    exchange_cookies,
    refresh_access_token,
    register_device,
)
from music_assistant_alexa.auth.session import AuthSessionManager
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, Answer, ScriptedHttp, make_manager

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path
    from types import SimpleNamespace

    from music_assistant_alexa.simulator import AmazonSimulator, Scenario

    from .helpers import FakeClock

#: Requests of a full sign-in (combined page + MFA) and of a refresh, as test_login pins them.
LOGIN_REQUESTS = 5
REFRESH_REQUESTS = 2
#: The timeout of the "slow Amazon" tests, and how slow Amazon is there.
SHORT_TIMEOUT = 0.2
SLOW_SECONDS = 0.5
SIGNIN = "/ap/signin"
TOKEN = "/auth/token"
EXCHANGE = "/ap/exchangetoken/cookies"
REGISTER = "/auth/register"
CSRF = "/api/language"


# --- arming faults at an exact request --------------------------------------------------------


@dataclass(slots=True)
class _Rule:
    method: str
    path: str
    nth: int
    action: Callable[[Scenario], None]
    seen: int = 0


class FaultArm:
    """Flips a simulator switch the moment the client starts a chosen request."""

    def __init__(self, simulator: AmazonSimulator) -> None:
        """
        Watch the client's requests on behalf of one simulator.

        :param simulator: The simulator whose scenario the rules change.
        """
        self._simulator = simulator
        self._rules: list[_Rule] = []
        #: (method, path) of every request the client started, in order.
        self.sent: list[tuple[str, str]] = []

    def on(
        self, method: str, path: str, action: Callable[[Scenario], None], *, nth: int = 1
    ) -> None:
        """
        Run an action on the scenario when the client starts the nth matching request.

        :param method: HTTP method to match.
        :param path: Path to match (without query).
        :param action: Changes the scenario (arms a fault).
        :param nth: Which matching request (1 = the first).
        """
        self._rules.append(_Rule(method, path, nth, action))

    def trace_config(self) -> aiohttp.TraceConfig:
        """Return the trace configuration to put on the client session."""
        config = aiohttp.TraceConfig()
        config.on_request_start.append(self._on_request_start)
        return config

    async def _on_request_start(
        self,
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        method, path = params.method.upper(), params.url.path
        self.sent.append((method, path))
        for rule in self._rules:
            if (rule.method, rule.path) == (method, path):
                rule.seen += 1
                if rule.seen == rule.nth:
                    rule.action(self._simulator.scenario)


def rate_limit(burst: int, status: int) -> Callable[[Scenario], None]:
    """
    Return an action that makes the next requests answer "Rate exceeded".

    :param burst: How many requests in a row.
    :param status: 429 or 503.
    """

    def arm(scenario: Scenario) -> None:
        scenario.rate_limit = burst
        scenario.rate_limit_status = status

    return arm


def drop(count: int, path: str) -> Callable[[Scenario], None]:
    """
    Return an action that drops the connection of the next requests to one path.

    :param count: How many requests (a GET needs two: aiohttp resends it once by itself).
    :param path: The path.
    """

    def arm(scenario: Scenario) -> None:
        scenario.drop_connections = count
        scenario.drop_on_path = path

    return arm


def go_slow(scenario: Scenario) -> None:
    """
    Make every answer from now on slower than the client's timeout.

    :param scenario: The simulator's scenario.
    """
    scenario.slow_seconds = SLOW_SECONDS


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def arm(simulator: AmazonSimulator) -> FaultArm:
    """Return the fault arm of the test's simulator."""
    return FaultArm(simulator)


@pytest.fixture
async def session(
    simulator: AmazonSimulator, arm: FaultArm
) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session routed to the simulator, with the fault arm attached."""
    client = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**resolver_kwargs(simulator.base_url)),
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=[arm.trace_config()],
    )
    yield client
    await client.close()


@pytest.fixture
async def mgr(
    session: aiohttp.ClientSession, simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AuthSessionManager]:
    """Return a signed-out manager on the armed session."""
    manager = make_manager(session, tmp_path / "account", simulator.base_url, clock)
    yield manager
    await manager.close()


@pytest.fixture
async def signed_in(
    mgr: AuthSessionManager, simulator: AmazonSimulator, arm: FaultArm
) -> AuthSessionManager:
    """Return the manager signed in, with the request counters at zero."""
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    simulator.reset_counts()
    arm.sent.clear()
    return mgr


@pytest.fixture
async def impatient(
    session: aiohttp.ClientSession, simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AuthSessionManager]:
    """Return a signed-out manager that waits only SHORT_TIMEOUT for each answer."""
    manager = AuthSessionManager(
        session=session,
        store_dir=tmp_path / "impatient",
        endpoint=simulator.base_url,
        clock=clock,
        pace=0,
        request_timeout=SHORT_TIMEOUT,
    )
    yield manager
    await manager.close()


def session_files(folder: Path) -> dict[str, bytes]:
    """
    Return the stored session (registration and cookies) byte for byte.

    :param folder: The account's folder.
    """
    names = (REGISTRATION_FILE, COOKIES_FILE)
    return {name: (folder / name).read_bytes() for name in names if (folder / name).exists()}


def leftovers(folder: Path) -> list[str]:
    """
    Return temporary files a failed write left behind.

    :param folder: The account's folder.
    """
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


async def assert_restorable(
    session: aiohttp.ClientSession, folder: Path, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """
    Assert that a manager started afresh on the folder restores a working session.

    :param session: The client session.
    :param folder: The account's folder.
    :param simulator: The simulator.
    :param clock: The fake clock.
    """
    restarted = make_manager(session, folder, simulator.base_url, clock)
    try:
        assert await restarted.restore()
        assert restarted.signed_in
        assert await restarted.check()
    finally:
        await restarted.close()


async def assert_refresh_recovers(manager: AuthSessionManager, simulator: AmazonSimulator) -> None:
    """
    Assert that, the fault gone, one refresh of two requests brings the session back.

    :param manager: The manager that saw the fault.
    :param simulator: The simulator.
    """
    simulator.reset_counts()
    await manager.refresh()
    assert simulator.request_count() == REFRESH_REQUESTS
    assert manager.status().last_refresh_ok
    assert await manager.check()
    assert simulator.violations == []


def failing_creates(monkeypatch: pytest.MonkeyPatch, code: int, only: str | None = None) -> None:
    """
    Make creating files fail with an OS error, as on a full or read-only disk.

    :param monkeypatch: The test's monkeypatch.
    :param code: The errno, e.g. ENOSPC or EROFS.
    :param only: Fail only for paths containing this text (e.g. one file's name).
    """
    real_open = os.open

    def fake_open(
        path: str | os.PathLike[str], flags: int, mode: int = 0o777, *, dir_fd: int | None = None
    ) -> int:
        if flags & os.O_CREAT and (only is None or only in os.fspath(path)):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", fake_open)


def failing_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Make fsync fail with ENOSPC: the data is written, the disk fills before it is on it.

    :param monkeypatch: The test's monkeypatch.
    """

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)


# --- rate limits and server errors ------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_burst_mid_login_costs_one_request_per_attempt(
    mgr: AuthSessionManager, simulator: AmazonSimulator, arm: FaultArm, status: int
) -> None:
    """A burst hitting the code submission stops each attempt at its first throttled request."""
    arm.on("POST", SIGNIN, rate_limit(3, status), nth=2)
    with pytest.raises(RateLimitedError) as caught:
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert caught.value.amazon_text == "rate exceeded"
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert simulator.request_count() == 3  # sign-in page, password, code (throttled)
    for _ in range(2):  # the rest of the burst: one request per attempt, no password sent
        simulator.reset_counts()
        with pytest.raises(RateLimitedError):
            await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        assert simulator.request_count() == 1
    assert session_files(mgr.store.folder) == {}
    assert mgr.status().login_not_before is None  # temporary: no back-off ladder
    simulator.reset_counts()
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == LOGIN_REQUESTS
    assert mgr.status().password_attempts_last_hour == 2
    assert simulator.device_count(TEST_EMAIL) == 1
    assert simulator.violations == []


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_burst_on_refresh_keeps_the_session(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    status: int,
) -> None:
    """Every refresh in a burst fails after one request; the stored session stays as it was."""
    before = session_files(signed_in.store.folder)
    simulator.scenario.rate_limit = 3
    simulator.scenario.rate_limit_status = status
    for attempt in range(1, 4):
        with pytest.raises(RateLimitedError):
            await signed_in.refresh()
        assert simulator.request_count() == attempt
    assert signed_in.status().last_refresh_error == "rate_limited"
    assert session_files(signed_in.store.folder) == before
    await assert_restorable(session, signed_in.store.folder, simulator, clock)
    await assert_refresh_recovers(signed_in, simulator)


# --- one fault during a refresh ---------------------------------------------------------------


def server_error(count: int) -> Callable[[Scenario], None]:
    """
    Return an action that makes the next requests answer a plain 503.

    :param count: How many requests in a row.
    """

    def arm(scenario: Scenario) -> None:
        scenario.server_error = count

    return arm


def truncated_json(count: int) -> Callable[[Scenario], None]:
    """
    Return an action that cuts the next JSON answers in half.

    :param count: How many answers.
    """

    def arm(scenario: Scenario) -> None:
        scenario.truncated_json = count

    return arm


@dataclass(frozen=True, slots=True)
class RefreshFault:
    """A fault armed at one request of a refresh, and what the refresh must make of it."""

    method: str
    path: str
    action: Callable[[Scenario], None]
    error: type[AlexaAuthError]
    #: Requests sent until the fault ended the refresh.
    requests: int
    code: str


REFRESH_FAULTS = {
    # Throttled at the first step.
    "rate-limited-exchange": RefreshFault(
        "POST", EXCHANGE, rate_limit(1, 429), RateLimitedError, 1, "rate_limited"
    ),
    # A plain 503 is a server error, never read as throttling or as a revocation.
    "server-error-exchange": RefreshFault(
        "POST", EXCHANGE, server_error(1), AmazonServerError, 1, "server_error"
    ),
    # Half a JSON answer is an unreadable answer, not a revoked device.
    "truncated-exchange": RefreshFault(
        "POST", EXCHANGE, truncated_json(1), UnexpectedResponseError, 1, "unexpected_response"
    ),
    # The new cookies are not stored when their csrf cannot be had: the old ones stay.
    "rate-limited-csrf": RefreshFault(
        "GET", CSRF, rate_limit(1, 503), RateLimitedError, 2, "rate_limited"
    ),
    "server-error-csrf": RefreshFault(
        "GET", CSRF, server_error(1), AmazonServerError, 2, "server_error"
    ),
}


@pytest.mark.parametrize("fault", list(REFRESH_FAULTS.values()), ids=list(REFRESH_FAULTS))
async def test_one_fault_during_a_refresh_keeps_the_session(  # noqa: PLR0917 - fixtures
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    arm: FaultArm,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fault: RefreshFault,
) -> None:
    """The refresh stops at the faulty answer with its temporary error; nothing stored changes."""
    before = session_files(signed_in.store.folder)
    arm.on(fault.method, fault.path, fault.action)
    with pytest.raises(fault.error) as caught:
        await signed_in.refresh()
    assert type(caught.value) is fault.error
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert simulator.request_count() == fault.requests
    assert simulator.request_count(fault.path) == 1
    assert signed_in.status().last_refresh_error == fault.code
    assert session_files(signed_in.store.folder) == before
    await assert_restorable(session, signed_in.store.folder, simulator, clock)
    await assert_refresh_recovers(signed_in, simulator)


# --- dropped connections ----------------------------------------------------------------------


async def test_connection_dropped_at_the_code_submission(
    mgr: AuthSessionManager, simulator: AmazonSimulator, arm: FaultArm
) -> None:
    """A POST Amazon hangs up on is not resent; the sign-in stops there and can start over."""
    arm.on("POST", SIGNIN, drop(1, SIGNIN), nth=2)
    with pytest.raises(AmazonConnectionError) as caught:
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert simulator.request_count() == 3
    assert simulator.request_count(SIGNIN, method="POST") == 2
    assert session_files(mgr.store.folder) == {}
    simulator.reset_counts()
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == LOGIN_REQUESTS
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_one_dropped_get_costs_exactly_one_extra_request(
    mgr: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """A dropped GET is resent once by aiohttp itself: the login succeeds with seven requests."""
    simulator.scenario.drop_connections = 1
    simulator.scenario.drop_on_path = SIGNIN
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert mgr.signed_in
    assert simulator.request_count() == LOGIN_REQUESTS + 1
    assert [r.path for r in simulator.request_log if r.status == 0] == [SIGNIN]


async def test_connection_dropped_after_registration_keeps_the_device_not_a_session(
    mgr: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Dropped twice at the csrf step: the new device is kept, no half session is used."""
    simulator.scenario.drop_connections = 2
    simulator.scenario.drop_on_path = CSRF
    with pytest.raises(AmazonConnectionError):
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 6  # page, password, code, register, csrf twice
    assert simulator.request_count(CSRF) == 2
    folder = mgr.store.folder
    assert set(session_files(folder)) == {REGISTRATION_FILE}  # the device, but no cookies
    assert not mgr.signed_in
    assert leftovers(folder) == []
    simulator.reset_counts()
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == LOGIN_REQUESTS
    assert await mgr.check()
    assert simulator.device_count(TEST_EMAIL) == 1


@pytest.mark.parametrize("retry", ["same-manager", "after-a-restart"])
@pytest.mark.parametrize("fault", ["drop-csrf", "truncated-registration"])
async def test_retry_after_a_failure_past_registration_reuses_the_device(  # noqa: PLR0917
    mgr: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fault: str,
    retry: str,
) -> None:
    """Amazon registered our device but we never heard back: the retry re-registers that one."""
    if fault == "drop-csrf":
        simulator.scenario.drop_connections = 2
        simulator.scenario.drop_on_path = CSRF
    else:
        simulator.scenario.truncated_json = 1
    with pytest.raises(AlexaAuthError):
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    folder = mgr.store.folder
    stored = json.loads((folder / REGISTRATION_FILE).read_text())["formerRegistrationData"]
    restart = retry == "after-a-restart"
    retrying = make_manager(session, folder, simulator.base_url, clock) if restart else mgr
    simulator.reset_counts()
    try:
        await retrying.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        assert simulator.request_count() == LOGIN_REQUESTS
        registration = retrying.registration
        assert registration is not None
        assert registration.device_serial == stored["device_serial"]
        assert simulator.device_count(TEST_EMAIL) == 1
    finally:
        if restart:
            await retrying.close()


@pytest.mark.parametrize(
    ("path", "drops", "requests"),
    [
        pytest.param(EXCHANGE, 1, 1, id="cookie-exchange"),
        pytest.param(CSRF, 2, 3, id="csrf"),
    ],
)
async def test_connection_dropped_mid_refresh_keeps_the_session(  # noqa: PLR0917 - fixtures
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    path: str,
    drops: int,
    requests: int,
) -> None:
    """Amazon hanging up at any step of a refresh: connection error, old session still works."""
    before = session_files(signed_in.store.folder)
    simulator.scenario.drop_connections = drops
    simulator.scenario.drop_on_path = path
    with pytest.raises(AmazonConnectionError):
        await signed_in.refresh()
    assert simulator.request_count() == requests
    assert simulator.request_count(path) == drops
    assert signed_in.status().last_refresh_error == "connection_error"
    assert session_files(signed_in.store.folder) == before
    assert leftovers(signed_in.store.folder) == []
    await assert_restorable(session, signed_in.store.folder, simulator, clock)
    await assert_refresh_recovers(signed_in, simulator)


# --- answers slower than our timeout ----------------------------------------------------------


async def test_slow_sign_in_page_times_out_after_one_request(
    impatient: AuthSessionManager, simulator: AmazonSimulator, arm: FaultArm
) -> None:
    """Amazon answering slower than the timeout ends the login at the first request, in time."""
    simulator.scenario.slow_seconds = SLOW_SECONDS
    started = time.monotonic()
    with pytest.raises(AmazonTimeoutError) as caught:
        await impatient.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert time.monotonic() - started < SLOW_SECONDS  # our timeout ended it, not Amazon
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert arm.sent == [("GET", SIGNIN)]
    assert impatient.status().password_attempts_last_hour == 0
    assert session_files(impatient.store.folder) == {}
    simulator.scenario.slow_seconds = 0
    await impatient.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert impatient.signed_in


async def test_slow_cookie_exchange_mid_refresh_times_out(
    impatient: AuthSessionManager,
    simulator: AmazonSimulator,
    arm: FaultArm,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """A refresh whose cookie exchange hangs times out there; the stored session is untouched."""
    await impatient.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    before = session_files(impatient.store.folder)
    arm.sent.clear()
    arm.on("POST", EXCHANGE, go_slow)
    with pytest.raises(AmazonTimeoutError):
        await impatient.refresh()
    assert arm.sent == [("POST", EXCHANGE)]
    assert impatient.status().last_refresh_error == "timeout"
    assert session_files(impatient.store.folder) == before
    simulator.scenario.slow_seconds = 0
    await assert_restorable(session, impatient.store.folder, simulator, clock)
    await assert_refresh_recovers(impatient, simulator)


# --- truncated JSON ---------------------------------------------------------------------------


async def test_truncated_registration_answer_mid_login(
    mgr: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """A cut-off registration answer stops the login there; only the device's serial is kept."""
    simulator.scenario.truncated_json = 1
    with pytest.raises(UnexpectedResponseError):
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 4  # page, password, code, registration
    assert simulator.request_count(REGISTER) == 1
    folder = mgr.store.folder
    assert set(session_files(folder)) == {REGISTRATION_FILE}
    stored = json.loads((folder / REGISTRATION_FILE).read_text())["formerRegistrationData"]
    assert stored["device_serial"]
    assert not stored.get("refresh_token")  # the device is reserved, not signed in
    restarted = make_manager(session, folder, simulator.base_url, clock)
    simulator.reset_counts()
    assert not await restarted.restore()
    await restarted.close()
    assert simulator.request_count() == 0
    simulator.reset_counts()
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == LOGIN_REQUESTS
    assert await mgr.check()


# --- invalid_grant ----------------------------------------------------------------------------


async def test_invalid_grant_is_never_retried_and_keeps_the_device(
    signed_in: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """invalid_grant: one request, needs the user; the device is kept for the next sign-in."""
    before = session_files(signed_in.store.folder)
    registration = signed_in.registration
    assert registration is not None
    serial = registration.device_serial
    simulator.scenario.invalid_grant = True
    with pytest.raises(SessionRevokedError) as caught:
        await signed_in.refresh()
    assert caught.value.needs_user
    assert caught.value.amazon_text
    assert simulator.request_count() == 1
    clock.advance(3600)  # the access token has run out: ensure_valid must ask, once
    simulator.reset_counts()
    with pytest.raises(SessionRevokedError):
        await signed_in.ensure_valid()
    assert simulator.request_count(TOKEN) == 1
    assert simulator.request_count() == 1
    assert session_files(signed_in.store.folder) == before
    await signed_in.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    new = signed_in.registration
    assert new is not None
    assert new.device_serial == serial
    assert simulator.device_count(TEST_EMAIL) == 1


# --- Amazon's clock off by 90 seconds ---------------------------------------------------------


@pytest.mark.parametrize("skew", [-90.0, 90.0])
async def test_clock_skew_signs_in_with_one_code_and_refreshes(
    mgr: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock, skew: float
) -> None:
    """With Amazon 90 s ahead or behind, the first code is accepted and expiry stays local."""
    simulator.clock_skew = skew
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == LOGIN_REQUESTS
    assert simulator.request_count(SIGNIN, method="POST") == 2  # one code, accepted
    assert mgr.status().clock_offset == pytest.approx(skew, abs=1)
    simulator.reset_counts()
    await mgr.refresh()
    assert simulator.request_count() == REFRESH_REQUESTS
    registration = mgr.registration
    assert registration is not None
    assert registration.access_token_expires_at == pytest.approx(clock.now + 3600, abs=1)
    simulator.reset_counts()
    await mgr.ensure_valid()  # the fresh token is not mistaken for an expired one
    assert simulator.request_count() == 0
    assert simulator.violations == []


# --- a full or read-only disk during a save ---------------------------------------------------


DISK_FAULTS = [
    pytest.param("open", errno.ENOSPC, id="no-space-on-create"),
    pytest.param("fsync", errno.ENOSPC, id="no-space-on-fsync"),
    pytest.param("open", errno.EROFS, id="read-only-filesystem"),
    pytest.param("open", errno.EACCES, id="permission-denied"),
]


def break_disk(monkeypatch: pytest.MonkeyPatch, where: str, code: int) -> None:
    """
    Make every save fail the way a full or read-only disk does.

    :param monkeypatch: The test's monkeypatch.
    :param where: "open" (creating the file fails) or "fsync" (flushing it fails).
    :param code: The errno.
    """
    if where == "fsync":
        failing_fsync(monkeypatch)
    else:
        failing_creates(monkeypatch, code)


@pytest.mark.parametrize(("where", "code"), DISK_FAULTS)
async def test_disk_failure_during_a_refresh_keeps_the_previous_session(  # noqa: PLR0917
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    code: int,
) -> None:
    """The save fails with a store error; the previous files stay intact and restorable."""
    folder = signed_in.store.folder
    before = session_files(folder)
    break_disk(monkeypatch, where, code)
    with pytest.raises(StoreError) as caught:
        await signed_in.refresh()
    assert "previous session is kept" in str(caught.value)
    assert simulator.request_count() == REFRESH_REQUESTS  # no request was repeated
    monkeypatch.undo()
    assert session_files(folder) == before
    assert leftovers(folder) == []
    await assert_restorable(session, folder, simulator, clock)
    await assert_refresh_recovers(signed_in, simulator)
    assert session_files(folder) != before


async def test_disk_full_before_the_password_means_it_is_never_sent(
    mgr: AuthSessionManager, simulator: AmazonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt budget must be saved before the password goes out: no save, no password."""
    failing_fsync(monkeypatch)
    with pytest.raises(StoreError):
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 1  # the sign-in page only
    assert simulator.request_count(SIGNIN, method="POST") == 0
    assert simulator.device_count(TEST_EMAIL) == 0
    monkeypatch.undo()
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert mgr.signed_in


async def test_disk_full_between_the_two_files_of_a_save(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    Registration saved, cookies not: each file is whole and the pair still restores.

    A refresh writes both files only when it moves the session to another marketplace (the
    registration first); a plain refresh writes the cookies alone.
    """
    folder = signed_in.store.folder
    before = session_files(folder)
    moving = make_manager(session, folder, simulator.base_url, clock, marketplace="amazon.de")
    try:
        assert await moving.restore(validate=False)
        failing_creates(monkeypatch, errno.ENOSPC, only=COOKIES_FILE)
        with pytest.raises(StoreError, match=COOKIES_FILE):
            await moving.refresh()
        assert simulator.request_count() == REFRESH_REQUESTS
    finally:
        monkeypatch.undo()
        await moving.close()
    after = session_files(folder)
    assert after[COOKIES_FILE] == before[COOKIES_FILE]
    assert json.loads(after[REGISTRATION_FILE])[REGISTRATION_KEY]["marketplace"] == "amazon.de"
    assert leftovers(folder) == []
    await assert_restorable(session, folder, simulator, clock)


async def test_disk_failure_saving_a_new_sign_in_keeps_the_old_session(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second sign-in that cannot be saved stops there and leaves the first one stored."""
    folder = signed_in.store.folder
    before = session_files(folder)
    failing_creates(monkeypatch, errno.ENOSPC, only=REGISTRATION_FILE)
    with pytest.raises(StoreError):
        await signed_in.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 4  # stopped at the first save after registering
    monkeypatch.undo()
    assert session_files(folder) == before
    assert leftovers(folder) == []
    assert signed_in.signed_in
    assert simulator.device_count(TEST_EMAIL) == 1
    await assert_restorable(session, folder, simulator, clock)


async def test_disk_failure_saving_a_new_sign_in_leaks_no_client(
    simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Music Assistant's shared session (a real cookie jar) a failed save closes its client."""
    shared = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**resolver_kwargs(simulator.base_url))
    )
    manager = make_manager(shared, tmp_path / "account", simulator.base_url, clock)
    try:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        failing_creates(monkeypatch, errno.ENOSPC, only=REGISTRATION_FILE)
        with pytest.raises(StoreError):
            await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        monkeypatch.undo()
        await manager.close()
        gc.collect()
        unclosed = [
            obj
            for obj in gc.get_objects()
            if isinstance(obj, aiohttp.ClientSession)
            and obj is not shared
            and not obj.closed
            and obj.connector is shared.connector
        ]
        for client in unclosed:
            await client.close()
        assert unclosed == []
    finally:
        await manager.close()
        await shared.close()


async def test_disk_failure_saving_a_new_sign_in_keeps_the_session_usable(
    signed_in: AuthSessionManager, simulator: AmazonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering again replaced the tokens at Amazon: once the disk is back, the new ones work."""
    failing_creates(monkeypatch, errno.ENOSPC, only=REGISTRATION_FILE)
    with pytest.raises(StoreError):
        await signed_in.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count() == 4  # stopped at the first save after registering
    monkeypatch.undo()
    await assert_refresh_recovers(signed_in, simulator)


# --- answers of the wrong shape ---------------------------------------------------------------

_BEARER = {"access_token": "Atna|a", "refresh_token": "Atnr|r", "expires_in": "60"}


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"response": {}},
        {"response": {"success": {"tokens": {}}}},
        {"response": {"success": {"tokens": {"bearer": {"access_token": "Atna|a"}}}}},
        {"response": {"success": {"tokens": {"bearer": {**_BEARER, "expires_in": "soon"}}}}},
        {"response": {"success": {"tokens": {"bearer": _BEARER, "website_cookies": [{}]}}}},
        {"response": {"success": {"tokens": {"bearer": _BEARER, "mac_dms": "x"}}}},
        {"response": {"success": {"tokens": {"bearer": {**_BEARER, "access_token": ["a"]}}}}},
        {"response": {"success": {"tokens": {"bearer": {**_BEARER, "refresh_token": {}}}}}},
    ],
    ids=[
        "list",
        "empty",
        "no-success",
        "no-bearer",
        "no-refresh-token",
        "bad-lifetime",
        "nameless-cookie",
        "bad-mac-dms",
        # mashumaro would turn these into the tokens "['a']" and "{}" (or pass them through).
        "list-as-token",
        "object-as-token",
    ],
)
async def test_registration_answer_of_the_wrong_shape_is_unexpected(
    clock: FakeClock, body: object
) -> None:
    """A registration answer missing what we need is temporary trouble, named as such."""
    async with aiohttp.ClientSession() as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await register_device(
                ScriptedHttp(client, [Answer(200, json.dumps(body))]),
                authorization_code="ANeGrdrnBRfxyPFeCHsnRVmI",
                pkce=Pkce.create(),
                device=DeviceIdentity.create(),
                device_name="Music Assistant",
                now=clock.time(),
            )
    assert caught.value.message == "Amazon's registration answer is missing the tokens."
    assert caught.value.category is ErrorCategory.TEMPORARY


async def test_smallest_registration_answer_takes_amazons_defaults(clock: FakeClock) -> None:
    """Only the bearer tokens are required; the rest falls back to what we asked for."""
    body = {"response": {"success": {"tokens": {"bearer": _BEARER}}}}
    device = DeviceIdentity.create()
    async with aiohttp.ClientSession() as client:
        registered = await register_device(
            ScriptedHttp(client, [Answer(200, json.dumps(body))]),
            authorization_code="ANeGrdrnBRfxyPFeCHsnRVmI",
            pkce=Pkce.create(),
            device=device,
            device_name="Music Assistant",
            now=clock.time(),
        )
    registration = registered.registration
    assert registration.refresh_token == "Atnr|r"
    assert registration.access_token_expires_at == clock.time() + 60  # Amazon's string "60"
    assert registration.device_name == "Music Assistant"
    assert registration.device_type == DEVICE_TYPE
    assert (registration.customer_id, registration.customer_name) == ("", "")
    assert (registration.adp_token, registration.home_region) == ("", "")
    assert registered.cookies == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Amazon's token answer has no access token."),
        ({"token_type": "bearer"}, "Amazon's token answer has no access token."),
        (
            {"access_token": "Atna|a", "expires_in": "soon"},
            "Amazon's token answer has no access token.",
        ),
        (
            {"access_token": "Atna|a", "token_type": "mac"},
            "Amazon's token answer has no bearer token.",
        ),
        ({"access_token": ""}, "Amazon's token answer has no bearer token."),
    ],
    ids=["list", "no-token", "bad-lifetime", "not-bearer", "empty-token"],
)
async def test_token_answer_of_the_wrong_shape_is_unexpected(body: object, message: str) -> None:
    """An access-token answer without a usable bearer token is temporary trouble."""
    async with aiohttp.ClientSession() as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await refresh_access_token(ScriptedHttp(client, [Answer(200, json.dumps(body))]), "r")
    assert caught.value.message == message


@pytest.mark.parametrize(
    "body",
    [
        {"response": {"tokens": {"cookies": {".amazon.de": []}}}},
        {"response": {"tokens": {}}},
        {"response": {"tokens": {"cookies": {".amazon.com": [{"Value": "v"}]}}}},
        {"cookies": {".amazon.com": []}},
    ],
    ids=["other-marketplace", "no-cookies", "nameless-cookie", "not-in-response"],
)
async def test_cookie_answer_without_our_marketplace_is_unexpected(body: object) -> None:
    """Cookies for another marketplace, or none, are temporary trouble naming our domain."""
    async with aiohttp.ClientSession() as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await exchange_cookies(ScriptedHttp(client, [Answer(200, json.dumps(body))]), "r")
    assert caught.value.message == "Amazon's cookie answer has no cookies for .amazon.com."


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (400, {"error": "invalid_grant", "error_description": "gone"}, SessionRevokedError, "gone"),
        (
            401,
            {"response": {"error": {"code": "Unauthorized", "message": "Token is invalid."}}},
            UnexpectedResponseError,
            "Token is invalid.",
        ),
        (400, {"error": {"nested": True}}, UnexpectedResponseError, None),
        (500, ["not", "an", "object"], UnexpectedResponseError, None),
    ],
    ids=["invalid-grant", "api-error", "odd-error", "list"],
)
async def test_token_refusal_is_read_from_either_error_shape(
    status: int, body: object, error: type[AlexaAuthError], text: str | None
) -> None:
    """OAuth's error and the API's error both give Amazon's words; only a dead grant revokes."""
    async with aiohttp.ClientSession() as client:
        with pytest.raises(error) as caught:
            await refresh_access_token(
                ScriptedHttp(client, [Answer(status, json.dumps(body))]), "r"
            )
    assert type(caught.value) is error
    assert caught.value.amazon_text == text
