"""
The troubleshooting guide on Music Assistant's own web server, at :data:`~..guide.GUIDE_ROUTE`.

Every link the adapter shows (alerts, ``last_error``, setup-flow steps, help links) points
here, so the guide must be served whenever a link to it can be on screen. MA's dynamic routes
(``mass.webserver.register_dynamic_route``, MA 2.9 and newer) are answered without MA's login
(MA's own setup-flow callbacks rely on that), so a link opens in a new browser tab as it is.

:class:`GuideRoute` registers the route once per server, whichever of the provider's parts
needs it first, and keeps count of who holds it: each loaded instance and each running setup
flow. It unregisters the route when the last holder lets go (the last instance unloads). The
2.9 settings form only makes sure the route is there (it has no moment to let go); an instance
that failed to load keeps holding, because its ``last_error`` links to the guide.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from music_assistant_alexa.guide import GUIDE_ROUTE
from music_assistant_alexa.guide_document import (
    UnknownSectionError,
    guide_page_html,
    section_page_html,
)

if TYPE_CHECKING:
    from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)

#: Query parameter that asks for one section (with its subsections) instead of the whole guide.
SECTION_PARAMETER: Final = "section"
#: The page is static text with inline styles: nothing to run, nothing to fetch.
_HEADERS: Final = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def serve_guide(request: web.Request) -> web.Response:
    """
    Answer a request for the guide: the whole guide, or one section with ``?section=SLUG``.

    :param request: The request MA's web server passed on.
    """
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, headers={"Allow": "GET, HEAD"})
    section = request.query.get(SECTION_PARAMETER)
    try:
        page = section_page_html(section) if section else guide_page_html()
    except UnknownSectionError:
        return web.Response(status=404, text="The guide has no such section.")
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=_HEADERS)


class GuideRoute:
    """The guide's route on one MA web server: registered while anybody holds it."""

    def __init__(self, webserver: Any) -> None:
        """
        Create the route's keeper; nothing is registered before the first :meth:`hold`.

        :param webserver: MA's web server (``mass.webserver``), or None outside MA.
        """
        self._webserver = webserver
        self._holders: set[str] = set()
        self._unregister: Callable[[], None] | None = None

    @property
    def registered(self) -> bool:
        """Return whether this keeper registered the route (and has not unregistered it)."""
        return self._unregister is not None

    def ensure(self) -> None:
        """Register the route if it is not registered yet (without holding it)."""
        if self._unregister is not None:
            return
        register = getattr(self._webserver, "register_dynamic_route", None)
        if register is None:
            return  # not inside MA (or an MA without dynamic routes): links still render
        try:
            self._unregister = register(GUIDE_ROUTE, serve_guide)
        except RuntimeError as err:
            # Registered already, by an earlier copy of this provider's code in this server
            # (its handler serves the same guide): leave it to its owner.
            _LOGGER.debug("The guide's route is not registered here: %s", err)

    def hold(self, holder: str) -> None:
        """
        Register the route if needed and keep it while ``holder`` needs it.

        :param holder: Who needs it: an instance id, a flow's key.
        """
        self._holders.add(holder)
        self.ensure()

    def release(self, holder: str) -> None:
        """
        Let go of the route; the last holder to let go unregisters it.

        :param holder: The key given to :meth:`hold`.
        """
        self._holders.discard(holder)
        if self._holders or self._unregister is None:
            return
        unregister, self._unregister = self._unregister, None
        unregister()
