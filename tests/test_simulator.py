"""
The Amazon simulator speaks Amazon's protocol faithfully and misbehaves on request.

Every test drives the simulator over real HTTP with a plain aiohttp client whose resolver maps
the Amazon host names to loopback, exactly as the auth client will. The invariants protected
here: the sign-in pages carry the real form ids and field names, hidden fields must round-trip,
PKCE and one-time codes are enforced, a request missing a parameter every client sends is
refused, tokens and cookies live and die on the injected clock, cookies never cross marketplaces
or accounts unnoticed, and each scenario serves the page it promises.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import aiohttp
import pyotp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from music_assistant_alexa.simulator import AccountSpec, AmazonSimulator, Scenario, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

EMAIL = "alice@example.com"
PASSWORD = "correct horse"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
START = 1_800_000_000.0
DEVICE_SUFFIX = "#A2IVLV5VM2W81"
ROOT = Path(__file__).resolve().parent.parent


# -- plumbing --------------------------------------------------------------------------------


class FakeClock:
    """A settable epoch clock."""

    def __init__(self) -> None:
        """Start at a fixed instant."""
        self.now = START

    def __call__(self) -> float:
        """
        Return the current fake time.

        :return: Epoch seconds.
        """
        return self.now

    def advance(self, seconds: float) -> None:
        """
        Move time forward.

        :param seconds: How far.
        """
        self.now += seconds


class AmazonLoopbackResolver(AbstractResolver):
    """Resolve every Amazon host name to 127.0.0.1, refuse everything else."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """
        Resolve an Amazon host to loopback.

        :param host: Host name.
        :param port: Port.
        :param family: Address family (ignored; always IPv4).
        :return: One loopback address.
        """
        del family
        if ".amazon." not in f".{host}" and not host.endswith("amazonalexa.com"):
            msg = f"test resolver refuses {host}"
            raise OSError(msg)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class ParsedForm:
    """A form found in a page."""

    attrs: dict[str, str]
    inputs: list[dict[str, str]] = field(default_factory=list)

    @property
    def hidden(self) -> dict[str, str]:
        """
        Return hidden inputs by name.

        :return: Name to value.
        """
        return {
            i["name"]: i.get("value", "")
            for i in self.inputs
            if i.get("type") == "hidden" and "name" in i
        }

    def input_ids(self) -> set[str]:
        """
        Return the ids of all inputs.

        :return: The ids.
        """
        return {i["id"] for i in self.inputs if "id" in i}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[ParsedForm] = []
        self._current: ParsedForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._current = ParsedForm(values)
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current.inputs.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@dataclass
class Page:
    """A response as the client sees it, with the real https URL."""

    status: int
    url: str
    text: str
    headers: Mapping[str, str]
    set_cookies: list[str] = field(default_factory=list)

    @property
    def forms(self) -> list[ParsedForm]:
        """
        Parse the forms.

        :return: Every form in document order.
        """
        parser = _FormParser()
        parser.feed(self.text)
        return parser.forms

    def form(self, **attrs: str) -> ParsedForm:
        """
        Find the first form with these attributes.

        :param attrs: Attribute values to match (``id``, ``name``, …).
        :return: The form.
        """
        for found in self.forms:
            if all(found.attrs.get(key) == value for key, value in attrs.items()):
                return found
        msg = f"no form with {attrs} on {self.url}"
        raise AssertionError(msg)

    @property
    def location(self) -> str:
        """
        Return the redirect target.

        :return: The Location header.
        """
        return self.headers["Location"]


class Browser:
    """A minimal client: real Amazon URLs, mapped to the simulator; no automatic redirects."""

    def __init__(self, sim: AmazonSimulator, session: aiohttp.ClientSession) -> None:
        """
        Bind to a simulator.

        :param sim: The simulator.
        :param session: A session using the loopback resolver.
        """
        self.sim = sim
        self.session = session

    def to_sim(self, url: str) -> URL:
        """
        Map a real https Amazon URL to the simulator.

        :param url: e.g. ``https://www.amazon.com/ap/signin?...``.
        :return: ``http://www.amazon.com:PORT/ap/signin?...``.
        """
        return URL(url, encoded=True).with_scheme("http").with_port(self.sim.port)

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """
        Send one request without following redirects.

        :param method: HTTP method.
        :param url: Real Amazon URL.
        :param data: Form fields.
        :param json_body: JSON body.
        :param headers: Extra headers.
        :return: The page.
        """
        async with self.session.request(
            method,
            self.to_sim(url),
            data=data,
            json=json_body,
            headers=headers,
            allow_redirects=False,
        ) as response:
            text = await response.text()
            return Page(
                response.status,
                url,
                text,
                dict(response.headers),
                response.headers.getall("Set-Cookie", []),
            )

    async def follow(self, page: Page, limit: int = 5) -> Page:
        """
        Follow redirects with GET.

        :param page: A page that may be a redirect.
        :param limit: Maximum hops.
        :return: The first non-redirect page.
        """
        for _ in range(limit):
            if page.status not in {301, 302, 303, 307}:
                return page
            page = await self.request("GET", urljoin(page.url, page.location))
        return page

    async def submit(self, page: Page, form: ParsedForm, **fields: str) -> Page:
        """
        Submit a form with its hidden fields plus the given ones.

        :param page: The page holding the form (for relative actions).
        :param form: The form.
        :param fields: Field values to add or override.
        :return: The response page.
        """
        data = {**form.hidden, **fields}
        target = urljoin(page.url, form.attrs.get("action", "") or page.url)
        if form.attrs.get("method", "get").lower() == "get":
            return await self.request("GET", f"{target.split('?')[0]}?{urlencode(data)}")
        return await self.request("POST", target, data=data)


def make_pkce() -> tuple[str, str]:
    """Return a fresh PKCE (verifier, S256 challenge) pair."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def client_id_for(serial: str) -> str:
    """Return the MAP client id for a serial."""
    return (serial + DEVICE_SUFFIX).encode().hex()


def authorize_query(serial: str, challenge: str) -> dict[str, str]:
    """Build the authorize query the way aioamazondevices does."""
    return {
        "openid.return_to": "https://www.amazon.com/ap/maplanding",
        "openid.oa2.code_challenge_method": "S256",
        "openid.assoc_handle": "amzn_dp_project_dee_ios",
        "openid.identity": "http://specs.openid.net/auth/2.0/identifier_select",
        "pageId": "amzn_dp_project_dee_ios",
        "accountStatusPolicy": "P1",
        "openid.claimed_id": "http://specs.openid.net/auth/2.0/identifier_select",
        "openid.mode": "checkid_setup",
        "openid.ns.oa2": "http://www.amazon.com/ap/ext/oauth/2",
        "openid.oa2.client_id": f"device:{client_id_for(serial)}",
        "language": "en-US",
        "openid.ns.pape": "http://specs.openid.net/extensions/pape/1.0",
        "openid.oa2.code_challenge": challenge,
        "openid.oa2.scope": "device_auth_access",
        "openid.ns": "http://specs.openid.net/auth/2.0",
        "openid.pape.max_auth_age": "0",
        "openid.oa2.response_type": "code",
    }


def authorize_url(serial: str, challenge: str) -> str:
    """Build the authorize URL on www.amazon.com."""
    return f"https://www.amazon.com/ap/signin?{urlencode(authorize_query(serial, challenge))}"


def otp(clock: FakeClock, secret: str = SECRET) -> str:
    """Return the TOTP for the fake clock's current instant."""
    return pyotp.TOTP(secret).at(int(clock.now))


def code_from(location: str) -> str:
    """Pull the authorization code out of a maplanding URL."""
    query = parse_qs(urlsplit(location).query)
    return query["openid.oa2.authorization_code"][0]


@dataclass
class Login:
    """What a finished sign-in hands to registration."""

    serial: str
    verifier: str
    code: str


def register_body(login: Login, *, domain: str = ".amazon.com") -> dict[str, Any]:
    """Build an aioamazondevices-shaped /auth/register body."""
    return {
        "requested_extensions": ["device_info", "customer_info"],
        "cookies": {"website_cookies": [], "domain": domain},
        "registration_data": {
            "domain": "Device",
            "app_version": "2.2.663733.0",
            "device_type": "A2IVLV5VM2W81",
            "device_name": "%FIRST_NAME%'s%DUPE_STRATEGY_1ST%MusicAssistant",
            "os_version": "18.5",
            "device_serial": login.serial,
            "device_model": "iPhone",
            "app_name": "MusicAssistant",
            "software_version": "35602678",
        },
        "auth_data": {
            "use_global_authentication": "true",
            "client_id": client_id_for(login.serial),
            "authorization_code": login.code,
            "code_verifier": login.verifier,
            "code_algorithm": "SHA-256",
            "client_domain": "DeviceLegacy",
        },
        "user_context_map": {"frc": "x"},
        "requested_token_type": ["bearer", "mac_dms", "website_cookies"],
    }


def cookie_header(cookies: list[dict[str, Any]], **extra: str) -> str:
    """Build a Cookie header from register/exchange cookie JSON."""
    # Clients strip the quotes Amazon wraps some values in.
    pairs = {c["Name"]: str(c["Value"]).strip('"') for c in cookies} | extra
    return "; ".join(f"{name}={value}" for name, value in pairs.items())


@pytest.fixture
def clock() -> FakeClock:
    """Provide the fake clock."""
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[AmazonSimulator]:
    """Provide a running simulator with one account."""
    async with AmazonSimulator(clock=clock) as simulator:
        simulator.add_account(EMAIL, PASSWORD, SECRET)
        yield simulator


@pytest.fixture
async def browser(sim: AmazonSimulator) -> AsyncIterator[Browser]:
    """Provide a client whose resolver maps Amazon hosts to loopback."""
    connector = aiohttp.TCPConnector(resolver=AmazonLoopbackResolver(), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Browser(sim, session)


async def open_signin(browser: Browser, serial: str | None = None) -> tuple[Page, str, str]:
    """GET the authorize URL; return the page, the serial and the PKCE verifier."""
    serial = serial or uuid.uuid4().hex.upper()
    verifier, challenge = make_pkce()
    page = await browser.request("GET", authorize_url(serial, challenge))
    return page, serial, verifier


async def sign_in(browser: Browser, clock: FakeClock, serial: str | None = None) -> Login:
    """Walk the combined sign-in with TOTP to the authorization code."""
    page, serial, verifier = await open_signin(browser, serial)
    page = await browser.submit(
        page, page.form(name="signIn"), email=EMAIL, password=PASSWORD, rememberMe="true"
    )
    page = await browser.submit(
        page,
        page.form(id="auth-mfa-form"),
        otpCode=otp(clock),
        mfaSubmit="Submit",
        rememberDevice="false",
    )
    assert page.status == 302, page.text
    return Login(serial, verifier, code_from(page.location))


async def register(browser: Browser, login: Login, **kwargs: str) -> dict[str, Any]:
    """Register a device and return the success block."""
    page = await browser.request(
        "POST", "https://api.amazon.com/auth/register", json_body=register_body(login, **kwargs)
    )
    assert page.status == 200, page.text
    result: dict[str, Any] = json.loads(page.text)["response"]["success"]
    return result


async def exchange(browser: Browser, refresh: str, domain: str, host: str) -> Page:
    """Exchange a refresh token for website cookies of a domain."""
    return await browser.request(
        "POST",
        f"https://{host}/ap/exchangetoken/cookies",
        data={
            "app_name": "Amazon Alexa",
            "requested_token_type": "auth_cookies",
            "domain": domain,
            "source_token_type": "refresh_token",
            "source_token": refresh,
        },
    )


# -- independence ------------------------------------------------------------------------------
# Statically, import-linter's contracts (pyproject.toml, run as ``lint-imports``) keep the
# simulator and the auth core apart; this checks what loads at run time, dynamic imports too.


def test_importing_the_simulator_loads_nothing_else_of_the_package() -> None:
    """At run time, too, the simulator loads no other part of music_assistant_alexa."""
    code = (
        "import sys, music_assistant_alexa.simulator\n"
        "print(sorted(m for m in sys.modules if m.startswith('music_assistant_alexa.')"
        " and not m.startswith('music_assistant_alexa.simulator')))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- GET /ap/signin ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("openid.oa2.client_id", "device:zz"),
        ("openid.oa2.client_id", client_id_for("ABC")),  # missing "device:"
        ("openid.oa2.client_id", "device:" + b"ABC#WRONGTYPE".hex()),
        ("openid.oa2.code_challenge_method", "plain"),
        ("openid.oa2.code_challenge_method", None),
        ("openid.oa2.code_challenge", ""),
        ("openid.oa2.code_challenge", "a" * 42),
        ("openid.oa2.response_type", "token"),
        ("openid.oa2.response_type", None),
        ("openid.oa2.scope", "profile"),
        ("openid.oa2.scope", None),
        ("openid.mode", "checkid_immediate"),
        ("openid.return_to", None),
        ("openid.return_to", "http://www.amazon.com/ap/maplanding"),
        ("openid.return_to", "https://www.example.com/ap/maplanding"),
        ("openid.return_to", "https://www.amazon.com.example.com/ap/maplanding"),
        ("openid.return_to", "https://www.amazon.com/ap/signin"),
        ("openid.return_to", "https://www.amazon.com:8443/ap/maplanding"),
        ("openid.return_to", "https://www.amazon.com/ap/maplanding?next=x"),
    ],
)
async def test_signin_get_rejects_bad_authorize_query(
    browser: Browser, sim: AmazonSimulator, name: str, value: str | None
) -> None:
    """One wrong or missing parameter of the aioamazondevices query gets a 400 page naming it."""
    query = authorize_query(uuid.uuid4().hex.upper(), make_pkce()[1])
    if value is None:
        del query[name]
    else:
        query[name] = value
    page = await browser.request("GET", f"https://www.amazon.com/ap/signin?{urlencode(query)}")
    assert page.status == 400
    assert f"{name} " in page.text  # the message names the parameter
    assert "signIn" not in page.text
    assert sim.ledger.codes == {}


async def test_signin_get_accepts_alexapy_scope_and_a_marketplace_return_to(
    browser: Browser,
) -> None:
    """The two scopes alexapy asks for, and a maplanding on another marketplace, are fine."""
    query = authorize_query(uuid.uuid4().hex.upper(), make_pkce()[1])
    query["openid.oa2.scope"] = "device_auth_access offline_access"
    query["openid.return_to"] = "https://www.amazon.de/ap/maplanding"
    page = await browser.request("GET", f"https://www.amazon.com/ap/signin?{urlencode(query)}")
    assert page.status == 200
    return_to = page.form(name="signIn").hidden["openid.return_to"]
    assert base64.b64decode(return_to[4:]).decode() == "https://www.amazon.de/ap/maplanding"


async def test_signin_get_renders_combined_form_and_sets_cookies(
    browser: Browser, sim: AmazonSimulator
) -> None:
    """The first page is form 2.5-A and sets the session cookies."""
    page, _, _ = await open_signin(browser, serial="0123456789ABCDEF0123456789ABCDEF")
    assert page.status == 200
    form = page.form(name="signIn")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "https://www.amazon.com/ap/signin"
    hidden = form.hidden
    assert hidden["appAction"] == "SIGNIN_PWD_COLLECT"
    assert hidden["openid.return_to"].startswith("ape:")
    assert base64.b64decode(hidden["openid.return_to"][4:]).decode().endswith("/ap/maplanding")
    assert hidden["prevRID"].startswith("ape:")
    assert hidden["workflowState"].startswith("eyJ")
    assert hidden["appActionToken"]
    assert {"ap_email", "ap_password", "signInSubmit"} <= form.input_ids()
    names = {c.key for c in browser.session.cookie_jar}
    assert {"session-id", "session-id-time", "ubid-main"} <= names
    assert len(page.set_cookies) == 3
    for header in page.set_cookies:
        assert "Domain=.amazon.com" in header
        assert "Secure" not in header  # plain http: a Secure cookie would never come back
    assert sim.violations == []


# -- POST /ap/signin ---------------------------------------------------------------------------


async def test_combined_walk_to_maplanding(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Email+password, then MFA, then a 302 to maplanding with a code."""
    page, serial, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    mfa = page.form(id="auth-mfa-form")
    assert mfa.attrs["action"] == "https://www.amazon.com/ap/signin"
    assert mfa.hidden["appAction"] == "SIGNIN_MFA"
    assert {"appActionToken", "openid.return_to", "prevRID", "workflowState"} <= set(mfa.hidden)
    assert {"auth-mfa-otpcode", "auth-mfa-remember-device", "auth-signin-button"} <= (
        mfa.input_ids()
    )
    assert 'name="otpCode"' in page.text
    assert 'id="auth-get-new-otp-link"' in page.text
    page = await browser.submit(page, mfa, otpCode=otp(clock), mfaSubmit="Submit")
    assert page.status == 302
    location = URL(page.location)
    assert str(location).startswith("https://www.amazon.com/ap/maplanding?")
    assert location.query["openid.assoc_handle"] == "amzn_dp_project_dee_ios"
    assert location.query["openid.mode"] == "id_res"
    assert len(location.query["openid.oa2.authorization_code"]) >= 20
    landing = await browser.request("GET", page.location)
    assert landing.status == 404
    assert sim.ledger.codes[code_from(page.location)].serial == serial
    assert sim.violations == []


async def test_otp_from_previous_window_is_accepted_but_older_is_not(
    browser: Browser, clock: FakeClock
) -> None:
    """One TOTP step of drift is tolerated, three are not."""
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    old = pyotp.TOTP(SECRET).at(int(clock.now) - 90)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=old)
    assert "The One Time Password (OTP) you entered is not valid. Please try again." in page.text
    previous = pyotp.TOTP(SECRET).at(int(clock.now) - 30)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=previous)
    assert page.status == 302


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (EMAIL, "wrong", "Your password is incorrect"),
        ("nobody@example.com", PASSWORD, "We cannot find an account with that email address"),
        ("", PASSWORD, "Enter a valid email or mobile number"),
    ],
)
async def test_credential_errors_render_the_error_box(
    browser: Browser, email: str, password: str, message: str
) -> None:
    """Credential errors use Amazon's error box and texts."""
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=email, password=password)
    assert page.status == 200
    assert 'id="auth-error-message-box"' in page.text
    assert '<h4 class="a-alert-heading">There was a problem</h4>' in page.text
    assert '<span class="a-list-item">' in page.text
    assert message in page.text
    page.form(name="signIn")  # the form is there to try again


async def test_wrong_password_page_carries_email_hidden(browser: Browser) -> None:
    """After a wrong password the email is a hidden ap_email field."""
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password="nope")
    form = page.form(name="signIn")
    assert form.hidden["email"] == EMAIL
    assert 'name="email" id="ap_email"' in page.text


async def test_wrong_otp_rerenders_mfa_page(browser: Browser, clock: FakeClock) -> None:
    """A wrong OTP re-renders the MFA form with Amazon's text."""
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    wrong = f"{(int(otp(clock)) + 1) % 1_000_000:06d}"
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=wrong)
    assert "The One Time Password (OTP) you entered is not valid. Please try again." in page.text
    assert 'id="auth-error-message-box"' in page.text
    page.form(id="auth-mfa-form")


async def test_password_with_appended_otp_skips_mfa(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """alexapy-style password+OTP signs in without the MFA page."""
    page, _, _ = await open_signin(browser)
    page = await browser.submit(
        page, page.form(name="signIn"), email=EMAIL, password=PASSWORD + otp(clock)
    )
    assert page.status == 302
    assert "openid.oa2.authorization_code=" in page.location
    assert sim.violations == []


async def test_email_first_walk(browser: Browser, sim: AmazonSimulator, clock: FakeClock) -> None:
    """The three-step flow: claim page, password page, MFA."""
    sim.scenario.email_first = True
    page, _, _ = await open_signin(browser)
    claim = page.form(name="signIn")
    assert claim.hidden["subPageType"] == "SignInClaimCollect"
    assert claim.hidden["create"] == "0"
    assert {"ap_email", "ap-credential-autofill-hint", "continue"} <= claim.input_ids()
    assert 'id="ap_password"' not in page.text
    # An autofilled password on the claim page does not skip the password step.
    page = await browser.submit(page, claim, email=EMAIL, password=PASSWORD)
    password_form = page.form(name="signIn")
    assert password_form.hidden["email"] == EMAIL
    assert "ap_password" in password_form.input_ids()
    page = await browser.submit(page, password_form, password=PASSWORD)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=otp(clock))
    assert page.status == 302
    assert sim.violations == []


async def test_stale_or_missing_tokens_start_over(browser: Browser, sim: AmazonSimulator) -> None:
    """Foreign or missing form tokens land on the start-over page."""
    page, _, _ = await open_signin(browser)
    form = page.form(name="signIn")
    stale = await browser.submit(page, form, email=EMAIL, password=PASSWORD, appActionToken="x")
    assert 'id="ap_error_page_message"' in stale.text
    assert "start over" in stale.text
    assert sim.violations == []
    data = {k: v for k, v in form.hidden.items() if k != "workflowState"}
    missing = await browser.request(
        "POST", "https://www.amazon.com/ap/signin", data={**data, "email": EMAIL}
    )
    assert "start over" in missing.text
    assert any("workflowState" in v for v in sim.violations)


async def test_hidden_fields_must_be_echoed(browser: Browser, sim: AmazonSimulator) -> None:
    """Dropping a hidden field is recorded as a violation."""
    page, _, _ = await open_signin(browser)
    form = page.form(name="signIn")
    data = {k: v for k, v in form.hidden.items() if k != "prevRID"}
    data |= {"email": EMAIL, "password": PASSWORD}
    await browser.request("POST", "https://www.amazon.com/ap/signin", data=data)
    assert any("prevRID" in v for v in sim.violations)


async def test_hidden_email_may_change_but_not_go_missing(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """The password page's hidden email is replaceable (metadata1 too), not droppable."""
    sim.scenario.email_first = True
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL)
    data = {k: v for k, v in page.form(name="signIn").hidden.items() if k != "email"}
    page = await browser.request(
        "POST", "https://www.amazon.com/ap/signin", data={**data, "password": PASSWORD}
    )
    assert sim.violations == ["POST /ap/signin: hidden field 'email' not echoed"]
    sim.violations.clear()
    page = await browser.submit(
        page, page.form(id="auth-mfa-form"), otpCode=otp(clock), metadata1="ECdITeCs:x"
    )
    assert page.status == 302
    assert sim.violations == []


async def test_post_without_session_cookie_is_a_violation(
    browser: Browser, sim: AmazonSimulator
) -> None:
    """A sign-in POST must carry the session-id cookie of its GET."""
    page, _, _ = await open_signin(browser)
    browser.session.cookie_jar.clear()
    await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    assert any("session-id" in v for v in sim.violations)


# -- /auth/register ------------------------------------------------------------------------------


async def test_register_returns_tokens_and_checks_pkce_once(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Registration checks PKCE, answers the section 3 JSON, and burns the code."""
    login = await sign_in(browser, clock)
    bad = register_body(Login(login.serial, make_pkce()[0], login.code))
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=bad)
    assert page.status == 400
    assert json.loads(page.text)["response"]["error"]["code"] == "InvalidValue"

    result = await register(browser, login)
    bearer = result["tokens"]["bearer"]
    assert bearer["access_token"].startswith("Atna|")
    assert bearer["refresh_token"].startswith("Atnr|")
    assert bearer["expires_in"] == "3600"
    assert set(result["tokens"]["mac_dms"]) == {"adp_token", "device_private_key"}
    names = {c["Name"] for c in result["tokens"]["website_cookies"]}
    assert {"session-id", "session-token", "ubid-main", "at-main", "x-main"} <= names
    at_main = next(c for c in result["tokens"]["website_cookies"] if c["Name"] == "at-main")
    assert at_main["Value"].startswith('"Atza|')
    info = result["extensions"]["customer_info"]
    assert info["user_id"].startswith("amzn1.account.")
    assert info["home_region"] == "NA"
    assert info["given_name"] == "Test"
    device = result["extensions"]["device_info"]
    assert device["device_serial_number"] == login.serial
    assert device["device_type"] == "A2IVLV5VM2W81"
    assert device["device_name"] == "Test's MusicAssistant"
    assert "store_authentication_cookie" not in result["tokens"]
    assert sim.device_count(EMAIL) == 1

    again = await browser.request(
        "POST", "https://api.amazon.com/auth/register", json_body=register_body(login)
    )
    assert again.status == 401
    assert "CredentialError" in again.headers["WWW-Authenticate"]
    assert sim.violations == []


async def test_register_rejects_mismatched_serial_and_client_id(
    browser: Browser, clock: FakeClock
) -> None:
    """Serial and client id must match the sign-in's client id."""
    login = await sign_in(browser, clock)
    body = register_body(login)
    body["registration_data"]["device_serial"] = "OTHER"
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert page.status == 400
    body = register_body(login)
    body["auth_data"]["client_id"] = client_id_for("OTHER")
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert page.status == 400
    await register(browser, login)  # the failures did not burn the code


async def test_authorization_code_expires_after_five_minutes(
    browser: Browser, clock: FakeClock
) -> None:
    """Codes live five minutes on the simulator clock."""
    login = await sign_in(browser, clock)
    clock.advance(301)
    page = await browser.request(
        "POST", "https://api.amazon.com/auth/register", json_body=register_body(login)
    )
    assert page.status == 401


async def test_reregistering_a_serial_keeps_one_device(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """The same serial replaces the device's tokens instead of adding one."""
    serial = uuid.uuid4().hex.upper()
    first = await register(browser, await sign_in(browser, clock, serial))
    second = await register(browser, await sign_in(browser, clock, serial))
    assert sim.device_count(EMAIL) == 1
    old = first["tokens"]["bearer"]["refresh_token"]
    assert old != second["tokens"]["bearer"]["refresh_token"]
    page = await refresh_access(browser, old)
    assert json.loads(page.text)["error"] == "invalid_grant"


async def test_register_with_access_token_variant(browser: Browser, clock: FakeClock) -> None:
    """auth_data.access_token registers without a code."""
    result = await register(browser, await sign_in(browser, clock))
    body = {
        "registration_data": {"device_serial": "SECOND", "device_type": "A2IVLV5VM2W81"},
        "auth_data": {"access_token": result["tokens"]["bearer"]["access_token"]},
        "requested_token_type": ["bearer"],
    }
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert page.status == 200
    assert set(json.loads(page.text)["response"]["success"]["tokens"]) == {"bearer"}


@pytest.mark.parametrize(
    ("section", "name"),
    [("registration_data", "device_type"), (None, "requested_token_type")],
)
async def test_register_needs_device_type_and_token_types(
    browser: Browser, clock: FakeClock, section: str | None, name: str
) -> None:
    """Amazon assumes no device type and no token types: leaving one out is a 400."""
    login = await sign_in(browser, clock)
    body = register_body(login)
    del (body[section] if section else body)[name]
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert page.status == 400
    assert json.loads(page.text)["response"]["error"]["index"].endswith(name)
    await register(browser, login)  # the refusal did not burn the code


async def test_register_returns_only_the_requested_extensions(
    browser: Browser, clock: FakeClock
) -> None:
    """customer_info (home_region) and device_info come only when asked for."""
    login = await sign_in(browser, clock)
    body = register_body(login)
    del body["requested_extensions"]
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert json.loads(page.text)["response"]["success"]["extensions"] == {}
    login = await sign_in(browser, clock)
    body = register_body(login)
    body["requested_extensions"] = ["customer_info"]
    page = await browser.request("POST", "https://api.amazon.com/auth/register", json_body=body)
    assert set(json.loads(page.text)["response"]["success"]["extensions"]) == {"customer_info"}


# -- tokens, cookies, deregistration -------------------------------------------------------------


async def refresh_access(browser: Browser, refresh: str) -> Page:
    """Ask /auth/token for an access token."""
    return await browser.request(
        "POST",
        "https://api.amazon.com/auth/token",
        data={
            "app_name": "MusicAssistant",
            "source_token": refresh,
            "requested_token_type": "access_token",
            "source_token_type": "refresh_token",
        },
    )


async def test_refresh_token_gives_access_token_until_revoked(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Refresh works until revoked, then invalid_grant."""
    result = await register(browser, await sign_in(browser, clock))
    refresh = result["tokens"]["bearer"]["refresh_token"]
    page = await refresh_access(browser, refresh)
    body = json.loads(page.text)
    assert page.status == 200
    assert body["access_token"].startswith("Atna|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    sim.revoke_refresh_tokens(EMAIL)
    page = await refresh_access(browser, refresh)
    assert page.status == 400
    assert json.loads(page.text) == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }


async def test_deregister_removes_device_and_revokes(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Deregistration drops the device and its refresh token."""
    result = await register(browser, await sign_in(browser, clock))
    bearer = result["tokens"]["bearer"]
    page = await browser.request(
        "POST",
        "https://api.amazon.com/auth/deregister",
        json_body={"requested_deregister_type": "deregister_device"},
        headers={"Authorization": f"Bearer {bearer['access_token']}"},
    )
    assert page.status == 200
    assert json.loads(page.text)["response"] == {"success": {}}
    assert sim.device_count(EMAIL) == 0
    assert (await refresh_access(browser, bearer["refresh_token"])).status == 400


async def test_deregister_all_with_amz_header(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """x-amz-access-token plus deregister_all removes every device."""
    await register(browser, await sign_in(browser, clock))
    result = await register(browser, await sign_in(browser, clock))
    assert sim.device_count(EMAIL) == 2
    page = await browser.request(
        "POST",
        "https://api.amazon.com/auth/deregister",
        json_body={"deregister_all_existing_accounts": True},
        headers={"x-amz-access-token": result["tokens"]["bearer"]["access_token"]},
    )
    assert page.status == 200
    assert sim.device_count(EMAIL) == 0
    unauthorized = await browser.request(
        "POST", "https://api.amazon.com/auth/deregister", json_body={}
    )
    assert unauthorized.status == 401


@pytest.mark.parametrize("host", ["www.amazon.de", "api.amazon.com"])
async def test_exchange_cookies_for_a_marketplace(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock, host: str
) -> None:
    """Both hosts exchange a refresh token for suffixed marketplace cookies."""
    refresh = (await register(browser, await sign_in(browser, clock)))["tokens"]["bearer"][
        "refresh_token"
    ]
    first = json.loads((await exchange(browser, refresh, ".amazon.de", host)).text)
    second = json.loads((await exchange(browser, refresh, "www.amazon.de", host)).text)
    cookies = first["response"]["tokens"]["cookies"][".amazon.de"]
    names = {c["Name"] for c in cookies}
    assert names >= {
        "session-id",
        "session-id-time",
        "session-token",
        "ubid-acbde",
        "at-acbde",
        "sess-at-acbde",
        "x-acbde",
    }
    assert set(cookies[0]) == {"Name", "Value", "Path", "Secure", "HttpOnly", "Expires"}
    # Values are unique per issuance; session-id-time is a timestamp, equal at the same instant.
    values = {c["Value"] for c in cookies if c["Name"] != "session-id-time"}
    again = second["response"]["tokens"]["cookies"][".amazon.de"]
    assert values.isdisjoint(c["Value"] for c in again)
    assert first["request_id"]
    assert sim.violations == []


async def test_auth_token_can_issue_cookies(browser: Browser, clock: FakeClock) -> None:
    """/auth/token with auth_cookies answers the exchange shape."""
    refresh = (await register(browser, await sign_in(browser, clock)))["tokens"]["bearer"][
        "refresh_token"
    ]
    page = await browser.request(
        "POST",
        "https://api.amazon.com/auth/token",
        data={
            "source_token": refresh,
            "source_token_type": "refresh_token",
            "requested_token_type": "auth_cookies",
            "domain": "www.amazon.co.uk",
        },
    )
    cookies = json.loads(page.text)["response"]["tokens"]["cookies"][".amazon.co.uk"]
    assert "at-acbuk" in {c["Name"] for c in cookies}


@pytest.mark.parametrize(
    ("path", "missing"),
    [
        ("/auth/token", "source_token_type"),
        ("/ap/exchangetoken/cookies", "source_token_type"),
        ("/ap/exchangetoken/cookies", "requested_token_type"),
    ],
)
async def test_token_endpoints_need_every_grant_parameter(
    browser: Browser, clock: FakeClock, path: str, missing: str
) -> None:
    """A form without source_token_type or requested_token_type is an invalid_request."""
    refresh = (await register(browser, await sign_in(browser, clock)))["tokens"]["bearer"][
        "refresh_token"
    ]
    form = {
        "source_token": refresh,
        "source_token_type": "refresh_token",
        "requested_token_type": "auth_cookies",
        "domain": ".amazon.com",
    }
    del form[missing]
    page = await browser.request("POST", f"https://api.amazon.com{path}", data=form)
    assert page.status == 400
    body = json.loads(page.text)
    assert body["error"] == "invalid_request"
    assert missing in body["error_description"]


# -- alexa host ----------------------------------------------------------------------------------


async def alexa_session(
    browser: Browser, clock: FakeClock, domain: str = ".amazon.com"
) -> tuple[dict[str, Any], str]:
    """Sign in, register and return the result plus a Cookie header."""
    result = await register(browser, await sign_in(browser, clock), domain=domain)
    return result, cookie_header(result["tokens"]["website_cookies"])


async def test_csrf_and_customer_status(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """The csrf cookie comes from language/spa pages and guards non-GET calls."""
    _, cookies = await alexa_session(browser, clock)
    denied = await browser.request("GET", "https://alexa.amazon.com/api/customer-status")
    assert denied.status == 401
    for path in ("/api/language", "/spa/index.html"):
        page = await browser.request(
            "GET", f"https://alexa.amazon.com{path}", headers={"Cookie": cookies}
        )
        assert page.status == 200
        assert page.set_cookies[0].startswith("csrf=")
        assert "Domain" not in page.set_cookies[0]  # host-only on alexa.amazon.<tld>
    csrf = page.set_cookies[0].split("csrf=", 1)[1].split(";", 1)[0]
    assert int(csrf) != 0
    status = await browser.request(
        "GET", "https://alexa.amazon.com/api/customer-status", headers={"Cookie": cookies}
    )
    assert status.status == 200
    with_csrf = {"Cookie": f"{cookies}; csrf={csrf}", "csrf": csrf}
    posted = await browser.request(
        "POST", "https://alexa.amazon.com/api/customer-status", headers=with_csrf
    )
    assert posted.status == 200
    assert sim.violations == []
    wrong = {"Cookie": f"{cookies}; csrf={csrf}", "csrf": "123"}
    posted = await browser.request(
        "POST", "https://alexa.amazon.com/api/customer-status", headers=wrong
    )
    assert posted.status == 401
    assert any("csrf" in v for v in sim.violations)


async def test_cookies_expire_after_14_sim_days(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Website cookies die after 14 simulated days; an exchange revives."""
    result, cookies = await alexa_session(browser, clock)
    url = "https://alexa.amazon.com/api/customer-status"
    clock.advance(14 * 24 * 3600 - 60)
    assert (await browser.request("GET", url, headers={"Cookie": cookies})).status == 200
    clock.advance(120)
    assert (await browser.request("GET", url, headers={"Cookie": cookies})).status == 401
    fresh = await exchange(
        browser, result["tokens"]["bearer"]["refresh_token"], ".amazon.com", "www.amazon.com"
    )
    new = cookie_header(json.loads(fresh.text)["response"]["tokens"]["cookies"][".amazon.com"])
    assert (await browser.request("GET", url, headers={"Cookie": new})).status == 200
    sim.expire_cookies(EMAIL)
    assert (await browser.request("GET", url, headers={"Cookie": new})).status == 401


async def test_alexa_api_needs_cookies_of_its_own_marketplace(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """.com cookies at alexa.amazon.de are refused and flagged."""
    _, cookies = await alexa_session(browser, clock)
    page = await browser.request(
        "GET", "https://alexa.amazon.de/api/customer-status", headers={"Cookie": cookies}
    )
    assert page.status == 401
    assert any("sent to alexa.amazon.de" in v for v in sim.violations)


async def test_cookies_of_two_accounts_in_one_request_are_a_violation(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Cross-talk between households: one account's at-main with another's session-id."""
    sim.add_account("bob@example.com", "pw", SECRET)
    _, alice = await alexa_session(browser, clock)
    page, serial, verifier = await open_signin(browser)
    page = await browser.submit(
        page, page.form(name="signIn"), email="bob@example.com", password="pw" + otp(clock)
    )
    bob = await register(browser, Login(serial, verifier, code_from(page.location)))
    bob_session_id = next(
        c["Value"] for c in bob["tokens"]["website_cookies"] if c["Name"] == "session-id"
    )
    url = "https://alexa.amazon.com/api/customer-status"
    assert (await browser.request("GET", url, headers={"Cookie": alice})).status == 200
    assert sim.violations == []
    browser.session.cookie_jar.clear()  # the jar would overwrite the header's session-id
    mixed = alice.replace("session-id=", f"session-id={bob_session_id}; old-session-id=", 1)
    await browser.request("GET", url, headers={"Cookie": mixed})
    assert sim.violations == ["cookies of 2 different accounts in one request to alexa.amazon.com"]


async def test_devices_users_me_and_welcome(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """Marketplace discovery and the app device in devices-v2."""
    sim.add_account("bob@example.de", "pw", SECRET, marketplace="amazon.de", name="Bob Meier")
    page, serial, verifier = await open_signin(browser)
    page = await browser.submit(
        page, page.form(name="signIn"), email="bob@example.de", password="pw" + otp(clock)
    )
    login = Login(serial, verifier, code_from(page.location))
    result = await register(browser, login)
    assert result["extensions"]["customer_info"]["home_region"] == "EU"
    cookies = cookie_header(result["tokens"]["website_cookies"])
    welcome = await browser.request(
        "GET", "https://alexa.amazon.com/api/welcome", headers={"Cookie": cookies}
    )
    assert json.loads(welcome.text) == {"alexaHostName": "alexa.amazon.de"}
    refresh = result["tokens"]["bearer"]["refresh_token"]
    de = json.loads((await exchange(browser, refresh, ".amazon.de", "www.amazon.de")).text)
    de_cookies = cookie_header(de["response"]["tokens"]["cookies"][".amazon.de"])
    me = json.loads(
        (
            await browser.request(
                "GET", "https://alexa.amazon.de/api/users/me", headers={"Cookie": de_cookies}
            )
        ).text
    )
    assert me["marketPlaceDomainName"] == "https://www.amazon.de"
    assert me["email"] == "bob@example.de"
    devices = json.loads(
        (
            await browser.request(
                "GET",
                "https://alexa.amazon.de/api/devices-v2/device",
                headers={"Cookie": de_cookies},
            )
        ).text
    )["devices"]
    app = [d for d in devices if d["deviceType"] == "A2IVLV5VM2W81"]
    assert len(devices) == 3
    assert len(app) == 1
    assert app[0]["appDeviceList"][0]["serialNumber"] == serial
    assert app[0]["deviceOwnerCustomerId"] == sim.accounts["bob@example.de"].customer_id
    assert sim.violations == []


async def test_an_account_signed_in_through_another_marketplace(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """
    An amazon.de account registered with amazon.com's cookies (global sign-in).

    The registration still says its home region, /api/users/me on amazon.com still names
    amazon.de, and amazon.com's device list has none of its Echo devices: only its app device.
    """
    sim.add_account("eva@example.de", "pw", SECRET, marketplace="amazon.de")
    page, serial, verifier = await open_signin(browser)
    page = await browser.submit(
        page, page.form(name="signIn"), email="eva@example.de", password="pw" + otp(clock)
    )
    result = await register(browser, Login(serial, verifier, code_from(page.location)))
    assert result["extensions"]["customer_info"]["home_region"] == "EU"
    com_cookies = cookie_header(result["tokens"]["website_cookies"])
    me = await browser.request(
        "GET",
        "https://alexa.amazon.com/api/users/me?platform=ios&version=2.2.663733.0",
        headers={"Cookie": com_cookies},
    )
    answer = json.loads(me.text)
    assert answer["marketPlaceDomainName"] == "https://www.amazon.de"
    assert answer["marketPlaceId"] == "A1PA6795UKMFR9"
    devices = json.loads(
        (
            await browser.request(
                "GET",
                "https://alexa.amazon.com/api/devices-v2/device",
                headers={"Cookie": com_cookies},
            )
        ).text
    )["devices"]
    assert [d["deviceType"] for d in devices] == ["A2IVLV5VM2W81"]
    assert sim.violations == []


async def test_capabilities_put(browser: Browser, sim: AmazonSimulator, clock: FakeClock) -> None:
    """Capabilities answer 204 with a live bearer token, 401 without."""
    result = await register(browser, await sign_in(browser, clock))
    token = result["tokens"]["bearer"]["access_token"]
    url = "https://api.amazonalexa.com/v1/devices/@self/capabilities"
    page = await browser.request(
        "PUT", url, json_body={"legacyFlags": {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert page.status == 204
    sim.expire_access_tokens(EMAIL)
    page = await browser.request(
        "PUT", url, json_body={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert page.status == 401


# -- bookkeeping: violations, Date, counting, hosts ------------------------------------------


async def test_unserved_paths_and_methods_are_violations(
    browser: Browser, sim: AmazonSimulator
) -> None:
    """Paths and methods a host does not serve are violations."""
    assert (await browser.request("GET", "https://alexa.amazon.com/api/bootstrap")).status == 404
    assert (await browser.request("POST", "https://www.amazon.com/auth/register")).status == 404
    assert (await browser.request("GET", "https://api.amazon.com/auth/token")).status == 405
    assert len(sim.violations) == 3


async def test_date_header_follows_clock_and_skew(browser: Browser, sim: AmazonSimulator) -> None:
    """The Date header comes from the injected clock plus skew."""
    page = await browser.request("GET", "https://www.amazon.com/ap/maplanding")
    assert parsedate_to_datetime(page.headers["Date"]).timestamp() == START
    sim.clock_skew = 600
    page = await browser.request("GET", "https://www.amazon.com/ap/maplanding")
    assert parsedate_to_datetime(page.headers["Date"]).timestamp() == START + 600
    assert page.headers["Date"].endswith(" GMT")


async def test_totp_check_uses_skewed_clock(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """TOTP verification uses the skewed clock."""
    sim.clock_skew = 300
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=otp(clock))
    assert "not valid" in page.text
    skewed = pyotp.TOTP(SECRET).at(int(clock.now + 300))
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=skewed)
    assert page.status == 302


async def test_request_counting(browser: Browser, sim: AmazonSimulator) -> None:
    """Requests are logged with host, path, status and time."""
    await open_signin(browser)
    await browser.request("GET", "https://www.amazon.com/ap/maplanding")
    await browser.request("GET", "https://alexa.amazon.com/api/welcome")
    assert sim.request_count() == 3
    assert sim.request_count("/ap/signin") == 1
    assert sim.request_count(method="GET", host="www.amazon.com") == 2
    assert sim.request_count(host="alexa.amazon.com:443") == 1
    assert sim.request_log[-1].status == 401
    assert sim.request_log[0].time == START
    sim.reset_counts()
    assert sim.request_count() == 0


async def test_x_forwarded_host_selects_the_service(sim: AmazonSimulator) -> None:
    """X-Forwarded-Host wins over Host."""
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{sim.base_url}/ap/maplanding", headers={"X-Forwarded-Host": "www.amazon.co.uk"}
        ) as response:
            assert response.status == 404
        async with session.get(
            f"{sim.base_url}/api/welcome", headers={"X-Forwarded-Host": "alexa.amazon.com:8443"}
        ) as response:
            assert response.status == 401
        async with session.get(f"{sim.base_url}/") as response:
            assert response.status == 200
    assert sim.request_log[0].host == "www.amazon.co.uk"
    assert sim.request_log[1].host == "alexa.amazon.com"
    assert sim.violations == []


# -- scenarios -----------------------------------------------------------------------------------


async def to_after_password(browser: Browser, email: str = EMAIL) -> Page:
    """Open a sign-in and submit email and password."""
    page, _, _ = await open_signin(browser)
    return await browser.submit(page, page.form(name="signIn"), email=email, password=PASSWORD)


async def test_signin_get_404_still_renders_form(browser: Browser, sim: AmazonSimulator) -> None:
    """signin_get_404 answers 404 with the form."""
    sim.scenario.signin_get_404 = True
    page, _, _ = await open_signin(browser)
    assert page.status == 404
    page.form(name="signIn")


async def test_passkey_forced(browser: Browser, sim: AmazonSimulator) -> None:
    """passkey_forced shows Amazon's passkey text and no OTP field."""
    sim.scenario.passkey_forced = True
    page = await to_after_password(browser)
    assert "This device does not support passkeys. For security reasons, please sign in on " in (
        page.text
    )
    assert "otpCode" not in page.text
    page.form(name="signInWithPasskeyButton")


async def test_password_page_offering_passkey_is_still_a_sign_in_page(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """A passkey button does not stop the normal sign-in."""
    sim.scenario.password_page_offers_passkey = True
    page, _, _ = await open_signin(browser)
    passkey = page.form(name="signInWithPasskeyButton")
    assert {"webAuthnChallengeIdForButton", "webAuthnGetParametersForButton"} <= set(passkey.hidden)
    assert page.forms[0].attrs["name"] == "signInWithPasskeyButton"  # before the signIn form
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password=PASSWORD)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=otp(clock))
    assert page.status == 302


async def test_sms_only_chooser_and_sms_code(browser: Browser, sim: AmazonSimulator) -> None:
    """sms_only shows the chooser without TOTP; the SMS code signs in."""
    sim.scenario.sms_only = True
    page = await to_after_password(browser)
    chooser = page.form(id="auth-select-device-form")
    assert chooser.attrs["action"] == ""
    assert chooser.hidden["appAction"] == "MFA_NEW_OTP"
    radios = [i["value"] for i in chooser.inputs if i.get("name") == "otpDeviceContext"]
    assert [r.rsplit(", ", 1)[1] for r in radios] == ["SMS", "VOICE"]
    assert 'class="a-radio a-radio-fancy auth-SMS"' in page.text
    assert "auth-TOTP" not in page.text
    assert "auth-send-code" in chooser.input_ids()
    page = await browser.submit(page, chooser, otpDeviceContext=radios[0])
    code = sim.last_sent_otp(EMAIL)
    assert code is not None
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=code)
    assert page.status == 302
    assert sim.violations == []


async def test_new_otp_link_offers_totp(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """The new-OTP link leads to a chooser with the authenticator app."""
    page = await to_after_password(browser)
    link = page.text.split('id="auth-get-new-otp-link" class="a-link-normal" href="', 1)[1]
    url = link.split('"', 1)[0].replace("&amp;", "&")
    page = await browser.request("GET", url)
    chooser = page.form(id="auth-select-device-form")
    totp = next(
        i["value"]
        for i in chooser.inputs
        if i.get("name") == "otpDeviceContext" and i["value"].endswith("TOTP")
    )
    page = await browser.submit(page, chooser, otpDeviceContext=totp)
    page = await browser.submit(page, page.form(id="auth-mfa-form"), otpCode=otp(clock))
    assert page.status == 302
    assert sim.violations == []


async def test_no_mfa_page(browser: Browser, sim: AmazonSimulator) -> None:
    """no_mfa_page signs in on the password alone."""
    sim.scenario.no_mfa_page = True
    page = await to_after_password(browser)
    assert page.status == 302
    assert "openid.oa2.authorization_code=" in page.location


async def test_otp_too_many(browser: Browser, sim: AmazonSimulator) -> None:
    """otp_too_many shows the chooser with Amazon's limit text."""
    sim.scenario.otp_too_many = True
    page = await to_after_password(browser)
    page.form(id="auth-select-device-form")
    assert (
        "You've requested too many OTPs today. You can request a new OTP in 24 hours."
        in page.text.replace("&#x27;", "'")
    )


async def test_captcha_before_password(browser: Browser, sim: AmazonSimulator) -> None:
    """The classic captcha must be solved before the password counts."""
    sim.scenario.captcha_before_password = True
    page, _, _ = await open_signin(browser)
    assert 'id="auth-captcha-image"' in page.text
    form = page.form(name="signIn")
    assert "auth-captcha-guess" in form.input_ids()
    page = await browser.submit(page, form, email=EMAIL, password=PASSWORD, guess="WRONG")
    assert 'id="auth-captcha-image"' in page.text
    page = await browser.submit(
        page, page.form(name="signIn"), email=EMAIL, password=PASSWORD, guess=sim.captcha_answer
    )
    page.form(id="auth-mfa-form")


async def test_captcha_after_wrong_password(browser: Browser, sim: AmazonSimulator) -> None:
    """A wrong password brings the classic captcha."""
    sim.scenario.captcha_after_wrong_password = True
    page, _, _ = await open_signin(browser)
    assert "auth-captcha-image" not in page.text
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password="bad")
    assert "Your password is incorrect" in page.text
    assert 'id="auth-captcha-image"' in page.text


async def test_cvf_captcha_then_mfa(browser: Browser, sim: AmazonSimulator) -> None:
    """The CVF captcha redirects, verifies, then continues to MFA."""
    sim.scenario.cvf_captcha = True
    page = await to_after_password(browser)
    assert page.status == 302
    assert "/ap/cvf/request?arb=" in page.location
    page = await browser.follow(page)
    assert 'id="cvf-page-content"' in page.text
    form = page.form(action="verify")
    assert "cvf-widget-form-captcha" in form.attrs["class"]
    assert form.hidden["cvf_captcha_captcha_type"] == "imageCaptcha"
    assert form.hidden["verifyToken"].startswith("s|")
    assert '<img alt="captcha"' in page.text
    wrong = await browser.submit(
        page, form, cvf_captcha_input="nope", cvf_captcha_captcha_action="verifyCaptcha"
    )
    assert "Enter the characters as they are given in the challenge." in wrong.text
    page = await browser.submit(
        wrong,
        wrong.form(action="verify"),
        cvf_captcha_input=sim.captcha_answer,
        cvf_captcha_captcha_action="verifyCaptcha",
    )
    page.form(id="auth-mfa-form")
    assert sim.violations == []


async def test_robot_check(browser: Browser, sim: AmazonSimulator) -> None:
    """The robot check is solved through validateCaptcha and sends us back."""
    sim.scenario.robot_check = True
    page, _, _ = await open_signin(browser)
    form = page.form(action="/errors/validateCaptcha")
    assert form.attrs["method"] == "get"
    assert form.hidden["amzn-pt"] == "AuthenticationPortal"
    assert "captchacharacters" in form.input_ids()
    page = await browser.submit(page, form, **{"field-keywords": sim.captcha_answer})
    assert page.status == 302
    page = await browser.follow(page)
    page.form(name="signIn")


async def test_approval_polling(browser: Browser, sim: AmazonSimulator) -> None:
    """The approval page polls until the phone approves."""
    sim.scenario.approval = True
    page = await browser.follow(await to_after_password(browser))
    page.form(id="verification-code-form")
    page.form(id="resend-approval-form")
    polling = page.form(id="pollingForm")
    assert polling.attrs["action"] == "/ap/cvf/approval/poll"
    assert 'id="transactionApprovalStatus"' in page.text
    pending = await browser.submit(page, polling)
    assert pending.status == 200
    assert sim.approve_sign_in(EMAIL) == 1
    done = await browser.submit(page, polling)
    assert done.status == 302
    assert "openid.oa2.authorization_code=" in done.location


async def test_approval_code(browser: Browser, sim: AmazonSimulator) -> None:
    """The approval page also accepts the sent code."""
    sim.scenario.approval = True
    page = await browser.follow(await to_after_password(browser))
    form = page.form(id="verification-code-form")
    page = await browser.submit(page, form, otpCode=sim.last_sent_otp(EMAIL) or "")
    assert page.status == 302


async def test_waf_challenge(browser: Browser, sim: AmazonSimulator) -> None:
    """waf_challenge serves the gokuProps page without a form."""
    sim.scenario.waf_challenge = True
    page = await to_after_password(browser)
    assert "window.gokuProps" in page.text
    assert "challenge.js" in page.text
    assert 'id="challenge-container"' in page.text
    assert page.forms == []


async def test_aamation_challenge(browser: Browser, sim: AmazonSimulator) -> None:
    """aamation_challenge serves the cvf-aamation form."""
    sim.scenario.aamation_challenge = True
    page = await browser.follow(await to_after_password(browser))
    assert 'id="cvf-aamation-container"' in page.text
    page.form(id="cvf-aamation-challenge-form")


async def test_lockout_after_wrong_passwords(browser: Browser, sim: AmazonSimulator) -> None:
    """Too many wrong passwords lead to the forgot-password page."""
    sim.scenario.lockout_after = 2
    page, _, _ = await open_signin(browser)
    page = await browser.submit(page, page.form(name="signIn"), email=EMAIL, password="bad1")
    assert "Your password is incorrect" in page.text
    page = await browser.submit(page, page.form(name="signIn"), password="bad2")
    page.form(name="forgotPassword")
    assert "unusual activity" in page.text
    page = await to_after_password(browser)  # even the right password now
    page.form(name="forgotPassword")


async def test_account_missing(browser: Browser, sim: AmazonSimulator) -> None:
    """account_missing serves the intent-confirmation form."""
    sim.scenario.account_missing = True
    page = await to_after_password(browser)
    form = page.form(id="intent-confirmation-form")
    assert form.hidden["claimCollectionLayoutType"] == "unifiedAuthClaimCollection"
    assert form.hidden["email"] == EMAIL
    assert {"arb", "csrf-token"} <= set(form.hidden)


async def test_require_init_cookies(browser: Browser, sim: AmazonSimulator) -> None:
    """Without frc/map-md/amzn-app-id the first page carries a captcha."""
    sim.scenario.require_init_cookies = True
    page, _, _ = await open_signin(browser)
    assert 'id="auth-captcha-image"' in page.text
    assert any("init cookies" in v for v in sim.violations)
    sim.violations.clear()
    browser.session.cookie_jar.update_cookies(
        {"frc": "abc", "map-md": "e30", "amzn-app-id": "MAPiOSLib/6.0/ToHideRetailLink"},
        URL("http://www.amazon.com/"),
    )
    page, _, _ = await open_signin(browser)
    assert "auth-captcha-image" not in page.text
    assert sim.violations == []


async def test_invalid_grant_scenario(
    browser: Browser, sim: AmazonSimulator, clock: FakeClock
) -> None:
    """invalid_grant hits token and exchange until switched off."""
    refresh = (await register(browser, await sign_in(browser, clock)))["tokens"]["bearer"][
        "refresh_token"
    ]
    sim.scenario.invalid_grant = True
    assert json.loads((await refresh_access(browser, refresh)).text)["error"] == "invalid_grant"
    page = await exchange(browser, refresh, ".amazon.com", "www.amazon.com")
    assert page.status == 400
    sim.scenario.invalid_grant = False
    assert (await refresh_access(browser, refresh)).status == 200


async def test_unauthenticated_alexa_redirect(browser: Browser, sim: AmazonSimulator) -> None:
    """alexa_unauth_redirect sends unauthenticated calls to sign-in."""
    sim.scenario.alexa_unauth_redirect = True
    page = await browser.request("GET", "https://alexa.amazon.de/api/language")
    assert page.status == 302
    assert page.location.startswith("https://www.amazon.de/ap/signin?")
    assert "amzn_dp_project_dee_de" in page.location


async def test_account_scenario_overrides_global(browser: Browser, sim: AmazonSimulator) -> None:
    """An account's own scenario replaces the global one."""
    sim.add_account("carol@example.com", PASSWORD, SECRET, scenario=Scenario(passkey_forced=True))
    sim.scenario.no_mfa_page = True
    page = await to_after_password(browser, "carol@example.com")
    assert "does not support passkeys" in page.text
    page = await to_after_password(browser)
    assert page.status == 302


# -- transport faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_counts_down(browser: Browser, sim: AmazonSimulator, status: int) -> None:
    """rate_limit answers 'Rate exceeded' N times, then recovers."""
    sim.scenario.rate_limit = 2
    sim.scenario.rate_limit_status = status
    url = "https://www.amazon.com/ap/maplanding"
    for _ in range(2):
        page = await browser.request("GET", url)
        assert page.status == status
        assert "Rate exceeded" in page.text
    assert (await browser.request("GET", url)).status == 404
    assert sim.scenario.rate_limit == 0


async def test_server_error(browser: Browser, sim: AmazonSimulator) -> None:
    """server_error answers a bare 503."""
    sim.scenario.server_error = 1
    page = await browser.request("POST", "https://api.amazon.com/auth/token", data={})
    assert page.status == 503
    assert "Rate exceeded" not in page.text


async def test_dropped_connection(browser: Browser, sim: AmazonSimulator) -> None:
    """drop_connections on a path closes the connection once."""
    sim.scenario.drop_connections = 1
    sim.scenario.drop_on_path = "/auth/token"
    assert (await browser.request("GET", "https://www.amazon.com/ap/maplanding")).status == 404
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await browser.request("POST", "https://api.amazon.com/auth/token", data={})
    assert sim.scenario.drop_connections == 0
    assert sim.request_log[-1].status == 0
    assert (
        await browser.request("POST", "https://api.amazon.com/auth/token", data={})
    ).status == 400


async def test_truncated_json(browser: Browser, sim: AmazonSimulator) -> None:
    """truncated_json cuts the next JSON body in half."""
    sim.scenario.truncated_json = 1
    page = await browser.request("POST", "https://api.amazon.com/auth/token", data={})
    with pytest.raises(json.JSONDecodeError):
        json.loads(page.text)
    page = await browser.request("POST", "https://api.amazon.com/auth/token", data={})
    assert json.loads(page.text)["error"] == "invalid_request"


async def test_slow_responses(browser: Browser, sim: AmazonSimulator) -> None:
    """slow_seconds delays responses."""
    sim.scenario.slow_seconds = 0.2
    started = time.monotonic()
    await browser.request("GET", "https://www.amazon.com/ap/maplanding")
    assert time.monotonic() - started >= 0.2


# -- standalone ------------------------------------------------------------------------------------


async def test_serve_reports_ready_and_runs_until_cancelled() -> None:
    """serve() calls ready with the URL and runs until cancelled."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            port=0,
            accounts=[AccountSpec(EMAIL, PASSWORD, SECRET, marketplace="amazon.de")],
            ready=ready.set_result,
        )
    )
    base_url = await asyncio.wait_for(ready, 5)
    assert base_url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/") as response:
        assert response.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_add_account_rejects_bad_input() -> None:
    """Unknown marketplaces and non-base32 keys are refused."""
    sim = AmazonSimulator()
    with pytest.raises(ValueError, match="marketplace"):
        sim.add_account(EMAIL, PASSWORD, SECRET, marketplace="amazon.xx")
    with pytest.raises(ValueError, match="base32"):
        sim.add_account(EMAIL, PASSWORD, "not base32 !!")
