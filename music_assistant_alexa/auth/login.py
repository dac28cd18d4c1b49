"""
The sign-in walk: Amazon's pages from the sign-in form to the authorization code.

Each answer goes through :func:`~.pages.classify_page`. Pages that move the sign-in on (e-mail,
password, one-time code, the choice of the authenticator app, a captcha the user has answered)
are filled in and submitted with every hidden field echoed back; every other page ends the walk
with the error that names it, so the user learns exactly what Amazon wants and nothing keeps
hammering Amazon. A captcha ends the walk *resumably*: the walk keeps its cookies and form, and
:meth:`SignInWalk.answer_captcha` continues the same sign-in.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from yarl import URL

from .errors import (
    AccountLockedError,
    AccountNotFoundError,
    AlexaAuthError,
    ApprovalRequiredError,
    BotChallengeError,
    CaptchaRequiredError,
    InvalidCredentialsError,
    OtpRejectedError,
    PasskeyRequiredError,
    TwoFactorMethodError,
    UnknownPageError,
)
from .pages import CaptchaKind, Page, PageKind, classify_page
from .registration import CODE_PARAMETER, init_cookies, sign_in_query

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .clock import Clock
    from .http import AmazonHttp, HttpResponse
    from .registration import DeviceIdentity, Pkce
    from .totp import TotpKey

_LOGGER = logging.getLogger(__name__)

#: More pages than any real sign-in shows; past it we stop rather than loop.
MAX_PAGES: Final = 10
#: Redirects followed between two pages.
MAX_REDIRECTS: Final = 5
#: Pages larger than this are parsed in a worker thread: parsing a big page takes longer than
#: Music Assistant's event loop should ever be blocked (about 10 ms).
THREAD_PARSE_BYTES: Final = 32_000
#: The way past what a browser handles and we cannot (see :mod:`.browser_sign_in`).
IN_YOUR_BROWSER: Final = "Or sign in once in your own browser instead"


@dataclass(slots=True)
class Credentials:
    """What the user typed: e-mail, password and the validated 2FA key."""

    email: str = field(repr=False)
    password: str = field(repr=False)
    key: TotpKey = field(repr=False)


@dataclass(slots=True)
class _WalkState:
    page: Page
    page_url: str
    otp_sent: bool = False
    password_sent: bool = False


class SignInWalk:
    """One sign-in, from the first page to the authorization code."""

    def __init__(  # noqa: PLR0913 - the walk needs each of these and nothing else
        self,
        http: AmazonHttp,
        credentials: Credentials,
        *,
        device: DeviceIdentity,
        pkce: Pkce,
        clock: Clock,
        before_password: Callable[[], Awaitable[None]],
    ) -> None:
        """
        Prepare the walk; nothing is sent yet.

        :param http: The account's HTTP client.
        :param credentials: E-mail, password and 2FA key.
        :param device: Our device identity (its serial is in the client id).
        :param pkce: The PKCE pair of this sign-in.
        :param clock: The clock the one-time code is made from.
        :param before_password: Called before every password submission; raises to stop it
            (the attempt budget).
        """
        self._http = http
        self._credentials = credentials
        self._device = device
        self._pkce = pkce
        self._clock = clock
        self._before_password = before_password
        self._state: _WalkState | None = None
        #: An answer to a captcha was sent in this walk (a new captcha then means a loop).
        self._captcha_answered = False
        #: The captcha picture waiting for the user's answer, if the walk stopped at one.
        self.captcha_url: str | None = None
        #: Whether Amazon asked for a one-time code (False: 2-step verification looks off).
        self.mfa_seen = False

    @property
    def captcha_answered(self) -> bool:
        """Return whether an answer to a captcha was sent in this walk."""
        return self._captcha_answered

    def __repr__(self) -> str:
        """Return a representation without credentials."""
        kind = self._state.page.kind if self._state else None
        return f"SignInWalk(page={kind!s}, captcha_pending={self.captcha_url is not None})"

    async def run(self) -> str:
        """
        Walk from the sign-in page to the authorization code.

        :returns: The authorization code.
        :raises AlexaAuthError: A page Amazon showed ends the sign-in (see :mod:`.errors`).
        """
        http = self._http
        hosts = http.hosts
        http.load_cookies(init_cookies(self._device, hosts))
        query = sign_in_query(self._device, self._pkce, hosts)
        # Amazon sometimes answers this GET with 404 while still rendering the form.
        resp = await http.request("GET", hosts.url(hosts.sign_in, "/ap/signin", query))
        return await self._walk(await self._arrive(resp))

    async def answer_captcha(self, answer: str) -> str:
        """
        Continue a walk that stopped at a captcha, with the user's answer.

        :param answer: The characters the user read in the picture.
        :returns: The authorization code.
        :raises AlexaAuthError: A page Amazon showed ends the sign-in.
        """
        state = self._state
        if state is None or state.page.kind is not PageKind.CAPTCHA or state.page.form is None:
            msg = "There is no captcha waiting for an answer; start the sign-in again."
            raise CaptchaRequiredError(msg)
        self.captcha_url = None
        self._captcha_answered = True
        page = state.page
        form = page.form
        assert form is not None  # noqa: S101 - checked above; narrows the type
        fields = dict(form.fields)
        if page.captcha_kind is CaptchaKind.CVF:
            fields["cvf_captcha_input"] = answer
            fields["cvf_captcha_captcha_action"] = "verifyCaptcha"
        elif page.captcha_kind is CaptchaKind.ROBOT_CHECK:
            fields["field-keywords"] = answer
        else:
            # The sign-in captcha sits in the sign-in form: it wants the password again.
            fields["guess"] = answer
            fields["use_image_captcha"] = "true"
            self._fill_credentials(page, fields)
        resp = await self._submit(state, fields)
        return await self._walk(await self._arrive(resp, previous=state))

    async def _walk(self, state: _WalkState) -> str:
        for _ in range(MAX_PAGES):
            page = state.page
            _LOGGER.debug("Sign-in page: %s", page.kind)
            if page.kind is PageKind.SUCCESS and page.authorization_code:
                return page.authorization_code
            fields = self._next_fields(state)
            resp = await self._submit(state, fields)
            state = await self._arrive(resp, previous=state)
        msg = "Amazon kept showing sign-in pages without finishing; stopped to protect the account."
        raise UnknownPageError(msg)

    def _next_fields(self, state: _WalkState) -> dict[str, str]:
        """Return what to submit on the current page, or raise the error the page means."""
        page = state.page
        if page.kind is PageKind.SIGN_IN and page.form is not None:
            self._raise_for_sign_in_error(state)
            fields = dict(page.form.fields)
            self._fill_credentials(page, fields)
            return fields
        if page.kind is PageKind.MFA and page.form is not None:
            if state.otp_sent and page.error_message:
                msg = (
                    "Amazon rejected the one-time code made from your 2FA key. Check that this "
                    "server's clock is right and that the key is the one of your authenticator "
                    "app."
                )
                raise OtpRejectedError(msg, amazon_text=page.error_message)
            return dict(page.form.fields)
        if page.kind is PageKind.OTP_METHOD_CHOICE and page.form is not None:
            return self._choose_authenticator(page)
        raise _error_for(page, self)

    def _raise_for_sign_in_error(self, state: _WalkState) -> None:
        page = state.page
        text = page.error_message
        lowered = (text or "").lower()
        if "password" in lowered and "incorrect" in lowered:
            msg = (
                "Amazon says the password is wrong. Check it in the settings (and that the "
                "marketplace is the one your account belongs to)."
            )
            raise InvalidCredentialsError(msg, amazon_text=text)
        if "cannot find an account" in lowered or "valid email" in lowered:
            msg = (
                "Amazon does not know this e-mail address. Check the address and the "
                "marketplace in the settings."
            )
            raise AccountNotFoundError(msg, amazon_text=text)
        if text or (state.password_sent and page.asks_for_password):
            msg = "Amazon did not accept the e-mail address and password."
            raise InvalidCredentialsError(msg, amazon_text=text)

    def _fill_credentials(self, page: Page, fields: dict[str, str]) -> None:
        if page.asks_for_email or "email" in fields:
            fields["email"] = self._credentials.email
        if page.asks_for_password:
            fields["password"] = self._credentials.password
        else:
            # The e-mail-first page carries an empty autofill field named "password".
            fields.pop("password", None)

    def _choose_authenticator(self, page: Page) -> dict[str, str]:
        app = next((d for d in page.otp_devices if d.method == "TOTP"), None)
        if page.error_message:
            # "You've requested too many OTPs today": choosing again would only repeat it.
            msg = (
                "Amazon refuses to send more one-time codes today. Make the authenticator app "
                "the preferred method in Amazon's 2-step verification settings, then try again "
                f"tomorrow. {IN_YOUR_BROWSER}, where your other methods work."
            )
            raise TwoFactorMethodError(msg, amazon_text=page.error_message)
        if app is None:
            methods = sorted({d.method for d in page.otp_devices} - {"UNKNOWN"})
            where = " or ".join(m.lower() for m in methods) or "a text message or call"
            msg = (
                f"Amazon wants to send a code by {where}, which cannot be automated. Add an "
                "authenticator app in Amazon's 2-step verification settings and make it the "
                f"preferred method. {IN_YOUR_BROWSER}, where the code reaches you."
            )
            raise TwoFactorMethodError(msg, amazon_text=page.error_message)
        assert page.form is not None  # noqa: S101 - only called for pages with a form
        fields = dict(page.form.fields)
        fields["otpDeviceContext"] = app.value
        return fields

    async def _submit(self, state: _WalkState, fields: dict[str, str]) -> HttpResponse:
        page = state.page
        assert page.form is not None  # noqa: S101 - the classifier gave us this page's form
        try:
            action = page.form.resolve_action(state.page_url)
        except (ValueError, TypeError) as err:
            msg = (
                "Amazon's page has a form without a usable address; stopped to protect the account."
            )
            raise UnknownPageError(msg) from err
        # Where the form goes is judged before anything is filled in or counted: the e-mail,
        # the password and the code go to the account's Amazon over https, or nowhere.
        self._http.check_url(action)
        if page.kind is PageKind.MFA:
            offset = self._http.clock_offset or 0.0
            fields["otpCode"] = await self._credentials.key.fresh_code(self._clock, offset=offset)
            fields["mfaSubmit"] = fields.get("mfaSubmit") or "Submit"
            fields["rememberDevice"] = "false"
            state.otp_sent = True
        if fields.get("password"):
            # Every form that carries the password (sign-in, sign-in captcha) spends the budget.
            await self._before_password()
            state.password_sent = True
        if page.form.method == "GET":  # the robot check
            return await self._http.request("GET", URL(action).update_query(fields))
        return await self._http.request("POST", action, data=fields)

    async def _arrive(self, resp: HttpResponse, previous: _WalkState | None = None) -> _WalkState:
        """Follow redirects to the next page (never into maplanding) and classify it."""
        for _ in range(MAX_REDIRECTS):
            location = resp.location if resp.is_redirect else None
            if location is None:
                break
            if CODE_PARAMETER in location:
                return self._remember(classify_page("", location), location, previous)
            resp = await self._http.request("GET", location)
        page = await _classify(resp.text, str(resp.url))
        state = self._remember(page, str(resp.url), previous)
        if page.kind is PageKind.CAPTCHA:
            self.captcha_url = page.captcha_url
        return state

    def _remember(self, page: Page, url: str, previous: _WalkState | None) -> _WalkState:
        state = _WalkState(page=page, page_url=url)
        if previous is not None:
            state.otp_sent = previous.otp_sent and page.kind is PageKind.MFA
            state.password_sent = previous.password_sent
        if page.kind is PageKind.MFA:
            self.mfa_seen = True
        self._state = state
        return state


_OBSTACLES: Final[dict[PageKind, tuple[type[AlexaAuthError], str]]] = {
    PageKind.PASSKEY: (
        PasskeyRequiredError,
        (
            "Amazon asks for a passkey, which an app like this cannot use. Keep your passkey, and "
            "add an authenticator app in Amazon's 2-step verification settings; then sign in again "
            f"here. {IN_YOUR_BROWSER}, where the passkey works."
        ),
    ),
    PageKind.APPROVAL: (
        ApprovalRequiredError,
        (
            "Amazon sent an approval request or code to your phone or e-mail. Approve it there, "
            "wait a minute, then sign in again here."
        ),
    ),
    PageKind.BOT_CHALLENGE: (
        BotChallengeError,
        (
            "Amazon put a robot check in front of the sign-in, which only a browser passes. Sign "
            "in once in your own browser instead (this app then uses that sign-in), or wait and "
            "try again."
        ),
    ),
    PageKind.ACCOUNT_LOCKED: (
        AccountLockedError,
        (
            "Amazon has locked the sign-in after too many attempts or unusual activity. Sign in on "
            "Amazon's website, follow its instructions (often a password reset), then sign in "
            "again here."
        ),
    ),
    PageKind.ACCOUNT_MISSING: (
        AccountNotFoundError,
        (
            "Amazon has no account for this e-mail address on this marketplace. Check the address "
            "and the marketplace in the settings."
        ),
    ),
    PageKind.CREDENTIALS_REFUSED: (
        InvalidCredentialsError,
        (
            "Amazon says it cannot verify your mobile number, which it shows when the password "
            "is wrong or out of date (changed at Amazon, or an old one kept by a password "
            "manager). Check the password in the settings and sign in again."
        ),
    ),
    PageKind.OTP_METHOD_CHOICE: (
        UnknownPageError,
        ("Amazon showed a sign-in step without a form we can fill in."),
    ),
}
_UNKNOWN_PAGE: Final = (
    "Amazon showed a page this app does not know; stopped to protect the account. Please "
    "report it with the diagnostics."
)


async def _classify(html: str, url: str) -> Page:
    """Classify a page, off the event loop when it is big."""
    if len(html) > THREAD_PARSE_BYTES:
        return await asyncio.to_thread(classify_page, html, url)
    return classify_page(html, url)


def _error_for(page: Page, walk: SignInWalk) -> AlexaAuthError:
    """Return the error a page that ends the sign-in stands for."""
    if page.kind is PageKind.CAPTCHA:
        if "password" in (page.error_message or "").lower():
            msg = (
                "Amazon says the password is wrong and now wants a picture puzzle solved. Check "
                "the password in the settings, then sign in again and type the characters."
            )
        elif walk.captcha_url and page.form is not None and walk.captcha_answered:
            msg = (
                "Amazon showed another picture puzzle after the answer. Type its characters to "
                "continue; if puzzles keep coming, sign in once in your own browser instead, "
                "where one answer is usually enough."
            )
        elif walk.captcha_url and page.form is not None:
            msg = (
                "Amazon wants a picture puzzle solved. Type the characters from the picture to "
                "continue the same sign-in."
            )
        else:
            msg = "Amazon wants a puzzle solved that cannot be shown here."
        return CaptchaRequiredError(
            msg, amazon_text=page.error_message, captcha_url=walk.captcha_url
        )
    error_class, msg = _OBSTACLES.get(page.kind, (UnknownPageError, _UNKNOWN_PAGE))
    return error_class(msg, amazon_text=page.error_message)
