"""
What pasting Amazon's last address does, in both the settings form (2.9) and the setup flow.

Both show the link of a sign-in in the user's own browser (Amazon's sign-in page, for the
pending session's device), say what to copy, and take the pasted address; the auth core judges
it (:meth:`~music_assistant_alexa.auth.session.AuthSessionManager.finish_browser_sign_in`).
This module turns the outcome into what the user sees next, the same way for both:

- a wrong, foreign or reused paste (bad input) is said with its guide link, and the same link
  stays: nothing stored changed, the tab the user has open is still good;
- an expired link, a code Amazon refused, or a link nothing waits for any more (it finished)
  needs a new link: one is made at once, and the notice says so;
- anything else (Amazon unreachable, a disk problem) is said, and the link stays while its
  attempt can still be finished;
- success leaves the pending session signed in, exactly like the automatic sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    BrowserCodeRefusedError,
    BrowserSignInExpiredError,
    ErrorCategory,
)

from .notices import Notice

if TYPE_CHECKING:
    from music_assistant_alexa.auth.browser_sign_in import BrowserSignInLink
    from music_assistant_alexa.auth.session import AuthSessionManager
    from music_assistant_alexa.guide import GuideLinker

#: What the notice adds when it comes with a new link.
NEW_LINK: Final = "A new link is below: open it, sign in, and paste the address of its last page."


@dataclass(frozen=True, slots=True)
class PasteOutcome:
    """What a pasted address did: signed in, or the problem and the link to show next."""

    #: What went wrong; None when the sign-in finished.
    problem: Notice | None = None
    #: The link to show with the problem (the same one, or a new one).
    link: BrowserSignInLink | None = None


async def finish_with(
    manager: AuthSessionManager,
    pasted: str,
    link: BrowserSignInLink,
    *,
    email: str,
    linker: GuideLinker,
) -> PasteOutcome:
    """
    Finish a browser sign-in with what the user pasted; say what went wrong, with the next link.

    :param manager: The pending session's manager, whose attempt the link shows.
    :param pasted: The whole address of Amazon's last page (or the code alone).
    :param link: The link the user was shown.
    :param email: The account's e-mail address (for a new link).
    :param linker: Renders guide links.
    :raises AlexaAuthError: A new link was needed and could not be made (a disk problem).
    """
    try:
        await manager.finish_browser_sign_in(pasted, attempt_id=link.attempt_id)
    except AlexaAuthError as err:
        if err.category is ErrorCategory.BAD_INPUT:
            return PasteOutcome(Notice.from_error(err, linker), link)
        waiting = None
        if not isinstance(err, BrowserSignInExpiredError | BrowserCodeRefusedError):
            waiting = await manager.pending_browser_sign_in()
        if waiting is not None:
            return PasteOutcome(Notice.from_error(err, linker), waiting)
        fresh = await manager.start_browser_sign_in(email=email, renew=True)
        return PasteOutcome(Notice.from_error(err, linker, then=NEW_LINK), fresh)
    return PasteOutcome()


__all__ = ["NEW_LINK", "PasteOutcome", "finish_with"]
