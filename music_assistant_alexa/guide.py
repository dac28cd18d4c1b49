"""
Troubleshooting-guide sections, by slug, and how a link to one is written in each place.

Slugs are the contract between the code and the guide (``docs/troubleshooting.md``, shipped in
the package as ``troubleshooting.md``): every error and every health check names one, and a test
keeps the list in step with the guide's anchors.

The code that raises an error or runs a check carries only the slug; whoever shows the message
renders the link for its own place with a :data:`GuideLinker`:

- inside Music Assistant, the guide is served by MA's own web server at :data:`GUIDE_ROUTE`, so
  the adapter renders links with :func:`web_linker` and MA's base URL;
- in the terminal, :func:`command_link` names the command that prints the section;
- :func:`guide_link`, the default for callers that know no place, is the public guide when the
  project has a public home (:data:`PUBLIC_GUIDE_URL`), otherwise the command.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Final, TypeAlias

#: The guide's address on the project's public home, for example a repository's rendering of
#: docs/troubleshooting.md. Empty until the project has a public home: no link may point at a
#: page that does not exist.
PUBLIC_GUIDE_URL: Final = ""

#: Path of the guide on Music Assistant's web server (the provider's domain, then ``guide``).
GUIDE_ROUTE: Final = "/alexa_auth/guide"

#: The terminal command that lists the guide's sections; add a slug to print one.
GUIDE_COMMAND: Final = "music-assistant-alexa guide"

#: Renders the link to one guide section, given its slug, for one place.
GuideLinker: TypeAlias = Callable[[str], str]


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
    BROWSER_SIGN_IN = "sign-in-in-your-browser"


def command_link(slug: str) -> str:
    """
    Return the terminal command that prints one section of the guide.

    :param slug: The section's slug.
    """
    return f"{GUIDE_COMMAND} {slug}"


def public_link(slug: str) -> str | None:
    """
    Return the section's address on the project's public home, or None while it has none.

    :param slug: The section's slug.
    """
    return f"{PUBLIC_GUIDE_URL}#{slug}" if PUBLIC_GUIDE_URL else None


def web_linker(base_url: str) -> GuideLinker:
    """
    Return a linker to the guide served by Music Assistant's web server.

    Music Assistant's frontend opens only absolute http(s) links (``help_link``, a manifest's
    ``documentation``), so the link carries MA's base URL.

    :param base_url: MA's base URL (``mass.webserver.base_url``), for example
        ``http://192.168.1.10:8095``.
    """
    root = base_url.rstrip("/")

    def link(slug: str) -> str:
        return f"{root}{GUIDE_ROUTE}#{slug}"

    return link


def guide_link(slug: str) -> str:
    """
    Return the default link to one section: the public guide, or the command while there is none.

    Presenters that know their place render links with their own :data:`GuideLinker` instead.

    :param slug: The section's slug.
    """
    return public_link(slug) or command_link(slug)
