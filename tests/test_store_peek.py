"""
Read-only callers see what a session folder holds without changing anything in it.

Invariant: :meth:`SessionStore.peek` parses what it can, names what it cannot read, lists the
copies moved aside earlier, and moves or rewrites nothing (a broken file is the user's evidence,
and diagnostics must not be the thing that changes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music_assistant_alexa.auth.models import CookieFile, Registration
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE, SessionStore

if TYPE_CHECKING:
    from pathlib import Path


async def test_peek_reads_without_moving_anything(tmp_path: Path) -> None:
    """A good registration is read; a corrupt cookie file is named and left where it is."""
    store = SessionStore(tmp_path / "account")
    await store.write_registration(Registration(device_serial="S" * 32, marketplace="amazon.de"))
    await store.write_cookies(CookieFile(marketplace="amazon.de", timestamp=1.0))
    (store.folder / COOKIES_FILE).write_text("{ truncated")
    (store.folder / f"{REGISTRATION_FILE}.unreadable-1").write_text("old")
    before = sorted(p.name for p in store.folder.iterdir())

    snapshot = await store.peek()

    assert snapshot.registration is not None
    assert snapshot.registration.marketplace == "amazon.de"
    assert snapshot.cookies is None
    assert snapshot.state is None  # never written: absent, not unreadable
    assert snapshot.unreadable == {COOKIES_FILE}
    assert snapshot.set_aside == (f"{REGISTRATION_FILE}.unreadable-1",)
    assert sorted(p.name for p in store.folder.iterdir()) == before
    assert store.quarantined == []


async def test_peek_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    """No folder: nothing stored, nothing unreadable, and no folder is created."""
    snapshot = await SessionStore(tmp_path / "none").peek()

    assert (snapshot.registration, snapshot.cookies, snapshot.state) == (None, None, None)
    assert snapshot.unreadable == frozenset()
    assert snapshot.set_aside == ()
    assert not (tmp_path / "none").exists()
