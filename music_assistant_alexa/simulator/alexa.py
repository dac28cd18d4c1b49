"""
The Alexa web host of the simulated Amazon (``alexa.amazon.<tld>``).

Requests authenticate with the website cookies of the host's own marketplace (``session-id``
plus ``at-<suffix>``). The csrf cookie comes from the pages clients fetch for it, and every
state-changing call must echo it in a ``csrf`` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from aiohttp import web

from . import pages
from .accounts import APP_DEVICE_TYPE
from .marketplaces import AMAZONALEXA_HOST
from .responses import html_response, json_response, redirect, set_cookie

if TYPE_CHECKING:
    from .accounts import CookieSet, SimAccount
    from .context import RequestContext
    from .state import SimulatorState

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class AlexaWeb:
    """
    Handlers of ``alexa.amazon.<tld>``.

    :param state: The simulator's shared state.
    """

    def __init__(self, state: SimulatorState) -> None:
        """
        Bind to the simulator's state.

        :param state: The simulator's shared state.
        """
        self._state = state

    # -- plumbing ------------------------------------------------------------------------------

    def _session(self, ctx: RequestContext) -> CookieSet | None:
        return self._state.ledger.session_for(ctx.cookies, ctx.market, ctx.now)

    def _signed_in(self, request: web.Request, ctx: RequestContext) -> CookieSet | web.Response:
        """
        Authenticate a web-app call by its cookies (and a csrf header, when one is sent).

        :param request: The request.
        :param ctx: The request context.
        :return: The session, or the unauthenticated answer (401, or the sign-in redirect).
        """
        session = self._session(ctx)
        if session is None:
            return self._denied(ctx)
        self._csrf_ok(request, ctx, session)
        return session

    def _denied(self, ctx: RequestContext) -> web.Response:
        state = self._state
        if state.scenario.alexa_unauth_redirect:
            market = ctx.market
            label = market.domain.rsplit(".", 1)[-1]
            handle = "amzn_dp_project_dee" + ("" if market.domain == "amazon.com" else f"_{label}")
            query = urlencode(
                {
                    "openid.assoc_handle": handle,
                    "openid.mode": "checkid_setup",
                    "openid.return_to": f"https://{market.alexa_host}/spa/index.html",
                }
            )
            return redirect(f"{market.www_url}/ap/signin?{query}")
        return json_response({"message": "Unauthorized"}, status=401)

    def _csrf_ok(self, request: web.Request, ctx: RequestContext, session: CookieSet) -> bool:
        state = self._state
        header = request.headers.get("csrf")
        cookie = ctx.cookies.get("csrf")
        if request.method in _SAFE_METHODS:
            if header is not None and header != cookie:
                state.violation(
                    f"{request.method} {ctx.host.name}{request.path}: csrf header mismatch"
                )
            return True
        issued = state.ledger.csrf.get(header or "")
        ok = (
            header is not None
            and header == cookie
            and issued is not None
            and issued.email == session.email
            and issued.market == session.market
        )
        if not ok:
            state.violation(f"{request.method} {ctx.host.name}{request.path}: csrf header mismatch")
        return ok

    def _account(self, session: CookieSet) -> SimAccount:
        return self._state.accounts[session.email]

    def _give_csrf(
        self, response: web.StreamResponse, request: web.Request, session: CookieSet
    ) -> web.StreamResponse:
        value = self._state.ledger.csrf_for(session)
        # Host-only cookie of alexa.amazon.<tld>, as the real web app sets it.
        set_cookie(
            response,
            name="csrf",
            value=value,
            domain=None,
            now=self._state.now(),
            secure=request.secure,
        )
        return response

    # -- csrf sources --------------------------------------------------------------------------

    async def csrf_source(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /api/language``, ``/api/strings``, the OOBE template: hand out the csrf cookie.

        :param request: The request.
        :param ctx: The request context.
        :return: 200 ``{}`` with ``Set-Cookie: csrf``, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        return self._give_csrf(json_response({}), request, session)

    async def spa_index(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /spa/index.html``: the web app shell; hands out the csrf cookie.

        :param request: The request.
        :param ctx: The request context.
        :return: 200 HTML with ``Set-Cookie: csrf``, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        response = html_response(pages.spa_index_page())
        return self._give_csrf(response, request, session)

    # -- JSON API ------------------------------------------------------------------------------

    async def customer_status(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        ``/api/customer-status``: 200 while the cookies are good, else 401.

        :param request: The request.
        :param ctx: The request context.
        :return: 200 JSON or 401.
        """
        session = self._session(ctx)
        if session is None or not self._csrf_ok(request, ctx, session):
            return json_response({"message": "Unauthorized"}, status=401)
        account = self._account(session)
        return json_response({"customerId": account.customer_id, "customerStatus": "ACTIVE"})

    async def users_me(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /api/users/me``: the account and its home marketplace.

        :param request: The request.
        :param ctx: The request context.
        :return: The §4 JSON, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        account = self._account(session)
        home = account.home
        return json_response(
            {
                "countryOfResidence": home.country,
                "effectiveMarketPlaceId": home.marketplace_id,
                "email": account.email,
                "firstName": account.given_name,
                "fullName": account.name,
                "hasActiveDopplers": True,
                "id": account.customer_id,
                "marketPlaceDomainName": home.www_url,
                "marketPlaceId": home.marketplace_id,
                "marketPlaceLocale": home.locale,
            }
        )

    async def devices(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /api/devices-v2/device``: Echo devices plus one entry per registered app device.

        The Echo devices only on the account's home marketplace.

        :param request: The request.
        :param ctx: The request context.
        :return: ``{"devices": [...]}`` with ``Set-Cookie: csrf``, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        account = self._account(session)
        # An account's Echo devices belong to its home marketplace: asked on another one (a
        # session signed in for the wrong marketplace), Amazon lists only the app devices.
        echos = account.echo_devices if session.market == account.home else []
        devices: list[dict[str, Any]] = [dict(device) for device in echos]
        devices.extend(
            {
                "accountName": device.device_name,
                "appDeviceList": [
                    {
                        "deviceAccountId": device.device_account_id,
                        "deviceType": APP_DEVICE_TYPE,
                        "serialNumber": device.serial,
                    }
                ],
                "capabilities": [],
                "clusterMembers": [],
                "deviceAccountId": device.device_account_id,
                "deviceFamily": "TABLET",
                "deviceOwnerCustomerId": account.customer_id,
                "deviceType": APP_DEVICE_TYPE,
                "online": True,
                "parentClusters": [],
                # The list entry's own serial is not the registered one: clients must look in
                # appDeviceList, as aioamazondevices does.
                "serialNumber": device.device_account_id,
                "softwareVersion": "0",
            }
            for device in account.devices.values()
        )
        response = json_response({"devices": devices})
        return self._give_csrf(response, request, session)

    async def welcome(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /api/welcome``: the Alexa host of the account's home marketplace.

        :param request: The request.
        :param ctx: The request context.
        :return: ``{"alexaHostName": ...}``, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        return json_response({"alexaHostName": self._account(session).home.alexa_host})

    async def endpoints(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        ``GET /api/endpoints``: where the account's web API lives.

        :param request: The request.
        :param ctx: The request context.
        :return: The endpoints JSON, or the unauthenticated answer.
        """
        session = self._signed_in(request, ctx)
        if isinstance(session, web.Response):
            return session
        home = self._account(session).home
        return json_response(
            {
                "alexaApiUrl": f"https://{AMAZONALEXA_HOST}",
                "retailDomain": home.domain,
                "retailUrl": home.www_url,
                "websiteApiUrl": f"https://{home.alexa_host}",
                "websiteUrl": f"https://{home.alexa_host}",
            }
        )
