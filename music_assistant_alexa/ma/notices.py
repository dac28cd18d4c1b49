"""
What the user reads: the outcome of a button, a sign-in or a check, and the errors raised to MA.

:meth:`Notice.from_error` is the one way an auth error becomes words in Music Assistant (a form
notice, a flow error, ``last_error``, ``LoginFailed``): the message, Amazon's own text and the
guide link (rendered for the place by the caller's linker, MA's web server inside MA), reworded
where MA's frontend would hide it.

The link stays a bare URL after "How to fix it:": MA's newer frontend renders alerts and
``last_error`` as Markdown, which turns a bare URL into a link that opens in a new tab, and
the plain-text renderers of older frontends still show an address the user can open.

Where a new sign-in in the user's own browser gets past the error (a passkey, codes by text
message, captchas that keep coming, a robot wall, a session only a new sign-in restores), the
notice says where to click for it (:func:`browser_offer`): the words depend on the place, so
the caller passes the place's phrase (``WAY_IN_FORM``, ``WAY_IN_FLOW``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from music_assistant_models import errors as ma_errors
from music_assistant_models.errors import LoginFailed

from music_assistant_alexa.auth.errors import (
    CaptchaRequiredError,
    NotSignedInError,
    RegistrationError,
    SessionExpiredError,
    SessionRevokedError,
    browser_sign_in_helps,
)
from music_assistant_alexa.guide import GuideSlug

from .constants import BROWSER_CHOICE_LABEL, BROWSER_LABEL, METHOD_FIELD_LABEL

if TYPE_CHECKING:
    from music_assistant_alexa.auth.errors import AlexaAuthError
    from music_assistant_alexa.guide import GuideLinker

#: Where to click for a sign-in in the browser, in the words of the place the notice is shown.
#: In 2.9's settings form itself:
WAY_IN_FORM: Final = f'press "{BROWSER_LABEL}" below'
#: On the first step of the setup flow (2.10+):
WAY_IN_FLOW: Final = f'choose "{BROWSER_CHOICE_LABEL}" under "{METHOD_FIELD_LABEL}" and press Next'
#: Anywhere else on 2.9 (``last_error``, the health section):
WAY_IN_SETTINGS: Final = (
    f'open this provider\'s settings, press "{BROWSER_LABEL}", follow the steps there and Save'
)
#: Anywhere else on 2.10+ (``last_error``, the options page):
WAY_BY_RECONFIGURE: Final = (
    f'press Reconfigure and choose "{BROWSER_CHOICE_LABEL}" under "{METHOD_FIELD_LABEL}"'
)
#: Errors that only a new sign-in fixes: the browser is one way to it.
_SIGN_IN_AGAIN: Final = (
    SessionRevokedError,
    SessionExpiredError,
    NotSignedInError,
    RegistrationError,
)
#: Guide sections that already lead on to the browser sign-in's section.
_LEAD_TO_BROWSER: Final = frozenset(
    {GuideSlug.PASSKEY, GuideSlug.TWO_FACTOR, GuideSlug.CAPTCHA, GuideSlug.HEADLESS}
)
#: Where a notice's guide link starts (every notice of an error ends with it).
_HOW_TO_FIX: Final = " How to fix it: "

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
    def from_error(
        cls,
        err: AlexaAuthError,
        link: GuideLinker,
        *,
        field: str | None = None,
        then: str | None = None,
    ) -> Notice:
        """
        Return the notice for an auth error: message, Amazon's words, guide link.

        :param err: The error.
        :param link: Renders the guide link for the place the notice is shown.
        :param field: The form field at fault, if one is.
        :param then: A sentence (or two) on what to do here, put before the guide link: the
            offer of a sign-in in the browser (:func:`browser_offer`), a new link shown.
        """
        text = err.user_text(link)
        if then:
            head, found, guide = text.rpartition(_HOW_TO_FIX)
            text = f"{head} {then}{found}{guide}" if found else f"{text} {then}"
        text = avoid_suppressed(text)
        return cls(text, ok=False, guide_url=link(err.guide_slug), field=field, error=err)

    @classmethod
    def problem(cls, text: str, guide_url: str) -> Notice:
        """
        Return a problem notice of our own words, ending with its guide link.

        :param text: What is wrong and what to do.
        :param guide_url: The guide section that helps.
        """
        return cls(f"{text} How to fix it: {guide_url}", ok=False, guide_url=guide_url)


def offers_browser(err: AlexaAuthError, *, after_answer: bool = False) -> bool:
    """
    Return whether a sign-in in the user's own browser gets past an error.

    The obstacles a browser handles (:func:`~music_assistant_alexa.auth.browser_sign_in_helps`)
    and the errors only a new sign-in fixes. A captcha the user can answer right where it is
    shown counts only once it came back after an answer.

    :param err: The error.
    :param after_answer: The error came right after the user answered a captcha.
    """
    if isinstance(err, CaptchaRequiredError) and err.captcha_url and not after_answer:
        return False
    return browser_sign_in_helps(err) or isinstance(err, _SIGN_IN_AGAIN)


def browser_offer(
    err: AlexaAuthError, way: str | None, link: GuideLinker, *, after_answer: bool = False
) -> str | None:
    """
    Return the sentence that offers a sign-in in the browser for an error, or None.

    :param err: The error.
    :param way: Where to click for it, in the place's words (``WAY_...``); None: not offered.
    :param link: Renders guide links.
    :param after_answer: The error came right after the user answered a captcha.
    """
    if way is None or not offers_browser(err, after_answer=after_answer):
        return None
    offer = f"To sign in in your browser (no password needed): {way}."
    if err.guide_slug in _LEAD_TO_BROWSER:
        return offer
    return f"{offer} How that works: {link(GuideSlug.BROWSER_SIGN_IN)}"


def avoid_suppressed(text: str) -> str:
    """
    Reword the phrases MA's frontend hides errors for (the message would otherwise vanish).

    :param text: A message for the user.
    """
    for pattern, replacement in _SUPPRESSED_PHRASES:
        text = pattern.sub(replacement, text)
    return text


class SignInNeeded(LoginFailed):
    """
    ``LoginFailed`` that keeps the provider's own message in every MA.

    ``LoginFailed`` exists in every supported MA and counts as "authentication required" on
    2.10+ (status ``auth_required``, with a Reconfigure button); unlike
    ``AuthenticationRequired`` it does not share its error code with MA's own API sign-in. On
    2.10+ it also carries the translation key ``login_failed``, and MA shows the translation of
    a key it knows instead of the message: the shared "Login failed. Please check your
    credentials" would replace ours (and its guide link). A key given to the constructor cannot
    clear the class's, so this subclass clears it.
    """

    # 2.9's models have no such attribute: nothing to clear there.
    translation_key = None  # type: ignore[assignment,unused-ignore]


# The models map each error code to *the* class of that code when a subclass is defined
# (``ERROR_MAP``, used to rebuild errors from their code); the code stays MA's own class's.
ma_errors.ERROR_MAP[LoginFailed.error_code] = LoginFailed


def ma_error(err: AlexaAuthError, link: GuideLinker, way: str | None = None) -> SignInNeeded:
    """
    Return the MA error to raise for an auth error that the user has to fix.

    :param err: The auth core's error.
    :param link: Renders the guide link for MA (its web server's guide).
    :param way: Where to click for a sign-in in the browser, when it would help.
    """
    return SignInNeeded(Notice.from_error(err, link, then=browser_offer(err, way, link)).text)
