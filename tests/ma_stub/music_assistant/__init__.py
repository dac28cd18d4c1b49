"""
A stand-in for the Music Assistant server package, for the adapter tests only.

It keeps MA's real signatures and implements just what the Alexa provider touches; see
``tests/ma_stub/README.md``. Tests put its folder on ``sys.path``; it is never installed.
"""

from __future__ import annotations

from .mass import MusicAssistant

__all__ = ["MusicAssistant"]
