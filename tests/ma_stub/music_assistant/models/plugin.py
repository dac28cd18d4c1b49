"""The ``PluginProvider`` base class (the audio-source hooks are left out: no caller here)."""

from __future__ import annotations

from .provider import Provider


class PluginProvider(Provider):
    """Base representation of a Plugin for Music Assistant."""


__all__ = ["PluginProvider"]
