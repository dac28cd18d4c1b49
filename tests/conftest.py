"""Fixtures shared by the test modules: a fake clock, a running simulator, a signed-out manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import (
    TEST_EMAIL,
    TEST_KEY,
    TEST_PASSWORD,
    FakeClock,
    make_manager,
    simulator_session,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager


@pytest.fixture
def clock() -> FakeClock:
    """Return a fake clock shared by the simulator and the client."""
    return FakeClock()


@pytest.fixture
async def simulator(clock: FakeClock) -> AsyncIterator[AmazonSimulator]:
    """Run the Amazon simulator on loopback with one test account."""
    async with AmazonSimulator(clock=clock.time) as sim:
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        yield sim


@pytest.fixture
async def http_session(simulator: AmazonSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session routed to the simulator."""
    session = simulator_session(simulator.base_url)
    yield session
    await session.close()


@pytest.fixture
async def manager(
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> AsyncIterator[AuthSessionManager]:
    """Return a signed-out session manager for the test account."""
    mgr = make_manager(http_session, tmp_path / "account", simulator.base_url, clock)
    yield mgr
    await mgr.close()
