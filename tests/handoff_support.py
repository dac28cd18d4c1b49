"""
Helpers for the hand-off tests: what Music Assistant's own alexa provider would leave on disk.

The alexa provider writes its file only after a sign-in through its own dialog, with
``aiohttp.CookieJar.save`` of alexapy's jar (a pickle up to aiohttp 3.13, JSON from 3.14),
into a folder made with ``os.makedirs`` (so with the umask's mode, usually 0755), after deleting
the previous file (so a pickle gets the umask's mode too, usually 0644).
"""

from __future__ import annotations

import os
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING

from aiohttp import CookieJar
from yarl import URL

from music_assistant_alexa.auth.handoff.disk import handoff_file

from .helpers import TEST_EMAIL

if TYPE_CHECKING:
    from pathlib import Path

    from music_assistant_alexa.auth.session import AuthSessionManager


def save_like_music_assistant(
    manager: AuthSessionManager, ma_data: Path, *, username: str = TEST_EMAIL
) -> Path:
    """
    Save the session's current cookies the way the alexa provider's dialog saves its own.

    Call from a coroutine (aiohttp's jar wants a running loop).

    :param manager: A signed-in session; its cookies stand in for what alexapy's proxy caught.
    :param ma_data: Music Assistant's data folder.
    :param username: The alexa provider's username.
    :returns: The file.
    """
    stored = manager.cookies
    assert stored is not None
    jar = CookieJar()
    for cookie in stored.cookies:
        morsel: SimpleCookie = SimpleCookie()
        morsel[cookie.name] = cookie.value
        morsel[cookie.name]["domain"] = cookie.domain
        morsel[cookie.name]["path"] = cookie.path
        jar.update_cookies(morsel, URL.build(scheme="https", host=cookie.domain.lstrip(".")))
    path = handoff_file(ma_data, username)
    ma_data.mkdir(exist_ok=True)
    os.makedirs(path.parent, exist_ok=True)  # noqa: PTH103 - exactly what the provider calls
    path.unlink(missing_ok=True)  # "Removing outdated cookiefile", then a new file
    jar.save(path)
    return path
