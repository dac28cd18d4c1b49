"""
The cookie-refresh schedule keeps a session alive for months without hammering Amazon.

Invariants protected here: the refresh happens at the interval after the stored cookie
timestamp (7 days by default), never sooner than a day and never later than 13 days after the
last sign-in or refresh; a restart neither skips nor repeats a refresh; temporary failures back
off 1, 5, 15, 60 minutes and then hourly, and a later success is reported once; an error only
the user can fix stops the task and is reported exactly once; concurrent callers share one
refresh. Every wait runs on a fake clock, so weeks pass in milliseconds.

Issue 12: nothing but ``stop()`` ends the task. A watchdog test throws arbitrary exceptions
(RecursionError, OverflowError, MemoryError, a stray cancellation...) out of every part of its
body: each is recorded as a failure event, retried with the usual back-off, and the task keeps
running. Cookies dated in the future (a clock that was wrong) are scheduled from now, within
their 14-day life, and reported as clock trouble.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    AmazonServerError,
    InternalError,
    NotSignedInError,
    SessionRevokedError,
)
from music_assistant_alexa.auth.refresh import (
    DAY,
    MAX_GAP,
    MIN_GAP,
    RefreshScheduler,
    refresh_due_at,
    retry_delay,
    validate_interval,
)

from .helpers import START_TIME, TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock, make_manager

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from typing import Any

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

#: The first request of every refresh (the cookie exchange): counting it counts refreshes.
REFRESH_PATH = "/ap/exchangetoken/cookies"
#: The access-token request: only what needs a token sends it (ensure_valid, access_token).
TOKEN_PATH = "/auth/token"
#: How long a test waits (really) for the scheduler to park; generous for slow CI machines.
PARK_TIMEOUT = 10.0


class HorizonClock(FakeClock):
    """
    A fake clock that lets time run only up to a horizon.

    A sleep that would cross the horizon parks until the test moves the horizon on, so a test
    can let the scheduler run "until day 10" and then look at what happened.
    """

    def __init__(self, start: float = START_TIME) -> None:
        """
        Create the clock with no horizon.

        :param start: Epoch seconds to start at.
        """
        super().__init__(start)
        self.horizon = float("inf")
        self.parked = asyncio.Event()
        self._moved = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        """
        Advance the time, or park while the sleep would cross the horizon.

        :param seconds: How far to advance.
        """
        while self.now + seconds > self.horizon:
            self.parked.set()
            self._moved.clear()
            await self._moved.wait()
        await super().sleep(seconds)

    async def run_until_done(self, task: asyncio.Task[None], horizon: float) -> None:
        """
        Move the horizon and wait until the task ends (or, failing the test, parks).

        :param task: The scheduler's task.
        :param horizon: Epoch seconds time may run up to.
        """
        self.horizon = horizon
        self.parked.clear()
        self._moved.set()
        parked = asyncio.ensure_future(self.parked.wait())
        try:
            await asyncio.wait(
                [task, parked], timeout=PARK_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            parked.cancel()
        assert task.done(), "the scheduler kept running"

    async def run_until(self, horizon: float) -> None:
        """
        Move the horizon and wait until the sleeper parks before it.

        :param horizon: Epoch seconds time may run up to.
        """
        self.horizon = horizon
        self.parked.clear()
        self._moved.set()
        await asyncio.wait_for(self.parked.wait(), PARK_TIMEOUT)


@pytest.fixture
def clock() -> HorizonClock:
    """Return the horizon clock, shared by the simulator and the client."""
    return HorizonClock()


@pytest.fixture
async def signed_in(manager: AuthSessionManager, simulator: AmazonSimulator) -> AuthSessionManager:
    """Return the manager signed in to the test account, with the request log cleared."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    simulator.reset_counts()
    return manager


@pytest.fixture
async def schedulers() -> AsyncIterator[list[RefreshScheduler]]:
    """Collect schedulers and stop them after the test, so no task outlives it."""
    created: list[RefreshScheduler] = []
    yield created
    for scheduler in created:
        await scheduler.stop()


def last_error(scheduler: RefreshScheduler) -> AlexaAuthError | None:
    """Return the scheduler's last error (a call, so type narrowing does not outlive an await)."""
    return scheduler.last_error


def is_running(scheduler: RefreshScheduler) -> bool:
    """Return whether the scheduler's task is alive (a call, for the same reason)."""
    return scheduler.running


def clock_trouble(scheduler: RefreshScheduler) -> float | None:
    """Return the scheduler's clock trouble (a call, for the same reason)."""
    return scheduler.clock_trouble


def refresh_times(simulator: AmazonSimulator) -> list[float]:
    """Return the simulator times at which a refresh began (its cookie exchange)."""
    return [r.time for r in simulator.request_log if r.path == REFRESH_PATH]


# --- the schedule -------------------------------------------------------------------------------


async def test_refreshes_at_day_seven_and_not_before(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """One refresh at exactly day 7 after sign-in; nothing before; the next due at day 14."""
    signed_in_at = clock.now
    scheduler = RefreshScheduler(signed_in, jitter=0)
    schedulers.append(scheduler)
    assert scheduler.due_at() == signed_in_at + 7 * DAY

    scheduler.start()
    await clock.run_until(signed_in_at + 6.99 * DAY)
    assert simulator.request_count(REFRESH_PATH) == 0
    assert scheduler.next_due == signed_in_at + 7 * DAY

    await clock.run_until(signed_in_at + 13 * DAY)
    assert refresh_times(simulator) == [signed_in_at + 7 * DAY]
    assert signed_in.cookies is not None
    assert signed_in.cookies.timestamp == signed_in_at + 7 * DAY
    assert scheduler.next_due == signed_in_at + 14 * DAY
    assert scheduler.running
    assert scheduler.consecutive_failures == 0

    await clock.run_until(signed_in_at + 30 * DAY)
    assert refresh_times(simulator) == [signed_in_at + d * DAY for d in (7, 14, 21, 28)]


async def test_restart_mid_interval_neither_skips_nor_repeats(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    http_session: aiohttp.ClientSession,
) -> None:
    """A new manager and scheduler on the same folder keep the stored schedule."""
    signed_in_at = clock.now
    await signed_in.close()
    clock.advance(3 * DAY)  # Music Assistant was restarted three days after the sign-in

    manager = make_manager(http_session, signed_in.store.folder, simulator.base_url, clock)
    scheduler = RefreshScheduler(manager, jitter=0)
    try:
        scheduler.start()
        await clock.run_until(signed_in_at + 6.5 * DAY)
        assert simulator.request_count() == 0  # no refresh (nor any request) at start
        assert scheduler.next_due == signed_in_at + 7 * DAY

        await clock.run_until(signed_in_at + 10 * DAY)
        assert refresh_times(simulator) == [signed_in_at + 7 * DAY]
    finally:
        await scheduler.stop()
        await manager.close()


async def test_overdue_cookies_are_refreshed_at_start(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """After a long shutdown the refresh is due at once, and then every interval again."""
    signed_in_at = clock.now
    clock.advance(10 * DAY)
    restarted_at = clock.now
    scheduler = RefreshScheduler(signed_in, jitter=0, interval_days=5)
    schedulers.append(scheduler)
    scheduler.start()
    await clock.run_until(signed_in_at + 14 * DAY)
    assert refresh_times(simulator) == [restarted_at]
    assert scheduler.next_due == restarted_at + 5 * DAY


def test_due_time_is_clamped_between_one_and_thirteen_days() -> None:
    """Whatever the interval and jitter, the gap stays within 1 to 13 days."""
    assert refresh_due_at(START_TIME, 0.2) == START_TIME + MIN_GAP
    assert refresh_due_at(START_TIME, 13, jitter_offset=2 * DAY) == START_TIME + MAX_GAP
    assert refresh_due_at(START_TIME, 7) == START_TIME + 7 * DAY


async def test_jitter_is_bounded_stable_and_repeatable(signed_in: AuthSessionManager) -> None:
    """Jitter moves the refresh by at most the fraction given, the same way for one seed."""
    assert signed_in.cookies is not None
    issued = signed_in.cookies.timestamp

    def make(seed: int) -> RefreshScheduler:
        rng = random.Random(seed)  # noqa: S311 - a seeded jitter source, not a secret
        return RefreshScheduler(signed_in, interval_days=13, jitter=0.5, rng=rng)

    dues = set()
    for seed in range(50):
        scheduler = make(seed)
        due = scheduler.due_at()
        assert due is not None
        assert due == scheduler.due_at()  # drawn once per cookie timestamp
        assert issued + 6.5 * DAY <= due <= issued + MAX_GAP
        assert make(seed).due_at() == due
        dues.add(due)
    assert len(dues) > 1
    assert max(dues) == issued + MAX_GAP  # 13 days plus jitter is clamped to 13 days


async def test_due_at_is_none_when_not_signed_in(manager: AuthSessionManager) -> None:
    """Without a registration there is nothing to schedule."""
    assert RefreshScheduler(manager).due_at() is None


# --- failures -----------------------------------------------------------------------------------


async def test_transient_failures_back_off_then_recover(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """503s are retried after 60, 300, 900, 3600, 3600... seconds; success is reported once."""
    clock.advance(7 * DAY)
    simulator.scenario.server_error = 7
    recovered: list[bool] = []
    needs_user: list[AlexaAuthError] = []
    scheduler = RefreshScheduler(
        signed_in,
        jitter=0,
        on_recovered=lambda: recovered.append(True),
        on_needs_user=needs_user.append,
    )
    schedulers.append(scheduler)
    clock.sleeps.clear()
    scheduler.start()

    await clock.run_until(clock.now + 60 + 300 + 900 + 1)
    assert clock.sleeps == [60, 300, 900]
    assert scheduler.consecutive_failures == 4
    assert isinstance(scheduler.last_error, AmazonServerError)
    assert scheduler.next_due == clock.now + 3600  # parked right after the 4th failure
    assert recovered == []

    await clock.run_until(clock.now + 5 * DAY)
    assert clock.sleeps[:7] == [60, 300, 900, 3600, 3600, 3600, 3600]
    assert simulator.request_count(REFRESH_PATH) == 8  # seven failures, then one success
    assert recovered == [True]
    assert needs_user == []
    assert scheduler.consecutive_failures == 0
    assert last_error(scheduler) is None
    assert scheduler.running
    assert signed_in.status().last_refresh_ok is True


async def test_restart_after_a_failed_refresh_waits_the_first_step(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """A failed refresh recorded before a restart is not retried in the same second."""
    clock.advance(8 * DAY)
    simulator.scenario.server_error = 1
    with pytest.raises(AmazonServerError):
        await signed_in.refresh()
    failed_at = clock.now
    scheduler = RefreshScheduler(signed_in, jitter=0)
    schedulers.append(scheduler)
    scheduler.start()
    await clock.run_until(failed_at + DAY)
    assert refresh_times(simulator) == [failed_at, failed_at + 60]


async def test_revoked_device_stops_and_notifies_once(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """A revoked refresh token stops the task and calls on_needs_user exactly once."""
    clock.advance(7 * DAY)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    needs_user: list[AlexaAuthError] = []
    scheduler = RefreshScheduler(signed_in, jitter=0, on_needs_user=needs_user.append)
    schedulers.append(scheduler)
    scheduler.start()
    task = scheduler._task
    assert task is not None
    await clock.run_until_done(task, clock.now + DAY)

    assert len(needs_user) == 1
    assert isinstance(needs_user[0], SessionRevokedError)
    assert not scheduler.running
    assert scheduler.stopped_for_user
    assert scheduler.next_due is None
    assert isinstance(scheduler.last_error, SessionRevokedError)
    assert simulator.request_count(REFRESH_PATH) == 1  # no retry after a revocation


async def test_not_signed_in_stops_without_a_request(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """With nothing stored the task stops at once with NotSignedInError, asking Amazon nothing."""
    needs_user: list[AlexaAuthError] = []
    scheduler = RefreshScheduler(manager, on_needs_user=needs_user.append)
    schedulers.append(scheduler)
    scheduler.start()
    task = scheduler._task
    assert task is not None
    await clock.run_until_done(task, clock.now + DAY)
    assert [type(e) for e in needs_user] == [NotSignedInError]
    assert scheduler.stopped_for_user
    assert simulator.request_count() == 0


async def test_broken_listener_does_not_kill_the_task(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """An exception in on_recovered is logged; the schedule goes on."""

    def explode() -> None:
        msg = "listener bug"
        raise RuntimeError(msg)

    clock.advance(7 * DAY)
    simulator.scenario.server_error = 1
    scheduler = RefreshScheduler(signed_in, jitter=0, on_recovered=explode)
    schedulers.append(scheduler)
    scheduler.start()
    await clock.run_until(clock.now + 2 * DAY)
    assert scheduler.running
    assert scheduler.consecutive_failures == 0


async def test_start_is_idempotent_and_stop_ends_the_task(
    signed_in: AuthSessionManager, clock: HorizonClock
) -> None:
    """A second start keeps the one task; stop cancels it and clears the next due time."""
    scheduler = RefreshScheduler(signed_in, jitter=0)
    scheduler.start()
    first = scheduler._task
    scheduler.start()
    assert scheduler._task is first
    await clock.run_until(clock.now + DAY)
    assert is_running(scheduler)
    await scheduler.stop()
    assert not is_running(scheduler)
    assert scheduler.next_due is None
    assert first is not None
    assert first.cancelled()
    await scheduler.stop()  # stopping twice is harmless


# --- single flight ------------------------------------------------------------------------------


async def test_concurrent_refreshes_share_one_request(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Twenty callers of refresh() cause one refresh (one cookie exchange)."""
    await asyncio.gather(*(signed_in.refresh() for _ in range(20)))
    assert simulator.request_count(REFRESH_PATH) == 1


async def test_concurrent_ensure_valid_share_one_request(
    signed_in: AuthSessionManager, simulator: AmazonSimulator, clock: HorizonClock
) -> None:
    """Twenty callers of ensure_valid() with an expired access token cause one request."""
    clock.advance(3600)
    await asyncio.gather(*(signed_in.ensure_valid() for _ in range(20)))
    assert simulator.request_count(TOKEN_PATH) == 1
    await signed_in.ensure_valid()
    assert simulator.request_count(TOKEN_PATH) == 1  # the new token is still fresh


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [5, 7, 13, 9.5])
async def test_interval_within_bounds_is_accepted(manager: AuthSessionManager, days: float) -> None:
    """Intervals from 5 to 13 days are accepted as given."""
    assert RefreshScheduler(manager, interval_days=days).interval_days == days


@pytest.mark.parametrize("days", [0, 1, 4.99, 13.01, 14, -7])
async def test_interval_out_of_bounds_is_refused(manager: AuthSessionManager, days: float) -> None:
    """Intervals outside 5 to 13 days raise ValueError instead of being clamped silently."""
    with pytest.raises(ValueError, match="between 5 and 13 days"):
        RefreshScheduler(manager, interval_days=days)
    with pytest.raises(ValueError, match="between 5 and 13 days"):
        validate_interval(days)


@pytest.mark.parametrize("jitter", [-0.1, 0.51, 1.0])
async def test_jitter_out_of_bounds_is_refused(manager: AuthSessionManager, jitter: float) -> None:
    """Jitter must be a fraction from 0 to 0.5."""
    with pytest.raises(ValueError, match="jitter"):
        RefreshScheduler(manager, jitter=jitter)


def test_retry_delays() -> None:
    """1, 5, 15, 60 minutes, then hourly."""
    assert [retry_delay(n) for n in range(1, 8)] == [60, 300, 900, 3600, 3600, 3600, 3600]


async def test_scheduler_uses_the_managers_clock_by_default(
    manager: AuthSessionManager, clock: HorizonClock
) -> None:
    """Without a clock argument the scheduler reads the manager's clock."""
    assert RefreshScheduler(manager).clock is clock


async def test_renewal_elsewhere_ends_the_back_off(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
) -> None:
    """
    A refresh done elsewhere (the "Refresh now" button) while the task backs off ends the back-off.

    The task does not refresh again a minute later (that would be two renewals within a day),
    reports the recovery once, and schedules from the new cookies.
    """
    clock.advance(7 * DAY)
    simulator.scenario.server_error = 1
    recovered: list[bool] = []
    scheduler = RefreshScheduler(signed_in, jitter=0, on_recovered=lambda: recovered.append(True))
    schedulers.append(scheduler)
    scheduler.start()
    await clock.run_until(clock.now + 30)  # the first try fails; the retry waits 60 s
    assert scheduler.consecutive_failures == 1

    clock.advance(10)
    await signed_in.refresh()  # the user's button, with Amazon back
    renewed_at = clock.now
    await clock.run_until(renewed_at + 2 * DAY)

    assert simulator.request_count(REFRESH_PATH) == 2  # the failed try and the button; no retry
    assert scheduler.consecutive_failures == 0
    assert last_error(scheduler) is None
    assert recovered == [True]
    assert scheduler.next_due == renewed_at + 7 * DAY


# --- issue 12: the watchdog ---------------------------------------------------------------------


def bomb(exc: BaseException, shots: list[int]) -> Callable[..., Any]:
    """Return a stand-in that raises an exception for as long as ``shots[0]`` is positive."""

    def explode(*_args: object, **_kwargs: object) -> Any:
        shots[0] -= 1
        raise exc

    return explode


EXCEPTIONS = [
    pytest.param(RecursionError("maximum recursion depth exceeded"), id="RecursionError"),
    pytest.param(OverflowError("date value out of range"), id="OverflowError"),
    pytest.param(KeyError("Atnr|secret-in-the-message"), id="KeyError"),
    pytest.param(ValueError("year 99999 is out of range"), id="ValueError"),
    pytest.param(MemoryError(), id="MemoryError"),
    pytest.param(ZeroDivisionError(), id="ZeroDivisionError"),
    pytest.param(asyncio.CancelledError(), id="stray-CancelledError"),
]
#: Where the exception is thrown: the refresh itself, the schedule, the status it reads.
PLACES = ["refresh", "due_at", "status"]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("exc", EXCEPTIONS)
async def test_watchdog_keeps_the_task_alive_through_any_exception(  # noqa: PLR0917 - fixtures
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    place: str,
) -> None:
    """
    Three shots of the exception: three failures, recorded and backed off; then a refresh.

    The user is not asked to do anything (it is temporary), and the secret in a KeyError's
    text never reaches the history.
    """
    clock.advance(7 * DAY)
    shots = [3]
    needs_user: list[AlexaAuthError] = []
    recovered: list[bool] = []
    scheduler = RefreshScheduler(
        signed_in,
        jitter=0,
        on_needs_user=needs_user.append,
        on_recovered=lambda: recovered.append(True),
    )
    schedulers.append(scheduler)
    target: object = scheduler if place == "due_at" else signed_in
    real = getattr(target, place)
    exploding = bomb(exc, shots)

    def armed(*args: object, **kwargs: object) -> Any:
        return exploding(*args, **kwargs) if shots[0] > 0 else real(*args, **kwargs)

    if place == "refresh":

        async def armed_refresh() -> None:
            if shots[0] > 0:
                exploding()
            await real()

        monkeypatch.setattr(signed_in, "refresh", armed_refresh)
    else:
        monkeypatch.setattr(target, place, armed)
    started = clock.now
    scheduler.start()
    await clock.run_until(started + 60 + 300 + 1)
    assert is_running(scheduler)
    assert scheduler.consecutive_failures == 3
    error = last_error(scheduler)
    assert isinstance(error, InternalError)
    assert error.code == "internal_error"
    assert not error.needs_user
    failures = [e for e in (await signed_in.state()).events if e.kind == "failure"]
    assert [e.error_code for e in failures] == ["internal_error"] * 3
    assert all("secret" not in (e.detail or "") for e in failures)
    assert signed_in.status().last_refresh_ok is False

    await clock.run_until(started + 60 + 300 + 900 + DAY)
    assert is_running(scheduler)
    assert scheduler.consecutive_failures == 0
    assert recovered == [True]
    assert needs_user == []
    assert simulator.request_count(REFRESH_PATH) == 1  # one real refresh, after the back-off
    assert signed_in.status().last_refresh_ok is True


async def test_watchdog_still_stops_for_the_user(
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    schedulers: list[RefreshScheduler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash first, then a revoked device: the revocation still stops the task and tells once."""
    clock.advance(7 * DAY)
    shots = [1]
    real = signed_in.refresh

    async def refresh() -> None:
        if shots[0] > 0:
            shots[0] -= 1
            raise RecursionError
        await real()

    monkeypatch.setattr(signed_in, "refresh", refresh)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    needs_user: list[AlexaAuthError] = []
    scheduler = RefreshScheduler(signed_in, jitter=0, on_needs_user=needs_user.append)
    schedulers.append(scheduler)
    scheduler.start()
    task = scheduler._task
    assert task is not None
    await clock.run_until_done(task, clock.now + DAY)
    assert [type(e) for e in needs_user] == [SessionRevokedError]
    assert scheduler.stopped_for_user


async def test_stop_still_ends_the_task(signed_in: AuthSessionManager, clock: HorizonClock) -> None:
    """The watchdog lets the task's own cancellation through: stop() ends it."""
    scheduler = RefreshScheduler(signed_in, jitter=0)
    scheduler.start()
    await clock.run_until(clock.now + DAY)
    task = scheduler._task
    await scheduler.stop()
    assert task is not None
    assert task.cancelled()


# --- issue 12, item 8: a clock that was wrong -------------------------------------------------


async def test_cookies_dated_in_the_future_are_renewed_within_their_life(  # noqa: PLR0917
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: HorizonClock,
    http_session: aiohttp.ClientSession,
    schedulers: list[RefreshScheduler],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """
    Cookies stored while the clock ran 30 days ahead: due 7 days from now, not 37.

    The clock trouble is reported (attribute and log), and goes once the cookies are renewed.
    """
    cookies = signed_in.cookies
    assert cookies is not None
    cookies.timestamp = clock.now + 30 * DAY  # stored with the clock 30 days ahead
    await signed_in.store.write_cookies(cookies)
    await signed_in.close()
    manager = make_manager(http_session, signed_in.store.folder, simulator.base_url, clock)
    scheduler = RefreshScheduler(manager, jitter=0)
    schedulers.append(scheduler)
    restarted_at = clock.now
    try:
        await manager.restore(validate=False)
        assert scheduler.due_at() == restarted_at + 7 * DAY
        assert scheduler.clock_trouble == 30 * DAY
        assert "dated 30.0 days in the future" in caplog.text
        scheduler.start()
        await clock.run_until(restarted_at + 8 * DAY)
        assert refresh_times(simulator) == [restarted_at + 7 * DAY]
        assert clock_trouble(scheduler) is None
        assert scheduler.next_due == restarted_at + 14 * DAY
    finally:
        await scheduler.stop()
        await manager.close()
