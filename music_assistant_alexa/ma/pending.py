"""
Sessions signed in before their instance runs: prepared, adopted, discarded, and swept away.

The settings form (2.9) and the setup flow (2.10+) sign in before the instance exists (or
reloads), into a pending folder ``<storage>/alexa_auth/.pending/<id>``. The instance takes it
over when it loads: a rename, with no second sign-in and no second check with Amazon (the
sign-in checked it a moment ago). Re-signing in an existing instance starts from a copy of the
instance's folder, so Amazon sees the same device and the attempt record carries over; such a
copy shares its device with the instance and is never signed out. A sign-in that waits (at a
captcha, or in the user's browser for the address of Amazon's last page) stays open here
between requests, under its owner's key (a dialog, a flow), with the captcha's picture once it
was fetched or the browser link it showed. A browser sign-in's attempt lives in its pending
folder, so 2.9's form opens it again after a restart (:meth:`PendingSessions.reopen`). An
adoption is remembered for a minute: 2.9 loads an instance twice on Save, and the second load
need not ask Amazon about a session the sign-in checked a moment ago. A first load that fails
after the adoption gives the session back, so that whoever signed it in can sign it out.

What nobody takes over is deleted an hour later and its device signed out at Amazon; so are the
sessions of instances MA removed while they were not running (MA does not unload those).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from music_assistant_alexa.auth.endpoints import DEFAULT_MARKETPLACE
from music_assistant_alexa.auth.errors import AlexaAuthError
from music_assistant_alexa.auth.private_files import FILE_MODE, FOLDER_MODE
from music_assistant_alexa.auth.session import CAPTCHA_TTL
from music_assistant_alexa.auth.store import (
    BACKUP_MARK,
    REGISTRATION_FILE,
    SessionStore,
)

from .constants import INSTANCE_PREFIX, PENDING_FOLDER

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from music_assistant_alexa.auth.browser_sign_in import BrowserSignInLink
    from music_assistant_alexa.auth.clock import Clock
    from music_assistant_alexa.auth.session import AuthSessionManager

    from .credentials import AccountCredentials

_LOGGER = logging.getLogger(__name__)

#: A pending session older than this is abandoned (its dialog or flow was closed).
PENDING_MAX_AGE: Final = 3600.0
#: How often abandoned folders are looked for (they are rare; listing costs a syscall).
SWEEP_INTERVAL: Final = 300.0
#: Longest wait for Amazon to take a device back; the session is deleted either way.
SIGN_OUT_TIMEOUT: Final = 15.0
#: A session adopted this recently was checked with Amazon by its sign-in (no second check).
FRESH_ADOPTION: Final = 60.0
_META_SUFFIX: Final = ".json"
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def safe_id(raw: str) -> str:
    """
    Return an id that is safe as one path component.

    MA's ids (``alexa_auth--AbC123xy``, nanoid session ids, uuid hex flow ids) pass unchanged;
    anything else is replaced by a hash, so a crafted id cannot leave the storage folder.

    :param raw: The id.
    """
    if _SAFE_ID.match(raw) and raw not in (".", ".."):
        return raw
    return "h" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(slots=True)
class PendingSignIn:
    """A sign-in into a pending folder, open until it is finished or discarded."""

    #: Who started it: a dialog's or a flow's key; one open sign-in per owner.
    owner: str
    pending_id: str
    folder: Path
    manager: AuthSessionManager
    started: float
    credentials: AccountCredentials | None = field(default=None, repr=False)
    #: The captcha picture fetched for a captcha address: (address, ``data:`` URI or None).
    picture: tuple[str, str | None] | None = field(default=None, repr=False)
    #: The link of a sign-in in the user's browser that waits for Amazon's last address.
    browser: BrowserSignInLink | None = None
    #: The account's e-mail address a browser sign-in was started for.
    email: str = field(default="", repr=False)

    def open_until(self) -> float:
        """Return until when it stays open: a captcha's time, or the browser link's and as long."""
        until = self.started + CAPTCHA_TTL
        if self.browser is not None:
            until = max(until, self.browser.expires_at + CAPTCHA_TTL)
        return until


class PendingSessions:
    """The pending sessions of one Music Assistant, and the clean-up after abandoned ones."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Clock,
        open_manager: Callable[[Path, str], AuthSessionManager],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        """
        Create the registry; nothing is read before the first call.

        :param root: ``<storage>/alexa_auth``, holding the instances' folders.
        :param clock: Clock for ages and backups.
        :param open_manager: Returns a session manager for a folder and a marketplace.
        :param spawn: Runs clean-up in the background (MA's tracked ``create_task``).
        """
        self.root = root
        self._clock = clock
        self._open_manager = open_manager
        self._spawn = spawn
        self._open: dict[str, PendingSignIn] = {}
        self._last_sweep: float | None = None
        self._adopted: dict[Path, float] = {}

    def folder(self, pending_id: str) -> Path:
        """
        Return the folder of a pending session.

        :param pending_id: Its id (a flow id, or a dialog's key with a random suffix).
        """
        return self.root / PENDING_FOLDER / safe_id(pending_id)

    async def prepare(
        self,
        owner: str,
        *,
        marketplace: str,
        seed: Path | None = None,
        pending_id: str | None = None,
        credentials: AccountCredentials | None = None,
    ) -> PendingSignIn:
        """
        Create a pending folder and open a sign-in on it, replacing the owner's open one.

        :param owner: The dialog's or flow's key.
        :param marketplace: The account's marketplace.
        :param seed: The instance's folder, when re-signing in an existing instance.
        :param pending_id: The folder's id; default: the owner's key and a random suffix, so
            every sign-in gets a new one (and a form's hidden value changes with it).
        :param credentials: The credentials it signs in with, kept to continue at a captcha.
        """
        previous = self._open.get(owner)
        if previous is not None:
            await self.discard(previous, sign_out=False)
        pending_id = pending_id or f"{owner}-{secrets.token_hex(4)}"
        folder = self.folder(pending_id)
        await asyncio.to_thread(_prepare, folder, seed, self._clock.time())
        manager = self._open_manager(folder, marketplace)
        sign_in = PendingSignIn(owner, pending_id, folder, manager, self._clock.time(), credentials)
        self._open[owner] = sign_in
        return sign_in

    async def reopen(
        self, owner: str, pending_id: str, *, marketplace: str
    ) -> PendingSignIn | None:
        """
        Open a pending folder that outlived its sign-in in memory (MA restarted meanwhile).

        2.9's form keeps waiting for the address of a browser sign-in across a restart; the
        attempt is in the folder. The owner's open sign-in, if any, is replaced.

        :param owner: The dialog's key.
        :param pending_id: The folder's id, as the form kept it.
        :param marketplace: The account's marketplace.
        :returns: None when there is no such folder.
        """
        folder = self.folder(pending_id)
        if not await asyncio.to_thread(folder.is_dir):
            return None
        previous = self._open.get(owner)
        if previous is not None and previous.folder != folder:
            await self.discard(previous, sign_out=False)
        elif previous is not None:
            return previous
        manager = self._open_manager(folder, marketplace)
        sign_in = PendingSignIn(owner, folder.name, folder, manager, self._clock.time())
        self._open[owner] = sign_in
        return sign_in

    def has_session(self, pending_id: str) -> bool:
        """
        Return whether a pending session is signed in and waits to be adopted.

        :param pending_id: Its id.
        """
        return (self.folder(pending_id) / REGISTRATION_FILE).exists()

    async def captcha_picture(self, sign_in: PendingSignIn) -> str | None:
        """
        Return the picture of the captcha an open sign-in waits at, fetched once per captcha.

        :param sign_in: The open sign-in.
        :returns: A ``data:`` URI, or None when there is no captcha or no picture could be had.
        """
        url = sign_in.manager.captcha_url
        if url is None:
            return None
        if sign_in.picture is None or sign_in.picture[0] != url:
            sign_in.picture = (url, await sign_in.manager.captcha_picture())
        return sign_in.picture[1]

    def open_sign_in(self, owner: str) -> PendingSignIn | None:
        """
        Return the owner's open sign-in (one waiting at a captcha), if any.

        :param owner: The dialog's or flow's key.
        """
        return self._open.get(owner)

    async def finish(self, sign_in: PendingSignIn) -> str:
        """
        Close a completed sign-in and keep its folder for the instance; return its id.

        :param sign_in: The sign-in.
        """
        self._close(sign_in)
        await sign_in.manager.close()
        return sign_in.pending_id

    async def discard(self, target: PendingSignIn | Path, *, sign_out: bool) -> None:
        """
        Delete a pending session; with ``sign_out``, first remove its device at Amazon.

        A folder that started as a copy of an instance's shares that instance's device and is
        only deleted.

        :param target: An open sign-in, or a pending folder.
        :param sign_out: Remove a device this session registered from the account.
        """
        folder = target if isinstance(target, Path) else target.folder
        if not isinstance(target, Path):
            self._close(target)
            await target.manager.close()
        if sign_out and await asyncio.to_thread(_needs_sign_out, folder):
            await self.sign_out(folder, keep_backup=False)
        await asyncio.to_thread(_delete, folder)

    async def adopt(self, pending_id: str, instance_folder: Path) -> bool:
        """
        Make a pending session an instance's session (a rename; the old one is backed up).

        :param pending_id: The pending session's id.
        :param instance_folder: The instance's folder.
        :returns: False when there was nothing to adopt (never signed in, or adopted already).
        """
        folder = self.folder(pending_id)
        now = self._clock.time()
        adopted = await asyncio.to_thread(_adopt, folder, instance_folder, now)
        if adopted:
            self._adopted[instance_folder] = now
        return adopted

    def recently_adopted(self, instance_folder: Path) -> bool:
        """
        Return whether an instance took over a freshly signed-in session a moment ago.

        :param instance_folder: The instance's folder.
        """
        when = self._adopted.get(instance_folder)
        return when is not None and 0 <= self._clock.time() - when <= FRESH_ADOPTION

    async def give_back(self, pending_id: str, instance_folder: Path) -> None:
        """
        Return an adopted session to its pending folder (the instance's first load failed).

        The session's device is its own again: whoever signed it in signs it out (a flow at
        once, the sweep an hour later).

        :param pending_id: The id it was adopted from.
        :param instance_folder: The instance's folder it was renamed to.
        """
        self._adopted.pop(instance_folder, None)
        folder = self.folder(pending_id)
        await asyncio.to_thread(_give_back, instance_folder, folder, self._clock.time())

    async def sign_out(self, folder: Path, *, keep_backup: bool) -> None:
        """
        Remove a stored session's device at Amazon and delete the session (after a backup).

        The one way a session that no instance runs is signed out: abandoned sign-ins, removed
        instances. Failures are logged; the session is deleted unless its backup failed.

        :param folder: A session folder.
        :param keep_backup: Keep the backup next to the folder (a removed instance's session).
        """
        registration = (await SessionStore(folder).peek()).registration
        marketplace = registration.marketplace if registration else DEFAULT_MARKETPLACE
        manager = self._open_manager(folder, marketplace or DEFAULT_MARKETPLACE)
        try:
            async with asyncio.timeout(SIGN_OUT_TIMEOUT):
                result = await manager.reset(deregister=True)
        except (AlexaAuthError, TimeoutError) as err:
            reason = err.code if isinstance(err, AlexaAuthError) else "timeout"
            _LOGGER.warning("Could not sign out the Amazon session %s: %s", folder.name, reason)
            return
        finally:
            await manager.close()
        removed = "yes" if result.deregistered else "no"
        _LOGGER.info("Signed out the Amazon session %s (device removed: %s)", folder.name, removed)
        if result.backup is not None and not keep_backup:
            await asyncio.to_thread(SessionStore(result.backup).remove_session, keep_state=False)

    async def sweep(self, configured: set[str]) -> None:
        """
        Close sign-ins nobody finished, and clean up after abandoned dialogs and removals.

        :param configured: The ids of every instance MA has (a folder of ours without one
            belongs to a removed instance).
        """
        now = self._clock.time()
        for sign_in in list(self._open.values()):
            if now > sign_in.open_until():
                # Closed now; the rest in the background: a browser sign-in may have registered
                # its device before it failed, and signing that out must not hold up the button
                # press (of any dialog) that happened to run the sweep.
                self._close(sign_in)
                self._spawn(self.discard(sign_in, sign_out=sign_in.browser is not None))
        if self._last_sweep is not None and 0 <= now - self._last_sweep < SWEEP_INTERVAL:
            return
        keep = {sign_in.folder.name for sign_in in self._open.values()}
        for folder in await asyncio.to_thread(_stale, self.root / PENDING_FOLDER, now, keep):
            self._spawn(self.discard(folder, sign_out=True))
        folders = {safe_id(instance_id) for instance_id in configured}
        if not any(name.startswith(INSTANCE_PREFIX) for name in folders):
            # MA lists none of our instances (the add dialog of the first one, say): that is no
            # proof that the stored sessions are gone. Look again once an instance exists.
            return
        self._last_sweep = now
        for folder in await asyncio.to_thread(_removed, self.root, folders):
            self._spawn(self.sign_out(folder, keep_backup=True))

    def _close(self, sign_in: PendingSignIn) -> None:
        if self._open.get(sign_in.owner) is sign_in:
            del self._open[sign_in.owner]


# --- blocking folder work (run in a thread) ----------------------------------------------------


def _meta_path(folder: Path) -> Path:
    return folder.with_name(folder.name + _META_SUFFIX)


def _prepare(folder: Path, seed: Path | None, now: float) -> None:
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.parent.chmod(FOLDER_MODE)
    seeded = False
    if seed is not None and seed.is_dir():
        shutil.copytree(seed, folder)
        SessionStore(folder).fix_permissions()
        # The copy shares the instance's device only if the instance had one; otherwise the
        # sign-in registers a device of its own, to be signed out if nobody takes it over.
        seeded = (folder / REGISTRATION_FILE).exists()
    meta = _meta_path(folder)
    meta.write_text(json.dumps({"created": now, "seeded": seeded}), encoding="utf-8")
    meta.chmod(FILE_MODE)


def _needs_sign_out(folder: Path) -> bool:
    """Return whether a pending folder holds a device of its own (registered, not a copy)."""
    try:
        meta = json.loads(_meta_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    seeded = isinstance(meta, dict) and bool(meta.get("seeded"))
    return not seeded and (folder / REGISTRATION_FILE).exists()


def _delete(folder: Path) -> None:
    SessionStore(folder).remove_session(keep_state=False)
    with contextlib.suppress(FileNotFoundError):
        _meta_path(folder).unlink()


def _adopt(pending: Path, target: Path, now: float) -> bool:
    if not (pending / REGISTRATION_FILE).exists():
        return False
    store = SessionStore(target)
    if target.exists():
        store.backup(now=now)
        store.remove_session(keep_state=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    pending.rename(target)
    with contextlib.suppress(FileNotFoundError):
        _meta_path(pending).unlink()
    return True


def _give_back(instance_folder: Path, pending: Path, now: float) -> None:
    if not instance_folder.is_dir() or pending.exists():
        return
    pending.parent.mkdir(parents=True, exist_ok=True)
    instance_folder.rename(pending)
    meta = _meta_path(pending)
    meta.write_text(json.dumps({"created": now, "seeded": False}), encoding="utf-8")
    meta.chmod(FILE_MODE)


def _stale(root: Path, now: float, keep: set[str]) -> list[Path]:
    """Return pending folders older than :data:`PENDING_MAX_AGE` that nobody holds open."""
    if not root.is_dir():
        return []
    stale: list[Path] = []
    for meta in root.glob(f"*{_META_SUFFIX}"):
        folder = meta.with_suffix("")
        if folder.name in keep:
            continue
        try:
            created = float(json.loads(meta.read_text(encoding="utf-8"))["created"])
        except (OSError, ValueError, KeyError, TypeError):
            created = meta.stat().st_mtime if meta.exists() else 0.0
        if now - created > PENDING_MAX_AGE:
            stale.append(folder)
    return stale


def _removed(root: Path, configured: set[str]) -> list[Path]:
    """Return the session folders of instances that are no longer in MA's configuration."""
    if not root.is_dir():
        return []
    return [
        folder
        for folder in root.iterdir()
        if folder.is_dir()
        and folder.name.startswith(INSTANCE_PREFIX)
        and BACKUP_MARK not in folder.name
        and folder.name not in configured
    ]
