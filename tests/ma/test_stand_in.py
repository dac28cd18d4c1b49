"""
The MA stand-in behaves as upstream does where the adapter depends on it.

Each value and rule here was read from upstream's server (flows.py @09902b70, setup_flow.py
@401ef2bb, mass.py, the 2.9 config controller): the flow engine's timeouts and registry, a
failed reconfigure's ``last_error``, the start-up retry rules and the stored secrets.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from music_assistant_models.errors import InvalidDataError, LoginFailed, SetupFailedError

from music_assistant_alexa.ma.constants import CONF_PASSWORD, DOMAIN
from music_assistant_alexa.ma.notices import SignInNeeded
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.ma.values import ENCRYPTED_PREFIX
from tests.helpers import TEST_PASSWORD

from .support import FORM, add, load_manifest, settle, submit

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant


def _config_module() -> Any:
    import music_assistant.controllers.config as config_module  # noqa: PLC0415

    return config_module


def test_upstream_values() -> None:
    """The engine's numbers are upstream's."""
    config = _config_module()
    assert config.NEXT_STEP_TIMEOUT == 120
    assert config.FLOW_ABORT_CLEANUP_TIMEOUT == 10
    assert config.IDLE_FLOW_TTL == 15 * 60
    assert frozenset({6, 20, 21, 23}) == config.AUTH_ERROR_CODES


async def test_a_newer_flow_replaces_the_older(new_mass: MusicAssistant) -> None:
    """Starting the same target again ends the running flow as "replaced"."""
    first = await new_mass.config.setup_provider(DOMAIN)
    second = await new_mass.config.setup_provider(DOMAIN)

    old = new_mass.config.sessions[first.flow_id].current_step
    assert (old.type, old.reason) == ("abort", "replaced")
    assert list(new_mass.config.flows) == [second.flow_id]


async def test_finished_flows_are_gone(new_mass: MusicAssistant) -> None:
    """A finished flow leaves the registry: get, submit and abort answer KeyError."""
    step = await new_mass.config.setup_provider(DOMAIN)
    step = await submit(new_mass, step, FORM)
    assert step.type == "finish"
    await settle(new_mass)

    for call in (
        new_mass.config.get_setup_flow(step.flow_id),
        new_mass.config.submit_setup_flow(step.flow_id, {}),
        new_mass.config.abort_setup_flow(step.flow_id),
    ):
        with pytest.raises(KeyError, match="Unknown \\(or finished\\) setup flow"):
            await call


async def test_a_slow_step_answers_working(
    new_mass: MusicAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submit whose next step takes longer than the timeout answers a "working" step."""
    release = asyncio.Event()

    async def run_setup(session: Any) -> None:
        values = await session.form([], step_id="user")
        await release.wait()
        await session.finish(values)

    manifest = load_manifest()
    manifest.domain = "slow_flow"
    new_mass.register_provider(manifest, SimpleNamespace(), SimpleNamespace(run_setup=run_setup))
    monkeypatch.setattr(_config_module(), "NEXT_STEP_TIMEOUT", 0.01)
    step = await new_mass.config.setup_provider("slow_flow")

    answer = await new_mass.config.submit_setup_flow(step.flow_id, {})

    assert (answer.type, answer.step_id) == ("progress", "working")
    await new_mass.config.abort_setup_flow(step.flow_id)


async def test_idle_flows_time_out(new_mass: MusicAssistant) -> None:
    """The sweep aborts a flow idle for 15 minutes as "timed_out"."""
    step = await new_mass.config.setup_provider(DOMAIN)
    new_mass.config.sweep_idle_flows(time.monotonic() + 14 * 60)
    assert step.flow_id in new_mass.config.flows

    new_mass.config.sweep_idle_flows(time.monotonic() + 15 * 60)
    await settle(new_mass)

    ended = new_mass.config.sessions[step.flow_id].current_step
    assert (ended.type, ended.reason) == ("abort", "timed_out")


async def test_a_failed_reconfigure_records_last_error(
    new_mass: MusicAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reload fails: last_error (code 6), old setup data back, the instance unloaded."""
    instance_id = await add(new_mass)
    before = new_mass.config.get(f"providers/{instance_id}/setup_data")

    async def refuse(self: AlexaAuthProvider) -> None:
        del self
        msg = "Amazon says no. How to fix it: somewhere"
        raise SignInNeeded(msg)

    monkeypatch.setattr(AlexaAuthProvider, "handle_async_init", refuse)
    step = await new_mass.config.reconfigure_provider(instance_id)
    step = await submit(new_mass, step, FORM)

    assert step.step_id == "user"
    raw = new_mass.config.get(f"providers/{instance_id}/last_error")
    assert raw["error_code"] == 6
    assert raw["translation_key"] is None
    assert new_mass.config.provider_status(instance_id) == "auth_required"
    assert new_mass.get_provider(instance_id) is None
    assert new_mass.config.get(f"providers/{instance_id}/setup_data") == before


async def test_retries_after_a_failed_start(mass: MusicAssistant) -> None:
    """2.9 retries any MA error; newer MA never an authentication error."""
    assert mass._retries(SetupFailedError("x"))
    assert not mass._retries(ValueError("a bug"))
    assert mass._retries(LoginFailed("x")) is (mass.generation == "old")


async def test_secrets_are_stored_as_fernet_tokens(mass: MusicAssistant) -> None:
    """Stored secrets differ for equal plaintexts, survive a restart, refuse tampering."""
    one = mass.config.encrypt_string(TEST_PASSWORD)
    two = mass.config.encrypt_string(TEST_PASSWORD)

    assert one != two
    assert one.startswith(ENCRYPTED_PREFIX)
    assert mass.config.encrypt_string(one) == one
    assert mass.config.decrypt_string(one) == TEST_PASSWORD
    assert mass.restarted().config.decrypt_string(two) == TEST_PASSWORD
    with pytest.raises(InvalidDataError, match="Password decryption failed"):
        mass.config.decrypt_string(one[:-4] + "AAAA")
    instance_id = await add(mass)
    where = "setup_data" if mass.generation == "new" else "values"
    stored = mass.config.get(f"providers/{instance_id}/{where}/{CONF_PASSWORD}")
    assert mass.config.decrypt_string(stored) == TEST_PASSWORD
