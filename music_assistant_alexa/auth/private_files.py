"""
Private files written atomically: the session folder's and the Alexa players' cookie file.

A file holding a secret is 0600 from its first byte (``O_EXCL`` with an explicit mode, whatever
the umask), written in full and fsynced under a random hidden name, then renamed over the old
one and the rename made durable by an fsync of the folder: a reader sees the old version or the
new one, never a mix, and a crash or a full disk leaves the old one intact. Callers map the
``OSError`` these raise onto their own errors, with :func:`failure_reason` for the words.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pathlib import Path

FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
#: A temporary file this old belongs to a save that will never finish.
STALE_TEMPORARY_AGE: Final = 60.0
_READ_CHUNK: Final = 65536


class NotAFileError(Exception):
    """The path holds something that must not be read: a FIFO, a device, a link, a huge file."""


def read_small_file(path: Path, *, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """
    Read a small regular file, refusing anything else without blocking on it.

    A FIFO put where a file belongs would otherwise hang the reader, and a huge file fill the
    memory; a link is not followed (it is not the file this folder holds).

    :param path: The file.
    :param max_bytes: The largest file accepted.
    :return: The bytes and the file's status (as it was opened).
    :raises NotAFileError: A FIFO, a device, a link, or a file larger than ``max_bytes``.
    :raises FileNotFoundError: There is no such file.
    :raises OSError: It could not be read.
    """
    # O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: a link is not ours.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EMLINK):
            msg = "a link, not a file"
            raise NotAFileError(msg) from err
        raise
    too_large = f"larger than {max_bytes // 1024} KB"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            msg = "not a regular file"
            raise NotAFileError(msg)
        if info.st_size > max_bytes:
            raise NotAFileError(too_large)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, _READ_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:  # it grew while being read
                raise NotAFileError(too_large)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def write_temporary(path: Path, payload: bytes, *, owner: tuple[int, int] | None = None) -> Path:
    """
    Write ``payload`` into a new private, fsynced temporary file next to ``path``.

    The name is random: a temporary file left by a killed process (whose pid a restarted
    container may reuse) never blocks the next save. Temporary files of ``path`` that a crash
    left behind more than a minute ago are removed first.

    :param path: The file the payload is meant for.
    :param payload: The whole content.
    :param owner: uid and gid to give the file (a root process writing a user's folder).
    :return: The temporary file, hidden (``.<name>.<random>.tmp``).
    :raises OSError: It could not be written; nothing is left behind.
    """
    remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask took from os.open's mode
            if owner is not None:
                os.fchown(fd, *owner)
            with os.fdopen(fd, "wb", closefd=False) as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            os.close(fd)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def replace_with(tmp: Path, path: Path) -> None:
    """
    Rename a written temporary file over its target, durably.

    :param tmp: The file from :func:`write_temporary`.
    :param path: The target.
    :raises OSError: The rename failed; the temporary file is removed, the target unchanged.
    """
    try:
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_folder(path.parent)


def remove_stale_temporaries(path: Path) -> None:
    """
    Delete temporary files of ``path`` that an interrupted save left (older than a minute).

    :param path: The file whose temporaries to look for.
    """
    cutoff = time.time() - STALE_TEMPORARY_AGE
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def fsync_folder(folder: Path) -> None:
    """
    Make a rename in a folder durable (best effort: some file systems refuse it).

    :param folder: The folder.
    """
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def failure_reason(err: OSError) -> str:
    """
    Return why a write failed, in words for the user.

    :param err: The error of the write.
    """
    if err.errno == errno.ENOSPC:
        return "the disk is full"
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only or not ours"
    return err.strerror or type(err).__name__
