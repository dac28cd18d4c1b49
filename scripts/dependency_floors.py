"""
The lowest dependency versions pyproject.toml allows, as pip constraints, and a check of them.

``python -m scripts.dependency_floors`` prints one ``name==floor`` line per runtime dependency
that applies to the running Python (environment markers are evaluated), for
``pip install -c floors.txt -e '.[test]'``: pip then installs every direct dependency at its
floor, or fails if the floors cannot be installed together. ``--check`` exits 1 unless the
installed versions are exactly those floors. .ci/run uses both to run the suite on the floors.

Every dependency must declare a floor (``>=``); one without is an error, so that no dependency
is left untested at its lowest version.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Final

from packaging.requirements import Requirement
from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Sequence

PYPROJECT: Final = Path(__file__).resolve().parent.parent / "pyproject.toml"


def dependency_floors(pyproject: str) -> dict[str, Version]:
    """
    Return the floor of each runtime dependency that applies to this Python.

    :param pyproject: The text of pyproject.toml.
    :raises ValueError: A dependency declares no floor.
    """
    floors: dict[str, Version] = {}
    for raw in tomllib.loads(pyproject)["project"]["dependencies"]:
        requirement = Requirement(raw)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
        if not lows:
            msg = f"{raw!r} declares no floor (>=): its lowest version would go untested"
            raise ValueError(msg)
        floors[requirement.name] = max(lows)
    return floors


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print the floors as constraints, or with ``--check`` compare them with what is installed.

    :param argv: Arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m scripts.dependency_floors")
    parser.add_argument("--check", action="store_true", help="compare with what is installed")
    args = parser.parse_args(argv)
    floors = dependency_floors(PYPROJECT.read_text(encoding="utf-8"))
    if not args.check:
        sys.stdout.writelines(f"{name}=={version}\n" for name, version in floors.items())
        return 0
    wrong = []
    for name, floor in floors.items():
        installed = Version(importlib.metadata.version(name))
        sys.stdout.write(f"{name} {installed} (floor {floor})\n")
        if installed != floor:
            wrong.append(name)
    if wrong:
        sys.stderr.write(f"not at their floor: {', '.join(wrong)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
