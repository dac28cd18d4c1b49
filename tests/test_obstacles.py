"""
Every page Amazon can put in front of the sign-in ends it with the right error, and only once.

For each obstacle the simulator serves (passkey, SMS-only 2FA, captchas, approval, bot walls,
lockout, missing account, rate limits), the sign-in stops with its own error class, Amazon's
text, the guide section that fixes it and the CLI exit code (3: needs the user, 4: temporary),
and nothing is stored but the attempt record. Captchas, lockouts and bot walls pause further
attempts (1, 5, 15, 60 minutes); the password is never sent more than three times an hour, not
even around a captcha's answer or a reset. Answers the simulator does not give (a registration
refused without JSON, a garbled answer) are scripted, and map onto our errors just the same.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest

from music_assistant_alexa.auth.endpoints import AmazonHosts, resolver_kwargs
from music_assistant_alexa.auth.errors import (
    AccountLockedError,
    AccountNotFoundError,
    AlexaAuthError,
    AmazonConnectionError,
    ApprovalRequiredError,
    BotChallengeError,
    CaptchaRequiredError,
    InvalidCredentialsError,
    LoginBackoffError,
    PageTooLargeError,
    PasskeyRequiredError,
    RateLimitedError,
    RegistrationError,
    TwoFactorMethodError,
)
from music_assistant_alexa.auth.html_scan import MAX_MARKUP, MAX_PAGE_CHARS
from music_assistant_alexa.auth.http import AmazonHttp
from music_assistant_alexa.auth.login import Credentials, SignInWalk
from music_assistant_alexa.auth.registration import DeviceIdentity, Pkce, register_device
from music_assistant_alexa.auth.session import BACKOFF_LADDER, CAPTCHA_TTL
from music_assistant_alexa.auth.store import STORE_MARKER
from music_assistant_alexa.auth.totp import parse_totp_key
from music_assistant_alexa.cli import exit_code_for
from music_assistant_alexa.guide import GuideSlug

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, Answer, ScriptedHttp, make_manager
from .page_samples import sample

if TYPE_CHECKING:
    from pathlib import Path

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

    from .helpers import FakeClock


@dataclass(frozen=True)
class Obstacle:
    """One scenario and what the sign-in must end in."""

    flag: str
    error: type[AlexaAuthError]
    slug: GuideSlug
    exit_code: int
    amazon_phrase: str | None = None


OBSTACLES = [
    Obstacle(
        "passkey_forced", PasskeyRequiredError, GuideSlug.PASSKEY, 3, "does not support passkeys"
    ),
    Obstacle("sms_only", TwoFactorMethodError, GuideSlug.TWO_FACTOR, 3),
    Obstacle("otp_too_many", TwoFactorMethodError, GuideSlug.TWO_FACTOR, 3, "too many OTPs"),
    Obstacle("cvf_captcha", CaptchaRequiredError, GuideSlug.CAPTCHA, 3),
    Obstacle("robot_check", CaptchaRequiredError, GuideSlug.CAPTCHA, 3),
    Obstacle("captcha_before_password", CaptchaRequiredError, GuideSlug.CAPTCHA, 3),
    Obstacle("approval", ApprovalRequiredError, GuideSlug.APPROVAL, 3),
    Obstacle("waf_challenge", BotChallengeError, GuideSlug.HEADLESS, 3),
    Obstacle("aamation_challenge", BotChallengeError, GuideSlug.HEADLESS, 3),
    Obstacle("account_missing", AccountNotFoundError, GuideSlug.CREDENTIALS, 3),
]


@pytest.mark.parametrize("obstacle", OBSTACLES, ids=lambda o: o.flag)
async def test_obstacle_ends_sign_in_with_its_error(
    manager: AuthSessionManager, simulator: AmazonSimulator, obstacle: Obstacle
) -> None:
    """Each obstacle page maps to its error, slug and exit code; nothing but state is stored."""
    setattr(simulator.scenario, obstacle.flag, True)
    with pytest.raises(obstacle.error) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    err = caught.value
    assert err.guide_slug is obstacle.slug
    assert exit_code_for(err) == obstacle.exit_code
    if obstacle.amazon_phrase:
        assert obstacle.amazon_phrase in (err.amazon_text or "")
    assert {p.name for p in manager.store.folder.iterdir()} <= {"state.json", STORE_MARKER}
    assert simulator.device_count(TEST_EMAIL) == 0
    assert not manager.signed_in
    state = await manager.state()
    assert state.events[-1].error_code == err.code


async def test_captcha_answer_continues_the_same_sign_in(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The captcha picture is handed out; the user's answer finishes the same sign-in."""
    simulator.scenario.captcha_before_password = True
    with pytest.raises(CaptchaRequiredError) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert caught.value.captcha_url
    assert manager.captcha_url == caught.value.captcha_url
    simulator.scenario.captcha_before_password = False
    gets_before = simulator.request_count("/ap/signin", method="GET")
    await manager.answer_captcha(simulator.captcha_answer)
    assert manager.signed_in
    assert simulator.request_count("/ap/signin", method="GET") == gets_before
    assert manager.captcha_url is None


async def test_wrong_captcha_answer_shows_a_new_captcha(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """A wrong answer gets a new picture to solve, not a crash or a silent retry."""
    simulator.scenario.captcha_before_password = True
    with pytest.raises(CaptchaRequiredError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    with pytest.raises(CaptchaRequiredError) as caught:
        await manager.answer_captcha("wrong")
    assert caught.value.captcha_url


async def test_captcha_after_wrong_password(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """A wrong password can bring a captcha: the error says both; a later sign-in works."""
    simulator.scenario.captcha_after_wrong_password = True
    with pytest.raises(CaptchaRequiredError) as caught:
        await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    assert caught.value.amazon_text == "Your password is incorrect"
    assert "password is wrong" in caught.value.message
    with pytest.raises(LoginBackoffError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    clock.advance(BACKOFF_LADDER[0] + 1)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in


async def test_lockout_after_wrong_passwords(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """After Amazon's lockout page the sign-in says so and pauses further attempts."""
    simulator.scenario.lockout_after = 2
    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    with pytest.raises(AccountLockedError) as caught:
        await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    assert caught.value.guide_slug is GuideSlug.ACCOUNT_LOCKOUT
    with pytest.raises(LoginBackoffError) as paused:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert paused.value.not_before == pytest.approx(clock.now + BACKOFF_LADDER[0])
    assert "lock" in paused.value.message


async def test_backoff_ladder_after_repeated_obstacles(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Each new obstacle waits longer: 1 min, 5 min, 15 min, then an hour."""
    simulator.scenario.waf_challenge = True
    waits = []
    for _ in range(5):
        with pytest.raises(BotChallengeError):
            await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        status = manager.status()
        assert status.login_not_before is not None
        waits.append(round(status.login_not_before - clock.now))
        with pytest.raises(LoginBackoffError):
            await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        clock.advance(status.login_not_before - clock.now + 3600)
    assert waits == [60, 300, 900, 3600, 3600]


async def test_password_budget_survives_restart(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Three wrong passwords an hour at most, even across a restart; then an exact next time."""
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    posts = simulator.request_count("/ap/signin", method="POST")
    manager._state = None  # a restart: the record is read back from state.json
    with pytest.raises(LoginBackoffError) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count("/ap/signin", method="POST") == posts
    assert caught.value.not_before == pytest.approx(clock.now + 3600)
    assert exit_code_for(caught.value) == 3
    clock.advance(3601)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in


@dataclass(frozen=True)
class TransportFault:
    """Amazon failing a login for a moment, and the temporary error it must give."""

    switches: dict[str, object]
    error: type[AlexaAuthError]
    amazon_text: str | None = None


TRANSPORT_FAULTS = {
    "429": TransportFault(
        {"rate_limit": 1, "rate_limit_status": 429}, RateLimitedError, "rate exceeded"
    ),
    "503-rate-exceeded": TransportFault(
        {"rate_limit": 1, "rate_limit_status": 503}, RateLimitedError, "rate exceeded"
    ),
    "dropped-at-registration": TransportFault(
        {"drop_connections": 1, "drop_on_path": "/auth/register"}, AmazonConnectionError
    ),
}


@pytest.mark.parametrize("fault", list(TRANSPORT_FAULTS.values()), ids=list(TRANSPORT_FAULTS))
async def test_transport_fault_is_temporary_and_a_retry_signs_in(
    manager: AuthSessionManager, simulator: AmazonSimulator, fault: TransportFault
) -> None:
    """Throttling or a dropped connection is temporary (exit 4), never a wrong password."""
    for name, value in fault.switches.items():
        setattr(simulator.scenario, name, value)
    with pytest.raises(fault.error) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert type(caught.value) is fault.error
    assert exit_code_for(caught.value) == 4
    assert caught.value.amazon_text == fault.amazon_text
    assert not manager.status().signed_in
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.status().signed_in
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_no_mfa_page_signs_in_and_notes_it(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """An account without 2-step verification signs in; the history notes no code was asked."""
    simulator.scenario.no_mfa_page = True
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    state = await manager.state()
    assert state.events[-1].detail == "Amazon did not ask for a one-time code"


@pytest.mark.parametrize("abandoned_by", ["new_sign_in", "expiry", "reset"])
async def test_abandoned_captcha_sign_in_closes_its_client(
    simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock, abandoned_by: str
) -> None:
    """A sign-in left waiting at a captcha closes its HTTP client once it is given up."""
    # Music Assistant's shared session keeps cookies, so every sign-in opens a client of its own.
    connector = aiohttp.TCPConnector(**resolver_kwargs(simulator.base_url))
    async with aiohttp.ClientSession(connector=connector) as session:
        manager = make_manager(session, tmp_path / "account", simulator.base_url, clock)
        try:
            simulator.scenario.captcha_before_password = True
            with pytest.raises(CaptchaRequiredError):
                await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
            simulator.scenario.captcha_before_password = False
            pending = manager._pending
            assert pending is not None
            client = pending.http._own_session
            assert client is not None
            assert not client.closed
            if abandoned_by == "new_sign_in":
                clock.advance(BACKOFF_LADDER[0] + 1)
                await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
            elif abandoned_by == "expiry":
                clock.advance(CAPTCHA_TTL + 1)
                with pytest.raises(CaptchaRequiredError, match="expired"):
                    await manager.answer_captcha(simulator.captcha_answer)
            else:
                await manager.reset(deregister=False)
            assert client.closed
        finally:
            await manager.close()


async def test_reset_keeps_the_password_budget(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Resetting the session does not hand out fresh password attempts."""
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    await manager.reset(deregister=False)
    posts = simulator.request_count("/ap/signin", method="POST")
    with pytest.raises(LoginBackoffError) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert simulator.request_count("/ap/signin", method="POST") == posts
    assert caught.value.not_before == pytest.approx(clock.now + 3600)
    clock.advance(3601)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in


async def test_password_sent_with_a_captcha_answer_counts_as_sent(clock: FakeClock) -> None:
    """
    The sign-in captcha's answer carries the password: a bare password page after it is a refusal.

    Sending the password once more would spend a second attempt on the same mistake.
    """
    answers = [
        Answer(200, sample("sign-in-captcha")),
        Answer(200, sample("password-with-passkey-button")),
        Answer(200, sample("password-with-passkey-button")),
    ]
    spent: list[float] = []

    async def spend() -> None:
        spent.append(clock.time())

    async with aiohttp.ClientSession() as session:
        walk = SignInWalk(
            ScriptedHttp(session, answers),
            Credentials(TEST_EMAIL, TEST_PASSWORD, parse_totp_key(TEST_KEY)),
            device=DeviceIdentity.create(),
            pkce=Pkce.create(),
            clock=clock,
            before_password=spend,
        )
        with pytest.raises(CaptchaRequiredError):
            await walk.run()
        with pytest.raises(InvalidCredentialsError):
            await walk.answer_captcha("ABC123")
    assert len(spent) == 1


async def test_registration_refused_without_json_needs_the_user(clock: FakeClock) -> None:
    """A refusal whose body is not JSON is still a refusal, with Amazon's header text."""
    challenge = (
        'Basic realm="api.amazon.com/auth/register", error="CredentialError", '
        'error_description="The input credential is invalid."'
    )
    answers = [Answer(401, "", {"WWW-Authenticate": challenge})]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RegistrationError) as caught:
            await register_device(
                ScriptedHttp(session, answers),
                authorization_code="ANeGrdrnBRfxyPFeCHsnRVmI",
                pkce=Pkce.create(),
                device=DeviceIdentity.create(),
                device_name="Music Assistant",
                now=clock.time(),
            )
    assert caught.value.needs_user
    assert caught.value.amazon_text == challenge
    assert exit_code_for(caught.value) == 3


async def test_garbled_answer_is_a_connection_error() -> None:
    """An answer that is not HTTP at all (a proxy, a captive portal) is temporary trouble."""

    async def garble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 OK-ish\r\nno header here\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garble, "127.0.0.1", 0)
    endpoint = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    connector = aiohttp.TCPConnector(**resolver_kwargs(endpoint))
    try:
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            hosts = AmazonHosts.for_marketplace("amazon.com", endpoint)
            http = AmazonHttp(session, hosts, pace=0)
            with pytest.raises(AmazonConnectionError) as caught:
                await http.request("GET", hosts.url(hosts.sign_in, "/ap/signin"))
    finally:
        server.close()
        await server.wait_closed()
    assert exit_code_for(caught.value) == 4


@pytest.mark.parametrize(
    "html",
    [
        sample("combined") + " " * MAX_PAGE_CHARS,
        "<html><body>" + "<div>" * MAX_MARKUP + "</body></html>",
    ],
    ids=["too-large", "too-many-tags"],
)
async def test_oversized_sign_in_page_is_temporary_and_sends_nothing(
    clock: FakeClock, html: str
) -> None:
    """A sign-in page beyond the reader's bounds is retried later; no password goes out."""
    spent: list[float] = []

    async def spend() -> None:
        spent.append(clock.time())

    async with aiohttp.ClientSession() as session:
        http = ScriptedHttp(session, [Answer(200, html)])
        walk = SignInWalk(
            http,
            Credentials(TEST_EMAIL, TEST_PASSWORD, parse_totp_key(TEST_KEY)),
            device=DeviceIdentity.create(),
            pkce=Pkce.create(),
            clock=clock,
            before_password=spend,
        )
        with pytest.raises(PageTooLargeError) as caught:
            await walk.run()
    assert not caught.value.needs_user
    assert caught.value.guide_slug is GuideSlug.AMAZON_UNREACHABLE
    assert exit_code_for(caught.value) == 4
    assert [method for method, _url, _fields in http.sent] == ["GET"]
    assert spent == []
