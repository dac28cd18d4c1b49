"""
Per-request facts every simulator handler needs: which host was asked, the cookies, the time.

Cookies are parsed here by hand rather than through ``http.cookies``: Amazon's values contain
``|`` and double quotes, which the standard parser rejects or mangles, and every client library
strips the quotes anyway, so the simulator compares unquoted values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from multidict import MultiDict

from .accounts import unquote_cookie

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from aiohttp import web

    from .marketplaces import HostInfo, Marketplace


@dataclass(slots=True)
class RequestContext:
    """
    What the dispatcher learnt about a request before handing it to a handler.

    :param host: The classified host name (``X-Forwarded-Host`` wins over ``Host``).
    :param now: Simulator time (clock plus skew) when the request arrived.
    :param cookie_pairs: Every cookie sent, in order, with unquoted values.
    """

    host: HostInfo
    now: float
    cookie_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def cookies(self) -> dict[str, str]:
        """
        Return the cookies by name; the first of duplicate names wins, as in browsers.

        :return: Name to unquoted value.
        """
        found: dict[str, str] = {}
        for name, value in self.cookie_pairs:
            found.setdefault(name, value)
        return found

    @property
    def market(self) -> Marketplace:
        """
        Return the marketplace of an ``amazon.<tld>`` host.

        :return: The marketplace.
        :raises LookupError: When the host has none (only routed hosts reach handlers).
        """
        if self.host.marketplace is None:
            msg = f"{self.host.name} has no marketplace"
            raise LookupError(msg)
        return self.host.marketplace


def parse_cookie_header(headers: Iterable[str]) -> list[tuple[str, str]]:
    """
    Split ``Cookie`` header values into name/value pairs.

    :param headers: All ``Cookie`` header values of the request.
    :return: ``(name, unquoted value)`` in the order sent.
    """
    pairs: list[tuple[str, str]] = []
    for header in headers:
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                pairs.append((name.strip(), unquote_cookie(value.strip())))
    return pairs


async def read_form(request: web.Request) -> MultiDict[str]:
    """
    Read a url-encoded form body, keeping repeated names and dropping file uploads.

    :param request: The request.
    :return: Name to value(s), in the order posted.
    """
    data = await request.post()
    return MultiDict((name, value) for name, value in data.items() if isinstance(value, str))


if TYPE_CHECKING:
    # The handler signature shared by the route table and the handler classes.
    Handler: TypeAlias = Callable[[web.Request, RequestContext], Awaitable[web.StreamResponse]]
