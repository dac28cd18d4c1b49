"""
A local Amazon for tests: sign-in pages, device registration, tokens and the Alexa web API.

The simulator is a real aiohttp server on loopback that answers for every Amazon host the
client talks to, serves Amazon's flow (HTML forms, redirects, JSON APIs, cookies) and can be
told to misbehave through a :class:`Scenario`. It is written from the protocol reference alone
and never imports the client side, so one misreading cannot hide in both.
"""

from __future__ import annotations

from .accounts import AccountSpec, SimAccount, SimDevice
from .browser_signals import PASSKEY_RESPONSE_FIELD, SimPasskey, page_script_fingerprint
from .scenarios import Scenario
from .server import AmazonSimulator, RequestRecord
from .standalone import serve

__all__ = [
    "PASSKEY_RESPONSE_FIELD",
    "AccountSpec",
    "AmazonSimulator",
    "RequestRecord",
    "Scenario",
    "SimAccount",
    "SimDevice",
    "SimPasskey",
    "page_script_fingerprint",
    "serve",
]
