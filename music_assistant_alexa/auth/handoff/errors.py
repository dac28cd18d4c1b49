"""
Errors of the hand-off to Music Assistant's Alexa players.

Each carries the guide section that fixes it. Whatever the error, the alexa provider's current
file is left exactly as it was.
"""

from __future__ import annotations

from music_assistant_alexa.auth.errors import AlexaAuthError, ErrorCategory
from music_assistant_alexa.guide import GuideSlug


class HandoffError(AlexaAuthError):
    """The session could not be handed to Music Assistant's Alexa players."""

    guide_slug = GuideSlug.ALEXA_PLAYERS
    code = "handoff_failed"


class HandoffInputError(HandoffError):
    """The Music Assistant data folder or the username is unusable; nothing was written."""

    category = ErrorCategory.BAD_INPUT
    code = "handoff_bad_input"


class HandoffRejectedError(HandoffError):
    """Amazon did not accept the session's cookies in the new file; nothing was replaced."""

    guide_slug = GuideSlug.COOKIE_REFRESH
    code = "handoff_rejected"


class HandoffAccountError(HandoffError):
    """The session belongs to another Amazon account than the alexa provider's username."""

    category = ErrorCategory.BAD_INPUT
    code = "handoff_wrong_account"


class HandoffUnverifiedError(HandoffError):
    """Amazon could not be asked to confirm the new file; nothing was replaced."""

    category = ErrorCategory.TEMPORARY
    guide_slug = GuideSlug.AMAZON_UNREACHABLE
    code = "handoff_unverified"


class HandoffStorageError(HandoffError):
    """The file could not be written or read in Music Assistant's data folder."""

    code = "handoff_storage"
