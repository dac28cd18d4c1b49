"""
Amazon sign-in for Alexa, as a Music Assistant provider plugin.

The package root stays import-light on purpose: Music Assistant imports the provider module
(`music_assistant_alexa.ma`) only when it needs it, and the CLI, the simulator and the auth core
each import what they use.
"""

from __future__ import annotations

__version__ = "0.1.0"
