"""
Ask whether Amazon still accepts the cookies in a file, and for which account.

The answer costs at most one request per file (``GET /api/users/me`` on the marketplace's Alexa
host, the call alexapy makes to decide "logged in"), and none when the file's own expiry already
says the sign-in cookie is gone. Each file's cookies travel alone: the jar is emptied before and
after every question, so two households' cookies never meet in one request.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Final

from music_assistant_alexa.auth.endpoints import AmazonHosts
from music_assistant_alexa.auth.errors import AlexaAuthError, ErrorCategory
from music_assistant_alexa.auth.http import DEFAULT_PACE, DEFAULT_TIMEOUT, AmazonHttp
from music_assistant_alexa.auth.models import StoredCookie
from music_assistant_alexa.auth.registration import APP_VERSION, USERS_ME_PATH

if TYPE_CHECKING:
    from aiohttp import ClientSession
    from yarl import URL

    from music_assistant_alexa.auth.clock import Clock
    from music_assistant_alexa.auth.endpoints import Marketplace

    from .file_formats import CookieFileContents, FileCookie


class CookieVerdict(StrEnum):
    """What is known about the cookies of one file."""

    VALID = "valid"  # Amazon accepts them, for the expected account
    EXPIRED = "expired"  # the sign-in cookie's own expiry has passed (nothing was asked)
    REJECTED = "rejected"  # Amazon refuses them
    WRONG_ACCOUNT = "wrong_account"  # Amazon accepts them, but for another e-mail address
    NO_SIGN_IN = "no_sign_in"  # the file holds no marketplace's sign-in cookies at all
    UNREADABLE = "unreadable"  # not a cookie file in a layout we know
    NOT_ASKED = "not_asked"  # nothing in the file says it is stale, and Amazon was not asked
    UNKNOWN = "unknown"  # Amazon could not be asked right now

    @property
    def stale(self) -> bool:
        """Return whether the file can no longer sign anyone in (it may be replaced)."""
        return self in _STALE


_STALE: Final = frozenset(
    {
        CookieVerdict.EXPIRED,
        CookieVerdict.REJECTED,
        CookieVerdict.WRONG_ACCOUNT,
        CookieVerdict.NO_SIGN_IN,
        CookieVerdict.UNREADABLE,
    }
)


def same_account(answered: object, username: str) -> bool:
    """
    Return whether Amazon's ``/api/users/me`` e-mail is the configured account.

    alexapy compares case-insensitively, and accepts any account when the username is a phone
    number (no "@"): so do we.

    :param answered: The ``email`` field of the answer.
    :param username: The configured username.
    """
    if "@" not in username:
        return isinstance(answered, str) and bool(answered)
    return isinstance(answered, str) and answered.casefold() == username.strip().casefold()


def offline_verdict(contents: CookieFileContents | None, now: float) -> CookieVerdict:
    """
    Return what the file itself says about its cookies, without asking Amazon.

    :param contents: The file's cookies, or None when it could not be read.
    :param now: Epoch seconds.
    """
    if contents is None:
        return CookieVerdict.UNREADABLE
    market = contents.marketplace()
    if market is None:
        return CookieVerdict.NO_SIGN_IN
    expires_at = contents.sign_in_expires_at(market)
    if expires_at is not None and expires_at <= now:
        return CookieVerdict.EXPIRED
    return CookieVerdict.NOT_ASKED


class CookieProbe:
    """Asks Amazon about the cookies of files, one request per file at most."""

    def __init__(
        self,
        session: ClientSession,
        *,
        override: URL | None = None,
        clock: Clock,
        pace: float = DEFAULT_PACE,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """
        Create the probe; nothing is sent until :meth:`ask`.

        :param session: The injected aiohttp session (its cookie jar is never used).
        :param override: Where Amazon's hosts are reached (the simulator), or None.
        :param clock: Clock for pacing and expiry.
        :param pace: Minimum seconds between two requests of one marketplace.
        :param timeout: Seconds one request may take.
        """
        self._session = session
        self._override = override
        self._clock = clock
        self._pace = pace
        self._timeout = timeout
        self._clients: dict[str, AmazonHttp] = {}

    def __repr__(self) -> str:
        """Return a representation without cookies."""
        return f"CookieProbe(marketplaces={sorted(self._clients)})"

    def _client(self, market: Marketplace) -> AmazonHttp:
        client = self._clients.get(market.domain)
        if client is None:
            hosts = AmazonHosts(market, self._override)
            client = AmazonHttp(
                self._session, hosts, clock=self._clock, pace=self._pace, timeout=self._timeout
            )
            self._clients[market.domain] = client
        return client

    async def close(self) -> None:
        """Close the clients this probe opened (never the injected session)."""
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def verdict(self, contents: CookieFileContents | None, username: str) -> CookieVerdict:
        """
        Return whether a file's cookies sign ``username`` in: offline first, then one request.

        :param contents: The file's cookies, or None when it could not be read.
        :param username: The account the file is for (its name says so).
        """
        offline = offline_verdict(contents, self._clock.time())
        market = contents.marketplace() if contents is not None else None
        if offline is not CookieVerdict.NOT_ASKED or contents is None or market is None:
            return offline
        return await self.ask(contents.sent_to(f"alexa.{market.domain}"), market, username)

    async def ask(
        self, cookies: list[FileCookie], market: Marketplace, username: str
    ) -> CookieVerdict:
        """
        Ask the marketplace's Alexa host who these cookies sign in (one request).

        :param cookies: The cookies a client sends to ``alexa.<marketplace>``.
        :param market: The marketplace.
        :param username: The account they should sign in.
        """
        client = self._client(market)
        client.clear_cookies()
        client.load_cookies(
            StoredCookie(
                name=c.name,
                value=c.value,
                domain=c.domain,
                path=c.path,
                secure=c.secure,
                http_only=c.http_only,
                expires=c.expires_at,
            )
            for c in cookies
        )
        hosts = client.hosts
        origin = f"https://{hosts.alexa}"
        url = hosts.url(hosts.alexa, USERS_ME_PATH, {"platform": "ios", "version": APP_VERSION})
        try:
            resp = await client.request(
                "GET",
                url,
                headers={"Accept": "application/json", "Referer": f"{origin}/spa/index.html"},
            )
            if resp.status in (401, 403) or (
                resp.is_redirect and "/ap/signin" in (resp.location or "")
            ):
                return CookieVerdict.REJECTED
            if resp.status != 200:
                return CookieVerdict.UNKNOWN
            data = resp.json()
        except AlexaAuthError as err:
            if err.category is ErrorCategory.TEMPORARY:
                return CookieVerdict.UNKNOWN
            raise
        finally:
            client.clear_cookies()
        email = data.get("email") if isinstance(data, dict) else None
        return CookieVerdict.VALID if same_account(email, username) else CookieVerdict.WRONG_ACCOUNT
