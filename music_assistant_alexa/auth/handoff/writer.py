"""
Hand the session to Music Assistant's built-in ``alexa`` provider, whose Echo players run on it.

That provider restores its Amazon login from ``<MA data>/.alexa/alexa_media.<username>.pickle``
through alexapy's ``load_cookie()``, and signs in again by itself only through its own dialog.
Its file goes stale after about two weeks; ours stays fresh for months. This module writes our
session into that file:

- **Only website cookies.** The marketplace's session cookies and the csrf value, never a token:
  with a refresh or access token present, alexapy answers a 401 by registering a new device.
- **A layout every reader takes** (see :mod:`.file_formats`): alexapy 1.29.x on aiohttp 3.13
  and the newest alexapy on aiohttp 3.14, through ``load_cookie()`` as Music Assistant calls it.
- **Verified before it replaces anything.** The new file is written next to the old one (0600
  in a 0700 folder, fsynced), read back the way the readers read it, and its cookies must make
  ``GET /api/users/me`` on the marketplace's Alexa host answer with the configured e-mail. Only
  then is the old file copied to ``<name>.bak`` and the new one renamed into its place.
  A failed verification leaves the old file exactly as it was.
- **Never fight the user.** ``<name>.handoff.json`` beside the file remembers the hashes of the
  files we wrote. A file with another hash was written by someone else, normally the alexa
  provider's own sign-in dialog. Such a file made after our last write to it (or, before our
  first write, after this session's sign-in) is the user's deliberate act: it is left alone for
  as long as Amazon accepts it for this account (one request tells); only a stale one (expired,
  rejected, for another account, unreadable) is replaced, after a backup. A file of someone
  else's that is older than that (the alexa provider's sign-in from before this session
  existed) is replaced with the fresher session, after a backup, without asking Amazon about
  it. ``force`` replaces any file, on the user's word.

Other accounts' files in the folder are read and checked, never changed. Files of this account
that we wrote earlier under another name (another spelling of the username, alexapy's
``.cookies`` layout) are kept in step with the session, so they never go stale either.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from aiohttp import CookieJar
from yarl import URL

from music_assistant_alexa.auth.clock import SYSTEM_CLOCK
from music_assistant_alexa.auth.errors import NotSignedInError, SessionExpiredError
from music_assistant_alexa.auth.http import DEFAULT_PACE, DEFAULT_TIMEOUT
from music_assistant_alexa.auth.registration import USERS_ME_PATH
from music_assistant_alexa.auth.usernames import same_username

from .disk import (
    COOKIES_SUFFIX,
    PICKLE_SUFFIX,
    backup_and_replace,
    backup_file,
    folder_locked,
    handoff_file,
    handoff_folder,
    masked_name,
    mode_problems,
    modified_at,
    read_optional,
    username_of,
    validate_username,
    write_temporary,
)
from .errors import (
    HandoffAccountError,
    HandoffError,
    HandoffRejectedError,
    HandoffStorageError,
    HandoffUnverifiedError,
)
from .file_formats import (
    CookieFileContents,
    CookieFileError,
    CookieFileFormat,
    FileCookie,
    encode,
    is_session_cookie,
    read_cookie_file,
)
from .probe import CookieProbe, CookieVerdict, offline_verdict
from .record import (
    HandoffRecord,
    Ownership,
    WrittenFile,
    ownership_of,
    read_record,
    write_record,
)

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import ClientSession

    from music_assistant_alexa.auth.clock import Clock
    from music_assistant_alexa.auth.endpoints import Marketplace
    from music_assistant_alexa.auth.session import AuthSessionManager

_LOGGER = logging.getLogger(__name__)

#: Bytes that only a device token holds (refresh/access token, adp token, private key).
_TOKEN_MARKERS: Final = (b"Atnr|", b"Atna|", b"PRIVATE KEY", b"{enc:", b"{key:")
_FORMAT_OF_SUFFIX: Final = {
    PICKLE_SUFFIX: CookieFileFormat.AIOHTTP_PICKLE,
    COOKIES_SUFFIX: CookieFileFormat.ALEXAPY_JSON,
}


# --- what the session gives --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoffSource:
    """The part of the session the alexa provider gets: website cookies and csrf, no token."""

    marketplace: Marketplace
    cookies: tuple[FileCookie, ...] = field(repr=False)
    #: The e-mail address (or phone number) the session signed in with.
    account: str = field(repr=False)
    #: Epoch seconds when Amazon issued the cookies.
    cookie_timestamp: float
    #: Device secrets that must never appear in a file we write (checked on the bytes).
    forbidden: tuple[str, ...] = field(default=(), repr=False)
    #: Epoch seconds of the session's sign-in (0: unknown). Someone else's file made before it
    #: predates the session, and is not the user's answer to it.
    signed_in_at: float = 0.0

    @classmethod
    def from_manager(cls, manager: AuthSessionManager) -> HandoffSource:
        """
        Take the marketplace's cookies and csrf from a signed-in session.

        :param manager: The account's session manager (restored or signed in).
        :raises NotSignedInError: Nothing is signed in.
        :raises SessionExpiredError: The stored cookies lack the sign-in cookies.
        """
        registration, stored = manager.registration, manager.cookies
        if not manager.signed_in or registration is None or stored is None:
            msg = "Not signed in to Amazon yet: sign in from the settings."
            raise NotSignedInError(msg)
        market = manager.hosts.marketplace
        cookies = [
            FileCookie(
                name=c.name,
                value=c.value,
                domain=market.domain,
                path=c.path or "/",
                secure=c.secure,
                http_only=c.http_only,
                expires_at=c.expires,
            )
            for c in stored.cookies
            if c.domain.lstrip(".") == market.domain
            and c.name != "csrf"
            and is_session_cookie(c.name, market)
        ]
        if stored.csrf:
            # Marketplace-wide, not only on the Alexa host: alexapy looks the csrf up among
            # the cookies it would send to https://<marketplace> (AlexaAPI, get_csrf).
            cookies.append(FileCookie("csrf", stored.csrf, market.domain))
        names = {c.name for c in cookies}
        if f"at-{market.cookie_suffix}" not in names or "session-id" not in names:
            msg = "The stored cookies lack Amazon's sign-in cookies; refresh the session."
            raise SessionExpiredError(msg)
        forbidden = (
            registration.refresh_token,
            registration.access_token,
            registration.adp_token,
            registration.device_private_key,
            registration.frc,
            registration.map_md,
        )
        return cls(
            marketplace=market,
            cookies=tuple(cookies),
            account=registration.email,
            cookie_timestamp=stored.timestamp,
            forbidden=tuple(s for s in forbidden if s),
            signed_in_at=registration.registered_at,
        )


# --- results -----------------------------------------------------------------------------------


class HandoffOutcome(StrEnum):
    """What a write did to the file."""

    WRITTEN = "written"  # there was no file: ours is the first
    REPLACED = "replaced"  # our earlier file was replaced (kept as .bak)
    UNCHANGED = "unchanged"  # our file already holds exactly these cookies
    REPLACED_STALE = "replaced_stale"  # someone else's file no longer worked (kept as .bak)
    REPLACED_FORCED = "replaced_forced"  # someone else's file, replaced on request (kept as .bak)
    #: Someone else's file from before this session existed, replaced with it (kept as .bak).
    REPLACED_OLDER = "replaced_older"
    KEPT_USER_FILE = "kept_user_file"  # someone else's working file was left alone

    @property
    def changed(self) -> bool:
        """Return whether the file now holds other cookies than before (its reader must reload)."""
        return self not in (HandoffOutcome.UNCHANGED, HandoffOutcome.KEPT_USER_FILE)


@dataclass(frozen=True, slots=True)
class HandoffResult:
    """The outcome of one write."""

    path: Path = field(repr=False)
    outcome: HandoffOutcome
    #: Where the replaced file went, when one was replaced.
    backup: Path | None = field(default=None, repr=False)
    #: What was found about the previous file (someone else's only; ours are not asked about).
    previous: CookieVerdict | None = None

    @property
    def fed(self) -> bool:
        """Return whether the file now holds this session's cookies."""
        return self.outcome is not HandoffOutcome.KEPT_USER_FILE


class FileAction(StrEnum):
    """What a tidy-up did with one session file in the folder."""

    FED = "fed"  # the alexa instance's own file, handled by the write
    REPLACED = "replaced"  # this account's stale file, replaced with ours (backup kept)
    UPDATED = "updated"  # this account's file we wrote before, brought up to the current cookies
    KEPT = "kept"  # this account's file, still working or not ours to judge
    REPORTED = "reported"  # another account's stale file: left as it is, reported


@dataclass(frozen=True, slots=True)
class FoundFile:
    """One session file found in the alexa provider's folder."""

    path: Path = field(repr=False)
    username: str = field(repr=False)
    #: The file names this session's account (the configured username, any case).
    same_account: bool
    #: The file Music Assistant's alexa instance reads (exact username, ``.pickle``).
    fed: bool
    format: CookieFileFormat | None
    marketplace: str | None
    modified_at: float
    ownership: Ownership
    verdict: CookieVerdict
    action: FileAction = FileAction.KEPT
    backup: Path | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """Return the file's name for messages, with the username masked."""
        return masked_name(self.path)


@dataclass(frozen=True, slots=True)
class HandoffReport:
    """A hand-off: the write of the instance's file, and every other session file found."""

    result: HandoffResult
    files: tuple[FoundFile, ...] = ()


@dataclass(frozen=True, slots=True)
class HandoffInspection:
    """The hand-off file as it is on disk, for diagnostics (read locally, nothing asked)."""

    path: Path = field(repr=False)
    username: str = field(repr=False)
    folder_exists: bool
    exists: bool
    format: CookieFileFormat | None = None
    readable: bool = False
    modified_at: float | None = None
    ownership: Ownership = Ownership.MISSING
    #: Our last write to this file, if any.
    last_written: WrittenFile | None = None
    #: The offline verdict of the file's cookies (expiry, sign-in cookies present).
    verdict: CookieVerdict = CookieVerdict.UNREADABLE
    marketplace: str | None = None
    #: ("folder" or "file", mode), when more open than 0700 / 0600.
    mode_problems: tuple[tuple[str, int], ...] = ()
    #: Other session files in the folder, with their offline verdicts.
    others: tuple[FoundFile, ...] = ()


# --- the writer --------------------------------------------------------------------------------


class AlexaHandoff:
    """Writes one account's session into the alexa provider's folder."""

    def __init__(  # noqa: PLR0913 - where to write and how to reach Amazon, keyword-only
        self,
        *,
        session: ClientSession,
        ma_data: Path,
        username: str,
        override: URL | None = None,
        clock: Clock = SYSTEM_CLOCK,
        pace: float = DEFAULT_PACE,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """
        Prepare the hand-off; nothing is read, written or sent until a method is called.

        :param session: The injected aiohttp session (its cookie jar is never used).
        :param ma_data: Music Assistant's data folder (``mass.storage_path``).
        :param username: The alexa provider's username, exactly as configured there.
        :param override: Where Amazon's hosts are reached (the simulator), or None.
        :param clock: Clock for times in the record and for expiry.
        :param pace: Minimum seconds between two requests to Amazon.
        :param timeout: Seconds one request may take.
        :raises HandoffInputError: The username cannot name a file.
        """
        self.username = validate_username(username)
        self.ma_data = ma_data
        self.folder = handoff_folder(ma_data)
        self.path = handoff_file(ma_data, self.username)
        self.clock = clock
        self.probe = CookieProbe(
            session, override=override, clock=clock, pace=pace, timeout=timeout
        )

    @classmethod
    def for_manager(
        cls,
        manager: AuthSessionManager,
        *,
        session: ClientSession,
        ma_data: Path,
        username: str,
        pace: float = DEFAULT_PACE,
    ) -> AlexaHandoff:
        """
        Prepare the hand-off of a manager's session, reaching Amazon the way the manager does.

        :param manager: The account's session manager.
        :param session: The aiohttp session the manager was given.
        :param ma_data: Music Assistant's data folder.
        :param username: The alexa provider's username.
        :param pace: Minimum seconds between two requests to Amazon.
        """
        return cls(
            session=session,
            ma_data=ma_data,
            username=username,
            override=manager.hosts.override,
            clock=manager.clock,
            pace=pace,
        )

    def __repr__(self) -> str:
        """Return a representation without the username."""
        return f"AlexaHandoff({masked_name(self.path)!r})"

    async def close(self) -> None:
        """Close the HTTP clients this hand-off opened."""
        await self.probe.close()

    # --- the whole hand-off ------------------------------------------------------------------

    async def run(
        self, source: HandoffSource, *, force: bool = False, probe_others: bool = True
    ) -> HandoffReport:
        """
        Write the instance's file, then tidy the folder's other files of this account.

        Other files of the same account (another spelling of the username, alexapy's
        ``.cookies`` file) are replaced with ours when stale, after a backup, and the ones we
        wrote before are kept in step with the session; other accounts' files are checked and
        reported, never changed.

        :param source: The session's cookies.
        :param force: Replace the instance's file even when someone else's still works.
        :param probe_others: Ask Amazon about other accounts' files whose dates do not already
            say they are stale (one request each); without it, only their dates are read.
        :raises HandoffError: The instance's file could not be written (nothing was replaced).
        """
        async with folder_locked(self.path.parent):
            result = await self.write(source, force=force)
            found = await self.scan(probe=True, skip=self.path, probe_others=probe_others)
            # The session's cookies were confirmed by Amazon just now (or, unchanged, when they
            # were first written): copies of them need no second request.
            verified = result.outcome is not HandoffOutcome.KEPT_USER_FILE
            files = [await self._fed_entry(result)]
            files.extend([await self._tidy(item, source, verified=verified) for item in found])
        return HandoffReport(result, tuple(files))

    async def _fed_entry(self, result: HandoffResult) -> FoundFile:
        entry = await asyncio.to_thread(self._describe, self.path, None)
        if result.outcome is HandoffOutcome.KEPT_USER_FILE and result.previous is not None:
            verdict = result.previous
        elif result.outcome is HandoffOutcome.UNCHANGED:
            verdict = CookieVerdict.NOT_ASKED  # verified when it was written
        else:
            verdict = CookieVerdict.VALID  # verified just now, before it replaced anything
        return replace(entry, verdict=verdict, action=FileAction.FED)

    async def _tidy(self, item: FoundFile, source: HandoffSource, *, verified: bool) -> FoundFile:
        if not item.same_account:
            action = FileAction.REPORTED if item.verdict.stale else FileAction.KEPT
            return replace(item, action=action)
        ours = item.ownership in (Ownership.OURS, Ownership.OURS_EARLIER)
        if not ours and not item.verdict.stale:
            return replace(item, action=FileAction.KEPT)
        file_format = _FORMAT_OF_SUFFIX[_suffix_of(item.path)]
        result = await self._write_file(
            item.path,
            source,
            file_format,
            force=False,
            known=None if ours else item.verdict,
            verified=verified,
        )
        if not result.outcome.changed:
            return replace(item, action=FileAction.KEPT)
        action = FileAction.UPDATED if ours else FileAction.REPLACED
        return replace(item, action=action, backup=result.backup)

    # --- writing -----------------------------------------------------------------------------

    async def write(self, source: HandoffSource, *, force: bool = False) -> HandoffResult:
        """
        Write the session into the instance's file, verified before it replaces anything.

        :param source: The session's cookies.
        :param force: Replace someone else's file even while Amazon still accepts it.
        :raises HandoffAccountError: The session is another account than the username's.
        :raises HandoffRejectedError: Amazon rejected the new file's cookies.
        :raises HandoffUnverifiedError: Amazon could not be asked (try again later).
        :raises HandoffStorageError: The folder or file could not be written.
        """
        return await self._write_file(
            self.path, source, CookieFileFormat.AIOHTTP_PICKLE, force=force, known=None
        )

    async def _write_file(  # noqa: PLR0913 - the file, what goes in, and what is known already
        self,
        path: Path,
        source: HandoffSource,
        file_format: CookieFileFormat,
        *,
        force: bool,
        known: CookieVerdict | None,
        verified: bool = False,
    ) -> HandoffResult:
        target_user = username_of(path) or self.username
        both_emails = "@" in source.account and "@" in target_user
        if both_emails and not same_username(source.account, target_user):
            msg = (
                "The Alexa provider's username is another Amazon account than the one signed "
                "in here; enter the same e-mail address in both."
            )
            raise HandoffAccountError(msg)
        payload = encode(source.cookies, file_format)
        _refuse_tokens(payload, source.forbidden)
        digest = hashlib.sha256(payload).hexdigest()
        existing = await asyncio.to_thread(read_optional, path)
        record = await asyncio.to_thread(read_record, path)
        owner = ownership_of(_sha(existing), record)
        previous: CookieVerdict | None = None
        if owner is Ownership.OURS and existing == payload:
            return HandoffResult(path, HandoffOutcome.UNCHANGED)
        older = False
        if owner is Ownership.FOREIGN:
            older = await asyncio.to_thread(_predates_session, path, record, source)
            if known is not None:
                previous = known
            elif not older:
                previous = await self.probe.verdict(_contents(existing), target_user)
            if not force and not older and previous is not None and not previous.stale:
                _LOGGER.info(
                    "Left %s alone: it was written by someone else and still works (%s)",
                    masked_name(path),
                    previous,
                )
                return HandoffResult(path, HandoffOutcome.KEPT_USER_FILE, previous=previous)
        outcome = _outcome(owner, previous, older=older)
        replaced = await self._replace_verified(
            path,
            payload,
            _Expected(source, file_format, target_user, digest, existing, ask=not verified),
            record or HandoffRecord(),
        )
        if not replaced:
            # Someone wrote the file while ours was being verified: theirs is newer, keep it.
            return HandoffResult(
                path, HandoffOutcome.KEPT_USER_FILE, previous=CookieVerdict.NOT_ASKED
            )
        _LOGGER.info("Handed the session to the Alexa players: %s (%s)", masked_name(path), outcome)
        backup = backup_file(path) if existing is not None else None
        return HandoffResult(path, outcome, backup, previous)

    async def _replace_verified(
        self, path: Path, payload: bytes, expected: _Expected, record: HandoffRecord
    ) -> bool:
        """Write, verify, remember, back up, rename; False when the file changed meanwhile."""
        tmp = await asyncio.to_thread(write_temporary, path, payload)
        try:
            await self._verify(tmp, payload, expected)
            record.add(
                WrittenFile(
                    expected.digest,
                    self.clock.time(),
                    expected.source.cookie_timestamp,
                    str(expected.file_format),
                )
            )
            # The record first: should the rename fail, the old file is still known as ours.
            await asyncio.to_thread(write_record, path, record)
            return await asyncio.to_thread(backup_and_replace, path, tmp, expected.previous)
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(tmp.unlink)

    async def _verify(self, tmp: Path, payload: bytes, expected: _Expected) -> None:
        """Read the written file back as its readers will, then ask Amazon about its cookies."""
        source, file_format = expected.source, expected.file_format
        on_disk = await asyncio.to_thread(tmp.read_bytes)
        if on_disk != payload:
            msg = "The new session file did not read back as written; nothing was replaced."
            raise HandoffStorageError(msg)
        try:
            contents = read_cookie_file(on_disk)
        except CookieFileError as err:
            msg = "The new session file is unreadable; nothing was replaced."
            raise HandoffStorageError(msg) from err
        alexa_host = f"alexa.{source.marketplace.domain}"
        in_file = {c.name: c.value for c in contents.sent_to(alexa_host)}
        wanted = {c.name: c.value for c in source.cookies}
        if contents.format is not file_format or in_file != wanted:
            msg = "The new session file does not hold the session's cookies; nothing was replaced."
            raise HandoffStorageError(msg)
        if file_format is CookieFileFormat.AIOHTTP_PICKLE:
            await _check_aiohttp_reads(tmp, alexa_host, wanted)
        if not expected.ask:
            return  # a copy of cookies Amazon confirmed in this same hand-off
        verdict = await self.probe.ask(
            contents.sent_to(alexa_host), source.marketplace, expected.username
        )
        if verdict is CookieVerdict.VALID:
            return
        if verdict is CookieVerdict.WRONG_ACCOUNT:
            msg = (
                "Amazon says these cookies belong to another account than the Alexa "
                "provider's username; nothing was replaced."
            )
            raise HandoffAccountError(msg)
        if verdict is CookieVerdict.UNKNOWN:
            msg = "Could not ask Amazon to confirm the new session file; nothing was replaced."
            raise HandoffUnverifiedError(msg)
        msg = (
            "Amazon did not accept the session's cookies for the Alexa players; nothing was "
            "replaced. Refresh the session, then try again."
        )
        raise HandoffRejectedError(msg)

    # --- finding files -----------------------------------------------------------------------

    async def scan(
        self, *, probe: bool = True, skip: Path | None = None, probe_others: bool = True
    ) -> list[FoundFile]:
        """
        Find the session files in the folder and tell which are stale.

        Files we wrote are never asked about: their cookies were confirmed when we wrote them,
        and their dates say the rest.

        :param probe: Ask Amazon about files whose expiry does not already say (one request
            per file); without it, only what the files themselves say is known.
        :param skip: A file to leave out (the instance's own, handled by :meth:`write`).
        :param probe_others: Ask about other accounts' files too (with ``probe``).
        """
        found = await asyncio.to_thread(self._find, skip)
        if not probe:
            return found
        checked: list[FoundFile] = []
        for item in found:
            ours = item.ownership in (Ownership.OURS, Ownership.OURS_EARLIER)
            if (
                item.verdict is not CookieVerdict.NOT_ASKED  # its own dates say it is stale
                or ours
                or not (item.same_account or probe_others)
            ):
                checked.append(item)
                continue
            data = await asyncio.to_thread(read_optional, item.path)
            verdict = await self.probe.verdict(_contents(data), item.username)
            checked.append(replace(item, verdict=verdict))
        return checked

    def _find(self, skip: Path | None) -> list[FoundFile]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.iterdir()):
            if path == skip or username_of(path) is None or not path.is_file():
                continue
            found.append(self._describe(path, None))
        return found

    def _describe(self, path: Path, data: bytes | None) -> FoundFile:
        username = username_of(path) or ""
        if data is None:
            data = read_optional(path)
        contents = _contents(data)
        record = read_record(path)
        market = contents.marketplace() if contents else None
        return FoundFile(
            path=path,
            username=username,
            same_account=same_username(username, self.username),
            fed=path == self.path,
            format=contents.format if contents else None,
            marketplace=market.domain if market else None,
            modified_at=modified_at(path) or 0.0,
            ownership=ownership_of(_sha(data), record),
            verdict=offline_verdict(contents, self.clock.time()),
        )

    def inspect(self) -> HandoffInspection:
        """Return the instance's file as it is on disk (blocking I/O; nothing is sent)."""
        folder_exists = self.folder.is_dir()
        data = read_optional(self.path)
        others = tuple(self._find(self.path))
        if data is None:
            return HandoffInspection(
                self.path,
                self.username,
                folder_exists=folder_exists,
                exists=False,
                mode_problems=mode_problems(self.folder, self.path),
                others=others,
            )
        record = read_record(self.path)
        contents = _contents(data)
        market = contents.marketplace() if contents else None
        sha = _sha(data)
        owner = ownership_of(sha, record)
        written = record.find(sha) if record is not None and sha is not None else None
        return HandoffInspection(
            self.path,
            self.username,
            folder_exists=folder_exists,
            exists=True,
            format=contents.format if contents else None,
            readable=contents is not None,
            modified_at=modified_at(self.path),
            ownership=owner,
            last_written=written or (record.latest if record else None),
            verdict=offline_verdict(contents, self.clock.time()),
            marketplace=market.domain if market else None,
            mode_problems=mode_problems(self.folder, self.path),
            others=others,
        )


@dataclass(frozen=True, slots=True)
class _Expected:
    """What a verified replacement must find and produce."""

    source: HandoffSource
    file_format: CookieFileFormat
    #: The account the file is named after.
    username: str = field(repr=False)
    digest: str
    #: The bytes of the file the decision was made on (None: there was none).
    previous: bytes | None = field(repr=False)
    #: Ask Amazon about the new file's cookies (False: they were confirmed in this hand-off).
    ask: bool = True


async def _check_aiohttp_reads(path: Path, alexa_host: str, wanted: dict[str, str]) -> None:
    """Load a new pickle with aiohttp's own ``CookieJar.load``, as Music Assistant will."""
    jar = CookieJar()
    try:
        await asyncio.to_thread(jar.load, path)
    except Exception as err:
        msg = "aiohttp cannot read the new session file; nothing was replaced."
        raise HandoffStorageError(msg) from err
    url = URL.build(scheme="https", host=alexa_host, path=USERS_ME_PATH)
    loaded = {name: morsel.value for name, morsel in jar.filter_cookies(url).items()}
    if loaded != wanted:
        msg = (
            "aiohttp reads the new session file differently from how it was written; nothing "
            "was replaced."
        )
        raise HandoffStorageError(msg)


def _outcome(owner: Ownership, previous: CookieVerdict | None, *, older: bool) -> HandoffOutcome:
    if owner is Ownership.MISSING:
        return HandoffOutcome.WRITTEN
    if owner is not Ownership.FOREIGN:
        return HandoffOutcome.REPLACED
    if previous is not None and previous.stale:
        return HandoffOutcome.REPLACED_STALE
    if older:
        return HandoffOutcome.REPLACED_OLDER
    return HandoffOutcome.REPLACED_FORCED


def _predates_session(path: Path, record: HandoffRecord | None, source: HandoffSource) -> bool:
    """
    Return whether someone else's file is older than what it would answer (blocking).

    The user's own sign-in in the alexa provider's dialog answers our last write to the file
    (or, before our first one, this session's sign-in): a file made before that is no answer
    to anything of ours, and the fresher session replaces it.
    """
    latest = record.latest if record is not None else None
    reference = latest.written_at if latest is not None else source.signed_in_at
    made = modified_at(path)
    return made is not None and reference > 0 and made < reference


def _suffix_of(path: Path) -> str:
    return next(s for s in _FORMAT_OF_SUFFIX if path.name.endswith(s))


def _refuse_tokens(payload: bytes, forbidden: tuple[str, ...]) -> None:
    """Stop a write whose bytes hold a device secret (a bug upstream, never the user's)."""
    leaked = any(marker in payload for marker in _TOKEN_MARKERS) or any(
        secret.encode() in payload for secret in forbidden if len(secret) >= 8
    )
    if leaked:
        msg = "Refused to hand over a file that would hold a device token."
        raise HandoffError(msg)


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _contents(data: bytes | None) -> CookieFileContents | None:
    if data is None:
        return None
    try:
        return read_cookie_file(data)
    except CookieFileError:
        return None
