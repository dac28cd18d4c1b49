"""
Troubleshooting-guide sections, by slug.

Slugs are the contract between the code and ``docs/troubleshooting.md``: every error and every
health check names one, and a test keeps the list in step with the guide's anchors. Links are the
manifest's ``documentation`` URL plus ``#slug``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

GUIDE_URL: Final = "https://github.com/music-assistant-alexa/music-assistant-alexa/blob/main/docs/troubleshooting.md"


class GuideSlug(StrEnum):
    """A section of our troubleshooting guide."""

    PASSKEY = "passkey-conflict-resolution"
    TWO_FACTOR = "2fa-configuration"
    TWO_FACTOR_KEY = "2fa-key-format"
    CLOCK_DRIFT = "clock-drift"
    COOKIE_REFRESH = "cookie-refresh"
    CAPTCHA = "captcha-issues"
    APPROVAL = "sign-in-approval"
    ACCOUNT_LOCKOUT = "account-lockout"
    ATTEMPT_LIMIT = "sign-in-attempt-limit"
    CREDENTIALS = "email-password-and-marketplace"
    REAUTH_LOOP = "reauthentication-loop"
    HEADLESS = "headless-browser-detection"
    AMAZON_UNREACHABLE = "amazon-unreachable"
    UNEXPECTED_PAGE = "unexpected-amazon-page"
    SESSION_STORAGE = "session-storage"
    COMPLETE_REAUTH = "complete-re-authentication"
    ALEXA_PLAYERS = "alexa-players"


def guide_link(slug: GuideSlug | str) -> str:
    """
    Return the URL of one section of the troubleshooting guide.

    :param slug: The section's slug.
    """
    return f"{GUIDE_URL}#{slug}"
