"""
The manifest is the single source of truth, and install-provider only touches what it created.

The top-level ``manifest.json`` parses with MA's own ``ProviderManifest``, names a domain that
cannot collide with MA's Alexa player provider, pins this package, and links no missing page;
the package ships the same file. ``install-provider`` creates a provider
folder MA can load (manifest, an ``__init__.py`` handing MA our entry points, a
``setup_flow.py``), and ``uninstall-provider`` removes exactly what it created.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import TYPE_CHECKING

import pytest
from music_assistant_models.enums import ProviderStage, ProviderType
from music_assistant_models.provider import ProviderManifest

import music_assistant_alexa
import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.ma import install
from music_assistant_alexa.ma.install import (
    MARKER_FILE,
    InstallError,
    install_provider,
    uninstall_provider,
)

from .support import HAS_SETUP_FLOWS, MANIFEST_PATH, REPO

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType


def _fake_ma(root: Path) -> Path:
    """Create ``<root>/music_assistant`` with an empty ``providers`` folder, like MA's."""
    package = root / "music_assistant"
    (package / "providers").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Music Assistant."""\n')
    (package / "providers" / "__init__.py").write_text('"""Providers."""\n')
    return package


def _import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_manifest_parses_and_says_what_ma_needs() -> None:
    """MA's ProviderManifest parses it; the fields MA requires and the issue asks for are set."""
    manifest = await ProviderManifest.parse(str(MANIFEST_PATH))

    assert manifest.type == ProviderType.PLUGIN
    assert manifest.domain == ma_module.DOMAIN == "alexa_auth"
    assert manifest.domain != "alexa"
    assert manifest.name == "Alexa (Amazon sign-in)"
    assert manifest.multi_instance is True
    assert manifest.documentation is None  # no public home yet
    assert manifest.requirements == [f"music-assistant-alexa=={music_assistant_alexa.__version__}"]
    assert manifest.description
    assert manifest.codeowners
    assert manifest.stage == ProviderStage.EXPERIMENTAL
    assert manifest.icon


def test_requirement_pin_matches_the_project_version() -> None:
    """The pin MA installs is the version pyproject.toml builds."""
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'version = "{music_assistant_alexa.__version__}"' in pyproject


def test_package_ships_the_same_manifest() -> None:
    """The package's manifest.json is the top-level one (a link, so they cannot drift)."""
    package_copy = REPO / "music_assistant_alexa" / "manifest.json"
    assert package_copy.resolve() == MANIFEST_PATH.resolve()
    assert json.loads(install.manifest_text()) == json.loads(MANIFEST_PATH.read_text())


def test_install_creates_a_loadable_provider_folder(tmp_path: Path) -> None:
    """The folder holds what MA looks for, its __init__ hands MA our entry points."""
    package = _fake_ma(tmp_path)

    target = install_provider(package)

    assert target == package / "providers" / "alexa_auth"
    names = {p.name for p in target.iterdir()}
    assert names == {"manifest.json", "__init__.py", "setup_flow.py", MARKER_FILE}
    manifest = ProviderManifest.from_json((target / "manifest.json").read_text())
    assert manifest.domain == target.name
    module = _import_file(target / "__init__.py", "installed_alexa_auth")
    assert module.setup is ma_module.setup
    assert module.get_config_entries is ma_module.get_config_entries
    assert set() == module.SUPPORTED_FEATURES
    if HAS_SETUP_FLOWS:
        flow = _import_file(target / "setup_flow.py", "installed_alexa_auth_flow")
        from music_assistant_alexa.ma.setup_flow import run_setup  # noqa: PLC0415

        assert flow.run_setup is run_setup


def test_install_again_updates_and_site_packages_path_works(tmp_path: Path) -> None:
    """Running it twice is fine, and --ma-path may be the folder containing the package."""
    package = _fake_ma(tmp_path)
    first = install_provider(package)
    (first / "manifest.json").write_text("{}")

    second = install_provider(tmp_path)  # site-packages, not the package itself

    assert second == first
    assert json.loads((second / "manifest.json").read_text())["domain"] == "alexa_auth"


def test_install_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    """An existing alexa_auth folder of someone else's is left alone."""
    package = _fake_ma(tmp_path)
    foreign = package / "providers" / "alexa_auth"
    foreign.mkdir()
    (foreign / "__init__.py").write_text("# hand-made\n")

    with pytest.raises(InstallError, match="not created by install-provider"):
        install_provider(package)
    with pytest.raises(InstallError, match="not created by install-provider"):
        uninstall_provider(package)
    assert (foreign / "__init__.py").read_text() == "# hand-made\n"


def test_uninstall_removes_only_what_install_created(tmp_path: Path) -> None:
    """Files added later (and the folder holding them) stay; ours and their bytecode go."""
    package = _fake_ma(tmp_path)
    target = install_provider(package)
    cache = target / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-313.pyc").write_bytes(b"")
    (cache / "helpers.cpython-313.pyc").write_bytes(b"")  # not from one of our files
    (target / "notes.txt").write_text("mine\n")

    removed = uninstall_provider(package)

    assert {p.name for p in removed} >= {
        "manifest.json",
        "__init__.py",
        "setup_flow.py",
        MARKER_FILE,
        "__init__.cpython-313.pyc",
    }
    assert sorted(p.name for p in target.iterdir()) == ["__pycache__", "notes.txt"]
    assert [p.name for p in cache.iterdir()] == ["helpers.cpython-313.pyc"]
    with pytest.raises(InstallError):  # what is left is not ours to remove
        uninstall_provider(package)


def test_uninstall_removes_the_folder_it_created(tmp_path: Path) -> None:
    """A clean install is removed completely, folder included."""
    package = _fake_ma(tmp_path)
    target = install_provider(package)

    removed = uninstall_provider(package)

    assert target in removed
    assert not target.exists()
    assert uninstall_provider(package) == []


def test_ma_is_found_in_this_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --ma-path, the music_assistant package importable here is used."""
    package = _fake_ma(tmp_path)
    for name in [
        n for n in sys.modules if n == "music_assistant" or n.startswith("music_assistant.")
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))

    assert install_provider() == (package / "providers" / "alexa_auth").resolve()


def test_missing_ma_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Music Assistant: a message that says where to run it or what to pass."""
    with pytest.raises(InstallError, match="is not Music Assistant's package folder"):
        install_provider(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(InstallError, match="--ma-path"):
        install_provider()
