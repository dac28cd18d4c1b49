"""
HTTP requests per login and per refresh, counted by the in-process simulator.

``python -m benchmarks.request_counts [--runs N]``: N full sign-ins (combined form with MFA),
each followed by a refresh, one at a time so the simulator's counter reads per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyotp

from music_assistant_alexa.simulator import AmazonSimulator

from .common import PASSWORD, Report, Row, email_of, manager_for, run_alone, shared_session

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Targets from the issue.
MAX_LOGIN_REQUESTS: Final = 6
MAX_REFRESH_REQUESTS: Final = 3


async def count_requests(runs: int, root: Path) -> tuple[list[int], list[int], int]:
    """
    Sign in and refresh one account after another, counting requests.

    :param runs: How many accounts.
    :param root: Where their folders go.
    :return: Requests per login, per refresh, and the protocol violations the simulator saw.
    """
    logins: list[int] = []
    refreshes: list[int] = []
    async with AmazonSimulator() as simulator, shared_session(simulator.base_url) as session:
        for index in range(runs):
            key = pyotp.random_base32(length=52)
            simulator.add_account(email_of(index), PASSWORD, key)
            manager = manager_for(session, root / f"account-{index:04d}", simulator.base_url)
            try:
                simulator.reset_counts()
                await manager.login(email_of(index), PASSWORD, key)
                logins.append(simulator.request_count())
                simulator.reset_counts()
                await manager.refresh()
                refreshes.append(simulator.request_count())
            finally:
                await manager.close()
        return logins, refreshes, len(simulator.violations)


def measure(report: Report, runs: int = 20) -> None:
    """
    Add the request-count rows.

    :param report: The report.
    :param runs: Logins and refreshes counted.
    """
    with tempfile.TemporaryDirectory(prefix="maa-bench-") as tmp:
        logins, refreshes, violations = asyncio.run(count_requests(runs, Path(tmp)))
    worst_login, worst_refresh = max(logins), max(refreshes)
    report.add(
        Row(
            "HTTP requests per full login (combined form + MFA)",
            str(worst_login),
            f"≤ {MAX_LOGIN_REQUESTS}",
            worst_login <= MAX_LOGIN_REQUESTS,
        )
    )
    report.add(
        Row(
            "HTTP requests per refresh (token, cookies, csrf)",
            str(worst_refresh),
            f"≤ {MAX_REFRESH_REQUESTS}",
            worst_refresh <= MAX_REFRESH_REQUESTS,
        )
    )
    report.notes.append(
        f"Requests: the most any of {runs} logins and refreshes needed, counted one by one by "
        f"the simulator in this process; protocol violations it saw: {violations}."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run this benchmark alone.

    :param argv: Arguments (default: the command line).
    :return: The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.request_counts")
    parser.add_argument("--runs", type=int, default=20, help="logins and refreshes counted")
    args = parser.parse_args(argv)
    return run_alone(lambda report: measure(report, args.runs))


if __name__ == "__main__":
    sys.exit(main())
