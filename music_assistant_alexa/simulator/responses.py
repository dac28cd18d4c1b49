"""
Plain builders of the simulated Amazon's HTTP answers.

Each takes everything it needs as arguments and returns an :class:`aiohttp.web.Response`; none
knows the simulator's state. Transport faults (a JSON body cut short, a dropped connection) are
applied by the server after a handler answered, not here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .accounts import COOKIE_EXPIRES_AHEAD, http_date

if TYPE_CHECKING:
    from collections.abc import Mapping


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """
    Build a JSON response.

    :param data: The body.
    :param status: HTTP status.
    :param headers: Extra headers.
    :return: The response.
    """
    return web.Response(
        text=json.dumps(data),
        status=status,
        content_type="application/json",
        headers=dict(headers) if headers else None,
    )


def html_response(body: str, *, status: int = 200) -> web.Response:
    """
    Build an HTML response.

    :param body: The page.
    :param status: HTTP status.
    :return: The response.
    """
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def empty_response(status: int) -> web.Response:
    """
    Build a response without body.

    :param status: HTTP status, e.g. 204.
    :return: The response.
    """
    return web.Response(status=status)


def redirect(location: str) -> web.Response:
    """
    Build a 302 to a real Amazon URL (clients map the host back to the simulator).

    :param location: Absolute https URL.
    :return: The response.
    """
    return web.Response(status=302, headers={"Location": location})


def set_cookie(  # noqa: PLR0913 - one argument per cookie attribute Amazon sets
    response: web.StreamResponse,
    *,
    name: str,
    value: str,
    domain: str | None,
    now: float,
    secure: bool,
) -> None:
    """
    Set a cookie with Amazon's far-future expiry.

    :param response: The response to add ``Set-Cookie`` to.
    :param name: Cookie name.
    :param value: Cookie value.
    :param domain: ``.amazon.<tld>``, or ``None`` for a host-only cookie.
    :param now: Simulator time; the cookie expires far after it.
    :param secure: Mark it ``Secure`` (only over https, or it would never come back over the
        simulator's plain http).
    """
    response.set_cookie(
        name,
        value,
        domain=domain,
        path="/",
        expires=http_date(now + COOKIE_EXPIRES_AHEAD),
        secure=secure,
    )


def truncate_json(response: web.Response) -> None:
    """
    Cut a response's body in half, as a connection cut mid-body leaves it.

    :param response: A handler's answer.
    """
    text = response.text or ""
    response.text = text[: len(text) // 2]
