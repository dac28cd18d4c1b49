"""
Errors of the auth core.

One root, :class:`AlexaAuthError`, and a short tree under it. Every error carries a plain message
for the user, Amazon's own text when Amazon showed one, and the guide section that fixes it. The
category tells callers what to do: bad input is refused before anything is stored or sent, an
error that needs the user stops all retrying, a temporary one is retried with back-off. The
sign-in policy is written on the classes too (:attr:`~AlexaAuthError.starts_backoff`,
:attr:`~AlexaAuthError.permanent_refusal`, :attr:`~AlexaAuthError.amazon_refusal`), and
:func:`error_class` maps a recorded code back to its class.

Messages are built from constants and non-secret values only: never pass a password, 2FA key,
token, cookie or e-mail address into one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from music_assistant_alexa.guide import GuideSlug, guide_link

from .clock import format_utc

if TYPE_CHECKING:
    from music_assistant_alexa.guide import GuideLinker


class ErrorCategory(StrEnum):
    """What a caller should do about an error."""

    BAD_INPUT = "bad_input"  # fix the input; nothing was sent or stored
    NEEDS_USER = "needs_user"  # stop retrying; the user must act (at Amazon or in the settings)
    TEMPORARY = "temporary"  # retry later with back-off


class AlexaAuthError(Exception):
    """Root of every error the auth core raises."""

    category: ClassVar[ErrorCategory] = ErrorCategory.NEEDS_USER
    guide_slug: ClassVar[GuideSlug] = GuideSlug.COMPLETE_REAUTH
    #: Short, stable identifier for logs, events and diagnostics.
    code: ClassVar[str] = "auth_error"
    #: A sign-in that ends in this error pauses the next ones (climbing the back-off ladder).
    starts_backoff: ClassVar[bool] = False
    #: Why such a pause exists, as a clause ("Amazon showed a captcha").
    pause_reason: ClassVar[str] = "Amazon asked us to slow down"
    #: Amazon answered the credentials themselves: automatic sign-ins do not resend the same ones
    #: for a while (see ``permanent_refusal``). False where Amazon was never asked.
    amazon_refusal: ClassVar[bool] = True
    #: The same credentials always get this answer again: automatic sign-ins never resend them.
    permanent_refusal: ClassVar[bool] = False
    #: Signing in once in the user's own browser gets past this obstacle (a passkey, a text
    #: message code, captchas, a robot wall all work there); see :func:`browser_sign_in_helps`.
    solved_in_browser: ClassVar[bool] = False

    def __init__(self, message: str, *, amazon_text: str | None = None) -> None:
        """
        Create the error.

        :param message: Plain sentence for the user (no secrets).
        :param amazon_text: The text Amazon showed, if any.
        """
        super().__init__(message)
        self.message = message
        self.amazon_text = amazon_text

    @property
    def needs_user(self) -> bool:
        """Return whether only the user can fix this (no automatic retry helps)."""
        return self.category is not ErrorCategory.TEMPORARY

    @property
    def refuses_credentials(self) -> bool:
        """Return whether Amazon refused the sign-in with these credentials (remembered)."""
        return self.category is ErrorCategory.NEEDS_USER and self.amazon_refusal

    @property
    def guide_url(self) -> str:
        """
        Return the default link to the guide section that fixes this error.

        See :func:`~music_assistant_alexa.guide.guide_link`; a presenter that knows its place
        renders :attr:`guide_slug` with its own linker instead.
        """
        return guide_link(self.guide_slug)

    def user_text(self, link: GuideLinker = guide_link) -> str:
        """
        Return the message, Amazon's text and the guide link, as one paragraph.

        :param link: Renders the guide link for the place the text is shown (default:
            :func:`~music_assistant_alexa.guide.guide_link`).
        """
        parts = [self.message]
        if self.amazon_text:
            parts.append(f'Amazon said: "{self.amazon_text}".')
        parts.append(f"How to fix it: {link(self.guide_slug)}")
        return " ".join(parts)

    def __str__(self) -> str:
        """Return the message together with Amazon's text."""
        if self.amazon_text:
            return f'{self.message} (Amazon said: "{self.amazon_text}")'
        return self.message


# --- bad input -------------------------------------------------------------------------------


class InvalidTwoFactorKeyError(AlexaAuthError):
    """The 2FA key typed into the settings is not an authenticator-app key."""

    category = ErrorCategory.BAD_INPUT
    guide_slug = GuideSlug.TWO_FACTOR_KEY
    code = "invalid_2fa_key"

    def __init__(self, message: str, *, problem: str) -> None:
        """
        Create the error.

        :param message: What exactly is wrong with the key (never the key itself).
        :param problem: Machine-readable reason, a :class:`~.totp.KeyProblem` value.
        """
        super().__init__(message)
        self.problem = problem


class MissingCredentialsError(AlexaAuthError):
    """E-mail, password or 2FA key is missing."""

    category = ErrorCategory.BAD_INPUT
    guide_slug = GuideSlug.CREDENTIALS
    code = "missing_credentials"


# --- temporary -------------------------------------------------------------------------------


class AmazonConnectionError(AlexaAuthError):
    """Amazon could not be reached, or the connection dropped."""

    category = ErrorCategory.TEMPORARY
    guide_slug = GuideSlug.AMAZON_UNREACHABLE
    code = "connection_error"


class AmazonTimeoutError(AmazonConnectionError):
    """Amazon did not answer in time."""

    code = "timeout"


class AmazonServerError(AlexaAuthError):
    """Amazon answered with a server error (5xx)."""

    category = ErrorCategory.TEMPORARY
    guide_slug = GuideSlug.AMAZON_UNREACHABLE
    code = "server_error"


class RateLimitedError(AmazonServerError):
    """Amazon asked us to slow down (429, or 503 "Rate exceeded")."""

    code = "rate_limited"

    def __init__(
        self, message: str, *, amazon_text: str | None = None, retry_after: float | None = None
    ) -> None:
        """
        Create the error.

        :param message: Plain sentence for the user.
        :param amazon_text: Amazon's text, if any.
        :param retry_after: Seconds Amazon asked us to wait, if it said.
        """
        super().__init__(message, amazon_text=amazon_text)
        self.retry_after = retry_after


class UnexpectedResponseError(AlexaAuthError):
    """Amazon answered with something we cannot read (truncated or malformed JSON, ...)."""

    category = ErrorCategory.TEMPORARY
    guide_slug = GuideSlug.AMAZON_UNREACHABLE
    code = "unexpected_response"


class PageTooLargeError(UnexpectedResponseError):
    """A page was beyond what the sign-in reads safely (size or number of tags); not read."""

    code = "page_too_large"


class InternalError(AlexaAuthError):
    """
    Something failed that no error of ours describes: a bug, or an answer nothing anticipated.

    Treated as temporary: the refresh task retries with back-off instead of stopping silently,
    and the command line prints one plain line instead of a traceback.
    """

    category = ErrorCategory.TEMPORARY
    guide_slug = GuideSlug.AMAZON_UNREACHABLE
    code = "internal_error"

    @classmethod
    def wrapping(cls, err: BaseException) -> InternalError:
        """
        Return the error that stands for an unexpected exception.

        Only the exception's type is named: its text may quote a value (a token, a cookie).

        :param err: The unexpected exception.
        """
        return cls(
            f"Something unexpected went wrong ({type(err).__name__}); it is retried like a "
            "temporary failure. If it keeps happening, please report it with the diagnostics."
        )


# --- needs the user ---------------------------------------------------------------------------


class InvalidCredentialsError(AlexaAuthError):
    """Amazon rejected the password."""

    guide_slug = GuideSlug.CREDENTIALS
    code = "invalid_password"
    permanent_refusal = True


class AccountNotFoundError(AlexaAuthError):
    """Amazon knows no account with this e-mail address (on this marketplace)."""

    guide_slug = GuideSlug.CREDENTIALS
    code = "account_not_found"
    permanent_refusal = True


class OtpRejectedError(AlexaAuthError):
    """Amazon rejected the one-time code made from the 2FA key."""

    guide_slug = GuideSlug.CLOCK_DRIFT
    code = "otp_rejected"


class TwoFactorMethodError(AlexaAuthError):
    """The account's 2-step verification does not use an authenticator app first."""

    guide_slug = GuideSlug.TWO_FACTOR
    code = "2fa_method"
    solved_in_browser = True


class PasskeyRequiredError(AlexaAuthError):
    """Amazon insists on a passkey for this sign-in."""

    guide_slug = GuideSlug.PASSKEY
    code = "passkey_required"
    solved_in_browser = True


class CaptchaRequiredError(AlexaAuthError):
    """Amazon wants a picture puzzle solved before it goes on."""

    guide_slug = GuideSlug.CAPTCHA
    code = "captcha_required"
    starts_backoff = True
    solved_in_browser = True
    pause_reason = "Amazon showed a captcha"

    def __init__(
        self, message: str, *, amazon_text: str | None = None, captcha_url: str | None = None
    ) -> None:
        """
        Create the error.

        :param message: Plain sentence for the user.
        :param amazon_text: Amazon's text, if any.
        :param captcha_url: The picture to solve, when the user can answer it here.
        """
        super().__init__(message, amazon_text=amazon_text)
        self.captcha_url = captcha_url


class ApprovalRequiredError(AlexaAuthError):
    """Amazon sent an approval request or a code to the user's phone or e-mail."""

    guide_slug = GuideSlug.APPROVAL
    code = "approval_required"


class BotChallengeError(AlexaAuthError):
    """Amazon put a JavaScript/bot check in front of the sign-in."""

    guide_slug = GuideSlug.HEADLESS
    code = "bot_challenge"
    starts_backoff = True
    solved_in_browser = True
    pause_reason = "Amazon showed a robot check"


class AccountLockedError(AlexaAuthError):
    """Amazon locked the sign-in (too many attempts or unusual activity)."""

    guide_slug = GuideSlug.ACCOUNT_LOCKOUT
    code = "account_locked"
    starts_backoff = True
    pause_reason = "Amazon locked the sign-in"


class UnknownPageError(AlexaAuthError):
    """Amazon showed a page we do not recognise; retrying blindly could lock the account."""

    guide_slug = GuideSlug.UNEXPECTED_PAGE
    code = "unexpected_page"


class LoginBackoffError(AlexaAuthError):
    """Sign-in attempts are paused to protect the account from a lockout."""

    guide_slug = GuideSlug.ATTEMPT_LIMIT
    code = "login_paused"
    amazon_refusal = False  # nothing was sent

    def __init__(self, why: str, *, not_before: float, reason: str | None = None) -> None:
        """
        Create the error.

        :param why: What paused the sign-in, as a clause ("Amazon showed a captcha").
        :param not_before: Epoch seconds from which the next attempt is allowed.
        :param reason: The code of the error that started the pause, if an error did.
        """
        self.not_before = not_before
        self.reason = reason
        super().__init__(
            f"Sign-in paused because {why}; the next attempt is allowed from "
            f"{self.not_before_text}. Waiting protects your account from a lockout."
        )

    @property
    def not_before_text(self) -> str:
        """Return the time of the next allowed attempt, as UTC text."""
        return format_utc(self.not_before)


class SessionRevokedError(AlexaAuthError):
    """Amazon no longer accepts our device registration (refresh token revoked)."""

    guide_slug = GuideSlug.REAUTH_LOOP
    code = "session_revoked"


class NotSignedInError(AlexaAuthError):
    """There is no stored session to use: a sign-in is needed."""

    guide_slug = GuideSlug.COOKIE_REFRESH
    code = "not_signed_in"


class SessionExpiredError(AlexaAuthError):
    """Amazon rejected the stored cookies and they could not be renewed."""

    guide_slug = GuideSlug.COOKIE_REFRESH
    code = "session_expired"


class RegistrationError(AlexaAuthError):
    """Amazon refused to register our device."""

    guide_slug = GuideSlug.REAUTH_LOOP
    code = "registration_failed"


class StoreError(AlexaAuthError):
    """The session could not be written to (or read from) disk."""

    guide_slug = GuideSlug.SESSION_STORAGE
    code = "store_error"
    amazon_refusal = False  # our disk, not Amazon


class StoreBusyError(StoreError):
    """Another process kept the session folder locked for longer than we wait."""

    category = ErrorCategory.TEMPORARY
    code = "store_busy"


class StoreNotOursError(StoreError):
    """The folder given for the session holds other files: it is not ours to change."""

    category = ErrorCategory.BAD_INPUT
    code = "store_not_ours"


class NewerVersionError(StoreError):
    """A session file was written by a newer version; this one leaves it untouched."""

    code = "store_newer_version"


# --- the browser sign-in ------------------------------------------------------------------------


class BrowserSignInError(AlexaAuthError):
    """The sign-in in the user's own browser could not be finished."""

    guide_slug = GuideSlug.BROWSER_SIGN_IN
    code = "browser_sign_in_failed"
    amazon_refusal = False  # no credentials were sent


class BrowserAddressError(BrowserSignInError):
    """What was pasted is not the address of the final page of a sign-in (nothing was sent)."""

    category = ErrorCategory.BAD_INPUT
    code = "browser_address_invalid"

    def __init__(self, message: str, *, problem: str) -> None:
        """
        Create the error.

        :param message: What exactly is wrong with what was pasted (never the code itself).
        :param problem: Machine-readable reason, a :class:`~.browser_sign_in.AddressProblem`.
        """
        super().__init__(message)
        self.problem = problem


class BrowserAddressUsedError(BrowserSignInError):
    """The pasted address was already used to sign in: each works once (nothing was sent)."""

    category = ErrorCategory.BAD_INPUT
    code = "browser_address_used"


class BrowserAttemptMismatchError(BrowserSignInError):
    """The pasted address belongs to another sign-in than the link shown (nothing was sent)."""

    category = ErrorCategory.BAD_INPUT
    code = "browser_address_other_sign_in"


class BrowserSignInExpiredError(BrowserSignInError):
    """The browser sign-in's link has expired: a new link is needed (nothing was sent)."""

    code = "browser_sign_in_expired"


class NoBrowserSignInError(BrowserSignInExpiredError):
    """No browser sign-in is waiting for its address (none started, or it finished)."""

    code = "browser_sign_in_missing"


class BrowserCodeRefusedError(BrowserSignInError):
    """Amazon refused the code of the pasted address: too old, used, or of another link."""

    code = "browser_code_refused"


def browser_sign_in_helps(err: AlexaAuthError) -> bool:
    """
    Return whether signing in once in the user's own browser gets past an error.

    True for the obstacles of the automatic sign-in that a browser handles (a passkey, a 2-step
    method other than the authenticator app, captchas, a robot wall), and for a pause that one
    of them started: the browser sign-in sends no password, so no pause applies to it.

    :param err: An error of the automatic sign-in.
    """
    if isinstance(err, LoginBackoffError):
        cause = error_class(err.reason)
        return cause is not None and cause.solved_in_browser
    return err.solved_in_browser


def error_class(code: str | None) -> type[AlexaAuthError] | None:
    """
    Return the error class of a recorded code (history, attempt record), if the code is known.

    :param code: An :attr:`AlexaAuthError.code`.
    """
    pending = [AlexaAuthError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return None
