"""
How long the page classifier takes on hostile pages, at the bounds it enforces.

``python -m benchmarks.hostile_pages [--runs N]``: pages of nearly 2 million characters built
to be costly for an HTML parser (endless "<", cut-off attributes, tags, attributes, entities,
nesting); the CPU time of classifying each (median of N), which ends in a page kind or in the
reader's temporary "page too large" error. Python's html.parser took 35 s for 20 MB of "<".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import TYPE_CHECKING, Final

from music_assistant_alexa.auth.errors import PageTooLargeError
from music_assistant_alexa.auth.html_scan import MAX_PAGE_CHARS
from music_assistant_alexa.auth.pages import classify_page

from .common import Report, Row, ms, run_alone

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The longest a page at the bounds may take: it runs in a worker thread, but holds the GIL.
MAX_SECONDS: Final = 0.5
_N: Final = MAX_PAGE_CHARS - 1_000

PAGES: Final = {
    '"<" repeated': "<" * _N,
    '"<a" repeated (tags cut off)': "<a" * (_N // 2),
    "unterminated attribute values": "<a b='" * (_N // 6),
    "empty tags": "<a>" * (_N // 3),
    "one tag, endless attributes": "<a " + "b " * (_N // 2 - 2) + ">",
    "inputs in a form": "<form>" + "<input name=a>" * (_N // 14),
    "plain text": "x" * _N,
    "character references": "&lt;" * (_N // 4),
    "empty comments": "<!---->" * (_N // 7),
    "unclosed error-box items": "<div id=auth-error-message-box><ul>"
    + "<li>Your account is on hold" * (_N // 27),
}


def classify_seconds(html: str) -> tuple[float, str]:
    """
    Classify one page and time it.

    :param html: The page.
    :return: CPU seconds, and the kind (or the error's code).
    """
    started = time.process_time()
    try:
        outcome = classify_page(html).kind.value
    except PageTooLargeError as err:
        outcome = err.code
    return time.process_time() - started, outcome


def measure(report: Report, runs: int = 3) -> None:
    """
    Add one row per hostile page.

    :param report: The report.
    :param runs: Classifications of each page.
    """
    for name, html in PAGES.items():
        results = [classify_seconds(html) for _ in range(runs)]
        seconds = statistics.median(t for t, _ in results)
        report.add(
            Row(
                f"Classify a hostile page: {name}, {len(html) / 1e6:.1f} M chars "
                f"(→ {results[0][1]})",
                ms(seconds),
                f"≤ {MAX_SECONDS * 1000:g} ms",
                seconds <= MAX_SECONDS,
            )
        )
    report.notes.append(
        f"Hostile pages: CPU time of classify_page, median of {runs}, pages just under the "
        f"{MAX_PAGE_CHARS / 1e6:g} million character bound; 'page_too_large' means the reader "
        "stopped at its tag-and-attribute bound. Memory on such pages is asserted by "
        "tests/test_pages.py (tracemalloc: within 4x the page plus 200 bytes per tag)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run this benchmark alone.

    :param argv: Arguments (default: the command line).
    :return: The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile_pages")
    parser.add_argument("--runs", type=int, default=3, help="classifications of each page")
    args = parser.parse_args(argv)
    return run_alone(lambda report: measure(report, args.runs))


if __name__ == "__main__":
    sys.exit(main())
