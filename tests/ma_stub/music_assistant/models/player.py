"""
The ``Player`` base class of MA 2.9 (``models/player.py``): an id, its provider, its state.

Only what is read here: ``playback_state`` (from ``_attr_playback_state``, which the provider
sets on MA's commands) and ``available``.
"""

# The stand-in is type-checked from its own folder: relative imports keep its types.

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_models.enums import PlaybackState

if TYPE_CHECKING:
    from .player_provider import PlayerProvider


class Player:
    """Base representation of a player."""

    _attr_playback_state: PlaybackState = PlaybackState.IDLE
    _attr_available: bool = True

    def __init__(self, provider: PlayerProvider, player_id: str) -> None:
        """
        Create the player.

        :param provider: The provider the player belongs to.
        :param player_id: The player's id.
        """
        self._provider = provider
        self.player_id = player_id

    @property
    def provider(self) -> PlayerProvider:
        """Return the provider of the player."""
        return self._provider

    @property
    def available(self) -> bool:
        """Return if the player is available."""
        return self._attr_available

    @property
    def playback_state(self) -> PlaybackState:
        """Return the current playback state of the player."""
        return self._attr_playback_state
