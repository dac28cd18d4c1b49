"""
The setup flow as MA 2.10+ really shows it: the captcha, errors, labels, headings, the live code.

Checked against the behaviour read from upstream's flow engine and dialog (see ``frontend.py``
and the stand-in): an empty answer enables MA's button, so the answer field starts without a
value and an empty answer never reaches Amazon; a re-shown step keeps the dialog's values of
unchanged keys, so each picture comes under new keys; ``errors`` are plain text while alerts
render links, so each problem is one alert; only the catalog MA was built with titles a step,
so each form has a heading of its own; the code shown is renewed with every 30-second window;
a failed ``finish`` leaves no device and no folder.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import pytest

from music_assistant_alexa.auth.errors import MissingCredentialsError
from music_assistant_alexa.auth.session import AuthSessionManager
from music_assistant_alexa.guide import GuideSlug
from music_assistant_alexa.ma.constants import (
    CONF_CAPTCHA_ANSWER,
    CONF_PASSWORD,
    DOMAIN,
    ENTRY_CAPTCHA_IMAGE,
    PENDING_FOLDER,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.install import strings_text
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.simulator.captcha import PICTURE
from tests.helpers import TEST_EMAIL, TEST_KEY, current_code

from . import frontend
from .support import FORM, add, by_key, eventually, ma_guide, start_flow, submit, texts

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.simulator import AmazonSimulator
    from tests.helpers import FakeClock

# Every test here runs a setup flow: newer MA only.
pytestmark = pytest.mark.usefixtures("new_mass")

ANSWER_1 = f"{CONF_CAPTCHA_ANSWER}_1"


def _nothing_left(mass: MusicAssistant, simulator: AmazonSimulator) -> None:
    root = AdapterContext.of(mass).storage_root
    assert not list(root.rglob("registration.json")) if root.exists() else True
    pending = root / PENDING_FOLDER
    assert not pending.exists() or not any(pending.iterdir())
    assert mass.config.get("providers") == {}
    assert simulator.device_count(TEST_EMAIL) == 0


async def _at_captcha(mass: MusicAssistant, simulator: AmazonSimulator) -> Any:
    simulator.scenario.captcha_before_password = True
    step = await start_flow(mass)
    step = await submit(mass, step, FORM)
    assert step.step_id == "captcha", (step.errors, texts(step.entries))
    return step


async def test_empty_captcha_answer_is_never_sent(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """The button stays disabled on an empty answer, and "" or spaces send nothing."""
    step = await _at_captcha(new_mass, simulator)
    answer = by_key(step.entries)[ANSWER_1]
    assert (answer.value, answer.default_value, answer.required) == (None, None, True)
    held = frontend.initial_values(step)
    assert not frontend.can_submit(step, held)
    assert frontend.can_submit(step, {**held, ANSWER_1: "x"})
    posts = simulator.request_count("/ap/signin", method="POST")

    for blank in ("", "   "):  # a client that bypasses the button, or spaces typed
        step = await new_mass.config.submit_setup_flow(step.flow_id, {ANSWER_1: blank})
        assert step.step_id == "captcha"
        assert step.errors == {ANSWER_1: "Type the characters you see in the picture."}

    assert simulator.request_count("/ap/signin", method="POST") == posts
    step = await submit(new_mass, step, {ANSWER_1: simulator.captcha_answer})
    assert step.type == "finish", (step.errors, texts(step.entries))


async def test_a_new_picture_comes_under_new_keys(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """After a wrong answer the dialog shows the new picture and an empty answer field."""
    step = await _at_captcha(new_mass, simulator)
    held = {**frontend.initial_values(step), ANSWER_1: "WRONG1"}

    following = await submit(new_mass, step, {ANSWER_1: "WRONG1"})

    assert following.step_id == "captcha"
    shown = frontend.values_after(step, held, following)
    assert shown[f"{CONF_CAPTCHA_ANSWER}_2"] is None  # the wrong answer does not linger
    assert (
        shown[f"{ENTRY_CAPTCHA_IMAGE}_2"]
        == by_key(following.entries)[f"{ENTRY_CAPTCHA_IMAGE}_2"].value
    )
    assert {ANSWER_1, f"{ENTRY_CAPTCHA_IMAGE}_1"}.isdisjoint(shown)
    assert not frontend.can_submit(following, shown)


async def test_captcha_picture_is_a_data_uri(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """The picture is fetched by the server (no cookie of Amazon's leaves for S3)."""
    step = await _at_captcha(new_mass, simulator)

    image = by_key(step.entries)[f"{ENTRY_CAPTCHA_IMAGE}_1"]
    prefix = "data:image/jpeg;base64,"
    assert isinstance(image.value, str)
    assert image.value.startswith(prefix)
    assert base64.b64decode(image.value.removeprefix(prefix)) == PICTURE
    assert "https://" not in texts(step.entries).replace(ma_guide(GuideSlug.CAPTCHA), "")
    assert simulator.request_count(host="opfcaptcha-prod.s3.amazonaws.com") == 1
    assert simulator.violations == []


async def test_each_problem_is_said_once_with_a_link(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """A refused password: one alert with the reason and the guide link; no plain-text copy."""
    step = await start_flow(new_mass)
    step = await submit(new_mass, step, {**FORM, CONF_PASSWORD: "not my password"})

    assert step.errors == {}
    alerts = [e for e in step.entries if e.type == "alert"]
    assert len(alerts) == 1
    guide = ma_guide(GuideSlug.CREDENTIALS)
    assert f"How to fix it: {guide}" in (alerts[0].label or "")
    assert alerts[0].help_link == guide
    del simulator


async def test_a_generic_error_keeps_our_words(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    The ``last_error`` MA sends a client is our message, not MA's common "Login failed".

    A plain ``LoginFailed`` carries the key ``login_failed``, which MA's common strings
    translate: the client would get "Login failed. Please check your credentials" and no
    guide link. The error the adapter raises clears the key.
    """
    instance_id = await add(new_mass)
    await new_mass.stop()
    simulator.revoke_refresh_tokens(TEST_EMAIL)
    simulator.expire_cookies(TEST_EMAIL)
    account = simulator.find_account(TEST_EMAIL)
    assert account is not None
    account.password = "changed at amazon"
    from music_assistant_models.config_entries import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
        ProviderError,
    )

    from .support import restart  # noqa: PLC0415

    restarted = restart(new_mass)
    try:
        await restarted.start()
        raw = restarted.config.get(f"providers/{instance_id}/last_error")
        with restarted.translations.serving():
            sent = ProviderError.from_dict(raw).to_dict()
            plain = ProviderError(error_code=6, message="x", translation_key="login_failed")
            control = plain.to_dict()["message"]
    finally:
        await restarted.stop()
    assert control.startswith("Login failed.")  # the check can fail
    assert sent["message"] == raw["message"]
    assert ma_guide(GuideSlug.CREDENTIALS) in sent["message"]


async def test_buttons_say_next_then_finish(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """The credentials say "Next" (a captcha may follow); the captcha says "Finish"."""
    step = await start_flow(new_mass)
    assert frontend.submit_label(step) == "Next"
    step = await _at_captcha(new_mass, simulator)
    assert frontend.submit_label(step) == "Finish"


async def test_every_form_says_what_it_is(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """A stock MA titles no step of ours: each form starts with its own heading."""
    first = await start_flow(new_mass)
    captcha = await _at_captcha(new_mass, simulator)
    for step, title in ((first, "Sign in to Amazon"), (captcha, "Solve Amazon's picture puzzle")):
        heading = step.entries[0]
        assert (heading.type, heading.label) == ("divider", title)
        with new_mass.translations.serving():
            assert step.to_dict()["title"] is None  # what a stock MA sends


async def test_strings_title_the_steps_once_built_in(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Compiled into MA, strings.json titles the steps and leaves the live code alone."""
    import json  # noqa: PLC0415

    new_mass.translations.build_in(DOMAIN, json.loads(strings_text()))
    step = await _at_captcha(new_mass, simulator)
    session = new_mass.config.sessions[step.flow_id]
    progress = next(s for s in session.history if s.step_id == "sign_in")

    with new_mass.translations.serving():
        assert step.to_dict()["title"] == "Solve Amazon's picture puzzle"
        assert progress.to_dict()["progress_text"] == progress.progress_text


async def test_the_code_shown_follows_its_window(
    new_mass: MusicAssistant,
    simulator: AmazonSimulator,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the sign-in runs, the progress step shows the code of each new 30 s window."""
    gate = asyncio.Event()
    login = AuthSessionManager.login

    async def held_login(self: AuthSessionManager, *args: Any, **kwargs: Any) -> None:
        await gate.wait()
        await login(self, *args, **kwargs)

    monkeypatch.setattr(AuthSessionManager, "login", held_login)
    clock.now = 1_793_534_429.95  # 0.05 s left in this window
    code = current_code(TEST_KEY, clock)
    first = f"{code[:3]} {code[3:]}"
    step = await start_flow(new_mass)
    await new_mass.config.submit_setup_flow(step.flow_id, FORM)
    session = new_mass.config.sessions[step.flow_id]
    await eventually(lambda: first in (session.current_step.progress_text or ""))
    assert session.current_step.expires_at is not None

    clock.advance(30)
    code = current_code(TEST_KEY, clock)
    second = f"{code[:3]} {code[3:]}"
    await eventually(lambda: second in (session.current_step.progress_text or ""))
    gate.set()

    step = await new_mass.config.wait_for_flow(step.flow_id)
    assert step.type == "finish"
    assert simulator.device_count(TEST_EMAIL) == 1


async def test_failed_finish_leaves_no_device_and_no_folder(
    new_mass: MusicAssistant, simulator: AmazonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MA could not load the new instance: the sign-in's device goes off the account."""
    load = new_mass.load_provider_config
    failures = iter([True])

    async def failing_load(conf: Any) -> None:
        if next(failures, False):
            msg = "Music Assistant could not load it"
            raise MissingCredentialsError(msg)  # any error, before the instance exists
        await load(conf)

    monkeypatch.setattr(new_mass, "load_provider_config", failing_load)
    step = await start_flow(new_mass)
    step = await submit(new_mass, step, FORM)

    assert step.step_id == "user"
    assert "could not load it" in texts(step.entries)
    _nothing_left(new_mass, simulator)
    step = await submit(new_mass, step, FORM)  # and the user can try again
    assert step.type == "finish"


async def test_load_failing_after_the_takeover_leaves_nothing(
    new_mass: MusicAssistant, simulator: AmazonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance took the session over and then failed: the session goes back and out."""

    async def broken(self: AlexaAuthProvider, *, validate: bool = True) -> None:
        del self, validate
        msg = "broken store"
        raise MissingCredentialsError(msg)

    monkeypatch.setattr(AlexaAuthProvider, "_bring_up", broken)
    step = await start_flow(new_mass)
    step = await submit(new_mass, step, FORM)

    assert step.step_id == "user"
    assert "broken store" in texts(step.entries)
    _nothing_left(new_mass, simulator)
    assert not list(AdapterContext.of(new_mass).storage_root.glob(f"{DOMAIN}--*"))


async def test_options_page_shows_the_code_only_when_asked(
    new_mass: MusicAssistant, clock: FakeClock
) -> None:
    """The options page holds no code; its button answers with the code as a message."""
    from music_assistant_models.config_entries import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
        ConfigActionResult,
    )

    instance_id = await add(new_mass)
    provider = new_mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    code = current_code(TEST_KEY, clock)

    options = await new_mass.config.get_provider_config_entries(instance_id)
    result = await new_mass.config.invoke_provider_config_action(instance_id, "alexa_show_2fa_code")

    assert code not in texts(options)
    assert "alexa_show_2fa_code" in by_key(options)
    assert isinstance(result, ConfigActionResult)
    assert result.message is not None
    assert f"{code[:3]} {code[3:]}" in result.message
