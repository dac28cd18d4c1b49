"""
When the alexa instance is restarted to pick up a new file, and when someone signs in there.

Invariants protected here: a restart happens at once when no player plays; it waits while one
plays, until the cookies the instance runs on are 12 days old (Amazon drops them at about 14);
it never happens while someone signs in through the alexa provider's own dialog, which MA
announces on its event bus (2.9: an ``auth_session`` event for alexapy's proxy, lasting a few
minutes; 2.10+: the alexa flow's steps, until its finish or abort, or MA's idle limit).
"""

from __future__ import annotations

from typing import Any

import pytest
from music_assistant_models.enums import EventType
from music_assistant_models.event import MassEvent

from music_assistant_alexa.auth.refresh import DAY
from music_assistant_alexa.ma.alexa_dialog import (
    DIALOG_SIGN_IN_WINDOW,
    FLOW_IDLE_LIMIT,
    AlexaDialogWatch,
)
from music_assistant_alexa.ma.reload_rule import (
    LIVE_COOKIE_LIMIT_DAYS,
    ReloadVerdict,
    reload_due_by,
    reload_verdict,
)
from tests.helpers import START_TIME, FakeClock

from .support import HAS_SETUP_FLOWS

NOW = START_TIME


@pytest.mark.parametrize(
    ("playing", "signing_in", "age_days", "verdict", "restart_now"),
    [
        (False, False, 3.0, ReloadVerdict.QUIET, True),
        (False, False, None, ReloadVerdict.QUIET, True),
        (True, False, 3.0, ReloadVerdict.WAIT_PLAYING, False),
        (True, False, 11.9, ReloadVerdict.WAIT_PLAYING, False),
        (True, False, 12.0, ReloadVerdict.COOKIES_OLD, True),
        (True, False, None, ReloadVerdict.NOT_SIGNED_IN, True),
        (False, True, 3.0, ReloadVerdict.WAIT_SIGN_IN, False),
        (True, True, 13.0, ReloadVerdict.WAIT_SIGN_IN, False),
    ],
)
def test_the_restart_rule(
    *,
    playing: bool,
    signing_in: bool,
    age_days: float | None,
    verdict: ReloadVerdict,
    restart_now: bool,
) -> None:
    """Quiet: now. Playing: wait, until the running cookies are 12 days old. Signing in: wait."""
    live = None if age_days is None else NOW - age_days * DAY
    got = reload_verdict(playing=playing, signing_in=signing_in, live_cookies_at=live, now=NOW)
    assert got is verdict
    assert got.now is restart_now


def test_the_deadline_leaves_two_days_before_amazon_drops_the_cookies() -> None:
    """Restarted at the latest 12 days after the running cookies were issued."""
    assert LIVE_COOKIE_LIMIT_DAYS == 12.0
    assert reload_due_by(NOW) == NOW + 12 * DAY
    assert reload_due_by(None) is None


def _event(kind: Any, object_id: str | None, data: Any) -> MassEvent:
    return MassEvent(event=kind, object_id=object_id, data=data)


def test_the_29_dialog_holds_a_restart_for_a_few_minutes() -> None:
    """2.9: alexapy's proxy, announced by ``auth_session``; other providers' sign-ins do not."""
    clock = FakeClock()
    watch = AlexaDialogWatch(clock)
    watch.on_event(_event(EventType.AUTH_SESSION, "s1", "http://ma:8095/spotify/callback"))
    assert not watch.signing_in()

    watch.on_event(_event(EventType.AUTH_SESSION, "s2", "http://ma:8095/alexa/auth/proxy/"))
    assert watch.signing_in()
    clock.advance(DIALOG_SIGN_IN_WINDOW - 1)
    assert watch.signing_in()
    clock.advance(1)
    assert not watch.signing_in()


@pytest.mark.skipif(not HAS_SETUP_FLOWS, reason="setup flows need models 1.1.169 or later")
def test_the_alexa_flow_holds_a_restart_until_it_ends() -> None:
    """2.10+: the alexa flow's steps, until its finish or abort (or MA's idle limit)."""
    from music_assistant_models.enums import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
        FlowStepType,
    )
    from music_assistant_models.setup_flow import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
        SetupFlowStep,
    )

    flow_updated: Any = EventType.SETUP_FLOW_UPDATED  # type: ignore[attr-defined,unused-ignore]

    def step(flow_id: str, kind: Any, owner: str) -> MassEvent:
        data = SetupFlowStep(flow_id=flow_id, step_id="s", type=kind, translation_owner=owner)
        return _event(flow_updated, flow_id, data)

    clock = FakeClock()
    watch = AlexaDialogWatch(clock)
    watch.on_event(step("f0", FlowStepType.FORM, "provider.spotify"))
    assert not watch.signing_in()
    watch.on_event(step("f1", FlowStepType.FORM, "provider.alexa"))
    assert watch.signing_in()
    watch.on_event(step("f1", FlowStepType.FINISH, "provider.alexa"))
    assert not watch.signing_in()

    watch.on_event(step("f2", FlowStepType.EXTERNAL, "provider.alexa"))
    clock.advance(FLOW_IDLE_LIMIT)
    assert not watch.signing_in()  # abandoned: MA drops it too
