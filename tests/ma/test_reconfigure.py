"""
Signing an existing instance in again keeps its device and its stored secrets.

Older MA: the edit dialog's "Sign in now" and Save; newer MA: Reconfigure, offered with
"auth_required". Untouched secret fields mean the stored secrets, the device Amazon knows is
kept, the live session is not touched before the instance reloads, and the error is cleared
once it runs with the new session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_models.constants import SECURE_STRING_SUBSTITUTE

from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import (
    ACTION_SIGN_IN,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
    DOMAIN,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.ma.values import stored_secret
from tests.helpers import TEST_EMAIL

from .support import (
    add,
    by_key,
    eventually,
    fire_timers,
    form,
    ma_guide,
    restart,
    settle,
    submit,
    texts,
)

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ProviderConfig

    from music_assistant_alexa.simulator import AmazonSimulator

    from .support import SteppedClock

DAY = 86_400.0


async def _needs_user(
    mass: MusicAssistant,
    instance_id: str,
    simulator: AmazonSimulator,
    background_clock: SteppedClock,
) -> None:
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    await background_clock.advance(8 * DAY)
    await eventually(lambda: provider.health.blocked_by is not None)
    await fire_timers(mass)
    assert mass.config.last_error_message(instance_id) is not None


async def test_edit_dialog_signs_in_again(
    old_mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """Older MA: "Sign in now" with untouched (placeholder) secrets, then Save."""
    instance_id = await add(old_mass)
    await _needs_user(old_mass, instance_id, simulator, background_clock)
    live = AdapterContext.of(old_mass).instance_folder(instance_id) / "registration.json"
    before = live.read_bytes()
    values = {
        CONF_EMAIL: TEST_EMAIL,
        CONF_PASSWORD: SECURE_STRING_SUBSTITUTE,
        CONF_TOTP_KEY: SECURE_STRING_SUBSTITUTE,
        CONF_MARKETPLACE: "amazon.com",
    }

    entries = by_key(await form(old_mass, values, action=ACTION_SIGN_IN, instance_id=instance_id))
    pending = entries[CONF_PENDING_SESSION].value
    assert pending, texts(entries.values())
    assert live.read_bytes() == before  # nothing used before Save

    old_provider = old_mass.get_provider(instance_id)
    await old_mass.config.save_provider_config(
        DOMAIN, {**values, CONF_PENDING_SESSION: pending}, instance_id
    )
    await fire_timers(old_mass)  # the reload MA schedules after a change
    await eventually(lambda: old_mass.get_provider(instance_id) not in (None, old_provider))
    await settle(old_mass)

    assert old_mass.config.last_error_message(instance_id) is None
    assert live.read_bytes() != before
    assert simulator.device_count(TEST_EMAIL) == 1
    provider = old_mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    assert provider.health.blocked_by is None


async def test_reconfigure_flow_keeps_device_and_secrets(
    new_mass: MusicAssistant, simulator: AmazonSimulator, background_clock: SteppedClock
) -> None:
    """Newer MA: Reconfigure (reason "auth") with the secret fields left empty."""
    instance_id = await add(new_mass)
    await _needs_user(new_mass, instance_id, simulator, background_clock)

    step = await new_mass.config.reconfigure_provider(instance_id)
    entries = by_key(step.entries)
    assert entries[CONF_EMAIL].value == TEST_EMAIL
    assert entries[CONF_PASSWORD].value is None
    assert not entries[CONF_PASSWORD].required
    assert not entries[CONF_TOTP_KEY].required
    assert "no longer accepts" in texts(step.entries)

    step = await submit(new_mass, step, {CONF_EMAIL: TEST_EMAIL, CONF_MARKETPLACE: "amazon.com"})
    assert step.type == "finish", (step.errors, texts(step.entries))
    await settle(new_mass)

    assert new_mass.config.last_error_message(instance_id) is None
    assert simulator.device_count(TEST_EMAIL) == 1
    provider = new_mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    assert provider.manager is not None
    assert provider.manager.signed_in


async def test_edit_dialog_repairs_an_instance_that_failed_to_load(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    Older MA: the start-up load failed (password changed); "Sign in now" and Save repair it.

    The real a6ebd7bb server loads an instance that is not running twice on Save; the session
    signed in from the dialog is adopted once and no second sign-in is sent.
    """
    instance_id = await add(old_mass)
    await old_mass.stop()
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.expire_cookies(TEST_EMAIL)
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.password = "changed at amazon"

    restarted = restart(old_mass)
    try:
        await restarted.start()
        assert restarted.get_provider(instance_id) is None
        assert restarted.config.last_error_message(instance_id) is not None
        # the edit dialog sends the untouched key as the placeholder
        values = {
            CONF_EMAIL: TEST_EMAIL,
            CONF_PASSWORD: "changed at amazon",
            CONF_TOTP_KEY: SECURE_STRING_SUBSTITUTE,
            CONF_MARKETPLACE: "amazon.com",
        }
        before = by_key(await form(restarted, values, instance_id=instance_id))
        assert "not running in Music Assistant" in texts(before.values())
        entries = by_key(
            await form(restarted, values, action=ACTION_SIGN_IN, instance_id=instance_id)
        )
        pending = entries[CONF_PENDING_SESSION].value
        assert pending, texts(entries.values())
        # signed in from the dialog: no contradicting "press Sign in now" any more
        assert "not running in Music Assistant" not in texts(entries.values())
        posts = simulator.request_count("/ap/signin", method="POST")
        checks = simulator.request_count("/api/customer-status")
        loads: list[str] = []
        load = restarted.load_provider_config

        async def counting_load(conf: ProviderConfig) -> None:
            loads.append(conf.instance_id)
            await load(conf)

        restarted.load_provider_config = counting_load

        # Save as the frontend sends it: untouched secret fields are left out
        saved = {k: v for k, v in values.items() if v != SECURE_STRING_SUBSTITUTE}
        await restarted.config.save_provider_config(
            DOMAIN, {**saved, CONF_PENDING_SESSION: pending}, instance_id
        )
        await settle(restarted)

        assert loads == [instance_id, instance_id]
        # the sign-in checked the session a moment ago: neither load asks Amazon again
        assert simulator.request_count("/api/customer-status") == checks
        assert (
            restarted.config.get(f"providers/{instance_id}/values/{CONF_PENDING_SESSION}") is None
        )
        provider = restarted.get_provider(instance_id)
        assert isinstance(provider, AlexaAuthProvider)
        assert provider.health.blocked_by is None
        assert restarted.config.last_error_message(instance_id) is None
        assert simulator.request_count("/ap/signin", method="POST") == posts
        assert simulator.device_count(TEST_EMAIL) == 1
        assert stored_secret(restarted, instance_id, CONF_PASSWORD) == "changed at amazon"
    finally:
        await restarted.stop()


async def test_edit_page_of_a_failed_instance_says_why(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    2.9: the edit page "Reconfigure" opens starts with why the instance is not running.

    2.9's edit page shows no ``last_error``: the first entry carries it, with its guide link
    as the help link (2.9 shows text plainly) and the one action that fixes it. The hidden
    pending session of the sign-in that created the instance was cleared when the instance
    took it over, so it does not hide the warning.
    """
    instance_id = await add(old_mass)
    assert old_mass.config.get(f"providers/{instance_id}/values/{CONF_PENDING_SESSION}") is None
    await old_mass.stop()
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.expire_cookies(TEST_EMAIL)
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.password = "changed at amazon"
    restarted = restart(old_mass)
    try:
        await restarted.start()
        last_error = restarted.config.last_error_message(instance_id)
        assert last_error is not None
        stored = restarted.config.get(f"providers/{instance_id}/values")

        entries = await form(restarted, dict(stored), instance_id=instance_id)

        first = entries[1]  # after MA's own log-level entry
        assert (first.key, first.type) == ("alexa_not_running", "alert")
        reason, _, _ = last_error.partition(" How to fix it:")
        # The reason, the action, then the one guide link at the end.
        guide = ma_guide(GuideSlug.CREDENTIALS)
        assert first.label == (
            f"This Amazon account is not running in Music Assistant: {reason} "
            f'Press "Sign in now" below, then Save. How to fix it: {guide}'
        )
        assert first.help_link == ma_guide(GuideSlug.CREDENTIALS)
    finally:
        await restarted.stop()
