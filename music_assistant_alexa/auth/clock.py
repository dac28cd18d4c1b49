"""
The clock the auth core reads and sleeps on.

Everything time-based (TOTP windows, request pacing, refresh schedules, back-off) goes through a
:class:`Clock`, so tests can run months of refreshes in milliseconds with a fake one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time and sleeping."""

    def time(self) -> float:
        """Return the current time in epoch seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """
        Wait for a number of seconds.

        :param seconds: How long to wait.
        """
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        """Return the current time in epoch seconds."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """
        Wait for a number of seconds.

        :param seconds: How long to wait.
        """
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()
