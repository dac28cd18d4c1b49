"""
The session folder keeps secrets private and never loses or half-writes a session.

Files are 0600 in a 0700 folder whatever the umask, `registration.json` keeps the guide's
`formerRegistrationData` key, and a missing, truncated or corrupt file reads as "no session"
(needs sign-in) after being moved aside, never as a crash or a silent overwrite.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.errors import StoreError
from music_assistant_alexa.auth.models import (
    AuthEvent,
    CookieFile,
    Registration,
    SessionState,
    StoredCookie,
)
from music_assistant_alexa.auth.store import SessionStore

if TYPE_CHECKING:
    from collections.abc import Iterator


def registration() -> Registration:
    """Return a registration with recognisable fake secrets."""
    return Registration(
        device_serial="SERIAL0123456789ABCDEF0123456789",
        marketplace="amazon.de",
        refresh_token="Atnr|refresh-secret",
        access_token="Atna|access-secret",
        device_private_key="-----BEGIN PRIVATE KEY-----secret",
    )


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Run with umask 000, the worst case for file modes."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    """Return the permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
async def test_files_are_private_even_with_permissive_umask(tmp_path: Path) -> None:
    """The folder is created 0700 and every file 0600, though the umask allows 0777."""
    store = SessionStore(tmp_path / "a" / "account")
    await store.write_registration(registration())
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    await store.write_state(SessionState())
    assert mode(store.folder) == 0o700
    for name in ("registration.json", "cookies.json", "state.json"):
        assert mode(store.folder / name) == 0o600
    assert store.permission_problems() == []
    assert [p.name for p in store.folder.iterdir() if p.name.startswith(".")] == []


async def test_registration_is_stored_under_former_registration_data(tmp_path: Path) -> None:
    """The guide's health check greps for formerRegistrationData: it must be there."""
    store = SessionStore(tmp_path)
    await store.write_registration(registration())
    data = json.loads((tmp_path / "registration.json").read_text())
    assert data["formerRegistrationData"]["refresh_token"] == "Atnr|refresh-secret"
    assert data["schema_version"] == 1
    assert await store.read_registration() == registration()


async def test_cookies_round_trip_with_timestamp(tmp_path: Path) -> None:
    """The cookie file keeps a top-level epoch timestamp, as the guide's age check reads it."""
    store = SessionStore(tmp_path)
    cookies = CookieFile(
        marketplace="amazon.de",
        timestamp=1_700_000_000.5,
        cookies=[StoredCookie(name="at-acbde", value="Atza|x", domain=".amazon.de")],
        csrf="-123",
    )
    await store.write_cookies(cookies)
    assert json.loads((tmp_path / "cookies.json").read_text())["timestamp"] == 1_700_000_000.5
    assert await store.read_cookies() == cookies


async def test_missing_files_read_as_no_session(tmp_path: Path) -> None:
    """A fresh folder means "not signed in", with an empty history."""
    store = SessionStore(tmp_path / "nothing")
    assert await store.read_registration() is None
    assert await store.read_cookies() is None
    assert await store.read_state() == SessionState()
    assert not (tmp_path / "nothing").exists()


@pytest.mark.parametrize(
    "content",
    [b"", b'{"formerRegistrationData": {"device_ser', b"[1, 2]", b"\xff\xfe\x00", b'{"a": 1}'],
)
async def test_corrupt_registration_is_moved_aside_not_overwritten(
    tmp_path: Path, content: bytes
) -> None:
    """An unreadable file becomes "needs sign-in"; the original bytes survive in a copy."""
    store = SessionStore(tmp_path)
    (tmp_path / "registration.json").write_bytes(content)
    assert await store.read_registration() is None
    assert len(store.quarantined) == 1
    assert store.quarantined[0].read_bytes() == content
    await store.write_registration(registration())
    assert store.quarantined[0].read_bytes() == content


async def test_newer_schema_is_not_misread(tmp_path: Path) -> None:
    """A file from a newer version is kept aside rather than read wrongly."""
    store = SessionStore(tmp_path)
    await store.write_state(SessionState(events=[AuthEvent(at=1.0, kind="sign_in")]))
    data = json.loads((tmp_path / "state.json").read_text())
    data["schema_version"] = 99
    (tmp_path / "state.json").write_text(json.dumps(data))
    assert await store.read_state() == SessionState()
    assert store.quarantined


async def test_failed_write_keeps_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk during a save raises a store error and leaves the old file readable."""
    store = SessionStore(tmp_path)
    await store.write_registration(registration())
    before = (tmp_path / "registration.json").read_bytes()

    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    changed = registration()
    changed.refresh_token = "Atnr|new"
    with pytest.raises(StoreError, match="disk is full") as caught:
        await store.write_registration(changed)
    assert "Atnr|new" not in str(caught.value)
    monkeypatch.undo()
    assert (tmp_path / "registration.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["registration.json"]


async def test_permission_drift_is_reported_and_fixed(tmp_path: Path) -> None:
    """A file someone chmod-ed to 0644 shows up as a problem until fixed."""
    store = SessionStore(tmp_path / "acct")
    await store.write_cookies(CookieFile(marketplace="amazon.com", timestamp=1.0))
    (store.folder / "cookies.json").chmod(0o644)
    assert store.permission_problems() == [("cookies.json", 0o644)]
    store.fix_permissions()
    assert store.permission_problems() == []


async def test_backup_and_wipe(tmp_path: Path) -> None:
    """A backup is a private copy next to the folder; wipe removes only the folder."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    backup = store.backup(now=1_800_000_000)
    assert backup is not None
    assert backup.name == "acct.backup-20270115-080000"
    assert mode(backup) == 0o700
    assert mode(backup / "registration.json") == 0o600
    store.wipe()
    assert not store.folder.exists()
    assert (backup / "registration.json").exists()


@pytest.mark.usefixtures("permissive_umask")
async def test_backup_is_private_while_it_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy's folder is 0700 before the first secret lands in it, not only afterwards."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    folder_modes: list[int] = []
    copyfile = shutil.copyfile

    def watched_copyfile(src: str, dst: str, *, follow_symlinks: bool = True) -> str:
        folder_modes.append(mode(Path(dst).parent))
        return copyfile(src, dst, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(shutil, "copyfile", watched_copyfile)
    assert store.backup(now=1_800_000_000) is not None
    assert folder_modes == [0o700]


def test_failed_backup_is_a_store_error_and_leaves_no_half_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backup that cannot be written says so in our terms, and removes its partial copy."""
    store = SessionStore(tmp_path / "acct")
    store.write_bytes_atomically("registration.json", b"{}")

    def full_disk(*_args: object, **_kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    with pytest.raises(StoreError, match="nothing was deleted"):
        store.backup(now=1_800_000_000)
    assert [p.name for p in tmp_path.iterdir()] == ["acct"]
    assert (store.folder / "registration.json").read_bytes() == b"{}"


def test_repr_shows_no_secrets() -> None:
    """Records in logs or tracebacks hide tokens, keys and cookie values."""
    text = repr(registration()) + repr(
        CookieFile(
            marketplace="amazon.de",
            timestamp=1.0,
            cookies=[StoredCookie(name="at-acbde", value="Atza|cookie-secret", domain=".x")],
            csrf="csrf-secret",
        )
    )
    for secret in (
        "refresh-secret",
        "access-secret",
        "PRIVATE",
        "SERIAL",
        "cookie-secret",
        "csrf-secret",
    ):
        assert secret not in text
