"""
The Music Assistant provider: what MA imports from ``music_assistant/providers/alexa_auth``.

Import-light on purpose: the CLI imports :mod:`.install` from this package outside Music
Assistant, so nothing here imports ``music_assistant`` until MA calls :func:`setup` or
:func:`get_config_entries`.
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
    Create the provider instance for one Amazon account.

    :param mass: The MusicAssistant instance.
    :param manifest: The provider's manifest.
    :param config: The instance's config.
    """
    from .provider import setup as provider_setup  # noqa: PLC0415 - only inside MA

    return await provider_setup(mass, manifest, config)


async def get_config_entries(
    mass: MusicAssistant,
    instance_id: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Return the add/edit form (older MA), running the pressed button first.

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance being edited, or None when adding one.
    :param action: The pressed button's action id, if any.
    :param values: The form's current values.
    """
    from .config_entries import get_config_entries as entries  # noqa: PLC0415 - only inside MA

    return await entries(mass, instance_id, action, values)


__all__ = ["DOMAIN", "SUPPORTED_FEATURES", "get_config_entries", "setup"]
