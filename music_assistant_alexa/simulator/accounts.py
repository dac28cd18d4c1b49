"""
Accounts, registered devices and every secret the simulated Amazon has handed out.

The :class:`Ledger` is the simulator's memory of issued credentials: authorization codes,
access and refresh tokens, website-cookie sets and csrf values, each with the account and device
it belongs to and its expiry on the simulator clock. Revoking or expiring is a flag flip here, so
a test can pull the rug from under the client at any moment.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Final

import pyotp

from .marketplaces import MARKETPLACES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .marketplaces import Marketplace
    from .scenarios import Scenario

APP_DEVICE_TYPE: Final = "A2IVLV5VM2W81"  # the Alexa iOS app, as every library registers
ACCESS_TOKEN_LIFETIME: Final = 3600
AUTH_CODE_LIFETIME: Final = 300  # LWA codes live 5 minutes; assumed the same for MAP
COOKIE_LIFETIME: Final = 14 * 24 * 3600  # alexa-cookie2: "A cookie is valid for 14 days"
# Amazon's cookies carry far-future Expires (session-id-time like 2411461805l); the 14-day
# validity is enforced server-side only, so a client jar never drops them on its own.
COOKIE_EXPIRES_AHEAD: Final = 20 * 365 * 24 * 3600

_UPPER_ALNUM: Final = string.ascii_uppercase + string.digits


def _random_text(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _b64(n_bytes: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(n_bytes)).decode().rstrip("=")


def _numeric_id() -> str:
    # session-id / ubid shape: 262-0541883-4191751
    first, second, third = (
        secrets.randbelow(900) + 100,
        secrets.randbelow(10**7),
        secrets.randbelow(10**7),
    )
    return f"{first}-{second:07d}-{third:07d}"


def unquote_cookie(value: str) -> str:
    """
    Strip the double quotes Amazon wraps some cookie values in.

    Every client library strips them before use, so the simulator compares unquoted values.

    :param value: A cookie value, quoted or not.
    :return: The value without surrounding quotes.
    """
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    return value


def http_date(timestamp: float) -> str:
    """
    Format a timestamp as an RFC 7231 date (``Sun, 06 Nov 1994 08:49:37 GMT``).

    :param timestamp: Epoch seconds.
    :return: The formatted date.
    """
    return formatdate(timestamp, usegmt=True)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """
    An account for the standalone simulator.

    :param email: Sign-in email.
    :param password: Sign-in password.
    :param totp_secret: Base32 authenticator-app key.
    :param marketplace: Home marketplace domain, e.g. ``amazon.de``.
    """

    email: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    marketplace: str = "amazon.com"


@dataclass(slots=True)
class SimDevice:
    """
    A device registered through /auth/register.

    :param serial: The device serial the client chose.
    :param device_name: Name shown in the Amazon account.
    :param device_type: Always the Alexa app type here.
    :param app_name: ``registration_data.app_name`` from the request.
    :param registered_at: Simulator time of the (last) registration.
    :param refresh_token: The device's current refresh token.
    :param device_account_id: Opaque id listed in ``/api/devices-v2/device``.
    :param capabilities: The last capabilities document PUT for the device.
    """

    serial: str
    device_name: str
    device_type: str
    app_name: str
    registered_at: float
    refresh_token: str = field(repr=False)
    device_account_id: str = field(default_factory=lambda: "A" + _random_text(_UPPER_ALNUM, 13))
    capabilities: Any = None


@dataclass(slots=True)
class SimAccount:
    """
    One Amazon account in the simulator.

    :param email: Sign-in email.
    :param password: Sign-in password.
    :param totp_secret: Base32 authenticator-app key (spaces allowed, as Amazon shows it).
    :param marketplace: Home marketplace domain, e.g. ``amazon.com``.
    :param name: Full name.
    :param scenario: Per-account misbehaviour; replaces the global scenario when set.
    :param customer_id: The Alexa customer id (``deviceOwnerCustomerId``, ``/api/users/me`` id).
    :param user_id: ``customer_info.user_id`` (``amzn1.account.…``).
    :param devices: Registered (not deregistered) app devices by serial.
    :param echo_devices: The account's fake Echo devices, in ``devices-v2`` shape.
    :param failed_passwords: Wrong passwords since the last good one (for ``lockout_after``).
    """

    email: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    marketplace: str = "amazon.com"
    name: str = "Test User"
    scenario: Scenario | None = None
    customer_id: str = field(default_factory=lambda: "A" + _random_text(_UPPER_ALNUM, 13))
    user_id: str = field(default_factory=lambda: "amzn1.account." + _random_text(_UPPER_ALNUM, 28))
    devices: dict[str, SimDevice] = field(default_factory=dict)
    echo_devices: list[dict[str, Any]] = field(default_factory=list)
    failed_passwords: int = 0

    @property
    def home(self) -> Marketplace:
        """
        Return the account's home marketplace.

        :return: The marketplace (``add_account`` accepts only known ones).
        """
        return MARKETPLACES[self.marketplace]

    @property
    def given_name(self) -> str:
        """
        Return the first word of the name, as ``customer_info.given_name``.

        :return: The given name.
        """
        return self.name.split(" ", 1)[0]

    def totp(self) -> pyotp.TOTP:
        """
        Return the account's TOTP generator.

        :return: A TOTP over the normalised key (Amazon shows it in groups of four).
        """
        return pyotp.TOTP(self.totp_secret.replace(" ", "").upper())

    def verify_totp(self, code: str, now: float) -> bool:
        """
        Check a one-time password the way Amazon tolerates clock drift (one step either side).

        :param code: The submitted code.
        :param now: Simulator time in epoch seconds.
        :return: Whether the code is valid now.
        """
        code = code.strip()
        if not code.isdigit():
            return False
        return self.totp().verify(code, for_time=int(now), valid_window=1)


def make_echo_devices(account: SimAccount) -> list[dict[str, Any]]:
    """
    Build two fake Echo devices for an account.

    :param account: The owner.
    :return: ``devices-v2`` entries.
    """
    return [
        {
            "accountName": label,
            "appDeviceList": [],
            "capabilities": ["VOLUME_SETTING", "AUDIO_PLAYER", "MICROPHONE"],
            "clusterMembers": [],
            "deviceAccountId": "A" + _random_text(_UPPER_ALNUM, 13),
            "deviceFamily": "ECHO",
            "deviceOwnerCustomerId": account.customer_id,
            "deviceType": device_type,
            "online": True,
            "parentClusters": [],
            "serialNumber": "G" + _random_text(_UPPER_ALNUM, 15),
            "softwareVersion": "8289672836",
        }
        for label, device_type in (
            (f"{account.given_name}'s Echo Dot", "A3S5BH2HU6VAYF"),
            (f"{account.given_name}'s Echo Show", "A4ZP7ZC4PI6TO"),
        )
    ]


@dataclass(slots=True)
class AuthCode:
    """
    A one-time authorization code from a finished sign-in.

    :param code: The code in the maplanding URL.
    :param email: The signed-in account.
    :param client_id: The hex client id (without ``device:``) of the sign-in.
    :param serial: The serial decoded from the client id.
    :param challenge: The PKCE S256 challenge of the sign-in.
    :param issued_at: Simulator time.
    :param used: Set once redeemed.
    """

    code: str
    email: str
    client_id: str
    serial: str
    challenge: str
    issued_at: float
    used: bool = False


@dataclass(slots=True)
class AccessGrant:
    """
    An access token (``Atna|``).

    :param token: The token.
    :param email: Owner account.
    :param serial: Device it was issued to.
    :param expires_at: Simulator time of expiry.
    """

    token: str = field(repr=False)
    email: str
    serial: str
    expires_at: float


@dataclass(slots=True)
class RefreshGrant:
    """
    A refresh token (``Atnr|``).

    :param token: The token.
    :param email: Owner account.
    :param serial: Device it was issued to.
    :param revoked: Set by deregistration, re-registration or ``revoke_refresh_tokens``.
    """

    token: str = field(repr=False)
    email: str
    serial: str
    revoked: bool = False


@dataclass(slots=True)
class CookieSet:
    """
    One issuance of website cookies for one marketplace.

    :param email: Owner account.
    :param serial: Device whose refresh token (or registration) produced them.
    :param market: The marketplace the cookies are for.
    :param values: Cookie name to wire value (quoted where Amazon quotes).
    :param issued_at: Simulator time.
    :param expires_at: Simulator time after which Amazon no longer accepts them.
    :param csrf: The csrf value handed out for this session, once asked for.
    """

    email: str
    serial: str
    market: Marketplace
    values: dict[str, str] = field(repr=False)
    issued_at: float
    expires_at: float
    csrf: str | None = None

    def as_json(self) -> list[dict[str, Any]]:
        """
        Render the cookies as the register / exchange responses list them.

        :return: ``[{"Name", "Value", "Path", "Secure", "HttpOnly", "Expires"}, …]``.
        """
        expires = http_date(self.issued_at + COOKIE_EXPIRES_AHEAD)
        return [
            {
                "Name": name,
                "Value": value,
                "Path": "/",
                "Secure": True,
                "HttpOnly": name.startswith(("at-", "sess-at-", "session-token")),
                "Expires": expires,
            }
            for name, value in self.values.items()
        ]


@dataclass(slots=True)
class Ledger:
    """
    Everything the simulator has issued, keyed for lookup by value.

    :param codes: Authorization codes.
    :param access: Access tokens.
    :param refresh: Refresh tokens.
    :param cookie_sets: Website-cookie sets keyed by their unquoted ``at-<sfx>`` value.
    :param cookie_domains: (name, unquoted value) of every cookie issued, to its marketplaces
        (a timestamp such as ``session-id-time`` can repeat across issuances).
    :param cookie_owners: (name, unquoted value) of every signed-in cookie and csrf value, to
        the account it was issued to (anonymous sign-in cookies and timestamps have no owner).
    :param csrf: csrf value to the cookie set it was issued for.
    """

    codes: dict[str, AuthCode] = field(default_factory=dict)
    access: dict[str, AccessGrant] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    cookie_sets: dict[str, CookieSet] = field(default_factory=dict)
    cookie_domains: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    cookie_owners: dict[tuple[str, str], str] = field(default_factory=dict)
    csrf: dict[str, CookieSet] = field(default_factory=dict)

    # -- authorization codes -------------------------------------------------------------------

    def new_code(
        self, *, email: str, client_id: str, serial: str, challenge: str, now: float
    ) -> AuthCode:
        """
        Issue a one-time authorization code.

        :param email: The signed-in account.
        :param client_id: Hex client id of the sign-in.
        :param serial: Serial decoded from the client id.
        :param challenge: PKCE challenge of the sign-in.
        :param now: Simulator time.
        :return: The code record.
        """
        # Real codes look like ANeGrdrnBRfxyPFeCHsnRVmI: letters only, 20+ characters.
        code = _random_text(string.ascii_letters, 24)
        record = AuthCode(code, email, client_id, serial, challenge, now)
        self.codes[code] = record
        return record

    def live_code(self, code: str, now: float) -> AuthCode | None:
        """
        Look up an authorization code that can still be redeemed (without redeeming it).

        :param code: The submitted code.
        :param now: Simulator time.
        :return: The record, or ``None`` when unknown, used or older than 5 minutes.
        """
        record = self.codes.get(code)
        if record is None or record.used or now - record.issued_at > AUTH_CODE_LIFETIME:
            return None
        return record

    # -- bearer tokens -------------------------------------------------------------------------

    def new_access(self, email: str, serial: str, now: float) -> AccessGrant:
        """
        Issue an access token valid for an hour.

        :param email: Owner.
        :param serial: Device.
        :param now: Simulator time.
        :return: The grant.
        """
        grant = AccessGrant("Atna|" + _b64(270), email, serial, now + ACCESS_TOKEN_LIFETIME)
        self.access[grant.token] = grant
        return grant

    def new_refresh(self, email: str, serial: str) -> RefreshGrant:
        """
        Issue a refresh token.

        :param email: Owner.
        :param serial: Device.
        :return: The grant.
        """
        grant = RefreshGrant("Atnr|" + _b64(290), email, serial)
        self.refresh[grant.token] = grant
        return grant

    def valid_access(self, token: str, now: float) -> AccessGrant | None:
        """
        Look up a live access token.

        :param token: The token as sent.
        :param now: Simulator time.
        :return: The grant, or ``None`` when unknown or expired.
        """
        grant = self.access.get(token.strip())
        if grant is None or now >= grant.expires_at:
            return None
        return grant

    def valid_refresh(self, token: str) -> RefreshGrant | None:
        """
        Look up a live refresh token.

        :param token: The token as sent.
        :return: The grant, or ``None`` when unknown or revoked.
        """
        grant = self.refresh.get(token.strip())
        if grant is None or grant.revoked:
            return None
        return grant

    # -- website cookies -----------------------------------------------------------------------

    def note_cookie(self, name: str, value: str, market: Marketplace) -> None:
        """
        Remember which marketplace a cookie value was issued for.

        :param name: Cookie name.
        :param value: Cookie value (quoted or not).
        :param market: The marketplace whose domain the cookie was set for.
        """
        self.cookie_domains.setdefault((name, unquote_cookie(value)), set()).add(market.domain)

    def owner_of(self, name: str, value: str) -> str | None:
        """
        Tell which account a signed-in cookie (or csrf value) was issued to.

        :param name: Cookie name.
        :param value: Cookie value (quoted or not).
        :return: The account's email, or ``None`` for cookies nobody owns.
        """
        return self.cookie_owners.get((name, unquote_cookie(value)))

    def issued_for(self, name: str, value: str) -> frozenset[str]:
        """
        Tell which marketplaces a cookie value was issued for.

        :param name: Cookie name.
        :param value: Cookie value (quoted or not).
        :return: The marketplace domains; empty when the simulator never issued it.
        """
        return frozenset(self.cookie_domains.get((name, unquote_cookie(value)), ()))

    def new_session_cookies(self, market: Marketplace, now: float) -> dict[str, str]:
        """
        Issue the anonymous cookies a first visit to the sign-in page gets.

        :param market: The marketplace of the host.
        :param now: Simulator time.
        :return: ``session-id``, ``session-id-time`` and ``ubid-<sfx>``.
        """
        values = {
            "session-id": _numeric_id(),
            "session-id-time": f"{int(now + COOKIE_EXPIRES_AHEAD)}l",
            f"ubid-{market.cookie_suffix}": _numeric_id(),
        }
        for name, value in values.items():
            self.note_cookie(name, value, market)
        return values

    def new_cookie_set(
        self, *, email: str, serial: str, market: Marketplace, now: float
    ) -> CookieSet:
        """
        Issue a full set of authenticated website cookies for one marketplace.

        :param email: Owner.
        :param serial: Device.
        :param market: Marketplace whose domain the cookies are for.
        :param now: Simulator time.
        :return: The cookie set (values unique per issuance).
        """
        sfx = market.cookie_suffix
        at_token = "Atza|" + _b64(240)
        values = {
            "session-id": _numeric_id(),
            "session-id-time": f"{int(now + COOKIE_EXPIRES_AHEAD)}l",
            "session-token": f'"{_b64(150)}"',
            f"ubid-{sfx}": _numeric_id(),
            f"at-{sfx}": f'"{at_token}"',
            f"sess-at-{sfx}": f'"{_b64(32)}"',
            f"x-{sfx}": f'"{_b64(30)}"',
        }
        cookie_set = CookieSet(email, serial, market, values, now, now + COOKIE_LIFETIME)
        self.cookie_sets[at_token] = cookie_set
        for name, value in values.items():
            self.note_cookie(name, value, market)
            if name != "session-id-time":  # a timestamp, shared by everyone issued at once
                self.cookie_owners[name, unquote_cookie(value)] = email
        return cookie_set

    def session_for(
        self, cookies: Mapping[str, str], market: Marketplace, now: float
    ) -> CookieSet | None:
        """
        Find the live cookie set a request authenticates with on one marketplace.

        Amazon needs both ``session-id`` and ``at-<sfx>`` of *this* marketplace; the session id
        may come from any issuance for the marketplace (a jar mixes them legitimately).

        :param cookies: The request's cookies (unquoted values).
        :param market: The host's marketplace.
        :param now: Simulator time.
        :return: The cookie set, or ``None`` when missing, foreign, expired or revoked.
        """
        at_value = cookies.get(f"at-{market.cookie_suffix}")
        session_id = cookies.get("session-id")
        if not at_value or not session_id:
            return None
        cookie_set = self.cookie_sets.get(unquote_cookie(at_value))
        if cookie_set is None or cookie_set.market != market or now >= cookie_set.expires_at:
            return None
        if market.domain not in self.issued_for("session-id", session_id):
            return None
        return cookie_set

    def csrf_for(self, cookie_set: CookieSet) -> str:
        """
        Return the csrf value of a session, issuing it on first use.

        :param cookie_set: The session.
        :return: A signed-integer string such as ``-1168781950``.
        """
        if cookie_set.csrf is None:
            value = str(secrets.randbelow(2**32) - 2**31)
            while value in self.csrf:
                value = str(secrets.randbelow(2**32) - 2**31)
            cookie_set.csrf = value
            self.csrf[value] = cookie_set
            self.note_cookie("csrf", value, cookie_set.market)
            self.cookie_owners["csrf", value] = cookie_set.email
        return cookie_set.csrf

    # -- revocation ----------------------------------------------------------------------------

    def revoke_refresh(self, email: str, serial: str | None = None) -> None:
        """
        Revoke refresh tokens.

        :param email: Owner account.
        :param serial: Only this device's tokens; all of the account's when ``None``.
        """
        for grant in self.refresh.values():
            if grant.email == email and serial in (None, grant.serial):
                grant.revoked = True

    def expire_cookies(self, email: str, serial: str | None = None, *, now: float) -> None:
        """
        End website-cookie sessions.

        :param email: Owner account.
        :param serial: Only cookies issued for this device; all of the account's when ``None``.
        :param now: Simulator time; the sets expire at this moment.
        """
        for cookie_set in self.cookie_sets.values():
            if cookie_set.email == email and serial in (None, cookie_set.serial):
                cookie_set.expires_at = min(cookie_set.expires_at, now)

    def expire_access(self, email: str, *, now: float) -> None:
        """
        Expire every access token of an account.

        :param email: Owner account.
        :param now: Simulator time; the tokens expire at this moment.
        """
        for grant in self.access.values():
            if grant.email == email:
                grant.expires_at = min(grant.expires_at, now)


def fake_mac_dms() -> dict[str, str]:
    """
    Build a plausible ``mac_dms`` block.

    :return: ``adp_token`` and ``device_private_key`` look-alikes.
    """
    # The real {serial:…} part is a base64 counter, not the device serial.
    adp = (
        f"{{enc:{_b64(600)}}}{{key:{_b64(256)}}}{{iv:{_b64(16)}}}"
        f"{{name:{base64.b64encode(b'ADPToken').decode()}}}{{serial:Mg==}}"
    )
    body = base64.b64encode(secrets.token_bytes(900)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    key = f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{lines}\n-----END RSA PRIVATE KEY-----\n"
    return {"adp_token": adp, "device_private_key": key}


def store_authentication_cookie() -> dict[str, str]:
    """
    Build the ``store_authentication_cookie`` token.

    :return: ``{"cookie": …}``.
    """
    return {"cookie": _b64(180)}


def request_id() -> str:
    """
    Build a request id as Amazon's API responses carry.

    :return: A 20-character upper-case id.
    """
    return _random_text(_UPPER_ALNUM, 20)


def opaque_token(n_bytes: int = 24) -> str:
    """
    Build an opaque URL-safe token (form tokens, arb, verify tokens).

    :param n_bytes: Entropy in bytes.
    :return: The token.
    """
    return _b64(n_bytes)


def random_digits(length: int) -> str:
    """
    Build a numeric code (SMS one-time passwords).

    :param length: Number of digits.
    :return: The code.
    """
    return "".join(secrets.choice(string.digits) for _ in range(length))
