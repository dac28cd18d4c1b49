"""
Amazon's captcha pictures, as its S3 bucket serves them.

The sign-in pages name a picture ``https://opfcaptcha-prod.s3.amazonaws.com/<32 hex>.jpg`` with
a signed query; the bucket answers such a name with the JPEG (``image/jpeg``) and anything else
with S3's XML refusal. Every picture here is the same tiny JPEG: the simulator checks answers
against :attr:`~.server.AmazonSimulator.captcha_answer`, not against the picture.
"""

from __future__ import annotations

import base64
import re
from typing import Final

from aiohttp import web

#: A 1x1 baseline JPEG (the smallest file browsers show).
PICTURE: Final = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)
_NAME: Final = re.compile(r"^/[0-9a-f]{32}\.jpg$")
_DENIED: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>Access Denied</Message></Error>"
)


def captcha_picture(request: web.Request) -> web.Response:
    """
    Answer a request to the captcha bucket: the picture, or S3's refusal.

    :param request: The request.
    """
    if request.method != "GET" or not _NAME.match(request.path):
        return web.Response(status=403, text=_DENIED, content_type="application/xml")
    return web.Response(body=PICTURE, content_type="image/jpeg")
