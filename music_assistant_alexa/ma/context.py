"""
The adapter's context: how it reaches Amazon and what it keeps between Music Assistant's calls.

Music Assistant hands a provider nothing but ``mass``: ``setup(mass, ...)``, 2.9's module-level
``get_config_entries(mass, ...)`` (called afresh for every button press of a dialog) and a setup
flow's ``session.mass``. Some state must outlive those calls: a form's sign-in waiting at a
captcha between two button presses, and a session signed in by a form or flow until the
instance takes it over. That state lives as long as the server does, so it hangs on the server
object: :meth:`AdapterContext.of` finds it at :data:`CONTEXT_ATTRIBUTE` (creating it with the
defaults for a real Amazon on first use), the one way every part of the adapter gets it. Module
globals would instead be shared by every server in the process and outlive them. Tests build a
context with their own clock and endpoint and :meth:`~AdapterContext.attach` it first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import aiohttp

from music_assistant_alexa.auth.clock import SYSTEM_CLOCK, Clock
from music_assistant_alexa.auth.endpoints import resolver_kwargs
from music_assistant_alexa.auth.http import DEFAULT_PACE, DEFAULT_TIMEOUT
from music_assistant_alexa.auth.refresh import DEFAULT_JITTER
from music_assistant_alexa.auth.session import AuthSessionManager
from music_assistant_alexa.guide import guide_link, web_linker

from .constants import STORAGE_FOLDER
from .guide_route import GuideRoute
from .pending import PendingSessions, safe_id

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.models import AuthEvent
    from music_assistant_alexa.guide import GuideLinker

#: The attribute of MA's server object that holds the context.
CONTEXT_ATTRIBUTE: Final = "alexa_auth_context"
#: Environment variable that sends every Amazon host to one base URL (the Amazon simulator of
#: ``music-assistant-alexa simulator``), to try the provider in a real Music Assistant without
#: Amazon. Unset in normal use: only the person who controls MA's environment can set it.
ENDPOINT_VARIABLE: Final = "MUSIC_ASSISTANT_ALEXA_ENDPOINT"


@dataclass(kw_only=True)
class AdapterContext:
    """Settings and shared state of the adapter inside one Music Assistant server."""

    #: ``<mass.storage_path>/alexa_auth``: one folder per instance, and ``.pending``.
    storage_root: Path
    #: MA's shared HTTP session (each manager keeps its own cookies on top of it).
    http_session: aiohttp.ClientSession = field(repr=False)
    #: MA's tracked task factory: background work is cancelled when MA stops.
    create_task: Callable[[Coroutine[Any, Any, None]], object] = field(repr=False)
    clock: Clock = SYSTEM_CLOCK
    #: Clock the background work (refresh schedule, reconnect) sleeps on; None: ``clock``.
    background_clock: Clock | None = None
    #: Minimum seconds between two requests to Amazon, per account.
    pace: float = DEFAULT_PACE
    request_timeout: float = DEFAULT_TIMEOUT
    #: Base URL every Amazon host is sent to (the simulator), None for the real Amazon.
    endpoint: str | None = None
    #: Jitter of the refresh schedule (fraction of the interval).
    refresh_jitter: float = DEFAULT_JITTER
    #: MA's web server (``mass.webserver``): its base URL and dynamic routes; None outside MA.
    webserver: Any = field(default=None, repr=False)
    #: MA signs in again through a setup flow ("Reconfigure", 2.10+), not 2.9's settings form.
    setup_flows: bool = False
    #: Seconds 2.9's "Sign in in my browser" button keeps MA's dialog waiting while it opens
    #: Amazon's page in a new tab (see :mod:`.legacy.new_tab`).
    new_tab_hold: float = 10.0
    pending: PendingSessions = field(init=False, repr=False)
    guide_route: GuideRoute = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Create the registry of pending sessions and the guide's route."""
        self.pending = PendingSessions(
            self.storage_root,
            clock=self.clock,
            open_manager=self.open_manager,
            spawn=self.create_task,
        )
        self.guide_route = GuideRoute(self.webserver)

    @classmethod
    def for_mass(cls, mass: MusicAssistant, **settings: Any) -> Self:
        """
        Return a new context for a server, with its folder, HTTP session and task factory.

        :param mass: The MusicAssistant instance.
        :param settings: Any other field (clock, endpoint, ...), for tests.
        """
        settings.setdefault("http_session", mass.http_session)
        # The setup-flow engine (2.10+) is what offers "Reconfigure" for a provider.
        settings.setdefault("setup_flows", hasattr(mass.config, "reconfigure_provider"))
        return cls(
            storage_root=Path(str(mass.storage_path)) / STORAGE_FOLDER,
            create_task=mass.create_task,
            webserver=getattr(mass, "webserver", None),
            **settings,
        )

    @classmethod
    def of(cls, mass: MusicAssistant) -> AdapterContext:
        """
        Return the server's context, creating the default one on first use.

        :param mass: The MusicAssistant instance.
        """
        context = getattr(mass, CONTEXT_ATTRIBUTE, None)
        if isinstance(context, AdapterContext):
            return context
        endpoint = os.environ.get(ENDPOINT_VARIABLE) or None
        if endpoint is None:
            return cls.for_mass(mass).attach(mass)
        # MA's shared session resolves Amazon's names with the real DNS; the simulator needs
        # them on loopback, so this (test-only) context brings its own session.
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(**resolver_kwargs(endpoint)),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return cls.for_mass(mass, endpoint=endpoint, http_session=session).attach(mass)

    def attach(self, mass: MusicAssistant) -> Self:
        """
        Make this the server's context (before anything of the adapter runs).

        :param mass: The MusicAssistant instance.
        """
        setattr(mass, CONTEXT_ATTRIBUTE, self)
        return self

    @property
    def link(self) -> GuideLinker:
        """
        Return how the adapter links to a guide section: the guide MA's web server serves.

        MA's frontend opens only absolute http(s) links, so the link carries MA's base URL
        (read on every use: the user may change it in MA's settings). Outside MA (no web
        server) the default link is used.
        """
        base_url = getattr(self.webserver, "base_url", None)
        if isinstance(base_url, str) and base_url.startswith(("http://", "https://")):
            return web_linker(base_url)
        return guide_link

    @property
    def sleep_clock(self) -> Clock:
        """Return the clock background work sleeps on."""
        return self.background_clock or self.clock

    def instance_folder(self, instance_id: str) -> Path:
        """
        Return the session folder of one provider instance.

        :param instance_id: The provider instance id.
        """
        return self.storage_root / safe_id(instance_id)

    def open_manager(
        self,
        folder: Path,
        marketplace: str,
        *,
        on_event: Callable[[AuthEvent], None] | None = None,
    ) -> AuthSessionManager:
        """
        Return a session manager for one session folder.

        :param folder: The session folder.
        :param marketplace: The account's marketplace.
        :param on_event: Called with every auth event.
        """
        return AuthSessionManager(
            session=self.http_session,
            store_dir=folder,
            marketplace=marketplace,
            endpoint=self.endpoint,
            clock=self.clock,
            pace=self.pace,
            request_timeout=self.request_timeout,
            on_event=on_event,
        )
