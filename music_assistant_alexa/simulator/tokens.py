"""
Device registration and token endpoints of the simulated Amazon (``api.amazon.<tld>``).

Covers ``/auth/register`` (code + PKCE verifier, or an access token), ``/auth/token`` (access
token or cookies from a refresh token), ``/ap/exchangetoken/cookies`` (on www and api hosts),
``/auth/deregister`` and the capabilities PUT on ``api.amazonalexa.com``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .accounts import (
    ACCESS_TOKEN_LIFETIME,
    APP_DEVICE_TYPE,
    SimDevice,
    fake_mac_dms,
    request_id,
    store_authentication_cookie,
)
from .context import read_form
from .marketplaces import find_marketplace
from .oauth import client_id_for, s256
from .responses import empty_response, json_response

if TYPE_CHECKING:
    from aiohttp import web

    from .accounts import AuthCode, RefreshGrant, SimAccount
    from .context import RequestContext
    from .marketplaces import Marketplace
    from .state import SimulatorState

_INVALID_GRANT: Final = {
    "error": "invalid_grant",
    "error_description": "The request has an invalid grant parameter : refresh_token",
}
_PLACEHOLDER: Final = re.compile(r"%[A-Z0-9_]+%")


class TokenService:
    """
    Handlers for registration, token refresh, cookie exchange, deregistration, capabilities.

    :param state: The simulator's shared state.
    """

    def __init__(self, state: SimulatorState) -> None:
        """
        Bind to the simulator's state.

        :param state: The simulator's shared state.
        """
        self._state = state

    # -- error bodies --------------------------------------------------------------------------

    def _invalid_value(self, what: str) -> web.Response:
        # Real responses carry an opaque index; naming the field helps whoever reads a test log.
        body = {
            "response": {
                "error": {
                    "code": "InvalidValue",
                    "index": what,
                    "message": "One or more provided values are invalid.",
                }
            },
            "request_id": request_id(),
        }
        return json_response(body, status=400)

    def _credential_error(self, host: str, path: str) -> web.Response:
        description = "The input credential is invalid."
        body = {
            "response": {"error": {"code": "CredentialError", "message": description}},
            "request_id": request_id(),
        }
        header = (
            f'Basic realm="{host}{path}", error="CredentialError", '
            f'error_description="{description}"'
        )
        return json_response(body, status=401, headers={"WWW-Authenticate": header})

    def _oauth_error(self, error: str, description: str) -> web.Response:
        body = {"error": error, "error_description": description}
        return json_response(body, status=400)

    def _invalid_grant(self) -> web.Response:
        return json_response(dict(_INVALID_GRANT), status=400)

    def _unauthorized(self) -> web.Response:
        body = {
            "response": {"error": {"code": "Unauthorized", "message": "Access token is invalid."}},
            "request_id": request_id(),
        }
        return json_response(body, status=401)

    # -- /auth/register ------------------------------------------------------------------------

    async def register(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Register a device from a sign-in's authorization code (or an access token).

        :param request: JSON body as in the reference §3.
        :param ctx: The request context.
        :return: The §3 success JSON, 400 InvalidValue or 401 CredentialError.
        """
        parsed = _parse_register(await request.text())
        if isinstance(parsed, str):
            return self._invalid_value(parsed)
        auth = parsed.auth
        if "access_token" in auth:
            grant = self._state.ledger.valid_access(str(auth["access_token"]), ctx.now)
            if grant is None:
                return self._credential_error(ctx.host.name, request.path)
            email = grant.email
        else:
            code = self._redeem_code(auth, parsed.serial, ctx.now)
            if code == "credential":
                return self._credential_error(ctx.host.name, request.path)
            if isinstance(code, str):
                return self._invalid_value(code)
            email = code.email
        account = self._state.accounts[email]
        device = self._upsert_device(account, parsed.serial, parsed.registration, ctx.now)
        return json_response(self._registration_body(parsed, account, device, ctx.now))

    def _redeem_code(  # noqa: PLR0911 - one return per rejected field
        self, auth: dict[str, Any], serial: str, now: float
    ) -> AuthCode | str:
        """
        Check and consume an authorization code.

        :param auth: The request's ``auth_data``.
        :param serial: ``registration_data.device_serial`` of the request.
        :param now: Simulator time.
        :return: The code record, or ``"credential"`` / the name of the invalid field.
        """
        client_id = auth.get("client_id")
        code = auth.get("authorization_code")
        verifier = auth.get("code_verifier")
        if not isinstance(code, str) or not code:
            return "auth_data.authorization_code"
        if not isinstance(verifier, str) or not verifier:
            return "auth_data.code_verifier"
        if client_id != client_id_for(serial):
            return "auth_data.client_id"
        if auth.get("code_algorithm", "SHA-256") != "SHA-256":
            return "auth_data.code_algorithm"
        record = self._state.ledger.live_code(code, now)
        if record is None:
            return "credential"
        if record.client_id != client_id or record.serial != serial:
            return "auth_data.client_id"
        if s256(verifier) != record.challenge:
            return "auth_data.code_verifier"
        record.used = True  # one-time: only a fully valid request burns it
        return record

    def _upsert_device(
        self, account: SimAccount, serial: str, registration: dict[str, Any], now: float
    ) -> SimDevice:
        ledger = self._state.ledger
        # Re-registering a serial replaces that device's tokens; Amazon lists it only once.
        ledger.revoke_refresh(account.email, serial)
        refresh = ledger.new_refresh(account.email, serial)
        name = str(registration.get("device_name") or "%FIRST_NAME%'s Alexa App")
        name = name.replace("%FIRST_NAME%", account.given_name)
        name = name.replace("%DUPE_STRATEGY_1ST%", " ")
        name = _PLACEHOLDER.sub("", name)
        existing = account.devices.get(serial)
        if existing is not None:
            existing.refresh_token = refresh.token
            existing.registered_at = now
            existing.device_name = name
            return existing
        device = SimDevice(
            serial=serial,
            device_name=name,
            device_type=APP_DEVICE_TYPE,
            app_name=str(registration.get("app_name", "")),
            registered_at=now,
            refresh_token=refresh.token,
        )
        account.devices[serial] = device
        return device

    def _registration_body(
        self, parsed: _RegisterRequest, account: SimAccount, device: SimDevice, now: float
    ) -> dict[str, Any]:
        ledger = self._state.ledger
        requested = parsed.token_types
        extensions_requested = parsed.extensions
        market = parsed.market
        tokens: dict[str, Any] = {}
        if "bearer" in requested:
            access = ledger.new_access(account.email, device.serial, now)
            tokens["bearer"] = {
                "access_token": access.token,
                "refresh_token": device.refresh_token,
                # Amazon sends this one as a string; /auth/token sends a number.
                "expires_in": str(ACCESS_TOKEN_LIFETIME),
            }
        if "mac_dms" in requested:
            tokens["mac_dms"] = fake_mac_dms()
        if "website_cookies" in requested:
            cookie_set = ledger.new_cookie_set(
                email=account.email, serial=device.serial, market=market, now=now
            )
            tokens["website_cookies"] = cookie_set.as_json()
        if "store_authentication_cookie" in requested:
            tokens["store_authentication_cookie"] = store_authentication_cookie()
        extensions: dict[str, Any] = {}
        if "device_info" in extensions_requested:
            extensions["device_info"] = {
                "device_name": device.device_name,
                "device_serial_number": device.serial,
                "device_type": device.device_type,
            }
        if "customer_info" in extensions_requested:
            extensions["customer_info"] = {
                "account_pool": "Amazon",
                "user_id": account.user_id,
                "home_region": account.home.home_region,
                "name": account.name,
                "given_name": account.given_name,
            }
        return {
            "response": {"success": {"tokens": tokens, "extensions": extensions}},
            "request_id": request_id(),
        }

    # -- /auth/token and /ap/exchangetoken/cookies -----------------------------------------------

    def _refresh_grant(
        self, form: dict[str, str]
    ) -> tuple[RefreshGrant | None, web.Response | None]:
        state = self._state
        if state.scenario.invalid_grant:
            return None, self._invalid_grant()
        # Every client sends both (reference §5.1/§5.2); Amazon cannot guess a missing one.
        for name in ("source_token", "source_token_type"):
            if not form.get(name):
                return None, self._oauth_error(
                    "invalid_request", f"The request is missing a required parameter : {name}"
                )
        if form["source_token_type"] != "refresh_token":
            return None, self._oauth_error(
                "invalid_request", "The request has an invalid parameter : source_token_type"
            )
        source = form["source_token"]
        grant = state.ledger.valid_refresh(source)
        if grant is None or grant.serial not in state.accounts[grant.email].devices:
            return None, self._invalid_grant()
        if state.scenario_for(state.accounts[grant.email]).invalid_grant:
            return None, self._invalid_grant()
        return grant, None

    async def token(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Mint an access token or website cookies from a refresh token.

        :param request: Form body with ``requested_token_type`` and ``source_token``.
        :param ctx: The request context.
        :return: The token JSON, the §5.2 cookie JSON, or a 400 OAuth error.
        """
        form = await _form(request)
        grant, error = self._refresh_grant(form)
        if grant is None:
            return error or self._invalid_grant()
        requested = form.get("requested_token_type", "")
        if requested == "access_token":
            access = self._state.ledger.new_access(grant.email, grant.serial, ctx.now)
            return json_response(
                {
                    "access_token": access.token,
                    "token_type": "bearer",
                    "expires_in": ACCESS_TOKEN_LIFETIME,
                }
            )
        if requested == "auth_cookies":
            return self._cookies(form, grant, ctx)
        return self._oauth_error(
            "invalid_request", "The request has an invalid parameter : requested_token_type"
        )

    async def exchange_cookies(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Exchange a refresh token for website cookies of one marketplace.

        :param request: Form body (``requested_token_type=auth_cookies``, ``domain``, …).
        :param ctx: The request context.
        :return: The §5.2 cookie JSON or a 400 OAuth error.
        """
        form = await _form(request)
        grant, error = self._refresh_grant(form)
        if grant is None:
            return error or self._invalid_grant()
        if form.get("requested_token_type") != "auth_cookies":
            return self._oauth_error(
                "invalid_request", "The request has an invalid parameter : requested_token_type"
            )
        return self._cookies(form, grant, ctx)

    def _cookies(
        self, form: dict[str, str], grant: RefreshGrant, ctx: RequestContext
    ) -> web.Response:
        domain = form.get("domain") or ctx.market.domain
        market = find_marketplace(domain)
        if market is None:
            return self._oauth_error(
                "invalid_request", "The request has an invalid parameter : domain"
            )
        cookie_set = self._state.ledger.new_cookie_set(
            email=grant.email, serial=grant.serial, market=market, now=ctx.now
        )
        body = {
            "response": {"tokens": {"cookies": {market.cookie_domain: cookie_set.as_json()}}},
            "request_id": request_id(),
        }
        return json_response(body)

    # -- /auth/deregister ----------------------------------------------------------------------

    async def deregister(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Deregister the calling device (or all of the account's devices).

        :param request: Bearer or ``x-amz-access-token`` header; JSON body.
        :param ctx: The request context.
        :return: 200 ``{"response":{"success":{}}}`` or 401.
        """
        state = self._state
        token = _access_token(request)
        grant = state.ledger.valid_access(token, ctx.now) if token else None
        if grant is None:
            return self._unauthorized()
        text = await request.text()
        try:
            body = json.loads(text) if text.strip() else {}
        except ValueError:
            return self._invalid_value("body")
        if not isinstance(body, dict):
            return self._invalid_value("body")
        account = state.accounts[grant.email]
        if body.get("deregister_all_existing_accounts") is True:
            serials = list(account.devices)
        else:
            serials = [grant.serial]
        for serial in serials:
            account.devices.pop(serial, None)
            state.ledger.revoke_refresh(account.email, serial)
            # "Except of the access_token, all authentication data will lose validation."
            state.ledger.expire_cookies(account.email, serial, now=ctx.now)
        return json_response({"response": {"success": {}}, "request_id": request_id()})

    # -- api.amazonalexa.com -------------------------------------------------------------------

    async def capabilities(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Accept the device capabilities document.

        :param request: Bearer header and a JSON body.
        :param ctx: The request context.
        :return: 204, 400 for a non-JSON body, or 401.
        """
        state = self._state
        token = _access_token(request, bearer_only=True)
        grant = state.ledger.valid_access(token, ctx.now) if token else None
        if grant is None:
            return json_response({"message": "Unauthorized"}, status=401)
        try:
            document = json.loads(await request.text())
        except ValueError:
            return json_response({"message": "Invalid request body"}, status=400)
        device = state.accounts[grant.email].devices.get(grant.serial)
        if device is not None:
            device.capabilities = document
        return empty_response(204)


@dataclass(frozen=True, slots=True)
class _RegisterRequest:
    auth: dict[str, Any]
    registration: dict[str, Any]
    serial: str
    market: Marketplace
    token_types: list[str]
    extensions: list[str]


def _parse_register(text: str) -> _RegisterRequest | str:  # noqa: PLR0911 - one per field
    """
    Validate the shape of a registration request.

    :param text: The request body.
    :return: The parsed request, or the name of the first invalid field.
    """
    try:
        body = json.loads(text)
    except ValueError:
        return "body"
    if not isinstance(body, dict):
        return "body"
    auth = body.get("auth_data")
    registration = body.get("registration_data")
    if not isinstance(auth, dict) or not isinstance(registration, dict):
        return "auth_data"
    serial = registration.get("device_serial")
    if not isinstance(serial, str) or not serial:
        return "registration_data.device_serial"
    # The device type names the app being registered; Amazon does not assume one.
    if registration.get("device_type") != APP_DEVICE_TYPE:
        return "registration_data.device_type"
    cookies = body.get("cookies")
    domain = cookies.get("domain", ".amazon.com") if isinstance(cookies, dict) else ".amazon.com"
    market = find_marketplace(domain) if isinstance(domain, str) else None
    if market is None:
        return "cookies.domain"
    token_types = body.get("requested_token_type")
    if not isinstance(token_types, list) or not token_types:
        return "requested_token_type"
    # Extensions come only when requested, like store_authentication_cookie.
    extensions = body.get("requested_extensions")
    return _RegisterRequest(
        auth=auth,
        registration=registration,
        serial=serial,
        market=market,
        token_types=[str(t) for t in token_types],
        extensions=[str(e) for e in extensions] if isinstance(extensions, list) else [],
    )


async def _form(request: web.Request) -> dict[str, str]:
    # Single-valued view: the first value of each name wins.
    data = await read_form(request)
    return {name: data.getone(name) for name in data}


def _access_token(request: web.Request, *, bearer_only: bool = False) -> str:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if bearer_only:
        return ""
    return request.headers.get("x-amz-access-token", "").strip()
