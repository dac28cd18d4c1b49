"""
The per-account session folder.

``<folder>/registration.json`` holds our registered device under ``formerRegistrationData``,
``cookies.json`` the marketplace cookies with their timestamp, ``state.json`` the attempt record
and event history (nothing secret). The folder is 0700 and every file 0600, whatever the umask.
Files are written atomically (temporary file, fsync, rename, fsync of the folder), so a crash or
a full disk leaves the previous version intact. A file that cannot be read is moved aside (never
silently overwritten) and reported, and the caller treats the account as "needs sign-in".
Read-only callers (diagnostics, a clean-up that only needs the marketplace) use :meth:`peek`,
which moves nothing. Nothing else reads or writes these files.

Disk I/O runs in a worker thread: an fsync on a slow SD card must not stall Music Assistant's
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from mashumaro.exceptions import InvalidFieldValue, MissingField

from .errors import StoreError
from .models import SCHEMA_VERSION, CookieFile, Registration, RegistrationFile, SessionState

if TYPE_CHECKING:
    from pathlib import Path

    from .models import StoreModel

_LOGGER = logging.getLogger(__name__)

FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
REGISTRATION_FILE: Final = "registration.json"
COOKIES_FILE: Final = "cookies.json"
STATE_FILE: Final = "state.json"
#: Marks the copy of a file that could not be read: ``<name>.unreadable-<epoch>``.
UNREADABLE_MARK: Final = ".unreadable-"
#: Marks a backup of a whole folder: ``<folder>.backup-<UTC stamp>``.
BACKUP_MARK: Final = ".backup-"
#: A temporary file this old belongs to a save that will never finish.
STALE_TEMPORARY_AGE: Final = 60.0

_ModelT = TypeVar("_ModelT", bound="StoreModel")
#: Store models whose serialiser has been compiled (in a worker thread).
_COMPILED: set[type[StoreModel]] = set()


@dataclass(frozen=True, slots=True, repr=False)
class StoreSnapshot:
    """What a session folder holds, read without moving anything aside."""

    registration: Registration | None
    cookies: CookieFile | None
    state: SessionState | None
    #: Files that exist but cannot be read (left where they are).
    unreadable: frozenset[str]
    #: Names of the copies of unreadable files moved aside earlier.
    set_aside: tuple[str, ...]


class SessionStore:
    """One account's session folder."""

    def __init__(self, folder: Path) -> None:
        """
        Create the store; nothing is touched on disk until the first read or write.

        :param folder: The account's folder (created 0700 on the first write).
        """
        self.folder = folder
        #: Files found unreadable and moved aside, newest last (paths of the copies).
        self.quarantined: list[Path] = []
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        """Return a representation naming the folder only."""
        return f"SessionStore({str(self.folder)!r})"

    # --- reading ---------------------------------------------------------------------------

    async def read_registration(self) -> Registration | None:
        """Return the stored device registration, or None if missing or unreadable."""
        stored = await asyncio.to_thread(self._read, REGISTRATION_FILE, RegistrationFile)
        return stored.former_registration_data if stored else None

    async def read_cookies(self) -> CookieFile | None:
        """Return the stored cookies, or None when there are none (or they are unreadable)."""
        return await asyncio.to_thread(self._read, COOKIES_FILE, CookieFile)

    async def read_state(self) -> SessionState:
        """Return the stored attempt record and history (a fresh one when there is none)."""
        state = await asyncio.to_thread(self._read, STATE_FILE, SessionState)
        return state or SessionState()

    async def peek(self) -> StoreSnapshot:
        """Return what the folder holds without changing anything (for read-only callers)."""
        return await asyncio.to_thread(self._peek)

    def _peek(self) -> StoreSnapshot:
        unreadable: set[str] = set()

        def load(name: str, model: type[_ModelT]) -> _ModelT | None:
            try:
                record, problem = self._load(name, model)
            except OSError:
                record, problem = None, "OSError"
            if problem is not None:
                unreadable.add(name)
            return record

        stored = load(REGISTRATION_FILE, RegistrationFile)
        cookies = load(COOKIES_FILE, CookieFile)
        state = load(STATE_FILE, SessionState)
        try:
            set_aside = tuple(
                sorted(p.name for p in self.folder.iterdir() if UNREADABLE_MARK in p.name)
            )
        except OSError:
            set_aside = ()
        registration = stored.former_registration_data if stored else None
        return StoreSnapshot(registration, cookies, state, frozenset(unreadable), set_aside)

    def _read(self, name: str, model: type[_ModelT]) -> _ModelT | None:
        try:
            record, problem = self._load(name, model)
        except OSError as err:
            msg = f"Cannot read {name} in the session folder ({err.strerror})."
            raise StoreError(msg) from err
        if problem is not None:
            self._quarantine(self.folder / name, reason=problem)
        return record

    def _load(self, name: str, model: type[_ModelT]) -> tuple[_ModelT | None, str | None]:
        """Return a file's record, or None and why it cannot be read (None too when missing)."""
        try:
            raw = (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None, None
        try:
            data: Any = json.loads(raw)
            return _parse(data, model), None
        except (ValueError, TypeError, KeyError, MissingField, InvalidFieldValue) as err:
            return None, type(err).__name__

    def _quarantine(self, path: Path, *, reason: str) -> None:
        """Move an unreadable file aside so nothing overwrites it, and remember where it went."""
        target = path.with_name(f"{path.name}{UNREADABLE_MARK}{int(time.time())}")
        try:
            path.replace(target)
        except OSError:
            _LOGGER.warning(
                "Session file %s is unreadable (%s) and could not be moved", path.name, reason
            )
            return
        _LOGGER.warning(
            "Session file %s is unreadable (%s); kept a copy as %s", path.name, reason, target.name
        )
        self.quarantined.append(target)

    # --- writing ---------------------------------------------------------------------------

    async def write_registration(self, registration: Registration) -> None:
        """
        Store the device registration.

        :param registration: The registration.
        """
        await self._write(REGISTRATION_FILE, RegistrationFile(registration))

    async def write_cookies(self, cookies: CookieFile) -> None:
        """
        Store the marketplace cookies.

        :param cookies: The cookies with their timestamp.
        """
        await self._write(COOKIES_FILE, cookies)

    async def write_state(self, state: SessionState) -> None:
        """
        Store the attempt record and history.

        :param state: The state.
        """
        await self._write(STATE_FILE, state)

    async def _write(self, name: str, record: StoreModel) -> None:
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            # One save of a file at a time, each serialised on the loop when its turn comes:
            # the last save to land is always the newest state.
            if type(record) not in _COMPILED:
                # mashumaro compiles a model's serialiser at first use (see models.py); doing
                # that in a worker keeps the event loop free of a ~15 ms compile.
                await asyncio.to_thread(record.to_dict)
                _COMPILED.add(type(record))
            payload = json.dumps(record.to_dict(), indent=2, sort_keys=True).encode()
            await asyncio.to_thread(self.write_bytes_atomically, name, payload)

    def ensure_folder(self) -> None:
        """Create the folder (0700) if needed, and tighten its mode if it drifted."""
        self.folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(self.folder.stat().st_mode) != FOLDER_MODE:
            self.folder.chmod(FOLDER_MODE)

    def write_bytes_atomically(self, name: str, payload: bytes) -> None:
        """
        Write one file so that readers see either the old or the new version, never a mix.

        :param name: File name inside the folder.
        :param payload: The whole new content.
        :raises StoreError: The file could not be written; the previous version is intact.
        """
        target = self.folder / name
        # A random name: a temporary file left by a killed process (whose pid a restarted
        # container may reuse) must never block the next save.
        tmp = self.folder / f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            self.ensure_folder()
            self._remove_stale_temporaries(name)
            # O_EXCL + explicit mode: the file is private from its first byte, whatever the umask.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)
                with os.fdopen(fd, "wb", closefd=False) as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
            finally:
                os.close(fd)
            tmp.replace(target)
            self._fsync_folder()
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(_write_failure_message(name, err)) from err

    def _remove_stale_temporaries(self, name: str) -> None:
        """Delete temporary files of a save that a crash interrupted (older than a minute)."""
        cutoff = time.time() - STALE_TEMPORARY_AGE
        for leftover in self.folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def _fsync_folder(self) -> None:
        # The rename is durable only once the folder entry is on disk.
        with contextlib.suppress(OSError):
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # --- maintenance -----------------------------------------------------------------------

    def backup(self, *, now: float) -> Path | None:
        """
        Copy the whole folder next to itself (0700), before a reset or removal.

        :param now: Epoch seconds, used in the copy's name.
        :returns: The copy's path, or None when there was nothing to back up.
        :raises StoreError: The copy failed (the folder itself is untouched).
        """
        if not self.folder.exists():
            return None
        target: Path | None = None
        try:
            target = self._new_backup_folder(now)
            shutil.copytree(self.folder, target, dirs_exist_ok=True)
            target.chmod(FOLDER_MODE)  # copytree gave it the mode of the original
            for child in target.iterdir():
                child.chmod(FILE_MODE)
        except OSError as err:  # shutil.Error included
            if target is not None:
                shutil.rmtree(target, ignore_errors=True)  # half a copy of the secrets
            reason = err.strerror or type(err).__name__
            msg = f"Could not back up the session folder ({reason}); nothing was deleted."
            raise StoreError(msg) from err
        return target

    def _new_backup_folder(self, now: float) -> Path:
        """Create the backup's folder, 0700 before a single secret is copied into it."""
        # copytree would create it with the umask's mode and tighten it only at the end,
        # leaving the secrets readable by other users while the copy runs.
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        base = f"{self.folder.name}{BACKUP_MARK}{stamp}"
        target = self.folder.with_name(base)
        suffix = 1
        while True:
            try:
                target.mkdir(mode=FOLDER_MODE)
            except FileExistsError:
                suffix += 1
                target = self.folder.with_name(f"{base}-{suffix}")
                continue
            target.chmod(FOLDER_MODE)  # the umask may have taken bits from mkdir's mode
            return target

    def wipe(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def permission_problems(self) -> list[tuple[str, int]]:
        """Return (name, mode) of the folder and secret files whose mode is not 0700 / 0600."""
        problems: list[tuple[str, int]] = []
        if not self.folder.exists():
            return problems
        mode = stat.S_IMODE(self.folder.stat().st_mode)
        if mode != FOLDER_MODE:
            problems.append((".", mode))
        for name in (REGISTRATION_FILE, COOKIES_FILE, STATE_FILE):
            path = self.folder / name
            if path.exists() and (mode := stat.S_IMODE(path.stat().st_mode)) != FILE_MODE:
                problems.append((name, mode))
        return problems

    def fix_permissions(self) -> None:
        """Set the folder to 0700 and the files to 0600."""
        if not self.folder.exists():
            return
        self.folder.chmod(FOLDER_MODE)
        for name in (REGISTRATION_FILE, COOKIES_FILE, STATE_FILE):
            path = self.folder / name
            if path.exists():
                path.chmod(FILE_MODE)


def _parse(data: Any, model: type[_ModelT]) -> _ModelT:
    """Parse one stored file's JSON, refusing what is not ours to read."""
    if not isinstance(data, dict):
        msg = "not a JSON object"
        raise TypeError(msg)
    if data.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
        msg = "written by a newer version"
        raise ValueError(msg)
    return model.from_dict(data)


def _write_failure_message(name: str, err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason = "the folder is read-only or not ours"
    else:
        reason = err.strerror or type(err).__name__
    return f"Could not save {name}: {reason}. The previous session is kept unchanged."
