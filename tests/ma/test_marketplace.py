"""
In Music Assistant, a sign-in on the wrong marketplace is named with the one to choose.

The form's sign-in notice (older MA) and the instance's health section (every MA) say which
marketplace Amazon says the account belongs to, in Music Assistant's own words ("choose ...
in the settings"), with the guide section; an account on its own marketplace gets neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import ACTION_SIGN_IN, CONF_EMAIL
from tests.helpers import TEST_KEY, TEST_PASSWORD

from .support import FORM, add, by_key, form, ma_guide, texts

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.simulator import AmazonSimulator

DE_EMAIL = "familie@example.de"
NAMED = "Amazon says this account belongs to amazon.de, not amazon.com"
FIX = "Choose amazon.de as the marketplace in the settings and sign in again."


async def _options_page(mass: MusicAssistant, instance_id: str) -> list[ConfigEntry]:
    """Return the settings of an existing instance, as each generation builds them."""
    if mass.generation == "new":
        options: list[ConfigEntry] = await mass.config.get_provider_config_entries(instance_id)
        return options
    return list(await ma_module.get_config_entries(mass, instance_id))


async def test_the_sign_in_notice_names_the_accounts_marketplace(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Older MA's "Sign in now": signed in, then a warning naming amazon.de, with the link."""
    simulator.add_account(DE_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    entries = await form(old_mass, {**FORM, CONF_EMAIL: DE_EMAIL}, action=ACTION_SIGN_IN)
    notice = next(e for e in entries if NAMED in (e.label or ""))
    assert (notice.label or "").startswith("Signed in to amazon.com")
    assert FIX in (notice.label or "")
    assert notice.help_link == ma_guide(GuideSlug.CREDENTIALS)
    assert by_key(entries)  # the form itself is still there


async def test_the_health_section_names_the_accounts_marketplace(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Every MA: the instance's settings carry the warning, in the settings' words."""
    simulator.add_account(DE_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    instance_id = await add(mass, {**FORM, CONF_EMAIL: DE_EMAIL})
    page = await _options_page(mass, instance_id)
    warning = next(e for e in page if NAMED in (e.label or ""))
    assert FIX in (warning.label or "")
    assert warning.help_link == ma_guide(GuideSlug.CREDENTIALS)


async def test_an_account_on_its_own_marketplace_gets_no_warning(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """The test account belongs to amazon.com: nothing about the marketplace is shown."""
    instance_id = await add(mass)
    assert simulator.request_count("/api/users/me") == 0
    assert "belongs to" not in texts(await _options_page(mass, instance_id))
