"""
Recognise which Amazon sign-in page a response is.

The sign-in walks Amazon's HTML pages one form at a time. Every answer is one of a small set of
pages (sign-in form, two-step verification, OTP device chooser, captcha, approval, passkey, bot
wall, lockout, "no such account") or the final redirect that carries the authorization code. The
login code must know which, so that each obstacle becomes a precise, guide-linked error instead
of a bare "login failed".

:func:`classify_page` has the page read once by :mod:`.html_scan` (which collects the facts:
forms and their fields, ids, images, error boxes, visible text) and then runs the checks in a
fixed order: the most specific form structures first and loose text matches last, because
Amazon's pages share a lot of markup and the specific signals are the trustworthy ones. It runs
inside Music Assistant's event loop, so the reading is linear in the page and bounded; a page
beyond the bounds is a temporary error, anything else is classified and never raises.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urljoin

from .html_scan import scan

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .html_scan import Form, Img, Input, PageScan


class PageKind(StrEnum):
    """What an Amazon sign-in response is."""

    SIGN_IN = "sign_in"
    MFA = "mfa"
    OTP_METHOD_CHOICE = "otp_method_choice"
    CAPTCHA = "captcha"
    APPROVAL = "approval"
    PASSKEY = "passkey"
    BOT_CHALLENGE = "bot_challenge"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_MISSING = "account_missing"
    #: "We're unable to verify your mobile number": Amazon's answer to a wrong or stale password.
    CREDENTIALS_REFUSED = "credentials_refused"
    SUCCESS = "success"
    UNKNOWN = "unknown"


class CaptchaKind(StrEnum):
    """Which of Amazon's three captcha pages a captcha is; each is answered differently."""

    SIGN_IN = "sign_in"  # image inside the sign-in form, answered as "guess" with the password
    CVF = "cvf"  # "Authentication required" page, answered as "cvf_captcha_input"
    ROBOT_CHECK = "robot_check"  # /errors/validateCaptcha, answered as "field-keywords" by GET


class OtpMethod(StrEnum):
    """How a one-time code reaches the user; the login only automates :attr:`TOTP`."""

    TOTP = "TOTP"  # an authenticator app
    SMS = "SMS"
    VOICE = "VOICE"
    EMAIL = "EMAIL"
    UNKNOWN = "UNKNOWN"  # a choice whose method the page does not reveal


@dataclass(frozen=True, slots=True, repr=False)
class OtpDevice:
    """One choice on the OTP device chooser."""

    #: The radio's value, posted back as ``otpDeviceContext`` (or ``option``) to pick it.
    value: str
    #: How the code would arrive.
    method: OtpMethod

    def __repr__(self) -> str:
        """Show the method only: the value is an opaque token that can name a phone number."""
        return f"OtpDevice(method={self.method!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ParsedForm:
    """A form of the page, with the fields a browser would submit."""

    #: The raw ``action`` attribute ("" when missing).
    action: str
    #: "POST" for ``method=post``, else "GET".
    method: str
    #: Field name to value. Hidden fields keep their value, other inputs their ``value``
    #: attribute or "". Radios: the checked one, or the first when none is checked.
    fields: dict[str, str]
    form_id: str | None
    form_name: str | None

    def resolve_action(self, page_url: str) -> str:
        """
        Return the absolute URL the form submits to.

        An empty action means "this page", as in a browser.

        :param page_url: The URL the page was served from.
        :raises ValueError: ``page_url`` or the action is not a valid URL (a bad IPv6 host).
        """
        action = self.action.strip()
        return urljoin(page_url, action) if action else page_url

    def __repr__(self) -> str:
        """Show field names only: values hold the user's e-mail address and session tokens."""
        path = self.action.split("?", 1)[0]
        return (
            f"ParsedForm(action={path!r}, method={self.method!r}, form_id={self.form_id!r}, "
            f"form_name={self.form_name!r}, fields={sorted(self.fields)!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Page:
    """What :func:`classify_page` found on one response."""

    kind: PageKind
    #: Amazon's error or warning text (the messages without the "There was a problem" heading).
    error_message: str | None = None
    #: The form to submit next (sign-in, MFA, device chooser, captcha, approval polling).
    form: ParsedForm | None = None
    #: The captcha picture, made absolute against the page URL when one was given.
    captcha_url: str | None = None
    captcha_kind: CaptchaKind | None = None
    #: The choices of an OTP device chooser, in page order.
    otp_devices: tuple[OtpDevice, ...] = ()
    #: The code from the final redirect, for :attr:`PageKind.SUCCESS`.
    authorization_code: str | None = None
    #: The sign-in form has a visible e-mail field (e-mail-first or combined page).
    asks_for_email: bool = False
    #: The sign-in form has a real password field, not the e-mail page's autofill hint.
    asks_for_password: bool = False

    def __repr__(self) -> str:
        """Show the kind, Amazon's message and field names; never field values or the code."""
        parts = [f"kind={self.kind.value!r}"]
        if self.error_message is not None:
            parts.append(f"error_message={self.error_message!r}")
        if self.form is not None:
            parts.append(f"form={self.form!r}")
        if self.captcha_kind is not None:
            parts.append(f"captcha_kind={self.captcha_kind.value!r}")
        if self.captcha_url is not None:
            parts.append(f"captcha_url={self.captcha_url!r}")
        if self.otp_devices:
            parts.append(f"otp_devices={[d.method for d in self.otp_devices]!r}")
        if self.authorization_code is not None:
            parts.append("authorization_code=<redacted>")
        if self.asks_for_email or self.asks_for_password:
            parts.append(f"asks_for_email={self.asks_for_email}")
            parts.append(f"asks_for_password={self.asks_for_password}")
        return f"Page({', '.join(parts)})"


# --- what the checks look for ---------------------------------------------------------------

_CODE_PARAM: Final = "openid.oa2.authorization_code"

_APPROVAL_FORM_IDS: Final = ("pollingform", "verification-code-form", "resend-approval-form")
#: Phrases of a forced passkey. Deliberately not "sign in with a passkey": that is the label
#: of the optional passkey button on ordinary e-mail and password pages.
_PASSKEY_PHRASES: Final = (
    "not support passkey",
    "n't support passkey",
    "where you created your passkey",
    "passkey is required",
    "requires a passkey",
)
_LOCK_PHRASES: Final = (
    "unusual activity",
    "account has been locked",
    "account is locked",
    "account locked",
    "temporarily locked",
    "locked your account",
    "account on hold",
    "account is on hold",
    "placed on hold",
    "account has been suspended",
    "account is suspended",
    "too many failed",
    "too many unsuccessful",
    "too many attempts",
    "too many sign-in attempts",
    "too many sign in attempts",
)
#: Amazon's words for a password it did not accept, since 2026 (AMP #3382, #3513, #3520): it
#: names the mobile number, but a wrong or outdated password is what brings it up.
_UNVERIFIED_MOBILE_PHRASES: Final = (
    "unable to verify your mobile number",
    "can't verify your mobile number",
    "cannot verify your mobile number",
    "couldn't verify your mobile number",
    "could not verify your mobile number",
)
#: The AWS WAF interstitial's <noscript> text. Only trusted on a page without any form, since
#: the robot-check captcha says much the same ("make sure you're not a robot").
_ROBOT_PHRASES: Final = ("not a robot",)

#: Longest quote taken from running text around a matched phrase.
_QUOTE_BEFORE: Final = 160
_QUOTE_AFTER: Final = 240


def _normalise(text: str) -> str:
    """Lower-case text and straighten typographic apostrophes, for phrase matching."""
    return text.lower().replace("\u2019", "'")


def _find_phrase(text: str, phrases: Iterable[str]) -> int:
    """Return where the first of ``phrases`` occurs in normalised ``text``, or -1."""
    lowered = _normalise(text)
    for phrase in phrases:
        found = lowered.find(phrase)
        if found >= 0:
            return found
    return -1


# --- the checks -----------------------------------------------------------------------------


class _Facts:
    """The scanner's findings, with the queries the checks share."""

    # A plain class, not a dataclass: generating a dataclass's methods costs import time.
    __slots__ = ("_asks", "scan", "url")

    def __init__(self, scan: PageScan, url: str) -> None:
        self.scan = scan
        self.url = url
        self._asks: dict[int, tuple[bool, bool]] | None = None

    def error_text(self) -> str | None:
        """Return Amazon's message boxes, errors before warnings, or None."""
        texts = list(dict.fromkeys(self.scan.error_texts + self.scan.warning_texts))
        return " ".join(texts) or None

    def form(self, index: int | None) -> ParsedForm | None:
        return None if index is None else _parsed(self.scan.forms[index])

    def form_index(self, test: Callable[[Form], bool]) -> int | None:
        return next((i for i, form in enumerate(self.scan.forms) if test(form)), None)

    def input(self, test: Callable[[Input], bool]) -> Input | None:
        return next((item for item in self.scan.inputs if test(item)), None)

    def quote(self, phrases: tuple[str, ...]) -> str | None:
        """Return the visible text around the first of ``phrases``, or None."""
        for segment in self.scan.segments:
            found = _find_phrase(segment, phrases)
            if found >= 0:
                # A page without block markup can be one long segment; quote around the match.
                start = max(0, found - _QUOTE_BEFORE)
                return segment[start : found + _QUOTE_AFTER].strip()
        return None

    def box_with(self, phrases: tuple[str, ...]) -> str | None:
        """Return the message boxes if they contain one of ``phrases``."""
        text = self.error_text()
        return text if text and _find_phrase(text, phrases) >= 0 else None

    def asks(self, index: int) -> tuple[bool, bool]:
        """Return whether form ``index`` shows an e-mail field and a real password field."""
        if self._asks is None:
            # One pass for all forms: a page of many forms must not cost forms x inputs.
            self._asks = {}
            for item in self.scan.inputs:
                if item.form is None or not item.shown_to_user:
                    continue
                email, password = self._asks.get(item.form, (False, False))
                if item.type_l == "password":
                    password = True
                elif item.name_l == "email" and item.type_l not in {"hidden", "submit", "button"}:
                    email = True
                self._asks[item.form] = (email, password)
        return self._asks.get(index, (False, False))

    def has_real_password(self) -> bool:
        return any(item.type_l == "password" and item.shown_to_user for item in self.scan.inputs)

    def resolve(self, src: str) -> str:
        if not self.url:
            return src
        try:
            return urljoin(self.url, src)
        except ValueError:  # a malformed page URL (bad IPv6 host) must not break the check
            return src

    def url_path_l(self) -> str:
        return self.url.split("?", 1)[0].split("#", 1)[0].lower()


def _parsed(form: Form) -> ParsedForm:
    """
    Return a scanned form as callers see it.

    :param form: The form the scanner collected.
    :return: Its action, method and fields.
    """
    return ParsedForm(
        action=form.action,
        method="POST" if form.method.strip().lower() == "post" else "GET",
        fields=dict(form.fields),
        form_id=form.form_id,
        form_name=form.form_name,
    )


def _authorization_code(url: str) -> str | None:
    """Return the non-empty ``openid.oa2.authorization_code`` of ``url``, or None."""
    if _CODE_PARAM not in url:
        return None
    # The code sits in the query; a fragment is read too, in case a redirect ever moves it there.
    query = url.split("?", 1)[1] if "?" in url else url
    for key, value in parse_qsl(query.replace("#", "&")):
        if key == _CODE_PARAM and value.strip():
            return value.strip()
    return None


def _check_lock_structure(facts: _Facts) -> Page | None:
    """Find the forgot-password form, OTP challenge options, or a lockout in Amazon's box."""
    forgot = facts.form_index(lambda f: f.name_l == "forgotpassword")
    challenge = facts.input(lambda i: i.name_l == "otpchallengeoptions")
    if forgot is not None or challenge is not None:
        message = facts.error_text() or facts.quote(_LOCK_PHRASES)
        return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=message)
    boxed = facts.box_with(_LOCK_PHRASES)
    if boxed:
        return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=boxed)
    return None


def _check_unverified_mobile(facts: _Facts) -> Page | None:
    """Find "We're unable to verify your mobile number" (a refused password), boxed or not."""
    message = facts.box_with(_UNVERIFIED_MOBILE_PHRASES) or facts.quote(_UNVERIFIED_MOBILE_PHRASES)
    if message is None:
        return None
    return Page(kind=PageKind.CREDENTIALS_REFUSED, error_message=message)


def _captcha_page(facts: _Facts, kind: CaptchaKind, index: int | None, imgs: list[Img]) -> Page:
    src = next((img.src for img in imgs if img.src), None)
    asks_email = asks_password = False
    if kind is CaptchaKind.SIGN_IN and index is not None:
        # The sign-in captcha is answered together with the password; the login needs to know.
        asks_email, asks_password = facts.asks(index)
    return Page(
        kind=PageKind.CAPTCHA,
        captcha_kind=kind,
        form=facts.form(index),
        captcha_url=facts.resolve(src) if src else None,
        error_message=facts.error_text(),
        asks_for_email=asks_email,
        asks_for_password=asks_password,
    )


def _robot_check(facts: _Facts) -> Page | None:
    """Find the robot check: ``form[action$=validateCaptcha]``, ``input#captchacharacters``."""
    scan = facts.scan
    robot_input = facts.input(lambda i: i.id_l.startswith("captchacharacters"))
    index = facts.form_index(lambda f: f.action_path_l.endswith("validatecaptcha"))
    if index is None and robot_input is not None:
        index = robot_input.form
    if index is None and robot_input is None:
        return None
    imgs = [i for i in scan.imgs if i.form == index and "captcha" in i.src.lower()]
    imgs += [i for i in scan.imgs if "/captcha/" in i.src.lower()]
    return _captcha_page(facts, CaptchaKind.ROBOT_CHECK, index, imgs)


def _cvf_captcha(facts: _Facts, *, by_image: bool) -> Page | None:
    """
    Find the CVF image captcha ("Authentication required").

    :param by_image: Also accept just a ``captcha`` picture inside ``#cvf-page-content``; that
        weaker signal is only tried after the sign-in captcha's own ids.
    """
    scan = facts.scan
    cvf_input = facts.input(lambda i: i.name_l == "cvf_captcha_input")
    index = facts.form_index(lambda f: "cvf-widget-form-captcha" in f.classes)
    if index is None and cvf_input is not None:
        index = cvf_input.form
    imgs = [i for i in scan.imgs if i.alt_l == "captcha" and i.in_cvf]
    if index is None and cvf_input is None:
        if not (by_image and imgs):
            return None
        index = imgs[0].form
    imgs += [i for i in scan.imgs if i.form == index and "captcha" in i.alt_l]
    return _captcha_page(facts, CaptchaKind.CVF, index, imgs)


def _sign_in_captcha(facts: _Facts) -> Page | None:
    """Find the sign-in form's captcha: ``img#auth-captcha-image``, ``input[name=guess]``."""
    scan = facts.scan
    guess = facts.input(
        lambda i: i.id_l == "auth-captcha-guess" or (i.name_l == "guess" and i.type_l != "hidden")
    )
    image = next((i for i in scan.imgs if i.id_l == "auth-captcha-image"), None)
    if guess is None and image is None:
        return None
    index = guess.form if guess is not None else None
    if index is None and image is not None:
        index = image.form
    if index is None:
        index = facts.form_index(lambda f: f.name_l == "signin")
    imgs = [image] if image is not None else []
    imgs += [i for i in scan.imgs if i.form == index and "captcha" in (i.alt_l + i.src.lower())]
    return _captcha_page(facts, CaptchaKind.SIGN_IN, index, imgs)


def _check_captcha(facts: _Facts) -> Page | None:
    """Find the robot check, the CVF image captcha, or the captcha in the sign-in form."""
    return (
        _robot_check(facts)
        or _cvf_captcha(facts, by_image=False)
        or _sign_in_captcha(facts)
        or _cvf_captcha(facts, by_image=True)
    )


def _check_mfa(facts: _Facts) -> Page | None:
    """Find two-step verification: ``form#auth-mfa-form``, ``input#auth-mfa-otpcode``."""
    index = facts.form_index(lambda f: f.id_l == "auth-mfa-form")
    if index is None:
        otp = facts.input(lambda i: i.id_l == "auth-mfa-otpcode")
        if otp is not None:
            index = otp.form
        else:
            index = facts.form_index(lambda f: f.fields.get("appAction") == "SIGNIN_MFA")
            if index is None:
                return None
    return Page(kind=PageKind.MFA, form=facts.form(index), error_message=facts.error_text())


_TEXT_METHODS: Final = (
    (frozenset({"authenticator", "totp"}), OtpMethod.TOTP),
    (frozenset({"sms", "text"}), OtpMethod.SMS),
    (frozenset({"voice", "call"}), OtpMethod.VOICE),
    (frozenset({"email"}), OtpMethod.EMAIL),
)


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    # Compiled on first use: importing the auth core stays cheap.
    return re.compile(r"[a-z]+")


def _method_from_text(text: str) -> OtpMethod | None:
    """
    Guess a device's method from its label ("Text message to ***-123") or value.

    :param text: The label or value.
    :return: The method, or ``None`` when the text names none.
    """
    words = set(_word_pattern().findall(text.lower().replace("e-mail", "email")))
    for keys, method in _TEXT_METHODS:
        if not words.isdisjoint(keys):
            return method
    return None


def _otp_devices(facts: _Facts, index: int, *, claims: bool) -> tuple[OtpDevice, ...]:
    scan = facts.scan
    by_for = {label.for_id_l: label for label in scan.labels if label.for_id_l}
    devices: list[OtpDevice] = []
    for radio in scan.radios:
        if radio.name_l != "otpdevicecontext" and not (claims and radio.form == index):
            continue
        method = OtpMethod(radio.hint) if radio.hint is not None else None
        if method is None and radio.label is not None:
            method = _method_from_text("".join(scan.labels[radio.label].parts))
        if method is None and radio.id_l in by_for:
            method = _method_from_text("".join(by_for[radio.id_l].parts))
        if method is None:
            method = _method_from_text(radio.value)
        devices.append(OtpDevice(value=radio.value, method=method or OtpMethod.UNKNOWN))
    return tuple(devices)


def _check_otp_choice(facts: _Facts) -> Page | None:
    """Find the OTP device chooser (``form#auth-select-device-form``) or claims picker."""
    index = facts.form_index(lambda f: f.id_l == "auth-select-device-form")
    claims = False
    if index is None:
        index = facts.form_index(lambda f: f.name_l == "claimspicker")
        claims = index is not None
    if index is None:
        return None
    return Page(
        kind=PageKind.OTP_METHOD_CHOICE,
        form=facts.form(index),
        error_message=facts.error_text(),
        otp_devices=_otp_devices(facts, index, claims=claims),
    )


def _check_approval(facts: _Facts) -> Page | None:
    """Find CVF approval: polling, verification-code or resend forms, or an approval URL."""
    by_id = {form.id_l: i for i, form in reversed(list(enumerate(facts.scan.forms)))}
    # Polling first: while the user approves on the phone, that is the form to follow.
    index = next((by_id[i] for i in _APPROVAL_FORM_IDS if i in by_id), None)
    if index is None:
        index = facts.form_index(lambda f: "/ap/cvf/approval" in f.action.lower())
    if (
        index is None
        and not facts.scan.approval_signal
        and "/ap/cvf/approval" not in facts.url_path_l()
    ):
        return None
    return Page(kind=PageKind.APPROVAL, form=facts.form(index), error_message=facts.error_text())


def _check_account_missing(facts: _Facts) -> Page | None:
    """Find Amazon's offer to create an account: ``form#intent-confirmation-form``."""
    if facts.form_index(lambda f: f.id_l == "intent-confirmation-form") is None:
        return None
    return Page(kind=PageKind.ACCOUNT_MISSING, error_message=facts.error_text())


def _check_passkey(facts: _Facts) -> Page | None:
    """Find a forced passkey: the phrase is visible and there is no password to type."""
    if facts.has_real_password():
        return None
    message = facts.box_with(_PASSKEY_PHRASES) or facts.quote(_PASSKEY_PHRASES)
    if message is None:
        return None
    return Page(kind=PageKind.PASSKEY, error_message=message)


def _check_sign_in(facts: _Facts) -> Page | None:
    """Find a sign-in form (``form[name=signIn]``, ``form#ap_login_form``) that asks."""
    for index, form in enumerate(facts.scan.forms):
        if form.name_l != "signin" and form.id_l != "ap_login_form":
            continue
        email, password = facts.asks(index)
        if email or password:
            return Page(
                kind=PageKind.SIGN_IN,
                form=_parsed(form),
                error_message=facts.error_text(),
                asks_for_email=email,
                asks_for_password=password,
            )
    return None


def _check_bot(facts: _Facts) -> Page | None:
    """Find an AWS WAF / JavaScript challenge or a CVF "aamation" puzzle."""
    aamation = facts.form_index(lambda f: f.id_l == "cvf-aamation-challenge-form")
    robot_text = not facts.scan.forms and facts.quote(_ROBOT_PHRASES) is not None
    if facts.scan.bot_signal or aamation is not None or robot_text:
        return Page(kind=PageKind.BOT_CHALLENGE, error_message=facts.error_text())
    return None


def _check_lock_text(facts: _Facts) -> Page | None:
    """Find a lockout or "unusual activity" message anywhere in the visible text."""
    quote = facts.quote(_LOCK_PHRASES)
    if quote is None:
        return None
    return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=facts.error_text() or quote)


def _check_verify_code(facts: _Facts) -> Page | None:
    """Find a CVF "enter the code we sent" form (``form[action=verify]`` with ``code``)."""
    index = facts.form_index(lambda f: f.action_path_l.endswith("verify") and "code" in f.fields)
    if index is None:
        return None
    return Page(kind=PageKind.APPROVAL, form=facts.form(index), error_message=facts.error_text())


#: The checks, most specific first. Lockout by Amazon's own message box comes before everything:
#: retrying a locked account makes things worse. The refused-password text comes next: it ends
#: the sign-in whatever form the page carries (the e-mail page, a CVF step). Captcha beats
#: sign-in because the sign-in captcha lives inside the sign-in form. Passkey comes before
#: sign-in because a forced-passkey e-mail page still carries an e-mail field. The bot checks
#: come after the forms because the WAF token script can appear on ordinary pages; loose text
#: matches come last.
_CHECKS: Final[tuple[Callable[[_Facts], Page | None], ...]] = (
    _check_lock_structure,
    _check_unverified_mobile,
    _check_captcha,
    _check_mfa,
    _check_otp_choice,
    _check_approval,
    _check_account_missing,
    _check_passkey,
    _check_sign_in,
    _check_bot,
    _check_lock_text,
    _check_verify_code,
)


def classify_page(html: str, url: str = "") -> Page:
    """
    Say which Amazon sign-in page ``html`` is.

    A URL carrying a non-empty ``openid.oa2.authorization_code`` is :attr:`PageKind.SUCCESS`
    whatever the body, so a redirect's ``Location`` can be passed with an empty body. Anything
    unrecognised is :attr:`PageKind.UNKNOWN`, with Amazon's message when the page has one.
    Never raises.

    :param html: The response body.
    :param url: The URL the page came from (or a redirect's ``Location``).
    """
    code = _authorization_code(url)
    if code:
        return Page(kind=PageKind.SUCCESS, authorization_code=code)
    facts = _Facts(scan(html), url)
    for check in _CHECKS:
        page = check(facts)
        if page is not None:
            return page
    return Page(kind=PageKind.UNKNOWN, error_message=facts.error_text())
