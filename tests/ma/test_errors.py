"""
Every obstacle reaches the user as a plain message with the right guide link, and nothing is kept.

A wrong password, a forced passkey, SMS-only 2-step verification, a captcha and a malformed 2FA
key show in the form or flow where the values were typed, or as ``LoginFailed`` when MA loads
the instance. Nothing is stored when the sign-in did not complete, and no message contains a
phrase MA's frontend hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from music_assistant_models.errors import LoginFailed

from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import (
    ACTION_SIGN_IN,
    CONF_CAPTCHA_ANSWER,
    CONF_PASSWORD,
    CONF_PENDING_SESSION,
    CONF_TOTP_KEY,
    DOMAIN,
    PENDING_FOLDER,
)
from music_assistant_alexa.ma.context import AdapterContext
from tests.helpers import TEST_EMAIL

from .support import (
    FORM,
    add,
    add_with_form,
    by_key,
    fire_timers,
    form,
    ma_guide,
    restart,
    settle,
    start_flow,
    submit,
    texts,
    try_add,
)

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.simulator import AmazonSimulator

SUPPRESSED = (
    "invalid credentials",
    "invalid username",
    "invalid password",
    "authentication failed",
    "authentication required",
    "unauthorized",
)


def _nothing_stored(mass: MusicAssistant) -> None:
    """Assert that no session file and no provider config was kept."""
    root = AdapterContext.of(mass).storage_root
    assert not list(root.rglob("registration.json")) if root.exists() else True
    assert not list(root.rglob("cookies.json")) if root.exists() else True
    assert mass.config.get("providers") == {}


def _assert_readable(text: str) -> None:
    lowered = text.lower()
    for phrase in SUPPRESSED:
        assert phrase not in lowered, text


@dataclass(frozen=True)
class Obstacle:
    """One way a sign-in fails: what changes, which simulator switch, which guide section."""

    change: dict[str, Any]
    flag: str
    slug: GuideSlug


OBSTACLES = {
    "wrong password": Obstacle({CONF_PASSWORD: "not my password"}, "", GuideSlug.CREDENTIALS),
    "passkey": Obstacle({}, "passkey_forced", GuideSlug.PASSKEY),
    "sms only": Obstacle({}, "sms_only", GuideSlug.TWO_FACTOR),
    "captcha": Obstacle({}, "captcha_before_password", GuideSlug.CAPTCHA),
}


@pytest.mark.parametrize("obstacle", OBSTACLES.values(), ids=OBSTACLES.keys())
async def test_obstacle_shows_reason_and_guide_link(
    mass: MusicAssistant, simulator: AmazonSimulator, obstacle: Obstacle
) -> None:
    """The form (older MA) or the flow (newer MA) shows the reason and the guide link."""
    change, flag, slug = obstacle.change, obstacle.flag, obstacle.slug
    if flag:
        setattr(simulator.scenario, flag, True)

    where, text = await try_add(mass, {**FORM, **change})

    assert ma_guide(slug) in text, (where, text)
    _assert_readable(text)
    if flag != "captcha_before_password":
        # a captcha keeps the sign-in open for the answer; everything else is over
        _nothing_stored(mass)
    assert simulator.device_count(TEST_EMAIL) == 0


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("123456", "6-digit one-time code"),
        ("JBSWY3DPEHPK3PXP0BSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBS8", "digit(s) 0, 8"),
        ("JBSWY3DPEHPK3PXP", "has 16 characters"),
    ],
    ids=["six-digit code", "look-alike digits", "wrong length"],
)
async def test_bad_2fa_key_is_refused_before_anything_is_sent(
    mass: MusicAssistant, simulator: AmazonSimulator, key: str, words: str
) -> None:
    """A malformed key is explained exactly, with the 2FA-key guide link, and sends nothing."""
    where, text = await try_add(mass, {**FORM, CONF_TOTP_KEY: key})

    assert words in text, (where, text)
    assert ma_guide(GuideSlug.TWO_FACTOR_KEY) in text
    assert key not in text
    assert simulator.request_log == []
    _nothing_stored(mass)


async def test_flow_marks_the_key_field(new_mass: MusicAssistant) -> None:
    """
    Newer MA: the key's problem is said once, at the top; the key field points at it.

    MA's dialog shows a step's ``errors`` as plain text (no clickable link) and alerts as
    Markdown (links open): the explanation and its guide link go into the alert, the field
    gets a short pointer, and nothing is said twice.
    """
    from music_assistant_alexa.ma.setup_flow import FIELD_POINTER  # noqa: PLC0415 - newer MA

    step = await start_flow(new_mass)
    step = await submit(new_mass, step, {**FORM, CONF_TOTP_KEY: "123456"})

    alerts = [e.label or "" for e in step.entries if e.type == "alert"]
    assert len(alerts) == 1
    assert "6-digit" in alerts[0]
    assert f"How to fix it: {ma_guide(GuideSlug.TWO_FACTOR_KEY)}" in alerts[0]
    assert step.errors == {CONF_TOTP_KEY: FIELD_POINTER}
    assert by_key(step.entries)[CONF_TOTP_KEY].required


async def test_failed_load_raises_login_failed(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Older MA, Save without "Sign in now": the load fails with LoginFailed; nothing is kept."""
    simulator.scenario.passkey_forced = True

    with pytest.raises(LoginFailed) as caught:
        await add_with_form(old_mass, FORM, sign_in=False)

    assert ma_guide(GuideSlug.PASSKEY) in str(caught.value)
    _assert_readable(str(caught.value))
    _nothing_stored(old_mass)
    assert not list(AdapterContext.of(old_mass).storage_root.glob(f"{DOMAIN}--*"))


async def test_rejected_session_at_start_needs_the_user(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    A revoked session and a changed password: the start-up load fails with LoginFailed.

    MA stores the message as ``last_error`` (newer MA: code 6, status "auth_required"). 2.9
    retries the load 120 s later, newer MA never retries an authentication error; neither
    that retry nor the next start of MA sends the refused password to Amazon again (the core
    remembers the refusal in the session folder).
    """
    instance_id = await add(mass)
    await mass.stop()
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.expire_cookies(TEST_EMAIL)
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.password = "changed at amazon"

    restarted = restart(mass)
    try:
        await restarted.start()
        assert restarted.get_provider(instance_id) is None
        message = restarted.config.last_error_message(instance_id)
        assert message is not None
        assert ma_guide(GuideSlug.CREDENTIALS) in message
        _assert_readable(message)
        posts = simulator.request_count("/ap/signin", method="POST")
        if restarted.generation == "new":
            assert restarted.config.provider_status(instance_id) == "auth_required"
            assert f"load_provider_{instance_id}" not in restarted.pending_timers
        else:
            assert f"load_provider_{instance_id}" in restarted.pending_timers
            await fire_timers(restarted)  # 2.9's retry, 120 s later
            assert restarted.get_provider(instance_id) is None
            assert simulator.request_count("/ap/signin", method="POST") == posts
    finally:
        await restarted.stop()

    again = restart(restarted)
    try:
        await again.start()
        assert again.get_provider(instance_id) is None
        message = again.config.last_error_message(instance_id)
        assert message is not None
        assert "not sent again automatically" in message
        assert simulator.request_count("/ap/signin", method="POST") == posts
    finally:
        await again.stop()


async def test_captcha_round_trip_through_the_form(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Older MA: the captcha shows in the form; the answer continues the same sign-in."""
    simulator.scenario.captcha_before_password = True

    entries = by_key(await form(old_mass, FORM, action=ACTION_SIGN_IN))
    assert CONF_CAPTCHA_ANSWER in entries
    assert "alexa_captcha" in entries
    assert entries[ACTION_SIGN_IN].label == "Continue sign-in"
    assert not entries[CONF_PENDING_SESSION].value

    # a wrong answer: a new picture, the sign-in still open
    entries = by_key(
        await form(old_mass, {**FORM, CONF_CAPTCHA_ANSWER: "WRONG1"}, action=ACTION_SIGN_IN)
    )
    assert "alexa_captcha" in entries, texts(entries.values())

    answer = {**FORM, CONF_CAPTCHA_ANSWER: simulator.captcha_answer}
    entries = by_key(await form(old_mass, answer, action=ACTION_SIGN_IN))
    pending = entries[CONF_PENDING_SESSION].value
    assert pending, texts(entries.values())
    assert "alexa_captcha" not in entries

    simulator.scenario.captcha_before_password = False
    config = await old_mass.config.save_provider_config(
        DOMAIN, {**answer, CONF_PENDING_SESSION: pending}
    )
    await settle(old_mass)
    assert old_mass.get_provider(config.instance_id) is not None
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_continue_without_an_answer_keeps_the_captcha(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    Older MA: "Continue sign-in" with the answer field left empty asks for the characters.

    The open sign-in and its picture stay; no second sign-in starts (that would send the
    password again and lose the picture the user is looking at).
    """
    simulator.scenario.captcha_before_password = True
    entries = by_key(await form(old_mass, FORM, action=ACTION_SIGN_IN))
    picture = entries["alexa_captcha"].label
    posts = simulator.request_count("/ap/signin", method="POST")

    entries = by_key(
        await form(old_mass, {**FORM, CONF_CAPTCHA_ANSWER: " "}, action=ACTION_SIGN_IN)
    )

    assert "characters" in texts(entries.values())
    assert entries["alexa_captcha"].label == picture
    assert entries[ACTION_SIGN_IN].label == "Continue sign-in"
    assert simulator.request_count("/ap/signin", method="POST") == posts
    answer = {**FORM, CONF_CAPTCHA_ANSWER: simulator.captcha_answer}
    entries = by_key(await form(old_mass, answer, action=ACTION_SIGN_IN))
    assert entries[CONF_PENDING_SESSION].value, texts(entries.values())


async def test_captcha_round_trip_through_the_flow(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Newer MA: a captcha step shows the picture; its answer finishes the sign-in."""
    simulator.scenario.captcha_before_password = True
    step = await start_flow(new_mass)

    step = await submit(new_mass, step, FORM)
    assert step.type == "form"
    assert step.step_id == "captcha"
    entries = by_key(step.entries)
    assert entries[f"{CONF_CAPTCHA_ANSWER}_1"].required

    step = await submit(new_mass, step, {f"{CONF_CAPTCHA_ANSWER}_1": "WRONG1"})
    assert step.step_id == "captcha"
    assert f"{CONF_CAPTCHA_ANSWER}_2" in step.errors

    step = await submit(new_mass, step, {f"{CONF_CAPTCHA_ANSWER}_2": simulator.captcha_answer})
    assert step.type == "finish", (step.errors, texts(step.entries))
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_abandoned_flow_leaves_nothing(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Newer MA: a flow aborted at the captcha keeps no session folder."""
    simulator.scenario.captcha_before_password = True
    step = await start_flow(new_mass)
    step = await submit(new_mass, step, FORM)
    assert step.step_id == "captcha"

    await new_mass.config.abort_setup_flow(step.flow_id)
    await settle(new_mass)  # the clean-up runs in the background

    root = AdapterContext.of(new_mass).storage_root / PENDING_FOLDER
    assert not root.exists() or not any(root.iterdir())
    assert simulator.device_count(TEST_EMAIL) == 0


async def test_bad_key_saved_without_sign_in_fails_the_load(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Older MA, Save with a 6-digit code as the key: LoginFailed naming it; nothing sent."""
    with pytest.raises(LoginFailed) as caught:
        await add_with_form(old_mass, {**FORM, CONF_TOTP_KEY: "123456"}, sign_in=False)

    assert "6-digit one-time code" in str(caught.value)
    assert ma_guide(GuideSlug.TWO_FACTOR_KEY) in str(caught.value)
    assert simulator.request_log == []
    _nothing_stored(old_mass)
