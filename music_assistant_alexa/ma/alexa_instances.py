"""
Music Assistant's built-in alexa provider instances: which match an account, how each is doing.

That provider (domain ``alexa``, not multi-instance: one at most) keeps its Amazon site in
``url`` and its e-mail address in ``username``: in the values on 2.9, in the encrypted setup
data on 2.10+ (:func:`~.values.stored_text` reads both). Its configs are listed without
``include_values``, which would run its own ``get_config_entries``.

How it is doing is read from what MA shows of it, nothing private: whether it is loaded, its
players (it registers them only after its sign-in and its device list worked, so a loaded
instance without players has a failed sign-in) and their playback state, and whether MA recorded
a load error for it. A reload goes through MA's own ``load_provider``, the path MA's start-up and
its "reload" button take: it reads the config afresh, skips a disabled or removed instance, and
records a failure as the instance's ``last_error`` (with MA's retry) instead of losing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.usernames import mask_username, same_username

from .values import PROVIDERS_PATH, stored_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from music_assistant.mass import MusicAssistant

_LOGGER = logging.getLogger(__name__)

ALEXA_DOMAIN: Final = "alexa"
#: MA's ``CONF_USERNAME`` and the alexa provider's ``CONF_URL``.
ALEXA_USERNAME: Final = "username"
ALEXA_URL: Final = "url"
#: The alexa provider's default site (its ``url`` entry's ``default_value``).
ALEXA_DEFAULT_URL: Final = "amazon.com"
#: ``PlaybackState.PLAYING``'s value (compared as text: MA's enum moved between models).
PLAYING: Final = "playing"


@dataclass(frozen=True, slots=True)
class AlexaInstance:
    """One configured alexa provider instance."""

    instance_id: str
    #: Its e-mail address exactly as typed (the file name is built from it).
    username: str = field(repr=False)
    #: Its Amazon site, None when it is not a site we know.
    marketplace: str | None
    enabled: bool

    def matches(self, email: str, marketplace: str) -> bool:
        """
        Return whether it signs in the same account on the same site (the case aside).

        :param email: The session's e-mail address.
        :param marketplace: The session's marketplace.
        """
        return (
            bool(self.username)
            and same_username(self.username, email)
            and self.marketplace == marketplace
        )

    @property
    def label(self) -> str:
        """Return a description for messages: instance, masked account, site."""
        who = mask_username(self.username) if self.username else "no e-mail address"
        return f"{self.instance_id}: {who} on {self.marketplace or 'an unknown site'}"


@dataclass(frozen=True, slots=True)
class AlexaRuntime:
    """How one alexa provider instance is doing right now, as MA shows it."""

    loaded: bool
    players: int = 0
    playing: int = 0
    #: MA recorded an error from its last load.
    load_failed: bool = False
    #: The running provider object (a reload replaces it); None when not loaded.
    provider: Any = field(default=None, repr=False, compare=False)


async def alexa_instances(mass: MusicAssistant) -> list[AlexaInstance]:
    """
    Return every configured alexa provider instance.

    :param mass: The MusicAssistant instance.
    """
    configs = await mass.config.get_provider_configs(provider_domain=ALEXA_DOMAIN)
    instances = []
    for config in configs:
        instance_id = str(config.instance_id)
        url = stored_text(mass, instance_id, ALEXA_URL).strip() or ALEXA_DEFAULT_URL
        try:
            marketplace: str | None = normalise_marketplace(url)
        except ValueError:
            marketplace = None
        instances.append(
            AlexaInstance(
                instance_id=instance_id,
                username=stored_text(mass, instance_id, ALEXA_USERNAME).strip(),
                marketplace=marketplace,
                enabled=bool(config.enabled),
            )
        )
    return instances


def alexa_runtime(mass: MusicAssistant, instance_id: str) -> AlexaRuntime:
    """
    Return how an alexa provider instance is doing (nothing is asked of it).

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance id.
    """
    load_failed = bool(mass.config.get(f"{PROVIDERS_PATH}/{instance_id}/last_error"))
    provider = mass.get_provider(instance_id)
    if provider is None or provider.instance_id != instance_id:
        # get_provider falls back to any instance of a domain named like the id ("alexa").
        return AlexaRuntime(loaded=False, load_failed=load_failed)
    players = list(_players_of(mass, provider))
    playing = sum(1 for player in players if _playback_state(player) == PLAYING)
    return AlexaRuntime(
        loaded=True,
        players=len(players),
        playing=playing,
        load_failed=load_failed,
        provider=provider,
    )


async def reload_alexa(mass: MusicAssistant, instance_id: str) -> None:
    """
    Reload an alexa provider instance, so that it restores its session from its file again.

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance id.
    """
    _LOGGER.info("Restarting the Alexa player provider (%s) with the new session", instance_id)
    await mass.load_provider(instance_id, allow_retry=True)


def _players_of(mass: MusicAssistant, provider: Any) -> Iterable[Any]:
    """Return a player provider's players (its ``players``, else MA's list filtered by it)."""
    players = getattr(provider, "players", None)
    if isinstance(players, list | tuple):
        return players
    instance_id = provider.instance_id
    return [
        player
        for player in getattr(mass, "players", ())
        if getattr(getattr(player, "provider", None), "instance_id", None) == instance_id
    ]


def _playback_state(player: Any) -> str | None:
    """Return a player's playback state as text (MA 2.9+: ``playback_state``, else its state)."""
    state = getattr(player, "playback_state", None)
    if state is None:
        state = getattr(getattr(player, "state", None), "playback_state", None)
    value = getattr(state, "value", state)
    return value if isinstance(value, str) else None
