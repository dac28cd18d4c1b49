"""
The Amazon simulator: one aiohttp server on loopback that plays every Amazon host.

Clients resolve ``www.amazon.<tld>``, ``api.amazon.<tld>``, ``alexa.amazon.<tld>`` and
``api.amazonalexa.com`` to the simulator and speak plain http to it; the ``Host`` header (or
``X-Forwarded-Host``) picks the service. Every request is logged, checked for protocol
violations (cookies of one marketplace sent to another, cookies of two accounts in one request,
paths a host does not serve, csrf mismatches), subjected to the scenario's transport faults
and stamped with a ``Date`` header from the injected clock.

The server only routes: the sign-in flow, the token service and the Alexa web host answer from
the :class:`~.state.SimulatorState` they share, with the plain builders of :mod:`.responses`,
and never call back into the server or each other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from aiohttp import web

from .accounts import SimAccount, http_date, make_echo_devices
from .alexa import AlexaWeb
from .browser_signals import SimPasskey
from .captcha import captcha_picture
from .context import RequestContext, parse_cookie_header
from .marketplaces import MARKETPLACES, HostInfo, HostKind, classify_host
from .pages import not_found_page
from .responses import html_response, truncate_json
from .signin import SignInFlow
from .state import SimulatorState
from .tokens import TokenService

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable

    from .accounts import Ledger
    from .context import Handler
    from .scenarios import Scenario

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """
    One request the simulator received.

    :param method: HTTP method.
    :param host: Host name (without port) the request was for.
    :param path: Path without query.
    :param status: Status answered; 0 when the connection was dropped.
    :param time: Simulator time of arrival.
    """

    method: str
    host: str
    path: str
    status: int
    time: float


class AmazonSimulator:
    """
    A local stand-in for Amazon's sign-in, registration, token and Alexa web endpoints.

    :param clock: Returns epoch seconds; every time-based decision uses it (plus
        :attr:`clock_skew`). Defaults to :func:`time.time`.
    :param host: Address to bind.
    :param port: Port to bind; 0 picks a free one (see :attr:`port` after :meth:`start`).
    :param ssl_context: Serve https with this server context (a certificate for Amazon's host
        names, e.g. from a local test CA), for clients that insist on https; plain http when
        ``None``.
    """

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """
        Prepare an unstarted simulator with no accounts.

        :param clock: Epoch-seconds clock; :func:`time.time` when ``None``.
        :param host: Address to bind.
        :param port: Port to bind (0 = any free port).
        :param ssl_context: Server TLS context for https, or ``None`` for plain http.
        """
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        # What the services share: accounts, ledger, scenario, clock, violations.
        self.state = SimulatorState(clock=clock or time.time)
        self.request_log: list[RequestRecord] = []
        self._signin = SignInFlow(self.state)
        self._tokens = TokenService(self.state)
        self._alexa = AlexaWeb(self.state)
        self._routes = self._route_table()
        self._runner: web.AppRunner | None = None

    # -- the shared state, as tests reach it ------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        """
        Return the global scenario (an account's own scenario replaces it for that account).

        :return: The scenario; tests flip its switches.
        """
        return self.state.scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self.state.scenario = scenario

    @property
    def accounts(self) -> dict[str, SimAccount]:
        """
        Return the accounts by the e-mail they were created with.

        :return: The accounts.
        """
        return self.state.accounts

    @property
    def ledger(self) -> Ledger:
        """
        Return everything the simulator has issued.

        :return: The ledger.
        """
        return self.state.ledger

    @property
    def violations(self) -> list[str]:
        """
        Return the protocol violations seen so far.

        :return: Messages, oldest first.
        """
        return self.state.violations

    @property
    def clock_skew(self) -> float:
        """
        Return how far the simulator's clock is ahead of the injected one.

        :return: Seconds (negative: behind).
        """
        return self.state.clock_skew

    @clock_skew.setter
    def clock_skew(self, seconds: float) -> None:
        self.state.clock_skew = seconds

    @property
    def captcha_answer(self) -> str:
        """
        Return the characters every captcha picture shows.

        :return: The answer (compared ignoring case).
        """
        return self.state.captcha_answer

    @captcha_answer.setter
    def captcha_answer(self, answer: str) -> None:
        self.state.captcha_answer = answer

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """
        Return the URL the simulator listens on, e.g. ``http://127.0.0.1:39157``.

        :return: The base URL without trailing slash (``https`` with a TLS context).
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and start serving; sets :attr:`port` to the bound port."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(self._stamp_date)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving and close open connections."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        """
        Start the simulator.

        :return: The started simulator.
        """
        await self.start()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Stop the simulator."""
        await self.stop()

    # -- accounts and test controls --------------------------------------------------------------

    def now(self) -> float:
        """
        Return simulator time: the injected clock plus :attr:`clock_skew`.

        :return: Epoch seconds.
        """
        return self.state.now()

    def add_account(  # noqa: PLR0913 - mirrors the public API every test calls
        self,
        email: str,
        password: str,
        totp_secret: str,
        *,
        marketplace: str = "amazon.com",
        name: str = "Test User",
        scenario: Scenario | None = None,
    ) -> SimAccount:
        """
        Create an account with two-step verification by authenticator app.

        :param email: Sign-in email (matched case-insensitively).
        :param password: Sign-in password.
        :param totp_secret: Base32 authenticator key (spaces allowed).
        :param marketplace: Home marketplace domain, one of the 12.
        :param name: Full name; the first word is the given name.
        :param scenario: Per-account misbehaviour, replacing the global scenario for it.
        :return: The account.
        :raises ValueError: For an unknown marketplace or a key that is not base32.
        """
        if marketplace not in MARKETPLACES:
            msg = f"unknown marketplace {marketplace!r}; use one of {sorted(MARKETPLACES)}"
            raise ValueError(msg)
        account = SimAccount(
            email=email,
            password=password,
            totp_secret=totp_secret,
            marketplace=marketplace,
            name=name,
            scenario=scenario,
        )
        try:
            account.totp().now()
        except (ValueError, TypeError) as err:
            msg = "totp_secret is not a base32 key"
            raise ValueError(msg) from err
        account.echo_devices = make_echo_devices(account)
        self.accounts[email] = account
        return account

    def add_passkey(self, email: str) -> SimPasskey:
        """
        Give an account a passkey, held by the user's authenticator (returned: the test's).

        :param email: The account.
        :return: The passkey; its :meth:`~.browser_signals.SimPasskey.answer` is what the
            user's browser posts in a passkey form.
        """
        passkey = SimPasskey(self._account(email).email)
        self.state.passkeys[passkey.credential_id] = passkey
        return passkey

    def find_account(self, email: str) -> SimAccount | None:
        """
        Look up an account by email, ignoring case.

        :param email: The email.
        :return: The account, or ``None``.
        """
        return self.state.find_account(email)

    def _account(self, email: str) -> SimAccount:
        return self.state.account(email)

    def scenario_for(self, account: SimAccount | None) -> Scenario:
        """
        Return the scenario that governs an account.

        :param account: The account, or ``None`` before one is known.
        :return: The account's own scenario when set, else the global one.
        """
        return self.state.scenario_for(account)

    def device_count(self, email: str) -> int:
        """
        Count an account's registered (not deregistered) devices.

        :param email: The account.
        :return: The number of devices.
        """
        return len(self._account(email).devices)

    def request_count(
        self, path: str | None = None, *, method: str | None = None, host: str | None = None
    ) -> int:
        """
        Count logged requests.

        :param path: Only this path (without query).
        :param method: Only this method.
        :param host: Only this host name (a port is ignored).
        :return: The number of matching requests.
        """
        wanted_host = None if host is None else classify_host(host).name
        return sum(
            1
            for record in self.request_log
            if (path is None or record.path == path)
            and (method is None or record.method == method.upper())
            and (wanted_host is None or record.host == wanted_host)
        )

    def reset_counts(self) -> None:
        """Forget the request log."""
        self.request_log.clear()

    def violation(self, message: str) -> None:
        """
        Record a protocol violation.

        :param message: What the client did wrong.
        """
        self.state.violation(message)

    def revoke_refresh_tokens(self, email: str) -> None:
        """
        Revoke every refresh token of an account (as a password change does).

        :param email: The account.
        """
        self.ledger.revoke_refresh(self._account(email).email)

    def expire_cookies(self, email: str) -> None:
        """
        End every website-cookie session of an account now.

        :param email: The account.
        """
        self.ledger.expire_cookies(self._account(email).email, now=self.now())

    def expire_access_tokens(self, email: str) -> None:
        """
        Expire every access token of an account now.

        :param email: The account.
        """
        self.ledger.expire_access(self._account(email).email, now=self.now())

    def approve_sign_in(self, email: str) -> int:
        """
        Approve pending approval-page sign-ins, as tapping "approve" on the phone would.

        :param email: The account.
        :return: How many sign-ins were approved.
        """
        return self._signin.approve(self._account(email).email)

    def last_sent_otp(self, email: str) -> str | None:
        """
        Return the newest one-time code "sent" by SMS, voice call or approval message.

        :param email: The account.
        :return: The code, or ``None``.
        """
        return self._signin.last_sent_code(self._account(email).email)

    # -- dispatch ------------------------------------------------------------------------------

    def _route_table(self) -> dict[tuple[HostKind, str], dict[str, Handler]]:
        signin, tokens, alexa = self._signin, self._tokens, self._alexa
        www, api = HostKind.WWW, HostKind.API
        return {
            (www, "/ap/signin"): {"GET": signin.get_signin, "POST": signin.post_signin},
            (www, "/ap/maplanding"): {"GET": signin.get_maplanding},
            (www, "/ap/mfa/new-otp"): {"GET": signin.get_new_otp, "POST": signin.post_signin},
            (www, "/ap/cvf/request"): {"GET": signin.get_cvf_request},
            (www, "/ap/cvf/verify"): {"GET": signin.get_cvf_verify, "POST": signin.post_cvf_verify},
            (www, "/ap/cvf/approval"): {"GET": signin.get_approval},
            (www, "/ap/cvf/approval/poll"): {"GET": signin.get_approval_poll},
            (www, "/ap/cvf/approval/verifyOtp"): {"POST": signin.post_approval_code},
            (www, "/ap/cvf/approval/resend"): {"POST": signin.post_approval_resend},
            (www, "/errors/validateCaptcha"): {"GET": signin.get_validate_captcha},
            (www, "/ap/exchangetoken/cookies"): {"POST": tokens.exchange_cookies},
            (api, "/ap/exchangetoken/cookies"): {"POST": tokens.exchange_cookies},
            (api, "/auth/register"): {"POST": tokens.register},
            (api, "/auth/token"): {"POST": tokens.token},
            (api, "/auth/deregister"): {"POST": tokens.deregister},
            (HostKind.AMAZONALEXA, "/v1/devices/@self/capabilities"): {"PUT": tokens.capabilities},
            (HostKind.ALEXA, "/api/language"): {"GET": alexa.csrf_source},
            (HostKind.ALEXA, "/spa/index.html"): {"GET": alexa.spa_index},
            (HostKind.ALEXA, "/api/strings"): {"GET": alexa.csrf_source},
            (HostKind.ALEXA, "/templates/oobe/d-device-pick.handlebars"): {
                "GET": alexa.csrf_source
            },
            (HostKind.ALEXA, "/api/customer-status"): {
                "GET": alexa.customer_status,
                "POST": alexa.customer_status,
            },
            (HostKind.ALEXA, "/api/users/me"): {"GET": alexa.users_me},
            (HostKind.ALEXA, "/api/devices-v2/device"): {"GET": alexa.devices},
            (HostKind.ALEXA, "/api/welcome"): {"GET": alexa.welcome},
            (HostKind.ALEXA, "/api/endpoints"): {"GET": alexa.endpoints},
        }

    async def _stamp_date(self, request: web.Request, response: web.StreamResponse) -> None:
        # aiohttp only fills Date when absent; the simulator's clock (and skew) must win so
        # clients can detect clock drift against Amazon.
        del request
        response.headers["Date"] = http_date(self.now())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = self.now()
        forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        info = classify_host(forwarded or request.host)
        ctx = RequestContext(
            host=info,
            now=now,
            cookie_pairs=parse_cookie_header(request.headers.getall("Cookie", [])),
        )
        status = 0
        try:
            response = await self._respond(request, ctx)
            status = 0 if response is None else response.status
        finally:
            self.request_log.append(
                RequestRecord(request.method, info.name, request.path, status, now)
            )
        if response is None:
            # The connection is gone; aiohttp discards whatever is returned.
            return web.Response(status=499)
        return response

    async def _respond(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse | None:
        self._check_cookies(ctx)
        scenario = self.scenario
        if scenario.slow_seconds > 0:
            await asyncio.sleep(scenario.slow_seconds)
        if (
            scenario.drop_on_path is None or scenario.drop_on_path == request.path
        ) and scenario.take("drop_connections"):
            if request.transport is not None:
                request.transport.abort()
            return None
        if scenario.take("rate_limit"):
            return web.json_response(
                {"message": "Rate exceeded"}, status=scenario.rate_limit_status
            )
        if scenario.take("server_error"):
            return html_response(
                "<html><body><h1>Service Unavailable</h1></body></html>", status=503
            )
        handler = self._find_handler(request, ctx.host)
        if isinstance(handler, web.Response):
            return handler
        try:
            response = await handler(request, ctx)
        except web.HTTPException:
            raise
        except Exception as err:  # a simulator bug must fail the test, not hang the client
            _LOGGER.exception("simulator error on %s %s", request.method, request.path)
            self.violation(f"simulator error on {request.method} {request.path}: {err!r}")
            return web.Response(status=500, text="simulator error")
        if (
            isinstance(response, web.Response)
            and response.content_type == "application/json"
            and scenario.take("truncated_json")
        ):
            truncate_json(response)
        return response

    def _find_handler(self, request: web.Request, info: HostInfo) -> Handler | web.Response:
        if info.kind is HostKind.CAPTCHA:
            return captcha_picture(request)
        site = info.marketplace.www_url if info.marketplace else "https://www.amazon.com"
        if info.kind is None:
            if request.path == "/" and info.marketplace is None:
                # Health check on the bare address (standalone "is it up?").
                return web.Response(text="Amazon simulator\n")
            self.violation(f"{request.method} {request.path} on {info.name}: not an Amazon host")
            return html_response(not_found_page(site=site), status=404)
        methods = self._routes.get((info.kind, request.path))
        if methods is None:
            self.violation(
                f"{request.method} {request.path} on {info.name}: path not served by this host"
            )
            return html_response(not_found_page(site=site), status=404)
        handler = methods.get(request.method)
        if handler is None:
            self.violation(f"{request.method} {request.path} on {info.name}: method not allowed")
            return web.Response(status=405, headers={"Allow": ", ".join(sorted(methods))})
        return handler

    def _check_cookies(self, ctx: RequestContext) -> None:
        # A cookie only goes to the marketplace it was issued for, and one request never mixes
        # the signed-in cookies of two accounts (a shared jar, cross-talk between households).
        if ctx.host.kind is None:
            return
        here = ctx.host.marketplace.domain if ctx.host.marketplace else None
        owners: set[str] = set()
        for name, value in ctx.cookie_pairs:
            issued = self.ledger.issued_for(name, value)
            if issued and here not in issued:
                origin = ", ".join(f".{domain}" for domain in sorted(issued))
                self.violation(f"cookie {name} of {origin} sent to {ctx.host.name}")
            owner = self.ledger.owner_of(name, value)
            if owner is not None:
                owners.add(owner)
        if len(owners) > 1:
            self.violation(
                f"cookies of {len(owners)} different accounts in one request to {ctx.host.name}"
            )
