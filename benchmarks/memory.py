"""
Peak memory per idle signed-in account, as Music Assistant holds them after a start-up.

``python -m benchmarks.memory [--accounts N]``: N accounts signed in for real on an in-process
simulator (50 at a time), then loaded from their folders (restore without a request) into N
managers sharing one aiohttp session; tracemalloc peak minus baseline, divided by N.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyotp

from music_assistant_alexa.simulator import AmazonSimulator

from .common import PASSWORD, Report, Row, email_of, manager_for, run_alone, shared_session

if TYPE_CHECKING:
    from collections.abc import Sequence

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager

#: Target from the issue.
MAX_KIB_PER_ACCOUNT: Final = 64.0
#: Logins signed in at once while preparing.
SIGN_IN_CONCURRENCY: Final = 50


async def sign_in_accounts(count: int, root: Path) -> tuple[list[Path], float, int]:
    """
    Sign in many accounts at once on an in-process simulator.

    :param count: Accounts to sign in.
    :param root: Where their folders go.
    :return: The folders, the average requests per login, and the violations seen.
    """
    keys = [pyotp.random_base32(length=52) for _ in range(count)]
    folders = [root / f"account-{i:04d}" for i in range(count)]
    async with AmazonSimulator() as simulator, shared_session(simulator.base_url) as session:
        for index, key in enumerate(keys):
            simulator.add_account(email_of(index), PASSWORD, key)
        gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

        async def sign_in(index: int) -> None:
            async with gate:
                manager = manager_for(session, folders[index], simulator.base_url)
                try:
                    await manager.login(email_of(index), PASSWORD, keys[index])
                finally:
                    await manager.close()

        await asyncio.gather(*(sign_in(i) for i in range(count)))
        average = simulator.request_count() / count
        return folders, average, len(simulator.violations)


async def load_accounts(
    folders: Sequence[Path], session: aiohttp.ClientSession
) -> list[AuthSessionManager]:
    """
    Load every account from its folder, as Music Assistant does at start-up (no request).

    :param folders: The accounts' folders.
    :param session: The shared session.
    :return: The managers.
    """
    managers = []
    for folder in folders:
        manager = manager_for(session, folder, None)
        await manager.restore(validate=False)
        managers.append(manager)
    if not all(m.signed_in for m in managers):
        msg = "an account did not load as signed in"
        raise RuntimeError(msg)
    return managers


async def measure_loaded(folders: Sequence[Path]) -> tuple[float, float]:
    """
    Load the accounts side by side under tracemalloc.

    :param folders: The signed-in accounts' folders.
    :return: KiB per account at the peak, and still held once loaded.
    """
    count = len(folders)
    async with shared_session(None) as session:
        tracemalloc.start()
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        managers = await load_accounts(folders, session)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        for manager in managers:
            await manager.close()
        managers.clear()
        gc.collect()
    return (peak - baseline) / count / 1024, (current - baseline) / count / 1024


async def sign_in_and_load(count: int, root: Path) -> tuple[float, float, float, int]:
    """
    Prepare the accounts, then measure them loaded.

    :param count: Accounts.
    :param root: Where their folders go.
    :return: Peak and idle KiB per account, requests per login, violations.
    """
    folders, average, violations = await sign_in_accounts(count, root)
    per_peak, per_idle = await measure_loaded(folders)
    return per_peak, per_idle, average, violations


def measure(report: Report, accounts: int = 1000) -> None:
    """
    Add the memory row.

    :param report: The report.
    :param accounts: Accounts loaded at once.
    """
    with tempfile.TemporaryDirectory(prefix="maa-bench-") as tmp:
        per_peak, per_idle, average, violations = asyncio.run(sign_in_and_load(accounts, Path(tmp)))
    report.add(
        Row(
            f"Peak memory per idle signed-in account ({accounts:,} loaded, tracemalloc)",
            f"{per_peak:.1f} KiB",
            f"≤ {MAX_KIB_PER_ACCOUNT:g} KiB",
            per_peak <= MAX_KIB_PER_ACCOUNT,
        )
    )
    report.notes.append(
        f"Memory: {accounts:,} accounts signed in for real on the simulator "
        f"({SIGN_IN_CONCURRENCY} at a time, {average:.2f} requests per login, {violations} "
        "protocol violations), then loaded from their folders (restore without a request, as "
        "at start-up) into managers sharing one aiohttp session with a real cookie jar. "
        f"Method: tracemalloc, (peak - baseline) / accounts; still held once loaded: "
        f"{per_idle:.1f} KiB per account."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run this benchmark alone.

    :param argv: Arguments (default: the command line).
    :return: The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts loaded at once")
    args = parser.parse_args(argv)
    return run_alone(lambda report: measure(report, args.accounts))


if __name__ == "__main__":
    sys.exit(main())
