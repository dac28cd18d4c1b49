"""
Health checks of one account's Amazon session: what is wrong, in one sentence, and where the fix is.

Every check yields a :class:`HealthCheck` with a status, a plain sentence and the section of our
troubleshooting guide that fixes it. Checks read local state only (the store folder, the
manager's snapshot, the refresh task), except the session check, which asks Amazon once and only
when ``validate`` is set. Messages are built from non-secret values only: no e-mail address, no
key, no token and no cookie value ever appears in one.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from music_assistant_alexa.auth.errors import AlexaAuthError, ErrorCategory
from music_assistant_alexa.auth.refresh import DEFAULT_INTERVAL_DAYS, refresh_due_at
from music_assistant_alexa.auth.session import PASSWORD_ATTEMPTS_PER_HOUR
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE
from music_assistant_alexa.auth.totp import KEY_LENGTH, parse_totp_key
from music_assistant_alexa.guide import GuideSlug, guide_link

if TYPE_CHECKING:
    from pathlib import Path

    from music_assistant_alexa.auth.models import SessionState
    from music_assistant_alexa.auth.refresh import RefreshScheduler
    from music_assistant_alexa.auth.session import AuthSessionManager, SessionStatus

DAY: Final = 86_400.0
#: Cookie age (days) from which a refresh is recommended, and from which it is urgent.
COOKIE_AGE_WARNING_DAYS: Final = 7.0
COOKIE_AGE_URGENT_DAYS: Final = 12.0
#: Amazon stops accepting website cookies this many days after issuing them.
COOKIE_LIFETIME_DAYS: Final = 14.0
#: Clock offset from Amazon (seconds) beyond which one-time codes are at risk, and fail.
CLOCK_WARNING_SECONDS: Final = 15.0
CLOCK_ERROR_SECONDS: Final = 30.0
REGISTRATION_KEY: Final = "formerRegistrationData"
_UNREADABLE_MARK: Final = ".unreadable-"


class CheckStatus(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class CheckKey(StrEnum):
    """The stable key of each health check (also named in the troubleshooting guide)."""

    SIGNED_IN = "signed_in"
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


def _ok(key: CheckKey, message: str, slug: GuideSlug | None = None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.OK, message, slug)


def _warn(key: CheckKey, message: str, slug: GuideSlug | None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.WARNING, message, slug)


def _error(key: CheckKey, message: str, slug: GuideSlug | None) -> HealthCheck:
    return HealthCheck(str(key), CheckStatus.ERROR, message, slug)


def format_time(epoch: float) -> str:
    """
    Return a moment as short UTC text for messages ("2026-11-08 12:00 UTC").

    :param epoch: Epoch seconds.
    """
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _error_classes(root: type[AlexaAuthError] = AlexaAuthError) -> list[type[AlexaAuthError]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_error_classes(sub))
    return found


def slug_for_code(code: str | None) -> GuideSlug | None:
    """
    Return the guide section for an error code recorded in the history, if the code is known.

    :param code: An :attr:`AlexaAuthError.code`.
    """
    if code is None:
        return None
    for cls in _error_classes():
        if cls.code == code:
            return cls.guide_slug
    return None


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
    :param validate: Also ask Amazon whether the session works (one request; it also measures
        the clock offset).
    """
    state = await read_state(manager)
    folder = manager.store.folder
    registration_file, cookies_file, unreadable = await asyncio.to_thread(_read_folder, folder)
    checks = [
        _check_signed_in(manager, registration_file),
        _check_cookie_age(manager, cookies_file),
        await _check_permissions(manager),
        _check_unreadable(manager, unreadable),
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


def _read_json(path: Path) -> Any:
    """Return a file's JSON, or None when it is missing or not JSON (never moves it)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _read_folder(folder: Path) -> tuple[Any, Any, list[str]]:
    """Return the raw registration and cookie files and the names of unreadable copies."""
    try:
        unreadable = sorted(p.name for p in folder.iterdir() if _UNREADABLE_MARK in p.name)
    except OSError:
        unreadable = []
    return (
        _read_json(folder / REGISTRATION_FILE),
        _read_json(folder / COOKIES_FILE),
        unreadable,
    )


def _check_signed_in(manager: AuthSessionManager, raw: Any) -> HealthCheck:
    key = CheckKey.SIGNED_IN
    if raw is None:
        return _error(
            key,
            "Not signed in: no device registration is stored. Sign in from the settings.",
            GuideSlug.COOKIE_REFRESH,
        )
    stored = raw.get(REGISTRATION_KEY) if isinstance(raw, dict) else None
    if not isinstance(stored, dict):
        return _error(
            key,
            f"{REGISTRATION_FILE} has no {REGISTRATION_KEY}: every sign-in would register a "
            "new device. Sign in again to store it.",
            GuideSlug.REAUTH_LOOP,
        )
    if not stored.get("refresh_token"):
        return _error(
            key,
            f"The stored {REGISTRATION_KEY} has no refresh token: the session cannot be "
            "renewed. Sign in again.",
            GuideSlug.REAUTH_LOOP,
        )
    stored_market = stored.get("marketplace")
    wanted = manager.hosts.marketplace.domain
    if isinstance(stored_market, str) and stored_market and stored_market != wanted:
        return _warn(
            key,
            f"The stored device was registered for {stored_market}, but the settings say "
            f"{wanted}. Choose the marketplace your account belongs to and sign in again.",
            GuideSlug.CREDENTIALS,
        )
    name = stored.get("device_name")
    device = f' as device "{name}"' if isinstance(name, str) and name else ""
    return _ok(key, f"Signed in{device}; the device registration ({REGISTRATION_KEY}) is stored.")


def _cookie_timestamp(manager: AuthSessionManager, raw: Any) -> float | None:
    if manager.cookies is not None:
        return manager.cookies.timestamp
    if isinstance(raw, dict) and isinstance(raw.get("timestamp"), int | float):
        return float(raw["timestamp"])
    return None


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


def _check_cookie_age(manager: AuthSessionManager, raw: Any) -> HealthCheck:
    timestamp = _cookie_timestamp(manager, raw)
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


def _check_unreadable(manager: AuthSessionManager, on_disk: list[str]) -> HealthCheck:
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
        when = f"; next try {format_time(scheduler.next_due)}" if scheduler.next_due else ""
        return _warn(
            key,
            f"Automatic refresh is retrying after {scheduler.consecutive_failures} failed "
            f"attempt(s) ({err.code}){when}.",
            err.guide_slug,
        )
    return _ok(key, f"Automatic refresh is running (every {scheduler.interval_days:g} days).")


def next_refresh_due(
    manager: AuthSessionManager, scheduler: RefreshScheduler | None
) -> float | None:
    """
    Return when the next cookie refresh is due, from the scheduler or the default interval.

    None when nothing is scheduled: no cookies, or a task that stopped until the user acts.

    :param manager: The account's session manager.
    :param scheduler: The refresh task, if any.
    """
    if scheduler is not None:
        if scheduler.stopped_for_user:
            return None
        return scheduler.next_due if scheduler.next_due is not None else scheduler.due_at()
    if manager.cookies is None:
        return None
    return refresh_due_at(manager.cookies.timestamp, DEFAULT_INTERVAL_DAYS)


def _check_last_refresh(
    manager: AuthSessionManager, status: SessionStatus, scheduler: RefreshScheduler | None
) -> HealthCheck:
    key = CheckKey.LAST_REFRESH
    due = next_refresh_due(manager, scheduler)
    next_text = f" Next refresh due {format_time(due)}." if due is not None else ""
    if status.last_refresh_at is None:
        return _ok(key, f"No cookie refresh yet.{next_text}")
    when = format_time(status.last_refresh_at)
    if status.last_refresh_ok:
        return _ok(key, f"The last cookie refresh succeeded ({when}).{next_text}")
    code = status.last_refresh_error or "unknown"
    slug = slug_for_code(status.last_refresh_error) or GuideSlug.COOKIE_REFRESH
    return _warn(key, f"The last cookie refresh failed ({code}, {when}).{next_text}", slug)


_PAUSE_SLUGS: Final = {
    "captcha_required": GuideSlug.CAPTCHA,
    "account_locked": GuideSlug.ACCOUNT_LOCKOUT,
    "bot_challenge": GuideSlug.HEADLESS,
}


def _check_login_attempts(status: SessionStatus, backoff_reason: str | None) -> HealthCheck:
    key = CheckKey.LOGIN_ATTEMPTS
    used = status.password_attempts_last_hour
    budget = f"{used} of {PASSWORD_ATTEMPTS_PER_HOUR} password attempts used in the last hour"
    if status.login_not_before is not None:
        slug = GuideSlug.ATTEMPT_LIMIT
        if used < PASSWORD_ATTEMPTS_PER_HOUR and backoff_reason in _PAUSE_SLUGS:
            slug = _PAUSE_SLUGS[backoff_reason]
        return _warn(
            key,
            f"Sign-in is paused until {format_time(status.login_not_before)} to protect the "
            f"account ({budget}).",
            slug,
        )
    return _ok(key, f"{budget[0].upper()}{budget[1:]}.")
