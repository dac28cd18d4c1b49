"""
Amazon's device-auth API: register and deregister our device, mint tokens and cookies.

After the sign-in walk hands us an authorization code, ``/auth/register`` turns it into a
long-lived refresh token for *our* device (the serial we keep forever, so the account never
collects duplicates). From then on the refresh token alone yields access tokens
(``/auth/token``), marketplace cookies (``/ap/exchangetoken/cookies``) and, from the Alexa host,
the ``csrf`` cookie: no password and no 2FA code until Amazon revokes the device.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .endpoints import amazon_site
from .errors import (
    RegistrationError,
    SessionExpiredError,
    SessionRevokedError,
    UnexpectedResponseError,
)
from .models import Registration, StoredCookie

if TYPE_CHECKING:
    from .answers import (
        AccessTokenAnswer,
        CookieExchangeAnswer,
        ErrorAnswer,
        RegisterAnswer,
        WebsiteCookie,
    )
    from .endpoints import AmazonHosts
    from .http import AmazonHttp, HttpResponse

DEVICE_TYPE: Final = "A2IVLV5VM2W81"  # the Alexa iOS app
APP_NAME: Final = "Music Assistant"
APP_VERSION: Final = "2.2.663733.0"
SOFTWARE_VERSION: Final = "35602678"
OS_VERSION: Final = "18.5"
SDK_VERSION: Final = "6.12.4"
_TERMINAL_GRANT_ERRORS: Final = frozenset({"invalid_grant", "invalid_token", "unauthorized_client"})
#: The Alexa app's OpenID association handle (Japan's carries a suffix).
ASSOC_HANDLE: Final = "amzn_dp_project_dee_ios"
#: Where Amazon's sign-in ends: a "page not found" whose address carries the code.
LANDING_PATH: Final = "/ap/maplanding"
#: The landing address's parameter holding the authorization code.
CODE_PARAMETER: Final = "openid.oa2.authorization_code"
_CSRF_PATHS: Final = ("/api/language", "/spa/index.html")
#: The Alexa web API's "who am I": the account's e-mail and marketplace.
USERS_ME_PATH: Final = "/api/users/me"


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who we are to Amazon: the device serial, and the values derived from it."""

    serial: str = field(repr=False)
    frc: str = field(repr=False)
    map_md: str = field(repr=False)

    @classmethod
    def create(cls) -> DeviceIdentity:
        """Make a new identity, for the very first sign-in of an account."""
        return cls(uuid.uuid4().hex.upper(), _new_frc(), _map_md())

    @classmethod
    def from_registration(cls, registration: Registration) -> DeviceIdentity:
        """
        Reuse the identity of the stored registration.

        :param registration: The stored registration.
        """
        return cls(
            registration.device_serial,
            registration.frc or _new_frc(),
            registration.map_md or _map_md(),
        )

    @property
    def client_id(self) -> str:
        """Return the OAuth client id: hex of serial + "#" + device type."""
        return f"{self.serial}#{DEVICE_TYPE}".encode().hex()


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str = field(repr=False)

    @classmethod
    def create(cls) -> Pkce:
        """Make a fresh verifier (32 random bytes, URL-safe base64 without padding)."""
        return cls(base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode())

    @property
    def challenge(self) -> str:
        """Return the S256 challenge of the verifier."""
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _new_frc() -> str:
    return base64.b64encode(secrets.token_bytes(313)).decode().rstrip("=")


def _map_md() -> str:
    payload = {
        "device_user_dictionary": [],
        "device_registration_data": {"software_version": SOFTWARE_VERSION},
        "app_identifier": {"app_version": APP_VERSION, "bundle_id": "com.amazon.echo"},
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """What ``/api/users/me`` says about the signed-in account (nothing secret kept)."""

    #: The site Amazon names as the account's marketplace ("amazon.de"), or "" when it names
    #: none we can read.
    marketplace: str
    #: The csrf cookie, when Amazon set one on the answer ("" otherwise).
    csrf: str = field(default="", repr=False)


@dataclass(slots=True)
class RegisteredDevice:
    """What ``/auth/register`` gave us."""

    registration: Registration
    cookies: list[StoredCookie] = field(repr=False)


def _token_form(refresh_token: str, requested: str, **extra: str) -> dict[str, str]:
    return {
        "app_name": APP_NAME,
        "app_version": APP_VERSION,
        "di.sdk.version": SDK_VERSION,
        "source_token": refresh_token,
        "package_name": "com.amazon.echo",
        "di.hw.version": "iPhone",
        "platform": "iOS",
        "requested_token_type": requested,
        "source_token_type": "refresh_token",
        "di.os.name": "iOS",
        "di.os.version": OS_VERSION,
        "current_version": SDK_VERSION,
        "previous_version": SDK_VERSION,
        **extra,
    }


async def register_device(  # noqa: PLR0913 - every argument is one part of the grant
    http: AmazonHttp,
    *,
    authorization_code: str,
    pkce: Pkce,
    device: DeviceIdentity,
    device_name: str,
    now: float,
) -> RegisteredDevice:
    """
    Register our device with the authorization code from the sign-in walk.

    :param http: The account's HTTP client.
    :param authorization_code: Code from the maplanding redirect.
    :param pkce: The verifier whose challenge the sign-in page got.
    :param device: Our device identity.
    :param device_name: Name Amazon shows in the account's device list.
    :param now: Epoch seconds, for the token expiry.
    :raises RegistrationError: Amazon refused the registration.
    """
    hosts = http.hosts
    body = {
        "requested_extensions": ["device_info", "customer_info"],
        "cookies": {"website_cookies": [], "domain": hosts.marketplace.cookie_domain},
        "registration_data": {
            "domain": "Device",
            "app_version": APP_VERSION,
            "device_type": DEVICE_TYPE,
            "device_name": device_name,
            "os_version": OS_VERSION,
            "device_serial": device.serial,
            "device_model": "iPhone",
            "app_name": APP_NAME,
            "software_version": SOFTWARE_VERSION,
        },
        "auth_data": {
            "use_global_authentication": "true",
            "client_id": device.client_id,
            "authorization_code": authorization_code,
            "code_verifier": pkce.verifier,
            "code_algorithm": "SHA-256",
            "client_domain": "DeviceLegacy",
        },
        "user_context_map": {"frc": device.frc},
        "requested_token_type": ["bearer", "mac_dms", "website_cookies"],
    }
    resp = await http.request(
        "POST", hosts.url(hosts.api, "/auth/register"), json_body=body, headers=_json_headers()
    )
    if resp.status != 200:
        msg = f"Amazon refused to register this device (HTTP {resp.status})."
        refusal = await asyncio.to_thread(_read_error, _error_body(resp))
        raise RegistrationError(msg, amazon_text=_amazon_error_text(refusal, resp))
    answer = await asyncio.to_thread(_read_register, resp.json())
    success = answer.response.success
    tokens = success.tokens
    bearer = tokens.bearer
    mac_dms = tokens.mac_dms
    extensions = success.extensions
    device_info = extensions.device_info if extensions else None
    customer = extensions.customer_info if extensions else None
    registration = Registration(
        device_serial=device.serial,
        marketplace=hosts.marketplace.domain,
        refresh_token=bearer.refresh_token,
        access_token=bearer.access_token,
        access_token_expires_at=now + bearer.expires_in,
        adp_token=mac_dms.adp_token if mac_dms else "",
        device_private_key=mac_dms.device_private_key if mac_dms else "",
        frc=device.frc,
        map_md=device.map_md,
        device_name=(device_info.device_name if device_info else None) or device_name,
        device_type=(device_info.device_type if device_info else None) or DEVICE_TYPE,
        customer_id=customer.user_id if customer else "",
        customer_name=(customer.given_name or customer.name or "") if customer else "",
        home_region=customer.home_region if customer else "",
        registered_at=now,
    )
    cookies = _stored(tokens.website_cookies or [], hosts.marketplace.cookie_domain)
    return RegisteredDevice(registration, cookies)


async def refresh_access_token(http: AmazonHttp, refresh_token: str) -> tuple[str, int]:
    """
    Mint a new access token from the refresh token.

    :param http: The account's HTTP client.
    :param refresh_token: The device's refresh token.
    :return: The access token and its lifetime in seconds.
    :raises SessionRevokedError: Amazon revoked the device.
    """
    hosts = http.hosts
    resp = await http.request(
        "POST",
        hosts.url(hosts.api, "/auth/token"),
        data=_token_form(refresh_token, "access_token"),
    )
    answer = await asyncio.to_thread(_read_access_token, await _token_answer(resp))
    token, lifetime = answer.access_token, answer.expires_in
    if answer.token_type.lower() != "bearer" or not token:
        msg = "Amazon's token answer has no bearer token."
        raise UnexpectedResponseError(msg)
    return token, lifetime


async def exchange_cookies(http: AmazonHttp, refresh_token: str) -> list[StoredCookie]:
    """
    Mint fresh website cookies for the marketplace from the refresh token.

    :param http: The account's HTTP client.
    :param refresh_token: The device's refresh token.
    :raises SessionRevokedError: Amazon revoked the device.
    """
    hosts = http.hosts
    domain = hosts.marketplace.cookie_domain
    resp = await http.request(
        "POST",
        hosts.url(hosts.www, "/ap/exchangetoken/cookies"),
        data=_token_form(refresh_token, "auth_cookies", domain=domain),
    )
    missing = f"Amazon's cookie answer has no cookies for {domain}."
    answer = await asyncio.to_thread(_read_cookie_exchange, await _token_answer(resp), missing)
    cookies = answer.response.tokens.cookies.get(domain)
    if cookies is None:
        raise UnexpectedResponseError(missing)
    return _stored(cookies, domain)


async def fetch_csrf(http: AmazonHttp) -> str:
    """
    Ask the Alexa host for the ``csrf`` cookie that Alexa web-API calls must echo.

    :param http: The account's HTTP client (with the marketplace cookies loaded).
    :raises SessionExpiredError: Amazon does not accept the cookies.
    """
    hosts = http.hosts
    for path in _CSRF_PATHS:
        url = hosts.url(hosts.alexa, path)
        resp = await http.request("GET", url, headers=_alexa_headers(hosts))
        if resp.status in (401, 403) or _is_sign_in_redirect(resp):
            msg = "Amazon did not accept the session cookies."
            raise SessionExpiredError(msg)
        csrf = http.cookie_value("csrf", resp.url)
        if csrf:
            return csrf
    msg = "Amazon did not hand out the csrf cookie."
    raise UnexpectedResponseError(msg)


async def fetch_account_profile(http: AmazonHttp) -> AccountProfile:
    """
    Ask the Alexa host which marketplace the signed-in account belongs to (one request).

    A 200 answer also proves what the csrf request proves: Amazon accepts the cookies there.

    :param http: The account's HTTP client (with the marketplace cookies loaded).
    :raises SessionExpiredError: Amazon does not accept the cookies.
    :raises UnexpectedResponseError: Amazon's answer is not the account's JSON.
    """
    hosts = http.hosts
    query = {"platform": "ios", "version": APP_VERSION}
    url = hosts.url(hosts.alexa, USERS_ME_PATH, query)
    resp = await http.request("GET", url, headers=_alexa_headers(hosts))
    if resp.status in (401, 403) or _is_sign_in_redirect(resp):
        msg = "Amazon did not accept the session cookies."
        raise SessionExpiredError(msg)
    if resp.status != 200:
        msg = f"Amazon's account answer was HTTP {resp.status}."
        raise UnexpectedResponseError(msg)
    data = resp.json()
    named = data.get("marketPlaceDomainName") if isinstance(data, dict) else None
    return AccountProfile(amazon_site(named) or "", http.cookie_value("csrf", resp.url) or "")


async def session_is_valid(http: AmazonHttp, csrf: str) -> bool:
    """
    Ask Amazon whether the cookies are signed in (``/api/customer-status``).

    :param http: The account's HTTP client (with the marketplace cookies loaded).
    :param csrf: The csrf value to echo.
    """
    hosts = http.hosts
    headers = _alexa_headers(hosts)
    if csrf:
        headers["csrf"] = csrf
    resp = await http.request(
        "GET", hosts.url(hosts.alexa, "/api/customer-status"), headers=headers
    )
    return resp.status == 200


async def deregister_device(http: AmazonHttp, access_token: str) -> bool:
    """
    Remove our device from the account at Amazon, revoking its refresh token.

    :param http: The account's HTTP client.
    :param access_token: A current access token of the device.
    :return: Whether Amazon confirmed.
    """
    hosts = http.hosts
    resp = await http.request(
        "POST",
        hosts.url(hosts.api, "/auth/deregister"),
        json_body={"requested_deregister_type": "deregister_device"},
        headers={**_json_headers(), "Authorization": f"Bearer {access_token}"},
    )
    return resp.status == 200


def sign_in_query(device: DeviceIdentity, pkce: Pkce, hosts: AmazonHosts) -> dict[str, str]:
    """
    Return the query of the OpenID/OAuth2 sign-in page for our device.

    :param device: Our device identity.
    :param pkce: The PKCE pair of this sign-in.
    :param hosts: The marketplace's hosts.
    """
    return {
        "openid.return_to": f"https://{hosts.sign_in}{LANDING_PATH}",
        "openid.oa2.code_challenge_method": "S256",
        # Amazon Japan signs in on its own site, with the handle suffixed as alexa-cookie2
        # does there; everywhere else the global sign-in on amazon.com takes the bare handle.
        "openid.assoc_handle": ASSOC_HANDLE + ("_jp" if hosts.sign_in.endswith(".jp") else ""),
        "openid.identity": "http://specs.openid.net/auth/2.0/identifier_select",
        "pageId": ASSOC_HANDLE,
        "accountStatusPolicy": "P1",
        "openid.claimed_id": "http://specs.openid.net/auth/2.0/identifier_select",
        "openid.mode": "checkid_setup",
        "openid.ns.oa2": "http://www.amazon.com/ap/ext/oauth/2",
        "openid.oa2.client_id": f"device:{device.client_id}",
        "language": hosts.marketplace.language.replace("-", "_"),
        "openid.ns.pape": "http://specs.openid.net/extensions/pape/1.0",
        "openid.oa2.code_challenge": pkce.challenge,
        "openid.oa2.scope": "device_auth_access",
        "openid.ns": "http://specs.openid.net/auth/2.0",
        "openid.pape.max_auth_age": "0",
        "openid.oa2.response_type": "code",
    }


def init_cookies(device: DeviceIdentity, hosts: AmazonHosts) -> list[StoredCookie]:
    """
    Return the cookies the Alexa app sets before its first sign-in request.

    Amazon serves fewer captchas to clients that carry them.

    :param device: Our device identity.
    :param hosts: The marketplace's hosts.
    """
    domain = f".{hosts.marketplace.sign_in_domain}"
    values = {
        "frc": device.frc,
        "map-md": device.map_md,
        "amzn-app-id": "MAPiOSLib/6.0/ToHideRetailLink",
    }
    return [StoredCookie(name=k, value=v, domain=domain) for k, v in values.items()]


def _stored(cookies: list[WebsiteCookie], domain: str) -> list[StoredCookie]:
    return [cookie.stored(domain) for cookie in cookies]


async def _token_answer(resp: HttpResponse) -> Any:
    """Return a token endpoint's JSON, mapping a revoked grant onto :class:`SessionRevokedError`."""
    if resp.status == 200:
        return resp.json()
    answer = await asyncio.to_thread(_read_error, _error_body(resp))
    if resp.status in (400, 401, 403) and answer and answer.error in _TERMINAL_GRANT_ERRORS:
        msg = "Amazon no longer accepts this device's sign-in; sign in again."
        raise SessionRevokedError(msg, amazon_text=_amazon_error_text(answer, resp))
    msg = f"Amazon's token service answered HTTP {resp.status}."
    raise UnexpectedResponseError(msg, amazon_text=_amazon_error_text(answer, resp))


# The answer models (.answers) are imported on first use and read in a worker thread: creating
# their mashumaro classes (~20 ms) and compiling their parsers (~10 ms) would otherwise cost
# every import of the package, or block Music Assistant's event loop at the first sign-in.


def _read_register(data: Any) -> RegisterAnswer:
    from .answers import RegisterAnswer, parse_answer  # noqa: PLC0415 - see above

    return parse_answer(RegisterAnswer, data, "Amazon's registration answer is missing the tokens.")


def _read_access_token(data: Any) -> AccessTokenAnswer:
    from .answers import AccessTokenAnswer, parse_answer  # noqa: PLC0415 - see above

    return parse_answer(AccessTokenAnswer, data, "Amazon's token answer has no access token.")


def _read_cookie_exchange(data: Any, missing: str) -> CookieExchangeAnswer:
    from .answers import CookieExchangeAnswer, parse_answer  # noqa: PLC0415 - see above

    return parse_answer(CookieExchangeAnswer, data, missing)


def _read_error(data: Any) -> ErrorAnswer | None:
    from .answers import error_answer  # noqa: PLC0415 - see above

    return error_answer(data)


def _error_body(resp: HttpResponse) -> Any:
    """Return an error answer's JSON, or None: its status says enough when the body is not JSON."""
    try:
        return resp.json()
    except UnexpectedResponseError:
        return None


def _amazon_error_text(answer: ErrorAnswer | None, resp: HttpResponse) -> str | None:
    """Return Amazon's words on an error: the answer's text, else the WWW-Authenticate header."""
    text = answer.text if answer is not None else None
    return text if text is not None else resp.headers.get("WWW-Authenticate")


def _json_headers() -> dict[str, str]:
    return {"Accept": "application/json", "Content-Type": "application/json; charset=utf-8"}


def _alexa_headers(hosts: AmazonHosts) -> dict[str, str]:
    origin = f"https://{hosts.alexa}"
    return {"Accept": "application/json", "Referer": f"{origin}/spa/index.html", "Origin": origin}


def _is_sign_in_redirect(resp: HttpResponse) -> bool:
    return resp.is_redirect and "/ap/signin" in (resp.location or "")
