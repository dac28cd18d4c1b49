"""The ``PlayerProvider`` base class: a provider whose players MA lists as its ``players``."""

# The stand-in is type-checked from its own folder: relative imports keep its types.

from __future__ import annotations

from typing import TYPE_CHECKING

from .provider import Provider

if TYPE_CHECKING:
    from .player import Player


class PlayerProvider(Provider):
    """Base representation of a Player Provider (controller)."""

    @property
    def players(self) -> list[Player]:
        """Return all players belonging to this provider."""
        return self.mass.players.all_players(
            provider_filter=self.instance_id, return_protocol_players=True
        )
