"""
Hostile answers from "Amazon" end as a plain temporary error, never a crash or a hang.

Invariant (issue 12, items 2 and 10): whatever Amazon answers (JSON nested 200,000 deep,
numbers beyond any float, a ``Date`` header in the year 99999, a body of 64 MB or announced as
1 GB, cookies named ``bad name;x``), the auth core raises one of its own temporary errors, the
stored session stays as it was, and the next sane answer recovers it; the refresh task keeps
running through it, and the command line prints one line. (Item 9, forms and redirects that
point away from Amazon, is in test_security.py.)

The hostile answers come from a real HTTP server in front of the simulator
(``tests/hostile_amazon.py``), so they cross the same wire as Amazon's.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING, Final

import pytest

from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    ErrorCategory,
    UnexpectedResponseError,
)
from music_assistant_alexa.auth.http import MAX_BODY_BYTES
from music_assistant_alexa.auth.refresh import DAY, RefreshScheduler
from music_assistant_alexa.auth.session import MAX_TOKEN_LIFETIME
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE
from music_assistant_alexa.cli import main

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, make_manager, simulator_session
from .hostile_amazon import (
    HostileAmazon,
    endless,
    json_answer,
    nested_json,
    with_header,
)
from .test_refresh import HorizonClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

TOKEN: Final = "/auth/token"
EXCHANGE: Final = "/ap/exchangetoken/cookies"
SIGNIN: Final = "/ap/signin"
#: The answer that broke the JSON parser (RecursionError) in the adversarial run.
DEEP: Final = 200_000


@pytest.fixture
def clock() -> HorizonClock:
    """Return a clock the refresh task can be run on up to a horizon."""
    return HorizonClock()


@pytest.fixture
async def hostile(simulator: AmazonSimulator) -> AsyncIterator[HostileAmazon]:
    """Run the hostile proxy in front of the simulator."""
    async with HostileAmazon(simulator) as proxy:
        yield proxy


@pytest.fixture
async def client(hostile: HostileAmazon) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session routed to the hostile proxy."""
    session = simulator_session(hostile.base_url)
    yield session
    await session.close()


@pytest.fixture
async def mgr(
    client: aiohttp.ClientSession, hostile: HostileAmazon, tmp_path: Path, clock: HorizonClock
) -> AsyncIterator[AuthSessionManager]:
    """Return a signed-out manager talking to the hostile proxy."""
    manager = make_manager(client, tmp_path / "account", hostile.base_url, clock)
    yield manager
    await manager.close()


@pytest.fixture
async def signed_in(mgr: AuthSessionManager, hostile: HostileAmazon) -> AuthSessionManager:
    """Return the manager signed in, through the proxy while it still behaves."""
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    hostile.requests.clear()
    return mgr


def session_files(manager: AuthSessionManager) -> dict[str, bytes]:
    """Return the stored session byte for byte."""
    folder = manager.store.folder
    return {name: (folder / name).read_bytes() for name in (REGISTRATION_FILE, COOKIES_FILE)}


async def assert_temporary(manager: AuthSessionManager, match: str) -> UnexpectedResponseError:
    """Refresh, expecting a temporary unreadable-answer error that says what was wrong."""
    with pytest.raises(UnexpectedResponseError, match=match) as caught:
        await manager.refresh()
    assert caught.value.category is ErrorCategory.TEMPORARY
    return caught.value


# --- item 2: answers that crashed the parsers ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"[" * DEEP + b"]" * DEEP, "nested too deeply", id="nested-200000"),
        pytest.param(b"[" * 40 + b"]" * 40, "nested too deeply", id="nested-40"),
        pytest.param(b'{"access_token": "Atna|x", "expires_in": 1e400}', "too large", id="1e400"),
        pytest.param(b'{"access_token": "Atna|x", "expires_in": NaN}', "not a number", id="nan"),
        pytest.param(
            b'{"access_token": "Atna|x", "expires_in": ' + b"9" * 5000 + b"}",
            "too large",
            id="5000-digits",
        ),
    ],
)
async def test_unreadable_refresh_answer_is_temporary_and_recoverable(
    signed_in: AuthSessionManager, hostile: HostileAmazon, body: bytes, reason: str
) -> None:
    """Each answer is refused as unreadable (temporary); the stored session is untouched."""
    before = session_files(signed_in)
    hostile.spoil("POST", EXCHANGE, json_answer(body))
    await assert_temporary(signed_in, reason)
    status = signed_in.status()
    assert status.last_refresh_ok is False
    assert status.last_refresh_error == "unexpected_response"
    events = (await signed_in.state()).events
    assert events[-1].kind == "failure"
    assert events[-1].error_code == "unexpected_response"
    assert session_files(signed_in) == before
    hostile.behave()
    await signed_in.refresh()
    assert signed_in.status().last_refresh_ok


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"[" * DEEP + b"]" * DEEP, "nested too deeply", id="nested-200000"),
        pytest.param(b'{"access_token": "Atna|x", "expires_in": 1e400}', "too large", id="1e400"),
        pytest.param(b'{"access_token": "Atna|x", "expires_in": NaN}', "not a number", id="nan"),
    ],
)
async def test_unreadable_token_answer_is_temporary(
    signed_in: AuthSessionManager, hostile: HostileAmazon, body: bytes, reason: str
) -> None:
    """An access-token answer nobody can read: a temporary error, the stored token untouched."""
    before = session_files(signed_in)
    hostile.spoil("POST", TOKEN, json_answer(body))
    with pytest.raises(UnexpectedResponseError, match=reason) as caught:
        await signed_in.verify_device()
    assert caught.value.category is ErrorCategory.TEMPORARY
    assert session_files(signed_in) == before
    hostile.behave()
    await signed_in.verify_device()


async def test_a_token_lifetime_beyond_reason_is_bounded(
    signed_in: AuthSessionManager,
    hostile: HostileAmazon,
    client: aiohttp.ClientSession,
    clock: HorizonClock,
) -> None:
    """``expires_in`` of 2**53 is believed only up to a day; what is stored reads back."""
    hostile.spoil(
        "POST", TOKEN, json_answer(b'{"access_token": "Atna|long", "expires_in": 9007199254740992}')
    )
    await signed_in.verify_device()  # mints (and stores) an access token
    registration = signed_in.registration
    assert registration is not None
    assert registration.access_token_expires_at == clock.now + MAX_TOKEN_LIFETIME
    restarted = make_manager(client, signed_in.store.folder, hostile.base_url, clock)
    try:
        assert await restarted.restore(validate=False)
        assert restarted.store.quarantined == []
    finally:
        await restarted.close()


@pytest.mark.parametrize(
    "date",
    [
        "Fri, 31 Dec 99999 23:59:59 GMT",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Thu, 01 Jan 2300 00:00:00 GMT",
        "not a date at all",
        "Mon, 99 Foo 2026 99:99:99 GMT",
    ],
)
async def test_an_absurd_date_header_is_ignored(
    mgr: AuthSessionManager, hostile: HostileAmazon, date: str
) -> None:
    """A ``Date`` Amazon could not mean changes nothing: no crash, no clock offset from it."""
    hostile.spoil("GET", SIGNIN, with_header("Date", date))
    hostile.spoil("POST", SIGNIN, with_header("Date", date))
    await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)  # the one-time code is made all the same
    assert mgr.signed_in
    offset = mgr.status().clock_offset
    assert offset is not None  # from the sane answers after the sign-in pages
    assert abs(offset) < 5
    hostile.spoil("POST", EXCHANGE, with_header("Date", date))
    await mgr.refresh()


async def test_the_refresh_task_keeps_running_through_hostile_answers(
    signed_in: AuthSessionManager, hostile: HostileAmazon, clock: HorizonClock
) -> None:
    """Nested JSON and 1e400 on every try: the task backs off and recovers, nobody is told."""
    needs_user: list[AlexaAuthError] = []
    recovered: list[bool] = []
    scheduler = RefreshScheduler(
        signed_in,
        jitter=0,
        on_needs_user=needs_user.append,
        on_recovered=lambda: recovered.append(True),
    )
    clock.advance(7 * DAY)
    hostile.spoil("POST", EXCHANGE, nested_json(DEEP))
    try:
        scheduler.start()
        await clock.run_until(clock.now + 60 + 300 + 1)
        assert scheduler.running
        assert scheduler.consecutive_failures == 3
        assert isinstance(scheduler.last_error, UnexpectedResponseError)
        hostile.spoil(
            "POST", EXCHANGE, json_answer(b'{"response": {"tokens": {"cookies": 1e400}}}')
        )
        hostile.spoil("GET", "/api/language", with_header("Date", "Fri, 31 Dec 99999 23:59:59 GMT"))
        await clock.run_until(clock.now + 900 + 1)
        assert scheduler.running
        assert scheduler.consecutive_failures == 4
        hostile.behave()
        await clock.run_until(clock.now + DAY)
        assert scheduler.running
        assert scheduler.consecutive_failures == 0
        assert recovered == [True]
        assert needs_user == []
    finally:
        await scheduler.stop()


async def test_cli_meets_a_hostile_answer_with_one_line_and_exit_4(
    signed_in: AuthSessionManager,
    hostile: HostileAmazon,
    clock: HorizonClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`refresh` against nested JSON: "✗" and exit code 4, no traceback on either stream."""
    hostile.spoil("POST", EXCHANGE, nested_json(DEEP))
    out = io.StringIO()
    args = [
        "--store",
        str(signed_in.store.folder),
        "--endpoint",
        hostile.base_url,
        "--pace",
        "0",
        "refresh",
    ]
    code = await asyncio.to_thread(main, args, out=out, clock=clock)
    text = out.getvalue()
    captured = capsys.readouterr()
    assert code == 4, text
    assert (
        "✗ Amazon sent an unreadable answer to /ap/exchangetoken/cookies (nested too deeply)."
        in text
    )
    assert "Traceback" not in text + captured.out + captured.err


# --- item 10: answers without end ---------------------------------------------------------------


@pytest.mark.parametrize("size", ["chunked-64MB", "content-length-1GB"])
async def test_an_endless_answer_is_cut_at_the_cap(
    signed_in: AuthSessionManager, hostile: HostileAmazon, size: str
) -> None:
    """64 MB streamed (or 1 GB announced): refused after at most the cap; nothing stored."""
    before = session_files(signed_in)
    declare = size == "content-length-1GB"
    total = 1024**3 if declare else 64 * 1024**2
    hostile.spoil("POST", EXCHANGE, endless(hostile, total=total, declare=declare))
    await assert_temporary(signed_in, "larger than 4 MB")
    # The client stopped reading: the server got rid of little more than the cap (socket
    # buffers), not of the whole answer.
    assert hostile.bytes_streamed < MAX_BODY_BYTES + 8 * 1024**2
    assert session_files(signed_in) == before
    hostile.behave()
    await signed_in.refresh()


async def test_an_endless_sign_in_page_spends_no_attempt(
    mgr: AuthSessionManager, hostile: HostileAmazon
) -> None:
    """The first page never ends: a temporary error before the password was ever sent."""
    hostile.spoil("GET", SIGNIN, endless(hostile, total=64 * 1024**2))
    with pytest.raises(UnexpectedResponseError, match="larger than 4 MB"):
        await mgr.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert mgr.status().password_attempts_last_hour == 0
    assert [r for r in hostile.requests if r[0] == "POST"] == []


# --- cookies Amazon cannot have meant -----------------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [
        {"Name": "bad name;x", "Value": "v"},
        {"Name": "", "Value": "v"},
        {"Name": "expires", "Value": "v"},
        {"Name": "at-main", "Value": "v\r\nSet-Cookie: evil=1"},
        {"Name": "at-main", "Value": "\u00e9t\u00e9"},
    ],
    ids=["space-semicolon", "empty", "reserved", "header-injection", "not-ascii"],
)
async def test_a_cookie_amazon_cannot_have_meant_is_refused(
    signed_in: AuthSessionManager, hostile: HostileAmazon, cookie: dict[str, str]
) -> None:
    """The cookie exchange hands out a broken cookie: a temporary error, the session kept."""
    before = session_files(signed_in)
    body = {"response": {"tokens": {"cookies": {".amazon.com": [cookie]}}}}
    hostile.spoil("POST", EXCHANGE, json_answer(json.dumps(body).encode()))
    await assert_temporary(signed_in, "cookie")
    assert session_files(signed_in) == before
