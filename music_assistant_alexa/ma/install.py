"""
Write the provider folder into Music Assistant's own ``providers`` folder, and remove it again.

Music Assistant has no plugin mechanism: it loads providers only from the ``providers`` folder
of its installed ``music_assistant`` package, one sub-folder per domain, imported as
``music_assistant.providers.<domain>``. That folder is also what Docker users bind-mount, so it
must work on its own, in a Music Assistant whose Python does not have this package installed.

:func:`install_provider` therefore writes ``providers/alexa_auth`` with:

- ``manifest.json``, the package's manifest;
- ``strings.json``, the provider's texts in Music Assistant's translation layout (step titles,
  field labels, abort reasons): Music Assistant compiles these only for providers built into
  it, so today they wait for the day this provider is; the running code does not need them;
- ``_vendor/music_assistant_alexa/``, a copy of this package (without the Amazon simulator, which
  Music Assistant never runs);
- ``__init__.py``, a small loader that makes ``import music_assistant_alexa`` find that copy,
  and only that name, then hands Music Assistant the entry points;
- ``setup_flow.py``, the setup flow of Music Assistant 2.10 and newer (2.9.x ignores it).

The package keeps its absolute imports: the loader maps the one top-level name to the copy, so
no module has to be rewritten for the folder. Music Assistant installs the manifest's
``requirements`` (PyPI packages it lacks, pinned exactly) itself.

A record in the folder lists every file and folder written. Running :func:`install_provider`
again upgrades: it writes the new files, removes the ones it wrote before that the new version
no longer has, and never touches a file it did not write. :func:`uninstall_provider` removes
exactly what the record lists.

This module must import without Music Assistant: the CLI runs it in any Python environment,
where ``music_assistant`` is found with :func:`importlib.util.find_spec` (nothing is imported).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Final

from music_assistant_alexa import __version__

from .constants import DOMAIN

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: Lists what install-provider wrote; uninstall-provider removes only those files.
MARKER_FILE: Final = ".music-assistant-alexa-install.json"
MANIFEST_FILE: Final = "manifest.json"
#: The provider's texts for Music Assistant's translation catalog (``ma/strings.json``).
STRINGS_FILE: Final = "strings.json"
#: The folder (inside the provider folder) holding the copy of the package.
VENDOR_DIR: Final = "_vendor"
PACKAGE: Final = "music_assistant_alexa"
#: Parts of the package left out of the provider folder: the Amazon simulator is a test double
#: for the tests and the demo, never used inside Music Assistant.
LEFT_OUT: Final = frozenset({"simulator", "__pycache__"})

_INIT_PY: Final = '''"""
Alexa (Amazon sign-in) for Music Assistant.

Written by ``music-assistant-alexa install-provider`` (version {version}); do not edit: run it
again to upgrade, and ``music-assistant-alexa uninstall-provider`` to remove this folder.

The provider's code is the music-assistant-alexa package, carried in ``_vendor/`` so that this
folder works on its own (Music Assistant loads providers only from here, and the package need
not be installed). The finder below makes ``import music_assistant_alexa`` load that copy: it
answers for that one name only, and only from this folder; the package's sub-modules follow
from its ``__path__``. It goes first in ``sys.meta_path`` so that this folder's code is used
even if some other version of the package is installed in Music Assistant's Python.
"""

from __future__ import annotations

import logging
import sys
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path

_VENDOR = str(Path(__file__).resolve().parent / "{vendor}")
_PACKAGE = "{package}"


class _VendoredPackageFinder:
    """Find ``{package}`` in this provider folder's ``{vendor}`` folder."""

    vendor = _VENDOR

    @classmethod
    def find_spec(
        cls, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        """Return the spec of the vendored package; None for every other name."""
        del path, target
        if fullname != _PACKAGE:
            return None
        return PathFinder.find_spec(fullname, [cls.vendor])


if not any(getattr(f, "vendor", None) == _VENDOR for f in sys.meta_path):
    sys.meta_path.insert(0, _VendoredPackageFinder)
_loaded = sys.modules.get(_PACKAGE)
if _loaded is not None and not str(getattr(_loaded, "__file__", "")).startswith(_VENDOR):
    logging.getLogger(__name__).warning(
        "%s was imported from %s before this provider folder; that copy is used.",
        _PACKAGE,
        getattr(_loaded, "__file__", "?"),
    )

from {package}.ma import SUPPORTED_FEATURES, get_config_entries, setup  # noqa: E402

__all__ = ["SUPPORTED_FEATURES", "get_config_entries", "setup"]
'''

_SETUP_FLOW_PY: Final = '''"""
Setup flow of Alexa (Amazon sign-in), for Music Assistant 2.10 and newer.

Written by ``music-assistant-alexa install-provider``; Music Assistant 2.9.x ignores it. The
package's ``__init__.py`` (imported first) makes the vendored package importable.
"""

from {package}.ma.setup_flow import run_setup

__all__ = ["run_setup"]
'''


class InstallError(Exception):
    """The provider cannot be installed or removed; the message says why and what to do."""


def manifest_text() -> str:
    """Return the provider's ``manifest.json`` as shipped in the package."""
    return (importlib.resources.files(PACKAGE) / MANIFEST_FILE).read_text(encoding="utf-8")


def strings_text() -> str:
    """Return the provider's ``strings.json`` as shipped in the package."""
    return (importlib.resources.files(PACKAGE) / "ma" / STRINGS_FILE).read_text(encoding="utf-8")


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


def _package_files(folder: Traversable, prefix: PurePosixPath) -> dict[str, bytes]:
    """Return the package's files under ``prefix``, by relative path (bytecode left out)."""
    files: dict[str, bytes] = {}
    for entry in folder.iterdir():
        if entry.name in LEFT_OUT or entry.name.startswith("."):
            continue
        if entry.is_dir():
            files.update(_package_files(entry, prefix / entry.name))
        elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
            files[str(prefix / entry.name)] = entry.read_bytes()
    return files


def provider_files() -> dict[str, bytes]:
    """Return every file of the provider folder, by path relative to it (POSIX separators)."""
    text = {
        MANIFEST_FILE: manifest_text(),
        STRINGS_FILE: strings_text(),
        "__init__.py": _INIT_PY.format(version=__version__, vendor=VENDOR_DIR, package=PACKAGE),
        "setup_flow.py": _SETUP_FLOW_PY.format(package=PACKAGE),
    }
    files = {name: content.encode("utf-8") for name, content in text.items()}
    vendored = PurePosixPath(VENDOR_DIR) / PACKAGE
    files.update(_package_files(importlib.resources.files(PACKAGE), vendored))
    return files


def _write(path: Path, data: bytes) -> None:
    """Write a file atomically (a half-written module would break Music Assistant's start)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Record:
    """What install-provider wrote into the folder: files and folders, relative paths."""

    def __init__(self, files: set[str], dirs: set[str], *, created_dir: bool) -> None:
        self.files = files
        self.dirs = dirs
        self.created_dir = created_dir

    @classmethod
    def read(cls, folder: Path) -> _Record:
        try:
            data = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            msg = f"The install record {folder / MARKER_FILE} cannot be read ({err})."
            raise InstallError(msg) from err
        if not isinstance(data, dict):
            msg = f"The install record {folder / MARKER_FILE} is not ours."
            raise InstallError(msg)
        return cls(
            {p for p in data.get("files", []) if _safe_relative(p)},
            {p for p in data.get("dirs", []) if _safe_relative(p)},
            created_dir=bool(data.get("created_dir", False)),
        )

    def write(self, folder: Path) -> None:
        record = {
            "version": __version__,
            "created_dir": self.created_dir,
            "files": sorted(self.files),
            "dirs": sorted(self.dirs),
        }
        _write(folder / MARKER_FILE, (json.dumps(record, indent=2) + "\n").encode())


def _safe_relative(name: object) -> bool:
    """Return whether a recorded path stays inside the folder (nothing else is ever removed)."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name:
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts and not parts[0].startswith(".")


def _parents(name: str) -> list[str]:
    """Return the folders a relative file path needs, outermost first."""
    return [str(p) for p in reversed(PurePosixPath(name).parents) if str(p) != "."]


def install_provider(ma_path: Path | None = None) -> Path:
    """
    Write ``music_assistant/providers/alexa_auth``: the manifest, the loader, the package copy.

    Running it again upgrades the folder: files of the previous version that the new one no
    longer has are removed, files it did not write are never touched. Restart Music Assistant
    afterwards: it reads provider manifests (and imports provider code) only at start-up.

    :param ma_path: The music_assistant package folder; None to find it in this environment.
    :returns: The provider folder.
    :raises InstallError: MA was not found, or the folder (or a file the new version would
        write) exists and was not written by install-provider.
    """
    target = _provider_dir(ma_path)
    if target.is_symlink():
        msg = f"{target} is a symbolic link (a manual install?); leaving it alone."
        raise InstallError(msg)
    if target.exists() and not (target / MARKER_FILE).exists():
        msg = (
            f"{target} already exists and was not created by install-provider; "
            "remove it first if it is an old copy."
        )
        raise InstallError(msg)
    old = _Record.read(target) if target.exists() else _Record(set(), set(), created_dir=True)
    files = provider_files()
    needed_dirs = {d for name in files for d in _parents(name)}
    _refuse_foreign(target, files, needed_dirs, old)

    # Record the union first: a crash half-way leaves a record that still covers every file.
    new_dirs = {d for d in needed_dirs if not (target / d).is_dir()}
    old_dirs = {d for d in old.dirs if (target / d).is_dir()}
    union = _Record(old.files | set(files), old_dirs | new_dirs, created_dir=old.created_dir)
    target.mkdir(exist_ok=True)
    union.write(target)
    for folder in sorted(new_dirs, key=lambda d: d.count("/")):
        (target / folder).mkdir(exist_ok=True)
    for name, data in files.items():
        _write(target / name, data)
    _remove_files(target, old.files - set(files))
    ours = union.dirs
    _prune_dirs(target, ours - needed_dirs, ours)
    _Record(set(files), ours & needed_dirs, created_dir=old.created_dir).write(target)
    return target


def _refuse_foreign(target: Path, files: dict[str, bytes], dirs: set[str], old: _Record) -> None:
    """Refuse before writing anything if a path the new version needs holds something else."""
    for folder in dirs:
        path = target / folder
        if path.exists() and (path.is_symlink() or not path.is_dir()):
            msg = f"{path} is in the way and was not written by install-provider; leaving it."
            raise InstallError(msg)
    for name in files:
        path = target / name
        ours = name in old.files and path.is_file() and not path.is_symlink()
        if (path.exists() or path.is_symlink()) and not ours:
            msg = f"{path} exists and was not written by install-provider; leaving it."
            raise InstallError(msg)


def _remove_files(target: Path, names: set[str]) -> list[Path]:
    """Remove recorded files (and the bytecode Python cached for them); return what went."""
    removed: list[Path] = []
    for name in sorted(names):
        path = target / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
        if path.suffix == ".py":
            removed.extend(_remove_bytecode(path.parent / "__pycache__", path.stem))
    return removed


def _remove_bytecode(cache: Path, stem: str) -> list[Path]:
    """Remove the bytecode of one module (it goes with the module), and the cache if empty."""
    removed: list[Path] = []
    if not cache.is_dir() or cache.is_symlink():
        return removed
    for compiled in cache.iterdir():
        if compiled.name.split(".", 1)[0] == stem and compiled.suffix == ".pyc":
            compiled.unlink()
            removed.append(compiled)
    if not any(cache.iterdir()):
        cache.rmdir()
        removed.append(cache)
    return removed


def _prune_dirs(target: Path, candidates: set[str], ours: set[str]) -> list[Path]:
    """Remove recorded folders that are now empty, deepest first; keep anything not empty."""
    removed: list[Path] = []
    for folder in sorted(candidates, key=lambda d: -d.count("/")):
        path = target / folder
        if folder in ours and path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
            removed.append(path)
    return removed


def uninstall_provider(ma_path: Path | None = None) -> list[Path]:
    """
    Remove what :func:`install_provider` wrote, and nothing else.

    Files someone else added to the folder are left (and with them the folders holding them).

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
    record = _Record.read(target)
    removed = _remove_files(target, record.files)
    removed.extend(_prune_dirs(target, record.dirs, record.dirs))
    (target / MARKER_FILE).unlink()
    removed.append(target / MARKER_FILE)
    if record.created_dir and not any(target.iterdir()):
        target.rmdir()
        removed.append(target)
    return removed
