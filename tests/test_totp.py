"""
The 2FA key is validated before anything is sent, and codes are made at the right moment.

A pasted key may carry spaces, dashes or lower case; a 6-digit code, the look-alike digits
0/1/8/9 (the user's guide's own example key has them) or a wrong length are each refused with a
message that says exactly what is wrong and never repeats the key.
"""

from __future__ import annotations

import pyotp
import pytest

from music_assistant_alexa.auth.errors import ErrorCategory, InvalidTwoFactorKeyError
from music_assistant_alexa.auth.totp import KeyProblem, TotpKey, normalise_key, parse_totp_key
from music_assistant_alexa.guide import GuideSlug

from .helpers import TEST_KEY, FakeClock

GUIDE_EXAMPLE_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567890ABCDEFGHIJKLMNO"


def grouped(key: str, sep: str = " ") -> str:
    """Return a key in groups of four, the way Amazon shows it."""
    return sep.join(key[i : i + 4] for i in range(0, len(key), 4))


@pytest.mark.parametrize(
    "pasted",
    [
        TEST_KEY,
        grouped(TEST_KEY),
        grouped(TEST_KEY).lower(),
        grouped(TEST_KEY, "-"),
        f" {TEST_KEY}\n",
    ],
)
def test_accepts_amazon_key_however_pasted(pasted: str) -> None:
    """Spaces, dashes, case and surrounding white space do not matter."""
    key = parse_totp_key(pasted)
    assert key.secret == TEST_KEY
    assert key.code_at(1_000_000) == pyotp.TOTP(TEST_KEY).at(1_000_000)


@pytest.mark.parametrize(
    ("pasted", "problem", "phrase"),
    [
        ("", KeyProblem.EMPTY, "empty"),
        ("   ", KeyProblem.EMPTY, "empty"),
        (None, KeyProblem.EMPTY, "empty"),
        ("123456", KeyProblem.ONE_TIME_CODE, "one-time code, not the 2FA key"),
        ("123 456", KeyProblem.ONE_TIME_CODE, "one-time code, not the 2FA key"),
        (GUIDE_EXAMPLE_KEY, KeyProblem.LOOKALIKE_DIGITS, "0, 8, 9"),
        (TEST_KEY[:-1] + "1", KeyProblem.LOOKALIKE_DIGITS, "digit(s) 1"),
        (TEST_KEY[:-1] + "!", KeyProblem.INVALID_CHARACTERS, "A-Z and the digits 2-7"),
        (TEST_KEY[:32], KeyProblem.WRONG_LENGTH, "has 32 characters"),
        (TEST_KEY + "ABCD", KeyProblem.WRONG_LENGTH, "has 56 characters"),
    ],
)
def test_refuses_bad_keys_saying_why(pasted: str | None, problem: KeyProblem, phrase: str) -> None:
    """Each kind of bad paste gets its own message, category and guide section."""
    with pytest.raises(InvalidTwoFactorKeyError) as caught:
        parse_totp_key(pasted)
    err = caught.value
    assert err.problem == problem
    assert phrase in err.message
    assert err.category is ErrorCategory.BAD_INPUT
    assert err.guide_slug is GuideSlug.TWO_FACTOR_KEY
    if pasted and len(normalise_key(pasted)) > 8:
        assert normalise_key(pasted) not in str(err)
        assert normalise_key(pasted) not in err.user_text()


def test_key_repr_hides_secret() -> None:
    """A key in a log line or traceback shows nothing of the secret."""
    assert TEST_KEY not in repr(parse_totp_key(TEST_KEY))


async def test_fresh_code_uses_current_window() -> None:
    """With plenty of time left in the window, the code of now is used without waiting."""
    clock = FakeClock(start=1_800_000_000.0)  # 0 s into a 30 s window
    code = await TotpKey(TEST_KEY).fresh_code(clock)
    assert code == pyotp.TOTP(TEST_KEY).at(1_800_000_000)
    assert clock.sleeps == []


async def test_fresh_code_waits_for_next_window_when_nearly_expired() -> None:
    """With under 3 s left, it waits for the next window instead of sending a dying code."""
    clock = FakeClock(start=1_800_000_028.5)  # 1.5 s left
    code = await TotpKey(TEST_KEY).fresh_code(clock)
    assert clock.sleeps
    assert 1.5 <= clock.sleeps[0] < 2
    assert code == pyotp.TOTP(TEST_KEY).at(1_800_000_030)
    assert code != pyotp.TOTP(TEST_KEY).at(1_800_000_028)


async def test_fresh_code_follows_amazons_clock() -> None:
    """A measured offset to Amazon's clock moves the code to Amazon's time."""
    clock = FakeClock(start=1_800_000_005.0)
    code = await TotpKey(TEST_KEY).fresh_code(clock, offset=90)
    assert code == pyotp.TOTP(TEST_KEY).at(1_800_000_095)
