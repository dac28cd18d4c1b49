"""
Amazon usernames (an e-mail address or a phone number): comparing them and masking them.

Amazon ignores the case of a username, so two spellings can name one account. Wherever a
username is shown outside the settings (status lines, diagnostics, file names in a report) it is
masked, so that a shared report does not name the household.
"""

from __future__ import annotations


def same_username(first: str, second: str) -> bool:
    """
    Return whether two usernames name the same account (Amazon ignores the case).

    :param first: A username.
    :param second: Another username.
    """
    return first.strip().casefold() == second.strip().casefold()


def mask_username(username: str) -> str:
    """
    Return a username that may be shown anywhere ("h***@example.com", "+4***").

    :param username: E-mail address or phone number.
    """
    name, at, domain = username.strip().partition("@")
    if at:
        return f"{name[:1]}***@{domain}"
    return f"{username.strip()[:2]}***"
