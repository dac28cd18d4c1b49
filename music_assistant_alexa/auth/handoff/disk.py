"""
The alexa provider's folder on disk: file names, and writes that never leave half a file.

Music Assistant's built-in ``alexa`` provider keeps one file per account in ``<MA data>/.alexa``,
named ``alexa_media.<username>.pickle`` after the username in its settings (alexapy's own
``.cookies`` layout may sit there too). Our writes follow the session store's rules: a private
temporary file (0600 from its first byte, in a folder tightened to 0700), fsync, one rename,
fsync of the folder. When this runs as root for a Music Assistant that does not (the command
line, a container), new files and folders take the owner of the folder they are created in, so
Music Assistant can still read them.

File names hold the account's e-mail address: anything meant for diagnostics goes through
:func:`masked_name`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import time
from typing import TYPE_CHECKING, Final

from music_assistant_alexa.auth import private_files
from music_assistant_alexa.auth.private_files import FILE_MODE, FOLDER_MODE
from music_assistant_alexa.auth.usernames import mask_username

from .errors import HandoffInputError, HandoffStorageError
from .file_formats import MAX_FILE_SIZE

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

HANDOFF_FOLDER: Final = ".alexa"
FILE_PREFIX: Final = "alexa_media."
PICKLE_SUFFIX: Final = ".pickle"
COOKIES_SUFFIX: Final = ".cookies"
SESSION_SUFFIXES: Final = (PICKLE_SUFFIX, COOKIES_SUFFIX)
BACKUP_SUFFIX: Final = ".bak"
#: Our record of the files we wrote, beside each file (see :mod:`.record`).
RECORD_SUFFIX: Final = ".handoff.json"
#: Seconds a hand-off waits for another process handing over in the same folder.
LOCK_WAIT: Final = 30.0
#: Seconds between two tries at the folder's lock.
LOCK_POLL: Final = 0.05


# --- names -------------------------------------------------------------------------------------


def validate_username(username: str) -> str:
    """
    Return the alexa provider's username, refused when it cannot name a file.

    :param username: The e-mail address (or phone number) in the alexa provider's settings.
    :raises HandoffInputError: It is empty or would leave the folder.
    """
    value = username.strip()
    if not value:
        msg = "Enter the e-mail address of the Alexa provider's account."
        raise HandoffInputError(msg)
    if "/" in value or "\\" in value or "\0" in value or value in (".", ".."):
        msg = "The username cannot contain slashes; enter the account's e-mail address."
        raise HandoffInputError(msg)
    return value


def handoff_folder(ma_data: Path) -> Path:
    """
    Return the folder the alexa provider keeps its session files in.

    :param ma_data: Music Assistant's data folder (``mass.storage_path``, ``/data`` in Docker).
    """
    return ma_data / HANDOFF_FOLDER


def handoff_file(ma_data: Path, username: str, suffix: str = PICKLE_SUFFIX) -> Path:
    """
    Return the file the alexa provider restores a username's session from.

    :param ma_data: Music Assistant's data folder.
    :param username: The alexa provider's username, exactly as configured.
    :param suffix: ``.pickle`` (what Music Assistant reads) or ``.cookies`` (alexapy's own).
    """
    return handoff_folder(ma_data) / f"{FILE_PREFIX}{validate_username(username)}{suffix}"


def username_of(path: Path) -> str | None:
    """
    Return the username a session file is named after, or None for any other file.

    :param path: A file in the folder.
    """
    name = path.name
    for suffix in SESSION_SUFFIXES:
        if name.startswith(FILE_PREFIX) and name.endswith(suffix):
            return name[len(FILE_PREFIX) : -len(suffix)] or None
    return None


def masked_name(path: Path) -> str:
    """
    Return a session file's name inside Music Assistant's data folder, the username masked.

    :param path: A file in the folder, e.g. ``/data/.alexa/alexa_media.h@x.com.pickle``.
    """
    name = path.name
    # Backups and our records are named after the session file they belong to.
    base = name.removesuffix(BACKUP_SUFFIX).removesuffix(RECORD_SUFFIX)
    username = username_of(path.with_name(base))
    if username is not None:
        name = name.replace(username, mask_username(username), 1)
    return f"{HANDOFF_FOLDER}/{name}"


def backup_file(path: Path) -> Path:
    """
    Return where the file a write replaced is kept (one backup, the latest).

    :param path: A session file.
    """
    return path.with_name(path.name + BACKUP_SUFFIX)


# --- reading -----------------------------------------------------------------------------------


def read_optional(path: Path) -> bytes | None:
    """
    Return a file's bytes, or None when there is no such file.

    :param path: The file.
    :raises HandoffStorageError: It exists but cannot be read (or is no small regular file:
        a FIFO in its place must not hang the reader).
    """
    try:
        data, _ = private_files.read_small_file(path, max_bytes=MAX_FILE_SIZE)
    except FileNotFoundError:
        return None
    except private_files.NotAFileError as err:
        msg = f"Cannot read {masked_name(path)}: it is {err}."
        raise HandoffStorageError(msg) from err
    except OSError as err:
        msg = f"Cannot read {masked_name(path)} ({err.strerror or type(err).__name__})."
        raise HandoffStorageError(msg) from err
    return data


def modified_at(path: Path) -> float | None:
    """
    Return a file's modification time, or None when it cannot be seen.

    :param path: The file.
    """
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def mode_problems(folder: Path, path: Path) -> tuple[tuple[str, int], ...]:
    """
    Return ("folder" or "file", mode) for the folder and file when more open than 0700 / 0600.

    :param folder: The alexa provider's folder.
    :param path: The session file.
    """
    problems: list[tuple[str, int]] = []
    for label, target, wanted in (("folder", folder, FOLDER_MODE), ("file", path, FILE_MODE)):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(target.stat().st_mode)
            if mode & ~wanted:
                problems.append((label, mode))
    return tuple(problems)


# --- writing -----------------------------------------------------------------------------------


def write_temporary(path: Path, payload: bytes) -> Path:
    """
    Write ``payload`` into a private, fsynced temporary file next to ``path``.

    :param path: The file the payload is meant for.
    :param payload: The whole content.
    :returns: The temporary file (hidden, and never named like a session file).
    :raises HandoffStorageError: It could not be written (nothing is left behind).
    """
    folder = path.parent
    _ensure_folder(folder)
    try:
        return private_files.write_temporary(path, payload, owner=_owner_for(folder))
    except OSError as err:
        raise HandoffStorageError(_write_failure(path, err)) from err


def write_atomically(path: Path, payload: bytes) -> None:
    """
    Replace a file so that readers see either the old or the new version.

    :param path: The file.
    :param payload: The whole new content.
    :raises HandoffStorageError: It could not be written; the previous version is intact.
    """
    tmp = write_temporary(path, payload)
    try:
        private_files.replace_with(tmp, path)
    except OSError as err:
        raise HandoffStorageError(_write_failure(path, err)) from err


def backup_and_replace(path: Path, tmp: Path, previous: bytes | None) -> bool:
    """
    Keep the current file as its backup (a private copy), then move ``tmp`` over it.

    :param path: The session file.
    :param tmp: The verified new file, from :func:`write_temporary`.
    :param previous: The content the decision to replace was made on (None: no file).
    :returns: False, changing nothing, when the file no longer holds ``previous`` (someone
        signed in through the alexa provider's dialog meanwhile).
    :raises HandoffStorageError: The backup or the rename failed; the file is unchanged.
    """
    current = read_optional(path)
    if current != previous:
        return False
    if current is not None:
        write_atomically(backup_file(path), current)
    try:
        private_files.replace_with(tmp, path)
    except OSError as err:
        raise HandoffStorageError(_write_failure(path, err)) from err
    return True


@contextlib.asynccontextmanager
async def folder_locked(folder: Path, *, wait: float = LOCK_WAIT) -> AsyncIterator[None]:
    """
    Hold an OS lock on Music Assistant's ``.alexa`` folder while a hand-off reads and updates it.

    Music Assistant and ``music-assistant-alexa handoff`` may hand over at the same moment: the
    lock keeps one from writing back its older copy of our record (whose lost digest would make
    our own file look like the user's). The folder itself is locked, so no file is added to it.
    Where there is no OS lock (not POSIX, or a file system without locks) it goes on without.

    :param folder: The ``.alexa`` folder (created if missing).
    :param wait: Seconds to wait for another process.
    :raises HandoffStorageError: Another process held it for longer, or the folder is unusable.
    """
    _ensure_folder(folder)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        raise HandoffStorageError(_write_failure(folder, err)) from err
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                msg = (
                    f"Another process is handing the session over in {HANDOFF_FOLDER}; "
                    f"waited {wait:g} s. Try again in a minute."
                )
                raise HandoffStorageError(msg)
            await asyncio.sleep(LOCK_POLL)
        yield
    finally:
        os.close(fd)  # closing the folder's descriptor releases the lock


def _try_lock(fd: int) -> bool:
    """Try once to lock an open folder: True when held (or when no lock is to be had)."""
    if sys.platform == "win32":  # pragma: no cover - no flock there
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a file system without locks: as before the lock existed
    return True


def _ensure_folder(folder: Path) -> None:
    if not folder.parent.is_dir():
        # Never guess: a mistyped data folder must not grow a session file somewhere else.
        msg = "Music Assistant's data folder does not exist; give the folder it stores data in."
        raise HandoffInputError(msg)
    try:
        if not folder.is_dir():
            folder.mkdir(mode=FOLDER_MODE)
            owner = _owner_for(folder.parent)
            if owner is not None:
                os.chown(folder, *owner)
        if stat.S_IMODE(folder.stat().st_mode) != FOLDER_MODE:
            folder.chmod(FOLDER_MODE)
    except OSError as err:
        raise HandoffStorageError(_write_failure(folder, err)) from err


def _owner_for(folder: Path) -> tuple[int, int] | None:
    """Return the uid/gid for new files when running as root: the folder's owner's."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    info = folder.stat()
    return (info.st_uid, info.st_gid) if info.st_uid != 0 else None


def _write_failure(path: Path, err: OSError) -> str:
    reason = private_files.failure_reason(err)
    where = masked_name(path) if path.name != HANDOFF_FOLDER else HANDOFF_FOLDER
    return f"Could not write {where}: {reason}. The previous file is unchanged."
