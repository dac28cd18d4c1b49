"""
Shared test helpers: a fake clock and the plumbing to talk to the Amazon simulator.

The fake clock is the only clock tests use: ``sleep`` advances time instantly, so a test can
walk through weeks of refreshes without waiting.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import aiohttp
import pyotp

from music_assistant_alexa.auth.endpoints import resolver_kwargs
from music_assistant_alexa.auth.session import AuthSessionManager

if TYPE_CHECKING:
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
) -> AuthSessionManager:
    """
    Return a session manager talking to the simulator, with pacing off and the fake clock.

    :param session: Session from :func:`simulator_session`.
    :param store_dir: The account's folder.
    :param base_url: The simulator's base URL.
    :param clock: The fake clock.
    :param marketplace: The account's marketplace.
    """
    return AuthSessionManager(
        session=session,
        store_dir=store_dir,
        marketplace=marketplace,
        endpoint=base_url,
        clock=clock,
        pace=0,
        request_timeout=5,
    )


def current_code(key: str, clock: FakeClock) -> str:
    """
    Return the one-time code of a key at the fake time.

    :param key: The authenticator key.
    :param clock: The fake clock.
    """
    return pyotp.TOTP(key).at(int(clock.now))
