"""
Shared test helpers: a fake clock, the simulator's plumbing, a scripted Amazon client.

The scripted client gives the answers the simulator does not.

The fake clock is the only clock tests use: ``sleep`` advances time instantly, so a test can
walk through weeks of refreshes without waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import pyotp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from music_assistant_alexa.auth.endpoints import AmazonHosts, resolver_kwargs
from music_assistant_alexa.auth.http import AmazonHttp, HttpResponse
from music_assistant_alexa.auth.session import AuthSessionManager

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: A fixed, valid 52-character authenticator key for the default test account.
TEST_KEY: Final = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSW"
TEST_EMAIL: Final = "household@example.com"
TEST_PASSWORD: Final = "correct horse battery staple"
#: The start of every test's fake time: 2026-11-01 12:00:00 UTC.
START_TIME: Final = 1_793_534_400.0


class FakeClock:
    """A clock whose ``sleep`` advances time at once."""

    def __init__(self, start: float = START_TIME) -> None:
        """
        Create the clock.

        :param start: Epoch seconds to start at.
        """
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        """Return the fake time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """
        Advance the fake time, yielding once to the event loop.

        :param seconds: How far to advance.
        """
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """
        Move the time forward without sleeping.

        :param seconds: How far to advance.
        """
        self.now += seconds


def simulator_session(base_url: str) -> aiohttp.ClientSession:
    """
    Return a client session whose connector sends Amazon's host names to the simulator.

    :param base_url: The simulator's base URL.
    """
    connector = aiohttp.TCPConnector(**resolver_kwargs(base_url))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def make_manager(
    session: aiohttp.ClientSession,
    store_dir: Path,
    base_url: str,
    clock: FakeClock,
    *,
    marketplace: str = "amazon.com",
    request_timeout: float = 5,
) -> AuthSessionManager:
    """
    Return a session manager talking to the simulator, with pacing off and the fake clock.

    :param session: Session from :func:`simulator_session`.
    :param store_dir: The account's folder.
    :param base_url: The simulator's base URL.
    :param clock: The fake clock.
    :param marketplace: The account's marketplace.
    :param request_timeout: Seconds one request may take (a guard against a hang).
    """
    return AuthSessionManager(
        session=session,
        store_dir=store_dir,
        marketplace=marketplace,
        endpoint=base_url,
        clock=clock,
        pace=0,
        request_timeout=request_timeout,
    )


def current_code(key: str, clock: FakeClock) -> str:
    """
    Return the one-time code of a key at the fake time.

    :param key: The authenticator key.
    :param clock: The fake clock.
    """
    return pyotp.TOTP(key).at(int(clock.now))


@dataclass(frozen=True)
class Answer:
    """One scripted answer of :class:`ScriptedHttp`."""

    status: int
    text: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class ScriptedHttp(AmazonHttp):
    """An Amazon client that answers from a script, for pages the simulator does not serve."""

    def __init__(self, session: aiohttp.ClientSession, answers: list[Answer]) -> None:
        """
        Create the client; its session is never used.

        :param session: Any session (the parent class wants one).
        :param answers: The answers, in the order the requests will be sent.
        """
        super().__init__(session, AmazonHosts.for_marketplace("amazon.com"), pace=0)
        self.answers = list(answers)
        #: (method, URL, form fields) of every request.
        self.sent: list[tuple[str, str, dict[str, str] | None]] = []

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,  # noqa: ARG002 - the parent's signature
        headers: Mapping[str, str] | None = None,  # noqa: ARG002 - the parent's signature
    ) -> HttpResponse:
        """
        Record the request and return the next scripted answer.

        :param method: HTTP method.
        :param url: The URL.
        :param data: Form fields.
        :param json_body: JSON body (ignored).
        :param headers: Extra headers (ignored).
        """
        self.sent.append((method, str(url), dict(data) if data is not None else None))
        answer = self.answers.pop(0)
        answer_headers = CIMultiDictProxy(CIMultiDict(answer.headers))
        return HttpResponse(answer.status, URL(url), answer_headers, answer.text)
