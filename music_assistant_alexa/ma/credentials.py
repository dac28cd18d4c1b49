"""
The user's Amazon credentials, checked before anything is sent, with the field at fault.

Every problem found here is the user's to fix and costs no request: an empty e-mail or password,
a 2FA key that is not an authenticator key (the message says exactly why), an unknown
marketplace. A sign-in in the user's own browser needs only the e-mail address (the session's
name, and the account the Alexa players are matched by) and the marketplace
(:func:`parse_account`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from music_assistant_alexa.auth.endpoints import normalise_marketplace
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    InvalidTwoFactorKeyError,
    MissingCredentialsError,
)
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key

from .constants import CONF_MARKETPLACE, CONF_TOTP_KEY


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    """Checked credentials of one Amazon account, ready for a sign-in (never log this)."""

    email: str = field(repr=False)
    password: str = field(repr=False)
    key: TotpKey = field(repr=False)
    marketplace: str


def parse_credentials(
    email: str, password: str | None, raw_key: str | None, marketplace: str | None
) -> AccountCredentials:
    """
    Check credentials before anything is sent: every problem here is the user's to fix.

    :param email: The e-mail address.
    :param password: The password.
    :param raw_key: The 2FA key as typed.
    :param marketplace: The marketplace as chosen.
    :raises MissingCredentialsError: E-mail or password is empty, or the marketplace unknown.
    :raises InvalidTwoFactorKeyError: The 2FA key is malformed (the message says how).
    """
    email = email.strip()
    if not email or not password:
        msg = "Enter the e-mail address and the password of your Amazon account."
        raise MissingCredentialsError(msg)
    key = parse_totp_key(raw_key)
    try:
        market = normalise_marketplace(marketplace)
    except ValueError as err:
        raise MissingCredentialsError(str(err)) from err
    return AccountCredentials(email, password, key, market)


@dataclass(frozen=True, slots=True)
class AccountName:
    """The account a sign-in in the browser is for: no password, no 2FA key (never log it)."""

    email: str = field(repr=False)
    marketplace: str


def parse_account(email: str, marketplace: str | None) -> AccountName:
    """
    Check what a sign-in in the browser needs before its link is made.

    :param email: The e-mail address.
    :param marketplace: The marketplace as chosen.
    :raises MissingCredentialsError: The e-mail address is empty, or the marketplace unknown.
    """
    email = email.strip()
    if not email:
        msg = (
            "Enter the e-mail address of your Amazon account: it names the session, and the "
            "Alexa players are matched by it."
        )
        raise MissingCredentialsError(msg)
    try:
        market = normalise_marketplace(marketplace)
    except ValueError as err:
        raise MissingCredentialsError(str(err)) from err
    return AccountName(email, market)


def field_at_fault(err: AlexaAuthError, email: str, password: str | None) -> str | None:
    """
    Return the form field an error of :func:`parse_credentials` is about (None: the form).

    :param err: The error.
    :param email: The e-mail address it checked.
    :param password: The password it checked.
    """
    if isinstance(err, InvalidTwoFactorKeyError):
        return CONF_TOTP_KEY
    if isinstance(err, MissingCredentialsError) and email.strip() and password:
        return CONF_MARKETPLACE  # e-mail and password are there: the marketplace is unknown
    return None
