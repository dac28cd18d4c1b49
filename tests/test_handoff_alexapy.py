"""
alexapy's own code restores a logged-in state from the file we hand over: no proxy, no password.

These tests run the real alexapy that Music Assistant's built-in alexa provider runs (1.29.10 on
aiohttp 3.13 for Music Assistant 2.9, the newest release on aiohttp 3.14), exactly as that
provider calls it: ``AlexaLogin(url, email, password, outputpath=lambda x: x)``, its cookie list
set to the one file, then ``login(cookies=await login.load_cookie())``. Amazon is the simulator,
over https with a local CA, reached through aiohttp's default resolver. They are skipped where
alexapy is not installed (CI installs each line in a venv of its own, and sets
``MAA_REQUIRE_ALEXAPY`` there so that a missing alexapy fails).
"""

from __future__ import annotations

import logging
import os
from importlib import metadata
from typing import TYPE_CHECKING

import aiohttp
import pytest
import trustme

from music_assistant_alexa.auth.endpoints import LoopbackResolver
from music_assistant_alexa.auth.handoff.file_formats import CookieFileFormat, encode
from music_assistant_alexa.auth.handoff.writer import (
    AlexaHandoff,
    HandoffOutcome,
    HandoffResult,
    HandoffSource,
)
from music_assistant_alexa.simulator import AmazonSimulator

from .amazon_tls import client_context, route_aiohttp_to, server_context
from .handoff_support import save_like_music_assistant
from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock, make_manager

#: Set by CI's alexapy steps: there, a missing or different alexapy fails instead of skipping.
REQUIRED_ALEXAPY = os.environ.get("MAA_REQUIRE_ALEXAPY")
if not REQUIRED_ALEXAPY:
    pytest.importorskip("alexapy")

from alexapy import AlexaAPI, AlexaLogin  # noqa: E402 - only once alexapy is known to exist
from alexapy import alexalogin as alexapy_login  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from music_assistant_alexa.auth.session import AuthSessionManager

_LOGGER = logging.getLogger(__name__)
ALEXAPY_VERSION = metadata.version("alexapy")
#: From 1.29.24 alexapy reads its own JSON ``.cookies`` files.
ALEXAPY_READS_JSON = tuple(int(p) for p in ALEXAPY_VERSION.split(".")[:3]) >= (1, 29, 24)
#: Before 1.30, a cookie login also registers a device, tries the capabilities and csrf.
ALEXAPY_REBUILDS_SESSION = tuple(int(p) for p in ALEXAPY_VERSION.split(".")[:2]) < (1, 30)


@pytest.fixture
def ca() -> trustme.CA:
    """Return a local certificate authority for the simulator's https."""
    return trustme.CA()


@pytest.fixture
async def amazon(
    clock: FakeClock, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[AmazonSimulator]:
    """Run the simulator over https, reachable by every aiohttp session alexapy creates."""
    async with AmazonSimulator(clock=clock.time, ssl_context=server_context(ca)) as sim:
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        trust = client_context(ca)
        route_aiohttp_to(monkeypatch, sim.port, trust)
        # alexapy verifies some requests with a context of its own (certifi's roots).
        monkeypatch.setattr(alexapy_login, "_SSL_CONTEXT", trust)
        # alexapy writes its own copy relative to the working folder (MA's outputpath is x→x).
        workdir = tmp_path / "ma-working-folder"
        workdir.mkdir()
        monkeypatch.chdir(workdir)
        yield sim


@pytest.fixture
async def signed_in(
    amazon: AmazonSimulator, ca: trustme.CA, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[tuple[AuthSessionManager, aiohttp.ClientSession]]:
    """Sign our session in over https (the same simulator alexapy will talk to)."""
    connector = aiohttp.TCPConnector(resolver=LoopbackResolver(), ssl=client_context(ca))
    session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
    manager = make_manager(session, tmp_path / "account", amazon.base_url, clock)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    yield manager, session
    await manager.close()
    await session.close()


async def restore_like_music_assistant(path: Path, site: str, username: str) -> AlexaLogin:
    """Do what the alexa provider's ``loaded_in_mass`` does with its cookie file."""
    login = AlexaLogin(url=site, email=username, password=TEST_PASSWORD, outputpath=lambda x: x)
    login._cookiefile = [login._outputpath(str(path))]
    await login.login(cookies=await login.load_cookie())
    return login


async def close_login(login: AlexaLogin) -> None:
    """Close what alexapy opened."""
    await login.close()
    if login.session is not None and not login.session.closed:
        await login.session.close()


async def hand_off(
    manager: AuthSessionManager,
    session: aiohttp.ClientSession,
    ma_data: Path,
    *,
    username: str = TEST_EMAIL,
    force: bool = False,
) -> HandoffResult:
    """Write the session into Music Assistant's folder, as the provider will."""
    ma_data.mkdir(exist_ok=True)
    handoff = AlexaHandoff.for_manager(
        manager, session=session, ma_data=ma_data, username=username, pace=0
    )
    try:
        return await handoff.write(HandoffSource.from_manager(manager), force=force)
    finally:
        await handoff.close()


def requests_seen(amazon: AmazonSimulator) -> list[tuple[str, str, str, int]]:
    """Return (method, host, path, status) of every request, and log them for the record."""
    seen = [(r.method, r.host, r.path, r.status) for r in amazon.request_log]
    _LOGGER.info("alexapy %s on aiohttp %s asked: %s", ALEXAPY_VERSION, aiohttp.__version__, seen)
    return seen


def test_the_alexapy_line_under_test() -> None:
    """In CI, the alexapy that runs these tests is the line the step installed."""
    if REQUIRED_ALEXAPY:
        assert ALEXAPY_VERSION == REQUIRED_ALEXAPY


async def test_alexapy_restores_a_logged_in_state_from_our_file(
    signed_in: tuple[AuthSessionManager, aiohttp.ClientSession],
    amazon: AmazonSimulator,
    tmp_path: Path,
) -> None:
    """load_cookie() + login(cookies=...) is logged in; no sign-in page, no proxy, no password."""
    manager, session = signed_in
    result = await hand_off(manager, session, tmp_path / "ma")
    written = result.path.read_bytes()
    amazon.reset_counts()

    login = await restore_like_music_assistant(result.path, "amazon.com", TEST_EMAIL)
    try:
        assert login.status is not None
        assert login.status.get("login_successful") is True
        devices = await AlexaAPI.get_devices(login)
    finally:
        await close_login(login)

    seen = requests_seen(amazon)
    assert ("GET", "alexa.amazon.com", "/api/users/me", 200) in seen
    # Nothing that needs a password or a token: no sign-in page, no token refresh or exchange.
    assert not {path for _, _, path, _ in seen} & {
        "/ap/signin",
        "/auth/token",
        "/ap/exchangetoken/cookies",
    }
    if ALEXAPY_REBUILDS_SESSION:
        # 1.29.x also tries to register a device and its capabilities; without a token in the
        # file Amazon refuses both, and the login still stands on the cookies.
        assert ("POST", "api.amazon.com", "/auth/register", 400) in seen
        assert ("PUT", "api.amazonalexa.com", "/v1/devices/@self/capabilities", 401) in seen
    else:
        assert {host for _, host, _, _ in seen} == {"alexa.amazon.com"}
    assert amazon.device_count(TEST_EMAIL) == 1  # ours; alexapy registered nothing
    assert devices is not None
    assert any(d.get("deviceFamily") == "ECHO" for d in devices)
    # alexapy saves its own copy elsewhere; Music Assistant's file is left as we wrote it.
    assert result.path.read_bytes() == written
    assert result.path.stat().st_mode & 0o777 == 0o600


async def test_alexapy_restores_a_non_us_marketplace(
    amazon: AmazonSimulator, ca: trustme.CA, tmp_path: Path, clock: FakeClock
) -> None:
    """An amazon.de account: the file holds .amazon.de cookies and alexapy signs in with them."""
    email = "haushalt@example.de"
    amazon.add_account(email, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    connector = aiohttp.TCPConnector(resolver=LoopbackResolver(), ssl=client_context(ca))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        manager = make_manager(
            session, tmp_path / "account", amazon.base_url, clock, marketplace="amazon.de"
        )
        try:
            await manager.login(email, TEST_PASSWORD, TEST_KEY)
            result = await hand_off(manager, session, tmp_path / "ma", username=email)
        finally:
            await manager.close()
    amazon.reset_counts()
    login = await restore_like_music_assistant(result.path, "amazon.de", email)
    try:
        assert login.status is not None
        assert login.status.get("login_successful") is True
    finally:
        await close_login(login)
    seen = requests_seen(amazon)
    assert ("GET", "alexa.amazon.de", "/api/users/me", 200) in seen
    assert amazon.request_count("/ap/signin") == 0


async def test_a_users_working_file_is_kept_and_still_restores(
    signed_in: tuple[AuthSessionManager, aiohttp.ClientSession],
    amazon: AmazonSimulator,
    tmp_path: Path,
) -> None:
    """The alexa provider's own newer file stays as it is, and alexapy keeps using it."""
    manager, session = signed_in
    ma_data = tmp_path / "ma"
    user_file = save_like_music_assistant(manager, ma_data)
    users_bytes = user_file.read_bytes()
    await manager.refresh()  # our cookies move on; the user's still work

    result = await hand_off(manager, session, ma_data)

    assert result.outcome is HandoffOutcome.KEPT_USER_FILE
    assert user_file.read_bytes() == users_bytes
    amazon.reset_counts()
    login = await restore_like_music_assistant(user_file, "amazon.com", TEST_EMAIL)
    try:
        assert login.status is not None
        assert login.status.get("login_successful") is True
    finally:
        await close_login(login)


async def test_a_stale_file_is_replaced_and_alexapy_restores_from_ours(
    signed_in: tuple[AuthSessionManager, aiohttp.ClientSession],
    amazon: AmazonSimulator,
    tmp_path: Path,
) -> None:
    """Amazon dropped the user's cookies: ours replace them (backup kept) and alexapy signs in."""
    manager, session = signed_in
    ma_data = tmp_path / "ma"
    user_file = save_like_music_assistant(manager, ma_data)
    users_bytes = user_file.read_bytes()
    amazon.expire_cookies(TEST_EMAIL)  # two weeks later: Amazon no longer takes them
    await manager.refresh()

    result = await hand_off(manager, session, ma_data)

    assert result.outcome is HandoffOutcome.REPLACED_STALE
    assert result.backup is not None
    assert result.backup.read_bytes() == users_bytes
    amazon.reset_counts()
    login = await restore_like_music_assistant(user_file, "amazon.com", TEST_EMAIL)
    try:
        assert login.status is not None
        assert login.status.get("login_successful") is True
    finally:
        await close_login(login)
    assert amazon.request_count("/ap/signin") == 0


@pytest.mark.skipif(not ALEXAPY_READS_JSON, reason="alexapy reads .cookies from 1.29.24 on")
async def test_alexapy_reads_our_cookies_layout(
    signed_in: tuple[AuthSessionManager, aiohttp.ClientSession],
    amazon: AmazonSimulator,
    tmp_path: Path,
) -> None:
    """The alexapy-JSON layout we write for a stale ``.cookies`` file is alexapy's own."""
    manager, _ = signed_in
    path = tmp_path / f"alexa_media.{TEST_EMAIL}.cookies"
    source = HandoffSource.from_manager(manager)
    path.write_bytes(encode(source.cookies, CookieFileFormat.ALEXAPY_JSON))
    amazon.reset_counts()
    login = await restore_like_music_assistant(path, "amazon.com", TEST_EMAIL)
    try:
        assert login.status is not None
        assert login.status.get("login_successful") is True
    finally:
        await close_login(login)
    assert amazon.request_count("/ap/signin") == 0
