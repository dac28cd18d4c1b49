"""
The captcha picture is fetched by the sign-in's own client and handed on as a ``data:`` URI.

Only a picture (by its first bytes) from Amazon's hosts over https, no larger than the cap; a
picture that cannot be had leaves the caller with Amazon's address instead.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from music_assistant_alexa.auth.captcha_picture import fetch_captcha_picture, picture_type
from music_assistant_alexa.auth.errors import CaptchaRequiredError, UnexpectedResponseError
from music_assistant_alexa.simulator.captcha import PICTURE
from tests.helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD

if TYPE_CHECKING:
    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.simulator import AmazonSimulator


async def _at_captcha(manager: AuthSessionManager, simulator: AmazonSimulator) -> str:
    simulator.scenario.captcha_before_password = True
    with pytest.raises(CaptchaRequiredError):
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert manager.captcha_url is not None
    return manager.captcha_url


async def test_picture_comes_as_a_data_uri(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """The simulator's picture, base64 in a data: URI; no cookie went to the picture host."""
    await _at_captcha(manager, simulator)

    uri = await manager.captcha_picture()

    assert uri == f"data:image/jpeg;base64,{base64.b64encode(PICTURE).decode()}"
    assert simulator.violations == []


async def test_a_picture_over_the_cap_is_refused(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Larger than allowed: no picture (the caller shows the address)."""
    await _at_captcha(manager, simulator)

    assert await manager.captcha_picture(max_bytes=len(PICTURE) - 1) is None
    assert await manager.captcha_picture(max_bytes=len(PICTURE)) is not None


async def test_only_amazons_pictures_over_https(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """Another host, plain http, or a page that is not a picture: refused."""
    url = await _at_captcha(manager, simulator)
    http = manager.http

    for bad in (
        url.replace("opfcaptcha-prod.s3.amazonaws.com", "example.com"),
        url.replace("https://", "http://"),
        "https://www.amazon.com/ap/signin",  # an Amazon page, not a picture
        "https://[opfcaptcha-prod.s3.amazonaws.com/x.jpg",  # no address at all
        "https://opfcaptcha-prod.s3.amazonaws.com:99999/x.jpg",
    ):
        with pytest.raises(UnexpectedResponseError):
            await fetch_captcha_picture(http, bad)


def test_picture_types_by_their_bytes() -> None:
    """JPEG, PNG, GIF and WebP are recognised; HTML is not."""
    assert picture_type(PICTURE) == "image/jpeg"
    assert picture_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert picture_type(b"GIF89a...") == "image/gif"
    assert picture_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert picture_type(b"<html>") is None
