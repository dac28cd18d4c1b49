"""
The redacted diagnostics report: everything support needs, nothing an attacker could use.

The report is built field by field from an allow-list (never by copying a record and deleting
what looks secret), so a field added to a model later stays out until someone adds it here on
purpose. It never holds the e-mail address, the password, the 2FA key, tokens, cookies, csrf
values, device serials, customer ids, the device private key, the adp token, ``frc`` or
``map-md``. Everything in it is JSON-serialisable.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

import music_assistant_alexa
from music_assistant_alexa.auth.session import PASSWORD_ATTEMPTS_PER_HOUR

from .checks import DAY, next_refresh_due, read_state

if TYPE_CHECKING:
    from music_assistant_alexa.auth.refresh import RefreshScheduler
    from music_assistant_alexa.auth.session import AuthSessionManager

    from .checks import HealthCheck

REPORT_VERSION: Final = 1
#: Distributions whose versions help to reproduce a problem.
_DISTRIBUTIONS: Final = ("aiohttp", "pyotp", "mashumaro", "music-assistant-models")
#: Key fragments that never belong in a report, even in the caller's ``extra``.
_SECRET_HINTS: Final = (
    "password",
    "secret",
    "token",
    "cookie",
    "csrf",
    "key",
    "email",
    "mail",
    "serial",
    "customer",
    "frc",
    "map_md",
    "map-md",
    "adp",
    "otp",
)
_MAX_EVENTS: Final = 50


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "music-assistant-alexa": music_assistant_alexa.__version__,
        "python": platform.python_version(),
    }
    versions.update({name: _version(name) for name in _DISTRIBUTIONS})
    return versions


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _clean_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """
    Keep the caller's scalar, non-secret-named fields (and lists of scalars).

    The caller is responsible for what it passes; this is a second line of defence.
    """
    cleaned: dict[str, Any] = {}
    for key, value in extra.items():
        name = str(key)
        if any(hint in name.lower() for hint in _SECRET_HINTS):
            continue
        if _scalar(value):
            cleaned[name] = value
        elif isinstance(value, list | tuple) and all(_scalar(v) for v in value):
            cleaned[name] = list(value)
    return cleaned


def _scheduler_section(scheduler: RefreshScheduler | None) -> dict[str, Any] | None:
    if scheduler is None:
        return None
    err = scheduler.last_error
    return {
        "running": scheduler.running,
        "stopped_for_user": scheduler.stopped_for_user,
        "interval_days": scheduler.interval_days,
        "consecutive_failures": scheduler.consecutive_failures,
        "last_error_code": err.code if err is not None else None,
        "last_error_guide_slug": str(err.guide_slug) if err is not None else None,
        "next_due": _iso(scheduler.next_due),
    }


async def build_report(
    manager: AuthSessionManager,
    checks: list[HealthCheck],
    *,
    scheduler: RefreshScheduler | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Return the redacted diagnostics of one account, safe to attach to a public issue.

    :param manager: The account's session manager.
    :param checks: Results of :func:`~.checks.run_checks`.
    :param scheduler: The account's refresh task, when one is used.
    :param extra: Further non-secret scalar fields from the caller (e.g. the host's version);
        keys that look secret and values that are not scalars are dropped.
    """
    state = await read_state(manager)
    events = state.events[-_MAX_EVENTS:] if state is not None else []
    status = manager.status()
    now = manager.clock.time()
    cookie_age = None
    if status.cookie_timestamp is not None:
        cookie_age = (now - status.cookie_timestamp) / DAY
    expires_in = None
    if status.access_token_expires_at:
        expires_in = int(status.access_token_expires_at - now)
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "generated_at": _iso(now),
        "versions": _versions(),
        "session": {
            "marketplace": status.marketplace,
            "signed_in": status.signed_in,
            "device_name": status.device_name,
            "registered_at": _iso(status.registered_at or None),
            "cookie_age_days": _round(cookie_age, 2),
            "access_token_expires_in_seconds": expires_in,
            "clock_offset_seconds": _round(status.clock_offset, 1),
            "unreadable_files": list(status.unreadable_files),
        },
        "refresh": {
            "last_at": _iso(status.last_refresh_at),
            "last_ok": status.last_refresh_ok,
            "last_error_code": status.last_refresh_error,
            "next_due": _iso(next_refresh_due(manager, scheduler)),
            "scheduler": _scheduler_section(scheduler),
        },
        "login": {
            "password_attempts_last_hour": status.password_attempts_last_hour,
            "password_attempts_per_hour": PASSWORD_ATTEMPTS_PER_HOUR,
            "not_before": _iso(status.login_not_before),
            "backoff_reason": state.attempts.backoff_reason if state is not None else None,
            "captcha_pending": status.captcha_url is not None,
        },
        "checks": [
            {
                "key": check.key,
                "status": str(check.status),
                "message": check.message,
                "guide_slug": str(check.guide_slug) if check.guide_slug is not None else None,
                "guide_url": check.guide_url,
            }
            for check in checks
        ],
        "events": [
            {
                "at": _iso(event.at),
                "kind": event.kind,
                "ok": event.ok,
                "error_code": event.error_code,
                "guide_slug": event.guide_slug,
                "detail": event.detail,
            }
            for event in events
        ],
    }
    if extra:
        report["extra"] = _clean_extra(extra)
    return report
