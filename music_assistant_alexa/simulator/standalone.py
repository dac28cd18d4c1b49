"""
Run the simulator on its own, for manual testing or for a client in another process.

The CLI (``music-assistant-alexa simulator``) calls :func:`serve`; it keeps running until the
task is cancelled (Ctrl-C).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .server import AmazonSimulator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .accounts import AccountSpec
    from .scenarios import Scenario


async def serve(
    *,
    port: int,
    accounts: Sequence[AccountSpec],
    host: str = "127.0.0.1",
    scenario: Scenario | None = None,
    ready: Callable[[str], None],
) -> None:
    """
    Start a simulator with the given accounts and serve until cancelled.

    :param port: Port to bind (0 = any free port).
    :param accounts: Accounts to create.
    :param host: Address to bind.
    :param scenario: Global misbehaviour; none when ``None``.
    :param ready: Called once with the base URL (``http://127.0.0.1:PORT``) when listening.
    """
    simulator = AmazonSimulator(host=host, port=port)
    if scenario is not None:
        simulator.scenario = scenario
    for spec in accounts:
        simulator.add_account(
            spec.email, spec.password, spec.totp_secret, marketplace=spec.marketplace
        )
    async with simulator:
        ready(simulator.base_url)
        await asyncio.Event().wait()
