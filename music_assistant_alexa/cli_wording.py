"""
The command line's words for what the auth core and the health checks say.

The auth core words its messages for a settings page ("check it in the settings", "sign in
from the settings"), and Music Assistant shows them as they are. A terminal has no settings:
there the input is ``--email``, ``--domain`` and the environment, and the fix is a command. This
module rewords exactly those clauses, from the same errors, checks and records, and leaves
everything else (Amazon's words, the facts, the guide section) as it is. Only the command line
imports it.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from music_assistant_alexa.diagnostics import CheckKey

if TYPE_CHECKING:
    from collections.abc import Sequence

    from music_assistant_alexa.auth.account_marketplace import MarketplaceMismatch
    from music_assistant_alexa.auth.session import SessionStatus
    from music_assistant_alexa.diagnostics import HealthCheck

PROGRAM: Final = "music-assistant-alexa"


@dataclass(frozen=True, slots=True)
class CommandLine:
    """How the user called this program: what a fix's command must repeat to reach the folder."""

    #: The global options that chose the folder and Amazon (``--store``, ``--endpoint``).
    options: Sequence[str] = ()

    def command(self, *words: str) -> str:
        """
        Return a command line the user can paste: the program, the options, the words.

        :param words: The sub-command and its arguments.
        """
        return shlex.join([PROGRAM, *self.options, *words])

    def sign_in(self) -> str:
        """Return the sign-in command, with a placeholder for the e-mail address."""
        return f"{self.command('login', '--email')} EMAIL"

    def rewrite(self, text: str) -> str:
        """
        Return a message with the settings page's clauses said for the terminal.

        :param text: A message of the auth core or of a health check.
        """
        for settings, terminal in self._phrases():
            text = text.replace(settings, terminal)
        return text

    def mismatch(self, mismatch: MarketplaceMismatch) -> str:
        """
        Return a marketplace mismatch with the command that moves the session.

        :param mismatch: What Amazon says against the session's marketplace.
        """
        target = mismatch.account_marketplace
        if target is not None:
            fix = (
                "Move the session there (same device, no password): "
                f"{self.command('switch-marketplace', target)}"
            )
        else:
            fix = (
                "Move the session to the one your Echo devices are registered with: "
                f"{self.command('switch-marketplace', 'DOMAIN')} (`{self.command('doctor')}` "
                "asks Amazon for its name)."
            )
        return f"{mismatch.statement} {fix}"

    def check(self, check: HealthCheck, status: SessionStatus) -> HealthCheck:
        """
        Return a health check worded for the terminal.

        :param check: The check as the diagnostics word it.
        :param status: The session's snapshot (the marketplace check's fix comes from it).
        """
        mismatch = status.marketplace_mismatch
        if check.key == CheckKey.MARKETPLACE and mismatch is not None:
            message = check.message.replace(mismatch.message, self.mismatch(mismatch))
        else:
            message = self.rewrite(check.message)
        return dataclasses.replace(check, message=message)

    def _phrases(self) -> tuple[tuple[str, str], ...]:
        """Return (settings page clause, terminal clause) pairs, longest clauses first."""
        login = self.command("login")
        sign_in = self.sign_in()
        switch = self.command("switch-marketplace", "DOMAIN")
        return (
            (
                (
                    "Check it in the settings (and that the marketplace is the one your account "
                    "belongs to)."
                ),
                (
                    "Check it (AMAZON_PASSWORD, or what you typed), and that the marketplace "
                    "(--domain) is the one your account belongs to."
                ),
            ),
            (
                "Check the address and the marketplace in the settings.",
                "Check the address (--email) and the marketplace (--domain).",
            ),
            (
                "Check the password in the settings, then sign in again and type the characters.",
                (
                    f"Check the password, then run `{login}` again in a terminal and type the "
                    "characters."
                ),
            ),
            (
                "Check the password in the settings and sign in again.",
                (
                    "Check the password (AMAZON_PASSWORD, or what you typed), then run "
                    f"`{login}` again."
                ),
            ),
            ("Check them and sign in from the settings.", f"Check them, then run `{login}` again."),
            (
                "Not signed in to Amazon yet: sign in from the settings.",
                f"Not signed in to Amazon yet: run `{sign_in}`.",
            ),
            ("Sign in from the settings.", f"Sign in with `{sign_in}`."),
            (
                "solve it in the settings to finish the sign-in.",
                f"run `{login}` again in a terminal to solve it.",
            ),
            (
                "Choose the marketplace your account belongs to and sign in again.",
                f"Move the session to the marketplace your account belongs to: {switch}.",
            ),
        )
