"""
Helpers of the adapter tests.

The manifest, the form values, a clock for background tasks, waiting for the work MA started,
restarting MA, and adding an instance the way each MA generation does it (the add dialog's
buttons and Save, or the setup flow).

Waits are conditions, never a number of event-loop turns: work that talks to the simulator
takes as many turns as its sockets need, more of them on a loaded machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.provider import ProviderManifest

from music_assistant_alexa.guide import web_linker
from music_assistant_alexa.ma.constants import (
    ACTION_SIGN_IN,
    CONF_CAPTCHA_ANSWER,
    CONF_EMAIL,
    CONF_MARKETPLACE,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
    DOMAIN,
    SESSION_ID,
)
from music_assistant_alexa.ma.context import AdapterContext
from tests.helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    # newer models only
    from music_assistant_models.setup_flow import SetupFlowStep  # type: ignore[import-not-found,unused-ignore]

REPO: Final = Path(__file__).resolve().parent.parent.parent
MANIFEST_PATH: Final = REPO / "manifest.json"
#: Setup flows (and the newer MA) exist from music-assistant-models 1.1.169 on.
HAS_SETUP_FLOWS: Final = importlib.util.find_spec("music_assistant_models.setup_flow") is not None

FORM: Final[dict[str, Any]] = {
    CONF_EMAIL: TEST_EMAIL,
    CONF_PASSWORD: TEST_PASSWORD,
    CONF_TOTP_KEY: TEST_KEY,
    CONF_MARKETPLACE: "amazon.com",
}
DIALOG: Final = "dlg-0001"
#: Longest (real) wait for local work; it only guards against a hang.
WAIT_LIMIT: Final = 5.0
#: How often a condition is looked at while waiting.
_POLL: Final = 0.001


class SteppedClock:
    """
    The fake clock's time, with sleeps that wait until the test moves time on.

    Background tasks (the refresh schedule, the reconnect loop) sleep on it, so they stay put
    until a test calls :meth:`advance`, instead of racing through fake weeks on their own.
    """

    def __init__(self, clock: FakeClock) -> None:
        """
        Wrap the fake clock.

        :param clock: The fake clock whose time is read and moved.
        """
        self.clock = clock
        self._sleepers: list[tuple[float, asyncio.Future[None], asyncio.Task[object] | None]] = []

    def time(self) -> float:
        """Return the fake time."""
        return self.clock.now

    async def sleep(self, seconds: float) -> None:
        """
        Wait until the test has moved the time past now plus some seconds.

        :param seconds: How long to wait.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.clock.now + max(0.0, seconds), future, asyncio.current_task())
        self._sleepers.append(entry)
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleepers(self) -> int:
        """Return how many tasks are sleeping."""
        return len(self._sleepers)

    def holds(self, task: asyncio.Task[object]) -> bool:
        """
        Return whether a task sleeps on this clock (until a test moves the time).

        :param task: The task.
        """
        return any(t is task and not f.done() for _, f, t in self._sleepers)

    async def advance(self, seconds: float) -> None:
        """
        Move the time on, wake every sleeper that is due, and wait for the woken work.

        Returns once every woken task has finished or sleeps on this clock again.

        :param seconds: How far to move.
        """
        self.clock.now += seconds
        woken = []
        for wake, future, task in list(self._sleepers):
            if wake <= self.clock.now and not future.done():
                future.set_result(None)
                if task is not None:
                    woken.append(task)
        await eventually(lambda: all(task.done() or self.holds(task) for task in woken))


#: The stand-in web server's base URL (a documentation address: it never answers).
MA_BASE_URL: Final = "http://192.0.2.10:8095"


def ma_guide(slug: str) -> str:
    """
    Return the link to a guide section as the adapter shows it in the stand-in MA.

    :param slug: The section's slug.
    """
    return web_linker(MA_BASE_URL)(slug)


def load_manifest() -> ProviderManifest:
    """Return the top-level manifest, parsed as MA parses it."""
    return ProviderManifest.from_json(MANIFEST_PATH.read_text(encoding="utf-8"))


def by_key(entries: Iterable[ConfigEntry]) -> dict[str, ConfigEntry]:
    """
    Return entries by key.

    :param entries: Config entries.
    """
    return {entry.key: entry for entry in entries}


def texts(entries: Iterable[ConfigEntry]) -> str:
    """
    Return every label, description and value of some entries, as one text.

    :param entries: Config entries.
    """
    return "\n".join(
        f"{entry.key}: {entry.label} | {entry.description} | {entry.value}" for entry in entries
    )


async def form(
    mass: MusicAssistant,
    values: dict[str, Any] | None = None,
    *,
    action: str | None = None,
    instance_id: str | None = None,
) -> tuple[ConfigEntry, ...]:
    """
    Ask the older MA's config controller for the form, as the dialog does.

    :param mass: The stand-in (older generation).
    :param values: The form values (the dialog's session id is added).
    :param action: The pressed button.
    :param instance_id: The instance being edited.
    """
    entries: tuple[ConfigEntry, ...] = await mass.config.get_provider_config_entries(
        DOMAIN,
        instance_id=instance_id,
        action=action,
        values={SESSION_ID: DIALOG, **(values or {})},
    )
    return entries


#: Entry types 2.9's frontend shows but never submits.
_SHOWN_ONLY: Final = frozenset({"label", "alert", "divider", "action"})


def form_values(entries: Iterable[ConfigEntry]) -> dict[str, Any]:
    """
    Return the values 2.9's frontend holds after a button's answer (and sends with the next).

    The frontend takes the answer's entries as they are: their values are what it shows, hidden
    fields included, and what it submits next.

    :param entries: The entries of the answer.
    """
    return {
        entry.key: entry.value
        for entry in entries
        if str(entry.type) not in _SHOWN_ONLY and entry.value is not None
    }


async def add_with_form(
    mass: MusicAssistant, values: dict[str, Any] | None = None, *, sign_in: bool = True
) -> str:
    """
    Add an instance through the older MA's dialog: "Sign in now", then Save.

    :param mass: The stand-in (older generation).
    :param values: The form values (default: the test account's).
    :param sign_in: Press "Sign in now" before Save.
    :returns: The new instance id.
    """
    submitted = {SESSION_ID: DIALOG, **(values if values is not None else FORM)}
    if sign_in:
        entries = by_key(await form(mass, submitted, action=ACTION_SIGN_IN))
        pending = entries[CONF_PENDING_SESSION].value
        assert pending, texts(entries.values())
        submitted[CONF_PENDING_SESSION] = pending
    config = await mass.config.save_provider_config(DOMAIN, submitted)
    await settle(mass)
    instance_id: str = config.instance_id
    return instance_id


async def start_flow(mass: MusicAssistant) -> SetupFlowStep:
    """
    Start the newer MA's setup flow.

    :param mass: The stand-in (newer generation).
    """
    step: SetupFlowStep = await mass.config.setup_provider(DOMAIN)
    return step


async def submit(
    mass: MusicAssistant, step: SetupFlowStep, values: dict[str, Any]
) -> SetupFlowStep:
    """
    Submit a flow's form and return the next step that is not progress.

    :param mass: The stand-in (newer generation).
    :param step: The form step.
    :param values: The values.
    """
    await mass.config.submit_setup_flow(step.flow_id, values)
    following: SetupFlowStep = await mass.config.wait_for_flow(step.flow_id)
    return following


async def add_with_flow(mass: MusicAssistant, values: dict[str, Any] | None = None) -> str:
    """
    Add an instance through the newer MA's setup flow.

    :param mass: The stand-in (newer generation).
    :param values: The form values (default: the test account's).
    :returns: The new instance id.
    """
    step = await start_flow(mass)
    step = await submit(mass, step, values if values is not None else FORM)
    assert step.type == "finish", (step.errors, texts(step.entries))
    assert step.result is not None
    instance_id: str = step.result["instance_id"]
    return instance_id


async def add(mass: MusicAssistant, values: dict[str, Any] | None = None) -> str:
    """
    Add an instance the way the stand-in's generation does it.

    :param mass: The stand-in.
    :param values: The form values (default: the test account's).
    """
    if mass.generation == "new":
        instance_id = await add_with_flow(mass, values)
    else:
        instance_id = await add_with_form(mass, values)
    await settle(mass)
    return instance_id


async def eventually(predicate: Callable[[], bool]) -> None:
    """
    Wait until background work (requests to the simulator) made a condition true.

    :param predicate: The condition.
    """
    async with asyncio.timeout(WAIT_LIMIT):
        # Polling: the condition changes inside other tasks (and their sockets), with no
        # event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(_POLL)


def stepped_clock(mass: MusicAssistant) -> SteppedClock:
    """
    Return the stepped clock the adapter's background work sleeps on in a test's MA.

    :param mass: The stand-in.
    """
    clock = AdapterContext.of(mass).background_clock
    assert isinstance(clock, SteppedClock)
    return clock


async def settle(mass: MusicAssistant) -> None:
    """
    Wait until every task MA started has finished, or sleeps until the test moves time.

    Loads, ``loaded_in_mass``, clean-ups and timers' work run to their end, however many
    requests to the simulator they make; the refresh schedule and the reconnect loop sleep on
    the stepped clock and are not waited for.

    :param mass: The stand-in.
    """
    clock = stepped_clock(mass)
    await eventually(lambda: all(clock.holds(task) for task in mass.running_tasks))


async def fire_timers(mass: MusicAssistant) -> int:
    """
    Fire MA's pending timers now (MA's 120 s load retry, a deferred notice) and settle.

    :param mass: The stand-in.
    :returns: How many timers fired.
    """
    fired: int = await mass.run_timers()
    await settle(mass)
    return fired


def restart(mass: MusicAssistant) -> MusicAssistant:
    """
    Return the server as after a restart: the same settings and data, fresh memory.

    Stop ``mass`` first and start the returned one.

    :param mass: The stand-in.
    """
    restarted = mass.restarted()
    context = AdapterContext.of(mass)
    fresh = dataclasses.replace(
        context,
        http_session=restarted.http_session,
        create_task=restarted.create_task,
        webserver=restarted.webserver,
    )
    fresh.attach(restarted)
    return restarted


async def try_add(mass: MusicAssistant, values: dict[str, Any]) -> tuple[str, str]:
    """
    Try to add an instance with values that fail; return where the failure shows, and its text.

    Older MA: the text of the form's alert after "Sign in now". Newer MA: the flow form's
    "base" (or field) error.

    :param mass: The stand-in.
    :param values: The form values.
    """
    if mass.generation == "new":
        step = await start_flow(mass)
        step = await submit(mass, step, values)
        assert step.type == "form", step
        shown = [e.label or "" for e in step.entries if e.type in ("alert", "label")]
        errors = "\n".join(step.errors.values())
        return "flow", errors + "\n" + "\n".join(shown)
    entries = await form(mass, values, action=ACTION_SIGN_IN)
    assert not by_key(entries)[CONF_PENDING_SESSION].value
    alerts = [e.label or "" for e in entries if e.type == "alert"]
    return "form", "\n".join(alerts)


__all__ = [
    "CONF_CAPTCHA_ANSWER",
    "DIALOG",
    "FORM",
    "HAS_SETUP_FLOWS",
    "MANIFEST_PATH",
    "add",
    "add_with_flow",
    "add_with_form",
    "by_key",
    "eventually",
    "fire_timers",
    "form",
    "form_values",
    "load_manifest",
    "ma_guide",
    "restart",
    "settle",
    "start_flow",
    "stepped_clock",
    "submit",
    "texts",
    "try_add",
]
