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
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from music_assistant_alexa.auth.models import RegistrationFile
from music_assistant_alexa.auth.store import (
    COOKIES_FILE,
    FILE_MODE,
    REGISTRATION_FILE,
    SessionStore,
)

from .store_writer import READY, new_cookies, new_registration, old_cookies, old_registration

if TYPE_CHECKING:
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
