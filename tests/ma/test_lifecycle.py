"""
A new instance signs in once, survives restarts without the password, and cleans up after itself.

The sign-in happens in the form (older MA) or the setup flow (newer MA), and the instance takes
that session over without a second sign-in. After a restart the stored session is restored
without the password ever being sent again. Unloading stops every task the provider started;
removing the instance signs out at Amazon and deletes the session (after a backup).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from music_assistant.mass import MusicAssistant

from music_assistant_alexa.ma.constants import (
    ACTION_CHECK_KEY,
    ACTION_SIGN_IN,
    CONF_PENDING_SESSION,
    DOMAIN,
    STORAGE_FOLDER,
)
from music_assistant_alexa.ma.context import ENDPOINT_VARIABLE, AdapterContext
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from tests.helpers import TEST_EMAIL

from .support import FORM, add, add_with_form, by_key, eventually, form, restart

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp
    import pytest

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock

    from .support import SteppedClock


def _provider(mass: MusicAssistant, instance_id: str) -> AlexaAuthProvider:
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    return provider


def _our_tasks() -> list[asyncio.Task[object]]:
    """Return the running tasks started by the adapter or the auth core."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        module = getattr(code, "co_filename", "")
        if "music_assistant_alexa" in module and "simulator" not in module and not task.done():
            found.append(task)
    return found


async def test_fresh_instance_signs_in_once(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    The sign-in happens in the form/flow; loading the instance adopts it, no second one.

    Nor a check: the sign-in's csrf request proved that Amazon accepts the new session, and the
    instance that takes it over a moment later does not ask again.
    """
    instance_id = await add(mass)

    provider = _provider(mass, instance_id)
    assert provider.manager is not None
    assert provider.manager.signed_in
    assert simulator.device_count(TEST_EMAIL) == 1
    assert simulator.request_count("/auth/register") == 1
    assert simulator.request_count("/api/customer-status") == 0
    store = AdapterContext.of(mass).instance_folder(instance_id)
    assert (store / "registration.json").exists()
    # the pending folder of the sign-in was taken over, not copied
    assert not any((AdapterContext.of(mass).storage_root / ".pending").glob("*/registration.json"))
    assert provider.scheduler is not None
    assert provider.scheduler.running


async def test_save_without_sign_in_signs_in_on_load(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Older MA: Save without "Sign in now" signs in with the saved credentials."""
    instance_id = await add_with_form(old_mass, FORM, sign_in=False)

    assert _provider(old_mass, instance_id).manager is not None
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_restart_restores_without_password(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """A restart reads the stored session: no sign-in page, no password, no new device."""
    instance_id = await add(mass)
    await mass.stop()
    simulator.reset_counts()

    restarted = restart(mass)
    try:
        await restarted.start()
        provider = _provider(restarted, instance_id)
        assert provider.manager is not None
        assert provider.manager.signed_in
        assert simulator.request_count("/ap/signin") == 0
        assert simulator.request_count("/auth/register") == 0
        assert simulator.device_count(TEST_EMAIL) == 1
        assert restarted.config.last_error_message(instance_id) is None
    finally:
        await restarted.stop()


async def test_unload_leaves_no_task_running(
    mass: MusicAssistant, background_clock: SteppedClock
) -> None:
    """Unloading cancels the refresh schedule, timers and every other task of the provider."""
    instance_id = await add(mass)
    provider = _provider(mass, instance_id)
    await eventually(lambda: background_clock.sleepers == 1)  # the refresh schedule waits
    assert _our_tasks(), "the refresh schedule should be running"

    await mass.unload_provider(instance_id)

    assert provider.scheduler is not None
    assert not provider.scheduler.running
    assert provider.manager is None
    assert _our_tasks() == []
    assert background_clock.sleepers == 0
    assert mass.running_tasks == []


async def test_removal_deregisters_and_wipes(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Removing the instance removes our device at Amazon and deletes the session folder."""
    instance_id = await add(mass)
    store = AdapterContext.of(mass).instance_folder(instance_id)
    assert simulator.device_count(TEST_EMAIL) == 1

    await mass.config.remove_provider_config(instance_id)

    assert simulator.device_count(TEST_EMAIL) == 0
    assert not store.exists()
    backups = list(store.parent.glob(f"{store.name}.backup-*"))
    assert len(backups) == 1
    assert mass.get_provider(instance_id) is None


async def test_removing_an_instance_that_is_not_running_cleans_up(
    mass: MusicAssistant, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """
    A disabled (or failed) instance is not running, so MA removes it without unloading it.

    Its device and session must not stay behind: the next Alexa instance to start signs the
    device out at Amazon and deletes the session folder (after a backup, as a removal does).
    """
    instance_id = await add(mass)
    store = AdapterContext.of(mass).instance_folder(instance_id)
    await mass.config.save_provider_config(DOMAIN, {"enabled": False}, instance_id)
    assert mass.get_provider(instance_id) is None
    await mass.config.remove_provider_config(instance_id)
    assert store.exists()  # MA did not tell the provider
    assert simulator.device_count(TEST_EMAIL) == 1

    clock.advance(3600)
    other = await add(mass)

    await eventually(lambda: not store.exists())
    await eventually(lambda: simulator.device_count(TEST_EMAIL) == 1)
    assert len(list(store.parent.glob(f"{store.name}.backup-*"))) == 1
    assert AdapterContext.of(mass).instance_folder(other).exists()
    assert _provider(mass, other).manager is not None


async def test_reload_is_not_removal(mass: MusicAssistant, simulator: AmazonSimulator) -> None:
    """An unload that is not a removal keeps the device and the session."""
    instance_id = await add(mass)

    await mass.unload_provider(instance_id)

    assert simulator.device_count(TEST_EMAIL) == 1
    assert (AdapterContext.of(mass).instance_folder(instance_id) / "registration.json").exists()


async def test_store_folder_is_per_instance(mass: MusicAssistant, tmp_path: Path) -> None:
    """The session lives in <storage_path>/alexa_auth/<instance_id>/, private to the user."""
    instance_id = await add(mass)

    store = tmp_path / "data" / STORAGE_FOLDER / instance_id
    assert store.is_dir()
    assert store.stat().st_mode & 0o777 == 0o700


async def test_abandoned_dialog_sign_in_is_undone(
    old_mass: MusicAssistant, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Older MA: a "Sign in now" never saved is signed out and deleted an hour later."""
    entries = by_key(await form(old_mass, FORM, action=ACTION_SIGN_IN))
    pending = entries[CONF_PENDING_SESSION].value
    assert isinstance(pending, str)
    folder = AdapterContext.of(old_mass).pending.folder(pending)
    assert (folder / "registration.json").exists()
    assert simulator.device_count(TEST_EMAIL) == 1

    clock.advance(2 * 3600)
    await form(old_mass, FORM, action=ACTION_CHECK_KEY)  # any later button press looks

    await eventually(lambda: not any(folder.parent.iterdir()))  # folder, record, backup
    assert simulator.device_count(TEST_EMAIL) == 0


async def test_the_endpoint_variable_points_a_new_context_at_the_simulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, http_session: aiohttp.ClientSession
) -> None:
    """A server without a context gets one from the defaults, aimed by the environment variable."""
    monkeypatch.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    with_variable = MusicAssistant(str(tmp_path / "a"), http_session, generation="old")
    context = AdapterContext.of(with_variable)
    assert context.endpoint == "http://127.0.0.1:9"
    # Its own session, whose resolver sends Amazon's names to the simulator's address.
    assert context.http_session is not http_session
    await context.http_session.close()
    monkeypatch.delenv(ENDPOINT_VARIABLE)
    without = MusicAssistant(str(tmp_path / "b"), http_session, generation="old")
    assert AdapterContext.of(without).endpoint is None


async def test_the_instance_is_named_after_its_masked_account(mass: MusicAssistant) -> None:
    """MA lists each instance as "<name> [<postfix>]": the postfix tells accounts apart."""
    instance_id = await add(mass)

    provider = _provider(mass, instance_id)
    assert provider.instance_name_postfix == "h***@example.com"
    assert TEST_EMAIL not in str(provider.instance_name_postfix)
