"""
The command line words the settings page's clauses for a terminal, and only those.

Invariants protected here: every clause of the auth core and the health checks that sends the
user to "the settings" has a terminal wording (found by reading the source, so a new message
cannot slip through); the marketplace fix is the exact command with the folder's options,
quoted for a shell; Music Assistant's own wording of the same errors is untouched.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path
from typing import Final

import pytest

from music_assistant_alexa.auth.account_marketplace import MarketplaceMismatch
from music_assistant_alexa.auth.errors import InvalidCredentialsError
from music_assistant_alexa.auth.session import SessionStatus
from music_assistant_alexa.cli_wording import CommandLine
from music_assistant_alexa.diagnostics import CheckKey, CheckStatus, HealthCheck
from music_assistant_alexa.guide import GuideSlug

PACKAGE: Final = Path(__file__).resolve().parent.parent / "music_assistant_alexa"
#: Where the messages a terminal shows are written.
SOURCES: Final = (
    *sorted((PACKAGE / "auth").rglob("*.py")),
    *(PACKAGE / "diagnostics").glob("*.py"),
)
#: Modules whose settings clause sits in an f-string the command line words whole (tested below).
WORDED_WHOLE: Final = frozenset({"account_marketplace.py"})
#: The settings page's clauses (sending the user to the settings).
SETTINGS_CLAUSES: Final = ("in the settings", "from the settings")


def message_texts(path: Path) -> list[str]:
    """Return the string literals of a module that are not docstrings (f-strings: their text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def settings_messages() -> list[tuple[str, str]]:
    """Return (module, text) of every literal that sends the user to the settings."""
    return [
        (path.name, text)
        for path in SOURCES
        if path.name not in WORDED_WHOLE
        for text in message_texts(path)
        if any(clause in text for clause in SETTINGS_CLAUSES)
    ]


def test_the_source_scan_finds_the_messages() -> None:
    """The scan sees the known clauses (a scan that finds nothing would prove nothing)."""
    found = {text for _, text in settings_messages()}
    assert "Not signed in to Amazon yet: sign in from the settings." in found
    assert len(found) >= 6


@pytest.mark.parametrize(("module", "text"), settings_messages())
def test_every_settings_clause_has_terminal_words(module: str, text: str) -> None:
    """No message the command line prints sends the user to settings it does not have."""
    line = CommandLine(["--store", "/srv/alexa"])
    worded = line.rewrite(text)
    assert not any(clause in worded for clause in SETTINGS_CLAUSES), (module, worded)


@pytest.mark.parametrize(
    "mismatch",
    [
        MarketplaceMismatch("amazon.com", account_marketplace="amazon.de"),
        MarketplaceMismatch("amazon.com", home_region="EU"),
    ],
)
def test_the_marketplace_fix_is_a_command(mismatch: MarketplaceMismatch) -> None:
    """The check's settings fix becomes the command, with the folder's options, shell-quoted."""
    line = CommandLine(["--store", "/home/jo/alexa session"])
    status = SessionStatus(signed_in=True, marketplace="amazon.com", marketplace_mismatch=mismatch)
    check = HealthCheck(
        str(CheckKey.MARKETPLACE), CheckStatus.WARNING, mismatch.message, GuideSlug.CREDENTIALS
    )
    worded = line.check(check, status)
    assert "settings" not in worded.message
    assert worded.message.startswith(mismatch.statement)
    target = mismatch.account_marketplace or "DOMAIN"
    command = f"music-assistant-alexa --store '/home/jo/alexa session' switch-marketplace {target}"
    assert command in worded.message
    assert shlex.split(command)[2] == "/home/jo/alexa session"
    assert (worded.key, worded.status, worded.guide_slug) == (
        check.key,
        check.status,
        check.guide_slug,
    )


def test_music_assistant_keeps_its_words() -> None:
    """The error itself (what Music Assistant shows) still points at the settings."""
    err = InvalidCredentialsError(
        "Amazon says the password is wrong. Check it in the settings (and that the marketplace "
        "is the one your account belongs to)."
    )
    assert "Check it in the settings" in err.user_text()
    worded = CommandLine().rewrite(err.message)
    assert "AMAZON_PASSWORD" in worded
    assert "(--domain)" in worded
