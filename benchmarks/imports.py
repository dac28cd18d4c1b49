"""
What importing the package adds to importing its dependencies, measured side by side.

``python -m benchmarks.imports [--runs N]``: the dependency floor
``import aiohttp, pyotp, mashumaro, music_assistant_models`` and the floor plus the package
(the auth core, the refresh task, diagnostics and the provider module Music Assistant imports at
start-up), each in N fresh interpreters, interleaved run by run, medians compared. Run it with
the Python Music Assistant uses (3.13): current ``music_assistant_models`` do not import on 3.11.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .common import ROOT, Report, Row, ms, run_alone

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Target from the issue: the package adds at most 5% to its dependencies' import.
MAX_IMPORT_RATIO: Final = 1.05
#: The dependency floor, exactly as the issue words it.
FLOOR_MODULES: Final = ("aiohttp", "pyotp", "mashumaro", "music_assistant_models")
#: What importing the package costs: the auth core, the refresh task, diagnostics, and the
#: provider module Music Assistant imports at start-up (``ma``, whose form and provider modules
#: load on first use, inside a running MA; those need the MA server and are skipped, named,
#: outside it).
PACKAGE_MODULES: Final = (
    "music_assistant_alexa",
    "music_assistant_alexa.auth",
    "music_assistant_alexa.auth.refresh",
    "music_assistant_alexa.diagnostics",
    "music_assistant_alexa.ma",
)


def python(*args: str) -> subprocess.CompletedProcess[str]:
    """
    Run our interpreter from the repository root, with byte-code caches as an install has them.

    pip compiles an installed package's byte code; an editable checkout only has it once an
    interpreter wrote it. PYTHONDONTWRITEBYTECODE (set on some machines) would leave our modules
    compiling from source on every run while the dependencies load theirs.

    :param args: Its arguments.
    :return: The finished process.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False, env=env
    )


def importable(modules: Sequence[str]) -> tuple[list[str], list[str]]:
    """
    Split modules into those that import here and those that do not (with the reason).

    :param modules: Module names.
    :return: The importable ones, and the others with their error.
    """
    good: list[str] = []
    skipped: list[str] = []
    for module in modules:
        result = python("-c", f"import {module}")
        if result.returncode == 0:
            good.append(module)
        else:
            reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
            skipped.append(f"{module} ({reason})")
    return good, skipped


def import_seconds(modules: Sequence[str]) -> float:
    """
    Return how long importing modules takes in a fresh interpreter (start-up not included).

    :param modules: Module names.
    :return: Seconds.
    """
    code = (
        "import time\nstarted = time.perf_counter()\n"
        f"import {', '.join(modules)}\nprint(time.perf_counter() - started)"
    )
    result = python("-c", code)
    if result.returncode != 0:
        msg = f"import failed: {result.stderr.strip()}"
        raise RuntimeError(msg)
    return float(result.stdout)


@dataclass(slots=True)
class ImportProfile:
    """What one ``-X importtime`` run showed about the modules loaded on top of the floor."""

    #: (own microseconds, module) of every module loaded after the floor, largest first.
    loaded: list[tuple[int, str]]
    #: Submodules of the floor's own packages that our modules pull in.
    pulled: list[str]

    def heaviest(self, top: int = 5) -> str:
        """
        Return the modules with the largest own import time.

        :param top: How many to name.
        :return: e.g. ``music_assistant_alexa.auth.session 7 ms, ...``.
        """
        return ", ".join(f"{name} {micros / 1000:.0f} ms" for micros, name in self.loaded[:top])


def import_profile(floor: Sequence[str], ours: Sequence[str]) -> ImportProfile:
    """
    Profile importing our modules after the floor, once, with ``-X importtime``.

    :param floor: The dependency floor.
    :param ours: Our modules.
    :return: The profile.
    """
    result = python(
        "-X", "importtime", "-c", f"import {', '.join(floor)}\nimport {', '.join(ours)}"
    )
    rows = [line.split("|") for line in result.stderr.splitlines() if line.count("|") == 2]
    last_floor = max(
        (i for i, row in enumerate(rows) if row[2].rstrip() == f" {floor[-1]}"), default=-1
    )
    loaded = sorted(
        ((int(row[0].split(":")[1]), row[2].strip()) for row in rows[last_floor + 1 :]),
        reverse=True,
    )
    pulled = sorted(name for _, name in loaded if any(name.startswith(f"{dep}.") for dep in floor))
    return ImportProfile(loaded, pulled)


def median_import_times(variants: Sequence[Sequence[str]], runs: int) -> list[float]:
    """
    Return the median import time of each variant, measured interleaved.

    Each round runs every variant once, in an order rotated round by round, so that a slow
    moment of the machine hits all of them alike.

    :param variants: Module lists.
    :param runs: Rounds.
    :return: One median per variant.
    """
    times: list[list[float]] = [[] for _ in variants]
    for _ in range(2):  # warm-up: byte-code caches
        for modules in variants:
            import_seconds(modules)
    for run in range(runs):
        for offset in range(len(variants)):
            index = (run + offset) % len(variants)
            times[index].append(import_seconds(variants[index]))
    return [statistics.median(samples) for samples in times]


def measure(report: Report, runs: int = 31) -> None:
    """
    Add the import rows: package on top of its dependencies against the dependencies alone.

    :param report: The report.
    :param runs: Interpreters of each variant, interleaved.
    """
    floor_ok, floor_broken = importable(FLOOR_MODULES)
    if floor_broken:
        report.add(
            Row(
                "Import time ratio, package ÷ floor",
                "not measurable with this interpreter",
                f"≤ {MAX_IMPORT_RATIO:g}x",
            )
        )
        report.notes.append(
            "Import: the dependency floor itself does not import here: "
            + "; ".join(floor_broken)
            + ". Run the benchmark with the Python Music Assistant uses (3.13)."
        )
        return
    ours, skipped = importable(PACKAGE_MODULES)
    profile = import_profile(floor_ok, ours)
    full, floor = median_import_times([[*floor_ok, *ours], floor_ok], runs)
    ratio = full / floor
    report.add(Row(f"Import: package + dependencies (median of {runs})", ms(full)))
    report.add(Row(f"Import: dependency floor (median of {runs}, same run)", ms(floor)))
    report.add(
        Row(
            "Import time ratio, package ÷ floor",
            f"{ratio:.3f}x",
            f"≤ {MAX_IMPORT_RATIO:g}x",
            ratio <= MAX_IMPORT_RATIO,
        )
    )
    report.notes.append(
        f"Import: floor = `import {', '.join(FLOOR_MODULES)}`; package = the floor plus "
        f"{', '.join(ours)}. Fresh interpreter per run, the two interleaved (order rotated each "
        "round), timed around the import statement (interpreter start-up excluded), medians "
        f"compared: our modules added {ms(full - floor)}. Largest own import times on top of "
        f"the floor (one `-X importtime` run): {profile.heaviest()}."
        + (
            f" Dependency submodules our modules pull in beyond the floor: "
            f"{', '.join(profile.pulled)}."
            if profile.pulled
            else ""
        )
    )
    if skipped:
        report.notes.append(
            "Import: not importable outside Music Assistant, so not measured: "
            + "; ".join(skipped)
            + "."
        )


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run this benchmark alone.

    :param argv: Arguments (default: the command line).
    :return: The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imports")
    parser.add_argument("--runs", type=int, default=31, help="interpreters of each kind")
    args = parser.parse_args(argv)
    return run_alone(lambda report: measure(report, args.runs))


if __name__ == "__main__":
    sys.exit(main())
