"""
The fixtures of the adapter tests (see ``conftest.py``, which loads them when it can).

Each test gets a fresh stand-in ``mass`` of the generation it asks for, reaching the simulator
through the adapter's settings (fake clock, no pacing, background sleeps that wait for the
test), and everything is stopped and closed afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from music_assistant.mass import MusicAssistant

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.ma import config_entries, helpers, provider

from .support import HAS_SETUP_FLOWS, SteppedClock, load_manifest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock


@pytest.fixture(autouse=True)
async def _adapter_state(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[None]:
    """Forget the adapter's module-level state between tests."""
    monkeypatch.setattr(config_entries, "_last_sweep", None)
    yield
    await config_entries.close_all()
    provider._FAILED_LOGINS.clear()


@pytest.fixture
def background_clock(clock: FakeClock) -> SteppedClock:
    """Return the clock background tasks sleep on (they wait until a test moves time)."""
    return SteppedClock(clock)


@pytest.fixture
def adapter_settings(
    monkeypatch: pytest.MonkeyPatch,
    simulator: AmazonSimulator,
    clock: FakeClock,
    background_clock: SteppedClock,
) -> helpers.AdapterSettings:
    """Point the adapter at the simulator, with the fake clock and no pacing."""
    settings = helpers.AdapterSettings(
        clock=clock,
        pace=0,
        request_timeout=5,
        endpoint=simulator.base_url,
        refresh_jitter=0,
        background_clock=background_clock,
    )
    monkeypatch.setattr(helpers, "SETTINGS", settings)
    return settings


async def _make_mass(
    generation: str, tmp_path: Path, http_session: aiohttp.ClientSession
) -> MusicAssistant:
    mass = MusicAssistant(str(tmp_path / "data"), http_session, generation=generation)
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
    adapter_settings: helpers.AdapterSettings,
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in MA of each generation (the newer one needs models 1.1.169+)."""
    del adapter_settings
    generation = str(request.param)
    if generation == "new" and not HAS_SETUP_FLOWS:
        pytest.skip("setup flows need music-assistant-models 1.1.169 or later")
    server = await _make_mass(generation, tmp_path, http_session)
    yield server
    await server.stop()


@pytest.fixture
async def old_mass(
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    adapter_settings: helpers.AdapterSettings,
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in of the older MA (forms and buttons)."""
    del adapter_settings
    server = await _make_mass("old", tmp_path, http_session)
    yield server
    await server.stop()


@pytest.fixture
async def new_mass(
    tmp_path: Path,
    http_session: aiohttp.ClientSession,
    adapter_settings: helpers.AdapterSettings,
) -> AsyncIterator[MusicAssistant]:
    """Return a stand-in of the newer MA (setup flows)."""
    del adapter_settings
    if not HAS_SETUP_FLOWS:
        pytest.skip("setup flows need music-assistant-models 1.1.169 or later")
    server = await _make_mass("new", tmp_path, http_session)
    yield server
    await server.stop()


__all__ = [
    "_adapter_state",
    "adapter_settings",
    "background_clock",
    "mass",
    "new_mass",
    "old_mass",
]
