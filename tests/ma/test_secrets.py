"""
The password and the 2FA key never leave the adapter.

No config entry the adapter returns carries them (as value, label or description), whichever of
MA's three shapes they arrived in: plaintext from the add dialog, the stored ``_encrypted_...``
value, or MA's placeholder from the edit dialog. The flow steps do not echo them, and neither
the logs nor the diagnostics report contain them, the e-mail address, or any token or cookie.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from music_assistant_models.constants import SECURE_STRING_SUBSTITUTE

import music_assistant_alexa.ma as ma_module
from music_assistant_alexa.ma.constants import (
    ACTION_CHECK_KEY,
    ACTION_REFRESH,
    ACTION_SIGN_IN,
    ACTION_TEST,
    CONF_PASSWORD,
    CONF_TOTP_KEY,
    SESSION_ID,
)
from music_assistant_alexa.ma.context import AdapterContext
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.ma.values import ENCRYPTED_PREFIX
from tests.helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD

from .support import DIALOG, FORM, add, form, restart, start_flow, submit, texts

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pytest
    from music_assistant.mass import MusicAssistant
    from music_assistant_models.config_entries import ConfigEntry

    from music_assistant_alexa.simulator import AmazonSimulator


def _session_secrets(mass: MusicAssistant, instance_id: str) -> list[str]:
    """Return the tokens, identifiers and cookie values stored for an instance."""
    folder = AdapterContext.of(mass).instance_folder(instance_id)
    registration = json.loads((folder / "registration.json").read_text())
    stored = registration["formerRegistrationData"]
    names = (
        "refresh_token",
        "access_token",
        "adp_token",
        "device_private_key",
        "frc",
        "map_md",
        "device_serial",
        "customer_id",
    )
    found = [stored[name] for name in names if stored.get(name)]
    assert stored.get("device_serial"), "the scan would be blind to the device serial"
    cookies = json.loads((folder / "cookies.json").read_text())
    found.extend(c["value"] for c in cookies["cookies"] if len(c["value"]) > 8)
    if len(cookies.get("csrf") or "") > 8:
        found.append(cookies["csrf"])
    return found


def _assert_clean(entries: Iterable[ConfigEntry], forbidden: list[str]) -> None:
    entries = list(entries)
    for entry in entries:
        if entry.key in (CONF_PASSWORD, CONF_TOTP_KEY):
            assert entry.value is None, entry.key
    text = texts(entries) + repr(entries)
    for secret in forbidden:
        assert secret not in text


def _stored_raw(mass: MusicAssistant, instance_id: str) -> dict[str, Any]:
    values = mass.config.get(f"providers/{instance_id}/values")
    assert isinstance(values, dict)
    return dict(values)


async def test_plaintext_from_the_add_dialog(old_mass: MusicAssistant) -> None:
    """Add dialog: the typed secrets are used (the key is checked) but never returned."""
    values = {SESSION_ID: "dlg-x", **FORM}

    entries = await ma_module.get_config_entries(old_mass, None, ACTION_CHECK_KEY, values)

    assert "alexa_2fa_key_code" in {e.key for e in entries}
    _assert_clean(entries, [TEST_PASSWORD, TEST_KEY])


async def test_encrypted_stored_values(old_mass: MusicAssistant) -> None:
    """Stored raw values passed straight in: decrypted for use, never returned."""
    instance_id = await add(old_mass)
    raw = _stored_raw(old_mass, instance_id)
    assert raw[CONF_PASSWORD].startswith(ENCRYPTED_PREFIX)
    assert raw[CONF_TOTP_KEY].startswith(ENCRYPTED_PREFIX)

    entries = await ma_module.get_config_entries(old_mass, instance_id, None, raw)

    assert "alexa_2fa_key_code" in {e.key for e in entries}  # the key was decrypted
    _assert_clean(entries, [TEST_PASSWORD, TEST_KEY, raw[CONF_PASSWORD], raw[CONF_TOTP_KEY]])


async def test_placeholder_from_the_edit_dialog(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Edit dialog: the placeholder stands for the stored secret, which signs in again."""
    instance_id = await add(old_mass)
    values = {
        SESSION_ID: "dlg-y",
        **FORM,
        CONF_PASSWORD: SECURE_STRING_SUBSTITUTE,
        CONF_TOTP_KEY: SECURE_STRING_SUBSTITUTE,
    }
    posts = simulator.request_count("/ap/signin", method="POST")

    entries = await ma_module.get_config_entries(old_mass, instance_id, ACTION_SIGN_IN, values)

    assert "Signed in to amazon.com" in texts(entries)
    assert simulator.request_count("/ap/signin", method="POST") > posts
    _assert_clean(entries, [TEST_PASSWORD, TEST_KEY, SECURE_STRING_SUBSTITUTE])


async def test_a_stored_placeholder_is_no_secret(old_mass: MusicAssistant) -> None:
    """
    An API client that saved the edit form with MA's placeholder left in stored the placeholder.

    MA's own frontend leaves untouched secrets out of a save; a script may not. The placeholder
    is then no key: the form says none is stored instead of judging it as a 20-character key.
    """
    instance_id = await add(old_mass)
    old_mass.config.set_raw_provider_config_value(
        instance_id, CONF_TOTP_KEY, SECURE_STRING_SUBSTITUTE, encrypted=True
    )

    entries = await ma_module.get_config_entries(old_mass, instance_id, None, None)

    keys = {e.key for e in entries}
    assert "alexa_2fa_key_problem" not in keys
    assert "alexa_2fa_key_code" not in keys


async def test_flow_steps_never_echo_secrets(
    new_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """Newer MA: no step of the setup flow, nor the options page, holds a secret."""
    step = await start_flow(new_mass)
    # a failing first try re-shows the form with the typed values remembered
    step = await submit(new_mass, step, {**FORM, CONF_PASSWORD: "wrong one"})
    assert step.type == "form"
    step = await submit(new_mass, step, {**FORM})
    assert step.type == "finish"
    session = new_mass.config.sessions[step.flow_id]
    for published in session.history:
        _assert_clean(published.entries, [TEST_PASSWORD, TEST_KEY, "wrong one"])
        assert TEST_PASSWORD not in json.dumps(published.to_dict())
        assert TEST_KEY not in json.dumps(published.to_dict())
    assert step.result is not None
    instance_id = step.result["instance_id"]
    options = await new_mass.config.get_provider_config_entries(instance_id)
    _assert_clean(options, [TEST_PASSWORD, TEST_KEY, TEST_EMAIL])
    del simulator


async def test_logs_and_diagnostics_hold_no_secret(
    mass: MusicAssistant, simulator: AmazonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Sign-in, restart, buttons and a failed sign-in: nothing secret in logs or diagnostics."""
    caplog.set_level(logging.DEBUG)
    instance_id = await add(mass)
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    await provider.run_action(ACTION_TEST)
    await provider.run_action(ACTION_REFRESH)
    secrets = [TEST_PASSWORD, TEST_KEY, TEST_EMAIL, *_session_secrets(mass, instance_id)]
    await mass.stop()
    restarted = restart(mass)
    try:
        await restarted.start()
        provider = restarted.get_provider(instance_id)
        assert isinstance(provider, AlexaAuthProvider)
        report = await provider.get_diagnostics()
        # a sign-in Amazon refuses, logged as a warning
        account = simulator.find_account(TEST_EMAIL)
        assert account is not None
        account.password = "changed at amazon"
        await provider.run_action(ACTION_SIGN_IN)
    finally:
        await restarted.stop()

    dumped = json.dumps(report)
    assert report["session"]["signed_in"] is True
    assert report["extra"]["notify_on_failure"] is True
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Signed in to Amazon" in logged
    for secret in secrets:
        assert secret not in dumped
        assert secret not in logged


async def test_kept_values_do_not_show_in_repr(
    old_mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """What the adapter keeps of the typed values (at a captcha) stays out of every repr."""
    simulator.scenario.captcha_before_password = True
    await form(old_mass, FORM, action=ACTION_SIGN_IN)
    context = AdapterContext.of(old_mass)
    sign_in = context.pending.open_sign_in(DIALOG)
    assert sign_in is not None
    assert sign_in.credentials is not None

    shown = repr(context) + repr(sign_in) + repr(sign_in.credentials)

    for secret in (TEST_EMAIL, TEST_PASSWORD, TEST_KEY):
        assert secret not in shown
