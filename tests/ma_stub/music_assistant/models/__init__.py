"""Provider models of the Music Assistant server (the parts the stand-in needs)."""

from __future__ import annotations

from .player_provider import PlayerProvider
from .plugin import PluginProvider
from .provider import Provider

#: In MA the union of the four provider base classes; plugins and player providers exist here.
ProviderInstanceType = PluginProvider | PlayerProvider

__all__ = ["PlayerProvider", "PluginProvider", "Provider", "ProviderInstanceType"]
