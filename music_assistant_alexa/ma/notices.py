"""
What the user reads: the outcome of a button, a sign-in or a check, and the errors raised to MA.

:meth:`Notice.from_error` is the one way an auth error becomes words in Music Assistant (a form
notice, a flow error, ``last_error``, ``LoginFailed``): the message, Amazon's own text and the
guide link, reworded where MA's frontend would hide it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from music_assistant_models.errors import LoginFailed

if TYPE_CHECKING:
    from music_assistant_alexa.auth.errors import AlexaAuthError

#: Phrases whose presence makes MA's frontend swallow an error toast (frontend
#: ``plugins/api``): a message containing one would reach the user as nothing at all.
_SUPPRESSED_PHRASES: Final = (
    (re.compile(r"invalid credentials", re.IGNORECASE), "credentials Amazon did not accept"),
    (re.compile(r"invalid username", re.IGNORECASE), "unknown e-mail address"),
    (re.compile(r"invalid password", re.IGNORECASE), "password Amazon did not accept"),
    (re.compile(r"authentication failed", re.IGNORECASE), "sign-in did not succeed"),
    (re.compile(r"authentication required", re.IGNORECASE), "sign-in needed"),
    (re.compile(r"unauthori[sz]ed", re.IGNORECASE), "not allowed"),
)


@dataclass(frozen=True, slots=True)
class Notice:
    """A sentence for the user: good news, or a problem with the guide section that fixes it."""

    text: str
    ok: bool = True
    guide_url: str | None = None
    #: The form field at fault, for a setup flow's per-field errors (None: the whole form).
    field: str | None = None
    #: The error behind a problem notice, for callers that must act on it (not shown).
    error: AlexaAuthError | None = None

    @classmethod
    def from_error(cls, err: AlexaAuthError, *, field: str | None = None) -> Notice:
        """
        Return the notice for an auth error: message, Amazon's words, guide link.

        :param err: The error.
        :param field: The form field at fault, if one is.
        """
        text = avoid_suppressed(err.user_text())
        return cls(text, ok=False, guide_url=err.guide_url, field=field, error=err)

    @classmethod
    def problem(cls, text: str, guide_url: str) -> Notice:
        """
        Return a problem notice of our own words, ending with its guide link.

        :param text: What is wrong and what to do.
        :param guide_url: The guide section that helps.
        """
        return cls(f"{text} How to fix it: {guide_url}", ok=False, guide_url=guide_url)


def avoid_suppressed(text: str) -> str:
    """
    Reword the phrases MA's frontend hides errors for (the message would otherwise vanish).

    :param text: A message for the user.
    """
    for pattern, replacement in _SUPPRESSED_PHRASES:
        text = pattern.sub(replacement, text)
    return text


def ma_error(err: AlexaAuthError) -> LoginFailed:
    """
    Return the MA error to raise for an auth error that the user has to fix.

    ``LoginFailed`` exists in every supported MA, counts as "authentication required" on 2.10+
    (status ``auth_required``, with a Reconfigure button) and, unlike
    ``AuthenticationRequired``, does not share its error code with MA's own API sign-in.

    :param err: The auth core's error.
    """
    return LoginFailed(Notice.from_error(err).text)
