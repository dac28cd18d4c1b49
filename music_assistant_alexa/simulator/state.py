"""
What every part of the simulated Amazon shares: accounts, issued secrets, scenario and clock.

The sign-in flow, the token service and the Alexa web host each read and change this one object
and nothing else of each other, so none of them needs the server (or another service) to answer
a request. The server owns it and hands it to each service.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from .accounts import Ledger, SimAccount
from .scenarios import Scenario

if TYPE_CHECKING:
    from collections.abc import Callable

    from .browser_signals import SimPasskey

_LOGGER = logging.getLogger(__name__)
DEFAULT_CAPTCHA_ANSWER: Final = "KXMZPQ"


@dataclass(slots=True)
class SimulatorState:
    """
    The simulator's shared memory.

    :param clock: Returns epoch seconds; every time-based decision uses it plus ``clock_skew``.
    :param scenario: The global misbehaviour (an account's own scenario replaces it for that
        account).
    :param accounts: Accounts by the e-mail they were created with.
    :param ledger: Every code, token, cookie and csrf value handed out.
    :param violations: Protocol violations seen, in order (tests assert it stays empty).
    :param clock_skew: Seconds added to ``clock`` (a server clock that is off).
    :param captcha_answer: The characters every captcha picture shows.
    :param passkeys: The accounts' passkeys by credential id (the users' authenticators).
    """

    clock: Callable[[], float] = time.time
    scenario: Scenario = field(default_factory=Scenario)
    accounts: dict[str, SimAccount] = field(default_factory=dict)
    ledger: Ledger = field(default_factory=Ledger)
    violations: list[str] = field(default_factory=list)
    clock_skew: float = 0.0
    captcha_answer: str = DEFAULT_CAPTCHA_ANSWER
    passkeys: dict[str, SimPasskey] = field(default_factory=dict)

    def now(self) -> float:
        """
        Return simulator time: the clock plus the skew.

        :return: Epoch seconds.
        """
        return self.clock() + self.clock_skew

    def find_account(self, email: str) -> SimAccount | None:
        """
        Look up an account by e-mail, ignoring case.

        :param email: The e-mail address.
        :return: The account, or ``None``.
        """
        if email in self.accounts:
            return self.accounts[email]
        wanted = email.strip().lower()
        for account in self.accounts.values():
            if account.email.lower() == wanted:
                return account
        return None

    def account(self, email: str) -> SimAccount:
        """
        Look up an account that must exist.

        :param email: The e-mail address (any case).
        :return: The account.
        :raises KeyError: When there is none.
        """
        found = self.find_account(email)
        if found is None:
            raise KeyError(email)
        return found

    def scenario_for(self, account: SimAccount | None) -> Scenario:
        """
        Return the scenario that governs an account.

        :param account: The account, or ``None`` before one is known.
        :return: The account's own scenario when set, else the global one.
        """
        if account is not None and account.scenario is not None:
            return account.scenario
        return self.scenario

    def violation(self, message: str) -> None:
        """
        Record a protocol violation.

        :param message: What the client did wrong.
        """
        _LOGGER.warning("protocol violation: %s", message)
        self.violations.append(message)
