"""
Health checks of one account's Amazon session: what is wrong, in one sentence, and where the fix is.

Every check yields a :class:`HealthCheck` with a status, a plain sentence and the section of our
troubleshooting guide that fixes it. Checks read local state only (the store folder, the
manager's snapshot, the refresh task), except the device, session and marketplace checks, which
ask Amazon once each and only when ``validate`` is set. Messages are built from non-secret
values only: no e-mail address, no key, no token and no cookie value ever appears in one.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from music_assistant_alexa.auth.clock import format_utc
from music_assistant_alexa.auth.errors import AlexaAuthError, ErrorCategory, error_class
from music_assistant_alexa.auth.models import REGISTRATION_KEY
from music_assistant_alexa.auth.refresh import DAY, next_refresh_due
from music_assistant_alexa.auth.session import PASSWORD_ATTEMPTS_PER_HOUR
from music_assistant_alexa.auth.store import REGISTRATION_FILE
from music_assistant_alexa.auth.totp import KEY_LENGTH, parse_totp_key
from music_assistant_alexa.guide import GuideSlug, guide_link

if TYPE_CHECKING:
    from music_assistant_alexa.auth.models import SessionState
    from music_assistant_alexa.auth.refresh import RefreshScheduler
    from music_assistant_alexa.auth.session import AuthSessionManager, SessionStatus
    from music_assistant_alexa.auth.store import StoreSnapshot

#: Cookie age (days) from which a refresh is recommended, and from which it is urgent.
COOKIE_AGE_WARNING_DAYS: Final = 7.0
COOKIE_AGE_URGENT_DAYS: Final = 12.0
#: Amazon stops accepting website cookies this many days after issuing them.
COOKIE_LIFETIME_DAYS: Final = 14.0
#: Clock offset from Amazon (seconds) beyond which one-time codes are at risk, and fail.
CLOCK_WARNING_SECONDS: Final = 15.0
CLOCK_ERROR_SECONDS: Final = 30.0


class CheckStatus(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class CheckKey(StrEnum):
    """The stable key of each health check (also named in the troubleshooting guide)."""

    SIGNED_IN = "signed_in"
    MARKETPLACE = "marketplace"
    COOKIE_AGE = "cookie_age"
    STORAGE_PERMISSIONS = "storage_permissions"
    UNREADABLE_FILES = "unreadable_files"
    TWO_FACTOR_KEY = "2fa_key"
    CLOCK_DRIFT = "clock_drift"
    DEVICE_REGISTRATION = "device_registration"
    SESSION_VALID = "session_valid"
    REFRESH_TASK = "refresh_task"
    LAST_REFRESH = "last_refresh"
    LOGIN_ATTEMPTS = "login_attempts"
    CAPTCHA_PENDING = "captcha_pending"


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """The outcome of one check."""

    key: str
    status: CheckStatus
    #: One plain sentence (or two) for the user; never a secret.
    message: str
    guide_slug: GuideSlug | None = None

    @property
    def guide_url(self) -> str | None:
        """Return the link to the guide section that fixes a problem, if there is one."""
        return guide_link(self.guide_slug) if self.guide_slug is not None else None

    def to_dict(self) -> dict[str, Any]:
        """Return the check as JSON-able data, with its guide link."""
        slug = str(self.guide_slug) if self.guide_slug is not None else None
        return {
            "key": self.key,
            "status": str(self.status),
            "message": self.message,
            "guide_slug": slug,
            "guide_url": self.guide_url,
        }


def _ok(key: CheckKey, message: str, slug: GuideSlug | None = None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.OK, message, slug)


def _warn(key: CheckKey, message: str, slug: GuideSlug | None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.WARNING, message, slug)


def _error(key: CheckKey, message: str, slug: GuideSlug | None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.ERROR, message, slug)


def slug_for_code(code: str | None) -> GuideSlug | None:
    """
    Return the guide section for an error code recorded in the history, if the code is known.

    :param code: An :attr:`AlexaAuthError.code`.
    """
    cls = error_class(code)
    return cls.guide_slug if cls is not None else None


# --- the checks ----------------------------------------------------------------------------------


async def run_checks(
    manager: AuthSessionManager,
    *,
    scheduler: RefreshScheduler | None = None,
    totp_key: str | None = None,
    validate: bool = False,
) -> list[HealthCheck]:
    """
    Run every health check that applies and return the results, in a fixed order.

    :param manager: The account's session manager.
    :param scheduler: The account's refresh task, when one is used.
    :param totp_key: The 2FA key from the settings, to check its format (never shown).
    :param validate: Also ask Amazon whether the device and the session work and which
        marketplace the account belongs to (three requests; they also measure the clock offset).
    """
    state = await read_state(manager)
    stored = await manager.store.peek()
    checks = [_check_signed_in(manager, stored)]
    marketplace = await _check_marketplace(manager, validate=validate)
    if marketplace is not None:
        checks.append(marketplace)
    checks += [
        _check_cookie_age(manager, stored),
        await _check_permissions(manager),
        _check_unreadable(manager, stored.set_aside),
    ]
    if totp_key is not None:
        checks.append(_check_totp_key(totp_key))
    if validate:
        checks.append(await _check_device(manager))
        checks.append(await _check_session(manager))
    status = manager.status()
    if status.clock_offset is not None:
        checks.append(clock_check(status.clock_offset))
    if scheduler is not None:
        checks.append(_check_refresh_task(scheduler))
    checks.append(_check_last_refresh(manager, status, scheduler))
    reason = state.attempts.backoff_reason if state is not None else None
    checks.append(_check_login_attempts(status, reason))
    if status.captcha_url:
        checks.append(
            _warn(
                CheckKey.CAPTCHA_PENDING,
                "A captcha is waiting for your answer; solve it in the settings to finish the "
                "sign-in.",
                GuideSlug.CAPTCHA,
            )
        )
    return checks


async def read_state(manager: AuthSessionManager) -> SessionState | None:
    """
    Return the account's attempt record and history, or None when it cannot be read.

    Diagnostics must work on a broken folder too; the storage checks say what is wrong with it.

    :param manager: The account's session manager.
    """
    try:
        return await manager.state()
    except AlexaAuthError:
        return None


def _check_signed_in(manager: AuthSessionManager, stored: StoreSnapshot) -> HealthCheck:
    key = CheckKey.SIGNED_IN
    registration = stored.registration
    if registration is None and REGISTRATION_FILE not in stored.unreadable:
        return _error(
            key,
            "Not signed in: no device registration is stored. Sign in from the settings.",
            GuideSlug.COOKIE_REFRESH,
        )
    if registration is None:
        return _error(
            key,
            f"{REGISTRATION_FILE} cannot be read or has no {REGISTRATION_KEY}: every sign-in "
            "would register a new device. Sign in again to store it.",
            GuideSlug.REAUTH_LOOP,
        )
    if not registration.is_registered:
        return _error(
            key,
            f"The stored {REGISTRATION_KEY} has no refresh token: the session cannot be "
            "renewed. Sign in again.",
            GuideSlug.REAUTH_LOOP,
        )
    wanted = manager.hosts.marketplace.domain
    if registration.marketplace and registration.marketplace != wanted:
        return _warn(
            key,
            f"The stored device was registered for {registration.marketplace}, but the settings "
            f"say {wanted}. Choose the marketplace your account belongs to and sign in again.",
            GuideSlug.CREDENTIALS,
        )
    name = registration.device_name
    device = f' as device "{name}"' if name else ""
    return _ok(key, f"Signed in{device}; the device registration ({REGISTRATION_KEY}) is stored.")


async def _check_marketplace(manager: AuthSessionManager, *, validate: bool) -> HealthCheck | None:
    """
    Compare the session's marketplace with the one Amazon says the account belongs to.

    Offline from what the sign-in learnt (the home region, and the marketplace ``/api/users/me``
    named when it was asked); with ``validate``, Amazon is asked (one request). None when no
    device is registered: there is no session to judge.
    """
    key = CheckKey.MARKETPLACE
    registration = manager.registration
    if registration is None or not registration.is_registered:
        return None
    mismatch = manager.marketplace_mismatch
    unasked: AlexaAuthError | None = None
    if validate and manager.cookies is not None:
        try:
            mismatch = await manager.verify_marketplace()
        except AlexaAuthError as err:
            unasked = err
    if mismatch is not None:
        return _warn(key, mismatch.message, GuideSlug.CREDENTIALS)
    if unasked is not None:
        return _warn(
            key,
            f"Could not ask Amazon which marketplace the account belongs to: {unasked.message}",
            unasked.guide_slug,
        )
    status = manager.status()
    if status.account_marketplace == status.marketplace:
        return _ok(key, f"Amazon says the account belongs to {status.marketplace}.")
    if status.home_region:
        return _ok(
            key,
            f"Amazon's home region for the account ({status.home_region}) fits "
            f"{status.marketplace}.",
        )
    return _ok(key, "Amazon has not said which marketplace the account belongs to.")


def _cookie_timestamp(manager: AuthSessionManager, stored: StoreSnapshot) -> float | None:
    cookies = manager.cookies or stored.cookies
    return cookies.timestamp if cookies is not None else None


def cookie_age_check(age_days: float) -> HealthCheck:
    """
    Return the cookie-age check for cookies of a given age.

    Under 7 days is fine, from 7 days a refresh is recommended, from 12 days it is urgent
    (Amazon drops the cookies at 14).

    :param age_days: Days since Amazon issued the cookies.
    """
    key = CheckKey.COOKIE_AGE
    slug = GuideSlug.COOKIE_REFRESH
    if age_days < 0:
        return _warn(
            key,
            "The stored cookies are dated in the future: this computer's clock was changed.",
            GuideSlug.CLOCK_DRIFT,
        )
    # Round down, so the text never says "7.0 days" next to an "ok".
    shown = f"{math.floor(age_days * 10) / 10:.1f}"
    if age_days >= COOKIE_LIFETIME_DAYS:
        return _error(
            key,
            f"The cookies are {shown} days old and have expired; they are renewed at the "
            "next refresh, or sign in again.",
            slug,
        )
    if age_days >= COOKIE_AGE_URGENT_DAYS:
        return _error(
            key,
            f"The cookies are {shown} days old: refresh urgently, Amazon drops them at "
            f"{COOKIE_LIFETIME_DAYS:g} days.",
            slug,
        )
    if age_days >= COOKIE_AGE_WARNING_DAYS:
        return _warn(key, f"The cookies are {shown} days old: a refresh is recommended.", slug)
    return _ok(key, f"The cookies are {shown} days old.")


def _check_cookie_age(manager: AuthSessionManager, stored: StoreSnapshot) -> HealthCheck:
    timestamp = _cookie_timestamp(manager, stored)
    if timestamp is None:
        return _warn(
            CheckKey.COOKIE_AGE,
            "No website cookies are stored; they are renewed at the next refresh once signed in.",
            GuideSlug.COOKIE_REFRESH,
        )
    return cookie_age_check((manager.clock.time() - timestamp) / DAY)


async def _check_permissions(manager: AuthSessionManager) -> HealthCheck:
    key = CheckKey.STORAGE_PERMISSIONS
    try:
        problems = await asyncio.to_thread(manager.store.permission_problems)
    except OSError as err:
        return _error(
            key,
            f"The session folder cannot be inspected ({err.strerror or type(err).__name__}).",
            GuideSlug.SESSION_STORAGE,
        )
    if not problems and not await asyncio.to_thread(manager.store.folder.exists):
        return _ok(key, "No session folder yet; the first sign-in creates it private (0700).")
    if not problems:
        return _ok(key, "The session folder is private (0700) and its files are 0600.")
    listed = ", ".join(
        f"{'the folder' if name == '.' else name} is {mode:04o}" for name, mode in problems
    )
    return _error(
        key,
        f"The session files are readable by others: {listed} (should be 0700 for the folder, "
        "0600 for files).",
        GuideSlug.SESSION_STORAGE,
    )


def _check_unreadable(manager: AuthSessionManager, on_disk: tuple[str, ...]) -> HealthCheck:
    names = sorted({*on_disk, *(p.name for p in manager.store.quarantined)})
    if not names:
        return _ok(CheckKey.UNREADABLE_FILES, "Every session file could be read.")
    return _warn(
        CheckKey.UNREADABLE_FILES,
        f"{len(names)} unreadable session file(s) were moved aside ({', '.join(names)}); if "
        "the session was lost, sign in again.",
        GuideSlug.SESSION_STORAGE,
    )


def _check_totp_key(raw: str) -> HealthCheck:
    try:
        parse_totp_key(raw)
    except AlexaAuthError as err:
        return _error(CheckKey.TWO_FACTOR_KEY, err.message, err.guide_slug)
    return _ok(CheckKey.TWO_FACTOR_KEY, f"The 2FA key is well formed ({KEY_LENGTH} characters).")


def clock_check(offset: float) -> HealthCheck:
    """
    Return the clock check for an offset from Amazon's clock.

    :param offset: Amazon's clock minus ours, in seconds.
    """
    key = CheckKey.CLOCK_DRIFT
    size = abs(offset)
    if size <= CLOCK_WARNING_SECONDS:
        return _ok(key, f"This computer's clock is within {math.ceil(size)} s of Amazon's.")
    direction = "behind" if offset > 0 else "ahead of"
    text = f"This computer's clock is {round(size)} s {direction} Amazon's"
    if size > CLOCK_ERROR_SECONDS:
        return _error(
            key, f"{text}: TOTP codes fail. Turn on time sync (NTP).", GuideSlug.CLOCK_DRIFT
        )
    return _warn(
        key, f"{text}: TOTP codes may soon fail. Turn on time sync (NTP).", GuideSlug.CLOCK_DRIFT
    )


async def _check_device(manager: AuthSessionManager) -> HealthCheck:
    key = CheckKey.DEVICE_REGISTRATION
    registration = manager.registration
    if registration is None or not registration.is_registered:
        return _warn(
            key,
            "The device registration was not checked with Amazon: no device is registered.",
            GuideSlug.COOKIE_REFRESH,
        )
    try:
        await manager.verify_device()
    except AlexaAuthError as err:
        if err.category is ErrorCategory.TEMPORARY:
            return _warn(
                key, f"Could not ask Amazon about the device: {err.message}", err.guide_slug
            )
        return _error(key, err.message, err.guide_slug)
    return _ok(key, "Amazon accepts our device registration (its refresh token works).")


async def _check_session(manager: AuthSessionManager) -> HealthCheck:
    key = CheckKey.SESSION_VALID
    if not manager.signed_in:
        return _warn(
            key,
            "The session was not checked with Amazon: no session is loaded.",
            GuideSlug.COOKIE_REFRESH,
        )
    try:
        valid = await manager.check()
    except AlexaAuthError as err:
        if err.category is ErrorCategory.TEMPORARY:
            return _warn(
                key, f"Could not ask Amazon about the session: {err.message}", err.guide_slug
            )
        return _error(key, err.message, err.guide_slug)
    if valid:
        return _ok(key, "Amazon accepts the session.")
    return _error(
        key,
        "Amazon no longer accepts the stored cookies; they are renewed at the next refresh. "
        "If that fails, sign in again.",
        GuideSlug.COOKIE_REFRESH,
    )


def _check_refresh_task(scheduler: RefreshScheduler) -> HealthCheck:
    key = CheckKey.REFRESH_TASK
    err = scheduler.last_error
    if scheduler.stopped_for_user:
        reason = err.message if err is not None else "an error that needs you"
        slug = err.guide_slug if err is not None else GuideSlug.REAUTH_LOOP
        return _error(key, f"Automatic refresh stopped: {reason}", slug)
    if not scheduler.running:
        return _error(
            key,
            "Automatic refresh is not running: the cookies will expire after 14 days.",
            GuideSlug.REAUTH_LOOP,
        )
    if scheduler.consecutive_failures and err is not None:
        when = f"; next try {format_utc(scheduler.next_due)}" if scheduler.next_due else ""
        return _warn(
            key,
            f"Automatic refresh is retrying after {scheduler.consecutive_failures} failed "
            f"attempt(s) ({err.code}){when}.",
            err.guide_slug,
        )
    return _ok(key, f"Automatic refresh is running (every {scheduler.interval_days:g} days).")


def _check_last_refresh(
    manager: AuthSessionManager, status: SessionStatus, scheduler: RefreshScheduler | None
) -> HealthCheck:
    key = CheckKey.LAST_REFRESH
    cookies = manager.cookies
    due = next_refresh_due(cookies.timestamp if cookies else None, scheduler)
    next_text = f" Next refresh due {format_utc(due)}." if due is not None else ""
    if status.last_refresh_at is None:
        return _ok(key, f"No cookie refresh yet.{next_text}")
    when = format_utc(status.last_refresh_at)
    if status.last_refresh_ok:
        return _ok(key, f"The last cookie refresh succeeded ({when}).{next_text}")
    code = status.last_refresh_error or "unknown"
    slug = slug_for_code(status.last_refresh_error) or GuideSlug.COOKIE_REFRESH
    return _warn(key, f"The last cookie refresh failed ({code}, {when}).{next_text}", slug)


def _check_login_attempts(status: SessionStatus, backoff_reason: str | None) -> HealthCheck:
    key = CheckKey.LOGIN_ATTEMPTS
    used = status.password_attempts_last_hour
    budget = f"{used} of {PASSWORD_ATTEMPTS_PER_HOUR} password attempts used in the last hour"
    if status.login_not_before is not None and status.signed_in:
        # Nothing waits for a sign-in while the session works: news, not a problem.
        return _ok(
            key,
            f"A new sign-in would wait until {format_utc(status.login_not_before)} ({budget}); "
            "the session works without one.",
        )
    if status.login_not_before is not None:
        slug = GuideSlug.ATTEMPT_LIMIT
        obstacle = error_class(backoff_reason)
        if used < PASSWORD_ATTEMPTS_PER_HOUR and obstacle is not None and obstacle.starts_backoff:
            slug = obstacle.guide_slug
        return _warn(
            key,
            f"Sign-in is paused until {format_utc(status.login_not_before)} to protect the "
            f"account ({budget}).",
            slug,
        )
    return _ok(key, f"{budget[0].upper()}{budget[1:]}.")
