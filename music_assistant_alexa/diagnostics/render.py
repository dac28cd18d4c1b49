"""
Terminal lines for health checks: one line per check, a mark, the sentence, and the fix's link.

Problems carry the link to the guide section that fixes them; passing checks do not, so the
eye goes to what needs doing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .checks import CheckStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .checks import HealthCheck

MARKS: Final = {CheckStatus.OK: "✓", CheckStatus.WARNING: "⚠", CheckStatus.ERROR: "✗"}


def render_check(check: HealthCheck) -> str:
    """
    Return one check as a terminal line.

    :param check: The check.
    """
    line = f"{MARKS[check.status]} {check.message}"
    if check.status is not CheckStatus.OK and check.guide_url is not None:
        line = f"{line} — {check.guide_url}"
    return line


def render_checks(checks: Iterable[HealthCheck]) -> list[str]:
    """
    Return the checks as terminal lines ("✓ …", "⚠ … — <guide url>", "✗ … — <guide url>").

    :param checks: The checks, in the order to show them.
    """
    return [render_check(check) for check in checks]
