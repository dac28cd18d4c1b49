"""
The clock the auth core reads and sleeps on, and how its moments are written for people.

Everything time-based (TOTP windows, request pacing, refresh schedules, back-off) goes through a
:class:`Clock`, so tests can run months of refreshes in milliseconds with a fake one. Moments are
shown in UTC only, by :func:`format_utc` (messages) and :func:`iso_utc` (reports).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
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


def format_utc(epoch: float) -> str:
    """
    Return a moment as short UTC text for messages ("2026-11-08 12:00 UTC").

    :param epoch: Epoch seconds.
    """
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def iso_utc(epoch: float) -> str:
    """
    Return a moment as ISO 8601 UTC text for reports ("2026-11-08T12:00:00+00:00").

    :param epoch: Epoch seconds.
    """
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
