"""
Install the provider into Music Assistant's own ``providers`` folder, and remove it again.

Music Assistant has no plugin mechanism: it loads providers only from the ``providers`` folder
of its installed ``music_assistant`` package, one sub-folder per domain, holding a
``manifest.json`` and an ``__init__.py`` (and, for newer MA, a ``setup_flow.py``).
:func:`install_provider` writes those three small files into ``providers/alexa_auth``; the code
itself stays in this package. A marker file lists what was created, and
:func:`uninstall_provider` removes exactly that, never a file it did not write.

This module must import without Music Assistant: the CLI runs it in MA's Python environment,
where ``music_assistant`` is found with :func:`importlib.util.find_spec` (nothing is imported).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Final

from music_assistant_alexa import __version__

from .constants import DOMAIN

#: Lists what install-provider created; uninstall-provider removes only those files.
MARKER_FILE: Final = ".music-assistant-alexa-install.json"
MANIFEST_FILE: Final = "manifest.json"

_INIT_PY: Final = '''"""
Alexa (Amazon sign-in) for Music Assistant.

Written by ``music-assistant-alexa install-provider``; the code lives in the
music-assistant-alexa package. ``music-assistant-alexa uninstall-provider`` removes this folder.
"""

from music_assistant_alexa.ma import SUPPORTED_FEATURES, get_config_entries, setup

__all__ = ["SUPPORTED_FEATURES", "get_config_entries", "setup"]
'''

_SETUP_FLOW_PY: Final = '''"""
Setup flow of Alexa (Amazon sign-in), for Music Assistant versions with setup flows.

Written by ``music-assistant-alexa install-provider``; older Music Assistant ignores it.
"""

from music_assistant_alexa.ma.setup_flow import run_setup

__all__ = ["run_setup"]
'''


class InstallError(Exception):
    """The provider cannot be installed or removed; the message says why and what to do."""


def manifest_text() -> str:
    """Return the provider's ``manifest.json`` as shipped in the package."""
    return (importlib.resources.files("music_assistant_alexa") / MANIFEST_FILE).read_text(
        encoding="utf-8"
    )


def find_music_assistant(ma_path: Path | None = None) -> Path:
    """
    Return the folder of the ``music_assistant`` package (the one holding ``providers``).

    :param ma_path: The package folder, or the folder containing it (site-packages); None to
        find the package installed in this Python environment.
    :raises InstallError: Music Assistant was not found.
    """
    if ma_path is not None:
        for candidate in (ma_path, ma_path / "music_assistant"):
            if (candidate / "providers").is_dir() and (candidate / "__init__.py").is_file():
                return candidate.resolve()
        msg = (
            f"{ma_path} is not Music Assistant's package folder: neither it nor its "
            "music_assistant sub-folder has a providers folder. Pass the folder of the "
            "music_assistant package (for example .../site-packages/music_assistant)."
        )
        raise InstallError(msg)
    spec = importlib.util.find_spec("music_assistant")
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "Music Assistant is not installed in this Python environment. Run this command "
            "with Music Assistant's own Python (for example inside its container), or pass "
            "--ma-path with the folder of the music_assistant package."
        )
        raise InstallError(msg)
    for location in spec.submodule_search_locations:
        package = Path(location)
        if (package / "providers").is_dir():
            return package.resolve()
    msg = (
        f"The music_assistant package found at {', '.join(spec.submodule_search_locations)} "
        "has no providers folder: it is not the Music Assistant server."
    )
    raise InstallError(msg)


def _provider_dir(ma_path: Path | None) -> Path:
    return find_music_assistant(ma_path) / "providers" / DOMAIN


def _write(path: Path, text: str) -> None:
    """Write a file atomically (a half-written __init__.py would break MA's start)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_marker(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"The install record {folder / MARKER_FILE} cannot be read ({err})."
        raise InstallError(msg) from err
    if not isinstance(data, dict):
        msg = f"The install record {folder / MARKER_FILE} is not ours."
        raise InstallError(msg)
    return data


def install_provider(ma_path: Path | None = None) -> Path:
    """
    Create ``music_assistant/providers/alexa_auth`` with what Music Assistant loads.

    Running it again updates the files it created earlier. Restart Music Assistant afterwards:
    it reads provider manifests only at start-up.

    :param ma_path: The music_assistant package folder; None to find it in this environment.
    :returns: The provider folder.
    :raises InstallError: MA was not found, or the folder exists and was not created here.
    """
    target = _provider_dir(ma_path)
    if target.is_symlink():
        msg = f"{target} is a symbolic link (a manual install or a bind mount?); leaving it alone."
        raise InstallError(msg)
    if target.exists():
        if not (target / MARKER_FILE).exists():
            msg = (
                f"{target} already exists and was not created by install-provider; "
                "remove it first if it is an old copy."
            )
            raise InstallError(msg)
        created_dir = bool(_read_marker(target).get("created_dir", False))
    else:
        target.mkdir()
        created_dir = True
    files = {
        MANIFEST_FILE: manifest_text(),
        "__init__.py": _INIT_PY,
        "setup_flow.py": _SETUP_FLOW_PY,
    }
    for name, text in files.items():
        _write(target / name, text)
    record = {"version": __version__, "created_dir": created_dir, "files": sorted(files)}
    _write(target / MARKER_FILE, json.dumps(record, indent=2) + "\n")
    return target


def _plain_name(name: object) -> bool:
    """Return whether a recorded name is a plain file name (nothing else is ever removed)."""
    return isinstance(name, str) and Path(name).name == name and not name.startswith(".")


def _remove_files(folder: Path, names: list[str]) -> list[Path]:
    removed: list[Path] = []
    for name in names:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def _remove_bytecode(cache: Path, stems: set[str]) -> list[Path]:
    """Remove the bytecode Python cached for our modules (it goes with them)."""
    removed: list[Path] = []
    if not cache.is_dir():
        return removed
    for compiled in cache.iterdir():
        if compiled.name.split(".", 1)[0] in stems and compiled.suffix == ".pyc":
            compiled.unlink()
            removed.append(compiled)
    if not any(cache.iterdir()):
        cache.rmdir()
        removed.append(cache)
    return removed


def uninstall_provider(ma_path: Path | None = None) -> list[Path]:
    """
    Remove what :func:`install_provider` created, and nothing else.

    Files someone else added to the folder are left (and with them the folder).

    :param ma_path: The music_assistant package folder; None to find it in this environment.
    :returns: The removed paths (empty when nothing was installed).
    :raises InstallError: MA was not found, or the folder was not created by install-provider.
    """
    target = _provider_dir(ma_path)
    if not target.exists():
        return []
    if target.is_symlink() or not (target / MARKER_FILE).exists():
        msg = f"{target} was not created by install-provider; leaving it alone."
        raise InstallError(msg)
    record = _read_marker(target)
    names = record.get("files")
    listed = [n for n in names if _plain_name(n)] if isinstance(names, list) else []
    removed = _remove_files(target, listed)
    removed.extend(_remove_bytecode(target / "__pycache__", {Path(n).stem for n in listed}))
    (target / MARKER_FILE).unlink()
    removed.append(target / MARKER_FILE)
    if record.get("created_dir") and not any(target.iterdir()):
        target.rmdir()
        removed.append(target)
    return removed
