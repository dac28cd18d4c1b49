"""
``music-assistant-alexa handoff`` writes the alexa provider's file from the command line.

Exit codes as for every command: 0 done (the path is the last line), 2 bad input (nothing
written), 3 the session is not valid (nothing written). ``doctor --ma-data`` checks that file.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.handoff.disk import handoff_file
from music_assistant_alexa.auth.handoff.file_formats import CookieFileFormat, read_cookie_file
from music_assistant_alexa.cli import main
from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def live_simulator(clock: FakeClock) -> AsyncIterator[AmazonSimulator]:
    """Run a simulator on the fake clock that the CLI is given too."""
    async with AmazonSimulator(clock=clock.time) as sim:
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        yield sim


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand the secrets to the CLI the supported way: the environment."""
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY)


async def run_cli(
    sim: AmazonSimulator, store: Path, *args: str, clock: FakeClock
) -> tuple[int, str]:
    """Run the CLI against the simulator in a worker thread; return code and output."""
    argv = ["--store", str(store), "--endpoint", sim.base_url, "--pace", "0", *args]
    out = io.StringIO()
    code = await asyncio.to_thread(main, argv, out=out, clock=clock)
    return code, out.getvalue()


@pytest.fixture
async def store(live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock) -> Path:
    """Return a session folder signed in through the CLI."""
    folder = tmp_path / "account"
    code, out = await run_cli(live_simulator, folder, "login", "--email", TEST_EMAIL, clock=clock)
    assert code == 0, out
    return folder


@pytest.fixture
def ma_data(tmp_path: Path) -> Path:
    """Return an existing Music Assistant data folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


async def test_handoff_writes_the_file_and_prints_its_path(
    live_simulator: AmazonSimulator, store: Path, ma_data: Path, clock: FakeClock
) -> None:
    """Exit 0; the last line is the file; the file is a pickle the alexa provider reads."""
    code, out = await run_cli(
        live_simulator,
        store,
        "handoff",
        "--ma-data",
        str(ma_data),
        "--username",
        TEST_EMAIL,
        clock=clock,
    )
    assert code == 0, out
    path = handoff_file(ma_data, TEST_EMAIL)
    assert out.splitlines()[-1] == str(path)
    assert read_cookie_file(path.read_bytes()).format is CookieFileFormat.AIOHTTP_PICKLE
    assert TEST_PASSWORD not in out
    assert TEST_KEY not in out


async def test_a_working_user_file_is_kept_unless_forced(
    live_simulator: AmazonSimulator, store: Path, ma_data: Path, clock: FakeClock
) -> None:
    """Someone else's working file: kept (exit 0, a warning); --force replaces it, with a .bak."""
    path = handoff_file(ma_data, TEST_EMAIL)
    args = ("handoff", "--ma-data", str(ma_data), "--username", TEST_EMAIL)
    code, _ = await run_cli(live_simulator, store, *args, clock=clock)
    assert code == 0
    ours = path.read_bytes()
    # The record is lost: the file now counts as someone else's, and it still works.
    path.with_name(path.name + ".handoff.json").unlink()

    code, out = await run_cli(live_simulator, store, *args, clock=clock)
    assert code == 0, out
    assert "⚠ Kept" in out
    assert path.read_bytes() == ours

    code, out = await run_cli(live_simulator, store, *args, "--force", clock=clock)
    assert code == 0, out
    assert "replaced_forced" in out
    assert path.with_name(path.name + ".bak").read_bytes() == ours


@pytest.mark.parametrize(
    ("folder", "username"),
    [("missing", TEST_EMAIL), ("data", "a/b@example.com"), ("data", "  ")],
)
async def test_bad_input_exits_2_and_writes_nothing(  # noqa: PLR0917 - fixtures and parameters
    live_simulator: AmazonSimulator,
    store: Path,
    tmp_path: Path,
    clock: FakeClock,
    folder: str,
    username: str,
) -> None:
    """A data folder that does not exist, or a username that cannot name a file: exit 2."""
    (tmp_path / "data").mkdir()
    live_simulator.reset_counts()
    code, out = await run_cli(
        live_simulator,
        store,
        "handoff",
        "--ma-data",
        str(tmp_path / folder),
        "--username",
        username,
        clock=clock,
    )
    assert code == 2, out
    assert out.startswith("✗")
    assert not (tmp_path / "data" / ".alexa").exists()
    assert live_simulator.request_count() == 0


async def test_no_valid_session_exits_3(
    live_simulator: AmazonSimulator, tmp_path: Path, ma_data: Path, clock: FakeClock
) -> None:
    """Nothing signed in: exit 3, nothing written."""
    code, out = await run_cli(
        live_simulator,
        tmp_path / "empty",
        "handoff",
        "--ma-data",
        str(ma_data),
        "--username",
        TEST_EMAIL,
        clock=clock,
    )
    assert code == 3, out
    assert not (ma_data / ".alexa").exists()


async def test_a_revoked_session_exits_3(
    live_simulator: AmazonSimulator, store: Path, ma_data: Path, clock: FakeClock
) -> None:
    """Amazon revoked the device and dropped the cookies: exit 3 with the guide link."""
    live_simulator.expire_cookies(TEST_EMAIL)
    live_simulator.revoke_refresh_tokens(TEST_EMAIL)
    code, out = await run_cli(
        live_simulator,
        store,
        "handoff",
        "--ma-data",
        str(ma_data),
        "--username",
        TEST_EMAIL,
        clock=clock,
    )
    assert code == 3, out
    assert "music-assistant-alexa guide " in out
    assert not (ma_data / ".alexa").exists()


async def test_doctor_checks_the_alexa_players_file_when_given_the_data_folder(
    live_simulator: AmazonSimulator, store: Path, ma_data: Path, clock: FakeClock
) -> None:
    """`doctor --ma-data`: no file yet is a warning with its fix; once handed over, a ✓ line."""
    doctor = ("doctor", "--offline", "--ma-data", str(ma_data))
    code, out = await run_cli(live_simulator, store, *doctor, clock=clock)
    assert code == 0, out
    assert "⚠ Music Assistant's Alexa players have no session file yet" in out
    assert "music-assistant-alexa guide alexa-players" in out
    code, out = await run_cli(
        live_simulator,
        store,
        "handoff",
        "--ma-data",
        str(ma_data),
        "--username",
        TEST_EMAIL,
        clock=clock,
    )
    assert code == 0, out

    code, out = await run_cli(live_simulator, store, *doctor, clock=clock)
    assert code == 0, out
    assert "✓ Music Assistant's Alexa players are fed" in out
    assert TEST_EMAIL not in out
    code, out = await run_cli(live_simulator, store, *doctor, "--json", clock=clock)
    assert code == 0, out
    keys = [check["key"] for check in json.loads(out)["checks"]]
    assert keys[-2:] == ["alexa_handoff", "alexa_cookie_files"]
    assert "@" not in out
    missing = str(ma_data / "missing")
    code, out = await run_cli(live_simulator, store, "doctor", "--ma-data", missing, clock=clock)
    assert code == 2, out
    assert "is not a folder" in out
