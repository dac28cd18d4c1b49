"""
The provider's ``strings.json``: MA's translation layout, ready for the day it is built in.

MA compiles a built-in provider's ``strings.json`` under ``provider.<domain>.`` and then shows a
setup-flow step's title and description, field labels and abort reasons from it. The file must
name the steps the flow really shows and the fields it really has, and must leave alone what
the flow writes live: a ``progress_text`` for the sign-in step would replace the current 2FA
code with a fixed sentence, and a key shared with MA's common strings would be shadowed.
"""

from __future__ import annotations

import json
from typing import Any

from music_assistant_alexa.ma import constants
from music_assistant_alexa.ma.entries import (
    action_entries,
    credential_entries,
    option_entries,
    show_code_entry,
)
from music_assistant_alexa.ma.install import strings_text

from .support import ma_guide

#: Keys of MA's shared strings a provider entry must not take (the common text would win).
COMMON_ENTRY_KEYS = {"username", "password", "icon", "preview_note", "log_level"}


def _strings() -> dict[str, Any]:
    strings: dict[str, Any] = json.loads(strings_text())
    return strings


def test_every_step_has_a_title() -> None:
    """The steps the flow shows have a title; the live sign-in step has no fixed text."""
    steps = _strings()["setup_flow"]
    shown = (
        constants.STEP_USER,
        constants.STEP_CAPTCHA,
        constants.STEP_SIGN_IN,
        constants.STEP_BROWSER,
    )
    for step_id in shown:
        assert steps[step_id]["title"]
    assert "progress_text" not in steps[constants.STEP_SIGN_IN]
    assert {"aborted", "replaced", "timed_out"} <= set(steps["abort"])


def test_entry_strings_name_real_fields() -> None:
    """Each field named in the file is one the adapter builds, and none is a common key."""
    built = {
        entry.key
        for entry in [
            *credential_entries(ma_guide, flow=True),
            *option_entries(ma_guide),
            *action_entries(existing=True, captcha=False, from_form=False),
            show_code_entry(),
        ]
    }
    named = set(_strings()["config_entries"])
    assert named <= built
    assert not named & COMMON_ENTRY_KEYS
    for entry in credential_entries(ma_guide, flow=True):
        named_entry = _strings()["config_entries"][entry.key]
        # Once built in, MA shows these instead of the adapter's own words: the same words.
        assert named_entry["label"] == entry.label
        assert named_entry["description"] == entry.description
        titles = {option.value: option.title for option in entry.options or []}
        for value, title in named_entry.get("options", {}).items():
            assert titles[value] == title
    method = _strings()["config_entries"][constants.CONF_SIGN_IN_METHOD]
    assert set(method["options"]) == {constants.METHOD_PASSWORD, constants.METHOD_BROWSER}
