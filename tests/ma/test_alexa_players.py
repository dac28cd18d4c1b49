"""
Music Assistant's Alexa players run on this session: handed over after every change, picked up.

Invariants protected here, against a stand-in of MA's own alexa provider (``alexa_stand_in``):
after a sign-in its cookie file exists, holds the session's cookies and was confirmed by Amazon;
after a refresh the file holds the new cookies and the running alexa instance restores them,
restarted only when none of its players says it plays, and eventually even when "playing" sticks
(once the cookies it runs on are 12 days old); a refresh costs one request more than without
the hand-off; the user's newer own file is left alone; another account's file is never touched;
nothing is written without a matching alexa instance or with the option off; an alexa instance
that starts after this provider, or is added later, is fed too; a disabled one only gets the
file; a removed one is let go; and the diagnostics show all of it without an e-mail address.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from music_assistant_models.enums import EventType

from music_assistant_alexa.auth.handoff.disk import handoff_file
from music_assistant_alexa.auth.handoff.file_formats import read_cookie_file
from music_assistant_alexa.auth.handoff.record import read_record
from music_assistant_alexa.auth.handoff.writer import HandoffSource
from music_assistant_alexa.auth.refresh import DAY
from music_assistant_alexa.ma.constants import ACTION_SIGN_IN, CONF_ALEXA_PLAYERS, DOMAIN
from music_assistant_alexa.ma.provider import AlexaAuthProvider
from music_assistant_alexa.ma.reload_rule import RELOAD_CHECK_INTERVAL
from tests.handoff_support import save_like_music_assistant
from tests.helpers import TEST_EMAIL

from . import alexa_stand_in
from .support import add, fire_timers, restart, settle, stepped_clock

if TYPE_CHECKING:
    from music_assistant.mass import MusicAssistant

    from music_assistant_alexa.simulator import AmazonSimulator

USERS_ME = "/api/users/me"
OTHER_EMAIL = "neighbour@example.com"
#: The refresh schedule's default interval.
INTERVAL_DAYS = 7


def _ours(mass: MusicAssistant, instance_id: str) -> AlexaAuthProvider:
    provider = mass.get_provider(instance_id)
    assert isinstance(provider, AlexaAuthProvider)
    return provider


def _ma_data(mass: MusicAssistant) -> Path:
    return Path(str(mass.storage_path))


def _file(mass: MusicAssistant, username: str = TEST_EMAIL) -> Path:
    return handoff_file(_ma_data(mass), username)


def _session_cookies(mass: MusicAssistant, instance_id: str) -> dict[str, str]:
    """Return the session's cookies as the hand-off gives them (website cookies and csrf)."""
    manager = _ours(mass, instance_id).manager
    assert manager is not None
    return {c.name: c.value for c in HandoffSource.from_manager(manager).cookies}


def _file_cookies(mass: MusicAssistant) -> dict[str, str]:
    contents = read_cookie_file(_file(mass).read_bytes())
    return {c.name: c.value for c in contents.cookies}


def _alexa(mass: MusicAssistant) -> alexa_stand_in.AlexaStandIn:
    provider = alexa_stand_in.running(mass)
    assert provider is not None
    return provider


async def _fed_alexa(mass: MusicAssistant) -> str:
    """Run MA's alexa instance, then add ours: it is fed and restarted (nothing plays yet)."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass)
    instance_id = await add(mass)
    assert _alexa(mass).signed_in
    return instance_id


async def _advance(mass: MusicAssistant, seconds: float) -> None:
    """Move the background clock (the refresh schedule, the restart watch) and settle."""
    await stepped_clock(mass).advance(seconds)
    await settle(mass)


def _requests(simulator: AmazonSimulator) -> list[str]:
    return [f"{record.method} {record.path}" for record in simulator.request_log]


def _signal_alexa_sign_in(mass: MusicAssistant, *, ended: bool = False) -> None:
    """Announce the alexa provider's own sign-in the way each MA generation does."""
    if mass.generation == "old":
        if not ended:
            url = "http://192.0.2.10:8095/alexa/auth/proxy/"
            mass.signal_event(EventType.AUTH_SESSION, "dialog-1", url)
        return
    from music_assistant_models.enums import (  # type: ignore[attr-defined,unused-ignore]  # noqa: PLC0415
        FlowStepType,
    )
    from music_assistant_models.setup_flow import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
        SetupFlowStep,
    )

    step: Any = SetupFlowStep(
        flow_id="flow-1",
        step_id="abort" if ended else "amazon_login",
        type=FlowStepType.ABORT if ended else FlowStepType.EXTERNAL,
        translation_owner="provider.alexa",
    )
    event: Any = EventType.SETUP_FLOW_UPDATED  # type: ignore[attr-defined,unused-ignore]
    mass.signal_event(event, object_id="flow-1", data=step)


async def test_sign_in_hands_the_session_to_the_running_alexa_instance(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """The alexa instance ran without a file; after our sign-in it runs on our cookies."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass)
    await settle(mass)
    assert not _alexa(mass).signed_in  # no file yet: no login, no players
    simulator.reset_counts()

    instance_id = await add(mass)

    path = _file(mass)
    record = read_record(path)
    assert record is not None
    assert record.latest is not None  # written, after Amazon confirmed it, by us
    assert _file_cookies(mass) == _session_cookies(mass, instance_id)
    alexa = _alexa(mass)
    assert alexa.signed_in
    assert alexa.restored == _session_cookies(mass, instance_id)
    assert len(alexa.players) == 2
    # our verification, then the alexa instance's own restore after its restart
    assert simulator.request_count(USERS_ME, host="alexa.amazon.com") == 2
    fed = _ours(mass, instance_id).feed.fed["alexa"]
    assert fed.last_reload_at is not None
    assert fed.pending_since is None


async def test_signing_in_again_from_the_settings_hands_the_new_session_over(
    mass: MusicAssistant,
) -> None:
    """The options page's "Sign in now": the new session's cookies reach the Alexa players."""
    instance_id = await _fed_alexa(mass)
    alexa_before = _alexa(mass)
    old_cookies = alexa_before.restored

    notice = await _ours(mass, instance_id).run_action(ACTION_SIGN_IN)
    await settle(mass)

    assert notice.ok, notice.text
    new_cookies = _session_cookies(mass, instance_id)
    assert new_cookies != old_cookies
    assert _file_cookies(mass) == new_cookies
    assert _alexa(mass) is not alexa_before
    assert _alexa(mass).restored == new_cookies


async def test_refresh_restarts_the_alexa_instance_only_once_nothing_plays(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """
    A refresh rewrites the file at once, costing one request; the restart waits for quiet.

    Per refresh: the two refresh requests (cookie exchange, csrf) plus one ``/api/users/me``
    that confirms the new file: three, with the hand-off on.
    """
    instance_id = await _fed_alexa(mass)
    alexa_before = _alexa(mass)
    old_cookies = alexa_before.restored
    alexa_stand_in.set_playing(mass, playing=True)
    simulator.reset_counts()

    await _advance(mass, INTERVAL_DAYS * DAY)

    assert len(simulator.request_log) == 3, _requests(simulator)
    assert simulator.request_count(USERS_ME, host="alexa.amazon.com") == 1
    new_cookies = _session_cookies(mass, instance_id)
    assert new_cookies != old_cookies
    assert _file_cookies(mass) == new_cookies
    assert _alexa(mass) is alexa_before  # still playing: not restarted
    assert alexa_before.restored == old_cookies
    feed = _ours(mass, instance_id).feed
    assert feed.fed["alexa"].pending_since is not None

    await _advance(mass, RELOAD_CHECK_INTERVAL)  # still playing
    assert _alexa(mass) is alexa_before

    alexa_stand_in.set_playing(mass, playing=False)
    await _advance(mass, RELOAD_CHECK_INTERVAL)

    assert _alexa(mass) is not alexa_before
    assert _alexa(mass).restored == new_cookies
    assert _alexa(mass).signed_in
    assert feed.fed["alexa"].pending_since is None


async def test_playing_that_sticks_gives_way_before_the_cookies_expire(
    mass: MusicAssistant,
) -> None:
    """A player that says "playing" for days: the restart comes once its cookies are 12 days old."""
    instance_id = await _fed_alexa(mass)
    alexa_before = _alexa(mass)
    alexa_stand_in.set_playing(mass, playing=True)

    await _advance(mass, INTERVAL_DAYS * DAY)  # refresh: new file, restart waits
    await _advance(mass, 4 * DAY)  # the running cookies are 11 days old
    assert _alexa(mass) is alexa_before
    await _advance(mass, DAY)  # 12 days old

    alexa = _alexa(mass)
    assert alexa is not alexa_before
    assert alexa.restored == _session_cookies(mass, instance_id)
    assert alexa.signed_in


async def test_no_restart_while_the_user_signs_in_through_the_alexa_dialog(
    mass: MusicAssistant,
) -> None:
    """The alexa provider's own sign-in (2.9 dialog, 2.10 flow) holds a restart back."""
    instance_id = await _fed_alexa(mass)
    alexa_before = _alexa(mass)
    _signal_alexa_sign_in(mass)
    await settle(mass)

    await _advance(mass, INTERVAL_DAYS * DAY)  # refresh: new file, nothing plays
    assert _alexa(mass) is alexa_before
    feed = _ours(mass, instance_id).feed
    assert str(feed.fed["alexa"].last_verdict) == "wait_sign_in"

    _signal_alexa_sign_in(mass, ended=True)
    await _advance(mass, RELOAD_CHECK_INTERVAL)  # 2.9: the dialog's window has passed too
    assert _alexa(mass) is not alexa_before
    assert _alexa(mass).restored == _session_cookies(mass, instance_id)


async def test_the_users_newer_own_file_is_left_alone(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """After the user signed in through the alexa provider's dialog, refreshes keep their file."""
    instance_id = await _fed_alexa(mass)
    manager = _ours(mass, instance_id).manager
    assert manager is not None
    theirs = save_like_music_assistant(manager, _ma_data(mass)).read_bytes()
    alexa_before = _alexa(mass)
    simulator.reset_counts()

    await _advance(mass, INTERVAL_DAYS * DAY)

    assert _file(mass).read_bytes() == theirs
    assert _alexa(mass) is alexa_before
    # the refresh (two), and one question about their file instead of a verification of ours
    assert len(simulator.request_log) == 3, _requests(simulator)
    assert _ours(mass, instance_id).feed.fed["alexa"].pending_since is None


async def test_without_a_matching_alexa_instance_nothing_is_written(
    mass: MusicAssistant,
) -> None:
    """No alexa instance, or one of another account: no file; one added later is fed."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass, username=OTHER_EMAIL)
    instance_id = await add(mass)
    await _advance(mass, INTERVAL_DAYS * DAY)
    assert not _file(mass).exists()
    assert not _file(mass, OTHER_EMAIL).exists()
    await mass.config.remove_provider_config("alexa")
    await settle(mass)
    assert not _ma_data(mass).joinpath(".alexa").exists()

    await alexa_stand_in.configure(mass)  # the account's own alexa instance, added later
    await settle(mass)

    assert _file_cookies(mass) == _session_cookies(mass, instance_id)
    assert _alexa(mass).signed_in
    assert _alexa(mass).restored == _session_cookies(mass, instance_id)


async def test_option_off_writes_nothing(mass: MusicAssistant) -> None:
    """With "Keep Music Assistant's Alexa players signed in" off, no file is ever written."""
    alexa_stand_in.register(mass)
    instance_id = await add(mass)
    await mass.config.save_provider_config(
        DOMAIN, {CONF_ALEXA_PLAYERS: False}, instance_id=instance_id
    )
    await fire_timers(mass)  # MA reloads the instance a second after an option changed
    assert not _ours(mass, instance_id).feed.fed

    await alexa_stand_in.configure(mass)
    await settle(mass)
    await _advance(mass, INTERVAL_DAYS * DAY)

    assert not _file(mass).exists()
    assert not _alexa(mass).signed_in


async def test_another_accounts_file_is_never_touched(mass: MusicAssistant) -> None:
    """A file of another account is checked, reported in the diagnostics, and left as it is."""
    instance_id = await _fed_alexa(mass)
    manager = _ours(mass, instance_id).manager
    assert manager is not None
    other = save_like_music_assistant(manager, _ma_data(mass), username=OTHER_EMAIL)
    other_bytes, other_mtime = other.read_bytes(), other.stat().st_mtime
    await mass.stop()
    restarted = restart(mass)
    try:
        await restarted.start()
        await settle(restarted)
        await _advance(restarted, INTERVAL_DAYS * DAY)

        assert other.read_bytes() == other_bytes
        assert other.stat().st_mtime == other_mtime
        assert not other.with_name(other.name + ".bak").exists()
        report = await _ours(restarted, instance_id).get_diagnostics()
        checks = {check["key"]: check for check in report["checks"]}
        files = checks["alexa_cookie_files"]
        assert files["status"] == "warning"
        assert "another account" in files["message"]
        assert files["guide_slug"] == "alexa-players"
    finally:
        await restarted.stop()


async def test_an_alexa_instance_that_starts_later_reads_the_new_file(
    mass: MusicAssistant,
) -> None:
    """MA loads providers in no order: an alexa instance that was not running is not restarted."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass, load=False)
    instance_id = await add(mass)
    assert _file_cookies(mass) == _session_cookies(mass, instance_id)
    assert alexa_stand_in.running(mass) is None

    await mass.load_provider("alexa", allow_retry=True)
    await settle(mass)

    assert _alexa(mass).restored == _session_cookies(mass, instance_id)
    fed = _ours(mass, instance_id).feed.fed["alexa"]
    assert fed.last_reload_at is None  # it read the file by itself
    assert fed.pending_since is None


async def test_a_disabled_alexa_instance_gets_a_fresh_file_and_a_removed_one_nothing(
    mass: MusicAssistant,
) -> None:
    """Disabled: the file is kept fresh, nothing is started. Removed: nothing more is written."""
    alexa_stand_in.register(mass)
    await alexa_stand_in.configure(mass, enabled=False, load=False)
    instance_id = await add(mass)
    assert _file_cookies(mass) == _session_cookies(mass, instance_id)
    await _advance(mass, INTERVAL_DAYS * DAY)
    assert _file_cookies(mass) == _session_cookies(mass, instance_id)
    assert alexa_stand_in.running(mass) is None
    health = await _ours(mass, instance_id).health_entries()
    assert any("is disabled" in (entry.label or "") for entry in health)

    await mass.config.remove_provider_config("alexa")
    await settle(mass)
    kept = _file(mass).read_bytes()
    await _advance(mass, INTERVAL_DAYS * DAY)

    assert _file(mass).read_bytes() == kept
    assert not _ours(mass, instance_id).feed.fed


async def test_diagnostics_show_the_hand_off_without_an_e_mail_address(
    mass: MusicAssistant,
) -> None:
    """The report and the health section say which instance is fed, how, and since when."""
    instance_id = await _fed_alexa(mass)
    provider = _ours(mass, instance_id)

    report = await provider.get_diagnostics()
    health = " ".join(entry.label or "" for entry in await provider.health_entries())

    dumped = json.dumps(report)
    assert TEST_EMAIL not in dumped
    assert "@example.com" not in dumped
    checks = {check["key"]: check for check in report["checks"]}
    assert checks["alexa_players"]["status"] == "ok"
    assert "signed in with 2 Echo player(s)" in checks["alexa_players"]["message"]
    assert checks["alexa_handoff"]["status"] == "ok"
    assert checks["alexa_cookie_files"]["status"] == "ok"
    feed = report["extra"]["alexa_players"]
    assert feed["option_on"] is True
    assert feed["alexa_instances"] == [
        {
            "instance_id": "alexa",
            "marketplace": "amazon.com",
            "enabled": True,
            "matches": True,
            "loaded": True,
            "load_failed": False,
            "players": 2,
            "playing": 0,
            "signed_in": True,
        }
    ]
    fed = feed["fed"][0]
    assert fed["last_reload_at"].endswith("+00:00")
    assert fed["reload_pending_since"] is None
    assert feed["last_outcome"] == "written"
    assert [f["action"] for f in feed["files"]] == ["fed"]
    assert "Music Assistant's Alexa players run on this session" in health


async def test_a_restart_of_music_assistant_costs_no_request_for_the_hand_off(
    mass: MusicAssistant, simulator: AmazonSimulator
) -> None:
    """At start-up the file already holds the session's cookies: nothing to write or ask."""
    instance_id = await _fed_alexa(mass)
    written = _file(mass).read_bytes()
    await mass.stop()
    simulator.reset_counts()
    restarted = restart(mass)
    try:
        await restarted.start()
        await settle(restarted)

        assert _file(restarted).read_bytes() == written
        feed = _ours(restarted, instance_id).feed
        assert feed.report is not None
        assert str(feed.report.result.outcome) == "unchanged"
        # our restore's one check, and the alexa instance's own restore (users/me, devices)
        assert simulator.request_count(USERS_ME, host="alexa.amazon.com") == 1
        assert _alexa(restarted).signed_in
    finally:
        await restarted.stop()
