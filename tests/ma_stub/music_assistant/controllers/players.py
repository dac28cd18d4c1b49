"""
The player controller (``mass.players``): registered players, by id, and their provider.

As in MA 2.9: ``all_players(provider_filter=...)`` and iteration list the registered players;
a player provider's players are registered by the provider (``register_or_update``) and
unregistered by MA when the provider unloads.
"""

# The stand-in is type-checked from its own folder: relative imports keep its types.
# ruff: noqa: TID252

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_models.enums import EventType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..mass import MusicAssistant
    from ..models.player import Player


class PlayerController:
    """The registered players (only what the providers here touch)."""

    def __init__(self, mass: MusicAssistant) -> None:
        """
        Start with no players.

        :param mass: The MusicAssistant instance.
        """
        self.mass = mass
        self._players: dict[str, Player] = {}

    def __iter__(self) -> Iterator[Player]:
        """Iterate over the registered players."""
        return iter(list(self._players.values()))

    def all_players(
        self,
        return_unavailable: bool = True,  # noqa: FBT001, FBT002 - MA's signature
        return_disabled: bool = False,  # noqa: FBT001, FBT002 - MA's signature
        provider_filter: str | None = None,
        return_protocol_players: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> list[Player]:
        """
        Return the registered players, optionally of one provider instance.

        :param return_unavailable: Include unavailable players.
        :param return_disabled: Include disabled players (none are disabled here).
        :param provider_filter: Only the players of this provider instance.
        :param return_protocol_players: Include protocol players (none exist here).
        """
        del return_disabled, return_protocol_players
        return [
            player
            for player in self._players.values()
            if (player.available or return_unavailable)
            and (provider_filter is None or player.provider.instance_id == provider_filter)
        ]

    def get_player(self, player_id: str) -> Player | None:
        """
        Return a registered player.

        :param player_id: The player id.
        """
        return self._players.get(player_id)

    async def register_or_update(self, player: Player) -> None:
        """
        Register a player (or replace the one with its id).

        :param player: The player.
        """
        new = player.player_id not in self._players
        self._players[player.player_id] = player
        event = EventType.PLAYER_ADDED if new else EventType.PLAYER_UPDATED
        self.mass.signal_event(event, object_id=player.player_id, data=player)

    async def unregister(
        self,
        player_id: str,
        permanent: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> None:
        """
        Unregister a player (its queue goes with it).

        :param player_id: The player id.
        :param permanent: The player is removed for good.
        """
        del permanent
        if self._players.pop(player_id, None) is not None:
            self.mass.signal_event(EventType.PLAYER_REMOVED, object_id=player_id)
