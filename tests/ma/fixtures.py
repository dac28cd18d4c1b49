"""
The fixtures of the adapter tests (see ``conftest.py``, which loads them when it can).

Each test gets a fresh stand-in ``mass`` of the generation it asks for, with the adapter's
context attached the way the adapter finds it (:meth:`AdapterContext.attach`): the simulator as
Amazon, the fake clock, no pacing, and background sleeps that wait for the test. Everything is
stopped and closed afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from music_assistant.mass import MusicAssistant

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.ma.context import AdapterContext

from .support import HAS_SETUP_FLOWS, SteppedClock, load_manifest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock


@pytest.fixture
def background_clock(clock: FakeClock) -> SteppedClock:
    """Return the clock background tasks sleep on (they wait until a test moves time)."""
    return SteppedClock(clock)


@pytest.fixture
def adapter_settings(
    simulator: AmazonSimulator, clock: FakeClock, background_clock: SteppedClock
) -> dict[str, Any]:
    """Return the context settings of the tests: the simulator, the fake clock, no pacing."""
    return {
        "clock": clock,
        "background_clock": background_clock,
        "pace": 0,
        "request_timeout": 5,
        "endpoint": simulator.base_url,
        "refresh_jitter": 0,
    }


async def _make_mass(
    generation: str,
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    settings: dict[str, Any],
) -> MusicAssistant:
    mass = MusicAssistant(str(tmp_path / "data"), http_session, generation=generation)
    AdapterContext.for_mass(mass, **settings).attach(mass)
    flow_module = None
    if generation == "new":
        from music_assistant_alexa.ma import setup_flow  # noqa: PLC0415 - newer models only

        flow_module = setup_flow
    mass.register_provider(load_manifest(), ma_module, flow_module)
    return mass


@pytest.fixture(params=["old", "new"])
async def mass(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    adapter_settings: dict[str, Any],
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in MA of each generation (the newer one needs models 1.1.169+)."""
    generation = str(request.param)
    if generation == "new" and not HAS_SETUP_FLOWS:
        pytest.skip("setup flows need music-assistant-models 1.1.169 or later")
    server = await _make_mass(generation, tmp_path, http_session, adapter_settings)
    yield server
    await server.stop()


@pytest.fixture
async def old_mass(
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    adapter_settings: dict[str, Any],
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in of MA 2.9 (forms and buttons)."""
    server = await _make_mass("old", tmp_path, http_session, adapter_settings)
    yield server
    await server.stop()


@pytest.fixture
async def new_mass(
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    adapter_settings: dict[str, Any],
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in of MA 2.10+ (setup flows)."""
    if not HAS_SETUP_FLOWS:
        pytest.skip("setup flows need music-assistant-models 1.1.169 or later")
    server = await _make_mass("new", tmp_path, http_session, adapter_settings)
    yield server
    await server.stop()


__all__ = ["adapter_settings", "background_clock", "mass", "new_mass", "old_mass"]
