"""
Run every benchmark and print one table: ``python -m benchmarks.run``.

Each metric is a script of its own (``python -m benchmarks.<name>``): request_counts,
login_time, loop_stall, memory, imports, hostile_pages. This runs them in that order and prints
``metric | measured | target | pass`` with a note on the method of every row; it exits 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from . import hostile_pages, imports, login_time, loop_stall, memory, request_counts
from .common import Report, print_report

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run every benchmark, print the table.

    :param argv: Arguments (default: the command line).
    :return: 0 when every target is met, else 1.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="repetitions of timed steps")
    parser.add_argument("--import-runs", type=int, default=31, help="interpreters of each kind")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts loaded at once")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = Report()
    request_counts.measure(report, args.runs)
    login_time.measure(report, args.runs)
    loop_stall.measure(report, args.runs)
    memory.measure(report, args.accounts)
    imports.measure(report, args.import_runs)
    hostile_pages.measure(report)
    return print_report(report, started)


if __name__ == "__main__":
    sys.exit(main())
