"""Constants of the Music Assistant server that the stand-in uses (same names and values)."""

from __future__ import annotations

from typing import Final

from music_assistant_models.config_entries import ConfigEntry, ConfigValueOption
from music_assistant_models.constants import SECURE_STRING_SUBSTITUTE
from music_assistant_models.enums import ConfigEntryType

MASS_LOGGER_NAME: Final = "music_assistant"
CONF_PROVIDERS: Final = "providers"
CONF_LOG_LEVEL: Final = "log_level"
#: Prefix of an encrypted config value.
ENCRYPT_SUFFIX: Final = "_encrypted_"

CONF_ENTRY_LOG_LEVEL: Final = ConfigEntry(
    key=CONF_LOG_LEVEL,
    type=ConfigEntryType.STRING,
    label="Log level",
    options=[
        ConfigValueOption(title=level, value=level)
        for level in ("GLOBAL", "CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
    ],
    default_value="GLOBAL",
    required=False,
    advanced=True,
)
#: The entries MA adds to every provider's own.
DEFAULT_PROVIDER_CONFIG_ENTRIES: Final = (CONF_ENTRY_LOG_LEVEL,)

__all__ = [
    "CONF_ENTRY_LOG_LEVEL",
    "CONF_LOG_LEVEL",
    "CONF_PROVIDERS",
    "DEFAULT_PROVIDER_CONFIG_ENTRIES",
    "ENCRYPT_SUFFIX",
    "MASS_LOGGER_NAME",
    "SECURE_STRING_SUBSTITUTE",
]
