"""
The ``MusicAssistant`` object: tasks, timers, events, and the provider load sequence.

The load sequence is MA's (``_load_provider``): unload an existing copy, validate the config
(older MA), ``setup()``, (newer MA: re-parse the config against the instance's own entries and
validate it), then ``handle_async_init()``, register, mark available, run ``loaded_in_mass()``
in a background task, clear ``last_error`` and signal ``providers_updated``. On newer MA a
failed load records ``last_error`` itself (every caller: start-up, a flow's finish, Save).
``load_provider`` is the start-up path: 2.9 records the failure as a string and retries any MA
error 120 s later; newer MA never retries an authentication error (server PR #5599: the user
has to act) nor ``UnsupportedSystemError``, and retries other MA errors.

The web server holds MA's dynamic routes (``register_dynamic_route``), reachable without MA's
login as on the real one, and answers requests to them (:meth:`_WebServer.request`).

Timers do not fire by themselves within a test's time: :meth:`MusicAssistant.run_timers` fires
the pending ones at once, so no test sleeps; what they start runs as tracked tasks
(:attr:`MusicAssistant.running_tasks`), which a test waits for.

Events go to subscribers as in MA (``subscribe``): a coroutine function runs as a tracked task,
any other callable soon after. Unloading a player provider unregisters its players first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from music_assistant_models.enums import EventType
from music_assistant_models.errors import MusicAssistantError, SetupFailedError
from music_assistant_models.event import MassEvent

from .constants import CONF_PROVIDERS
from .controllers.config import AUTH_ERROR_CODES, ConfigController, FlowConfigController
from .controllers.players import PlayerController
from .controllers.translations import TranslationController
from .models.player_provider import PlayerProvider

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from types import ModuleType

    from aiohttp import ClientSession
    from music_assistant_models.config_entries import ProviderConfig
    from music_assistant_models.provider import ProviderManifest

    from .models.provider import Provider

_LOGGER = logging.getLogger("music_assistant")

Generation = Literal["old", "new"]
#: A subscriber: its callback, and the events and object ids it wants (None: all).
_Listener = tuple[
    "Callable[[MassEvent], Any]", "tuple[EventType, ...] | None", "tuple[str, ...] | None"
]
#: MA retries a failed start-up load after this many seconds.
LOAD_RETRY_DELAY = 120


@dataclass
class _Timer:
    handle: asyncio.TimerHandle
    run: Callable[[], None]
    task_id: str | None


#: A dynamic route's handler (``helpers/webserver.DynamicRouteHandler``).
RouteHandler: TypeAlias = "Callable[[web.Request], Awaitable[web.StreamResponse]]"


@dataclass
class _WebServer:
    """MA's web server: its base URL and dynamic routes (``helpers/webserver.Webserver``)."""

    base_url: str = "http://192.0.2.10:8095"
    routes: dict[str, RouteHandler] = field(default_factory=dict)

    def register_dynamic_route(
        self, path: str, handler: RouteHandler, method: str = "*"
    ) -> Callable[[], None]:
        """
        Register a dynamic route; return the function that unregisters it.

        :param path: The path (exact).
        :param handler: The request handler.
        :param method: The HTTP method, or "*".
        :raises RuntimeError: The route is registered already (as MA raises).
        """
        key = f"{method}.{path}"
        if key in self.routes:
            msg = f"Route {path} already registered."
            raise RuntimeError(msg)
        self.routes[key] = handler

        def remove() -> None:
            self.routes.pop(key, None)

        return remove

    def unregister_dynamic_route(self, path: str, method: str = "*") -> None:
        """
        Unregister a dynamic route.

        :param path: The path.
        :param method: The HTTP method, or "*".
        """
        self.routes.pop(f"{method}.{path}", None)

    async def request(self, method: str, path_qs: str) -> web.StreamResponse:
        """
        Answer a request as MA's catch-all does: the route's handler, else 404 (no login).

        :param method: The HTTP method.
        :param path_qs: The path with its query string.
        """
        request = make_mocked_request(method, path_qs)
        for key in (f"{method}.{request.path}", f"*.{request.path}"):
            if handler := self.routes.get(key):
                return await handler(request)
        return web.Response(status=404)


class MusicAssistant:
    """A stand-in for MA's server object: only what the Alexa provider touches."""

    def __init__(
        self,
        storage_path: str,
        http_session: ClientSession,
        *,
        generation: Generation = "old",
    ) -> None:
        """
        Create the server object (nothing loads until :meth:`start`).

        :param storage_path: MA's data folder (``mass.storage_path`` is a str in MA).
        :param http_session: The shared aiohttp session (``mass.http_session``).
        :param generation: Which MA to behave like: "old" (forms) or "new" (setup flows).
        """
        self.storage_path = storage_path
        self.cache_path = f"{storage_path}/.cache"
        self.http_session = http_session
        self.http_session_no_ssl = http_session
        self.generation = generation
        self.loop = asyncio.get_running_loop()
        self.closing = False
        self.cache: Any = None
        self.webserver = _WebServer()
        self.translations = TranslationController()
        self.config: ConfigController = (
            FlowConfigController(self) if generation == "new" else ConfigController(self)
        )
        self.events: list[tuple[EventType, str | None, Any]] = []
        self.players = PlayerController(self)
        self._subscribers: list[_Listener] = []
        self._providers: dict[str, Provider] = {}
        self._manifests: dict[str, ProviderManifest] = {}
        self._modules: dict[str, ModuleType] = {}
        self._flow_modules: dict[str, ModuleType] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._named_tasks: dict[str, asyncio.Task[Any]] = {}
        self._timers: list[_Timer] = []

    # --- provider registry -----------------------------------------------------------------

    def register_provider(
        self,
        manifest: ProviderManifest,
        module: ModuleType,
        setup_flow_module: ModuleType | None = None,
    ) -> None:
        """
        Make a provider known, as MA does for each folder under ``providers`` (test setup).

        :param manifest: The provider's manifest.
        :param module: The provider's module (``setup``, ``get_config_entries``).
        :param setup_flow_module: Its ``setup_flow`` module (newer MA).
        """
        self._manifests[manifest.domain] = manifest
        self._modules[manifest.domain] = module
        if setup_flow_module is not None:
            self._flow_modules[manifest.domain] = setup_flow_module

    def get_provider_manifests(self) -> list[ProviderManifest]:
        """Return all provider manifests."""
        return list(self._manifests.values())

    def get_provider_manifest(self, domain: str) -> ProviderManifest:
        """
        Return the manifest of a provider domain.

        :param domain: The domain.
        """
        return self._manifests[domain]

    def get_provider_module(self, domain: str) -> ModuleType:
        """
        Return the module of a provider domain (``load_provider_module`` in MA).

        :param domain: The domain.
        """
        return self._modules[domain]

    def get_setup_flow_module(self, domain: str) -> ModuleType:
        """
        Return the ``setup_flow`` module of a provider domain.

        :param domain: The domain.
        """
        return self._flow_modules[domain]

    @property
    def providers(self) -> list[Provider]:
        """Return all loaded providers."""
        return list(self._providers.values())

    def get_providers(self, provider_type: Any = None) -> list[Provider]:
        """
        Return all loaded/running providers.

        :param provider_type: Only this type.
        """
        return [
            p for p in self._providers.values() if provider_type is None or p.type == provider_type
        ]

    def get_provider(
        self,
        provider_instance_or_domain: str,
        return_unavailable: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> Provider | None:
        """
        Return a provider by instance id or domain.

        :param provider_instance_or_domain: Instance id or domain.
        :param return_unavailable: Also return an unavailable provider.
        """
        provider = self._providers.get(provider_instance_or_domain)
        if provider is None:
            provider = next(
                (p for p in self._providers.values() if p.domain == provider_instance_or_domain),
                None,
            )
        if provider is None or (not provider.available and not return_unavailable):
            return None
        return provider

    # --- loading ---------------------------------------------------------------------------

    async def load_provider_config(self, prov_conf: ProviderConfig) -> None:
        """
        Load a provider with a config (MA's ``_load_provider``); errors propagate.

        :param prov_conf: The provider's config.
        """
        self._cancel_timer(f"load_provider_{prov_conf.instance_id}")
        if self.generation == "old":
            await self._load_provider(prov_conf)
            return
        try:
            await self._load_provider(prov_conf)
        except Exception as exc:
            # newer MA: every failed load shows as last_error (status auth_required/error)
            self.config.record_load_error(prov_conf.instance_id, exc)
            raise

    async def _load_provider(self, prov_conf: ProviderConfig) -> None:
        instance_id = prov_conf.instance_id
        await self.unload_provider(instance_id)
        if not prov_conf.enabled:
            msg = "Provider is disabled"
            raise SetupFailedError(msg)
        manifest = self.get_provider_manifest(prov_conf.domain)
        module = self.get_provider_module(prov_conf.domain)
        conf = prov_conf
        if self.generation == "new" and isinstance(self.config, FlowConfigController):
            raw = self.config.get(f"{CONF_PROVIDERS}/{instance_id}") or prov_conf.to_raw()
            conf = self.config.seed_config(raw)
        else:
            try:
                conf.validate()
            except (KeyError, ValueError, AttributeError, TypeError) as err:
                msg = "Configuration is invalid"
                raise SetupFailedError(msg) from err
        async with asyncio.timeout(30):
            provider: Provider = await module.setup(self, manifest, conf)
        if self.generation == "new":
            provider.config = await self.config.wrap_config(conf, provider)
            try:
                provider.config.validate()
            except (KeyError, ValueError, AttributeError, TypeError) as err:
                msg = f"Configuration is invalid: {err}"
                raise SetupFailedError(msg) from err
        await provider.handle_async_init()
        self._providers[instance_id] = provider
        provider.available = True
        self.create_task(self._on_provider_loaded(provider))
        self.config.clear_load_error(instance_id)
        self.signal_event(EventType.PROVIDERS_UPDATED, data=self.get_providers())

    async def _on_provider_loaded(self, provider: Provider) -> None:
        try:
            await provider.loaded_in_mass()
        except Exception:
            # what MA does: swallowed, visible only in a debug log
            _LOGGER.debug("Exception in loaded_in_mass of %s", provider.instance_id, exc_info=True)

    async def load_provider(
        self,
        instance_id: str,
        allow_retry: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> None:
        """
        Load a stored provider at start-up; a failure becomes ``last_error`` (and a retry).

        :param instance_id: The instance id.
        :param allow_retry: Retry in 120 s after an MA error (see the module docstring).
        """
        try:
            conf = await self.config.get_provider_config(instance_id)
        except KeyError:
            return  # removed before it could load
        if not conf.enabled:
            return  # disabled before it could load
        try:
            await self.load_provider_config(conf)
        except Exception as exc:  # noqa: BLE001 - what MA does
            self.config.record_load_error(instance_id, exc)
            if allow_retry and self._retries(exc):
                _LOGGER.warning(
                    "Error loading provider(instance) %s: %s (will be retried later)",
                    instance_id,
                    exc,
                )
                self.call_later(
                    LOAD_RETRY_DELAY,
                    self.load_provider,
                    instance_id,
                    allow_retry,
                    task_id=f"load_provider_{instance_id}",
                )

    def _retries(self, exc: Exception) -> bool:
        """Return whether MA retries a start-up load that failed with this error."""
        if not isinstance(exc, MusicAssistantError):
            return False  # likely a bug: no retry on either generation
        if self.generation == "old":
            return True
        if type(exc).__name__ == "UnsupportedSystemError":
            return False
        return exc.error_code not in AUTH_ERROR_CODES

    def _cancel_timer(self, task_id: str) -> None:
        for timer in [t for t in self._timers if t.task_id == task_id]:
            timer.handle.cancel()
            self._timers.remove(timer)

    async def unload_provider(
        self,
        instance_id: str,
        is_removed: bool = False,  # noqa: FBT001, FBT002 - MA's signature
    ) -> None:
        """
        Unload a provider.

        :param instance_id: The instance id.
        :param is_removed: The provider's config was removed.
        """
        provider = self._providers.get(instance_id)
        if provider is None:
            return
        if isinstance(provider, PlayerProvider):
            for player in provider.players:
                await self.players.unregister(player.player_id, permanent=is_removed)
        # As MA does: the provider is still registered while it unloads, and an error of its
        # unload is logged, never raised to the caller.
        try:
            await provider.unload(is_removed)
        except Exception:
            _LOGGER.warning("Error while unloading provider %s", instance_id, exc_info=True)
        finally:
            self._providers.pop(instance_id, None)
            self.signal_event(EventType.PROVIDERS_UPDATED, data=self.get_providers())

    async def unload_provider_with_error(self, instance_id: str, error: str | Exception) -> None:
        """
        Unload a provider and record an error for the user (newer MA's fixed behaviour).

        :param instance_id: The instance id.
        :param error: The error.
        """
        # newer MA: an exception keeps its code (LoginFailed: auth_required), a string is 999
        exc = error if isinstance(error, Exception) else RuntimeError(error)
        self.config.record_load_error(instance_id, exc)
        await self.unload_provider(instance_id)

    async def start(self) -> None:
        """Load every stored provider, as MA's start-up does."""
        for instance_id in list(self.config.get(CONF_PROVIDERS, {})):
            await self.load_provider(instance_id, allow_retry=True)

    async def stop(self) -> None:
        """Unload every provider and cancel every task and timer."""
        self.closing = True
        for instance_id in list(self._providers):
            await self.unload_provider(instance_id)
        for timer in self._timers:
            timer.handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def restarted(self) -> MusicAssistant:
        """
        Return a new server object with the same settings and data folder (a restart).

        Call :meth:`stop` on this one first, and :meth:`start` on the new one.
        """
        new = MusicAssistant(self.storage_path, self.http_session, generation=self.generation)
        new.config._data = deepcopy(self.config._data)  # the encryption key comes along
        new._manifests = dict(self._manifests)
        new._modules = dict(self._modules)
        new._flow_modules = dict(self._flow_modules)
        return new

    # --- tasks, timers, events -------------------------------------------------------------

    def create_task(
        self,
        target: Coroutine[Any, Any, Any] | Callable[..., Any],
        *args: Any,
        task_id: str | None = None,
        abort_existing: bool = False,
        eager_start: bool = True,
        **kwargs: Any,
    ) -> asyncio.Task[Any]:
        """
        Create a tracked task (MA cancels tracked tasks when it stops).

        ``eager_start`` is accepted and ignored: Python 3.11 has no eager tasks.

        :param target: A coroutine, a coroutine function or a plain callable.
        :param args: Arguments for a function target.
        :param task_id: Deduplicate by this id.
        :param abort_existing: Cancel a running task with the same id instead of returning it.
        :param eager_start: See above.
        :param kwargs: Keyword arguments for a function target.
        """
        del eager_start
        existing = self._named_tasks.get(task_id) if task_id is not None else None
        if existing is not None and not existing.done():
            if not abort_existing:
                if inspect.iscoroutine(target):
                    target.close()
                return existing
            existing.cancel()
        coro: Coroutine[Any, Any, Any]
        if inspect.iscoroutine(target):
            coro = target
        elif inspect.iscoroutinefunction(target):
            coro = target(*args, **kwargs)
        else:

            async def _call() -> Any:
                return target(*args, **kwargs)  # type: ignore[operator]

            coro = _call()
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if task_id is not None:
            self._named_tasks[task_id] = task
        return task

    def call_later(
        self,
        delay: float,
        target: Callable[..., Any],
        *args: Any,
        task_id: str | None = None,
        **kwargs: Any,
    ) -> asyncio.TimerHandle:
        """
        Run a callable (or coroutine function) after a delay; ``task_id`` debounces.

        :param delay: Seconds.
        :param target: What to run.
        :param args: Its arguments.
        :param task_id: Cancel a pending timer with the same id first.
        :param kwargs: Its keyword arguments.
        """
        if task_id is not None:
            self._cancel_timer(task_id)

        record: _Timer

        def run() -> None:
            if record in self._timers:
                self._timers.remove(record)
            if inspect.iscoroutinefunction(target):
                self.create_task(target(*args, **kwargs))
            else:
                result = target(*args, **kwargs)
                if inspect.iscoroutine(result):
                    self.create_task(result)

        handle = self.loop.call_later(delay, run)
        record = _Timer(handle, run, task_id)
        self._timers.append(record)
        return handle

    @property
    def pending_timers(self) -> list[str | None]:
        """Return the task ids of the timers not fired or cancelled yet."""
        return [t.task_id for t in self._timers if not t.handle.cancelled()]

    async def run_timers(self) -> int:
        """Fire every pending timer now; return how many fired (their work runs as tasks)."""
        due = [t for t in self._timers if not t.handle.cancelled()]
        for timer in due:
            timer.handle.cancel()
            timer.run()
        return len(due)

    @property
    def running_tasks(self) -> list[asyncio.Task[Any]]:
        """Return the tracked tasks that have not finished."""
        return [t for t in self._tasks if not t.done()]

    def signal_event(
        self,
        event: EventType,
        object_id: str | None = None,
        data: Any = None,
    ) -> None:
        """
        Signal an event to subscribers (recorded for the tests).

        :param event: The event type.
        :param object_id: The object the event is about.
        :param data: The payload.
        """
        self.events.append((event, object_id, data))
        if self.closing:
            return
        event_obj = MassEvent(event=event, object_id=object_id, data=data)
        for callback, event_filter, id_filter in list(self._subscribers):
            if event_filter is not None and event not in event_filter:
                continue
            if id_filter is not None and object_id not in id_filter:
                continue
            if inspect.iscoroutinefunction(callback):
                self.create_task(callback, event_obj)
            else:
                self.loop.call_soon(callback, event_obj)

    def subscribe(
        self,
        cb_func: Callable[[MassEvent], Any],
        event_filter: EventType | tuple[EventType, ...] | None = None,
        id_filter: str | tuple[str, ...] | None = None,
    ) -> Callable[[], None]:
        """
        Add a callback for events; return the function that removes it.

        :param cb_func: A function or coroutine function, called with the event.
        :param event_filter: Only these events.
        :param id_filter: Only events about these object ids.
        """
        if isinstance(event_filter, EventType):
            event_filter = (event_filter,)
        if isinstance(id_filter, str):
            id_filter = (id_filter,)
        listener: _Listener = (cb_func, event_filter, id_filter)
        self._subscribers.append(listener)

        def remove_listener() -> None:
            self._subscribers.remove(listener)

        return remove_listener

    @property
    def subscribers(self) -> int:
        """Return how many event listeners there are (a test helper)."""
        return len(self._subscribers)
