"""
The manifest asks Music Assistant only for what it lacks, and the provider folder stands alone.

The top-level ``manifest.json`` parses with MA's own ``ProviderManifest``, names a domain that
cannot collide with MA's Alexa player provider, requires only published packages MA does not
ship (pinned exactly, never this package: it is not on PyPI), and links no page that does not
exist; the package ships the same file. ``install-provider`` writes a provider folder that
carries the package, so that a Music Assistant without this package installed loads it and
shows the form (2.9.x) or the setup flow (2.10+); running it again upgrades the folder, and
``uninstall-provider`` removes exactly what it wrote, never anything else.
"""

from __future__ import annotations

import ast
import importlib.resources
import importlib.util
import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any, Final

import pytest
from music_assistant_models.enums import ProviderStage, ProviderType
from music_assistant_models.provider import ProviderManifest
from packaging.requirements import Requirement

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.guide import PUBLIC_GUIDE_URL
from music_assistant_alexa.ma import install
from music_assistant_alexa.ma.constants import CONF_EMAIL, CONF_PASSWORD, CONF_TOTP_KEY
from music_assistant_alexa.ma.install import (
    MARKER_FILE,
    VENDOR_DIR,
    InstallError,
    install_provider,
    provider_files,
    uninstall_provider,
)

from .support import HAS_SETUP_FLOWS, MANIFEST_PATH, REPO

STUB: Final = REPO / "tests" / "ma_stub" / "music_assistant"
VENDORED: Final = f"{VENDOR_DIR}/music_assistant_alexa"
#: Distributions every Music Assistant 2.9+ ships (its own dependencies): a manifest must not
#: pin them, or MA would reinstall its own packages at another version.
SHIPPED_BY_MA: Final = frozenset(
    {"aiohttp", "mashumaro", "music-assistant-models", "orjson", "yarl", "multidict"}
)
#: Import names of those distributions, and the standard library's.
_MODULE_OF: Final = {"music-assistant-models": "music_assistant_models"}


def _fake_ma(root: Path) -> Path:
    """Create ``<root>/music_assistant`` with an empty ``providers`` folder, like MA's."""
    package = root / "music_assistant"
    (package / "providers").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Music Assistant."""\n')
    (package / "providers" / "__init__.py").write_text('"""Providers."""\n')
    return package


def _tree(folder: Path) -> set[str]:
    """Return every file below a folder, as relative POSIX paths."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _record(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / MARKER_FILE).read_text())
    return data


def _third_party_imports() -> set[str]:
    """Return the top-level modules the package imports that are not its own or stdlib."""
    package = REPO / "music_assistant_alexa"
    found: set[str] = set()
    for path in package.rglob("*.py"):
        if "simulator" in path.parts:
            continue  # not in the provider folder (see install.LEFT_OUT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    own = {"music_assistant_alexa", "music_assistant"}
    return {m for m in found - own if m not in sys.stdlib_module_names}


# --- the manifest ------------------------------------------------------------------------------


async def test_manifest_parses_and_says_what_ma_needs() -> None:
    """MA's ProviderManifest parses it; the fields MA requires are set."""
    manifest = await ProviderManifest.parse(str(MANIFEST_PATH))

    assert manifest.type == ProviderType.PLUGIN
    assert manifest.domain == ma_module.DOMAIN == "alexa_auth"
    assert manifest.domain != "alexa"
    assert manifest.name == "Alexa (Amazon sign-in)"
    assert manifest.multi_instance is True
    assert manifest.description
    assert manifest.codeowners
    assert manifest.stage == ProviderStage.EXPERIMENTAL
    assert manifest.icon


async def test_manifest_links_no_missing_page() -> None:
    """
    No documentation link until a public home exists; no code owner rendered as a GitHub link.

    MA's frontend shows ``documentation`` only when it is an absolute http(s) URL (a relative
    path or MA's own route cannot be written into a static manifest), and turns ``@name`` code
    owners into ``https://github.com/name`` links.
    """
    manifest = await ProviderManifest.parse(str(MANIFEST_PATH))

    assert manifest.documentation == (PUBLIC_GUIDE_URL or None)
    assert not any(owner.startswith("@") for owner in manifest.codeowners)


def test_requirements_are_what_ma_lacks_pinned_exactly() -> None:
    """Only published packages MA lacks, pinned with ==, inside pyproject's range; never us."""
    manifest = json.loads(MANIFEST_PATH.read_text())
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = {
        Requirement(r).name.lower(): Requirement(r) for r in pyproject["project"]["dependencies"]
    }
    required = [Requirement(r) for r in manifest["requirements"]]

    names = {r.name.lower() for r in required}
    assert "music-assistant-alexa" not in names  # not on PyPI: anyone could register it
    assert not names & SHIPPED_BY_MA
    for requirement in required:
        (spec,) = requirement.specifier
        assert spec.operator == "==", requirement
        assert requirement.name.lower() in declared, requirement
        assert declared[requirement.name.lower()].specifier.contains(spec.version), requirement
    imported = _third_party_imports()
    provided = {_MODULE_OF.get(name, name) for name in SHIPPED_BY_MA | names}
    assert imported - provided == set(), "imported but neither in MA nor in requirements"
    assert {_MODULE_OF.get(n, n) for n in names} <= imported, "required but never imported"


def test_package_ships_the_same_manifest() -> None:
    """The package's manifest.json is the top-level one (a link, so they cannot drift)."""
    package_copy = REPO / "music_assistant_alexa" / "manifest.json"
    assert package_copy.resolve() == MANIFEST_PATH.resolve()
    assert json.loads(install.manifest_text()) == json.loads(MANIFEST_PATH.read_text())


# --- the provider folder -------------------------------------------------------------------


def test_install_writes_a_folder_that_carries_the_package(tmp_path: Path) -> None:
    """Manifest, strings, loader, setup flow and a copy of the package (not the simulator)."""
    package = _fake_ma(tmp_path)

    target = install_provider(package)

    assert target == package / "providers" / "alexa_auth"
    files = _tree(target)
    assert {"manifest.json", "strings.json", "__init__.py", "setup_flow.py", MARKER_FILE} <= files
    assert (target / "strings.json").read_text() == install.strings_text()
    assert {
        f"{VENDORED}/__init__.py",
        f"{VENDORED}/ma/__init__.py",
        f"{VENDORED}/ma/setup_flow.py",
        f"{VENDORED}/auth/session.py",
        f"{VENDORED}/troubleshooting.md",
        f"{VENDORED}/troubleshooting.html",
        f"{VENDORED}/manifest.json",
    } <= files
    assert not any("/simulator/" in f or "__pycache__" in f for f in files)
    source = importlib.resources.files("music_assistant_alexa")
    assert (target / VENDORED / "auth" / "errors.py").read_bytes() == (
        source / "auth" / "errors.py"
    ).read_bytes()
    manifest = ProviderManifest.from_json((target / "manifest.json").read_text())
    assert manifest.domain == target.name
    for module in ("__init__.py", "setup_flow.py"):
        compile((target / module).read_text(), module, "exec")  # valid on this Python
    assert _record(target)["files"] == sorted(files - {MARKER_FILE})


_LOAD_SCRIPT: Final = """
import asyncio, importlib.util, json, sys
sys.path[:] = json.loads(sys.argv[1])
assert importlib.util.find_spec("music_assistant_alexa") is None, "the package is installed"

import aiohttp
from music_assistant.mass import MusicAssistant
from music_assistant_models.provider import ProviderManifest

import music_assistant.providers.alexa_auth as provider

async def main() -> dict:
    import music_assistant_alexa
    folder = provider.__file__.rsplit("/", 1)[0]
    manifest = await ProviderManifest.parse(folder + "/manifest.json")
    result = {"package": music_assistant_alexa.__file__, "form": None, "flow": None}
    async with aiohttp.ClientSession() as session:
        old = MusicAssistant(sys.argv[2], session, generation="old")
        old.register_provider(manifest, provider)
        entries = await old.config.get_provider_config_entries("alexa_auth")
        result["form"] = [entry.key for entry in entries]
        await old.stop()
        if importlib.util.find_spec("music_assistant_models.setup_flow"):
            from music_assistant.providers.alexa_auth import setup_flow
            new = MusicAssistant(sys.argv[2], session, generation="new")
            new.register_provider(manifest, provider, setup_flow)
            step = await new.config.setup_provider("alexa_auth")
            result["flow"] = [step.step_id, [entry.key for entry in step.entries]]
            await new.config.abort_setup_flow(step.flow_id)
            await new.stop()
    return result

print(json.dumps(asyncio.run(main())))
"""


def _dependency_paths() -> list[str]:
    """Return this Python's library folders without the project (and without .pth files)."""
    paths = [
        p
        for p in sys.path
        if p and "site-packages" not in p and not Path(p).resolve().is_relative_to(REPO)
    ]
    for key in ("purelib", "platlib"):
        folder = sysconfig.get_paths()[key]
        if folder not in paths:
            paths.append(folder)
    return paths


@pytest.fixture
def ma_without_package(tmp_path: Path) -> Path:
    """Return a site folder holding the MA stand-in with the provider folder installed."""
    site = tmp_path / "site"
    shutil.copytree(STUB, site / "music_assistant", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "music_assistant" / "providers").mkdir()
    (site / "music_assistant" / "providers" / "__init__.py").write_text('"""Providers."""\n')
    install_provider(site / "music_assistant")
    return site


def test_folder_loads_in_music_assistant_without_the_package(
    ma_without_package: Path, tmp_path: Path
) -> None:
    """
    A Python that cannot import music_assistant_alexa loads the folder and shows the form.

    ``-S`` keeps the project's editable-install ``.pth`` file from adding it to ``sys.path``;
    the script then checks the package is not importable before importing the provider.
    """
    site = ma_without_package
    paths = [str(site), *_dependency_paths()]
    result = subprocess.run(  # noqa: S603 - this Python, our own script
        [sys.executable, "-S", "-c", _LOAD_SCRIPT, json.dumps(paths), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    vendored = site / "music_assistant" / "providers" / "alexa_auth" / VENDOR_DIR
    assert Path(loaded["package"]).is_relative_to(vendored)
    assert {CONF_EMAIL, CONF_PASSWORD, CONF_TOTP_KEY} <= set(loaded["form"])
    if HAS_SETUP_FLOWS:
        step_id, keys = loaded["flow"]
        assert step_id
        assert CONF_EMAIL in keys
    else:
        assert loaded["flow"] is None


def test_install_again_upgrades_and_removes_what_the_new_version_dropped(
    tmp_path: Path,
) -> None:
    """Stale files of the older version (and their bytecode) go; files of others stay."""
    package = _fake_ma(tmp_path)
    target = install_provider(package)
    # What an older version wrote and this one no longer has:
    old_module = target / VENDORED / "retired" / "old.py"
    old_module.parent.mkdir()
    old_module.write_text("# gone in the new version\n")
    (old_module.parent / "__pycache__").mkdir()
    (old_module.parent / "__pycache__" / "old.cpython-313.pyc").write_bytes(b"")
    record = _record(target)
    record["files"].append(f"{VENDORED}/retired/old.py")
    record["dirs"].append(f"{VENDORED}/retired")
    (target / MARKER_FILE).write_text(json.dumps(record))
    # Someone else's file, inside a folder the provider owns:
    foreign = target / VENDORED / "auth" / "notes.txt"
    foreign.write_text("mine\n")
    (target / "manifest.json").write_text("{}")

    assert install_provider(tmp_path) == target  # site-packages works as --ma-path too

    assert not (target / VENDORED / "retired").exists()
    assert foreign.read_text() == "mine\n"
    assert json.loads((target / "manifest.json").read_text())["domain"] == "alexa_auth"
    assert f"{VENDORED}/retired/old.py" not in _record(target)["files"]
    assert _tree(target) == set(provider_files()) | {MARKER_FILE, f"{VENDORED}/auth/notes.txt"}


def test_install_upgrades_the_three_file_layout(tmp_path: Path) -> None:
    """A folder written by 0.1.0 (three files that import an installed package) is upgraded."""
    package = _fake_ma(tmp_path)
    target = package / "providers" / "alexa_auth"
    target.mkdir()
    for name in ("manifest.json", "__init__.py", "setup_flow.py"):
        (target / name).write_text("# 0.1.0\n")
    files = ["__init__.py", "manifest.json", "setup_flow.py"]
    record = {"version": "0.1.0", "created_dir": True, "files": files}
    (target / MARKER_FILE).write_text(json.dumps(record))

    install_provider(package)

    assert "_VendoredPackageFinder" in (target / "__init__.py").read_text()
    assert _tree(target) == set(provider_files()) | {MARKER_FILE}
    assert uninstall_provider(package)
    assert not target.exists()


def test_install_refuses_to_overwrite_a_file_it_did_not_write(tmp_path: Path) -> None:
    """A foreign file where the new version puts one: refused, and nothing is changed."""
    package = _fake_ma(tmp_path)
    target = install_provider(package)
    record = _record(target)
    record["files"].remove(f"{VENDORED}/guide.py")
    (target / MARKER_FILE).write_text(json.dumps(record))
    (target / VENDORED / "guide.py").write_text("# someone else's\n")
    (target / "manifest.json").write_text("{}")

    with pytest.raises(InstallError, match="was not written by install-provider"):
        install_provider(package)

    assert (target / VENDORED / "guide.py").read_text() == "# someone else's\n"
    assert (target / "manifest.json").read_text() == "{}"


def test_an_interrupted_install_can_be_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash half-way leaves a record that covers every file written, so a rerun works."""
    package = _fake_ma(tmp_path)
    written = 0
    real_write = install._write

    def failing_write(path: Path, data: bytes) -> None:
        nonlocal written
        written += 1
        if written == 10:
            msg = "disk full"
            raise OSError(msg)
        real_write(path, data)

    monkeypatch.setattr(install, "_write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        install_provider(package)
    monkeypatch.setattr(install, "_write", real_write)

    target = install_provider(package)

    assert _tree(target) == set(provider_files()) | {MARKER_FILE}


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


def test_uninstall_removes_only_what_install_wrote(tmp_path: Path) -> None:
    """Files added later (and the folders holding them) stay; ours and their bytecode go."""
    package = _fake_ma(tmp_path)
    target = install_provider(package)
    cache = target / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-313.pyc").write_bytes(b"")
    (cache / "helpers.cpython-313.pyc").write_bytes(b"")  # not from one of our files
    vendored_cache = target / VENDORED / "auth" / "__pycache__"
    vendored_cache.mkdir()
    (vendored_cache / "session.cpython-313.pyc").write_bytes(b"")
    (target / "notes.txt").write_text("mine\n")
    (target / VENDORED / "ma" / "local.py").write_text("# mine\n")

    removed = uninstall_provider(package)

    assert {p.name for p in removed} >= {
        "manifest.json",
        "__init__.py",
        "setup_flow.py",
        MARKER_FILE,
        "__init__.cpython-313.pyc",
        "session.cpython-313.pyc",
    }
    assert _tree(target) == {
        "__pycache__/helpers.cpython-313.pyc",
        "notes.txt",
        f"{VENDORED}/ma/local.py",
    }
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
