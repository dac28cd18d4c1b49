"""
Every runtime dependency declares a floor, and the floors CI installs are read correctly.

.ci/run installs the output of ``scripts.dependency_floors`` as pip constraints and runs the
suite on it; a dependency without a floor would silently escape that run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import pytest
from packaging.version import Version

from scripts.dependency_floors import PYPROJECT, dependency_floors

ROOT: Final = Path(__file__).resolve().parent.parent


def test_every_dependency_has_a_floor() -> None:
    """The project's own pyproject.toml gives a floor for each dependency of this Python."""
    assert PYPROJECT == ROOT / "pyproject.toml"
    floors = dependency_floors(PYPROJECT.read_text(encoding="utf-8"))
    assert set(floors) == {
        "aiohttp",
        "mashumaro",
        "multidict",
        "music-assistant-models",
        "pyotp",
        "yarl",
    }
    assert floors["music-assistant-models"] == Version("1.1.102")


def test_markers_pick_the_line_for_this_python() -> None:
    """Of two lines for one package, only the one whose marker matches this Python counts."""
    this, other = ("<", ">=") if sys.version_info < (3, 12) else (">=", "<")
    floors = dependency_floors(
        "[project]\ndependencies = [\n"
        f"  \"pkg>=1.0; python_version {this} '3.12'\",\n"
        f"  \"pkg>=2.0; python_version {other} '3.12'\",\n"
        '  "other>=0.5,<1",\n]\n'
    )
    assert floors == {"pkg": Version("1.0"), "other": Version("0.5")}


def test_a_dependency_without_a_floor_is_refused() -> None:
    """An unbounded or upper-bounded-only dependency would go untested at its lowest."""
    with pytest.raises(ValueError, match="declares no floor"):
        dependency_floors('[project]\ndependencies = ["pkg<2"]\n')
