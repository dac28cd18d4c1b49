"""
Wall and CPU time of a login and of a refresh, with the simulator in another process.

``python -m benchmarks.login_time [--runs N]``: medians of N logins and N refreshes. The CPU time
is this process alone; waits for the next TOTP window are not counted; one warm-up login is not
counted (first-use caches).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp

from .common import (
    PASSWORD,
    RecordingClock,
    Report,
    Row,
    manager_for,
    ms,
    run_alone,
    shared_session,
    simulator_process,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from music_assistant_alexa.auth.session import AuthSessionManager


@dataclass(slots=True)
class Timing:
    """Wall (minus deliberate waits) and CPU seconds of one step."""

    wall: float
    cpu: float


async def timed(step: Callable[[], Awaitable[None]], clock: RecordingClock) -> Timing:
    """
    Time one step.

    :param step: The step.
    :param clock: The manager's clock, whose deliberate waits are not counted.
    :return: The timing.
    """
    slept = clock.slept
    wall, cpu = time.perf_counter(), time.process_time()
    await step()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall - (clock.slept - slept)
    return Timing(wall, cpu)


async def time_logins(runs: int, root: Path) -> tuple[list[Timing], list[Timing]]:
    """
    Time logins and refreshes against a simulator in a child process.

    :param runs: How many of each.
    :param root: Where the accounts' folders go.
    :return: The login and the refresh timings.
    """
    email, key = "bench-time@example.com", pyotp.random_base32(length=52)
    clock = RecordingClock()
    logins: list[Timing] = []
    refreshes: list[Timing] = []
    async with simulator_process(email, key) as url, shared_session(url) as session:
        managers: list[AuthSessionManager] = []

        def fresh() -> AuthSessionManager:
            managers.append(manager_for(session, root / f"timed-{len(managers)}", url, clock))
            return managers[-1]

        try:
            await fresh().login(email, PASSWORD, key)  # warm-up: first-use caches
            for _ in range(runs):
                manager = fresh()
                logins.append(
                    await timed(functools.partial(manager.login, email, PASSWORD, key), clock)
                )
                refreshes.append(await timed(manager.refresh, clock))
        finally:
            for manager in managers:
                await manager.close()
    return logins, refreshes


def measure(report: Report, runs: int = 20) -> None:
    """
    Add the wall-time and CPU-time rows.

    :param report: The report.
    :param runs: Logins and refreshes timed.
    """
    with tempfile.TemporaryDirectory(prefix="maa-bench-") as tmp:
        logins, refreshes = asyncio.run(time_logins(runs, Path(tmp)))
    for label, samples in (("login", logins), ("refresh", refreshes)):
        report.add(
            Row(
                f"Wall time of a {label} (median of {runs}; simulator in another process)",
                ms(statistics.median(t.wall for t in samples)),
            )
        )
        report.add(
            Row(
                f"CPU time of a {label} in our process (median of {runs})",
                ms(statistics.median(t.cpu for t in samples)),
            )
        )
    report.notes.append(
        "Time: the simulator runs in a child process and adds no delays of its own; waits for "
        "the next TOTP window are subtracted from the wall time; one warm-up login is not "
        "counted. The CPU time is this process alone (both sides of the wire would otherwise "
        "be counted)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run this benchmark alone.

    :param argv: Arguments (default: the command line).
    :return: The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.login_time")
    parser.add_argument("--runs", type=int, default=20, help="logins and refreshes timed")
    args = parser.parse_args(argv)
    return run_alone(lambda report: measure(report, args.runs))


if __name__ == "__main__":
    sys.exit(main())
