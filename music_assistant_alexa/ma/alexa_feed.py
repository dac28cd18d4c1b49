"""
Keep Music Assistant's Alexa players signed in: hand this session to the matching alexa instance.

One :class:`AlexaFeed` per instance of this provider. While its option is on and one of MA's
alexa provider instances signs in the same account (the case aside) on the same site, the feed
writes this session into that instance's cookie file (:mod:`music_assistant_alexa.auth.handoff`:
verified, token-free, never over a newer working file of the user's):

- when this provider starts, if the file on disk is older than the session (or missing);
- after every sign-in and every refresh of the session;
- when such an alexa instance appears (added later, enabled again, its account or site changed).

When the file changed, the running alexa instance is restarted to use it, at a quiet moment
(:mod:`.reload_rule`). MA loads providers concurrently, in no order: an alexa instance already
running when the file changed is restarted; one that starts later restores the new file by
itself and needs nothing; one whose start failed is started again; a disabled one only gets the
file kept fresh; a removed one is let go. Nothing of anyone's is ever deleted.

Costs: a refresh adds one request (the new file's verification) when the file changes, or one
(asking Amazon about the user's own file) when it is someone else's; nothing when the file
already holds these cookies. Other accounts' files are asked about once per start, never at a
refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.enums import EventType

from music_assistant_alexa.auth.errors import AlexaAuthError, ErrorCategory
from music_assistant_alexa.auth.handoff.probe import CookieVerdict
from music_assistant_alexa.auth.handoff.record import Ownership
from music_assistant_alexa.auth.handoff.writer import (
    AlexaHandoff,
    HandoffInspection,
    HandoffOutcome,
    HandoffReport,
    HandoffSource,
)
from music_assistant_alexa.auth.refresh import retry_delay
from music_assistant_alexa.diagnostics.handoff import (
    AlexaPlayersState,
    alexa_players_check,
    run_handoff_checks,
)

from .alexa_dialog import AlexaDialogWatch
from .alexa_instances import AlexaInstance, alexa_instances, alexa_runtime, reload_alexa
from .reload_rule import RELOAD_CHECK_INTERVAL, ReloadVerdict, reload_due_by, reload_verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.diagnostics import HealthCheck

    from .context import AdapterContext

_LOGGER = logging.getLogger(__name__)

#: Auth events after which the file is brought up to date (``restore``: a late start-up).
SESSION_EVENTS: Final = frozenset({"sign_in", "refresh", "restore"})


@dataclass(slots=True)
class FedInstance:
    """What is known about one alexa instance this session feeds."""

    instance_id: str
    #: A hand-off has looked at it since this provider started.
    seen: bool = False
    #: When Amazon issued the cookies in the file last handed over (None: the user's own file).
    file_cookies_at: float | None = None
    #: When Amazon issued the cookies the running instance restored at its last start (an
    #: estimate; None: none that work, or not known yet).
    live_cookies_at: float | None = None
    #: The file changed at this time and a restart to pick it up waits.
    pending_since: float | None = None
    #: The provider object that ran when the file changed (another one has started since).
    running: weakref.ref[Any] | None = None
    #: When this feed last restarted it, and the reason.
    last_reload_at: float | None = None
    last_verdict: ReloadVerdict | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the state for diagnostics."""
        return {
            "instance_id": self.instance_id,
            "file_cookie_timestamp": self.file_cookies_at,
            "live_cookie_timestamp": self.live_cookies_at,
            "reload_pending_since": self.pending_since,
            "reload_due_by": reload_due_by(self.live_cookies_at) if self.pending_since else None,
            "last_reload_at": self.last_reload_at,
            "last_verdict": str(self.last_verdict) if self.last_verdict else None,
        }


class AlexaFeed:
    """Hands one account's session to MA's matching alexa instance, and restarts it to use it."""

    def __init__(
        self,
        mass: MusicAssistant,
        context: AdapterContext,
        *,
        manager: Callable[[], AuthSessionManager | None],
        option_on: Callable[[], bool],
        changed: Callable[[], None],
    ) -> None:
        """
        Create the feed; nothing is read or written before :meth:`start`.

        :param mass: The MusicAssistant instance.
        :param context: The adapter's context (HTTP session, clocks, pace).
        :param manager: Returns the account's session manager (None while there is none).
        :param option_on: Whether the user wants the Alexa players kept signed in.
        :param changed: Called when something the health section shows moved.
        """
        self._mass = mass
        self._context = context
        self._manager = manager
        self._option_on = option_on
        self._changed = changed
        self._dialog = AlexaDialogWatch(context.clock)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[Any] | None = None
        self._retry: asyncio.Task[Any] | None = None
        self._failures = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._running = False
        #: The alexa instances as last read, and which of them are fed.
        self._seen: tuple[tuple[str, str, str | None, bool], ...] | None = None
        self.instances: tuple[AlexaInstance, ...] = ()
        self.fed: dict[str, FedInstance] = {}
        #: The last hand-off, and why the last one failed (if it did).
        self.report: HandoffReport | None = None
        self.error: AlexaAuthError | None = None
        self.last_run_at: float | None = None
        #: What Amazon said about each file (by path and date) when it was last asked: later
        #: hand-offs do not ask again, and a file that has not changed keeps its verdict.
        self._verdicts: dict[tuple[Path, float], CookieVerdict] = {}

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Listen to MA's events and hand the session over once (the start-up rule)."""
        if self._running:
            return
        self._running = True
        self._dialog.listen(self._mass)
        self._unsubscribe = self._mass.subscribe(
            self._on_providers_updated, EventType.PROVIDERS_UPDATED
        )
        self._spawn(self.hand_off(probe_others=True))

    async def stop(self) -> None:
        """Stop listening and cancel every task (files and alexa instances stay as they are)."""
        self._running = False
        self._dialog.close()
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        current = asyncio.current_task()
        tasks = [t for t in (*self._tasks, self._watch, self._retry) if t is not None]
        for task in tasks:
            if task is not current and not task.done():
                task.cancel()
        for task in tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def session_changed(self) -> None:
        """Hand the session over again (after a sign-in or a refresh)."""
        if self._running:
            self._spawn(self.hand_off())

    # --- the work --------------------------------------------------------------------------

    async def hand_off(self, *, probe_others: bool = False) -> None:
        """
        Write the session into the matching alexa instances' files, and restart them if due.

        :param probe_others: Also ask Amazon about other accounts' files (once per start).
        """
        async with self._lock:
            await self._hand_off(probe_others=probe_others)
            await self._check_pending()
        self._ensure_watch()

    async def reconsider(self) -> None:
        """Look at MA's alexa instances again: hand over to a new one, see restarts."""
        async with self._lock:
            instances = await alexa_instances(self._mass)
            if _seen_key(instances) != self._seen:
                await self._hand_off(probe_others=False)
            await self._check_pending()
        self._ensure_watch()

    def _on_providers_updated(self, _event: Any) -> None:
        if self._running:
            # A task of this feed's own (stop() cancels it), not MA's event dispatch.
            self._spawn(self.reconsider())

    async def _hand_off(self, *, probe_others: bool) -> None:
        manager = self._manager()
        instances = await alexa_instances(self._mass)
        self.instances = tuple(instances)
        self._seen = _seen_key(instances)
        registration = manager.registration if manager is not None else None
        if not self._option_on() or manager is None or registration is None:
            self.fed.clear()
            return
        market = manager.hosts.marketplace.domain
        targets = [i for i in instances if i.matches(registration.email, market)]
        for instance_id in set(self.fed) - {t.instance_id for t in targets}:
            del self.fed[instance_id]  # removed, or now another account or site: let go
        if not targets or not manager.signed_in:
            self.report = self.error = None
            self._changed()
            return
        try:
            source = HandoffSource.from_manager(manager)
        except AlexaAuthError as err:
            self._failed(err)
            return
        for target in targets:
            fed = self.fed.setdefault(target.instance_id, FedInstance(target.instance_id))
            handoff = self._handoff(manager, target.username)
            try:
                before = await asyncio.to_thread(handoff.inspect)
                report = await handoff.run(source, probe_others=probe_others)
            except AlexaAuthError as err:
                self._failed(err)
                return
            finally:
                await handoff.close()
            self.report, self.error, self._failures = self._remember(report), None, 0
            self.last_run_at = self._context.clock.time()
            self._fed(target, fed, before, report, source.cookie_timestamp)
        self._changed()

    def _fed(
        self,
        target: AlexaInstance,
        fed: FedInstance,
        before: HandoffInspection,
        report: HandoffReport,
        cookies_at: float,
    ) -> None:
        """Note what a hand-off did to one instance's file, and whether it must restart."""
        outcome = report.result.outcome
        if not fed.seen:
            # First sight of this instance (since this provider started): it runs on what was
            # on disk before this hand-off, as far as anyone can tell.
            fed.seen = True
            fed.live_cookies_at = _cookies_at(before)
        if outcome is HandoffOutcome.KEPT_USER_FILE:
            fed.file_cookies_at = None
            fed.pending_since = None
            return
        fed.file_cookies_at = cookies_at
        if not outcome.changed:
            return
        _LOGGER.info(
            "Handed the session to the Alexa player provider (%s): %s", target.instance_id, outcome
        )
        runtime = alexa_runtime(self._mass, target.instance_id)
        if not target.enabled or (not runtime.loaded and not runtime.load_failed):
            # Disabled: the file waits for it. Not started yet: it restores the new file when
            # it starts (MA loads providers in no particular order).
            fed.pending_since = None
            if target.enabled:
                fed.live_cookies_at = cookies_at
            return
        if fed.pending_since is None:
            fed.pending_since = self._context.clock.time()
        fed.running = weakref.ref(runtime.provider) if runtime.provider is not None else None

    def _failed(self, err: AlexaAuthError) -> None:
        self.error = err
        self._changed()
        _LOGGER.warning("Could not hand the session to the Alexa players: %s", err.code)
        if err.category is ErrorCategory.TEMPORARY and self._running:
            self._failures += 1
            retry = self._retry
            if retry is None or retry.done() or retry is asyncio.current_task():
                self._retry = self._mass.create_task(self._retry_later())

    async def _retry_later(self) -> None:
        await self._context.sleep_clock.sleep(retry_delay(self._failures))
        # Still this feed's task while it hands over: stop() must be able to cancel it.
        await self.hand_off()

    async def _check_pending(self) -> None:
        """Restart each instance whose file changed, once the rule allows it."""
        targets = {t.instance_id: t for t in self.instances}
        for fed in self.fed.values():
            target = targets.get(fed.instance_id)
            if fed.pending_since is None:
                continue
            if target is None or not target.enabled or not self._option_on():
                fed.pending_since = None
                continue
            runtime = alexa_runtime(self._mass, fed.instance_id)
            before = fed.running() if fed.running is not None else None
            if runtime.loaded and runtime.provider is not before:
                # Started again since the file changed (MA, the user, its retry): it uses it.
                self._picked_up(fed, restarted=False)
                continue
            if not runtime.loaded and not runtime.load_failed:
                continue  # starting: it restores the new file by itself
            verdict = reload_verdict(
                playing=runtime.playing > 0,
                signing_in=self._dialog.signing_in(),
                live_cookies_at=fed.live_cookies_at,
                now=self._context.clock.time(),
            )
            if verdict is not fed.last_verdict:
                fed.last_verdict = verdict
                self._changed()
            if not verdict.now:
                continue
            _LOGGER.info(
                "Restarting the Alexa player provider (%s) to use the new session (%s)",
                fed.instance_id,
                verdict,
            )
            # A restart once begun is seen through, even if this provider unloads meanwhile:
            # cancelled half-way, it would leave the alexa instance stopped.
            restart = self._mass.create_task(reload_alexa(self._mass, fed.instance_id))
            await asyncio.shield(restart)
            self._picked_up(fed, restarted=True)

    def _picked_up(self, fed: FedInstance, *, restarted: bool) -> None:
        fed.live_cookies_at = fed.file_cookies_at
        fed.pending_since = None
        fed.running = None
        if restarted:
            fed.last_reload_at = self._context.clock.time()
        self._changed()

    def _ensure_watch(self) -> None:
        """Look again every few minutes while a restart waits."""
        waiting = any(fed.pending_since is not None for fed in self.fed.values())
        if waiting and self._running and (self._watch is None or self._watch.done()):
            self._watch = self._mass.create_task(self._watch_pending())

    async def _watch_pending(self) -> None:
        while self._running and any(f.pending_since is not None for f in self.fed.values()):
            await self._context.sleep_clock.sleep(RELOAD_CHECK_INTERVAL)
            async with self._lock:
                await self._check_pending()

    # --- what the user sees ----------------------------------------------------------------

    async def checks(self) -> list[HealthCheck]:
        """Return the hand-off's health checks (nothing is sent to Amazon)."""
        if not self._option_on():
            return [alexa_players_check(None, option_on=False)]
        manager = self._manager()
        registration = manager.registration if manager is not None else None
        if manager is None or registration is None:
            return []  # not signed in: the sign-in check says so
        market = manager.hosts.marketplace.domain
        instances = await alexa_instances(self._mass)
        targets = [i for i in instances if i.matches(registration.email, market)]
        if not targets:
            unmatched = tuple(i.label for i in instances)
            check = alexa_players_check(
                None, option_on=True, unmatched=unmatched, marketplace=market
            )
            return [check]
        cookies = manager.cookies
        known = self.report.files if self.report is not None else ()
        checks: list[HealthCheck] = []
        for target in targets:
            checks.append(
                alexa_players_check(self._state(target), option_on=True, error=self.error)
            )
            handoff = self._handoff(manager, target.username)
            try:
                checks.extend(
                    await run_handoff_checks(
                        handoff,
                        session_cookie_timestamp=cookies.timestamp if cookies else None,
                        known=known,
                    )
                )
            finally:
                await handoff.close()
        return checks

    def _state(self, target: AlexaInstance) -> AlexaPlayersState:
        runtime = alexa_runtime(self._mass, target.instance_id)
        fed = self.fed.get(target.instance_id)
        pending = fed.pending_since if fed is not None else None
        return AlexaPlayersState(
            instance_id=target.instance_id,
            enabled=target.enabled,
            loaded=runtime.loaded,
            load_failed=runtime.load_failed,
            players=runtime.players,
            playing=runtime.playing,
            reload_pending_since=pending,
            reload_due_by=reload_due_by(fed.live_cookies_at) if fed and pending else None,
            last_reload_at=fed.last_reload_at if fed is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the feed's state for diagnostics (no e-mail address, no file name)."""
        manager = self._manager()
        registration = manager.registration if manager is not None else None
        market = manager.hosts.marketplace.domain if manager is not None else ""
        report = self.report
        return {
            "option_on": self._option_on(),
            "alexa_instances": [
                {
                    "instance_id": i.instance_id,
                    "marketplace": i.marketplace,
                    "enabled": i.enabled,
                    "matches": registration is not None and i.matches(registration.email, market),
                    **_runtime_dict(self._mass, i.instance_id),
                }
                for i in self.instances
            ],
            "fed": [fed.to_dict() for fed in self.fed.values()],
            "last_run_at": self.last_run_at,
            "last_outcome": str(report.result.outcome) if report is not None else None,
            "last_error": self.error.code if self.error is not None else None,
            "files": [
                {
                    "fed": f.fed,
                    "same_account": f.same_account,
                    "format": str(f.format) if f.format else None,
                    "marketplace": f.marketplace,
                    "ownership": str(f.ownership),
                    "verdict": str(f.verdict),
                    "action": str(f.action),
                    "modified_at": f.modified_at,
                }
                for f in (report.files if report is not None else ())
            ],
        }

    # --- small helpers ---------------------------------------------------------------------

    def _remember(self, report: HandoffReport) -> HandoffReport:
        """Return the report with the verdicts Amazon gave earlier for files that did not change."""
        files = []
        for found in report.files:
            known = self._verdicts.get((found.path, found.modified_at))
            if found.verdict is CookieVerdict.NOT_ASKED and known is not None:
                files.append(dataclasses.replace(found, verdict=known))
            else:
                files.append(found)
        self._verdicts = {
            (f.path, f.modified_at): f.verdict
            for f in files
            if f.verdict is not CookieVerdict.NOT_ASKED
        }
        return dataclasses.replace(report, files=tuple(files))

    def _handoff(self, manager: AuthSessionManager, username: str) -> AlexaHandoff:
        return AlexaHandoff.for_manager(
            manager,
            session=self._context.http_session,
            ma_data=Path(str(self._mass.storage_path)),
            username=username,
            pace=self._context.pace,
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[Any] = self._mass.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _seen_key(instances: list[AlexaInstance]) -> tuple[tuple[str, str, str | None, bool], ...]:
    """Return what decides the hand-off about MA's alexa instances (a change means a new one)."""
    # The exact spelling: the file is named after it, so a new spelling needs a new file.
    return tuple(sorted((i.instance_id, i.username, i.marketplace, i.enabled) for i in instances))


def _cookies_at(inspection: HandoffInspection) -> float | None:
    """Return when Amazon issued the cookies of a file on disk, as far as it tells (None: none)."""
    if not inspection.exists or not inspection.readable or inspection.verdict.stale:
        return None
    written = inspection.last_written
    if inspection.ownership in (Ownership.OURS, Ownership.OURS_EARLIER) and written is not None:
        return written.cookie_timestamp
    # Someone else's: the alexa provider writes its file right after its sign-in.
    return inspection.modified_at


def _runtime_dict(mass: MusicAssistant, instance_id: str) -> dict[str, Any]:
    runtime = alexa_runtime(mass, instance_id)
    return {
        "loaded": runtime.loaded,
        "load_failed": runtime.load_failed,
        "players": runtime.players,
        "playing": runtime.playing,
        "signed_in": runtime.loaded and runtime.players > 0,
    }
