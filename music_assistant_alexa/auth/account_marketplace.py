"""
Which marketplace an Amazon account belongs to, and whether the session is on it.

Amazon signs nearly every account in through amazon.com (its global sign-in), so a sign-in that
succeeds says nothing about the marketplace: an amazon.de account signs in on amazon.com just as
well, and the Alexa web API then answers for amazon.com (no Echo devices, the wrong language).
Amazon says where the account belongs in two ways:

- the registration answer's ``customer_info.home_region`` (``NA``, ``EU`` or ``FE``): free with
  every sign-in, but only a region: amazon.co.uk and amazon.de are both ``EU``;
- ``/api/users/me``'s ``marketPlaceDomainName`` (``https://www.amazon.de``): the marketplace
  itself, for one request.

The rule (:func:`judge`): the marketplace Amazon names wins; a region counts only when it cannot
be the configured marketplace's (amazon.in is believed in ``FE`` and in ``EU``); a marketplace this
app does not sign in to (amazon.nl) is no evidence, and no evidence is no alarm. A sign-in asks
``/api/users/me`` only when the region already disagrees (:func:`needs_lookup`), to name the
marketplace in the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .endpoints import MARKETPLACES, REGION_NAMES, region_marketplaces

if TYPE_CHECKING:
    from .endpoints import Marketplace


@dataclass(frozen=True, slots=True)
class MarketplaceMismatch:
    """Amazon says the account belongs elsewhere than the marketplace the session is on."""

    #: The marketplace the session is on ("amazon.com").
    configured: str
    #: The marketplace Amazon names for the account, when it named one this app supports.
    account_marketplace: str | None = None
    #: The account's home region, when only the region is known to disagree ("EU").
    home_region: str | None = None

    @property
    def statement(self) -> str:
        """Return what is wrong, in one sentence (no fix: each place words its own)."""
        configured = self.configured
        consequence = (
            f"on {configured}, Alexa answers for the wrong site (your Echo devices may be missing)."
        )
        if self.account_marketplace is not None:
            return (
                f"Amazon says this account belongs to {self.account_marketplace}, not "
                f"{configured}: {consequence}"
            )
        region = self.home_region or ""
        markets = ", ".join(region_marketplaces(region))
        return (
            f"Amazon says this account belongs to its {REGION_NAMES.get(region, region)} "
            f"marketplaces ({markets}), not to {configured}: {consequence}"
        )

    @property
    def settings_fix(self) -> str:
        """Return the fix, worded for a settings page (the marketplace is one of its fields)."""
        if self.account_marketplace is not None:
            return (
                f"Choose {self.account_marketplace} as the marketplace in the settings and sign "
                "in again."
            )
        return (
            "Choose the one your Echo devices are registered with as the marketplace in the "
            "settings and sign in again."
        )

    @property
    def message(self) -> str:
        """Return the statement and the settings' fix."""
        return f"{self.statement} {self.settings_fix}"


def judge(configured: str, home_region: str, reported: str) -> MarketplaceMismatch | None:
    """
    Return the mismatch between the session's marketplace and what Amazon says, if there is one.

    :param configured: The marketplace the session is on ("amazon.com").
    :param home_region: ``customer_info.home_region`` of the registration ("" unknown).
    :param reported: The site ``/api/users/me`` named ("amazon.de"; "" unknown).
    """
    if reported in MARKETPLACES:
        if reported == configured:
            return None
        return MarketplaceMismatch(configured, account_marketplace=reported)
    market = MARKETPLACES.get(configured)
    if market is not None and _region_disagrees(market, home_region):
        return MarketplaceMismatch(configured, home_region=home_region)
    return None


def needs_lookup(market: Marketplace, home_region: str) -> bool:
    """
    Return whether a sign-in should ask ``/api/users/me`` which marketplace the account is on.

    Only when the registration's home region cannot be the marketplace's: then the account is on
    another marketplace, and only that answer can name it.

    :param market: The marketplace the sign-in is for.
    :param home_region: ``customer_info.home_region`` of the registration.
    """
    return _region_disagrees(market, home_region)


def _region_disagrees(market: Marketplace, home_region: str) -> bool:
    return home_region in REGION_NAMES and home_region not in market.home_regions
