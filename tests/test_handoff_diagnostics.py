"""
The hand-off's health checks name the fed file, its age and layout, who wrote it, and the fix.

Invariants protected here: every problem links the ``alexa-players`` guide section; a file we
wrote with the session's current cookies is OK, an older one a warning, an expired one an
error; someone else's working file is respected (OK), a stale one an error, a JSON one a
warning for Music Assistant 2.9.0/2.9.1; open modes are an error; other accounts' stale files
are a warning; no message ever holds the e-mail address; nothing is sent to Amazon.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any

import pytest

from music_assistant_alexa.auth.handoff.disk import handoff_file
from music_assistant_alexa.auth.handoff.errors import (
    HandoffRejectedError,
    HandoffUnverifiedError,
)
from music_assistant_alexa.auth.handoff.file_formats import (
    CookieFileFormat,
    FileCookie,
    encode_aiohttp_pickle,
    read_cookie_file,
)
from music_assistant_alexa.auth.handoff.writer import AlexaHandoff, HandoffSource
from music_assistant_alexa.diagnostics.checks import CheckStatus, HealthCheck
from music_assistant_alexa.diagnostics.handoff import (
    ALEXA_PLAYERS_CHECK_KEY,
    COOKIE_FILES_CHECK_KEY,
    HANDOFF_CHECK_KEY,
    AlexaPlayersState,
    alexa_players_check,
    run_handoff_checks,
)
from music_assistant_alexa.guide import GuideSlug, guide_link

from .handoff_support import save_like_music_assistant
from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

DAY = 86_400.0


@pytest.fixture
async def signed_in(manager: AuthSessionManager) -> AuthSessionManager:
    """Return the test account's manager, signed in."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    return manager


@pytest.fixture
async def handoff(
    signed_in: AuthSessionManager, http_session: aiohttp.ClientSession, tmp_path: Path
) -> AsyncIterator[AlexaHandoff]:
    """Return the hand-off of the signed-in session."""
    ma_data = tmp_path / "ma-data"
    ma_data.mkdir()
    writer = AlexaHandoff.for_manager(
        signed_in, session=http_session, ma_data=ma_data, username=TEST_EMAIL, pace=0
    )
    yield writer
    await writer.close()


async def checks_of(handoff: AlexaHandoff, manager: AuthSessionManager) -> dict[str, HealthCheck]:
    """Run the hand-off checks; fail if any message leaks the e-mail address."""
    stored = manager.cookies
    checks = await run_handoff_checks(
        handoff, session_cookie_timestamp=stored.timestamp if stored else None
    )
    for check in checks:
        assert TEST_EMAIL not in check.message
        if check.status is not CheckStatus.OK:
            assert check.guide_slug is GuideSlug.ALEXA_PLAYERS
            assert check.guide_url == guide_link(GuideSlug.ALEXA_PLAYERS)
    return {check.key: check for check in checks}


async def test_no_file_yet_is_a_warning(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Before the first hand-off: a warning that names the (masked) file; nothing is asked."""
    simulator.reset_counts()
    checks = await checks_of(handoff, signed_in)
    check = checks[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.WARNING
    assert ".alexa/alexa_media.h***@example.com.pickle" in check.message
    assert checks[COOKIE_FILES_CHECK_KEY].status is CheckStatus.OK
    assert simulator.request_count() == 0


async def test_our_current_file_is_ok_and_an_older_one_a_warning(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, clock: FakeClock
) -> None:
    """Fed with the current cookies: OK; after a refresh that was not handed over: a warning."""
    await handoff.write(HandoffSource.from_manager(signed_in))
    clock.advance(2 * DAY)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.OK
    assert "are fed" in check.message
    assert "2.0 days ago" in check.message
    assert "aiohttp pickle" in check.message

    await signed_in.refresh()
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.WARNING
    assert "older cookies" in check.message


async def test_our_file_with_dead_cookies_is_an_error(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, clock: FakeClock
) -> None:
    """Cookies 14 days old: Amazon no longer takes them, the Alexa players cannot sign in."""
    await handoff.write(HandoffSource.from_manager(signed_in))
    clock.advance(15 * DAY)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.ERROR
    assert "no longer accepts them" in check.message


async def test_the_users_own_file_is_respected_and_named(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """A file from the alexa provider's own sign-in: left alone, said so, its flaws named."""
    await handoff.write(HandoffSource.from_manager(signed_in))
    path = save_like_music_assistant(signed_in, handoff.ma_data)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert "alexa provider's own sign-in" in check.message
    assert "after this provider's last write" in check.message
    # What the dialog leaves depends on Music Assistant's aiohttp: JSON from 3.14 on, which
    # Music Assistant 2.9.0/2.9.1 cannot read; before, a pickle with the umask's mode.
    is_json = read_cookie_file(path.read_bytes()).format is CookieFileFormat.AIOHTTP_JSON
    is_open = bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    assert ("2.9.0 and 2.9.1" in check.message) is is_json
    assert ("readable by others" in check.message) is is_open
    expected = CheckStatus.WARNING if is_json or is_open else CheckStatus.OK
    assert check.status is expected


async def test_open_modes_of_the_users_file_are_a_warning(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """The dialog's own file, 0644 in a 0755 folder: a warning (our next write fixes it)."""
    path = handoff.path
    path.parent.mkdir(mode=0o755)
    path.parent.chmod(0o755)
    path.write_bytes(encode_aiohttp_pickle(HandoffSource.from_manager(signed_in).cookies))
    path.chmod(0o644)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.WARNING
    assert "the folder is 0755, the file is 0644" in check.message


async def test_a_foreign_working_pickle_is_ok(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """Someone else's pickle that nothing says is stale: OK, kept while Amazon accepts it."""
    path = handoff.path
    path.parent.mkdir(mode=0o700)
    path.write_bytes(encode_aiohttp_pickle(HandoffSource.from_manager(signed_in).cookies))
    path.chmod(0o600)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.OK
    assert "left alone while Amazon accepts it" in check.message


async def test_a_foreign_expired_file_and_an_unreadable_one_are_errors(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, clock: FakeClock
) -> None:
    """Expired by its own date: error; not a cookie file at all: error."""
    path = handoff.path
    path.parent.mkdir(mode=0o700)
    path.write_bytes(
        encode_aiohttp_pickle(
            [
                FileCookie("session-id", "1", "amazon.com"),
                FileCookie("at-main", "Atza|x", "amazon.com", expires_at=clock.now - 1),
            ]
        )
    )
    path.chmod(0o600)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.ERROR
    assert "expired" in check.message

    path.write_bytes(b"\x00garbage")
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.ERROR
    assert "not a cookie file" in check.message


async def test_open_modes_are_an_error(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """A file others can read (the alexa provider's dialog writes 0644 on aiohttp 3.13)."""
    result = await handoff.write(HandoffSource.from_manager(signed_in))
    result.path.chmod(0o644)
    check = (await checks_of(handoff, signed_in))[HANDOFF_CHECK_KEY]
    assert check.status is CheckStatus.ERROR
    assert "the file is 0644" in check.message


async def test_other_accounts_stale_files_are_a_warning(
    handoff: AlexaHandoff, signed_in: AuthSessionManager, clock: FakeClock
) -> None:
    """Another account's expired file is named (masked), with the fix; it is not touched."""
    other = handoff_file(handoff.ma_data, "neighbour@example.com")
    other.parent.mkdir(mode=0o700)
    data = encode_aiohttp_pickle(
        [
            FileCookie("session-id", "1", "amazon.com"),
            FileCookie("at-main", "Atza|x", "amazon.com", expires_at=clock.now - 1),
        ]
    )
    other.write_bytes(data)
    checks = await checks_of(handoff, signed_in)
    check = checks[COOKIE_FILES_CHECK_KEY]
    assert check.status is CheckStatus.WARNING
    assert "alexa_media.n***@example.com.pickle" in check.message
    assert "neighbour" not in check.message
    assert other.read_bytes() == data


async def test_a_verdict_amazon_gave_stays_while_the_file_is_unchanged(
    handoff: AlexaHandoff, signed_in: AuthSessionManager
) -> None:
    """A rejected file looks fine by its dates; the last hand-off's verdict keeps it named."""
    other = save_like_music_assistant(signed_in, handoff.ma_data, username="n@example.com")
    report = await handoff.run(HandoffSource.from_manager(signed_in))  # asks: another account
    stored = signed_in.cookies
    assert stored is not None

    without = await run_handoff_checks(handoff, session_cookie_timestamp=stored.timestamp)
    with_known = await run_handoff_checks(
        handoff, session_cookie_timestamp=stored.timestamp, known=report.files
    )

    assert without[1].status is CheckStatus.OK  # its dates say nothing
    assert with_known[1].status is CheckStatus.WARNING
    assert "another account" in with_known[1].message
    later_time = other.stat().st_mtime + 10
    os.utime(other, (later_time, later_time))  # changed since: the old verdict no longer applies
    later = await run_handoff_checks(
        handoff, session_cookie_timestamp=stored.timestamp, known=report.files
    )
    assert later[1].status is CheckStatus.OK


def _state(**changes: Any) -> AlexaPlayersState:
    fields: dict[str, Any] = {
        "instance_id": "alexa",
        "enabled": True,
        "loaded": True,
        "load_failed": False,
        "players": 2,
        "playing": 0,
    }
    fields.update(changes)
    return AlexaPlayersState(**fields)


@pytest.mark.parametrize(
    ("state", "option_on", "status", "phrase"),
    [
        pytest.param(None, False, CheckStatus.OK, "is off", id="option-off"),
        pytest.param(None, True, CheckStatus.OK, "No Alexa player provider", id="none"),
        pytest.param(_state(), True, CheckStatus.OK, "2 Echo player(s)", id="fed"),
        pytest.param(
            _state(reload_pending_since=1.0e9, reload_due_by=1.0e9 + DAY),
            True,
            CheckStatus.OK,
            "once no Echo plays, at the latest",
            id="restart-waits",
        ),
        pytest.param(_state(enabled=False), True, CheckStatus.OK, "disabled", id="disabled"),
        pytest.param(_state(players=0), True, CheckStatus.WARNING, "no Echo", id="no-players"),
        pytest.param(
            _state(loaded=False, load_failed=True),
            True,
            CheckStatus.WARNING,
            "did not start",
            id="failed",
        ),
        pytest.param(_state(loaded=False), True, CheckStatus.WARNING, "not running", id="off"),
    ],
)
def test_the_alexa_players_check_says_how_the_fed_instance_is_doing(
    state: AlexaPlayersState | None, *, option_on: bool, status: CheckStatus, phrase: str
) -> None:
    """One sentence per situation; every problem links the alexa-players section."""
    check = alexa_players_check(state, option_on=option_on)
    assert check.key == ALEXA_PLAYERS_CHECK_KEY
    assert check.status is status
    assert phrase in check.message
    if status is not CheckStatus.OK:
        assert check.guide_slug is GuideSlug.ALEXA_PLAYERS


def test_the_alexa_players_check_names_a_mismatch_and_a_failed_hand_off() -> None:
    """Another account's alexa instance is named (masked); a failed hand-off carries its fix."""
    mismatch = alexa_players_check(
        None, option_on=True, unmatched=("alexa: n***@example.com on amazon.de",), marketplace="x"
    )
    assert mismatch.status is CheckStatus.WARNING
    assert "n***@example.com on amazon.de" in mismatch.message
    failed = alexa_players_check(
        _state(), option_on=True, error=HandoffRejectedError("Amazon did not accept them.")
    )
    assert failed.status is CheckStatus.ERROR
    assert failed.guide_slug is GuideSlug.COOKIE_REFRESH
    assert "Amazon did not accept them." in failed.message
    later = alexa_players_check(
        _state(), option_on=True, error=HandoffUnverifiedError("Could not ask Amazon.")
    )
    assert later.status is CheckStatus.WARNING
