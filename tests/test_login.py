"""
Signing in against the simulator over real HTTP: the whole walk, the store, the device.

A sign-in walks Amazon's pages (combined or e-mail-first), sends the one-time code made from the
key, registers *one* device and keeps reusing it, stores the session, and needs neither password
nor code again: a restart restores it, a refresh renews it from the refresh token alone. Wrong
input and Amazon's refusals end in typed errors carrying Amazon's text and the guide section, and
store nothing but the attempt record.
"""

from __future__ import annotations

import errno
import json
import shutil
from typing import TYPE_CHECKING

import pyotp
import pytest

from music_assistant_alexa.auth.endpoints import AmazonHosts
from music_assistant_alexa.auth.errors import (
    AccountNotFoundError,
    InvalidCredentialsError,
    InvalidTwoFactorKeyError,
    OtpRejectedError,
    SessionRevokedError,
    StoreError,
)
from music_assistant_alexa.auth.registration import (
    DeviceIdentity,
    Pkce,
    refresh_access_token,
    sign_in_query,
)
from music_assistant_alexa.auth.store import STORE_MARKER
from music_assistant_alexa.guide import GuideSlug

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, make_manager

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

    from .helpers import FakeClock

#: Requests of a full sign-in on the combined page with MFA: sign-in page, password, code,
#: registration, csrf.
LOGIN_REQUESTS = 5
#: Requests of a refresh: cookie exchange, csrf.
REFRESH_REQUESTS = 2


async def test_combined_sign_in_stores_session(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The combined page, MFA, registration and csrf take five requests and store a session."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    assert simulator.request_count() == LOGIN_REQUESTS
    assert simulator.request_count("/ap/signin", method="POST") == 2
    assert simulator.device_count(TEST_EMAIL) == 1
    assert simulator.violations == []
    folder = manager.store.folder
    assert {p.name for p in folder.iterdir()} == {
        "registration.json",
        "cookies.json",
        "state.json",
        STORE_MARKER,
    }
    registration = json.loads((folder / "registration.json").read_text())
    assert registration["formerRegistrationData"]["refresh_token"].startswith("Atnr|")
    status = manager.status()
    assert status.signed_in
    assert status.marketplace == "amazon.com"
    assert status.cookie_timestamp == manager.clock.time()
    assert await manager.check()


async def test_email_first_sign_in(manager: AuthSessionManager, simulator: AmazonSimulator) -> None:
    """The three-step variant (e-mail, then password, then code) signs in too."""
    simulator.scenario.email_first = True
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    assert simulator.request_count("/ap/signin", method="POST") == 3
    assert simulator.violations == []


async def test_sign_in_page_answering_404(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Amazon sometimes renders the sign-in form with HTTP 404; that is not a failure."""
    simulator.scenario.signin_get_404 = True
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in


async def test_amazon_clock_ahead_still_signs_in(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """With Amazon's clock 90 s ahead, the code is made for Amazon's time (from its Date)."""
    simulator.clock_skew = 90
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.signed_in
    assert manager.status().clock_offset == pytest.approx(90, abs=2)


async def test_wrong_password(manager: AuthSessionManager, simulator: AmazonSimulator) -> None:
    """A wrong password ends in InvalidCredentialsError with Amazon's text; no session stored."""
    with pytest.raises(InvalidCredentialsError) as caught:
        await manager.login(TEST_EMAIL, "wrong password", TEST_KEY)
    assert caught.value.amazon_text == "Your password is incorrect"
    assert caught.value.guide_slug is GuideSlug.CREDENTIALS
    assert "wrong password" not in caught.value.user_text()
    assert {p.name for p in manager.store.folder.iterdir()} == {"state.json", STORE_MARKER}
    assert simulator.device_count(TEST_EMAIL) == 0


async def test_unverified_mobile_number_means_the_password(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """
    "We're unable to verify your mobile number" (Amazon's answer to a stale password).

    The page Amazon redirects to says the mobile number; the error says the password, with
    Amazon's words quoted and the credentials section, and nothing is stored.
    """
    simulator.scenario.unverified_mobile = True
    with pytest.raises(InvalidCredentialsError) as caught:
        await manager.login(TEST_EMAIL, "an old password", TEST_KEY)
    err = caught.value
    assert err.amazon_text == "We're unable to verify your mobile number. Try signing in again."
    assert "when the password is wrong or out of date" in err.message
    assert err.guide_slug is GuideSlug.CREDENTIALS
    assert simulator.request_count("/ap/cvf/verify", method="GET") == 1
    assert not (manager.store.folder / "registration.json").exists()
    assert simulator.violations == []
    # A refusal like a wrong password: an automatic sign-in does not send it again.
    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, "an old password", TEST_KEY, automatic=True)
    assert simulator.request_count("/ap/signin", method="POST") == 1


async def test_unknown_email(manager: AuthSessionManager) -> None:
    """An e-mail Amazon does not know ends in AccountNotFoundError with Amazon's text."""
    with pytest.raises(AccountNotFoundError) as caught:
        await manager.login("nobody@example.com", TEST_PASSWORD, TEST_KEY)
    assert caught.value.amazon_text == "We cannot find an account with that email address"
    assert not (manager.store.folder / "registration.json").exists()


async def test_wrong_key_means_rejected_code(manager: AuthSessionManager) -> None:
    """A well-formed key of another account makes codes Amazon rejects: check the clock, the key."""
    other_key = pyotp.random_base32(length=52)
    with pytest.raises(OtpRejectedError) as caught:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, other_key)
    assert "not valid" in (caught.value.amazon_text or "")
    assert caught.value.guide_slug is GuideSlug.CLOCK_DRIFT
    assert not (manager.store.folder / "registration.json").exists()


@pytest.mark.parametrize("bad_key", ["", "123456", "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567 890A"])
async def test_bad_key_sends_and_stores_nothing(
    manager: AuthSessionManager, simulator: AmazonSimulator, bad_key: str
) -> None:
    """A malformed key is refused before a single request; the folder is not even created."""
    with pytest.raises(InvalidTwoFactorKeyError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, bad_key)
    assert simulator.request_count() == 0
    assert not manager.store.folder.exists()


async def test_three_sign_ins_one_device(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Every sign-in reuses the stored device: the account never collects duplicates."""
    for _ in range(3):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        clock.advance(3601)  # stay inside the hourly password budget
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_restart_restores_without_password(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """A new manager on the same folder restores with one validity request and no sign-in."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    simulator.reset_counts()
    restarted = make_manager(http_session, manager.store.folder, simulator.base_url, clock)
    try:
        assert await restarted.restore()
        assert restarted.signed_in
        assert simulator.request_count() == 1
        assert simulator.request_count("/api/customer-status") == 1
    finally:
        await restarted.close()


async def test_restore_renews_rejected_cookies_from_refresh_token(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    """Expired cookies are renewed from the refresh token during restore; no password needed."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    simulator.expire_cookies(TEST_EMAIL)
    simulator.reset_counts()
    restarted = make_manager(http_session, manager.store.folder, simulator.base_url, clock)
    try:
        assert await restarted.restore()
        assert await restarted.check()
        assert simulator.request_count("/ap/signin") == 0
    finally:
        await restarted.close()


async def test_nothing_stored_means_not_signed_in(manager: AuthSessionManager) -> None:
    """Restoring an empty folder says "sign in", without contacting Amazon."""
    assert not await manager.restore()
    assert not manager.signed_in


async def test_refresh_without_password(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """A refresh renews cookies and csrf in two requests from the refresh token alone."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    before = manager.status().cookie_timestamp
    assert before is not None
    clock.advance(7 * 86400)
    simulator.reset_counts()
    await manager.refresh()
    assert simulator.request_count() == REFRESH_REQUESTS
    assert simulator.request_count("/ap/signin") == 0
    assert manager.status().cookie_timestamp == before + 7 * 86400
    assert manager.status().last_refresh_ok
    assert await manager.check()


async def test_cookies_past_14_days_need_refresh(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """Cookies stop working after about 14 days; a refresh brings the session back."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    clock.advance(15 * 86400)
    assert not await manager.check()
    await manager.refresh()
    assert await manager.check()
    assert simulator.violations == []


async def test_reset_deregisters_and_revokes(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Reset backs up, removes our device at Amazon (its refresh token dies) and wipes."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    registration = manager.registration
    assert registration is not None
    refresh_token = registration.refresh_token
    http = manager.http
    result = await manager.reset()
    assert result.deregistered
    assert result.backup is not None
    assert (result.backup / "registration.json").exists()
    assert not manager.store.folder.exists()
    assert simulator.device_count(TEST_EMAIL) == 0
    assert not manager.signed_in
    with pytest.raises(SessionRevokedError):
        await refresh_access_token(http, refresh_token)


async def test_reset_without_a_backup_changes_nothing(
    manager: AuthSessionManager, simulator: AmazonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the backup cannot be made, reset stops there: no deregistration, no wipe."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    with pytest.raises(StoreError) as caught:
        await manager.reset()
    assert caught.value.guide_slug is GuideSlug.SESSION_STORAGE
    assert (manager.store.folder / "registration.json").exists()
    assert simulator.device_count(TEST_EMAIL) == 1
    assert manager.signed_in


async def test_revoked_device_refresh_raises(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """When Amazon revokes the device, refresh says so (the user must sign in again)."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    with pytest.raises(SessionRevokedError) as caught:
        await manager.refresh()
    assert caught.value.needs_user
    assert manager.status().last_refresh_error == "session_revoked"
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    status = manager.status()
    assert status.last_refresh_error is None
    assert status.last_refresh_ok is None


async def test_other_marketplace_cookies_stay_there(
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A German account gets .amazon.de cookies and sends them only to amazon.de hosts."""
    simulator.add_account("de@example.com", TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    manager = make_manager(
        http_session, tmp_path / "de", simulator.base_url, clock, marketplace="amazon.de"
    )
    try:
        await manager.login("de@example.com", TEST_PASSWORD, TEST_KEY)
        await manager.refresh()
        assert await manager.check()
        cookies = manager.cookies
        assert cookies is not None
        assert {c.domain for c in cookies.cookies} == {".amazon.de", "alexa.amazon.de"}
        assert simulator.violations == []
    finally:
        await manager.close()


def test_japan_signs_in_on_its_own_site_with_the_suffixed_handle() -> None:
    """Amazon Japan's sign-in starts on amazon.co.jp with the `_jp` handle; others on .com."""
    device, pkce = DeviceIdentity.create(), Pkce.create()
    japan = AmazonHosts.for_marketplace("amazon.co.jp")
    query = sign_in_query(device, pkce, japan)
    assert japan.sign_in == "www.amazon.co.jp"
    assert query["openid.assoc_handle"] == "amzn_dp_project_dee_ios_jp"
    assert query["openid.return_to"] == "https://www.amazon.co.jp/ap/maplanding"
    germany = AmazonHosts.for_marketplace("amazon.de")
    assert germany.sign_in == "www.amazon.com"
    assert sign_in_query(device, pkce, germany)["openid.assoc_handle"] == "amzn_dp_project_dee_ios"
