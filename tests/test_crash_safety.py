"""
A process killed while saving the session leaves each file whole: the old version or the new.

Invariant: whatever instant Music Assistant dies during a save (half the bytes written, written
but not fsync-ed, fsync-ed but not renamed, renamed but the folder not fsync-ed, between the
two files of one sign-in), every stored file afterwards is byte-for-byte either the previous
version or the new one, never a mix. It reads back without being quarantined, the next process
saves again at the first try (even with the dead one's pid), and the dead writer's temporary
file, which holds tokens, is private and is removed once stale.

Each case runs the real store in a child process (``tests/store_writer.py``) that freezes at
the kill point and is then killed with SIGKILL: no ``finally``, no atexit, no flush.

Issue 12: the writer dies holding the folder's lock, and the lock dies with it. And several
real processes of the command line on one folder keep one attempt budget, make one refresh and
lose no update of state.json (see the second half).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from music_assistant_alexa.auth.models import RegistrationFile
from music_assistant_alexa.auth.private_files import FILE_MODE
from music_assistant_alexa.auth.store import (
    COOKIES_FILE,
    REGISTRATION_FILE,
    STATE_FILE,
    SessionStore,
)
from music_assistant_alexa.cli import main
from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD
from .store_writer import READY, new_cookies, new_registration, old_cookies, old_registration

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from music_assistant_alexa.auth.models import StoreModel

ROOT: Final = Path(__file__).resolve().parents[1]
#: How long the parent waits for the child to reach its kill point (imports included).
READY_TIMEOUT: Final = 30.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def encoded(record: StoreModel) -> bytes:
    """
    Return a record as the store writes it.

    :param record: The record.
    """
    return json.dumps(record.to_dict(), indent=2, sort_keys=True).encode()


OLD: Final = {
    REGISTRATION_FILE: encoded(RegistrationFile(old_registration())),
    COOKIES_FILE: encoded(old_cookies()),
}
NEW: Final = {
    REGISTRATION_FILE: encoded(RegistrationFile(new_registration())),
    COOKIES_FILE: encoded(new_cookies()),
}


async def store_old_session(folder: Path) -> None:
    """
    Save the old session, as a previous sign-in did.

    :param folder: The account's folder.
    """
    store = SessionStore(folder)
    await store.write_registration(old_registration())
    await store.write_cookies(old_cookies())


def run_writer(folder: Path, kill_point: str) -> int:
    """
    Run the child until its kill point and SIGKILL it there (or let it finish for "none").

    :param folder: The account's folder.
    :param kill_point: Where the child freezes.
    :returns: The child's pid.
    """
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "tests.store_writer", str(folder), kill_point],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        if kill_point == "none":
            assert proc.wait(timeout=READY_TIMEOUT) == 0, proc.stderr.read()
            return proc.pid
        ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
        line = proc.stdout.readline().strip() if ready else ""
        if line != READY:
            proc.kill()
            pytest.fail(f"writer never reached {kill_point}: {line!r} {proc.stderr.read()}")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=READY_TIMEOUT) == -signal.SIGKILL
        return proc.pid
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def stored(folder: Path) -> dict[str, bytes]:
    """
    Return the session files' bytes.

    :param folder: The account's folder.
    """
    return {name: (folder / name).read_bytes() for name in (REGISTRATION_FILE, COOKIES_FILE)}


def temp_files(folder: Path) -> dict[str, bytes]:
    """
    Return the temporary files a dead writer left, by the file they were meant to replace.

    :param folder: The account's folder.
    """
    return {
        path.name.split(".")[1] + ".json": path.read_bytes()
        for path in folder.iterdir()
        if path.name.endswith(".tmp")
    }


@pytest.mark.parametrize(
    ("kill_point", "registration", "cookies", "left"),
    [
        pytest.param("torn_write", OLD, OLD, "half", id="half-written"),
        pytest.param("before_fsync", OLD, OLD, "whole", id="written-not-fsynced"),
        pytest.param("before_rename", OLD, OLD, "whole", id="fsynced-not-renamed"),
        pytest.param("after_rename", NEW, OLD, None, id="renamed-folder-not-fsynced"),
        pytest.param("between_files", NEW, OLD, "whole", id="between-the-two-files"),
        pytest.param("none", NEW, NEW, None, id="not-killed"),
    ],
)
async def test_killed_save_leaves_old_or_new_never_a_mix(
    tmp_path: Path,
    kill_point: str,
    registration: dict[str, bytes],
    cookies: dict[str, bytes],
    left: str | None,
) -> None:
    """Each file is exactly one whole version, reads back, and nothing is quarantined."""
    folder = tmp_path / "account"
    await store_old_session(folder)
    assert stored(folder) == OLD
    await asyncio.to_thread(run_writer, folder, kill_point)
    # The child really died where it was meant to: its temporary file shows how far it got.
    temps = temp_files(folder)
    if left is None:
        assert temps == {}
    else:
        (name, partial), *others = temps.items()
        assert others == []
        whole = NEW[name]
        assert partial == (whole if left == "whole" else whole[: len(whole) // 2])
    after = stored(folder)
    assert after[REGISTRATION_FILE] == registration[REGISTRATION_FILE]
    assert after[COOKIES_FILE] == cookies[COOKIES_FILE]
    store = SessionStore(folder)
    expected = new_registration() if registration is NEW else old_registration()
    assert await store.read_registration() == expected
    assert await store.read_cookies() == (new_cookies() if cookies is NEW else old_cookies())
    assert store.quarantined == []
    for path in folder.iterdir():  # leftovers of the dead writer are private too
        assert path.stat().st_mode & 0o777 == FILE_MODE


@pytest.mark.parametrize("kill_point", ["torn_write", "before_rename"])
async def test_next_process_saves_after_a_crash(tmp_path: Path, kill_point: str) -> None:
    """After a writer died mid-save, a new process (another pid) saves the new version."""
    folder = tmp_path / "account"
    await store_old_session(folder)
    await asyncio.to_thread(run_writer, folder, kill_point)
    store = SessionStore(folder)
    await store.write_registration(new_registration())
    await store.write_cookies(new_cookies())
    assert stored(folder) == NEW


async def test_restart_with_the_same_pid_saves_at_the_first_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container restart reuses the pid: the dead writer's temp file must not block the save."""
    folder = tmp_path / "account"
    await store_old_session(folder)
    dead_pid = await asyncio.to_thread(run_writer, folder, "before_rename")
    monkeypatch.setattr(os, "getpid", lambda: dead_pid)
    await SessionStore(folder).write_registration(new_registration())
    assert stored(folder)[REGISTRATION_FILE] == NEW[REGISTRATION_FILE]


async def test_a_dead_writers_temp_file_is_cleaned_up_once_stale(tmp_path: Path) -> None:
    """The killed save's temporary file (it holds tokens) does not stay on disk for ever."""
    folder = tmp_path / "account"
    await store_old_session(folder)
    await asyncio.to_thread(run_writer, folder, "before_rename")
    (leftover,) = (p for p in folder.iterdir() if p.name.endswith(".tmp"))
    await SessionStore(folder).write_registration(old_registration())
    assert leftover.exists()  # it may still be another process's save in progress
    an_hour_ago = leftover.stat().st_mtime - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    await SessionStore(folder).write_registration(new_registration())
    assert not leftover.exists()
    assert stored(folder)[REGISTRATION_FILE] == NEW[REGISTRATION_FILE]


async def test_a_killed_lock_holder_leaves_the_folder_free(tmp_path: Path) -> None:
    """The writer died holding the folder's lock: the kernel dropped it; nobody has to wait."""
    folder = tmp_path / "account"
    await store_old_session(folder)
    await asyncio.to_thread(run_writer, folder, "before_fsync")  # killed inside the save
    store = SessionStore(folder)
    store.lock_timeout = 0  # any wait would fail
    await store.write_registration(new_registration())
    assert stored(folder)[REGISTRATION_FILE] == NEW[REGISTRATION_FILE]


# --- issue 12, item 1: limits that hold across processes ----------------------------------------
#
# Real processes of the command line against one simulator (on the real clock, which the
# children use), all on one folder: the attempt budget, the single refresh and the state file
# must hold across them, as the folder's OS lock makes them.

#: The lock wait notice every waiting child prints on standard error (at once with -v).
WAITING: Final = "Another process is using the session folder"


def cli_env() -> dict[str, str]:
    """Return the children's environment: the test account's secrets, the way users give them."""
    return {**os.environ, "AMAZON_PASSWORD": TEST_PASSWORD, "AMAZON_2FA_KEY": TEST_KEY}


async def start_cli(
    sim: AmazonSimulator, folder: Path, *command: str, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start one command-line process on the folder, pointed at the simulator."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "music_assistant_alexa",
        "--store",
        str(folder),
        "--endpoint",
        sim.base_url,
        "--pace",
        "0",
        "-v",
        *command,
        cwd=ROOT,
        env=env or cli_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Wait (bounded) for a child; return its exit code, output and error output."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), READY_TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def wait_until_waiting(proc: asyncio.subprocess.Process, seen: list[str]) -> None:
    """Read a child's error output until it says it waits for the folder (bounded)."""
    assert proc.stderr is not None
    while not any(WAITING in line for line in seen):
        line = await asyncio.wait_for(proc.stderr.readline(), READY_TIMEOUT)
        assert line, f"the child ended without waiting: {seen}"
        seen.append(line.decode())


async def sign_in(sim: AmazonSimulator, folder: Path) -> None:
    """Sign the folder in (in this process, on the real clock, as a user would first)."""
    out = io.StringIO()
    args = ["--store", str(folder), "--endpoint", sim.base_url, "--pace", "0"]
    code = await asyncio.to_thread(main, [*args, "login", "--email", TEST_EMAIL], out=out)
    assert code == 0, out.getvalue()


def state_on_disk(folder: Path) -> dict[str, Any]:
    """Return state.json as stored."""
    data: dict[str, Any] = json.loads((folder / STATE_FILE).read_text())
    return data


@pytest.fixture
async def real_simulator() -> AsyncIterator[AmazonSimulator]:
    """Run a simulator on the real clock (the children's), with the test account."""
    async with AmazonSimulator() as sim:
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        yield sim


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the in-process command line the secrets the supported way."""
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY)


async def test_concurrent_logins_share_one_attempt_budget(
    real_simulator: AmazonSimulator, tmp_path: Path
) -> None:
    """
    Four logins with a wrong password at once: Amazon sees 3 passwords (the hourly budget).

    Before issue 12 every process had a budget of its own (8 logins sent 8 passwords) and
    state.json kept whichever copy was written last.
    """
    folder = tmp_path / "account"
    env = {**cli_env(), "AMAZON_PASSWORD": "wrong password"}
    procs = [
        await start_cli(real_simulator, folder, "login", "--email", TEST_EMAIL, env=env)
        for _ in range(4)
    ]
    results = await asyncio.gather(*(finish(p) for p in procs))
    assert real_simulator.request_count("/ap/signin", method="POST") == 3
    assert [code for code, _, _ in results] == [3] * 4
    outputs = [out for _, out, _ in results]
    assert sum("password is wrong" in out for out in outputs) == 3
    assert sum("Sign-in paused" in out for out in outputs) == 1
    assert all("Traceback" not in err for _, _, err in results)
    assert len(state_on_disk(folder)["attempts"]["password_submissions"]) == 3


@pytest.mark.usefixtures("secrets_in_env")
async def test_two_refresh_processes_make_one_refresh(
    real_simulator: AmazonSimulator, tmp_path: Path
) -> None:
    """Two `refresh` at once (both made to wait for the folder): one exchange, no token."""
    folder = tmp_path / "account"
    await sign_in(real_simulator, folder)
    real_simulator.reset_counts()
    holder = SessionStore(folder)
    async with holder.locked():  # both children queue behind the lock, as behind a refresh
        procs = [await start_cli(real_simulator, folder, "refresh") for _ in range(2)]
        notes: list[list[str]] = [[], []]
        await asyncio.gather(*(wait_until_waiting(p, n) for p, n in zip(procs, notes, strict=True)))
    results = await asyncio.gather(*(finish(p) for p in procs))
    assert [code for code, _, _ in results] == [0, 0], results
    assert real_simulator.request_count("/auth/token") == 0
    assert real_simulator.request_count("/ap/exchangetoken/cookies") == 1
    outputs = sorted(out.splitlines()[0] for _, out, _ in results)
    assert outputs == [
        "✓ Another process renewed the cookies just now; using them.",
        "✓ Refreshed the cookies.",
    ]


@pytest.mark.usefixtures("secrets_in_env")
async def test_a_refresh_beside_a_login_loses_nothing(
    real_simulator: AmazonSimulator, tmp_path: Path
) -> None:
    """
    `refresh` and `login` at once: both succeed, state.json keeps both, nobody says "revoked".

    Before issue 12 the refresh used the refresh token the login had just replaced (and told
    the user the device was revoked), and wrote back its older state.json over the login's.
    """
    folder = tmp_path / "account"
    await sign_in(real_simulator, folder)
    holder = SessionStore(folder)
    async with holder.locked():
        procs = [
            await start_cli(real_simulator, folder, "refresh"),
            await start_cli(real_simulator, folder, "login", "--email", TEST_EMAIL),
        ]
        notes: list[list[str]] = [[], []]
        await asyncio.gather(*(wait_until_waiting(p, n) for p, n in zip(procs, notes, strict=True)))
    (refresh_code, refreshed, refresh_err), (login_code, signed, login_err) = await asyncio.gather(
        *(finish(p) for p in procs)
    )
    assert refresh_code == 0, refreshed + refresh_err
    assert login_code == 0, signed + login_err
    assert "revoked" not in refreshed + refresh_err
    state = state_on_disk(folder)
    kinds = [event["kind"] for event in state["events"]]
    assert kinds.count("sign_in") == 2  # the first sign-in's and the second's
    assert "failure" not in kinds
    assert len(state["attempts"]["password_submissions"]) == 2
    assert real_simulator.device_count(TEST_EMAIL) == 1
    out = io.StringIO()
    assert await asyncio.to_thread(main, ["--store", str(folder), "status"], out=out) == 0
    assert out.getvalue().startswith("✓ Signed in")
