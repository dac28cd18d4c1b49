"""Provider models of the Music Assistant server (the parts the stand-in needs)."""

from __future__ import annotations

from .plugin import PluginProvider
from .provider import Provider

#: In MA the union of the four provider base classes; only plugins exist here.
ProviderInstanceType = PluginProvider

__all__ = ["PluginProvider", "Provider", "ProviderInstanceType"]
