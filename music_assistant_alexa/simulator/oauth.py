"""
The arithmetic of Amazon's device sign-in: MAP client ids and PKCE challenges.

The sign-in flow checks the client id and stores the challenge; the token service checks the
verifier against it. Both use these functions, which is why they live apart from either.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from .accounts import APP_DEVICE_TYPE

DEVICE_TYPE_SUFFIX: Final = f"#{APP_DEVICE_TYPE}"


def s256(verifier: str) -> str:
    """
    Compute a PKCE S256 challenge.

    :param verifier: The code verifier.
    :return: ``b64url(sha256(verifier))`` without padding.
    """
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def client_id_for(serial: str) -> str:
    """
    Build the MAP client id of a device serial.

    :param serial: The device serial.
    :return: ``hex(serial + "#A2IVLV5VM2W81")``, without ``device:``.
    """
    return (serial + DEVICE_TYPE_SUFFIX).encode().hex()


def decode_client_id(client_id: str) -> str | None:
    """
    Recover the device serial from a MAP client id.

    :param client_id: ``hex(serial + "#A2IVLV5VM2W81")``, without ``device:``.
    :return: The serial, or ``None`` when the id does not decode to that shape.
    """
    try:
        decoded = bytes.fromhex(client_id).decode("ascii")
    except ValueError:
        return None
    serial, sep, rest = decoded.partition("#")
    if not sep or f"#{rest}" != DEVICE_TYPE_SUFFIX or not serial:
        return None
    return serial
