"""
The Music Assistant provider: what MA imports from ``music_assistant/providers/alexa_auth``.

Import-light on purpose: the CLI imports :mod:`.install` from this package outside Music
Assistant, so nothing here imports ``music_assistant``. The entry points below therefore import
the provider's modules when MA first calls them: the one lazy import of the adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .constants import DOMAIN, SUPPORTED_FEATURES

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry, ProviderConfig
    from music_assistant_models.provider import ProviderManifest

    from .provider import AlexaAuthProvider


async def setup(
    mass: MusicAssistant, manifest: ProviderManifest, config: ProviderConfig
) -> AlexaAuthProvider:
    """
    Create the provider instance for one Amazon account (MA calls ``handle_async_init`` next).

    :param mass: The MusicAssistant instance.
    :param manifest: The provider's manifest.
    :param config: The instance's config.
    """
    from .provider import AlexaAuthProvider  # noqa: PLC0415 - the lazy import (module docstring)

    return AlexaAuthProvider(mass, manifest, config, SUPPORTED_FEATURES)


async def get_config_entries(
    mass: MusicAssistant,
    instance_id: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Return the add/edit form of Music Assistant 2.9, running the pressed button first.

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance being edited, or None when adding one.
    :param action: The pressed button's action id, if any.
    :param values: The form's current values.
    """
    from .legacy import settings_form  # noqa: PLC0415 - the lazy import (module docstring)

    return await settings_form.get_config_entries(mass, instance_id, action, values)


__all__ = ["DOMAIN", "SUPPORTED_FEATURES", "get_config_entries", "setup"]
