"""
Health checks say exactly what is wrong and where the fix is; the report never leaks a secret.

Invariants protected here: the cookie-age thresholds (under 7 days ok, from 7 a warning, from 12
an error), clock drift measured from Amazon's Date header, permission drift, the stored
``formerRegistrationData``, the 2FA key check (which never repeats the key), the session check
against Amazon, the refresh-task and sign-in budget checks, the terminal rendering, and a
diagnostics report of a signed-in account that contains none of its secrets or identifiers.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.errors import InvalidCredentialsError
from music_assistant_alexa.auth.refresh import DAY, RefreshScheduler
from music_assistant_alexa.auth.store import COOKIES_FILE, REGISTRATION_FILE
from music_assistant_alexa.diagnostics import (
    CheckKey,
    CheckStatus,
    HealthCheck,
    build_report,
    render_checks,
    run_checks,
)
from music_assistant_alexa.diagnostics.checks import clock_check, cookie_age_check, slug_for_code
from music_assistant_alexa.diagnostics.report import REDACTED
from music_assistant_alexa.guide import GuideSlug, guide_link

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock, make_manager

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator


@pytest.fixture
async def signed_in(manager: AuthSessionManager) -> AuthSessionManager:
    """Return the manager signed in to the test account."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    return manager


def find(checks: list[HealthCheck], key: CheckKey) -> HealthCheck:
    """Return the check with a key, failing the test when it is missing."""
    found = [c for c in checks if c.key == key]
    assert len(found) == 1, f"expected one {key} check, got {[c.key for c in checks]}"
    return found[0]


# --- cookie age ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_days", "status", "words"),
    [
        (6.9, CheckStatus.OK, "6.9 days old"),
        (7.0, CheckStatus.WARNING, "refresh is recommended"),
        (11.9, CheckStatus.WARNING, "refresh is recommended"),
        (12.0, CheckStatus.ERROR, "urgently"),
        (12.1, CheckStatus.ERROR, "urgently"),
        (14.0, CheckStatus.ERROR, "expired"),
    ],
)
async def test_cookie_age_thresholds(
    signed_in: AuthSessionManager,
    clock: FakeClock,
    age_days: float,
    status: CheckStatus,
    words: str,
) -> None:
    """Under 7 days ok, 7 to under 12 a warning, from 12 urgent (an error)."""
    clock.advance(age_days * DAY)
    check = find(await run_checks(signed_in), CheckKey.COOKIE_AGE)
    assert check.status is status
    assert words in check.message
    expected_slug = None if status is CheckStatus.OK else GuideSlug.COOKIE_REFRESH
    assert check.guide_slug == expected_slug


def test_cookie_age_text_never_rounds_up_to_a_threshold() -> None:
    """6.99 days is shown as 6.9, not as "7.0 days" next to an ok."""
    check = cookie_age_check(6.99)
    assert check.status is CheckStatus.OK
    assert "6.9 days" in check.message


def test_cookie_age_in_the_future_points_at_the_clock() -> None:
    """Cookies dated in the future mean the clock was changed."""
    check = cookie_age_check(-1.0)
    assert check.status is CheckStatus.WARNING
    assert check.guide_slug is GuideSlug.CLOCK_DRIFT


@pytest.mark.usefixtures("signed_in")
async def test_cookie_age_is_read_from_the_file_when_not_loaded(
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A manager that has not restored yet still reports the stored cookies' age."""
    fresh = make_manager(http_session, tmp_path / "account", simulator.base_url, clock)
    try:
        clock.advance(8 * DAY)
        check = find(await run_checks(fresh), CheckKey.COOKIE_AGE)
        assert check.status is CheckStatus.WARNING
        assert "8.0 days" in check.message
    finally:
        await fresh.close()


# --- clock drift --------------------------------------------------------------------------------


async def test_clock_drift_of_90_seconds_is_detected(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Amazon's Date header 90 s ahead: our clock is behind and codes fail."""
    simulator.clock_skew = 90
    await signed_in.check()  # one request, to read Amazon's Date header
    check = find(await run_checks(signed_in), CheckKey.CLOCK_DRIFT)
    assert check.status is CheckStatus.ERROR
    assert "TOTP codes fail" in check.message
    assert "behind" in check.message
    assert check.guide_slug is GuideSlug.CLOCK_DRIFT


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (0.0, CheckStatus.OK),
        (15.0, CheckStatus.OK),
        (-15.5, CheckStatus.WARNING),
        (30.0, CheckStatus.WARNING),
        (30.5, CheckStatus.ERROR),
        (-90.0, CheckStatus.ERROR),
    ],
)
def test_clock_thresholds(offset: float, status: CheckStatus) -> None:
    """Within 15 s ok, beyond 15 s a warning, beyond 30 s an error."""
    assert clock_check(offset).status is status


def test_clock_direction() -> None:
    """A negative offset means our clock runs ahead of Amazon's."""
    assert "ahead of" in clock_check(-40).message


async def test_no_clock_check_before_any_request(manager: AuthSessionManager) -> None:
    """Without an answer from Amazon there is no offset to judge."""
    keys = [c.key for c in await run_checks(manager)]
    assert CheckKey.CLOCK_DRIFT not in keys


# --- storage ------------------------------------------------------------------------------------


async def test_permission_drift_is_an_error(signed_in: AuthSessionManager) -> None:
    """A session file opened to others (0644) is reported with the session-storage section."""
    ok = find(await run_checks(signed_in), CheckKey.STORAGE_PERMISSIONS)
    assert ok.status is CheckStatus.OK
    (signed_in.store.folder / COOKIES_FILE).chmod(0o644)
    check = find(await run_checks(signed_in), CheckKey.STORAGE_PERMISSIONS)
    assert check.status is CheckStatus.ERROR
    assert check.guide_slug is GuideSlug.SESSION_STORAGE
    assert "cookies.json is 0644" in check.message


async def test_folder_permission_drift_is_an_error(signed_in: AuthSessionManager) -> None:
    """An open folder is reported too."""
    signed_in.store.folder.chmod(0o755)
    check = find(await run_checks(signed_in), CheckKey.STORAGE_PERMISSIONS)
    assert check.status is CheckStatus.ERROR
    assert "the folder is 0755" in check.message


async def test_unreadable_file_is_reported(
    signed_in: AuthSessionManager,
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A corrupt cookies.json is moved aside and shows up as a warning, also after a restart."""
    (signed_in.store.folder / COOKIES_FILE).write_text("{not json")
    fresh = make_manager(http_session, tmp_path / "account", simulator.base_url, clock)
    try:
        await fresh.restore(validate=False)
        check = find(await run_checks(fresh), CheckKey.UNREADABLE_FILES)
        assert check.status is CheckStatus.WARNING
        assert check.guide_slug is GuideSlug.SESSION_STORAGE
        assert "cookies.json.unreadable-" in check.message
    finally:
        await fresh.close()
    again = make_manager(http_session, tmp_path / "account", simulator.base_url, clock)
    try:
        check = find(await run_checks(again), CheckKey.UNREADABLE_FILES)
        assert check.status is CheckStatus.WARNING
    finally:
        await again.close()


# --- registration -------------------------------------------------------------------------------


async def test_former_registration_data_is_stored(signed_in: AuthSessionManager) -> None:
    """After a sign-in registration.json holds formerRegistrationData and the check is ok."""
    raw = json.loads((signed_in.store.folder / REGISTRATION_FILE).read_text())
    assert raw["formerRegistrationData"]["refresh_token"]
    check = find(await run_checks(signed_in), CheckKey.SIGNED_IN)
    assert check.status is CheckStatus.OK
    assert "formerRegistrationData" in check.message


async def test_missing_former_registration_data_is_an_error(signed_in: AuthSessionManager) -> None:
    """A registration file without the key points at the reauthentication-loop section."""
    path = signed_in.store.folder / REGISTRATION_FILE
    raw = json.loads(path.read_text())
    path.write_text(json.dumps({"device": raw["formerRegistrationData"]["device_name"]}))
    check = find(await run_checks(signed_in), CheckKey.SIGNED_IN)
    assert check.status is CheckStatus.ERROR
    assert check.guide_slug is GuideSlug.REAUTH_LOOP


async def test_not_signed_in_is_an_error(manager: AuthSessionManager) -> None:
    """Nothing stored: the signed-in check fails and says to sign in."""
    check = find(await run_checks(manager), CheckKey.SIGNED_IN)
    assert check.status is CheckStatus.ERROR
    assert "Sign in" in check.message


@pytest.mark.usefixtures("signed_in")
async def test_marketplace_mismatch_is_a_warning(
    http_session: aiohttp.ClientSession,
    simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A registration for amazon.com read with the settings saying amazon.de is flagged."""
    other = make_manager(
        http_session, tmp_path / "account", simulator.base_url, clock, marketplace="amazon.de"
    )
    try:
        check = find(await run_checks(other), CheckKey.SIGNED_IN)
        assert check.status is CheckStatus.WARNING
        assert check.guide_slug is GuideSlug.CREDENTIALS
        assert "amazon.com" in check.message
        assert "amazon.de" in check.message
    finally:
        await other.close()


# --- 2FA key ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("123456", "one-time code"),
        ("JBSWY3DPEHPK3PXP", "52"),
        ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP8BS9", "8, 9"),
        ("", "empty"),
    ],
)
async def test_bad_2fa_key_is_explained_without_echoing_it(
    manager: AuthSessionManager, key: str, words: str
) -> None:
    """A malformed key is an error with the 2FA-key section; the message never holds the key."""
    check = find(await run_checks(manager, totp_key=key), CheckKey.TWO_FACTOR_KEY)
    assert check.status is CheckStatus.ERROR
    assert check.guide_slug is GuideSlug.TWO_FACTOR_KEY
    assert words in check.message
    if len(key) > 6:
        assert key not in check.message


async def test_good_2fa_key_is_ok(manager: AuthSessionManager) -> None:
    """A well-formed key (with spaces, in lower case) passes, and is not repeated."""
    spaced = " ".join(TEST_KEY[i : i + 4] for i in range(0, len(TEST_KEY), 4)).lower()
    check = find(await run_checks(manager, totp_key=spaced), CheckKey.TWO_FACTOR_KEY)
    assert check.status is CheckStatus.OK
    assert TEST_KEY not in check.message


async def test_no_2fa_check_without_a_key(manager: AuthSessionManager) -> None:
    """The key check only runs when a key is given."""
    assert CheckKey.TWO_FACTOR_KEY not in [c.key for c in await run_checks(manager)]


# --- session validity ---------------------------------------------------------------------------


async def test_session_valid_then_expired(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Amazon accepts the fresh session; after it expires the cookies the check fails."""
    simulator.reset_counts()
    assert CheckKey.SESSION_VALID not in [c.key for c in await run_checks(signed_in)]
    assert simulator.request_count() == 0  # without validate, nothing is sent

    check = find(await run_checks(signed_in, validate=True), CheckKey.SESSION_VALID)
    assert check.status is CheckStatus.OK
    assert simulator.request_count("/api/customer-status") == 1

    simulator.expire_cookies(TEST_EMAIL)
    check = find(await run_checks(signed_in, validate=True), CheckKey.SESSION_VALID)
    assert check.status is CheckStatus.ERROR
    assert check.guide_slug is GuideSlug.COOKIE_REFRESH


async def test_session_check_network_error_is_a_warning(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """A dropped connection is not proof of a bad session: warn, point at amazon-unreachable."""
    # aiohttp retries a GET once on a reused connection, so drop every try of this one path.
    simulator.scenario.drop_on_path = "/api/customer-status"
    simulator.scenario.drop_connections = 5
    check = find(await run_checks(signed_in, validate=True), CheckKey.SESSION_VALID)
    assert check.status is CheckStatus.WARNING
    assert check.guide_slug is GuideSlug.AMAZON_UNREACHABLE


async def test_session_check_without_a_session_is_a_warning(manager: AuthSessionManager) -> None:
    """Nothing loaded: the check says so instead of asking Amazon."""
    check = find(await run_checks(manager, validate=True), CheckKey.SESSION_VALID)
    assert check.status is CheckStatus.WARNING


# --- refresh task, last refresh, sign-in budget -------------------------------------------------


async def test_refresh_task_states(signed_in: AuthSessionManager) -> None:
    """Not started: error; running: ok; stopped for the user: error with the error's section."""
    scheduler = RefreshScheduler(signed_in, jitter=0)
    check = find(await run_checks(signed_in, scheduler=scheduler), CheckKey.REFRESH_TASK)
    assert check.status is CheckStatus.ERROR
    assert check.guide_slug is GuideSlug.REAUTH_LOOP

    scheduler.start()
    try:
        await asyncio.sleep(0)
        check = find(await run_checks(signed_in, scheduler=scheduler), CheckKey.REFRESH_TASK)
        assert check.status is CheckStatus.OK
        assert "every 7 days" in check.message
    finally:
        await scheduler.stop()

    scheduler.stopped_for_user = True
    check = find(await run_checks(signed_in, scheduler=scheduler), CheckKey.REFRESH_TASK)
    assert check.status is CheckStatus.ERROR
    assert "stopped" in check.message


async def test_refresh_task_not_reported_without_scheduler(signed_in: AuthSessionManager) -> None:
    """Without a scheduler there is no refresh-task check."""
    assert CheckKey.REFRESH_TASK not in [c.key for c in await run_checks(signed_in)]


async def test_last_refresh_failure_is_a_warning(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """A failed refresh shows its code and the section of that error."""
    check = find(await run_checks(signed_in), CheckKey.LAST_REFRESH)
    assert check.status is CheckStatus.OK
    assert "Next refresh due" in check.message

    simulator.scenario.server_error = 1
    with pytest.raises(Exception, match="server error"):
        await signed_in.refresh()
    check = find(await run_checks(signed_in), CheckKey.LAST_REFRESH)
    assert check.status is CheckStatus.WARNING
    assert "server_error" in check.message
    assert check.guide_slug is GuideSlug.AMAZON_UNREACHABLE


async def test_no_next_refresh_once_the_task_stopped_for_the_user(
    signed_in: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """A refresh task that stopped because the user must act promises no next refresh."""
    clock.advance(7 * DAY)
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    scheduler = RefreshScheduler(signed_in, jitter=0)
    scheduler.start()
    task = scheduler._task
    assert task is not None
    await asyncio.wait_for(task, 5)
    assert scheduler.stopped_for_user

    checks = await run_checks(signed_in, scheduler=scheduler)
    report = await build_report(signed_in, checks, scheduler=scheduler)

    assert "Next refresh due" not in find(checks, CheckKey.LAST_REFRESH).message
    assert report["refresh"]["next_due"] is None


def test_slug_for_code() -> None:
    """Recorded codes map back to their error's section; unknown codes to nothing."""
    assert slug_for_code("session_revoked") is GuideSlug.REAUTH_LOOP
    assert slug_for_code("timeout") is GuideSlug.AMAZON_UNREACHABLE
    assert slug_for_code("no_such_code") is None
    assert slug_for_code(None) is None


async def test_login_budget(manager: AuthSessionManager) -> None:
    """Three wrong passwords in an hour pause the sign-in; the check says until when."""
    check = find(await run_checks(manager), CheckKey.LOGIN_ATTEMPTS)
    assert check.status is CheckStatus.OK
    assert "0 of 3" in check.message
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await manager.login(TEST_EMAIL, "not the password", TEST_KEY)
    check = find(await run_checks(manager), CheckKey.LOGIN_ATTEMPTS)
    assert check.status is CheckStatus.WARNING
    assert check.guide_slug is GuideSlug.ATTEMPT_LIMIT
    assert "3 of 3" in check.message
    assert "paused until" in check.message


async def test_a_paused_sign_in_is_no_problem_while_the_session_works(
    manager: AuthSessionManager,
) -> None:
    """Signed in, the used-up budget is news for the next sign-in, not a warning."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            await manager.login(TEST_EMAIL, "not the password", TEST_KEY)
    assert manager.signed_in

    check = find(await run_checks(manager), CheckKey.LOGIN_ATTEMPTS)

    assert check.status is CheckStatus.OK
    assert "3 of 3" in check.message
    assert "would wait until" in check.message


# --- rendering ----------------------------------------------------------------------------------


def test_render_checks() -> None:
    """Ok lines carry no link; warnings and errors end with their guide link."""
    checks = [
        HealthCheck("a", CheckStatus.OK, "All good.", None),
        HealthCheck("b", CheckStatus.WARNING, "Hmm.", GuideSlug.COOKIE_REFRESH),
        HealthCheck("c", CheckStatus.ERROR, "Broken.", GuideSlug.CLOCK_DRIFT),
        HealthCheck("d", CheckStatus.OK, "Fine too.", GuideSlug.CLOCK_DRIFT),
    ]
    assert render_checks(checks) == [
        "✓ All good.",
        f"⚠ Hmm. — {guide_link(GuideSlug.COOKIE_REFRESH)}",
        f"✗ Broken. — {guide_link(GuideSlug.CLOCK_DRIFT)}",
        "✓ Fine too.",
    ]
    assert checks[1].guide_url == guide_link(GuideSlug.COOKIE_REFRESH)
    assert checks[0].guide_url is None


# --- the report ---------------------------------------------------------------------------------


def _secrets_of(manager: AuthSessionManager) -> dict[str, str]:
    """Return every secret and identifier of a signed-in account, by name."""
    registration, cookies = manager.registration, manager.cookies
    assert registration is not None
    assert cookies is not None
    spaced_key = " ".join(TEST_KEY[i : i + 4] for i in range(0, len(TEST_KEY), 4))
    found = {
        "password": TEST_PASSWORD,
        "key": TEST_KEY,
        "key, spaced": spaced_key,
        "key, lower case": TEST_KEY.lower(),
        "email": TEST_EMAIL,
        "email local part": TEST_EMAIL.split("@", 1)[0],
        "refresh token": registration.refresh_token,
        "access token": registration.access_token,
        "adp token": registration.adp_token,
        "device private key": registration.device_private_key,
        "frc": registration.frc,
        "map-md": registration.map_md,
        "device serial": registration.device_serial,
        "customer id": registration.customer_id,
        "csrf": cookies.csrf,
    }
    for cookie in cookies.cookies:
        found[f"cookie {cookie.name}"] = cookie.value
    # Short values ("1", "true") would match by accident; every real secret here is longer.
    return {name: value for name, value in found.items() if len(value) >= 6}


async def test_report_holds_no_secret(
    signed_in: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """json.dumps(report) of a signed-in account contains none of its secrets or identifiers."""
    scheduler = RefreshScheduler(signed_in, jitter=0)
    await signed_in.check()
    checks = await run_checks(signed_in, scheduler=scheduler, totp_key=TEST_KEY, validate=True)
    report = await build_report(
        signed_in,
        checks,
        scheduler=scheduler,
        extra={"host": "test", "password": TEST_PASSWORD, "nested": {"email": TEST_EMAIL}},
    )
    text = json.dumps(report)
    secrets = _secrets_of(signed_in)
    for required in ("refresh token", "access token", "device serial", "csrf", "frc", "map-md"):
        assert required in secrets, f"the test account has no {required}: the scan is blind"
    assert any(name.startswith("cookie ") for name in secrets)
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
    assert report["extra"] == {
        "host": "test",
        "password": REDACTED,
        "nested": {"email": REDACTED},
    }
    assert simulator.violations == []


async def test_report_hides_anything_shaped_like_an_e_mail_address(
    signed_in: AuthSessionManager,
) -> None:
    """Masked addresses in messages and the alexa provider's file names do not reach a report."""
    checks = [
        HealthCheck(
            "alexa_handoff",
            CheckStatus.OK,
            "Fed: .alexa/alexa_media.h***@example.com.pickle for h***@example.com.",
        )
    ]
    report = await build_report(signed_in, checks, extra={"note": f"asked {TEST_EMAIL}"})
    text = json.dumps(report)
    assert "@" not in text
    assert report["checks"][0]["message"] == (
        f"Fed: .alexa/alexa_media.{REDACTED}.pickle for {REDACTED}."
    )
    assert report["extra"] == {"note": f"asked {REDACTED}"}


async def test_report_contents(
    signed_in: AuthSessionManager, clock: FakeClock, simulator: AmazonSimulator
) -> None:
    """The report carries versions, session state, checks and the recent history."""
    await signed_in.check()
    clock.advance(2 * DAY)
    checks = await run_checks(signed_in)
    report = await build_report(signed_in, checks)
    assert report["report_version"] == 2
    assert set(report["versions"]) >= {
        "music-assistant-alexa",
        "python",
        "aiohttp",
        "pyotp",
        "mashumaro",
        "music-assistant-models",
    }
    session = report["session"]
    assert session["marketplace"] == "amazon.com"
    assert session["signed_in"] is True
    assert session["cookie_age_days"] == 2.0
    assert session["clock_offset"] == 0.0
    assert session["account_label"] == REDACTED
    assert session["registered_at"].endswith("+00:00")
    assert report["refresh"]["next_due"] is not None
    assert report["login"]["password_attempts_per_hour"] == 3
    assert [c["key"] for c in report["checks"]] == [c.key for c in checks]
    assert all(
        set(c) == {"key", "status", "message", "guide_slug", "guide_url"} for c in report["checks"]
    )
    assert report["events"][-1]["kind"] == "sign_in"
    assert "extra" not in report
    json.dumps(report)  # JSON-able throughout
    assert simulator.violations == []


async def test_report_keeps_only_the_last_50_events(signed_in: AuthSessionManager) -> None:
    """The history in the report is capped at 50 events."""
    for _ in range(60):
        await signed_in.refresh()
    report = await build_report(signed_in, [])
    assert len(report["events"]) == 50
