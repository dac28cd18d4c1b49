"""
Health checks and a redacted report for one account's Amazon session.

Used by the ``music-assistant-alexa doctor`` command and by Music Assistant's diagnostics. It
reads the auth core and never imports Music Assistant; nothing it returns holds a secret.
"""

from __future__ import annotations

from .checks import CheckKey, CheckStatus, HealthCheck, run_checks
from .render import render_checks
from .report import build_report

__all__ = [
    "CheckKey",
    "CheckStatus",
    "HealthCheck",
    "build_report",
    "render_checks",
    "run_checks",
]
