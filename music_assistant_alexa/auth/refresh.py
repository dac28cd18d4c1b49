"""
The background task that renews the website cookies long before Amazon drops them.

Amazon's website cookies stop working 14 days after they were issued. The scheduler renews them
(with the device's refresh token, never the password) every ``interval_days``, 7 by default.
The schedule is anchored on the timestamp stored with the cookies, not on when the task
started: a restart of Music Assistant neither skips a refresh nor repeats one. Whatever the
interval and the jitter, a refresh is never due sooner than one day after the last sign-in or
refresh (Amazon frowns on clients that refresh more often) and never later than 13 days after.
Cookies renewed elsewhere while the task backs off (a "Refresh now" button, a new sign-in) end
the back-off: the task then schedules from them instead of renewing them again.

Failures are sorted by their category. Temporary trouble (network, 5xx, rate limits) is retried
after 1, 5, 15 and 60 minutes and then hourly, without bothering anyone. An error only the user
can fix (the device was revoked, nothing is signed in) stops the task and is reported once
through ``on_needs_user``: retrying would only add failed requests to the account's record.

Nothing else ends the task. Any other exception, wherever it comes from (an answer nothing
anticipated, a bug), is recorded as a failure event, logged, counted and retried like temporary
trouble: a task that died silently would let the cookies expire unnoticed 14 days later. Only
cancelling the task (:meth:`RefreshScheduler.stop`) ends it.

A cookie timestamp in the future (the clock was wrong when the cookies were stored) is taken as
"now" for the schedule, so the cookies are renewed within their life, and reported as clock
trouble (:attr:`RefreshScheduler.clock_trouble`, and a warning in the log).

All waiting goes through the injected :class:`~.clock.Clock`, so tests run months of schedule in
milliseconds. Access tokens are not this task's business: the manager refreshes them on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING, Any, Final

from .errors import (
    AlexaAuthError,
    ErrorCategory,
    InternalError,
    NotSignedInError,
    RateLimitedError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .clock import Clock
    from .session import AuthSessionManager

_LOGGER = logging.getLogger(__name__)

DAY: Final = 86_400.0
DEFAULT_INTERVAL_DAYS: Final = 7.0
MIN_INTERVAL_DAYS: Final = 5.0
MAX_INTERVAL_DAYS: Final = 13.0
#: Never refresh sooner than this after the last sign-in or refresh.
MIN_GAP: Final = 1 * DAY
#: Never let the cookies get older than this before refreshing (they die at 14 days).
MAX_GAP: Final = 13 * DAY
DEFAULT_JITTER: Final = 0.1
MAX_JITTER: Final = 0.5
#: Waits after the 1st, 2nd, 3rd and 4th temporary failure; the last one repeats from then on.
RETRY_DELAYS: Final = (60.0, 300.0, 900.0, 3600.0)
#: Longest single sleep: the schedule is re-read at least this often, so a sign-in or a manual
#: refresh in the meantime (which moves the cookie timestamp) is noticed, and so is a wall
#: clock that jumped (suspend, NTP correction).
MAX_SLEEP: Final = 6 * 3600.0


def validate_interval(interval_days: float) -> float:
    """
    Return the refresh interval in days, refusing values outside 5 to 13 days.

    Out-of-range values are refused rather than clamped: a setting that silently means
    something else would hide a configuration mistake.

    :param interval_days: Days between two cookie refreshes.
    :raises ValueError: The interval is not between 5 and 13 days.
    """
    if not MIN_INTERVAL_DAYS <= interval_days <= MAX_INTERVAL_DAYS:
        msg = (
            f"The refresh interval must be between {MIN_INTERVAL_DAYS:g} and "
            f"{MAX_INTERVAL_DAYS:g} days, not {interval_days:g}."
        )
        raise ValueError(msg)
    return float(interval_days)


def refresh_due_at(
    cookie_timestamp: float, interval_days: float, jitter_offset: float = 0.0
) -> float:
    """
    Return when cookies issued at a moment are due for a refresh.

    :param cookie_timestamp: Epoch seconds when Amazon issued the cookies.
    :param interval_days: Days between two refreshes.
    :param jitter_offset: Seconds to add (negative: earlier) to spread refreshes out.
    """
    gap = interval_days * DAY + jitter_offset
    return cookie_timestamp + min(max(gap, MIN_GAP), MAX_GAP)


def next_refresh_due(
    cookie_timestamp: float | None,
    scheduler: RefreshScheduler | None = None,
    *,
    now: float | None = None,
) -> float | None:
    """
    Return when the next cookie refresh is due: the refresh task's plan, else the default one.

    Without a task the default interval applies, without jitter (a task spreads its own due time
    a little around it), counted from ``now`` when the cookies are dated in the future, as the
    task counts it (a clock that was wrong must not push the renewal past the cookies' life).

    :param cookie_timestamp: When Amazon issued the stored cookies (None: no cookies).
    :param scheduler: The account's refresh task, if one runs.
    :param now: Epoch seconds now, to discount a timestamp in the future.
    :returns: Epoch seconds, or None when nothing is scheduled (no cookies, or a task that
        stopped until the user acts).
    """
    if scheduler is not None:
        if scheduler.stopped_for_user:
            return None
        return scheduler.next_due if scheduler.next_due is not None else scheduler.due_at()
    if cookie_timestamp is None:
        return None
    issued = cookie_timestamp if now is None else min(cookie_timestamp, now)
    return refresh_due_at(issued, DEFAULT_INTERVAL_DAYS)


def retry_delay(failures: int) -> float:
    """
    Return how long to wait after a number of consecutive temporary failures.

    :param failures: Consecutive failures so far (1 for the first).
    """
    return RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]


class RefreshScheduler:
    """Renews one account's cookies on a schedule, in a background task."""

    def __init__(  # noqa: PLR0913 - configuration, all keyword-only
        self,
        manager: AuthSessionManager,
        *,
        interval_days: float = DEFAULT_INTERVAL_DAYS,
        clock: Clock | None = None,
        jitter: float = DEFAULT_JITTER,
        rng: random.Random | None = None,
        on_needs_user: Callable[[AlexaAuthError], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
    ) -> None:
        """
        Create the scheduler; nothing runs until :meth:`start`.

        :param manager: The account's session manager.
        :param interval_days: Days between two cookie refreshes, 5 to 13.
        :param clock: Clock to read and sleep on (default: the manager's).
        :param jitter: Fraction of the interval by which each refresh may move earlier or later,
            0 to 0.5, so that many installations do not all call Amazon at the same moment.
        :param rng: Random source for the jitter (inject a seeded one for repeatable schedules).
        :param on_needs_user: Called once with the error when the task stops because only the
            user can fix it.
        :param on_recovered: Called after a refresh succeeds following failures.
        :raises ValueError: The interval or the jitter is out of range.
        """
        if not 0.0 <= jitter <= MAX_JITTER:
            msg = f"The refresh jitter must be between 0 and {MAX_JITTER:g}, not {jitter:g}."
            raise ValueError(msg)
        self.manager = manager
        self.interval_days = validate_interval(interval_days)
        self.clock: Clock = clock if clock is not None else manager.clock
        self.jitter = jitter
        # Jitter only spreads load; it does not need a cryptographic source.
        self._rng = rng if rng is not None else random.Random()  # noqa: S311
        self._on_needs_user = on_needs_user
        self._on_recovered = on_recovered
        self._task: asyncio.Task[None] | None = None
        #: The jitter drawn for the cookies issued at a timestamp: (timestamp, offset seconds).
        self._jitter_for: tuple[float, float] | None = None
        #: When the task will next try a refresh (epoch seconds), None when it is not running.
        self.next_due: float | None = None
        #: The error of the last failed refresh, cleared by a successful one.
        self.last_error: AlexaAuthError | None = None
        self.consecutive_failures = 0
        #: True once the task stopped because only the user can fix the error.
        self.stopped_for_user = False
        self._retry_at: float | None = None
        #: When the task's last refresh failed (back-off running), else None.
        self._failed_at: float | None = None
        self._last_success_at: float | None = None
        self._user_notified = False
        #: Seconds the stored cookies are dated ahead of this computer's clock, while they are
        #: (the clock was wrong when they were stored); None when they are not.
        self.clock_trouble: float | None = None
        #: A future cookie timestamp and the moment it was first seen, which stands in for it.
        self._future_stamp: tuple[float, float] | None = None

    def __repr__(self) -> str:
        """Return a representation without secrets."""
        return (
            f"RefreshScheduler(interval_days={self.interval_days:g}, running={self.running}, "
            f"failures={self.consecutive_failures}, stopped_for_user={self.stopped_for_user})"
        )

    @property
    def running(self) -> bool:
        """Return whether the background task is alive."""
        return self._task is not None and not self._task.done()

    def to_dict(self) -> dict[str, Any]:
        """Return the task's state for diagnostics (no secrets)."""
        err = self.last_error
        return {
            "running": self.running,
            "stopped_for_user": self.stopped_for_user,
            "interval_days": self.interval_days,
            "consecutive_failures": self.consecutive_failures,
            "last_error_code": err.code if err is not None else None,
            "next_due": self.next_due,
        }

    def start(self) -> None:
        """
        Start the background task (again); a running task is left alone.

        Starting again after the task stopped for the user (typically after a new sign-in)
        forgets the old failure.
        """
        if self.running:
            return
        self.stopped_for_user = False
        self._user_notified = False
        self.last_error = None
        self.consecutive_failures = 0
        self._retry_at = self._failed_at = None
        self._task = asyncio.create_task(self._run(), name="alexa-cookie-refresh")

    async def stop(self) -> None:
        """Cancel the background task and wait until it has ended."""
        task, self._task = self._task, None
        self.next_due = None
        if task is None or task.done() or task is asyncio.current_task():
            if task is not None and task.done() and not task.cancelled():
                task.exception()  # retrieved, so asyncio does not log it as never retrieved
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def due_at(self) -> float | None:
        """
        Return when the next cookie refresh is due, from the stored cookie timestamp.

        :returns: Epoch seconds; the current time when cookies are missing but a device is
            registered (they can be renewed right away); None when nothing is signed in.
        """
        registration = self.manager.registration
        if registration is None or not registration.is_registered:
            return None
        cookies = self.manager.cookies
        now = self.clock.time()
        if cookies is None:
            return now
        issued = self._issued_at(cookies.timestamp, now)
        return refresh_due_at(issued, self.interval_days, self._jitter(cookies.timestamp))

    def _issued_at(self, timestamp: float, now: float) -> float:
        """
        Return when cookies stamped at a moment count as issued: never later than now.

        A future stamp counts as the moment it was first seen (not as "now" each time, which
        would move the refresh away as fast as time passes).
        """
        if timestamp <= now:
            self.clock_trouble = None
            return timestamp
        self.clock_trouble = timestamp - now
        if self._future_stamp is None or self._future_stamp[0] != timestamp:
            self._future_stamp = (timestamp, now)
            _LOGGER.warning(
                "The stored cookies are dated %.1f days in the future: this computer's clock was "
                "wrong when they were stored. Scheduling their renewal from now",
                self.clock_trouble / DAY,
            )
        return self._future_stamp[1]

    def _jitter(self, timestamp: float) -> float:
        """Return the jitter for cookies issued at a timestamp, drawn once per timestamp."""
        if self.jitter == 0:
            return 0.0
        if self._jitter_for is None or self._jitter_for[0] != timestamp:
            spread = self.jitter * self.interval_days * DAY
            self._jitter_for = (timestamp, self._rng.uniform(-spread, spread))
        return self._jitter_for[1]

    # --- the task ----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            if not await self._guarded(self._load_session):
                return
            while await self._guarded(self._step):
                pass
        finally:
            self.next_due = None

    async def _step(self) -> bool:
        """Sleep towards the next attempt, or make it; return whether the task goes on."""
        wake = self._next_attempt()
        self.next_due = wake
        now = self.clock.time()
        if wake > now:
            await self.clock.sleep(min(wake - now, MAX_SLEEP))
            return True  # re-read the schedule: it may have moved while we slept
        return await self._refresh_once()

    async def _guarded(self, step: Callable[[], Awaitable[bool]]) -> bool:
        """
        Run one step of the task; whatever it raises, report it and decide whether to go on.

        The watchdog: only cancellation of the task itself ends the task this way.
        """
        try:
            return await step()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise
            # A cancellation nobody asked this task for (a library's stray one).
            return await self._crashed(RuntimeError("stray cancellation"), refreshing=False)
        except Exception as err:  # noqa: BLE001 - the watchdog: nothing may end the task silently
            return await self._crashed(err, refreshing=False)

    async def _crashed(self, err: Exception, *, refreshing: bool) -> bool:
        """
        Treat an exception that escaped a step as a failed refresh: record, back off, go on.

        :param refreshing: It came out of the refresh itself (else: out of the schedule).
        """
        ours = err if isinstance(err, AlexaAuthError) else InternalError.wrapping(err)
        if ours is not err:
            _LOGGER.error(
                "Automatic cookie refresh failed unexpectedly (%s); retrying with back-off",
                type(err).__name__,
            )
            _LOGGER.debug("The unexpected failure", exc_info=err)
            await self._record(ours)
        if not self._failed(ours) or refreshing:
            return not self.stopped_for_user  # a failed refresh: retried at _retry_at
        # The schedule itself failed: wait out the back-off here (it may fail again at once,
        # and must never become a busy loop), then work the schedule out afresh rather than
        # refresh blindly (the one-day rule still holds).
        delay = max(0.0, (self._retry_at or 0.0) - self.clock.time())
        self._retry_at = self._failed_at = None
        try:
            await self.clock.sleep(delay)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - even a broken clock must not end the task
            await asyncio.sleep(delay)
        return True

    async def _record(self, err: AlexaAuthError) -> None:
        try:
            await self.manager.record_failure("refresh", err)
        except Exception:  # noqa: BLE001 - recording is best effort; the retry is what matters
            _LOGGER.warning("Could not record the failed refresh in the history")

    async def _load_session(self) -> bool:
        """Read the stored session if the manager has not yet (no request to Amazon)."""
        if self.manager.registration is not None:
            return True
        try:
            await self.manager.restore(validate=False)
        except AlexaAuthError as err:
            # The store could not be read: the same decision as for a failed refresh.
            return self._failed(err)
        return True

    def _next_attempt(self) -> float:
        """Return when to try next: the retry time after a failure, else the schedule."""
        if self._retry_at is not None and not self._renewed_elsewhere():
            return self._retry_at
        now = self.clock.time()
        due = self.due_at()
        if due is None:
            # Not signed in: try at once, so the refresh raises NotSignedInError and stops.
            return now
        status = self.manager.status()
        if status.last_refresh_ok is False and status.last_refresh_at is not None:
            # The last refresh failed before a restart: keep the first back-off step, so a
            # restart loop cannot turn into a request loop.
            due = max(due, status.last_refresh_at + RETRY_DELAYS[0])
        if self._last_success_at is not None:
            # Belt and braces: even if the cookie timestamp did not move, one day between
            # refreshes holds.
            due = max(due, self._last_success_at + MIN_GAP)
        return due

    def _renewed_elsewhere(self) -> bool:
        """
        Return whether the cookies were renewed since the task's last failure, and if so recover.

        A "Refresh now" or a new sign-in while the task backs off makes its retry pointless, and
        a second renewal right after it would break the once-a-day rule.
        """
        cookies = self.manager.cookies
        if self._failed_at is None or cookies is None or cookies.timestamp <= self._failed_at:
            return False
        self._succeeded(min(cookies.timestamp, self.clock.time()))
        return True

    async def _refresh_once(self) -> bool:
        """Refresh once; return whether the task should go on."""
        if self.manager.registration is None:
            msg = "Not signed in to Amazon yet: sign in from the settings."
            return self._failed(NotSignedInError(msg))
        try:
            await self.manager.refresh()
        except AlexaAuthError as err:
            return self._failed(err)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise
            return await self._crashed(RuntimeError("stray cancellation"), refreshing=True)
        except Exception as err:  # noqa: BLE001 - the watchdog: recorded and retried
            return await self._crashed(err, refreshing=True)
        self._succeeded(self.clock.time())
        return True

    def _succeeded(self, at: float) -> None:
        """Note cookies renewed at a moment; report the recovery after failures."""
        recovered = self.consecutive_failures > 0
        self._last_success_at = at
        self.consecutive_failures = 0
        self.last_error = None
        self._retry_at = self._failed_at = None
        if recovered:
            _LOGGER.info("Cookie refresh succeeded again")
            self._call(self._on_recovered)

    def _failed(self, err: AlexaAuthError) -> bool:
        """Note a failure and plan the retry, or stop; return whether the task should go on."""
        self.last_error = err
        self.consecutive_failures += 1
        if err.category is not ErrorCategory.TEMPORARY:
            self._stop_for_user(err)
            return False
        delay = retry_delay(self.consecutive_failures)
        if isinstance(err, RateLimitedError) and err.retry_after:
            # Amazon said how long to wait: honour it, within our longest step.
            delay = max(delay, min(err.retry_after, RETRY_DELAYS[-1]))
        self._failed_at = self.clock.time()
        self._retry_at = self._failed_at + delay
        _LOGGER.info(
            "Cookie refresh failed (%s, attempt %d); retrying in %d s",
            err.code,
            self.consecutive_failures,
            delay,
        )
        return True

    def _stop_for_user(self, err: AlexaAuthError) -> None:
        self.stopped_for_user = True
        # The slug, not a link: a log line is read where no link of ours may work.
        _LOGGER.warning(
            "Automatic cookie refresh stopped: %s (guide section %s)", err.code, err.guide_slug
        )
        if not self._user_notified and self._on_needs_user is not None:
            self._user_notified = True
            on_needs_user = self._on_needs_user
            self._call(lambda: on_needs_user(err))

    @staticmethod
    def _call(callback: Callable[[], None] | None) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:
            # A broken listener must not kill the refresh task that keeps the session alive.
            _LOGGER.exception("Refresh listener failed")


__all__ = [
    "DEFAULT_INTERVAL_DAYS",
    "MAX_INTERVAL_DAYS",
    "MIN_INTERVAL_DAYS",
    "RETRY_DELAYS",
    "RefreshScheduler",
    "next_refresh_due",
    "refresh_due_at",
    "retry_delay",
    "validate_interval",
]
