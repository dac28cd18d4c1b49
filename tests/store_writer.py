"""
Child process for test_crash_safety: save a session, and freeze at a chosen point to be killed.

Run as ``python -m tests.store_writer FOLDER KILL_POINT``. It saves :func:`new_registration`
and then :func:`new_cookies` into FOLDER through the real :class:`SessionStore`. At the kill
point it prints ``READY`` on standard output and blocks for good, so the parent can SIGKILL it
at exactly that moment. The hooks patch this process's ``os`` functions only.

Kill points (each in the registration file's write unless it says otherwise):

* ``none``: do not stop; save both files and exit 0.
* ``torn_write``: half of the new content is in the temporary file.
* ``before_fsync``: all of it is written and flushed, not yet fsync-ed.
* ``before_rename``: fsync-ed, not yet renamed over the old file.
* ``after_rename``: renamed, before the folder's fsync.
* ``between_files``: registration saved; the cookie file written, not yet renamed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any, Final, Self

from music_assistant_alexa.auth.models import CookieFile, Registration, StoredCookie
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE, SessionStore

KILL_POINTS: Final = (
    "none",
    "torn_write",
    "before_fsync",
    "before_rename",
    "after_rename",
    "between_files",
)
READY: Final = "READY"


def _registration(version: str) -> Registration:
    # Long values, so that a torn write would cut through a token.
    return Registration(
        device_serial=f"SERIAL-{version}",
        marketplace="amazon.de",
        refresh_token=f"Atnr|{version}-" + "r" * 2000,
        access_token=f"Atna|{version}-" + "a" * 1000,
        access_token_expires_at=1_800_000_000.0,
        device_private_key=f"-----BEGIN RSA PRIVATE KEY-----{version}" + "k" * 1500,
        device_name=f"Music Assistant {version}",
    )


def _cookies(version: str) -> CookieFile:
    return CookieFile(
        marketplace="amazon.de",
        timestamp=1_800_000_000.0 if version == "old" else 1_800_600_000.0,
        cookies=[
            StoredCookie(
                name="at-acbde", value=f'"Atza|{version}-' + "c" * 500, domain=".amazon.de"
            ),
            StoredCookie(name="session-id", value=f"{version}-262-0541883", domain=".amazon.de"),
        ],
        csrf=f"csrf-{version}",
    )


def old_registration() -> Registration:
    """Return the registration stored before the child runs."""
    return _registration("old")


def new_registration() -> Registration:
    """Return the registration the child saves."""
    return _registration("new")


def old_cookies() -> CookieFile:
    """Return the cookies stored before the child runs."""
    return _cookies("old")


def new_cookies() -> CookieFile:
    """Return the cookies the child saves."""
    return _cookies("new")


def _freeze() -> None:
    """Tell the parent we are at the kill point, then wait for the SIGKILL."""
    sys.stdout.write(f"{READY}\n")
    sys.stdout.flush()
    threading.Event().wait()


class _TornFile:
    """A file whose write stops halfway, the way a crash mid-write leaves it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        _freeze()
        return len(data)  # pragma: no cover - never reached

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class _Hooks:
    """Stand-ins for ``os`` functions that freeze the save at the kill point."""

    def __init__(self, kill_point: str) -> None:
        self.kill_point = kill_point
        self.target = COOKIES_FILE if kill_point == "between_files" else REGISTRATION_FILE
        self.opened: list[str] = []
        self.real_open = os.open
        self.real_fdopen = os.fdopen
        self.real_fsync = os.fsync
        self.real_replace = os.replace

    def _writing_target(self) -> bool:
        return bool(self.opened) and Path(self.opened[-1]).name.startswith(f".{self.target}.")

    def open(self, path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        self.opened.append(os.fspath(path))
        return self.real_open(path, flags, *args, **kwargs)

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = self.real_fdopen(fd, *args, **kwargs)
        return _TornFile(handle) if self._writing_target() else handle

    def fsync(self, fd: Any) -> None:
        if self._writing_target():
            _freeze()
        self.real_fsync(fd)

    def replace(self, src: Any, dst: Any, **kwargs: Any) -> None:
        hit = Path(os.fspath(dst)).name == self.target
        if hit and self.kill_point in ("before_rename", "between_files"):
            _freeze()
        self.real_replace(src, dst, **kwargs)
        if hit and self.kill_point == "after_rename":
            _freeze()


def install_hook(kill_point: str) -> None:
    """
    Patch this process's ``os`` so that the save freezes at the kill point.

    :param kill_point: One of :data:`KILL_POINTS`.
    """
    hooks = _Hooks(kill_point)
    os.open = hooks.open
    if kill_point == "torn_write":
        os.fdopen = hooks.fdopen
    elif kill_point == "before_fsync":
        os.fsync = hooks.fsync
    elif kill_point != "none":
        os.replace = hooks.replace


async def save(folder: Path) -> None:
    """
    Save the new registration, then the new cookies, as a sign-in does.

    :param folder: The account's folder.
    """
    store = SessionStore(folder)
    await store.write_registration(new_registration())
    await store.write_cookies(new_cookies())


def main(argv: list[str]) -> int:
    """
    Run the child.

    :param argv: FOLDER and KILL_POINT.
    """
    folder, kill_point = Path(argv[0]), argv[1]
    if kill_point not in KILL_POINTS:
        sys.stderr.write(f"unknown kill point {kill_point!r}\n")
        return 2
    install_hook(kill_point)
    asyncio.run(save(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
