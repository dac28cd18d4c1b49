"""
Helpers of the adapter tests.

The manifest, the form values, a clock for background tasks, and adding an instance the way
each MA generation does it (the add dialog's buttons and Save, or the setup flow).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from music_assistant_models.provider import ProviderManifest

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
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        """Return the fake time."""
        return self.clock.now

    async def sleep(self, seconds: float) -> None:
        """
        Wait until the test has moved the time past now plus some seconds.

        :param seconds: How long to wait.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.clock.now + max(0.0, seconds), future))
        try:
            await future
        finally:
            self._sleepers = [(t, f) for t, f in self._sleepers if f is not future]

    @property
    def sleepers(self) -> int:
        """Return how many tasks are sleeping."""
        return len(self._sleepers)

    async def advance(self, seconds: float, *, settle: int = 50) -> None:
        """
        Move the time on, wake every sleeper that is due, and let the woken work run.

        :param seconds: How far to move.
        :param settle: Event-loop turns to let the woken tasks (and their requests) finish.
        """
        self.clock.now += seconds
        for wake, future in list(self._sleepers):
            if wake <= self.clock.now and not future.done():
                future.set_result(None)
        for _ in range(settle):
            await asyncio.sleep(0.001)


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
    await settle()
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
    await settle()
    return instance_id


async def eventually(predicate: Callable[[], bool], *, limit: float = 5.0) -> None:
    """
    Wait until background work (requests to the simulator) made a condition true.

    :param predicate: The condition.
    :param limit: Give up after this many (real) seconds; the work is local, so this only
        guards against a hang.
    """
    async with asyncio.timeout(limit):
        # Polling: the condition changes inside other tasks (and their sockets), with no
        # event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def settle(turns: int = 5) -> None:
    """
    Let background tasks MA started (``loaded_in_mass``) run.

    :param turns: Event-loop turns.
    """
    for _ in range(turns):
        await asyncio.sleep(0)


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
        alerts = [e.label or "" for e in step.entries if e.type == "alert"]
        errors = "\n".join(step.errors.values())
        return "flow", errors + "\n" + "\n".join(alerts)
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
    "form",
    "load_manifest",
    "settle",
    "start_flow",
    "submit",
    "texts",
    "try_add",
]
