"""
The ``Provider`` base class, as both generations of MA have it.

Only what both generations share is here. Newer-only hooks (``get_config_entries()``,
``handle_config_action()``, ``get_diagnostics()``) are called by the newer stand-in mass when a
provider defines them, as the real server does.
"""

# The stand-in is type-checked from its own folder: relative imports keep its types.
# ruff: noqa: TID252

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..constants import CONF_LOG_LEVEL, MASS_LOGGER_NAME

if TYPE_CHECKING:
    from music_assistant_models.config_entries import ProviderConfig
    from music_assistant_models.enums import ProviderFeature, ProviderStage, ProviderType
    from music_assistant_models.provider import ProviderManifest

    from ..mass import MusicAssistant


class Provider:
    """Base representation of a Provider implementation within Music Assistant."""

    def __init__(
        self,
        mass: MusicAssistant,
        manifest: ProviderManifest,
        config: ProviderConfig,
        supported_features: set[ProviderFeature] | None = None,
    ) -> None:
        """Initialize the provider."""
        self.mass = mass
        self.manifest = manifest
        self.config = config
        self._supported_features = supported_features or set()
        self.logger = logging.getLogger(MASS_LOGGER_NAME).getChild(self.domain)
        log_level = str(config.get_value(CONF_LOG_LEVEL) or "GLOBAL")
        if log_level != "GLOBAL":
            self.logger.setLevel(log_level)
        self.cache = mass.cache
        self.available = False

    @property
    def supported_features(self) -> set[ProviderFeature]:
        """Return the features supported by this Provider."""
        return self._supported_features

    async def handle_async_init(self) -> None:
        """Handle async initialization of the provider."""

    async def loaded_in_mass(self) -> None:
        """Call after the provider has been loaded."""

    async def unload(self, is_removed: bool = False) -> None:  # noqa: FBT001, FBT002 - MA's API
        """
        Handle unload/close of the provider.

        :param is_removed: The provider was removed from the configuration.
        """

    async def update_config(self, config: ProviderConfig, changed_keys: set[str]) -> None:
        """
        Handle a config change: the default reloads the provider a second later.

        :param config: The new config.
        :param changed_keys: The changed keys ("values/<key>", "name", ...).
        """
        self.config = config
        if any(k.startswith("values/") and k != f"values/{CONF_LOG_LEVEL}" for k in changed_keys):
            self.mass.call_later(
                1,
                self.mass.load_provider_config,
                config,
                task_id=f"provider_reload_{self.instance_id}",
            )

    @property
    def type(self) -> ProviderType:
        """Return type of this provider."""
        return self.manifest.type

    @property
    def domain(self) -> str:
        """Return domain for this provider."""
        return self.manifest.domain

    @property
    def instance_id(self) -> str:
        """Return instance_id for this provider(instance)."""
        return self.config.instance_id

    @property
    def name(self) -> str:
        """Return (custom) friendly name for this provider instance."""
        return self.config.name or self.manifest.name

    @property
    def stage(self) -> ProviderStage:
        """Return the stage of this provider."""
        return self.manifest.stage

    def unload_with_error(self, error: str) -> None:
        """
        Unload the provider with an error message (as fixed in newer MA).

        :param error: The message.
        """
        self.mass.call_later(1, self.mass.unload_provider_with_error, self.instance_id, error)

    def to_dict(self) -> dict[str, Any]:
        """Return Provider(instance) as serializable dict."""
        return {
            "type": self.type.value,
            "domain": self.domain,
            "name": self.name,
            "instance_id": self.instance_id,
            "supported_features": [x.value for x in self.supported_features],
            "available": self.available,
        }

    def _update_config_value(self, key: str, value: Any, encrypted: bool = False) -> None:  # noqa: FBT001, FBT002 - MA's API
        """
        Update a config value (older MA: the key must be a declared entry).

        :param key: The config key.
        :param value: The value.
        :param encrypted: Store it encrypted.
        """
        self.mass.config.set_raw_provider_config_value(self.instance_id, key, value, encrypted)
        self.config.values[key].value = value
