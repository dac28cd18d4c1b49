"""
A session that needs the user at runtime is flagged in MA, and the flag goes once it is healthy.

The provider stays loaded and sets its ``last_error`` after loading completed (or MA's loader
would wipe it): a string on older MA, a structured ``LoginFailed`` error on newer MA, where the
status becomes "auth_required". It does so only with ``notify_on_failure`` on. Temporary trouble
never bothers the user, and a network outage at load keeps the provider loaded and retries in
the background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_models.enums import EventType

from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import ACTION_REFRESH, ACTION_SIGN_IN, CONF_NOTIFY, DOMAIN
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from tests.helpers import TEST_EMAIL

from .support import add, eventually, fire_timers, ma_guide, restart, texts

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.simulator import AmazonSimulator

    from .support import SteppedClock

DAY = 86_400.0


def _provider(mass: MusicAssistant, instance_id: str) -> AlexaAuthProvider:
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    return provider


async def _revoke_and_refresh(
    mass: MusicAssistant,
    instance_id: str,
    simulator: AmazonSimulator,
    background_clock: SteppedClock,
) -> AlexaAuthProvider:
    """Revoke the device's refresh token at Amazon and let the scheduled refresh run."""
    provider = _provider(mass, instance_id)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    await background_clock.advance(8 * DAY)
    await eventually(lambda: provider.health.blocked_by is not None)
    return provider


async def test_needs_user_sets_last_error_after_load(
    mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """A revoked session stops the refresh and, a moment later, sets last_error."""
    instance_id = await add(mass)

    provider = await _revoke_and_refresh(mass, instance_id, simulator, background_clock)

    assert provider.scheduler is not None
    assert provider.scheduler.stopped_for_user
    # deferred: set only after the timer fires, never while a load could still clear it
    assert mass.config.last_error_message(instance_id) is None
    assert f"alexa_auth_notice_{instance_id}" in mass.pending_timers
    events_before = len(mass.events)

    await fire_timers(mass)

    message = mass.config.last_error_message(instance_id)
    assert message is not None
    assert ma_guide(GuideSlug.REAUTH_LOOP) in message
    assert mass.get_provider(instance_id) is provider  # still loaded
    assert any(e[0] == EventType.PROVIDERS_UPDATED for e in mass.events[events_before:])
    if mass.generation == "new":
        raw = mass.config.get(f"providers/{instance_id}/last_error")
        assert raw["error_code"] == 6
        assert mass.config.provider_status(instance_id) == "auth_required"
    else:
        assert isinstance(mass.config.get(f"providers/{instance_id}/last_error"), str)
    health = texts(await provider.health_entries())
    assert ma_guide(GuideSlug.REAUTH_LOOP) in health


async def test_no_notice_when_notify_is_off(
    mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """With notify_on_failure off, the failure shows in the settings only."""
    instance_id = await add(mass)
    before = mass.get_provider(instance_id)
    await mass.config.save_provider_config(DOMAIN, {CONF_NOTIFY: False}, instance_id)
    await fire_timers(mass)  # MA reloads the provider a second after a change
    await eventually(lambda: mass.get_provider(instance_id) not in (None, before))
    await eventually(lambda: _provider(mass, instance_id).scheduler is not None)

    provider = await _revoke_and_refresh(mass, instance_id, simulator, background_clock)
    await fire_timers(mass)

    assert provider.health.blocked_by is not None
    assert mass.config.last_error_message(instance_id) is None


async def test_temporary_failure_does_not_bother_the_user(
    mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """A failed refresh on a 503 is retried quietly and succeeds; no last_error."""
    instance_id = await add(mass)
    provider = _provider(mass, instance_id)
    scheduler = provider.scheduler
    assert scheduler is not None
    simulator.scenario.server_error = 1

    await background_clock.advance(8 * DAY)
    await eventually(lambda: scheduler.consecutive_failures == 1)
    await background_clock.advance(60)
    await eventually(lambda: scheduler.consecutive_failures == 0)
    await fire_timers(mass)

    assert provider.health.blocked_by is None
    assert mass.config.last_error_message(instance_id) is None


async def test_signing_in_again_clears_last_error(
    new_mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """Newer MA: "Sign in now" on the options page fixes the session and clears last_error."""
    instance_id = await add(new_mass)
    provider = await _revoke_and_refresh(new_mass, instance_id, simulator, background_clock)
    await fire_timers(new_mass)
    assert new_mass.config.last_error_message(instance_id) is not None

    entries = await new_mass.config.invoke_provider_config_action(instance_id, ACTION_SIGN_IN)
    assert "Signed in to amazon.com" in texts(entries)
    await fire_timers(new_mass)

    assert new_mass.config.last_error_message(instance_id) is None
    assert provider.health.blocked_by is None
    assert provider.scheduler is not None
    assert provider.scheduler.running
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_outage_at_load_keeps_the_provider_loaded(
    mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """Amazon unreachable at start-up: loaded, a warning, and a retry that brings it up."""
    instance_id = await add(mass)
    await mass.stop()
    simulator.reset_counts()
    simulator.scenario.drop_connections = 1000

    restarted = restart(mass)
    try:
        await restarted.start()
        provider = _provider(restarted, instance_id)
        assert provider.health.offline is not None
        assert restarted.config.last_error_message(instance_id) is None
        assert "could not be reached" in texts(await provider.health_entries())
        await eventually(lambda: background_clock.sleepers == 1)

        simulator.scenario.drop_connections = 0
        await background_clock.advance(60)
        await eventually(lambda: provider.health.offline is None)

        assert provider.scheduler is not None
        assert provider.scheduler.running
        assert restarted.config.last_error_message(instance_id) is None
        assert simulator.request_count("/ap/signin") == 0
    finally:
        await restarted.stop()


async def test_refresh_button_refused_marks_the_provider(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """A "Refresh now" that Amazon refuses flags the provider at once, not days later."""
    instance_id = await add(mass)
    provider = _provider(mass, instance_id)
    simulator.revoke_refresh_tokens(TEST_EMAIL)

    notice = await provider.run_action(ACTION_REFRESH)

    assert not notice.ok
    assert provider.health.blocked_by is not None
    assert provider.health.blocked_by.code == "session_revoked"
    await fire_timers(mass)
    message = mass.config.last_error_message(instance_id)
    assert message is not None
    assert ma_guide(GuideSlug.REAUTH_LOOP) in message
