"""
The settings form checks the 2FA key at once and never contacts Amazon unless a button is pressed.

A valid key shows the code it makes right now and how long that code lasts (to compare with
the authenticator app); a wrong one says exactly what is wrong, with the guide link. The
marketplace is a dropdown of Amazon's marketplaces. Without a button press the form reads
memory only (MA asks for it a dozen times per save). The session buttons test, refresh and
reset the stored session, and a health section says who is signed in where and how old the
cookies are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from music_assistant_models.enums import ConfigEntryType

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_RESET,
    ACTION_SIGN_IN,
    ACTION_TEST,
    CONF_MARKETPLACE,
    CONF_NOTIFY,
    CONF_REFRESH_ENABLED,
    CONF_REFRESH_INTERVAL,
    CONF_TOTP_KEY,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from tests.helpers import TEST_EMAIL, TEST_KEY, current_code

from .support import FORM, add, by_key, form, ma_guide, texts

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock

MARKETPLACES = {
    "amazon.com",
    "amazon.ca",
    "amazon.com.mx",
    "amazon.com.br",
    "amazon.co.uk",
    "amazon.de",
    "amazon.fr",
    "amazon.it",
    "amazon.es",
    "amazon.in",
    "amazon.co.jp",
    "amazon.com.au",
}


async def _options_page(mass: MusicAssistant, instance_id: str) -> list[ConfigEntry]:
    """Return the settings of an existing instance, as each generation builds them."""
    if mass.generation == "new":
        options: list[ConfigEntry] = await mass.config.get_provider_config_entries(instance_id)
        return options
    return list(await ma_module.get_config_entries(mass, instance_id))


async def _press(mass: MusicAssistant, instance_id: str, action: str) -> str:
    """Press a button on an existing instance's settings; return the page's text."""
    if mass.generation == "new":
        entries = await mass.config.invoke_provider_config_action(instance_id, action)
    else:
        entries = await ma_module.get_config_entries(mass, instance_id, action, {})
    return texts(entries)


async def test_add_form_fields(old_mass: MusicAssistant) -> None:
    """The add dialog has the credentials, the marketplace dropdown and the options."""
    entries = by_key(await form(old_mass))

    market = entries[CONF_MARKETPLACE]
    assert {option.value for option in market.options} == MARKETPLACES
    assert market.default_value == "amazon.com"
    assert entries[CONF_TOTP_KEY].type == ConfigEntryType.SECURE_STRING
    assert entries[CONF_REFRESH_ENABLED].default_value is True
    assert entries[CONF_REFRESH_INTERVAL].default_value == 7
    assert entries[CONF_REFRESH_INTERVAL].range == (5, 13)
    assert entries[CONF_NOTIFY].default_value is True
    assert not entries[ACTION_SIGN_IN].hidden
    for action in (ACTION_TEST, ACTION_REFRESH, ACTION_RESET):
        assert entries[action].hidden  # nothing to test before the instance exists


async def test_valid_key_shows_the_current_code(
    old_mass: MusicAssistant, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """A valid key shows the 6-digit code it makes now and its seconds left."""
    clock.now = 1_793_534_410.0  # 20 s left in the 30 s window
    code = current_code(TEST_KEY, clock)

    entries = by_key(await form(old_mass, FORM, action=ACTION_CHECK_KEY))

    shown = entries["alexa_notice_0"].label or ""
    assert f"{code[:3]} {code[3:]}" in shown
    assert "(20 s left when this was shown)" in shown
    until = time.strftime("%H:%M:%S", time.localtime(clock.now + 20))
    assert f"until {until}" in shown  # a later reader sees that the code has changed since
    # the page itself never shows a code (it would go stale while the page stays open)
    assert code not in texts(e for k, e in entries.items() if k != "alexa_notice_0")
    assert simulator.request_log == []


async def test_key_with_spaces_and_lower_case_is_fine(old_mass: MusicAssistant) -> None:
    """Amazon's key as copied (groups of four, any case) is accepted."""
    spaced = " ".join(TEST_KEY.lower()[i : i + 4] for i in range(0, len(TEST_KEY), 4))

    entries = by_key(await form(old_mass, {**FORM, CONF_TOTP_KEY: spaced}, action=ACTION_CHECK_KEY))

    assert "alexa_2fa_key_code" in entries
    assert "alexa_2fa_key_problem" not in entries


async def test_bad_key_says_what_is_wrong(old_mass: MusicAssistant) -> None:
    """A 6-digit code instead of the key is named as such, with the 2FA-key guide link."""
    entries = by_key(await form(old_mass, {**FORM, CONF_TOTP_KEY: "654321"}))

    problem = entries["alexa_2fa_key_problem"]
    assert problem.type == ConfigEntryType.ALERT
    assert "6-digit one-time code, not the 2FA key" in (problem.label or "")
    assert problem.help_link == ma_guide(GuideSlug.TWO_FACTOR_KEY)
    assert "654321" not in (problem.label or "")


async def test_form_without_button_never_calls_amazon(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Opening and saving read memory only: no request, however often MA asks."""
    instance_id = await add(mass)
    simulator.reset_counts()

    for _ in range(12):
        await mass.config.get_provider_config(instance_id)
        if mass.generation == "old":
            await form(mass, FORM)
        else:
            await _options_page(mass, instance_id)

    assert simulator.request_log == []


async def test_health_section(mass: MusicAssistant, clock: FakeClock) -> None:
    """Who is signed in where, the cookie age and the next refresh; no warning when healthy."""
    instance_id = await add(mass)
    clock.advance(2 * 86_400)

    entries = await _options_page(mass, instance_id)
    status = by_key(entries)["alexa_status"].label or ""

    assert "Signed in as" in status
    assert "on amazon.com" in status
    assert "2.0 days old" in status
    assert "Next refresh due" in status
    assert TEST_EMAIL not in texts(entries)
    assert "alexa_2fa_key_code" in by_key(entries)  # the stored key, checked too


async def test_buttons_on_an_existing_instance(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Test, refresh and reset act on the stored session and say what happened."""
    instance_id = await add(mass)
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)

    assert "Amazon accepts the session." in await _press(mass, instance_id, ACTION_TEST)
    assert "Refreshed" in await _press(mass, instance_id, ACTION_REFRESH)
    assert simulator.device_count(TEST_EMAIL) == 1

    text = await _press(mass, instance_id, ACTION_RESET)

    assert "Signed out" in text
    assert "removed from your Amazon account" in text
    assert simulator.device_count(TEST_EMAIL) == 0
    folder = AdapterContext.of(mass).instance_folder(instance_id)
    assert not (folder / "registration.json").exists()
    assert not (folder / "cookies.json").exists()
    # The attempt record stays: a reset hands out no fresh password attempts after a restart.
    assert (folder / "state.json").exists()
    assert "Not signed in" in texts(await provider.health_entries())
