"""
Health checks of the hand-off to Music Assistant's Alexa players.

``alexa_players`` says which alexa provider instance this session feeds and how it is doing
(signed in with its Echo players, waiting for a reload, not running), from what the host knows.
``alexa_handoff`` looks at the file the alexa provider instance restores its session from:
which file it is, how old, in which layout, whether it is the one this provider wrote last and
holds the session's current cookies, or who else wrote it. ``alexa_cookie_files`` looks at the
other session files in the same folder (other accounts, other spellings, alexapy's own
``.cookies``) and names the stale ones. None of them sends anything to Amazon; file names are
shown with the e-mail address masked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from aiohttp import ClientSession, DummyCookieJar

from music_assistant_alexa.auth.clock import format_utc
from music_assistant_alexa.auth.errors import ErrorCategory
from music_assistant_alexa.auth.handoff.disk import masked_name
from music_assistant_alexa.auth.handoff.errors import HandoffInputError
from music_assistant_alexa.auth.handoff.file_formats import CookieFileFormat
from music_assistant_alexa.auth.handoff.probe import CookieVerdict
from music_assistant_alexa.auth.handoff.record import Ownership
from music_assistant_alexa.auth.handoff.writer import AlexaHandoff
from music_assistant_alexa.auth.refresh import DAY
from music_assistant_alexa.guide import GuideSlug

from .checks import COOKIE_LIFETIME_DAYS, CheckStatus, HealthCheck

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from music_assistant_alexa.auth.errors import AlexaAuthError
    from music_assistant_alexa.auth.handoff.writer import FoundFile, HandoffInspection
    from music_assistant_alexa.auth.session import AuthSessionManager

ALEXA_PLAYERS_CHECK_KEY: Final = "alexa_players"
HANDOFF_CHECK_KEY: Final = "alexa_handoff"
COOKIE_FILES_CHECK_KEY: Final = "alexa_cookie_files"
_FORMAT_TEXT: Final = {
    CookieFileFormat.AIOHTTP_PICKLE: "aiohttp pickle, readable by every alexapy",
    CookieFileFormat.AIOHTTP_JSON: "aiohttp 3.14 JSON, unreadable by alexapy 1.29.23 and older",
    CookieFileFormat.ALEXAPY_JSON: "alexapy .cookies JSON",
}
_VERDICT_TEXT: Final = {
    CookieVerdict.EXPIRED: "its sign-in cookie has expired",
    CookieVerdict.REJECTED: "Amazon no longer accepts its cookies",
    CookieVerdict.WRONG_ACCOUNT: "its cookies belong to another account",
    CookieVerdict.NO_SIGN_IN: "it holds no Amazon sign-in cookies",
    CookieVerdict.UNREADABLE: "it cannot be read",
}


def _check(status: CheckStatus, message: str, slug: GuideSlug | None = None) -> HealthCheck:
    return HealthCheck(HANDOFF_CHECK_KEY, status, message, slug)


def _days(seconds: float) -> str:
    days = max(0.0, seconds) / DAY
    return f"{days:.1f} days"


def handoff_check(
    inspection: HandoffInspection, *, session_cookie_timestamp: float | None, now: float
) -> HealthCheck:
    """
    Return the health of the file the alexa provider instance restores its session from.

    :param inspection: The file as it is on disk (see :meth:`AlexaHandoff.inspect`).
    :param session_cookie_timestamp: When Amazon issued the session's current cookies, if any.
    :param now: Epoch seconds.
    """
    check = _content_check(inspection, session_cookie_timestamp=session_cookie_timestamp, now=now)
    if not inspection.mode_problems:
        return check
    listed = ", ".join(f"the {label} is {mode:04o}" for label, mode in inspection.mode_problems)
    exposure = (
        f"The cookies are readable by others: {listed} (should be 0700 for the folder, 0600 "
        "for the file)."
    )
    if inspection.ownership in (Ownership.OURS, Ownership.OURS_EARLIER):
        # Our own file, opened up after we wrote it: that is ours to fix, and urgent.
        return _check(CheckStatus.ERROR, f"{check.message} {exposure}", GuideSlug.ALEXA_PLAYERS)
    # The alexa provider's own file (its dialog writes 0644 on aiohttp 3.13) or its folder
    # (0755): worth knowing, and fixed by our next write.
    status = CheckStatus.ERROR if check.status is CheckStatus.ERROR else CheckStatus.WARNING
    return _check(status, f"{check.message} {exposure}", GuideSlug.ALEXA_PLAYERS)


def _content_check(
    inspection: HandoffInspection, *, session_cookie_timestamp: float | None, now: float
) -> HealthCheck:
    slug = GuideSlug.ALEXA_PLAYERS
    name = masked_name(inspection.path)
    if not inspection.exists:
        return _check(
            CheckStatus.WARNING,
            f"Music Assistant's Alexa players have no session file yet ({name}); it is written "
            "after the next sign-in or refresh.",
            slug,
        )
    age = _days(now - (inspection.modified_at or now))
    if not inspection.readable or inspection.format is None:
        return _check(
            CheckStatus.ERROR,
            f"{name} ({age} old) is not a cookie file the Alexa players can restore from; it "
            "is replaced at the next sign-in or refresh.",
            slug,
        )
    layout = _FORMAT_TEXT[inspection.format]
    if inspection.ownership is Ownership.FOREIGN:
        return _foreign_check(inspection, name=name, age=age, layout=layout)
    return _our_check(
        inspection,
        name=name,
        layout=layout,
        session_cookie_timestamp=session_cookie_timestamp,
        now=now,
    )


def _our_check(
    inspection: HandoffInspection,
    *,
    name: str,
    layout: str,
    session_cookie_timestamp: float | None,
    now: float,
) -> HealthCheck:
    slug = GuideSlug.ALEXA_PLAYERS
    written = inspection.last_written
    cookie_time = written.cookie_timestamp if written is not None else None
    if cookie_time is not None and now - cookie_time >= COOKIE_LIFETIME_DAYS * DAY:
        return _check(
            CheckStatus.ERROR,
            f"{name} holds cookies from {format_utc(cookie_time)}, {_days(now - cookie_time)} "
            "old: Amazon no longer accepts them, and the Alexa players cannot sign in.",
            slug,
        )
    current = (
        cookie_time is not None
        and inspection.ownership is Ownership.OURS
        and (session_cookie_timestamp is None or cookie_time >= session_cookie_timestamp)
    )
    if not current:
        since = f" from {format_utc(cookie_time)}" if cookie_time is not None else ""
        return _check(
            CheckStatus.WARNING,
            f"{name} ({layout}) holds older cookies{since} than the session; it is rewritten at "
            "the next refresh, and the Alexa players pick it up when they next start.",
            slug,
        )
    written_at = written.written_at if written is not None else now
    return _check(
        CheckStatus.OK,
        f"Music Assistant's Alexa players are fed: {name} ({layout}), written by this provider "
        f"{_days(now - written_at)} ago with the session's current cookies.",
    )


def _foreign_check(
    inspection: HandoffInspection, *, name: str, age: str, layout: str
) -> HealthCheck:
    slug = GuideSlug.ALEXA_PLAYERS
    verdict = inspection.verdict
    if verdict.stale:
        return _check(
            CheckStatus.ERROR,
            f"{name} ({layout}, {age} old) was written by the alexa provider's own sign-in, and "
            f"{_VERDICT_TEXT[verdict]}: it is replaced with this session at the next refresh.",
            slug,
        )
    newer = ""
    written = inspection.last_written
    if written is not None and (inspection.modified_at or 0.0) > written.written_at:
        newer = f", after this provider's last write ({format_utc(written.written_at)})"
    if inspection.format is CookieFileFormat.AIOHTTP_JSON:
        return _check(
            CheckStatus.WARNING,
            f"{name} was written by the alexa provider's own sign-in{newer}, in {layout}: "
            "Music Assistant 2.9.0 and 2.9.1 cannot restore it.",
            slug,
        )
    return _check(
        CheckStatus.OK,
        f"{name} ({layout}, {age} old) was written by the alexa provider's own sign-in{newer}; "
        "it is left alone while Amazon accepts it, and replaced with this session once it "
        "goes stale.",
    )


def cookie_files_check(found: tuple[FoundFile, ...] | list[FoundFile]) -> HealthCheck:
    """
    Return the health of the other session files in the alexa provider's folder.

    Other accounts' files are never changed: a stale one is only named, with the fix.

    :param found: The files, with their verdicts (offline, or from :meth:`AlexaHandoff.scan`).
    """
    stale = [f for f in found if f.verdict.stale]
    if not stale:
        count = len(found)
        message = (
            "No other session files in the alexa provider's folder."
            if count == 0
            else f"{count} other session file(s) in the alexa provider's folder look usable."
        )
        return HealthCheck(COOKIE_FILES_CHECK_KEY, CheckStatus.OK, message)
    listed = "; ".join(f"{f.label}: {_VERDICT_TEXT[f.verdict]}" for f in stale)
    return HealthCheck(
        COOKIE_FILES_CHECK_KEY,
        CheckStatus.WARNING,
        f"Stale session files in the alexa provider's folder ({listed}). Files of this account "
        "are replaced at the next refresh; for another account, sign in again in its alexa "
        "provider instance (its file is never changed from here).",
        GuideSlug.ALEXA_PLAYERS,
    )


async def run_handoff_checks(
    handoff: AlexaHandoff,
    *,
    session_cookie_timestamp: float | None,
    known: Iterable[FoundFile] = (),
) -> list[HealthCheck]:
    """
    Inspect the alexa provider's folder (disk only) and return both hand-off checks.

    :param handoff: The account's hand-off.
    :param session_cookie_timestamp: When Amazon issued the session's current cookies, if any.
    :param known: Files as the last hand-off found them (with Amazon's verdicts): a file that
        has not changed since keeps that verdict, which its dates alone may not tell.
    """
    inspection = await asyncio.to_thread(handoff.inspect)
    now = handoff.clock.time()
    verdicts = {
        (item.path, item.modified_at): item.verdict
        for item in known
        if item.verdict is not CookieVerdict.NOT_ASKED
    }
    others = [
        replace(item, verdict=verdicts.get((item.path, item.modified_at), item.verdict))
        for item in inspection.others
    ]
    return [
        handoff_check(inspection, session_cookie_timestamp=session_cookie_timestamp, now=now),
        cookie_files_check(others),
    ]


async def alexa_players_file_checks(
    manager: AuthSessionManager, *, ma_data: Path, username: str | None = None
) -> list[HealthCheck]:
    """
    Return both hand-off checks for a Music Assistant data folder (disk only; ``doctor``).

    Without Music Assistant, nothing tells which alexa instance runs or how it is doing: only
    the files are checked.

    :param manager: The account's session manager (restored or not).
    :param ma_data: Music Assistant's data folder.
    :param username: The alexa provider's username; default: the session's e-mail address.
    :raises HandoffInputError: No username to look for, or no such folder.
    """
    registration = manager.registration
    username = username or (registration.email if registration is not None else "")
    if not username:
        msg = "Not signed in here: give the alexa provider's e-mail address (--username)."
        raise HandoffInputError(msg)
    if not await asyncio.to_thread(ma_data.is_dir):
        msg = f"{ma_data} is not a folder: give Music Assistant's data folder (/data in Docker)."
        raise HandoffInputError(msg)
    # A session of its own that sends nothing: inspecting the files reads the disk only.
    async with ClientSession(cookie_jar=DummyCookieJar()) as session:
        handoff = AlexaHandoff.for_manager(
            manager, session=session, ma_data=ma_data, username=username
        )
        cookies = manager.cookies
        try:
            return await run_handoff_checks(
                handoff, session_cookie_timestamp=cookies.timestamp if cookies else None
            )
        finally:
            await handoff.close()


# --- the alexa provider instance ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlexaPlayersState:
    """One alexa provider instance this session feeds, as the host sees it (nothing secret)."""

    instance_id: str
    enabled: bool
    #: It runs in the host (its players come and go with it).
    loaded: bool
    #: The host recorded an error from its last start.
    load_failed: bool
    players: int
    #: Players whose state says they are playing.
    playing: int
    #: The file changed at this time, and a reload to pick it up waits for a quiet moment.
    reload_pending_since: float | None = None
    #: The waiting reload happens by then even while an Echo says it plays.
    reload_due_by: float | None = None
    #: When it was last reloaded to pick up a new file.
    last_reload_at: float | None = None


def alexa_players_check(  # noqa: PLR0911 - one sentence per situation, in the order they matter
    state: AlexaPlayersState | None,
    *,
    option_on: bool,
    unmatched: tuple[str, ...] = (),
    marketplace: str = "",
    error: AlexaAuthError | None = None,
) -> HealthCheck:
    """
    Return which alexa provider instance the session feeds, and how it is doing.

    :param state: The instance fed (None: no alexa provider instance matches the session).
    :param option_on: The user wants the Alexa players kept signed in.
    :param unmatched: Labels (masked) of alexa provider instances of another account or site.
    :param marketplace: The session's marketplace, for the message about unmatched instances.
    :param error: Why the last hand-off failed, if it did.
    """
    slug = GuideSlug.ALEXA_PLAYERS

    def check(status: CheckStatus, message: str, guide: GuideSlug | None = None) -> HealthCheck:
        return HealthCheck(ALEXA_PLAYERS_CHECK_KEY, status, message, guide)

    if not option_on:
        return check(
            CheckStatus.OK,
            "Keeping Music Assistant's Alexa players signed in is off: this session is not "
            "handed to the Alexa player provider.",
        )
    if state is None:
        if unmatched:
            return check(
                CheckStatus.WARNING,
                f"The Alexa player provider ({'; '.join(unmatched)}) signs in to another Amazon "
                f"account or site than this session ({marketplace}), so it is not fed. Use the "
                "same account and site in both.",
                slug,
            )
        return check(
            CheckStatus.OK,
            "No Alexa player provider is set up in Music Assistant; this session is handed to "
            "one as soon as it is added with the same account and site.",
        )
    name = f"The Alexa player provider ({state.instance_id})"
    if error is not None:
        status = (
            CheckStatus.WARNING if error.category is ErrorCategory.TEMPORARY else CheckStatus.ERROR
        )
        return check(
            status,
            f"The session could not be handed to the Alexa player provider ({state.instance_id})"
            f": {error.message}",
            error.guide_slug,
        )
    pending = _pending_text(state)
    if not state.enabled:
        return check(
            CheckStatus.OK,
            f"{name} is disabled; its session file is kept fresh for when you enable it.",
        )
    if not state.loaded:
        if state.load_failed:
            return check(
                CheckStatus.WARNING,
                f"{name} did not start (Music Assistant says why under Settings, Providers). "
                f"It restores this session when it starts again.{pending}",
                slug,
            )
        return check(
            CheckStatus.WARNING,
            f"{name} is not running; it restores this session when it starts.",
            slug,
        )
    if state.players == 0:
        then = pending or " It is restarted with this session after the next renewal."
        return check(
            CheckStatus.WARNING,
            f"{name} runs but shows no Echo players: its sign-in failed, or none of your Echo "
            f"devices can play music.{then}",
            slug,
        )
    reloaded = (
        f", restarted with it {format_utc(state.last_reload_at)}"
        if state.last_reload_at is not None
        else ""
    )
    return check(
        CheckStatus.OK,
        f"Music Assistant's Alexa players run on this session: {name} is signed in with "
        f"{state.players} Echo player(s){reloaded}.{pending}",
    )


def _pending_text(state: AlexaPlayersState) -> str:
    if state.reload_pending_since is None:
        return ""
    due = (
        f", at the latest {format_utc(state.reload_due_by)}"
        if state.reload_due_by is not None
        else ""
    )
    return (
        f" Newer cookies were handed over {format_utc(state.reload_pending_since)}; it is "
        f"restarted to use them once no Echo plays{due}."
    )
