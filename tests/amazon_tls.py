"""
The simulator over https, for clients that insist on real Amazon URLs (alexapy).

alexapy builds ``https://alexa.amazon.com/...`` itself, on aiohttp sessions it creates itself.
To reach the simulator without touching alexapy's code, three things stand in for the internet:

- a local certificate authority (trustme) that signs a certificate for Amazon's host names,
  served by the simulator;
- a resolver that sends Amazon's names to the simulator's address and port (installed as
  aiohttp's default resolver, so the sessions alexapy creates use it too);
- the test CA as the trust anchor of aiohttp's default TLS context and of alexapy's own.
"""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from music_assistant_alexa.auth.endpoints import MARKETPLACES, LoopbackResolver, is_amazon_host

if TYPE_CHECKING:
    import pytest
    import trustme
    from aiohttp.abc import ResolveResult

#: Every name the simulator answers for: one wildcard per marketplace, plus the Alexa API.
CERTIFICATE_NAMES: Final = (
    *(f"*.{domain}" for domain in MARKETPLACES),
    *MARKETPLACES,
    "api.amazonalexa.com",
)


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """
    Return a server TLS context whose certificate covers Amazon's host names.

    :param ca: The test CA.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*CERTIFICATE_NAMES).configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """
    Return a client TLS context that trusts the test CA (and verifies host names).

    :param ca: The test CA.
    """
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


class SimulatorResolver(LoopbackResolver):
    """Resolve Amazon's names to the simulator, swapping https's port for the simulator's."""

    def __init__(self, port: int, **_kwargs: Any) -> None:
        """
        Create the resolver.

        :param port: The simulator's port.
        :param _kwargs: What aiohttp passes to its default resolver (``loop``), ignored.
        """
        super().__init__("127.0.0.1")
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """
        Resolve a host name; Amazon's names on port 443 go to the simulator's port.

        :param host: Host name.
        :param port: Port asked for.
        :param family: Address family asked for.
        """
        if is_amazon_host(host) and port == 443:
            port = self._port
        return await super().resolve(host, port, family)


def route_aiohttp_to(monkeypatch: pytest.MonkeyPatch, port: int, context: ssl.SSLContext) -> None:
    """
    Make every aiohttp session created from now on reach the simulator for Amazon's names.

    :param monkeypatch: The test's monkeypatch (undone after the test).
    :param port: The simulator's port.
    :param context: Client TLS context trusting the test CA.
    """

    def resolver(**kwargs: Any) -> SimulatorResolver:
        return SimulatorResolver(port, **kwargs)

    monkeypatch.setattr(aiohttp.connector, "DefaultResolver", resolver)
    monkeypatch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", context)
