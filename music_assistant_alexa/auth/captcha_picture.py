"""
Amazon's captcha picture, fetched by the server and handed on as a ``data:`` URI.

Music Assistant shows a picture entry's value as an ``<img>`` source and documents ``data:``
URIs for it. Fetching the picture here, with the sign-in's own client (its cookies, its
connection), means the user's browser never has to reach Amazon, and nothing but a small,
checked picture reaches the page: the answer must be an image by its first bytes (not just
by its header) and no larger than :data:`MAX_PICTURE_BYTES`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final

from yarl import URL

from .endpoints import is_amazon_host, is_captcha_picture_host
from .errors import UnexpectedResponseError

if TYPE_CHECKING:
    from .http import AmazonHttp

#: Largest captcha picture accepted (Amazon's are a few kilobytes).
MAX_PICTURE_BYTES: Final = 256 * 1024
#: The picture formats a browser shows, by the bytes each file starts with.
_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def picture_type(data: bytes) -> str | None:
    """
    Return the picture format of some bytes (None: not a picture a browser shows).

    :param data: The file's bytes.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


async def fetch_captcha_picture(
    http: AmazonHttp, url: str, *, max_bytes: int = MAX_PICTURE_BYTES
) -> str:
    """
    Fetch a captcha picture and return it as a ``data:`` URI.

    :param http: The client of the sign-in that met the captcha.
    :param url: The picture's address, as Amazon's page gave it.
    :param max_bytes: Refuse a larger picture.
    :raises UnexpectedResponseError: The address is not Amazon's over https, or the answer is
        not a picture, or too large.
    :raises AlexaAuthError: Amazon could not be reached.
    """
    try:
        target = URL(url)
        host = target.host or ""
    except ValueError:  # a bracket or a port out of range: no address at all
        host, target = "", None
    if (
        target is None
        or target.scheme != "https"
        or not (is_captcha_picture_host(host) or is_amazon_host(host))
    ):
        msg = "The captcha picture is not on one of Amazon's hosts."
        raise UnexpectedResponseError(msg)
    _, data = await http.get_bytes(target, max_bytes=max_bytes)
    kind = picture_type(data)
    if kind is None:
        msg = "Amazon's captcha picture is not a picture."
        raise UnexpectedResponseError(msg)
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
