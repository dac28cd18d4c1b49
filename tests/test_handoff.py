"""
The hand-off writes Music Assistant's alexa session file safely, and never fights the user.

Invariants protected here: the file holds the marketplace's website cookies and csrf and not a
byte of any token; it is 0600 in a 0700 folder; every reader takes it (our restricted reader,
the installed aiohttp's ``CookieJar.load``); it replaces nothing before Amazon confirmed its
cookies for the configured e-mail, and a failed verification leaves the working file as it was;
the replaced file is kept as ``.bak``; a newer file written by the alexa provider's own sign-in
is kept while it works and replaced (after a backup) only once it is stale; other accounts'
files are checked and reported, never changed; each file costs at most one request, none when
its own expiry already says it is stale.
"""

from __future__ import annotations

import os
import pickle
import stat
from http.cookies import Morsel
from typing import TYPE_CHECKING

import pytest
from aiohttp import CookieJar
from yarl import URL

from music_assistant_alexa.auth.errors import NotSignedInError
from music_assistant_alexa.auth.handoff.disk import (
    backup_file,
    folder_locked,
    handoff_file,
    handoff_folder,
    masked_name,
    read_optional,
    username_of,
)
from music_assistant_alexa.auth.handoff.errors import (
    HandoffAccountError,
    HandoffInputError,
    HandoffRejectedError,
    HandoffStorageError,
    HandoffUnverifiedError,
)
from music_assistant_alexa.auth.handoff.file_formats import (
    CookieFileError,
    CookieFileFormat,
    FileCookie,
    encode_aiohttp_pickle,
    read_cookie_file,
)
from music_assistant_alexa.auth.handoff.probe import CookieVerdict
from music_assistant_alexa.auth.handoff.record import (
    Ownership,
    ownership_of,
    read_record,
    record_file,
)
from music_assistant_alexa.auth.handoff.writer import (
    AlexaHandoff,
    FileAction,
    HandoffOutcome,
    HandoffSource,
)
from music_assistant_alexa.auth.usernames import mask_username

from .handoff_support import save_like_music_assistant
from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock, make_manager

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

USERS_ME = "/api/users/me"


@pytest.fixture
async def signed_in(manager: AuthSessionManager) -> AuthSessionManager:
    """Return the test account's manager, signed in."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    return manager


@pytest.fixture
def ma_data(tmp_path: Path) -> Path:
    """Return an existing Music Assistant data folder (without an .alexa folder yet)."""
    folder = tmp_path / "ma-data"
    folder.mkdir()
    return folder


@pytest.fixture
async def handoff(
    signed_in: AuthSessionManager, http_session: aiohttp.ClientSession, ma_data: Path
) -> AsyncIterator[AlexaHandoff]:
    """Return the hand-off of the signed-in session to the test account's alexa instance."""
    writer = AlexaHandoff.for_manager(
        signed_in, session=http_session, ma_data=ma_data, username=TEST_EMAIL, pace=0
    )
    yield writer
    await writer.close()


def secrets_of(manager: AuthSessionManager) -> list[str]:
    """Return every device secret of the session (none may reach the file)."""
    registration = manager.registration
    assert registration is not None
    values = [
        registration.refresh_token,
        registration.access_token,
        registration.adp_token,
        registration.device_private_key,
        registration.frc,
        registration.map_md,
        registration.device_serial,
    ]
    assert all(values)
    return values


async def test_writes_a_private_file_every_reader_takes(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The first write: website cookies and csrf, 0600 in 0700, one verification request."""
    simulator.reset_counts()
    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.WRITTEN
    assert result.path == handoff_file(handoff.ma_data, TEST_EMAIL)
    assert result.backup is None
    assert simulator.request_count() == 1
    assert simulator.request_count(USERS_ME, host="alexa.amazon.com") == 1
    assert stat.S_IMODE(result.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    data = result.path.read_bytes()
    contents = read_cookie_file(data)
    assert contents.format is CookieFileFormat.AIOHTTP_PICKLE
    assert {c.name for c in contents.cookies} == {
        "session-id",
        "session-id-time",
        "session-token",
        "ubid-main",
        "at-main",
        "sess-at-main",
        "x-main",
        "csrf",
    }
    stored = signed_in.cookies
    assert stored is not None
    assert {c.name: c.value for c in contents.cookies}["csrf"] == stored.csrf
    # What Music Assistant's aiohttp reads: a defaultdict of SimpleCookie, every cookie sent to
    # the Alexa host, none to a foreign marketplace.
    assert isinstance(pickle.loads(data), dict)  # noqa: S301 - our own file, as MA 2.9 reads it
    jar = CookieJar()
    jar.load(result.path)
    sent = jar.filter_cookies(URL("https://alexa.amazon.com/api/users/me"))
    assert set(sent) == {c.name for c in contents.cookies}
    assert not jar.filter_cookies(URL("https://alexa.amazon.de/api/users/me"))
    assert ownership_of_file(result.path) is Ownership.OURS


def ownership_of_file(path: Path) -> Ownership:
    """Return who wrote a file, by our record."""
    import hashlib  # noqa: PLC0415 - only this helper hashes

    return ownership_of(hashlib.sha256(path.read_bytes()).hexdigest(), read_record(path))


async def test_no_token_byte_ever_reaches_the_file(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """Refresh and access token, adp token, private key, frc, map-md, serial: none in the bytes."""
    result = await handoff.write(HandoffSource.from_manager(signed_in))
    data = result.path.read_bytes()
    for secret in secrets_of(signed_in):
        assert secret.encode() not in data
    for marker in (b"Atnr|", b"Atna|", b"PRIVATE KEY", b"mac_dms", b"refresh", b"frc", b"map-md"):
        assert marker not in data
    # The record beside it holds hashes and times only.
    record = result.path.with_name(result.path.name + ".handoff.json").read_bytes()
    for secret in secrets_of(signed_in):
        assert secret.encode() not in record
    assert TEST_EMAIL.encode() not in record


async def test_refresh_replaces_our_file_and_keeps_the_previous_one(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Our own file is replaced after a refresh; the old one becomes .bak; same cookies: no-op."""
    first = await handoff.write(HandoffSource.from_manager(signed_in))
    first_bytes = first.path.read_bytes()
    await signed_in.refresh()
    simulator.reset_counts()

    second = await handoff.write(HandoffSource.from_manager(signed_in))

    assert second.outcome is HandoffOutcome.REPLACED
    assert second.backup == backup_file(first.path)
    assert second.backup.read_bytes() == first_bytes
    assert stat.S_IMODE(second.backup.stat().st_mode) == 0o600
    assert second.path.read_bytes() != first_bytes
    assert simulator.request_count() == 1  # our own file: only the verification
    simulator.reset_counts()
    third = await handoff.write(HandoffSource.from_manager(signed_in))
    assert third.outcome is HandoffOutcome.UNCHANGED
    assert simulator.request_count() == 0


async def test_failed_verification_never_replaces_a_working_file(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Amazon rejects the new cookies: the old file, the record and the folder stay as they were."""
    first = await handoff.write(HandoffSource.from_manager(signed_in))
    before = {p.name: p.read_bytes() for p in first.path.parent.iterdir()}
    await signed_in.refresh()
    newer = HandoffSource.from_manager(signed_in)
    simulator.expire_cookies(TEST_EMAIL)

    with pytest.raises(HandoffRejectedError) as caught:
        await handoff.write(newer)

    assert caught.value.needs_user
    assert "nothing was replaced" in caught.value.message
    after = {p.name: p.read_bytes() for p in first.path.parent.iterdir()}
    assert after == before  # no .bak, no temporary file, the same record


async def test_unreachable_amazon_never_replaces_a_working_file(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """No answer from Amazon: a temporary error, and nothing is replaced."""
    first = await handoff.write(HandoffSource.from_manager(signed_in))
    first_bytes = first.path.read_bytes()
    await signed_in.refresh()
    simulator.scenario.server_error = 1

    with pytest.raises(HandoffUnverifiedError) as caught:
        await handoff.write(HandoffSource.from_manager(signed_in))

    assert not caught.value.needs_user
    assert first.path.read_bytes() == first_bytes
    assert not backup_file(first.path).exists()


async def test_a_newer_working_file_from_the_users_own_sign_in_is_left_alone(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Never fight the user: their file stays while Amazon accepts it (one request to know)."""
    await handoff.write(HandoffSource.from_manager(signed_in))
    user_file = save_like_music_assistant(signed_in, handoff.ma_data)  # the dialog, later
    users_bytes = user_file.read_bytes()
    await signed_in.refresh()
    simulator.reset_counts()

    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.KEPT_USER_FILE
    assert not result.fed
    assert result.previous is CookieVerdict.VALID
    assert user_file.read_bytes() == users_bytes
    assert simulator.request_count() == 1
    assert simulator.request_count(USERS_ME) == 1


async def test_force_replaces_a_working_user_file_after_a_backup(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """On the user's word (--force), their file is replaced; it is kept as .bak."""
    user_file = save_like_music_assistant(signed_in, handoff.ma_data)
    users_bytes = user_file.read_bytes()
    await signed_in.refresh()

    result = await handoff.write(HandoffSource.from_manager(signed_in), force=True)

    assert result.outcome is HandoffOutcome.REPLACED_FORCED
    assert result.backup is not None
    assert result.backup.read_bytes() == users_bytes
    assert ownership_of_file(user_file) is Ownership.OURS


async def test_a_stale_user_file_is_replaced_after_a_backup(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Amazon dropped the user's cookies: ours replace them, theirs are kept as .bak."""
    user_file = save_like_music_assistant(signed_in, handoff.ma_data)
    users_bytes = user_file.read_bytes()
    simulator.expire_cookies(TEST_EMAIL)
    await signed_in.refresh()
    simulator.reset_counts()

    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.REPLACED_STALE
    assert result.previous is CookieVerdict.REJECTED
    assert result.backup is not None
    assert result.backup.read_bytes() == users_bytes
    assert simulator.request_count(USERS_ME) == 2  # their file once, ours once


async def test_someone_elses_file_from_before_the_session_is_replaced_without_asking(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """A working file of the alexa provider's own sign-in made before ours is no answer to it."""
    user_file = save_like_music_assistant(signed_in, handoff.ma_data)
    users_bytes = user_file.read_bytes()
    registration = signed_in.registration
    assert registration is not None
    before = registration.registered_at - 3600  # an hour before this session's sign-in
    os.utime(user_file, (before, before))
    simulator.reset_counts()

    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.REPLACED_OLDER
    assert result.previous is None  # not asked about: it is older either way
    assert result.backup is not None
    assert result.backup.read_bytes() == users_bytes
    assert simulator.request_count() == 1  # only the verification of ours
    assert ownership_of_file(user_file) is Ownership.OURS


async def test_a_users_file_older_than_our_last_write_is_replaced_a_newer_one_kept(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """Once we wrote the file, "newer" means made after that write."""
    first = await handoff.write(HandoffSource.from_manager(signed_in))
    record = read_record(first.path)
    assert record is not None
    assert record.latest is not None
    user_file = save_like_music_assistant(signed_in, handoff.ma_data)
    older = record.latest.written_at - 60  # a file put back with an old date
    os.utime(user_file, (older, older))
    await signed_in.refresh()

    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.REPLACED_OLDER


async def test_copies_we_wrote_follow_the_session_without_another_request(
    handoff: AlexaHandoff,
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
) -> None:
    """Our file under another spelling of the username is brought up to date, unasked."""
    spelling = AlexaHandoff.for_manager(
        signed_in,
        session=http_session,
        ma_data=handoff.ma_data,
        username=TEST_EMAIL.upper(),
        pace=0,
    )
    try:
        copy = (await spelling.write(HandoffSource.from_manager(signed_in))).path
    finally:
        await spelling.close()
    await handoff.write(HandoffSource.from_manager(signed_in))
    await signed_in.refresh()
    simulator.reset_counts()

    report = await handoff.run(HandoffSource.from_manager(signed_in))

    entry = next(f for f in report.files if f.path == copy)
    assert entry.action is FileAction.UPDATED
    assert entry.verdict is CookieVerdict.NOT_ASKED
    new = {c.name: c.value for c in HandoffSource.from_manager(signed_in).cookies}
    assert {c.name: c.value for c in read_cookie_file(copy.read_bytes()).cookies} == new
    assert simulator.request_count() == 1  # the verification of the instance's file only
    simulator.reset_counts()
    again = await handoff.run(HandoffSource.from_manager(signed_in))
    assert next(f for f in again.files if f.path == copy).action is FileAction.KEPT
    assert simulator.request_count() == 0


async def test_other_accounts_files_are_asked_about_only_when_wanted(
    handoff: AlexaHandoff,
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
) -> None:
    """A routine hand-off reads other accounts' files' dates and asks Amazon nothing about them."""
    other = save_like_music_assistant(signed_in, handoff.ma_data, username="other@example.com")
    simulator.reset_counts()

    report = await handoff.run(HandoffSource.from_manager(signed_in), probe_others=False)

    entry = next(f for f in report.files if f.path == other)
    assert entry.verdict is CookieVerdict.NOT_ASKED
    assert entry.action is FileAction.KEPT
    assert simulator.request_count() == 1  # the verification of ours


async def test_an_expired_file_costs_no_request(
    handoff: AlexaHandoff,
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    clock: FakeClock,
) -> None:
    """A file whose sign-in cookie expired by its own date is replaced without asking about it."""
    path = handoff.path
    path.parent.mkdir(mode=0o700)
    expired = [
        FileCookie("session-id", "000-0000000-0000000", "amazon.com"),
        FileCookie("at-main", "Atza|old", "amazon.com", expires_at=clock.now - 60),
    ]
    path.write_bytes(encode_aiohttp_pickle(expired))
    simulator.reset_counts()

    result = await handoff.write(HandoffSource.from_manager(signed_in))

    assert result.outcome is HandoffOutcome.REPLACED_STALE
    assert result.previous is CookieVerdict.EXPIRED
    assert simulator.request_count() == 1  # only the verification of ours


async def test_other_accounts_files_are_reported_and_never_changed(  # noqa: PLR0917 - fixtures
    handoff: AlexaHandoff,
    signed_in: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """Another household's working file is kept; an expired one is reported, both untouched."""
    other_email = "neighbour@example.com"
    simulator.add_account(other_email, TEST_PASSWORD, TEST_KEY)
    other = make_manager(http_session, tmp_path / "other", simulator.base_url, clock)
    try:
        await other.login(other_email, TEST_PASSWORD, TEST_KEY)
        working = save_like_music_assistant(other, handoff.ma_data, username=other_email)
    finally:
        await other.close()
    gone = handoff_file(handoff.ma_data, "gone@example.com")
    gone.write_bytes(
        encode_aiohttp_pickle(
            [
                FileCookie("session-id", "111-1111111-1111111", "amazon.com"),
                FileCookie("at-main", "Atza|gone", "amazon.com", expires_at=clock.now - 1),
            ]
        )
    )
    untouched = {p: p.read_bytes() for p in (working, gone)}
    simulator.reset_counts()

    report = await handoff.run(HandoffSource.from_manager(signed_in))

    by_user = {f.username: f for f in report.files}
    assert by_user[TEST_EMAIL].action is FileAction.FED
    assert by_user[other_email].action is FileAction.KEPT
    assert by_user[other_email].verdict is CookieVerdict.VALID
    assert not by_user[other_email].same_account
    assert by_user["gone@example.com"].action is FileAction.REPORTED
    assert by_user["gone@example.com"].verdict is CookieVerdict.EXPIRED
    assert {p: p.read_bytes() for p in untouched} == untouched
    assert not backup_file(working).exists()
    assert not backup_file(gone).exists()
    # Ours verified once, the neighbour's asked once, the expired one never.
    assert simulator.request_count(USERS_ME) == 2
    assert simulator.violations == []  # no request mixed two households' cookies


async def test_this_accounts_stale_cookies_file_is_replaced_in_its_own_layout(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """This account's stale alexapy .cookies file: replaced in alexapy's layout, .bak kept."""
    path = handoff_file(handoff.ma_data, TEST_EMAIL.upper(), ".cookies")
    path.parent.mkdir(mode=0o700)
    stale = b'{"format": "alexapy.cookies", "version": 1, "cookies": []}'
    path.write_bytes(stale)

    report = await handoff.run(HandoffSource.from_manager(signed_in))

    entry = next(f for f in report.files if f.path == path)
    assert entry.same_account
    assert entry.verdict is CookieVerdict.NO_SIGN_IN
    assert entry.action is FileAction.REPLACED
    assert backup_file(path).read_bytes() == stale
    contents = read_cookie_file(path.read_bytes())
    assert contents.format is CookieFileFormat.ALEXAPY_JSON
    assert contents.marketplace() is not None


async def test_another_accounts_username_is_refused_before_anything(
    signed_in: AuthSessionManager,
    http_session: aiohttp.ClientSession,
    ma_data: Path,
    simulator: AmazonSimulator,
) -> None:
    """The session is not the account the alexa instance names: bad input, nothing written."""
    writer = AlexaHandoff.for_manager(
        signed_in, session=http_session, ma_data=ma_data, username="someone@else.com", pace=0
    )
    simulator.reset_counts()
    try:
        with pytest.raises(HandoffAccountError):
            await writer.write(HandoffSource.from_manager(signed_in))
    finally:
        await writer.close()
    assert simulator.request_count() == 0
    assert not (ma_data / ".alexa").exists()


async def test_bad_folder_and_username_are_refused(
    signed_in: AuthSessionManager, http_session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A missing data folder or a username with a slash: bad input, nothing created."""
    with pytest.raises(HandoffInputError):
        AlexaHandoff(session=http_session, ma_data=tmp_path, username="../evil")
    missing = tmp_path / "no-such-folder"
    writer = AlexaHandoff.for_manager(
        signed_in, session=http_session, ma_data=missing, username=TEST_EMAIL, pace=0
    )
    try:
        with pytest.raises(HandoffInputError):
            await writer.write(HandoffSource.from_manager(signed_in))
    finally:
        await writer.close()
    assert not missing.exists()


async def test_nothing_to_hand_over_before_sign_in(manager: AuthSessionManager) -> None:
    """A signed-out session has no cookies to give."""
    with pytest.raises(NotSignedInError):
        HandoffSource.from_manager(manager)


def test_reader_refuses_foreign_objects_without_running_them() -> None:
    """A pickle naming anything but cookie types is refused, like aiohttp 3.14 refuses it."""
    crafted = pickle.dumps({"x": print})
    with pytest.raises(CookieFileError):
        read_cookie_file(crafted)
    with pytest.raises(CookieFileError):
        read_cookie_file(b"not a cookie file")


def test_morsels_are_built_by_the_reading_python() -> None:
    """Only attributes every Python knows are stored; the reader's Morsel() supplies the rest."""
    data = encode_aiohttp_pickle([FileCookie("at-main", "Atza|x", "amazon.com", http_only=True)])
    assert b"partitioned" not in data
    jar = pickle.loads(data)  # noqa: S301 - our own bytes
    morsel = jar["amazon.com", ""]["at-main"]
    assert set(morsel) == set(Morsel()._reserved)  # type: ignore[attr-defined]
    assert morsel["httponly"] is True
    assert morsel.coded_value == "Atza|x"


def test_names_are_masked_for_diagnostics(tmp_path: Path) -> None:
    """File names hold e-mail addresses; what diagnostics show does not."""
    path = handoff_file(tmp_path, TEST_EMAIL)
    assert username_of(path) == TEST_EMAIL
    assert masked_name(path) == f".alexa/alexa_media.{mask_username(TEST_EMAIL)}.pickle"
    assert TEST_EMAIL not in masked_name(backup_file(path))
    assert mask_username("+4917012345678") == "+4***"


# --- hostile files in Music Assistant's folder --------------------------------------------------

_DEEP_JSON = b"[" * 200_000 + b"]" * 200_000


def test_a_deeply_nested_file_is_unreadable_not_a_crash() -> None:
    """400 KB of nested brackets is no cookie jar: a clear refusal, never a RecursionError."""
    with pytest.raises(CookieFileError):
        read_cookie_file(_DEEP_JSON)


def test_a_deeply_nested_record_is_no_record(tmp_path: Path) -> None:
    """Our record beside the file, nested 200,000 levels deep, reads as no record at all."""
    session_file = tmp_path / "alexa_media.h@example.com.pickle"
    record_file(session_file).write_bytes(_DEEP_JSON)
    assert read_record(session_file) is None


def test_a_fifo_in_place_of_a_file_does_not_hang_the_reader(tmp_path: Path) -> None:
    """A FIFO where the session file or our record belongs is refused at once (no writer waits)."""
    session_file = tmp_path / "alexa_media.h@example.com.pickle"
    os.mkfifo(session_file)
    os.mkfifo(record_file(session_file))
    with pytest.raises(HandoffStorageError, match="not a regular file"):
        read_optional(session_file)
    assert read_record(session_file) is None


async def test_two_hand_offs_in_one_folder_take_turns(tmp_path: Path) -> None:
    """Music Assistant and the command line never update the folder's records at once."""
    folder = handoff_folder(tmp_path)
    async with folder_locked(folder):
        with pytest.raises(HandoffStorageError, match="Another process"):
            async with folder_locked(folder, wait=0):
                pytest.fail("both held the folder")
    async with folder_locked(folder, wait=0):
        pass  # free again once the first let go
