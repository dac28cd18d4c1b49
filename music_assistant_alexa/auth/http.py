"""
The one request function every call to Amazon goes through.

It routes Amazon URLs (see :mod:`.endpoints`), keeps this account's cookies in a jar of its own,
paces requests (about one a second by default, as Amazon tolerates), applies one timeout, reads
Amazon's clock from the ``Date`` header, and maps every transport failure and server error onto
the auth core's errors. Redirects are never followed implicitly: the sign-in walk needs to see
them, and a maplanding redirect carries the authorization code without being fetched.

Nothing goes anywhere but Amazon: a request to a URL that is not https on one of the account's
Amazon hosts (a form or a redirect pointing elsewhere) is refused before a byte is sent. Nothing
unbounded comes back either: an answer is read up to :data:`MAX_BODY_BYTES` and no further (a
1 GB answer costs 4 MB), JSON is parsed strictly and depth-bounded, and a ``Date`` header or a
cookie expiry outside a sane range of years is ignored rather than crashing the caller.

Cookies stay out of the injected :class:`aiohttp.ClientSession`'s own jar on purpose. Music
Assistant shares one session between all providers and all instances; letting it keep Amazon
cookies would send one household's session along with another's requests.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any, Final

from aiohttp import ClientError, ClientSession, CookieJar, DummyCookieJar
from yarl import URL

from .bounds import MAX_TIME, BoundsError, check_cookie, is_sane_time, load_json
from .clock import SYSTEM_CLOCK, Clock
from .endpoints import is_amazon_host
from .errors import (
    AmazonConnectionError,
    AmazonServerError,
    AmazonTimeoutError,
    RateLimitedError,
    UnexpectedResponseError,
    UnknownPageError,
)
from .models import StoredCookie

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiohttp import ClientResponse
    from multidict import CIMultiDictProxy

    from .endpoints import AmazonHosts

_LOGGER = logging.getLogger(__name__)

#: The Alexa iOS app's web view: the same on every request, as the user's guide advises.
USER_AGENT: Final = "AmazonWebView/Amazon Alexa/2.2.663733.0/iOS/18.5/iPhone"
DEFAULT_PACE: Final = 1.0
DEFAULT_TIMEOUT: Final = 15.0
_RATE_TEXTS: Final = ("rate exceeded", "throttlingexception", "too many requests")
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
#: Largest answer we read. Amazon's biggest page is a few hundred KB; anything beyond this is
#: not an answer we can use, and reading it would cost memory without bound.
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
_READ_CHUNK: Final = 64 * 1024
#: Amazon's ``Date`` before this (2024-01-01) is not now anywhere: it is not used as a clock.
EARLIEST_AMAZON_DATE: Final = 1_704_067_200.0
#: Longest wait a Retry-After header can ask for that we believe.
_MAX_RETRY_AFTER: Final = 86_400.0


@dataclass(slots=True)
class HttpResponse:
    """What Amazon answered."""

    status: int
    #: The URL as Amazon sees it (https, real host): what pages and cookies are judged by.
    url: URL
    headers: CIMultiDictProxy[str] = field(repr=False)
    text: str = field(repr=False)

    @property
    def location(self) -> str | None:
        """Return the redirect target, absolute, as Amazon wrote it (None if unusable)."""
        location = self.headers.get("Location")
        if not location:
            return None
        try:
            return str(self.url.join(URL(location)))
        except (ValueError, TypeError):
            return None  # not a URL: the answer is judged as a page instead

    @property
    def is_redirect(self) -> bool:
        """Return whether this is a redirect with a target."""
        return self.status in _REDIRECTS and self.location is not None

    def json(self) -> Any:
        """
        Return the body parsed as JSON.

        :raises UnexpectedResponseError: The body is not valid JSON (truncated, HTML, ...), or
            not within bounds (nested too deeply, numbers too large).
        """
        try:
            return load_json(self.text)
        except BoundsError as err:
            msg = f"Amazon sent an unreadable answer to {self.url.path} ({err})."
            raise UnexpectedResponseError(msg) from err


class AmazonHttp:
    """One account's HTTP client for Amazon."""

    def __init__(
        self,
        session: ClientSession,
        hosts: AmazonHosts,
        *,
        clock: Clock = SYSTEM_CLOCK,
        pace: float = DEFAULT_PACE,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """
        Create the client.

        :param session: The injected aiohttp session (its cookie jar is never used).
        :param hosts: The marketplace's hosts and where they are reached.
        :param clock: Clock for pacing and for Amazon's clock offset.
        :param pace: Minimum seconds between two requests.
        :param timeout: Seconds one request may take, answer included.
        """
        self.hosts = hosts
        self._clock = clock
        self._pace = pace
        self._timeout = timeout
        self._session = session
        self._own_session: ClientSession | None = None
        self._jar: CookieJar | None = None
        self._last_request_at: float | None = None
        self._pace_lock = asyncio.Lock()
        #: Amazon's clock minus ours, in seconds, from the newest ``Date`` header.
        self.clock_offset: float | None = None
        #: Requests sent, for diagnostics and benchmarks.
        self.request_count = 0

    def __repr__(self) -> str:
        """Return a representation without cookies."""
        return f"AmazonHttp(marketplace={self.hosts.marketplace.domain!r})"

    @property
    def jar(self) -> CookieJar:
        """Return this account's cookie jar."""
        if self._jar is None:
            self._jar = CookieJar(quote_cookie=False)
        return self._jar

    def _cookie_header(self, target: URL) -> str:
        """Return the Cookie header this account's jar holds for ``target`` ("" if none)."""
        cookies = self.jar.filter_cookies(target).values()
        return "; ".join(f"{m.key}={m.coded_value}" for m in cookies)

    def _transport(self) -> ClientSession:
        if isinstance(self._session.cookie_jar, DummyCookieJar):
            return self._session
        if self._own_session is None or self._own_session.closed:
            # Share the connection pool, never the cookie jar (see the module docstring).
            self._own_session = ClientSession(
                connector=self._session.connector,
                connector_owner=False,
                cookie_jar=DummyCookieJar(),
            )
        return self._own_session

    async def close(self) -> None:
        """Close what this client opened (never the injected session)."""
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    # --- cookies -------------------------------------------------------------------------------

    def load_cookies(self, cookies: Iterable[StoredCookie]) -> None:
        """
        Put stored cookies into the jar.

        :param cookies: The cookies.
        :raises UnexpectedResponseError: A cookie cannot be used (a name that is not a token, a
            value with a line break, a domain that is not Amazon's): Amazon sent garbage.
        """
        for cookie in cookies:
            try:
                check_cookie(cookie.name, cookie.value, cookie.domain, cookie.path)
                morsel: SimpleCookie = SimpleCookie()
                morsel[cookie.name] = cookie.value
                item = morsel[cookie.name]
                item["domain"] = cookie.domain
                item["path"] = cookie.path
                if cookie.secure:
                    item["secure"] = True
                if cookie.http_only:
                    item["httponly"] = True
                if cookie.expires is not None and is_sane_time(cookie.expires):
                    item["expires"] = _http_date(cookie.expires)
                host = cookie.domain.lstrip(".")
                self.jar.update_cookies(morsel, URL.build(scheme="https", host=host))
            except (BoundsError, CookieError, ValueError) as err:
                reason = err if isinstance(err, BoundsError) else "a cookie cannot be used"
                msg = f"Amazon sent a cookie this app cannot use ({reason})."
                raise UnexpectedResponseError(msg) from err

    def cookies_for(self, domain: str) -> list[StoredCookie]:
        """
        Return the jar's cookies that belong to one domain and its subdomains.

        :param domain: E.g. "amazon.de".
        """
        found: list[StoredCookie] = []
        for morsel in self.jar:
            cookie_domain = morsel["domain"] or ""
            bare = cookie_domain.lstrip(".")
            if bare != domain and not bare.endswith(f".{domain}"):
                continue
            expires = morsel["expires"]
            found.append(
                StoredCookie(
                    name=morsel.key,
                    value=morsel.value,
                    # The marketplace-wide cookies keep Amazon's ".amazon.de" form; host
                    # cookies (csrf on alexa.amazon.de) keep their host.
                    domain=f".{bare}" if bare == domain else bare,
                    path=morsel["path"] or "/",
                    secure=bool(morsel["secure"]),
                    http_only=bool(morsel["httponly"]),
                    expires=_parse_http_date(expires) if expires else None,
                )
            )
        return found

    def cookie_value(self, name: str, url: URL) -> str | None:
        """
        Return the value of the cookie the jar would send to a URL.

        :param name: Cookie name.
        :param url: The URL, as Amazon sees it.
        """
        morsel = self.jar.filter_cookies(url).get(name)
        return morsel.value if morsel else None

    def clear_cookies(self) -> None:
        """Forget every cookie (a probe of someone else's cookie file must leave none behind)."""
        self.jar.clear()

    async def get_bytes(self, url: URL | str, *, max_bytes: int) -> tuple[str, bytes]:
        """
        Fetch a small binary answer (a captcha picture) with this account's cookies.

        The jar sends only the cookies that belong to the URL's host, as a browser would. No
        redirect is followed; the caller has checked where the URL points.

        :param url: The URL as Amazon wrote it.
        :param max_bytes: A larger answer is refused without being read.
        :returns: The answer's content type and its body.
        :raises AmazonConnectionError: The host could not be reached.
        :raises AmazonTimeoutError: No full answer in time.
        :raises UnexpectedResponseError: Not a 200 answer, or larger than ``max_bytes``.
        """
        target = URL(url)
        await self._wait_for_pace()
        headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
        if cookie_header := self._cookie_header(target):
            headers["Cookie"] = cookie_header
        self.request_count += 1
        try:
            async with asyncio.timeout(self._timeout):
                async with self._transport().get(
                    self.hosts.route(target), headers=headers, allow_redirects=False
                ) as resp:
                    if resp.status != 200:
                        msg = f"Amazon answered {resp.status} for {target.host}{target.path}."
                        raise UnexpectedResponseError(msg)
                    body = await _read_capped(resp, target, max_bytes=max_bytes)
                    return resp.content_type, body
        except TimeoutError as err:
            msg = f"Amazon did not answer within {self._timeout:g} seconds."
            raise AmazonTimeoutError(msg) from err
        except (ClientError, OSError) as err:
            msg = f"Could not reach Amazon ({type(err).__name__})."
            raise AmazonConnectionError(msg) from err

    # --- requests ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """
        Send one request to Amazon and return the answer; never follows redirects.

        :param method: HTTP method.
        :param url: The URL as Amazon wrote it (https, real host name).
        :param data: Form fields.
        :param json_body: JSON body.
        :param headers: Extra headers.
        :raises AmazonConnectionError: Amazon could not be reached, hung up or answered garbage.
        :raises AmazonTimeoutError: No full answer in time.
        :raises RateLimitedError: Amazon asked us to slow down.
        :raises AmazonServerError: Amazon answered with a server error.
        :raises UnexpectedResponseError: The answer is too large or cannot be read.
        :raises UnknownPageError: The URL is not one of the account's Amazon hosts over https;
            nothing was sent.
        """
        amazon_url = self.check_url(url)
        await self._wait_for_pace()
        send_headers = {
            "User-Agent": USER_AGENT,
            "Accept-Language": self.hosts.marketplace.language,
            "Accept-Charset": "utf-8",
        }
        if headers:
            send_headers.update(headers)
        if cookie_header := self._cookie_header(amazon_url):
            send_headers["Cookie"] = cookie_header
        self.request_count += 1
        try:
            async with asyncio.timeout(self._timeout):
                async with self._transport().request(
                    method,
                    self.hosts.route(amazon_url),
                    data=data,
                    json=json_body,
                    headers=send_headers,
                    allow_redirects=False,
                ) as resp:
                    text = _decode(resp, await _read_capped(resp, amazon_url))
                    self._keep_cookies(resp, amazon_url)
                    status, resp_headers = resp.status, resp.headers
        except TimeoutError as err:
            msg = f"Amazon did not answer within {self._timeout:g} seconds."
            raise AmazonTimeoutError(msg) from err
        except (ClientError, OSError) as err:
            # All of ClientError, not just its connection errors: a garbled answer (a proxy, a
            # captive portal) raises ClientResponseError, and that too must reach callers as ours.
            msg = f"Could not reach Amazon ({type(err).__name__})."
            raise AmazonConnectionError(msg) from err
        self._note_amazon_clock(resp_headers.get("Date"))
        _LOGGER.debug("%s %s%s -> %s", method, amazon_url.host, amazon_url.path, status)
        response = HttpResponse(status, amazon_url, resp_headers, text)
        _raise_for_server_trouble(response)
        return response

    def check_url(self, url: URL | str) -> URL:
        """
        Return a URL as Amazon sees it, refusing one that is not the account's Amazon over https.

        :param url: The URL as Amazon wrote it (a form's action, a redirect's target) or as we
            built it.
        :raises UnknownPageError: The URL points elsewhere (another host, plain http, not a URL);
            nothing was sent.
        """
        try:
            amazon_url = URL(url)
            host = amazon_url.host
        except (ValueError, TypeError) as err:
            msg = "Amazon's page pointed the sign-in at something that is not an address."
            raise UnknownPageError(msg) from err
        if (
            self.hosts.override is not None
            and amazon_url.explicit_port not in (None, 443)
            and host is not None
            and is_amazon_host(host)
        ):
            # A routed URL came back (e.g. a redirect built from our own Host header, which
            # carries the endpoint's port). A plain http URL without a port is no such thing.
            amazon_url = amazon_url.with_scheme("https").with_port(None)
        if not self.hosts.allows(amazon_url):
            where = f"{amazon_url.scheme}://{host}" if host else str(amazon_url.scheme or "?")
            msg = (
                f"Amazon's page pointed the sign-in at {where}, which is not one of Amazon's "
                f"addresses for {self.hosts.marketplace.domain} over https. Stopped: nothing "
                "was sent there."
            )
            raise UnknownPageError(msg)
        return amazon_url

    def _keep_cookies(self, resp: ClientResponse, amazon_url: URL) -> None:
        try:
            self.jar.update_cookies(resp.cookies, amazon_url)
        except (CookieError, ValueError, OverflowError) as err:
            msg = f"Amazon sent cookies this app cannot read with {amazon_url.path}."
            raise UnexpectedResponseError(msg) from err

    async def _wait_for_pace(self) -> None:
        if self._pace <= 0:
            return
        async with self._pace_lock:
            now = self._clock.time()
            if self._last_request_at is not None:
                wait = self._last_request_at + self._pace - now
                if wait > 0:
                    await self._clock.sleep(wait)
                    now = self._clock.time()
            self._last_request_at = now

    def _note_amazon_clock(self, date_header: str | None) -> None:
        if not date_header:
            return
        try:
            amazon_now = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, OverflowError, IndexError):
            return
        if not EARLIEST_AMAZON_DATE <= amazon_now <= MAX_TIME:
            return  # a year 99999 (or 2001) is no clock to set one-time codes by
        self.clock_offset = amazon_now - self._clock.time()


async def _read_capped(resp: ClientResponse, url: URL, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """Read an answer up to ``max_bytes``; a larger one is refused unread."""
    declared = resp.content_length
    body = bytearray()
    if declared is None or declared <= max_bytes:
        async for chunk in resp.content.iter_chunked(_READ_CHUNK):
            body += chunk
            if len(body) > max_bytes:
                break
        else:
            return bytes(body)
    resp.close()  # drop the connection: the rest of the answer is never read
    size = f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
    msg = (
        f"Amazon sent an answer larger than {size} to {url.path}; it was not read. "
        "We will try again later."
    )
    raise UnexpectedResponseError(msg)


def _decode(resp: ClientResponse, body: bytes) -> str:
    try:
        return body.decode(resp.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _raise_for_server_trouble(response: HttpResponse) -> None:
    """Map 429 and 5xx answers onto temporary errors."""
    status = response.status
    if status < 500 and status != 429:
        return
    snippet = response.text[:2000].lower()
    amazon_text = next((t for t in _RATE_TEXTS if t in snippet), None)
    if status == 429 or amazon_text:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        msg = "Amazon is limiting requests right now; we will try again later."
        raise RateLimitedError(msg, amazon_text=amazon_text, retry_after=retry_after)
    msg = f"Amazon answered with a server error (HTTP {status}); we will try again later."
    raise AmazonServerError(msg)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(0.0, seconds), _MAX_RETRY_AFTER) if math.isfinite(seconds) else None


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def _parse_http_date(value: str) -> float | None:
    try:
        epoch = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if epoch < 0:
        return None
    return min(epoch, MAX_TIME)  # "expires in the year 9999" is as good as 2200
