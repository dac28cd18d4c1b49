"""
The redacted diagnostics report: everything support needs, nothing an attacker could use.

The report is made of the records themselves (the session status, the attempt record, the
refresh task, the checks, the recent events, and the host's own record in ``extra``), each as its
``to_dict()``, the way Home Assistant builds diagnostics: every key in :data:`TO_REDACT` is then
replaced by :data:`REDACTED` wherever it occurs, however deep, and every key in
:data:`TIMESTAMP_KEYS` is written as UTC text. A field added to a record later shows up at once;
name it in :data:`TO_REDACT` if it can hold a secret. A report never holds the e-mail address,
the password, the 2FA key, tokens, cookies, csrf values, device serials, customer ids, the device
key, ``frc``, ``map-md``, the captcha's address or a credential fingerprint. As a last line,
anything shaped like an e-mail address in any text (a masked one in a message, the alexa
provider's file name) is replaced as well.
"""

from __future__ import annotations

import dataclasses
import platform
import re
from typing import TYPE_CHECKING, Any, Final

import music_assistant_alexa
from music_assistant_alexa.auth.clock import iso_utc
from music_assistant_alexa.auth.refresh import DAY, next_refresh_due
from music_assistant_alexa.auth.session import PASSWORD_ATTEMPTS_PER_HOUR

from .checks import read_state

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music_assistant_alexa.auth.refresh import RefreshScheduler
    from music_assistant_alexa.auth.session import AuthSessionManager

    from .checks import HealthCheck

REPORT_VERSION: Final = 2
REDACTED: Final = "**REDACTED**"
#: Keys whose values never appear in a report (a None value stays None: "there is none").
TO_REDACT: Final = frozenset(
    {
        "access_token",
        "account_label",
        "adp_token",
        "captcha_url",
        "cookies",
        "csrf",
        "customer_id",
        "customer_name",
        "device_private_key",
        "device_serial",
        "email",
        "fingerprint",
        "fingerprint_salt",
        "frc",
        "map_md",
        "password",
        "refresh_token",
        "totp_key",
        "username",
        "value",
    }
)
#: Keys holding epoch seconds (or lists of them), written as ISO 8601 UTC.
TIMESTAMP_KEYS: Final = frozenset(
    {
        "access_token_expires_at",
        "at",
        "cookie_timestamp",
        "file_cookie_timestamp",
        "generated_at",
        "last_refresh_at",
        "last_reload_at",
        "last_run_at",
        "live_cookie_timestamp",
        "login_not_before",
        "modified_at",
        "next_due",
        "not_before",
        "password_submissions",
        "registered_at",
        "reload_due_by",
        "reload_pending_since",
    }
)
#: The alexa provider's session files are named after the account (``alexa_media.<e-mail>.pickle``).
_SESSION_FILE_NAME: Final = re.compile(r"alexa_media\.[^\s/]+?(\.pickle|\.cookies)")
#: Anything shaped like an e-mail address, masked or not ("h***@example.com").
_EMAIL_LIKE: Final = re.compile(r"[\w.+*%-]+@[\w-]+(?:\.[\w-]+)+")
#: Distributions whose versions help to reproduce a problem.
_DISTRIBUTIONS: Final = ("aiohttp", "pyotp", "mashumaro", "music-assistant-models")
_MAX_EVENTS: Final = 50


async def build_report(
    manager: AuthSessionManager,
    checks: list[HealthCheck],
    *,
    scheduler: RefreshScheduler | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """
    Return the redacted diagnostics of one account, safe to attach to a public issue.

    :param manager: The account's session manager.
    :param checks: Results of :func:`~.checks.run_checks`.
    :param scheduler: The account's refresh task, when one is used.
    :param extra: The host's own record (redacted like the rest).
    """
    state = await read_state(manager)
    status = manager.status()
    now = manager.clock.time()
    age = (
        None if status.cookie_timestamp is None else round((now - status.cookie_timestamp) / DAY, 2)
    )
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "generated_at": now,
        "versions": _versions(),
        "session": {**dataclasses.asdict(status), "cookie_age_days": age},
        "refresh": {
            "next_due": next_refresh_due(status.cookie_timestamp, scheduler),
            "scheduler": scheduler.to_dict() if scheduler is not None else None,
        },
        "login": {
            **(state.attempts.to_dict() if state is not None else {}),
            "password_attempts_per_hour": PASSWORD_ATTEMPTS_PER_HOUR,
        },
        "checks": [check.to_dict() for check in checks],
        "events": [event.to_dict() for event in (state.events if state else [])[-_MAX_EVENTS:]],
    }
    if extra:
        report["extra"] = dict(extra)
    cleaned: dict[str, Any] = _present(report)
    return cleaned


def _present(data: Any, key: str | None = None) -> Any:
    """Return data with secret keys redacted and timestamps as text, JSON-able throughout."""
    if key in TO_REDACT and data is not None:
        return REDACTED
    if isinstance(data, dict):
        return {str(k): _present(v, str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [_present(item, key) for item in data]
    if key in TIMESTAMP_KEYS and isinstance(data, int | float) and not isinstance(data, bool):
        return iso_utc(data)
    if isinstance(data, str) and "@" in data:
        return _EMAIL_LIKE.sub(REDACTED, _SESSION_FILE_NAME.sub(rf"alexa_media.{REDACTED}\1", data))
    return data


def _versions() -> dict[str, str | None]:
    # Imported here: importlib.metadata (and zipfile under it) costs about 9 ms at import, and
    # only a diagnostics report needs it.
    from importlib import metadata  # noqa: PLC0415

    versions: dict[str, str | None] = {
        "music-assistant-alexa": music_assistant_alexa.__version__,
        "python": platform.python_version(),
    }
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
