"""
What every benchmark script shares: the report table, the clock, sessions and the simulator.

Each metric has its own script (``python -m benchmarks.<metric>``) with a ``measure`` function
that adds rows and method notes to a :class:`Report`; ``python -m benchmarks.run`` runs them all
and prints one table. None is a timed test: they measure and print, and exit 1 when a target is
missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import aiohttp

from music_assistant_alexa.auth.endpoints import resolver_kwargs
from music_assistant_alexa.auth.session import AuthSessionManager

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

ROOT: Final = Path(__file__).resolve().parents[1]
PASSWORD: Final = "benchmark password"  # noqa: S105 - the simulated account's


@dataclass(slots=True)
class Row:
    """One line of the table."""

    metric: str
    measured: str
    target: str = "—"
    passed: bool | None = None

    def cells(self) -> list[str]:
        """
        Return the four cells.

        :return: Metric, measured, target, pass.
        """
        verdict = "—" if self.passed is None else ("yes" if self.passed else "**no**")
        return [self.metric, self.measured, self.target, verdict]


@dataclass(slots=True)
class Report:
    """Rows and method notes, printed at the end."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        """
        Add a row.

        :param row: The row.
        """
        self.rows.append(row)

    def markdown(self) -> str:
        """
        Return the table, then the notes.

        :return: Markdown.
        """
        lines = ["| metric | measured | target | pass |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(row.cells()) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    @property
    def all_passed(self) -> bool:
        """
        Return whether no row missed its target.

        :return: Whether every target was met.
        """
        return all(row.passed is not False for row in self.rows)


class RecordingClock:
    """The real clock, adding up the time the code waited on purpose (the next TOTP window)."""

    def __init__(self) -> None:
        """Start with nothing slept."""
        self.slept = 0.0

    def time(self) -> float:
        """
        Return the current time.

        :return: Epoch seconds.
        """
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """
        Wait, and remember how long.

        :param seconds: How long to wait.
        """
        self.slept += max(0.0, seconds)
        await asyncio.sleep(max(0.0, seconds))


def email_of(index: int) -> str:
    """
    Return the e-mail address of one benchmark account.

    :param index: The account's number.
    :return: The address.
    """
    return f"bench-{index:04d}@example.com"


def ms(seconds: float) -> str:
    """
    Format seconds as milliseconds.

    :param seconds: The duration.
    :return: e.g. ``12.3 ms``.
    """
    return f"{seconds * 1000:.1f} ms"


@contextlib.asynccontextmanager
async def shared_session(endpoint: str | None) -> AsyncIterator[aiohttp.ClientSession]:
    """
    Open one session for every account, with a real cookie jar, as Music Assistant has.

    :param endpoint: The simulator's base URL, or None when nothing is sent.
    :return: The session (as an async context).
    """
    connector = aiohttp.TCPConnector(**resolver_kwargs(endpoint))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def manager_for(
    session: aiohttp.ClientSession,
    folder: Path,
    endpoint: str | None,
    clock: RecordingClock | None = None,
) -> AuthSessionManager:
    """
    Return a manager with pacing off (the simulator needs none).

    :param session: The shared session.
    :param folder: The account's folder.
    :param endpoint: The simulator's base URL.
    :param clock: The clock (default: the real one).
    :return: The manager.
    """
    if clock is None:
        return AuthSessionManager(session=session, store_dir=folder, endpoint=endpoint, pace=0)
    return AuthSessionManager(
        session=session, store_dir=folder, endpoint=endpoint, pace=0, clock=clock
    )


@contextlib.asynccontextmanager
async def simulator_process(email: str, key: str) -> AsyncIterator[str]:
    """
    Run the simulator in a child process and yield its base URL.

    :param email: The account's e-mail address.
    :param key: The account's 2FA key.
    :return: The base URL (as an async context).
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "music_assistant_alexa",
        "simulator",
        "--port",
        "0",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--totp-secret",
        key,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        if not line.startswith("listening on "):
            msg = f"the simulator did not start: {line!r}"
            raise RuntimeError(msg)
        yield line.removeprefix("listening on ")
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()


def environment() -> str:
    """
    Return one line naming the machine and versions.

    :return: The line.
    """
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("aiohttp", "mashumaro", "pyotp", "music-assistant-models")
    )
    return (
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {versions}"
    )


def print_report(report: Report, started: float) -> int:
    """
    Print the table with the environment line and the run's duration.

    :param report: The report.
    :param started: ``time.perf_counter()`` when the run began.
    :return: The exit code: 0 when every target was met, else 1.
    """
    print(f"music-assistant-alexa benchmark — {environment()}")
    print()
    print(report.markdown())
    print()
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0 if report.all_passed else 1


def run_alone(measure: Callable[[Report], None]) -> int:
    """
    Run one metric's script on its own and print its table.

    :param measure: Adds the metric's rows to a report.
    :return: The exit code.
    """
    started = time.perf_counter()
    report = Report()
    measure(report)
    return print_report(report, started)
