"""
A stand-in for Music Assistant's built-in ``alexa`` player provider, for the hand-off tests.

What the real one does that matters here (MA 2.9 dev ``providers/alexa/__init__.py``; the 2.10+
setup flow stores the same fields in the setup data):

- its config: ``url`` (the Amazon site, default "amazon.com"), ``username``, ``password``;
- ``loaded_in_mass`` restores its login once, from
  ``<storage>/.alexa/alexa_media.<username>.pickle`` read with aiohttp's ``CookieJar.load``;
  alexapy then asks ``GET /api/users/me`` (the e-mail must be the username's) and the provider
  lists the devices, registering one player per Echo;
- a failed login leaves it loaded with no players (MA swallows ``loaded_in_mass``'s error);
- its players say "playing" from MA's play command until MA's stop: nobody asks the Echo.

It asks the simulator the way everything in a test does (the adapter context's endpoint). The
simulator's devices carry no ``MUSIC_SKILL`` capability, so every Echo becomes a player here.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiohttp import CookieJar
from music_assistant.models.player import Player
from music_assistant.models.player_provider import PlayerProvider
from music_assistant_models.config_entries import ConfigEntry
from music_assistant_models.enums import ConfigEntryType, PlaybackState
from music_assistant_models.provider import ProviderManifest
from yarl import URL

from music_assistant_alexa.auth.endpoints import AmazonHosts
from music_assistant_alexa.ma.alexa_instances import ALEXA_DOMAIN, ALEXA_URL, ALEXA_USERNAME
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.values import PROVIDERS_PATH
from tests.helpers import TEST_EMAIL

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ProviderConfig

ALEXA_PASSWORD: Final = "the alexa provider's own password"


class AlexaStandInPlayer(Player):  # type: ignore[misc]  # MA's base is untyped to mypy
    """One Echo device as a player; the test says whether it plays."""

    def set_playing(self, *, playing: bool) -> None:
        """
        Set the state MA's play or stop command would leave.

        :param playing: Playing, or idle.
        """
        self._attr_playback_state = PlaybackState.PLAYING if playing else PlaybackState.IDLE


class AlexaStandIn(PlayerProvider):  # type: ignore[misc]  # MA's base is untyped to mypy
    """The alexa provider instance: restores its login from the file once, at its start."""

    #: The cookies it restored (name: value), None before its start read a file.
    restored: dict[str, str] | None = None
    #: Amazon accepted the restored cookies for its username.
    signed_in: bool = False

    async def loaded_in_mass(self) -> None:
        """Restore the login from the file, check it with Amazon, register the Echo players."""
        username = self.setting(ALEXA_USERNAME)
        site = self.setting(ALEXA_URL) or "amazon.com"
        path = Path(str(self.mass.storage_path)) / ".alexa" / f"alexa_media.{username}.pickle"
        if not path.exists():
            return
        jar = CookieJar()
        await asyncio.to_thread(jar.load, path)
        hosts = AmazonHosts.for_marketplace(site, AdapterContext.of(self.mass).endpoint)
        alexa = URL.build(scheme="https", host=hosts.alexa, path="/")
        self.restored = {name: m.value for name, m in jar.filter_cookies(alexa).items()}
        me = await self._get(hosts, "/api/users/me")
        if not isinstance(me, dict) or str(me.get("email", "")).casefold() != username.casefold():
            return
        self.signed_in = True
        devices = await self._get(hosts, "/api/devices-v2/device")
        for device in devices.get("devices", []) if isinstance(devices, dict) else []:
            if device.get("deviceFamily") == "ECHO":
                player = AlexaStandInPlayer(self, str(device["accountName"]))
                await self.mass.players.register_or_update(player)

    async def get_config_entries(self) -> list[ConfigEntry]:
        """Return the options of a running instance (2.10+): the language only."""
        return [
            ConfigEntry(
                key="alexa_language",
                type=ConfigEntryType.STRING,
                label="Alexa Language",
                default_value="en-US",
                required=False,
            )
        ]

    def setting(self, key: str) -> str:
        """
        Return a stored setting (2.9: the values; 2.10+: the setup data).

        :param key: The config key.
        """
        if self.mass.generation == "new":
            value = self.mass.config.get_provider_setup_value(self.instance_id, key)
        else:
            value = self.config.get_value(key)
        return str(value or "")

    async def _get(self, hosts: AmazonHosts, path: str) -> Any:
        cookies = self.restored or {}
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
        if "csrf" in cookies:
            headers["csrf"] = cookies["csrf"]
        url = hosts.url(hosts.alexa, path)
        async with self.mass.http_session.get(url, headers=headers, allow_redirects=False) as resp:
            return await resp.json() if resp.status == 200 else None


async def setup(
    mass: MusicAssistant, manifest: ProviderManifest, config: ProviderConfig
) -> AlexaStandIn:
    """
    Create the instance.

    :param mass: The MusicAssistant instance.
    :param manifest: Its manifest.
    :param config: Its config.
    """
    return AlexaStandIn(mass, manifest, config)


async def get_config_entries(
    mass: MusicAssistant,
    instance_id: str | None = None,
    action: str | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Return the 2.9 settings form (without its sign-in button, which no test presses).

    :param mass: The MusicAssistant instance.
    :param instance_id: The instance, or None.
    :param action: The pressed button.
    :param values: The form values.
    """
    del mass, instance_id, action, values
    return (
        ConfigEntry(
            key=ALEXA_URL,
            type=ConfigEntryType.STRING,
            label="URL",
            required=True,
            default_value="amazon.com",
        ),
        ConfigEntry(key=ALEXA_USERNAME, type=ConfigEntryType.STRING, label="E-Mail", required=True),
        ConfigEntry(
            key="password", type=ConfigEntryType.SECURE_STRING, label="Password", required=True
        ),
    )


def manifest() -> ProviderManifest:
    """Return the alexa provider's manifest (player provider, one instance at most)."""
    return ProviderManifest.from_dict(
        {
            "type": "player",
            "domain": ALEXA_DOMAIN,
            "name": "Alexa",
            "description": "Stream to Amazon Alexa (Echo) devices.",
            "codeowners": ["@alams154"],
            "requirements": ["alexapy==1.29.17"],
            "multi_instance": False,
        }
    )


def register(mass: MusicAssistant) -> None:
    """
    Make the alexa provider known to a stand-in MA.

    :param mass: The stand-in.
    """
    mass.register_provider(manifest(), sys.modules[__name__])


async def configure(
    mass: MusicAssistant,
    *,
    username: str = TEST_EMAIL,
    url: str = "amazon.com",
    enabled: bool = True,
    load: bool = True,
) -> str:
    """
    Store an alexa instance's config as each MA generation keeps it, and load it.

    :param mass: The stand-in.
    :param username: Its e-mail address.
    :param url: Its Amazon site.
    :param enabled: Enabled.
    :param load: Load it now (as MA's start-up or the add dialog would).
    :returns: The instance id.
    """
    fields = {ALEXA_URL: url, ALEXA_USERNAME: username, "password": ALEXA_PASSWORD}
    encrypt = mass.config.encrypt_string
    raw: dict[str, Any] = {
        "type": "player",
        "domain": ALEXA_DOMAIN,
        "instance_id": ALEXA_DOMAIN,
        "enabled": enabled,
        "values": {},
    }
    if mass.generation == "new":
        raw["setup_data"] = {key: encrypt(value) for key, value in fields.items()}
    else:
        raw["values"] = {**fields, "password": encrypt(ALEXA_PASSWORD)}
    mass.config.set(f"{PROVIDERS_PATH}/{ALEXA_DOMAIN}", raw)
    if load:
        await mass.load_provider(ALEXA_DOMAIN, allow_retry=True)
    return ALEXA_DOMAIN


def running(mass: MusicAssistant) -> AlexaStandIn | None:
    """
    Return the running alexa instance, if any.

    :param mass: The stand-in.
    """
    provider = mass.get_provider(ALEXA_DOMAIN)
    return provider if isinstance(provider, AlexaStandIn) else None


def set_playing(mass: MusicAssistant, *, playing: bool) -> None:
    """
    Make every player of the running alexa instance say it plays (or not).

    :param mass: The stand-in.
    :param playing: Playing, or idle.
    """
    provider = running(mass)
    assert provider is not None
    for player in provider.players:
        assert isinstance(player, AlexaStandInPlayer)
        player.set_playing(playing=playing)
