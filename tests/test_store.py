"""
The session folder keeps secrets private and never loses or half-writes a session.

Files are 0600 in a 0700 folder whatever the umask, `registration.json` keeps the guide's
`formerRegistrationData` key, and a missing, truncated or corrupt file reads as "no session"
(needs sign-in) after being moved aside, never as a crash or a silent overwrite.

Issue 12: every value read is bounded (a cookie name with a semicolon, a timestamp of 1e20 or
NaN, JSON nested 200,000 deep, a FIFO or a link in place of a file are all "unreadable", with a
reason, never an exception); two files moved aside in the same second both survive; a folder
holding anything but a session is refused untouched (never chmod-ed, never emptied); a newer
version's files are left alone; the folder's lock keeps a second store (another process) out,
for a bounded time, and survives the folder being deleted under it.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import shutil
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth import store as store_module
from music_assistant_alexa.auth.errors import (
    NewerVersionError,
    StoreBusyError,
    StoreError,
    StoreNotOursError,
)
from music_assistant_alexa.auth.models import (
    AuthEvent,
    CookieFile,
    Registration,
    SessionState,
    StoredCookie,
)
from music_assistant_alexa.auth.store import (
    COOKIES_FILE,
    REGISTRATION_FILE,
    STATE_FILE,
    STORE_MARKER,
    FolderState,
    SessionStore,
)

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
    assert mode(store.folder / STORE_MARKER) == 0o600
    assert [p.name for p in store.folder.iterdir() if p.name.startswith(".")] == [STORE_MARKER]


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


@pytest.mark.parametrize("name", [REGISTRATION_FILE, COOKIES_FILE, STATE_FILE])
async def test_newer_schema_is_left_untouched_and_never_overwritten(
    tmp_path: Path, name: str
) -> None:
    """Issue 12, item 7: a newer version's file is not read, not moved, and not saved over."""
    store = SessionStore(tmp_path)
    await store.write_registration(registration())
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    await store.write_state(SessionState(events=[AuthEvent(at=1.0, kind="sign_in")]))
    data = json.loads((tmp_path / name).read_text())
    data["schema_version"] = 99
    data["something_new"] = {"shape": ["we", "do", "not", "know"]}
    newer = json.dumps(data).encode()
    (tmp_path / name).write_bytes(newer)

    fresh = SessionStore(tmp_path)
    read = {
        REGISTRATION_FILE: fresh.read_registration,
        COOKIES_FILE: fresh.read_cookies,
        STATE_FILE: fresh.read_state,
    }[name]
    assert await read() in (None, SessionState())
    assert fresh.quarantined == []
    assert fresh.newer_files == {name}
    assert (tmp_path / name).read_bytes() == newer
    with pytest.raises(NewerVersionError, match="written by a newer version"):
        await {
            REGISTRATION_FILE: lambda: fresh.write_registration(registration()),
            COOKIES_FILE: lambda: fresh.write_cookies(
                CookieFile(marketplace="amazon.de", timestamp=2.0)
            ),
            STATE_FILE: lambda: fresh.write_state(SessionState()),
        }[name]()
    # Another store that never read it refuses too: the check is on disk, not in memory.
    with pytest.raises(NewerVersionError):
        SessionStore(tmp_path).write_bytes_atomically(name, b"{}")
    assert (tmp_path / name).read_bytes() == newer


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
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_MARKER, "registration.json"]


async def test_permission_drift_is_reported_and_fixed(tmp_path: Path) -> None:
    """A file someone chmod-ed to 0644 shows up as a problem until fixed."""
    store = SessionStore(tmp_path / "acct")
    await store.write_cookies(CookieFile(marketplace="amazon.com", timestamp=1.0))
    (store.folder / "cookies.json").chmod(0o644)
    assert store.permission_problems() == [("cookies.json", 0o644)]
    store.fix_permissions()
    assert store.permission_problems() == []


async def test_backup_and_removal(tmp_path: Path) -> None:
    """A backup is a private copy next to the folder; removal takes only the folder."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    backup = store.backup(now=1_800_000_000)
    assert backup is not None
    assert backup.name == "acct.backup-20270115-080000"
    assert mode(backup) == 0o700
    assert mode(backup / "registration.json") == 0o600
    assert not (backup / STORE_MARKER).exists()
    removal = store.remove_session(keep_state=False)
    assert removal.removed == ["registration.json"]
    assert removal.folder_removed
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


# --- issue 12, item 5: values out of bounds ---------------------------------------------------

GOOD_COOKIE: dict[str, object] = {
    "name": "at-acbde",
    "value": '"Atza|cookie-secret"',
    "domain": ".amazon.de",
    "path": "/",
    "secure": True,
    "http_only": False,
}
DEEP = 200_000


def cookie_file(cookie: dict[str, object] | None = None, **fields: object) -> bytes:
    """Return a cookies.json whose one cookie and top-level fields are changed as given."""
    data: dict[str, object] = {
        "marketplace": "amazon.de",
        "timestamp": 1_800_000_000.0,
        "cookies": [{**GOOD_COOKIE, **(cookie or {})}],
        "csrf": "-123",
        "schema_version": 1,
    }
    data.update(fields)
    return json.dumps(data).encode()


def nested(depth: int) -> object:
    """Return a list nested ``depth`` deep."""
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def raw_timestamp(text: str) -> bytes:
    """Return a cookies.json whose timestamp is written as raw JSON text (1e400, NaN, ...)."""
    return cookie_file(timestamp=12345.0).replace(b"12345.0", text.encode())


MALFORMED_COOKIES = [
    pytest.param(cookie_file({"name": "bad name;x"}), "name", id="cookie-name-with-space"),
    pytest.param(cookie_file({"name": ""}), "name", id="empty-cookie-name"),
    pytest.param(cookie_file({"name": "Expires"}), "name", id="reserved-cookie-name"),
    pytest.param(cookie_file({"value": "a\r\nb"}), "value", id="cookie-value-line-break"),
    pytest.param(cookie_file({"domain": ".evil.test"}), "Amazon", id="cookie-not-amazon"),
    pytest.param(cookie_file({"path": "nope"}), "path", id="cookie-path"),
    pytest.param(cookie_file({"expires": 1e300}), "out of range", id="expires-1e300"),
    pytest.param(cookie_file(timestamp=1e20), "out of range", id="timestamp-1e20"),
    pytest.param(raw_timestamp("1e400"), "too large", id="timestamp-1e400"),
    pytest.param(raw_timestamp("NaN"), "not a number", id="timestamp-nan"),
    pytest.param(raw_timestamp("-Infinity"), "not a number", id="timestamp-minus-infinity"),
    pytest.param(cookie_file(timestamp=-5), "out of range", id="timestamp-negative"),
    pytest.param(cookie_file(timestamp=True), "not a number", id="timestamp-bool"),
    pytest.param(cookie_file(timestamp="nan"), "not a number", id="timestamp-text"),
    pytest.param(raw_timestamp("1" + "0" * 30), "too large", id="timestamp-huge-int"),
    pytest.param(cookie_file(marketplace="amazon.xyz"), "marketplace", id="marketplace"),
    pytest.param(cookie_file(csrf="a\nb"), "csrf", id="csrf-line-break"),
    pytest.param(cookie_file(cookies=[GOOD_COOKIE] * 2000), "list", id="2000-cookies"),
    pytest.param(cookie_file(cookies={"a": 1}), "list", id="cookies-not-a-list"),
    pytest.param(cookie_file(schema_version="2"), "whole number", id="schema-as-text"),
    pytest.param(cookie_file(extra=nested(34)), "deeply", id="nested-34"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, "deeply", id="nested-200000"),
    pytest.param(cookie_file(csrf="x" * (1024 * 1024 + 1)), "larger than", id="over-1MB"),
]


@pytest.mark.parametrize(("content", "reason"), MALFORMED_COOKIES)
async def test_a_cookie_file_out_of_bounds_is_unreadable_not_a_crash(
    tmp_path: Path, content: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each case reads as "no cookies", is moved aside byte for byte, and says why."""
    store = SessionStore(tmp_path)
    await store.write_state(SessionState())  # a session folder of ours
    (tmp_path / COOKIES_FILE).write_bytes(content)
    assert await store.read_cookies() is None
    (copy,) = store.quarantined
    assert copy.read_bytes() == content
    why = store.quarantine_reasons[copy.name]
    assert reason in why
    assert "cookie-secret" not in why
    assert "cookie-secret" not in caplog.text
    assert not (tmp_path / COOKIES_FILE).exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            b'{"formerRegistrationData": {"device_serial": "S", "marketplace": "amazon.de", '
            b'"access_token_expires_at": NaN}}',
            "not a number",
            id="expiry-nan",
        ),
        pytest.param(
            b'{"formerRegistrationData": {"device_serial": "S", "marketplace": "amazon.de", '
            b'"registered_at": -1}}',
            "out of range",
            id="negative-time",
        ),
        pytest.param(
            b'{"formerRegistrationData": {"device_serial": 5, "marketplace": "amazon.de"}}',
            "not a text",
            id="serial-not-text",
        ),
        pytest.param(
            b'{"formerRegistrationData": {"device_serial": "S", "marketplace": "amazon.de", '
            b'"access_token": "Atna|secret\\r\\nX-Evil: 1"}}',
            "control character",
            id="token-header-injection",
        ),
        pytest.param(b'{"formerRegistrationData": [1, 2]}', "not an object", id="not-an-object"),
        pytest.param(
            b'{"formerRegistrationData": {"marketplace": "amazon.de"}}',
            "missing",
            id="missing-serial",
        ),
    ],
)
async def test_a_registration_out_of_bounds_is_unreadable(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    """The registration's times, types and header values are checked like the cookies'."""
    store = SessionStore(tmp_path)
    (tmp_path / REGISTRATION_FILE).write_bytes(content)
    assert await store.read_registration() is None
    (copy,) = store.quarantined
    assert reason in store.quarantine_reasons[copy.name]
    assert "secret" not in store.quarantine_reasons[copy.name]


@pytest.mark.parametrize(
    "state",
    [
        {"attempts": {"password_submissions": ["soon"]}},
        {"attempts": {"backoff_step": -1}},
        {"attempts": {"not_before": 1e20}},
        {"events": {"not": "a list"}},
        {"events": [{"at": 1e20, "kind": "sign_in"}]},
        {"last_refresh_at": float("inf")},
    ],
    ids=["submission-text", "negative-step", "pause-1e20", "events-not-list", "event-1e20", "inf"],
)
async def test_a_state_out_of_bounds_is_unreadable(
    tmp_path: Path, state: dict[str, object]
) -> None:
    """The attempt record is bounded too: a fresh record, and the old one kept aside."""
    store = SessionStore(tmp_path)
    (tmp_path / STATE_FILE).write_text(json.dumps(state))  # json writes inf as Infinity
    assert await store.read_state() == SessionState()
    assert len(store.quarantined) == 1


async def test_what_the_store_writes_it_reads_back(tmp_path: Path) -> None:
    """A value the next read would refuse is refused at the save: the old file stays."""
    store = SessionStore(tmp_path)
    good = CookieFile(marketplace="amazon.de", timestamp=1_800_000_000.0)
    await store.write_cookies(good)
    before = (tmp_path / COOKIES_FILE).read_bytes()
    for bad in (
        CookieFile(marketplace="amazon.de", timestamp=float("nan")),
        CookieFile(marketplace="amazon.de", timestamp=1e20),
        CookieFile(
            marketplace="amazon.de",
            timestamp=1.0,
            cookies=[StoredCookie(name="bad name", value="v", domain=".amazon.de")],
        ),
    ):
        with pytest.raises(StoreError, match="previous session is kept"):
            await store.write_cookies(bad)
    assert (tmp_path / COOKIES_FILE).read_bytes() == before
    assert await SessionStore(tmp_path).read_cookies() == good


# --- issue 12, item 11: files that are not files ------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
async def test_a_fifo_as_cookies_json_does_not_hang(tmp_path: Path) -> None:
    """Nobody writes into the FIFO: the read does not wait for a writer, it moves it aside."""
    store = SessionStore(tmp_path)
    await store.write_state(SessionState())
    os.mkfifo(tmp_path / COOKIES_FILE)
    assert await asyncio.wait_for(store.read_cookies(), timeout=10) is None
    (copy,) = store.quarantined
    assert stat.S_ISFIFO(copy.lstat().st_mode)
    assert store.quarantine_reasons[copy.name] == "not a regular file"
    backup = store.backup(now=1_800_000_000)  # a FIFO is not copied (nor waited on)
    assert backup is not None
    assert sorted(p.name for p in backup.iterdir()) == [STATE_FILE]


async def test_a_link_or_a_folder_in_place_of_a_file_is_unreadable(tmp_path: Path) -> None:
    """A symlink (to a valid file, even) and a directory are not session files."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes((store.folder / REGISTRATION_FILE).read_bytes())
    (store.folder / REGISTRATION_FILE).unlink()
    (store.folder / REGISTRATION_FILE).symlink_to(elsewhere)
    (store.folder / COOKIES_FILE).mkdir()
    assert await store.read_registration() is None
    assert await store.read_cookies() is None
    reasons = sorted(store.quarantine_reasons.values())
    assert reasons == ["a link, not a file", "not a regular file"]
    assert elsewhere.exists()  # the link was moved, not what it points to


async def test_two_files_moved_aside_in_the_same_second_both_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second copy gets its own name instead of replacing the first."""
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    store = SessionStore(tmp_path)
    await store.write_state(SessionState())
    contents = [b"first broken", b"second broken", b"third broken"]
    for content in contents:
        (tmp_path / COOKIES_FILE).write_bytes(content)
        assert await store.read_cookies() is None
    assert [p.name for p in store.quarantined] == [
        "cookies.json.unreadable-1800000000",
        "cookies.json.unreadable-1800000000-2",
        "cookies.json.unreadable-1800000000-3",
    ]
    assert [p.read_bytes() for p in store.quarantined] == contents


async def test_a_file_replaced_after_it_was_read_is_not_moved_aside(tmp_path: Path) -> None:
    """Another process saved a good file between our read and the move: it stays."""
    store = SessionStore(tmp_path)
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    stale_key = store_module._lstat_key(tmp_path / COOKIES_FILE)
    await SessionStore(tmp_path).write_cookies(CookieFile(marketplace="amazon.de", timestamp=2.0))
    assert store._move_aside(COOKIES_FILE, stale_key) is None
    cookies = await SessionStore(tmp_path).read_cookies()
    assert cookies is not None
    assert cookies.timestamp == 2.0


# --- issue 12, item 4: a folder that is not ours -------------------------------------------------


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    """Return a folder of the user's own, with a file in it, readable by others."""
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    (folder / "cookies.json").write_text("{not ours either}")
    folder.chmod(0o755)
    return folder


async def test_a_folder_holding_other_files_is_refused_untouched(users_folder: Path) -> None:
    """No write, read, backup, chmod or removal: a clear error naming what is in the way."""
    store = SessionStore(users_folder)
    before = sorted((p.name, p.read_bytes()) for p in users_folder.iterdir())
    with pytest.raises(StoreNotOursError, match=r"notes\.txt") as caught:
        await store.write_state(SessionState())
    assert caught.value.needs_user
    assert caught.value.category.value == "bad_input"
    for attempt in (
        store.read_cookies,
        store.read_registration,
        lambda: asyncio.to_thread(store.fix_permissions),
        lambda: asyncio.to_thread(store.backup, now=1.0),
        lambda: asyncio.to_thread(store.ensure_folder),
    ):
        with pytest.raises(StoreNotOursError):
            await attempt()
    assert mode(users_folder) == 0o755
    assert sorted((p.name, p.read_bytes()) for p in users_folder.iterdir()) == before
    assert len(list(users_folder.parent.iterdir())) == 1  # no backup next to it either


async def test_a_file_given_as_the_folder_is_refused(tmp_path: Path) -> None:
    """A path to a file is not a folder: refused, and the file is left as it was."""
    path = tmp_path / "a-file"
    path.write_text("hello")
    with pytest.raises(StoreNotOursError, match="is not a folder"):
        await SessionStore(path).write_state(SessionState())
    assert path.read_text() == "hello"


@pytest.mark.usefixtures("permissive_umask")
async def test_an_empty_or_older_versions_folder_is_ours(tmp_path: Path) -> None:
    """An empty folder, and an older version's folder (only session files), are ours: marked."""
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    store = SessionStore(empty)
    assert store.check_ours() is FolderState.UNMARKED
    await store.write_state(SessionState())
    assert mode(empty) == 0o700
    assert (empty / STORE_MARKER).exists()

    older = tmp_path / "older"
    await SessionStore(older).write_registration(registration())
    (older / STORE_MARKER).unlink()
    (older / "cookies.json.unreadable-1700000000").write_text("x")
    (older / ".registration.json.0123456789abcdef.tmp").write_text("x")
    old_store = SessionStore(older)
    assert old_store.check_ours() is FolderState.UNMARKED
    assert await old_store.read_registration() == registration()
    await old_store.write_state(SessionState())
    assert old_store.check_ours() is FolderState.OURS


async def test_removal_takes_exactly_the_session(tmp_path: Path) -> None:
    """Keeping the state: secrets, copies and temporaries go; the record and the mark stay."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    await store.write_state(SessionState())
    (store.folder / "registration.json.unreadable-1").write_text("x")
    (store.folder / ".cookies.json.0123.tmp").write_text("x")
    removal = store.remove_session(keep_state=True)
    assert removal.removed == [
        REGISTRATION_FILE,
        COOKIES_FILE,
        ".cookies.json.0123.tmp",
        "registration.json.unreadable-1",
    ]
    assert removal.kept == [STATE_FILE]
    assert removal.failed == []
    assert sorted(p.name for p in store.folder.iterdir()) == [STORE_MARKER, STATE_FILE]


async def test_removal_leaves_a_stranger_and_the_folder(tmp_path: Path) -> None:
    """A file someone put into our folder is not deleted, so neither is the folder."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    (store.folder / "README").write_text("mine")
    removal = store.remove_session(keep_state=False)
    assert removal.removed == [REGISTRATION_FILE]
    assert removal.strangers == ["README"]
    assert not removal.folder_removed
    assert (store.folder / "README").read_text() == "mine"


async def test_a_file_that_cannot_be_removed_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removal does not pretend: the file it could not delete is named, with the reason."""
    store = SessionStore(tmp_path / "acct")
    await store.write_registration(registration())
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    real_unlink = Path.unlink

    def refuse(path: Path, missing_ok: bool = False) -> None:  # noqa: FBT001, FBT002 - Path's
        if path.name == REGISTRATION_FILE:
            raise PermissionError(errno.EACCES, "Permission denied")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    removal = store.remove_session(keep_state=False)
    assert removal.failed == [(REGISTRATION_FILE, "Permission denied")]
    assert removal.removed == [COOKIES_FILE]
    assert not removal.folder_removed
    assert (store.folder / REGISTRATION_FILE).exists()


def test_a_store_owned_by_another_user_is_flagged(tmp_path: Path) -> None:
    """The folder (or a file) of another uid is named with its owner."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to give files away")
    store = SessionStore(tmp_path / "acct")
    store.write_bytes_atomically(STATE_FILE, b"{}")
    assert store.owner_problems() == []
    os.chown(store.folder, 12345, 12345)
    os.chown(store.folder / STATE_FILE, 12346, 12346)
    assert store.owner_problems() == [(".", 12345), (STATE_FILE, 12346)]


# --- issue 12, item 1: the folder's lock ----------------------------------------------------


async def test_a_second_store_waits_for_the_lock_within_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """
    Another holder (here a second store: another process's open file) keeps the folder.

    The wait ends at the bound with a temporary error that says so, logged once it took long.
    """
    monkeypatch.setattr(store_module, "LOCK_NOTICE_AFTER", 0.0)
    holder = SessionStore(tmp_path / "acct")
    other = SessionStore(tmp_path / "acct")
    other.lock_timeout = 0.05
    async with holder.locked():
        with pytest.raises(StoreBusyError, match="Another process") as caught:
            await other.write_state(SessionState())
        assert not caught.value.needs_user  # temporary: try again
        assert "waiting up to" in caplog.text
    await other.write_state(SessionState())  # free again


async def test_the_lock_is_reentrant_and_shared_by_the_holders_writes(tmp_path: Path) -> None:
    """Holding the lock, a task reads and writes freely; another task of the store waits."""
    store = SessionStore(tmp_path / "acct")
    order: list[str] = []
    async with store.locked():
        assert store.holds_lock()
        await store.write_state(SessionState())
        waiting = asyncio.ensure_future(store.write_cookies(CookieFile("amazon.de", 1.0)))
        await asyncio.sleep(0)
        order.append("holder done")
    await waiting
    order.append("other wrote")
    assert order == ["holder done", "other wrote"]
    assert not store.holds_lock()


class _Said(logging.Handler):
    """Sets an event when a log record says a phrase (a wait on a condition, not on time)."""

    def __init__(self, phrase: str) -> None:
        super().__init__(logging.INFO)
        self.phrase = phrase
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.phrase in record.getMessage():
            self.event.set()


async def test_a_folder_deleted_under_a_waiter_is_locked_afresh(tmp_path: Path) -> None:
    """A reset deletes the folder while another store waits: it locks the new folder."""
    holder = SessionStore(tmp_path / "acct")
    waiter = SessionStore(tmp_path / "acct")
    await holder.write_registration(registration())
    said = _Said("Another process is using the session folder")
    store_log = logging.getLogger("music_assistant_alexa.auth.store")
    store_log.addHandler(said)
    level, store_log.level = store_log.level, logging.INFO
    try:
        async with holder.locked():
            pending = asyncio.ensure_future(waiter.write_state(SessionState()))
            # The waiter met the held lock (it says so): now the folder goes.
            await asyncio.wait_for(said.event.wait(), timeout=10)
            assert not pending.done()
            assert holder.remove_session(keep_state=False).folder_removed
        await asyncio.wait_for(pending, timeout=10)
    finally:
        store_log.removeHandler(said)
        store_log.level = level
    assert sorted(p.name for p in holder.folder.iterdir()) == [STORE_MARKER, STATE_FILE]
    # And the lock the waiter held was on the mark that exists now: the holder gets it again.
    async with holder.locked(wait=1):
        pass


async def test_reads_never_create_the_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Looking at a folder that does not exist leaves it not existing (no lock file either)."""
    caplog.set_level(logging.DEBUG)
    store = SessionStore(tmp_path / "nothing")
    assert await store.read_state() == SessionState()
    async with store.locked(create=False):
        pass
    assert not store.folder.exists()
