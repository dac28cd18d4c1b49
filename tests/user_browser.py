"""
A person at their own browser, signing in on the simulated Amazon: the other half of issue 15.

The browser is a plain aiohttp client, deliberately not the auth core: it follows redirects,
keeps its own cookies, shows where it is in its address bar (the address as Amazon wrote it, which
is what a person copies), and runs Amazon's page scripts (their fingerprint goes into
``metadata1``). The person reads captchas, receives text messages and holds a passkey: whatever
the simulator hands the account's owner. Pages are read with the standard library's HTML parser.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode, urljoin

import aiohttp
import pyotp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from music_assistant_alexa.simulator import PASSKEY_RESPONSE_FIELD, page_script_fingerprint

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music_assistant_alexa.simulator import AmazonSimulator, SimPasskey

    from .helpers import FakeClock

#: A desktop browser's user agent.
USER_AGENT: Final = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
#: More pages than a person clicks through before giving up.
MAX_STEPS: Final = 12


class _AmazonOnLoopback(AbstractResolver):
    """Resolve Amazon's host names to the simulator's loopback address (the browser's DNS)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        del family
        if ".amazon." not in f".{host}":
            msg = f"the test browser reaches only Amazon, not {host}"
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
class Form:
    """A form as the browser sees it."""

    attrs: dict[str, str]
    inputs: list[dict[str, str]] = field(default_factory=list)

    @property
    def hidden(self) -> dict[str, str]:
        """Return the hidden inputs by name."""
        return {
            i["name"]: i.get("value", "")
            for i in self.inputs
            if i.get("type") == "hidden" and "name" in i
        }

    def names(self) -> set[str]:
        """Return the names of every input."""
        return {i["name"] for i in self.inputs if "name" in i}

    def radios(self, name: str) -> list[str]:
        """Return the values of a radio group."""
        return [i.get("value", "") for i in self.inputs if i.get("name") == name]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._open = Form(values)
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None:
            self._open.inputs.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


@dataclass
class Shown:
    """The page the browser shows."""

    status: int
    #: The address bar: the address as Amazon wrote it.
    address: str
    text: str

    @property
    def forms(self) -> list[Form]:
        """Return the page's forms."""
        parser = _Forms()
        parser.feed(self.text)
        return parser.forms

    def form(self, **attrs: str) -> Form | None:
        """Return the first form with these attributes, if there is one."""
        for found in self.forms:
            if all(found.attrs.get(key) == value for key, value in attrs.items()):
                return found
        return None


class UserBrowser:
    """A person's browser, on the simulated Amazon."""

    def __init__(self, sim: AmazonSimulator, *, runs_scripts: bool = True) -> None:
        """
        Open a browser with an empty cookie jar.

        :param sim: The simulator every Amazon name resolves to.
        :param runs_scripts: Run the pages' scripts (False: a browser with JavaScript off).
        """
        self.sim = sim
        self.runs_scripts = runs_scripts
        connector = aiohttp.TCPConnector(resolver=_AmazonOnLoopback(), force_close=True)
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.CookieJar(), headers={"User-Agent": USER_AGENT}
        )
        self.shown: Shown | None = None

    async def close(self) -> None:
        """Close the browser."""
        await self._session.close()

    def _routed(self, address: str) -> URL:
        """Return where an Amazon address is reached: the simulator's port, plain http."""
        return URL(address, encoded=True).with_scheme("http").with_port(self.sim.port)

    async def open(self, address: str) -> Shown:
        """
        Open an address, following redirects as browsers do.

        :param address: Any Amazon address (as Amazon wrote it, or routed to the simulator).
        """
        return await self._go("GET", address, None)

    async def submit(self, form: Form, **fields: str) -> Shown:
        """
        Submit a form of the page shown: its hidden fields, the fields given, the page scripts'.

        :param form: The form.
        :param fields: What the person typed or chose.
        """
        assert self.shown is not None
        data = {**form.hidden, **fields}
        if "metadata1" in data and self.runs_scripts:
            data["metadata1"] = page_script_fingerprint(USER_AGENT)
        target = urljoin(self.shown.address, form.attrs.get("action") or self.shown.address)
        if form.attrs.get("method", "get").lower() == "get":
            return await self._go("GET", f"{target.split('?')[0]}?{urlencode(data)}", None)
        return await self._go("POST", target, data)

    async def _go(self, method: str, address: str, data: Mapping[str, str] | None) -> Shown:
        for _ in range(MAX_STEPS):
            async with self._session.request(
                method, self._routed(address), data=data, allow_redirects=False
            ) as response:
                text = await response.text()
                location = response.headers.get("Location")
                status = response.status
            if status not in _REDIRECTS or not location:
                self.shown = Shown(status, address, text)
                return self.shown
            address = urljoin(address, location)
            if status in (301, 302, 303):
                method, data = "GET", None
        msg = f"too many redirects from {address}"
        raise AssertionError(msg)


@dataclass
class Person:
    """The account's owner: knows the password, reads captchas and texts, holds the passkey."""

    email: str
    password: str
    sim: AmazonSimulator
    clock: FakeClock
    totp_key: str | None = None
    passkey: SimPasskey | None = field(default=None, repr=False)
    #: What the person did on the way, page by page.
    steps: list[str] = field(default_factory=list)

    async def sign_in(self, browser: UserBrowser, link: str) -> str:
        """
        Open the link, sign in like a person does, and copy the final page's address.

        :param browser: The person's browser.
        :param link: The link to open.
        :returns: The address in the address bar on the last page ("page not found").
        """
        shown = await browser.open(link)
        for _ in range(MAX_STEPS):
            if URL(shown.address).path == "/ap/maplanding":
                assert shown.status == 404
                assert "Looking for something?" in shown.text
                return shown.address
            shown = await self._act(browser, shown)
        msg = f"the person got stuck after {self.steps}"
        raise AssertionError(msg)

    async def _act(self, browser: UserBrowser, shown: Shown) -> Shown:
        passkey_form = shown.form(name="signInWithPasskeyButton")
        if passkey_form is not None and self.passkey is not None:
            self.steps.append("passkey")
            answer = self.passkey.answer(passkey_form.hidden["webAuthnGetParametersForButton"])
            return await browser.submit(passkey_form, **{PASSKEY_RESPONSE_FIELD: answer})
        sign_in = shown.form(name="signIn")
        if sign_in is not None:
            fields = {"email": self.email, "password": self.password}
            if "guess" in sign_in.names():
                self.steps.append("captcha")
                fields["guess"] = self.sim.captcha_answer
            else:
                self.steps.append("password")
            return await browser.submit(sign_in, **fields)
        chooser = shown.form(id="auth-select-device-form")
        if chooser is not None:
            self.steps.append("choose text message")
            sms = next(v for v in chooser.radios("otpDeviceContext") if v.endswith("SMS"))
            return await browser.submit(chooser, otpDeviceContext=sms)
        mfa = shown.form(id="auth-mfa-form")
        if mfa is not None:
            texted = self.sim.last_sent_otp(self.email)
            if texted is not None:
                self.steps.append("code from the text message")
                code = texted
            else:
                assert self.totp_key is not None, "asked for an app code without an app"
                self.steps.append("code from the authenticator app")
                code = pyotp.TOTP(self.totp_key).at(int(self.clock.now))
            return await browser.submit(mfa, otpCode=code)
        msg = f"the person does not know what to do on {shown.address}: {shown.text[:300]}"
        raise AssertionError(msg)
