"""
Credentials Amazon refused are not sent again by automatic sign-ins; a sign-in the user asks for is.

Invariants protected here: after a permanent refusal (a wrong password) an automatic sign-in
sends nothing, however much later, until the credentials change; after another refusal (a
passkey wall) it sends nothing for an hour; a sign-in the user asks for always goes out; a
success forgets the refusal; the record survives a restart (it is in ``state.json``) and holds a
salted fingerprint, never the credentials, with a salt of its own per store.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.errors import InvalidCredentialsError, PasskeyRequiredError
from music_assistant_alexa.auth.session import REFUSAL_QUIET
from music_assistant_alexa.auth.store import STATE_FILE
from music_assistant_alexa.guide import GuideSlug

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, make_manager

if TYPE_CHECKING:
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator

    from .helpers import FakeClock

WRONG = "not the password"
DAY = 86_400.0


def password_posts(simulator: AmazonSimulator) -> int:
    """Return how many sign-in forms (password or code) were sent to Amazon."""
    return simulator.request_count("/ap/signin", method="POST")


async def test_a_wrong_password_is_never_resent_automatically(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """After "wrong password" automatic sign-ins send nothing, a day later too, and say why."""
    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, WRONG, TEST_KEY, automatic=True)
    sent = password_posts(simulator)

    clock.advance(DAY)
    with pytest.raises(InvalidCredentialsError) as again:
        await manager.login(TEST_EMAIL, WRONG, TEST_KEY, automatic=True)

    assert password_posts(simulator) == sent
    assert "not sent again automatically until they are changed" in again.value.message
    assert again.value.guide_slug is GuideSlug.CREDENTIALS


async def test_changed_or_user_asked_sign_ins_go_out(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The user's own sign-in and changed credentials are sent; success forgets the refusal."""
    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, WRONG, TEST_KEY)
    sent = password_posts(simulator)

    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, WRONG, TEST_KEY)  # asked by the user: sent
    assert password_posts(simulator) > sent
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY, automatic=True)  # changed: sent

    assert manager.signed_in
    assert (await manager.state()).attempts.refused is None


async def test_other_refusals_are_resent_after_an_hour(
    manager: AuthSessionManager, simulator: AmazonSimulator, clock: FakeClock
) -> None:
    """A passkey wall: no automatic resend within the hour, one after it."""
    simulator.scenario.passkey_forced = True
    with pytest.raises(PasskeyRequiredError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY, automatic=True)
    sent = password_posts(simulator)

    clock.advance(REFUSAL_QUIET - 60)
    with pytest.raises(PasskeyRequiredError) as quiet:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY, automatic=True)
    assert password_posts(simulator) == sent
    assert "not sent again automatically before" in quiet.value.message

    clock.advance(120)
    simulator.scenario.passkey_forced = False
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY, automatic=True)
    assert manager.signed_in


async def test_the_refusal_survives_a_restart_without_the_credentials(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """A new manager on the same folder still refuses; state.json holds no credential."""
    with pytest.raises(InvalidCredentialsError):
        await manager.login(TEST_EMAIL, WRONG, TEST_KEY)
    await manager.close()
    sent = password_posts(simulator)
    restarted = make_manager(http_session, manager.store.folder, simulator.base_url, clock)
    other = make_manager(http_session, tmp_path / "other", simulator.base_url, clock)
    try:
        with pytest.raises(InvalidCredentialsError):
            await restarted.login(TEST_EMAIL, WRONG, TEST_KEY, automatic=True)
        with pytest.raises(InvalidCredentialsError):
            await other.login(TEST_EMAIL, WRONG, TEST_KEY)
    finally:
        await restarted.close()
        await other.close()

    assert password_posts(simulator) == sent + 1  # the other store's sign-in only
    stored = (manager.store.folder / STATE_FILE).read_text()
    for secret in (WRONG, TEST_KEY, TEST_EMAIL):
        assert secret not in stored
    mine = json.loads(stored)["attempts"]
    theirs = json.loads((tmp_path / "other" / STATE_FILE).read_text())["attempts"]
    assert mine["refused"]["error_code"] == "invalid_password"
    assert mine["fingerprint_salt"] != theirs["fingerprint_salt"]
    assert mine["refused"]["fingerprint"] != theirs["refused"]["fingerprint"]
