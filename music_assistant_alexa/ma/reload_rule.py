"""
When an alexa provider instance may be restarted to pick up a new session file.

Why a restart at all: the alexa provider builds its alexapy login once, in ``loaded_in_mass``,
from the file, and never renews it; once alexapy marks a login failed every later call is refused
until it signs in afresh; and an instance whose first start failed has no players at all. Nothing
public changes a running login's cookies (its attributes are no contract). A reload is the one
supported way, and it is what MA's own "reload" does.

Why not at once: a reload unregisters the instance's players, which drops their queues and cuts
off what they play. So it waits for a quiet moment: no player of the instance says it plays, and
nobody is signing in through the alexa provider's own dialog.

Why not wait for ever: the alexa provider never asks the Echo devices what they do. A player says
"playing" from MA's play command until MA sends stop or pause, so "playing" can stick for days
after the music ended. The old cookies the instance runs on have a limit of their own: Amazon
stops accepting website cookies about 14 days after issuing them, and the Echo players stop with
them. So once the cookies the instance restored are :data:`LIVE_COOKIE_LIMIT_DAYS` old (the age
at which our own health check calls a refresh urgent), it is restarted even while a player says
it plays: a short break in (probably stuck) playback instead of players that stop responding two
days later. The margin leaves room for a failed restart, MA being down, and Amazon's exact limit.
With the default refresh every 7 days, the new file waits up to 5 days for a quiet moment.

While a restart waits, the situation is looked at again every :data:`RELOAD_CHECK_INTERVAL`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from music_assistant_alexa.auth.refresh import DAY

#: Seconds between two looks at a waiting restart.
RELOAD_CHECK_INTERVAL: Final = 300.0
#: Age (days) of the cookies an instance runs on from which it is restarted even while playing.
LIVE_COOKIE_LIMIT_DAYS: Final = 12.0


class ReloadVerdict(StrEnum):
    """Whether a waiting restart happens now, and why."""

    QUIET = "quiet"  # no player plays: restart now
    NOT_SIGNED_IN = "not_signed_in"  # it runs on no working cookies: nothing to interrupt
    COOKIES_OLD = "cookies_old"  # its cookies are near Amazon's limit: restart even while playing
    WAIT_PLAYING = "wait_playing"  # a player says it plays: wait
    WAIT_SIGN_IN = "wait_sign_in"  # someone signs in through its own dialog: wait

    @property
    def now(self) -> bool:
        """Return whether the restart happens now."""
        return self not in (ReloadVerdict.WAIT_PLAYING, ReloadVerdict.WAIT_SIGN_IN)


def reload_due_by(live_cookies_at: float | None) -> float | None:
    """
    Return when a waiting restart happens even while a player plays.

    :param live_cookies_at: When Amazon issued the cookies the instance runs on (None: it runs
        on none that work).
    """
    if live_cookies_at is None:
        return None
    return live_cookies_at + LIVE_COOKIE_LIMIT_DAYS * DAY


def reload_verdict(
    *, playing: bool, signing_in: bool, live_cookies_at: float | None, now: float
) -> ReloadVerdict:
    """
    Return whether an instance waiting to pick up a new file is restarted now.

    :param playing: A player of the instance says it plays.
    :param signing_in: Someone signs in through the alexa provider's own dialog.
    :param live_cookies_at: When Amazon issued the cookies the instance restored at its last
        start (None: it restored none that work).
    :param now: Epoch seconds.
    """
    if signing_in:
        return ReloadVerdict.WAIT_SIGN_IN
    if not playing:
        return ReloadVerdict.QUIET
    due = reload_due_by(live_cookies_at)
    if due is None:
        return ReloadVerdict.NOT_SIGNED_IN
    if now >= due:
        return ReloadVerdict.COOKIES_OLD
    return ReloadVerdict.WAIT_PLAYING
