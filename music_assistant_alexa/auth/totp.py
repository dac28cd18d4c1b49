"""
The authenticator-app key (2FA key): normalise, validate, and make codes.

Amazon shows the key as 52 base32 characters in groups of four. Users paste it with spaces,
dashes or in lower case, paste a 6-digit code from their app instead, or type the look-alike
digits 0, 1, 8 and 9, which base32 does not have. Each of those gets its own message, which
never repeats the key itself.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import pyotp

from .errors import InvalidTwoFactorKeyError

if TYPE_CHECKING:
    from .clock import Clock

KEY_LENGTH: Final = 52
TOTP_PERIOD: Final = 30
#: A code with less than this many seconds left may expire on its way to Amazon.
MIN_SECONDS_LEFT: Final = 3.0

_BASE32_ALPHABET: Final = frozenset(string.ascii_uppercase + "234567")
_SEPARATORS: Final = re.compile(r"[\s\-_.]+")
_LOOKALIKE_DIGITS: Final = "0189"


class KeyProblem(StrEnum):
    """Why a pasted 2FA key was refused."""

    EMPTY = "empty"
    ONE_TIME_CODE = "one_time_code"
    LOOKALIKE_DIGITS = "lookalike_digits"
    INVALID_CHARACTERS = "invalid_characters"
    WRONG_LENGTH = "wrong_length"


@dataclass(frozen=True, slots=True)
class TotpKey:
    """A validated authenticator-app key."""

    secret: str = field(repr=False)

    def code_at(self, when: float) -> str:
        """
        Return the 6-digit code for a moment.

        :param when: Epoch seconds.
        """
        return pyotp.TOTP(self.secret).at(int(when))

    @staticmethod
    def seconds_left(when: float) -> float:
        """
        Return how long the code of a moment stays valid.

        :param when: Epoch seconds.
        """
        return TOTP_PERIOD - (when % TOTP_PERIOD)

    async def fresh_code(self, clock: Clock, *, offset: float = 0.0) -> str:
        """
        Return a code made just now, waiting for the next window when this one is nearly over.

        :param clock: The clock to read and sleep on.
        :param offset: Seconds to add to the local time (Amazon's clock minus ours), so a
            drifting server clock does not make Amazon reject the code.
        """
        now = clock.time() + offset
        left = self.seconds_left(now)
        if left < MIN_SECONDS_LEFT:
            await clock.sleep(left + 0.05)
            now = clock.time() + offset
        return self.code_at(now)


def normalise_key(raw: str) -> str:
    """
    Return the key without spaces, dashes and the like, in upper case, without base32 padding.

    Some apps and password managers show the key with the ``=`` padding of base32 (four of them
    after Amazon's 52 characters); it carries no data.

    :param raw: The key as typed or pasted.
    """
    return _SEPARATORS.sub("", raw).upper().rstrip("=")


def parse_totp_key(raw: str | None) -> TotpKey:
    """
    Validate a pasted 2FA key and return it, or raise an error that says exactly what is wrong.

    :param raw: The key as typed or pasted.
    :raises InvalidTwoFactorKeyError: The key cannot be an authenticator-app key.
    """
    key = normalise_key(raw or "")
    if not key:
        msg = (
            "The 2FA key is empty. Paste the 52-character key Amazon shows when you add an "
            'authenticator app (under "Can\'t scan the barcode?").'
        )
        raise InvalidTwoFactorKeyError(msg, problem=KeyProblem.EMPTY)
    if key.isdigit() and len(key) in (6, 8):
        msg = (
            f"This is a {len(key)}-digit one-time code, not the 2FA key. The key is the "
            f"{KEY_LENGTH}-character text Amazon shows once when you add an authenticator app "
            '(under "Can\'t scan the barcode?"); the code changes every 30 seconds and cannot '
            "be used here."
        )
        raise InvalidTwoFactorKeyError(msg, problem=KeyProblem.ONE_TIME_CODE)
    bad = set(key) - _BASE32_ALPHABET
    if bad:
        if bad <= set(_LOOKALIKE_DIGITS):
            digits = ", ".join(sorted(bad))
            msg = (
                f"The 2FA key contains the digit(s) {digits}, which never appear in an "
                "authenticator key (it uses only the letters A-Z and the digits 2-7). "
                "Check for O/0, I/1, B/8 or g/9 mix-ups, or copy the key again from Amazon."
            )
            raise InvalidTwoFactorKeyError(msg, problem=KeyProblem.LOOKALIKE_DIGITS)
        msg = (
            "The 2FA key contains characters that never appear in an authenticator key "
            "(it uses only the letters A-Z and the digits 2-7). Copy the key again from Amazon."
        )
        raise InvalidTwoFactorKeyError(msg, problem=KeyProblem.INVALID_CHARACTERS)
    if len(key) != KEY_LENGTH:
        msg = (
            f"The 2FA key has {len(key)} characters; Amazon's authenticator key has "
            f"{KEY_LENGTH}. Copy the whole key again (spaces do not matter)."
        )
        raise InvalidTwoFactorKeyError(msg, problem=KeyProblem.WRONG_LENGTH)
    # 52 characters of the base32 alphabet always decode: no trial code is needed.
    return TotpKey(key)
