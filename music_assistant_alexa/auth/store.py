"""
The per-account session folder.

``<folder>/registration.json`` holds our registered device under ``formerRegistrationData``,
``cookies.json`` the marketplace cookies with their timestamp, ``state.json`` the attempt record
and event history (nothing secret), ``browser_sign_in.json`` a sign-in in the user's own browser
while it waits for its final address (with its PKCE verifier). The folder is 0700 and every file
0600, whatever the umask. Files are written atomically (temporary file, fsync, rename, fsync of
the folder), so a crash or a full disk leaves the previous version intact. A file that cannot be
read is moved aside (never silently overwritten) and reported, and the caller treats the account
as "needs sign-in"; a file written by a newer version is left exactly as it is, and never
overwritten. Read-only callers
(diagnostics, a clean-up that only needs the marketplace) use :meth:`SessionStore.peek`, which
moves nothing. Nothing else reads or writes these files.

The folder is ours alone: we create it empty and mark it (``.music-assistant-alexa``). A folder
that holds anything else is refused before it is touched: never made private, never emptied.
The mark is also the folder's lock: an OS file lock that every process using the folder (Music
Assistant, the command line) takes for each read-modify-write of a file and for each sign-in and
refresh, so the attempt budget and the single refresh hold across processes. Waiting for it is
bounded (two minutes by default) and logged once it takes more than a second.

Every value read is bounded (see :mod:`.bounds`). Disk I/O runs in a worker thread: an fsync on a
slow SD card must not stall Music Assistant's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

from mashumaro.exceptions import InvalidFieldValue, MissingField

from .bounds import BoundsError, check_record, load_json
from .errors import (
    NewerVersionError,
    StoreBusyError,
    StoreError,
    StoreNotOursError,
)
from .models import (
    SCHEMA_VERSION,
    BrowserSignInRecord,
    CookieFile,
    Registration,
    RegistrationFile,
    SessionState,
)
from .private_files import (
    FILE_MODE,
    FOLDER_MODE,
    NotAFileError,
    failure_reason,
    read_small_file,
    replace_with,
    write_temporary,
)

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from .models import StoreModel

_LOGGER = logging.getLogger(__name__)

REGISTRATION_FILE: Final = "registration.json"
COOKIES_FILE: Final = "cookies.json"
STATE_FILE: Final = "state.json"
#: The sign-in in the user's own browser that waits for its final address (issue 15).
BROWSER_SIGN_IN_FILE: Final = "browser_sign_in.json"
SECRET_FILES: Final = (REGISTRATION_FILE, COOKIES_FILE, BROWSER_SIGN_IN_FILE)
SESSION_FILES: Final = (REGISTRATION_FILE, COOKIES_FILE, STATE_FILE, BROWSER_SIGN_IN_FILE)
#: Marks a folder as a session folder of ours; also the file every process locks.
STORE_MARKER: Final = ".music-assistant-alexa"
_MARKER_TEXT: Final = (
    b"This folder holds one Amazon session of music-assistant-alexa. Do not put other files "
    b"here: the folder is private to the session, and a reset deletes the session's files.\n"
)
#: Largest session file we read (they are a few KB).
MAX_FILE_BYTES: Final = 1024 * 1024
#: Seconds a sign-in, refresh or save waits for another process holding the folder's lock.
#: A sign-in holds it for at most about a dozen requests, each bounded by the request timeout.
DEFAULT_LOCK_TIMEOUT: Final = 120.0
#: Seconds a read waits for the lock to move an unreadable file aside (else it leaves it).
QUARANTINE_LOCK_TIMEOUT: Final = 2.0
#: After this many seconds of waiting for the lock, say so in the log.
LOCK_NOTICE_AFTER: Final = 1.0
#: Marks the copy of a file that could not be read: ``<name>.unreadable-<epoch>``.
UNREADABLE_MARK: Final = ".unreadable-"
#: Marks a backup of a whole folder: ``<folder>.backup-<UTC stamp>``.
BACKUP_MARK: Final = ".backup-"

_ModelT = TypeVar("_ModelT", bound="StoreModel")
#: Store models whose serialiser has been compiled (in a worker thread).
_COMPILED: set[type[StoreModel]] = set()
#: (device, inode, modification time, size) of a file, or None when it does not exist.
_FileKey: TypeAlias = tuple[int, int, int, int] | None


class FolderState(StrEnum):
    """What a session folder's path holds."""

    MISSING = "missing"
    #: Marked as ours.
    OURS = "ours"
    #: Not marked, but empty or holding only session files (a folder of an older version).
    UNMARKED = "unmarked"
    #: Anything else: not ours to change.
    FOREIGN = "foreign"


@dataclass(slots=True)
class Removal:
    """What :meth:`SessionStore.remove_session` did, file by file."""

    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    #: (name, reason) of every file that could not be removed.
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Files that are not the session's, left in place (only in a marked folder).
    strangers: list[str] = field(default_factory=list)
    folder_removed: bool = False


@dataclass(slots=True)
class _Loaded:
    """One file read in a worker thread: the record, or why it is unreadable."""

    record: Any = None
    problem: str | None = None
    key: _FileKey = None


class _LockHandle:
    """One held OS lock on a folder's mark (or a stand-in where there are no OS locks)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)


_BUSY: Final = object()


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

    @property
    def marketplace(self) -> str | None:
        """
        Return the marketplace the stored session is on, or None when none is signed in.

        The registration's: it is written first when a session moves to another marketplace,
        and cookies of another marketplace are never used.
        """
        registration = self.registration
        return registration.marketplace if registration and registration.is_registered else None


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
        #: Why each moved-aside copy was unreadable, by the copy's name.
        self.quarantine_reasons: dict[str, str] = {}
        #: Session files written by a newer version: left untouched, never overwritten.
        self.newer_files: set[str] = set()
        #: Seconds to wait for another process holding the folder's lock.
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT
        self._locks: dict[str, asyncio.Lock] = {}
        self._task_lock = asyncio.Lock()
        self._lock_owner: asyncio.Task[Any] | None = None
        self._os_lock: _LockHandle | None = None
        self._seen: dict[str, _FileKey] = {}
        self._marked = False

    def __repr__(self) -> str:
        """Return a representation naming the folder only."""
        return f"SessionStore({str(self.folder)!r})"

    # --- whose folder is it -------------------------------------------------------------------

    def inspect(self) -> tuple[FolderState, list[str]]:
        """
        Return what the folder's path holds, and the names that are not ours.

        :raises StoreError: The folder cannot be listed.
        """
        try:
            info = self.folder.stat()
        except FileNotFoundError:
            return FolderState.MISSING, []
        except OSError as err:
            msg = f"Cannot open the session folder ({err.strerror or type(err).__name__})."
            raise StoreError(msg) from err
        if not stat.S_ISDIR(info.st_mode):
            return FolderState.FOREIGN, []
        try:
            names = [path.name for path in self.folder.iterdir()]
        except OSError as err:
            msg = f"Cannot list the session folder ({err.strerror or type(err).__name__})."
            raise StoreError(msg) from err
        if STORE_MARKER in names:
            return FolderState.OURS, []
        strangers = sorted(name for name in names if not is_session_file_name(name))
        return (FolderState.FOREIGN, strangers) if strangers else (FolderState.UNMARKED, [])

    def check_ours(self) -> FolderState:
        """
        Refuse a folder that is not a session folder (ours, an older version's, or empty).

        :raises StoreNotOursError: The path is a file, or a folder holding other files.
        """
        if self._marked and (self.folder / STORE_MARKER).exists():
            return FolderState.OURS
        state, strangers = self.inspect()
        if state is FolderState.FOREIGN:
            raise self._not_ours(strangers)
        self._marked = state is FolderState.OURS
        return state

    def _not_ours(self, strangers: list[str]) -> StoreNotOursError:
        if not strangers:
            msg = (
                f"{self.folder} is not a folder. Choose an empty folder (or a session folder) "
                "for the session; nothing was changed."
            )
            return StoreNotOursError(msg)
        shown = ", ".join(strangers[:3]) + (", ..." if len(strangers) > 3 else "")
        msg = (
            f"The folder {self.folder} holds files that are not part of a session ({shown}). "
            "Choose an empty folder or an existing session folder; nothing was changed."
        )
        return StoreNotOursError(msg)

    def ensure_folder(self) -> None:
        """
        Create the folder (0700, marked) if needed, and tighten its mode if it drifted.

        :raises StoreNotOursError: The folder holds other files (it is left untouched).
        :raises OSError: The folder could not be created or marked.
        """
        state = self.check_ours()
        if state is FolderState.MISSING:
            self.folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(self.folder.stat().st_mode) != FOLDER_MODE:
            self.folder.chmod(FOLDER_MODE)
        if state is not FolderState.OURS:
            self._mark()

    def _mark(self) -> None:
        try:
            fd = os.open(
                self.folder / STORE_MARKER,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                FILE_MODE,
            )
        except FileExistsError:
            self._marked = True
            return
        try:
            os.fchmod(fd, FILE_MODE)
            os.write(fd, _MARKER_TEXT)
        finally:
            os.close(fd)
        self._marked = True

    def owner_problems(self) -> list[tuple[str, int]]:
        """
        Return (name, owner uid) of the folder (".") and session files another user owns.

        Files of another user make every save fail, or, when we run as root, leave files the
        user can no longer read.
        """
        geteuid = getattr(os, "geteuid", None)
        if geteuid is None or not self.folder.exists():
            return []
        me = geteuid()
        problems: list[tuple[str, int]] = []
        for name in (".", *SESSION_FILES):
            with contextlib.suppress(OSError):
                owner = (self.folder / name).lstat().st_uid
                if owner != me:
                    problems.append((name, owner))
        return problems

    # --- the lock -----------------------------------------------------------------------------

    def holds_lock(self) -> bool:
        """Return whether the running task holds this store's lock."""
        task = asyncio.current_task()
        return task is not None and self._lock_owner is task

    @contextlib.asynccontextmanager
    async def locked(
        self, *, create: bool = True, wait: float | None = None
    ) -> AsyncIterator[None]:
        """
        Hold the folder's lock: this store's tasks and every other process wait.

        Re-entrant for the task holding it. Without ``create`` a missing folder is not created
        (there is nothing on disk to protect; a save inside still locks before writing).

        :param create: Create (and mark) the folder if it is missing.
        :param wait: Seconds to wait (default :attr:`lock_timeout`).
        :raises StoreBusyError: Another process held the lock for longer.
        :raises StoreNotOursError: The folder holds other files.
        """
        wait = self.lock_timeout if wait is None else wait
        deadline = time.monotonic() + wait
        if self.holds_lock():
            if create and self._os_lock is None:
                self._os_lock = await self._acquire_os_lock(create=True, deadline=deadline)
            yield
            return
        try:
            async with asyncio.timeout(max(0.0, wait)):
                await self._task_lock.acquire()
        except TimeoutError:
            raise self._busy(wait) from None
        try:
            self._os_lock = await self._acquire_os_lock(create=create, deadline=deadline)
            self._lock_owner = asyncio.current_task()
            yield
        finally:
            self._lock_owner = None
            handle, self._os_lock = self._os_lock, None
            if handle is not None:
                handle.release()
            self._task_lock.release()

    def _busy(self, waited: float) -> StoreBusyError:
        msg = (
            f"Another process (Music Assistant or the command line) is using the session folder "
            f"{self.folder}; waited {waited:g} s for it. Try again in a minute."
        )
        return StoreBusyError(msg)

    async def _acquire_os_lock(self, *, create: bool, deadline: float) -> _LockHandle | None:
        started = time.monotonic()
        delay = 0.005
        said: int | None = None
        while True:
            handle = await asyncio.to_thread(self._try_os_lock, create=create)
            if handle is not _BUSY:
                return handle if isinstance(handle, _LockHandle) else None
            now = time.monotonic()
            if now >= deadline:
                raise self._busy(round(now - started, 1))
            # Said at once for those who look (-v), and loudly once it takes a while.
            level = logging.INFO if said is None else None
            if said != logging.WARNING and now - started >= LOCK_NOTICE_AFTER:
                level = logging.WARNING
            if level is not None:
                said = level
                _LOGGER.log(
                    level,
                    "Another process is using the session folder %s; waiting up to %d s for it",
                    self.folder,
                    max(0, round(deadline - started)),
                )
            await asyncio.sleep(min(delay, deadline - now))
            delay = min(delay * 2, 0.1)

    def _try_os_lock(self, *, create: bool) -> object:
        """Try once: a held handle, None (no folder, nothing to lock), or _BUSY."""
        if not create and self.check_ours() is FolderState.MISSING:
            return None
        try:
            self.ensure_folder()
        except OSError as err:
            raise StoreError(_write_failure_message("the session folder", err)) from err
        if sys.platform == "win32":
            return _LockHandle(None)  # no OS lock here: one process per folder, please
        marker = self.folder / STORE_MARKER
        try:
            fd = os.open(marker, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            return _BUSY  # removed by a reset this instant: look again
        except OSError as err:
            msg = f"Cannot lock the session folder ({err.strerror or type(err).__name__})."
            raise StoreError(msg) from err
        return _flock(fd, marker)

    # --- reading ------------------------------------------------------------------------------

    async def read_registration(self) -> Registration | None:
        """Return the stored device registration, or None if missing or unreadable."""
        stored = await self._read_record(REGISTRATION_FILE, RegistrationFile)
        return stored.former_registration_data if stored else None

    async def read_cookies(self) -> CookieFile | None:
        """Return the stored cookies, or None when there are none (or they are unreadable)."""
        return await self._read_record(COOKIES_FILE, CookieFile)

    async def read_state(self) -> SessionState:
        """Return the stored attempt record and history (a fresh one when there is none)."""
        state = await self._read_record(STATE_FILE, SessionState)
        return state or SessionState()

    async def read_browser_sign_in(self) -> BrowserSignInRecord | None:
        """Return the stored browser sign-in, or None when there is none (or it is unreadable)."""
        return await self._read_record(BROWSER_SIGN_IN_FILE, BrowserSignInRecord)

    async def peek(self) -> StoreSnapshot:
        """Return what the folder holds without changing anything (for read-only callers)."""
        return await asyncio.to_thread(self._peek)

    def _peek(self) -> StoreSnapshot:
        # A reader of its own: what it sees must not count as "read" for this store, whose
        # records in memory may be older (see :meth:`changed_on_disk`).
        reader = SessionStore(self.folder)
        unreadable: set[str] = set()

        def load(name: str, model: type[_ModelT]) -> _ModelT | None:
            try:
                loaded = reader._load(name, model)
            except StoreError:
                unreadable.add(name)
                return None
            if loaded.problem is not None:
                unreadable.add(name)
            record: _ModelT | None = loaded.record
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

    async def _read_record(self, name: str, model: type[_ModelT]) -> _ModelT | None:
        loaded = await asyncio.to_thread(self._load, name, model)
        if loaded.problem is not None:
            await self._quarantine(name, loaded)
            return None
        record: _ModelT | None = loaded.record
        return record

    def _load(self, name: str, model: type[StoreModel]) -> _Loaded:
        """Read and check one file (in a worker thread); never moves anything."""
        self.check_ours()
        path = self.folder / name
        try:
            raw, key = _read_regular_file(path)
        except FileNotFoundError:
            self._seen[name] = None
            self.newer_files.discard(name)
            return _Loaded()
        except NotAFileError as err:
            return _Loaded(problem=str(err), key=_lstat_key(path))
        except OSError as err:
            msg = f"Cannot read {name} in the session folder ({err.strerror})."
            raise StoreError(msg) from err
        self._seen[name] = key
        self.newer_files.discard(name)
        return self._parse(name, raw, key, model)

    def _parse(self, name: str, raw: bytes, key: _FileKey, model: type[StoreModel]) -> _Loaded:
        try:
            data = _load_object(raw)
        except BoundsError as err:
            return _Loaded(problem=str(err), key=key)
        version = data.get("schema_version", SCHEMA_VERSION)
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            self.newer_files.add(name)
            _LOGGER.warning(
                "Session file %s was written by a newer version (schema %d); it is left "
                "untouched: update music-assistant-alexa",
                name,
                version,
            )
            return _Loaded(key=key)
        try:
            check_record(data, model)
            record = model.from_dict(data)
        except BoundsError as err:
            return _Loaded(problem=str(err), key=key)
        except (MissingField, InvalidFieldValue) as err:
            # Their text quotes the value; name the field only.
            return _Loaded(problem=f"the field {err.field_name} is missing or wrong", key=key)
        except (ValueError, TypeError, KeyError) as err:
            return _Loaded(problem=f"not a session record ({type(err).__name__})", key=key)
        return _Loaded(record=record, key=key)

    async def _quarantine(self, name: str, loaded: _Loaded) -> None:
        """Move an unreadable file aside, under the lock, unless someone replaced it meanwhile."""
        reason = loaded.problem or "unreadable"
        try:
            async with self.locked(create=False, wait=QUARANTINE_LOCK_TIMEOUT):
                target = await asyncio.to_thread(self._move_aside, name, loaded.key)
        except StoreError as err:
            _LOGGER.warning(
                "Session file %s is unreadable (%s) and was left in place: %s", name, reason, err
            )
            return
        if target is None:
            return
        _LOGGER.warning(
            "Session file %s is unreadable (%s); kept a copy as %s", name, reason, target.name
        )
        self.quarantined.append(target)
        self.quarantine_reasons[target.name] = reason

    def _move_aside(self, name: str, key: _FileKey) -> Path | None:
        path = self.folder / name
        if key is None or _lstat_key(path) != key:
            return None  # replaced (or removed) since it was read: not the file we judged
        base = f"{name}{UNREADABLE_MARK}{int(time.time())}"
        target = self.folder / base
        suffix = 1
        # Under the lock nobody else moves files here: a free name stays free.
        while os.path.lexists(target):
            suffix += 1
            target = self.folder / f"{base}-{suffix}"
        try:
            path.replace(target)
        except OSError as err:
            _LOGGER.warning("Could not move the unreadable %s aside (%s)", name, err.strerror)
            return None
        self._seen[name] = None
        return target

    def changed_on_disk(self, name: str) -> bool:
        """
        Return whether a file changed since this store last read or wrote it.

        True for a file never read: another process may have written it.

        :param name: The file's name.
        """
        return name not in self._seen or self._seen[name] != _lstat_key(self.folder / name)

    # --- writing ------------------------------------------------------------------------------

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

    async def write_browser_sign_in(self, record: BrowserSignInRecord) -> None:
        """
        Store the browser sign-in.

        :param record: The attempt.
        """
        await self._write(BROWSER_SIGN_IN_FILE, record)

    async def _write(self, name: str, record: StoreModel) -> None:
        async with self.locked():
            lock = self._locks.setdefault(name, asyncio.Lock())
            async with lock:
                # One save of a file at a time, each serialised on the loop when its turn comes:
                # the last save to land is always the newest state.
                if type(record) not in _COMPILED:
                    # mashumaro compiles a model's serialiser at first use (see models.py);
                    # doing that in a worker keeps the event loop free of a ~15 ms compile.
                    await asyncio.to_thread(record.to_dict)
                    _COMPILED.add(type(record))
                data = record.to_dict()
                try:
                    # Never write what the next read would refuse.
                    check_record(data, type(record))
                except BoundsError as err:
                    msg = f"Could not save {name}: {err}. The previous session is kept unchanged."
                    raise StoreError(msg) from err
                payload = _encode(data)
                await asyncio.to_thread(self.write_bytes_atomically, name, payload)

    def write_bytes_atomically(self, name: str, payload: bytes) -> None:
        """
        Write one file so that readers see either the old or the new version, never a mix.

        :param name: File name inside the folder.
        :param payload: The whole new content.
        :raises NewerVersionError: A newer version wrote the file; it is left untouched.
        :raises StoreNotOursError: The folder holds other files.
        :raises StoreError: The file could not be written; the previous version is intact.
        """
        target = self.folder / name
        try:
            self.ensure_folder()
            # Peek at the file on disk only when it may not be the one this store last saw.
            if name in self.newer_files or (
                self.changed_on_disk(name) and _written_by_newer_version(target)
            ):
                self.newer_files.add(name)
                msg = (
                    f"{name} was written by a newer version of music-assistant-alexa; this "
                    "version leaves it untouched. Update music-assistant-alexa (nothing was "
                    "changed)."
                )
                raise NewerVersionError(msg)
            tmp = write_temporary(target, payload)
            key = _key_of(tmp.stat())  # the same file (inode) once renamed into place
            replace_with(tmp, target)
        except OSError as err:
            raise StoreError(_write_failure_message(name, err)) from err
        self._seen[name] = key

    # --- maintenance --------------------------------------------------------------------------

    def backup(self, *, now: float) -> Path | None:
        """
        Copy the folder's files next to it (0700), before a reset or removal.

        Only regular files are copied (a FIFO or a link in the folder is skipped), and not the
        folder's mark.

        :param now: Epoch seconds, used in the copy's name.
        :returns: The copy's path, or None when there was nothing to back up.
        :raises StoreNotOursError: The folder holds other files.
        :raises StoreError: The copy failed (the folder itself is untouched).
        """
        if self.check_ours() is FolderState.MISSING:
            return None
        target: Path | None = None
        try:
            target = self._new_backup_folder(now)
            for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
                if entry.name == STORE_MARKER or not entry.is_file(follow_symlinks=False):
                    continue
                copy = target / entry.name
                shutil.copyfile(entry.path, copy, follow_symlinks=False)
                copy.chmod(FILE_MODE)
        except OSError as err:  # shutil.Error included
            if target is not None:
                shutil.rmtree(target, ignore_errors=True)  # half a copy of the secrets
            reason = err.strerror or type(err).__name__
            msg = f"Could not back up the session folder ({reason}); nothing was deleted."
            raise StoreError(msg) from err
        return target

    def _new_backup_folder(self, now: float) -> Path:
        """Create the backup's folder, 0700 before a single secret is copied into it."""
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

    def can_change(self) -> bool:
        """Return whether files in the folder can be created and removed (not read-only)."""
        return os.access(self.folder, os.W_OK | os.X_OK)

    def remove_session(self, *, keep_state: bool) -> Removal:
        """
        Remove exactly the session's files, reporting each; nothing else is touched.

        Removed: the registration, the cookies, moved-aside copies and leftover temporary files.
        With ``keep_state`` the attempt record (``state.json``) and the folder stay, so a reset
        cannot hand out fresh sign-in attempts; without it they go too, and the folder with them
        when nothing else is in it. Call it with the lock held.

        :param keep_state: Keep ``state.json`` and the folder.
        """
        report = Removal()
        try:
            names = sorted(path.name for path in self.folder.iterdir())
        except FileNotFoundError:
            return report
        except OSError as err:
            report.failed.append((".", err.strerror or type(err).__name__))
            return report
        first = [n for n in SECRET_FILES if n in names]  # the secrets before anything else
        for name in first + [n for n in names if n not in first]:
            if name == STORE_MARKER or (keep_state and name == STATE_FILE):
                continue
            if is_session_file_name(name):
                self._remove(name, report)
            else:
                report.strangers.append(name)
        if keep_state:
            report.kept.extend(n for n in (STATE_FILE,) if n in names)
        elif not report.strangers and not report.failed:
            # Nothing else is in it: the folder goes too (the mark last).
            self._remove(STORE_MARKER, report, listed=False)
            self._remove_folder(report)
        return report

    def _remove_folder(self, report: Removal) -> None:
        try:
            if self.folder.is_symlink():
                self.folder.resolve().rmdir()
                self.folder.unlink()
            else:
                self.folder.rmdir()
        except OSError as err:
            report.failed.append((".", err.strerror or type(err).__name__))
            return
        report.folder_removed = True
        self._marked = False

    def _remove(self, name: str, report: Removal, *, listed: bool = True) -> None:
        try:
            (self.folder / name).unlink()
        except FileNotFoundError:
            self._seen[name] = None
            return
        except OSError as err:
            report.failed.append((name, err.strerror or type(err).__name__))
            self._seen.pop(name, None)  # whatever is there now must be read again
            return
        self._seen[name] = None  # gone, and known to be: nothing to read back
        if listed:
            report.removed.append(name)

    def permission_problems(self) -> list[tuple[str, int]]:
        """Return (name, mode) of the folder and secret files whose mode is not 0700 / 0600."""
        problems: list[tuple[str, int]] = []
        if not self.folder.exists():
            return problems
        mode = stat.S_IMODE(self.folder.stat().st_mode)
        if mode != FOLDER_MODE:
            problems.append((".", mode))
        for name in SESSION_FILES:
            path = self.folder / name
            if path.exists() and (mode := stat.S_IMODE(path.stat().st_mode)) != FILE_MODE:
                problems.append((name, mode))
        return problems

    def fix_permissions(self) -> None:
        """
        Set the folder to 0700 and the files to 0600.

        :raises StoreNotOursError: The folder holds other files (it is left as it is).
        """
        if self.check_ours() is FolderState.MISSING:
            return
        self.folder.chmod(FOLDER_MODE)
        for name in SESSION_FILES:
            path = self.folder / name
            if path.exists():
                path.chmod(FILE_MODE)


def is_session_file_name(name: str) -> bool:
    """
    Return whether a name in a session folder is one of ours.

    Ours: the session files, their moved-aside copies, temporary files of a save, the mark.

    :param name: A file name.
    """
    if name == STORE_MARKER or name in SESSION_FILES:
        return True
    for base in SESSION_FILES:
        if name.startswith(f"{base}{UNREADABLE_MARK}"):
            return True
        if name.startswith(f".{base}.") and name.endswith(".tmp"):
            return True
    return False


def _load_object(raw: bytes) -> dict[str, Any]:
    data = load_json(raw)
    if not isinstance(data, dict):
        msg = "not a JSON object"
        raise BoundsError(msg)
    return data


def _encode(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False).encode()


def _key_of(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def _lstat_key(path: Path) -> _FileKey:
    try:
        return _key_of(os.lstat(path))
    except OSError:
        return None


def _read_regular_file(path: Path) -> tuple[bytes, _FileKey]:
    """
    Read a small regular session file, refusing anything else without blocking on it.

    :raises NotAFileError: A FIFO, a device, a link or a file that is too large.
    :raises FileNotFoundError: There is no such file.
    """
    raw, info = read_small_file(path, max_bytes=MAX_FILE_BYTES)
    return raw, _key_of(info)


def _flock(fd: int, marker: Path) -> object:
    """Try to lock an open mark without waiting: a held handle, or _BUSY."""
    if sys.platform == "win32":  # pragma: no cover - there is no flock; see _try_os_lock
        return _LockHandle(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return _BUSY
    except OSError as err:
        # A filesystem without locks (some network shares): go on without, and say so.
        _LOGGER.warning("The session folder cannot be locked (%s)", err.strerror)
        return _LockHandle(fd)
    try:
        # The holder before us may have deleted the folder (a reset): lock the mark that is
        # there now, not the deleted one we opened.
        current = marker.stat()
        held = os.fstat(fd)
        same = (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino)
    except FileNotFoundError:
        same = False
    if not same:
        _LockHandle(fd).release()
        return _BUSY
    return _LockHandle(fd)


def _written_by_newer_version(path: Path) -> bool:
    """Return whether a file on disk carries a schema newer than ours (any doubt: False)."""
    try:
        raw, _ = _read_regular_file(path)
        data = load_json(raw)
    except (OSError, NotAFileError, BoundsError):
        return False
    version = data.get("schema_version") if isinstance(data, dict) else None
    return isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION


def _write_failure_message(name: str, err: OSError) -> str:
    return f"Could not save {name}: {failure_reason(err)}. The previous session is kept unchanged."
