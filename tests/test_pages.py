"""
The page classifier recognises every Amazon sign-in page, never raises, and reads within bounds.

One sample per page kind and variant (``fixtures/pages``): the kind, Amazon's message, the form
to submit next with its fields, the captcha picture, the OTP devices and the authorization code.
Then the traps: the passkey button on an ordinary password page, the <noscript> notice on every
Amazon page, hidden client-side messages. Property tests feed random text, random HTML-ish
fragments and every sample cut short, and check that what comes back is a consistent page.
Last, hostile pages: the reader's size and markup bounds give a temporary error, and what it
keeps in memory stays a small multiple of the page (its time is measured by
``benchmarks/hostile_pages.py``).
"""

from __future__ import annotations

import tracemalloc
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from music_assistant_alexa.auth.errors import (
    ErrorCategory,
    PageTooLargeError,
    UnexpectedResponseError,
)
from music_assistant_alexa.auth.html_scan import (
    MAX_MARKUP,
    MAX_PAGE_CHARS,
    UNICODE_WHITESPACE,
    collapse,
)
from music_assistant_alexa.auth.pages import (
    CaptchaKind,
    OtpDevice,
    OtpMethod,
    Page,
    PageKind,
    ParsedForm,
    classify_page,
)
from music_assistant_alexa.guide import GuideSlug

from . import page_samples as samples
from .page_samples import EMAIL, HOST, SIGN_IN_URL, sample

#: Kinds whose page carries the form to submit next.
_KINDS_WITH_FORM = {
    PageKind.SIGN_IN,
    PageKind.MFA,
    PageKind.OTP_METHOD_CHOICE,
    PageKind.CAPTCHA,
    PageKind.APPROVAL,
}


def assert_consistent(page: Page, url: str) -> None:
    """
    Assert what every classification must satisfy, whatever the page.

    :param page: The classification.
    :param url: The URL it was classified with.
    """
    code_in_url = any(
        key == "openid.oa2.authorization_code" and value.strip()
        for key, value in parse_qsl(url.split("?", 1)[-1].replace("#", "&"))
    )
    assert (page.kind is PageKind.SUCCESS) == code_in_url
    assert (page.authorization_code is not None) == (page.kind is PageKind.SUCCESS)
    assert page.form is None or page.kind in _KINDS_WITH_FORM
    assert (page.captcha_kind is not None) == (page.kind is PageKind.CAPTCHA)
    assert not page.otp_devices or page.kind is PageKind.OTP_METHOD_CHOICE
    assert not (page.asks_for_email or page.asks_for_password) or page.kind in {
        PageKind.SIGN_IN,
        PageKind.CAPTCHA,
    }
    if page.error_message is not None:
        # Amazon's text, as the user will read it: one line, trimmed, never empty.
        assert page.error_message
        assert page.error_message == " ".join(page.error_message.split())


# --- every sample: kind, Amazon's message, form ------------------------------------------------

_WRONG_OTP = "The One Time Password (OTP) you entered is not valid. Please try again."
_TOO_MANY_OTPS = "You've requested too many OTPs today. You can request a new OTP in 24 hours."
_LOCKED = "Your account has been temporarily locked because of too many failed sign-in attempts."


@pytest.mark.parametrize(
    ("name", "url", "kind", "message", "form_id"),
    [
        ("combined", SIGN_IN_URL, PageKind.SIGN_IN, None, None),
        ("invalid-password", SIGN_IN_URL, PageKind.SIGN_IN, "Your password is incorrect", None),
        (
            "unknown-email",
            SIGN_IN_URL,
            PageKind.SIGN_IN,
            "We cannot find an account with that email address",
            None,
        ),
        (
            "invalid-email",
            SIGN_IN_URL,
            PageKind.SIGN_IN,
            "Enter a valid email or mobile number",
            None,
        ),
        # Text that only Amazon's script would show does not make a passkey page.
        ("claim-with-hidden-passkey-text", SIGN_IN_URL, PageKind.SIGN_IN, None, None),
        ("mfa", SIGN_IN_URL, PageKind.MFA, None, "auth-mfa-form"),
        ("mfa-invalid-otp", SIGN_IN_URL, PageKind.MFA, _WRONG_OTP, "auth-mfa-form"),
        (
            "too-many-otps",
            SIGN_IN_URL,
            PageKind.OTP_METHOD_CHOICE,
            _TOO_MANY_OTPS,
            "auth-select-device-form",
        ),
        ("forced-passkey", SIGN_IN_URL, PageKind.PASSKEY, samples.PASSKEY_TEXT, None),
        ("waf-challenge", f"{HOST}/ap/signin", PageKind.BOT_CHALLENGE, None, None),
        ("js-challenge", f"{HOST}/ap/signin", PageKind.BOT_CHALLENGE, None, None),
        ("aamation", f"{HOST}/ap/signin", PageKind.BOT_CHALLENGE, None, None),
        # After too many failures Amazon only offers the password reset.
        ("forgot-password", f"{HOST}/ap/forgotpassword", PageKind.ACCOUNT_LOCKED, None, None),
        (
            "unusual-activity",
            SIGN_IN_URL,
            PageKind.ACCOUNT_LOCKED,
            samples.UNUSUAL_ACTIVITY_TEXT,
            None,
        ),
        # A lockout message in Amazon's box wins over the sign-in form around it.
        ("locked-in-box", SIGN_IN_URL, PageKind.ACCOUNT_LOCKED, _LOCKED, None),
        ("intent-confirmation", SIGN_IN_URL, PageKind.ACCOUNT_MISSING, None, None),
        # Amazon's words for a wrong or stale password since 2026, on a CVF page.
        (
            "unverified-mobile",
            f"{HOST}/ap/cvf/verify?arb=0a1b2c",
            PageKind.CREDENTIALS_REFUSED,
            "We're unable to verify your mobile number. Try signing in again.",
            None,
        ),
        ("home-page", HOST, PageKind.UNKNOWN, None, None),
    ],
)
def test_sample_kind_message_and_form(
    name: str, url: str, kind: PageKind, message: str | None, form_id: str | None
) -> None:
    """Each sample is its kind, with Amazon's message (heading dropped, whitespace collapsed)."""
    page = classify_page(sample(name), url)
    assert page.kind is kind
    assert page.error_message == message
    if kind in _KINDS_WITH_FORM:
        assert page.form is not None
        assert page.form.form_id == form_id
    else:
        assert page.form is None
    assert_consistent(page, url)


def test_every_sample_is_in_a_test() -> None:
    """No fixture page lies unused."""
    assert set(samples.ALL) == {
        "aamation",
        "approval-code",
        "approval-polling",
        "claim",
        "claim-with-hidden-passkey-text",
        "claims-picker",
        "combined",
        "cvf-captcha",
        "cvf-captcha-invalid",
        "device-chooser",
        "device-chooser-sms-only",
        "forced-passkey",
        "forgot-password",
        "home-page",
        "intent-confirmation",
        "invalid-email",
        "invalid-password",
        "js-challenge",
        "locked-in-box",
        "mfa",
        "mfa-invalid-otp",
        "password-with-passkey-button",
        "robot-check",
        "sign-in-captcha",
        "too-many-otps",
        "unified-claim",
        "unknown-email",
        "unusual-activity",
        "unverified-mobile",
        "waf-challenge",
    }


@pytest.mark.parametrize(
    "text",
    [
        "We're unable to verify your mobile number. Try signing in again.",
        "We can\u2019t verify your mobile number. Please try signing in again.",
        "We cannot verify your mobile number.",
    ],
)
def test_unverified_mobile_number_wins_over_the_form_around_it(text: str) -> None:
    """In Amazon's box on the e-mail page, or as plain text: a refused password, not a form."""
    boxed = samples.page("Amazon Sign-In", samples.error_box(text) + sample("claim"))
    assert classify_page(boxed, SIGN_IN_URL).kind is PageKind.CREDENTIALS_REFUSED
    plain = samples.page("Amazon", f"<div><p>{text}</p></div>")
    page = classify_page(plain, f"{HOST}/ap/cvf/verify")
    assert page.kind is PageKind.CREDENTIALS_REFUSED
    assert page.error_message is not None
    assert "verify your mobile number" in page.error_message


# --- sign-in forms ----------------------------------------------------------------------------


def test_combined_page_asks_for_email_and_password() -> None:
    """The classic combined page asks for both; every field of the form is kept."""
    page = classify_page(sample("combined"), SIGN_IN_URL)
    assert page.kind is PageKind.SIGN_IN
    assert page.error_message is None
    assert page.asks_for_email
    assert page.asks_for_password
    assert page.form is not None
    assert page.form.form_name == "signIn"
    assert page.form.method == "POST"
    assert page.form.resolve_action(SIGN_IN_URL) == f"{HOST}/ap/signin"
    assert page.form.fields["appAction"] == "SIGNIN"
    assert page.form.fields["metadata1"] == "ECdITeCs:Zm9vYmFy"
    assert page.form.fields["email"] == ""
    assert page.form.fields["password"] == ""
    assert page.form.fields["rememberMe"] == "true"


def test_email_first_claim_page_asks_for_email_only() -> None:
    """The e-mail-first page asks for the e-mail only, despite its password autofill hint."""
    page = classify_page(sample("claim"), SIGN_IN_URL)
    assert page.kind is PageKind.SIGN_IN
    assert page.asks_for_email
    # The password input on this page is the autofill hint, not a field to fill.
    assert not page.asks_for_password
    assert page.form is not None
    assert page.form.fields["appAction"] == "SIGNIN_PWD_COLLECT"
    assert page.form.fields["subPageType"] == "SignInClaimCollect"
    assert page.form.fields["create"] == "0"
    assert page.form.fields["password"] == ""


def test_unified_claim_page_posts_to_ax_claim() -> None:
    """The unified claim form is a sign-in form; its relative action resolves on the page URL."""
    page = classify_page(sample("unified-claim"), SIGN_IN_URL)
    assert page.kind is PageKind.SIGN_IN
    assert page.asks_for_email
    assert not page.asks_for_password
    assert page.form is not None
    assert page.form.form_id == "ap_login_form"
    assert page.form.action == "/ax/claim/validate?arb=1c2d3e4f&policy_handle=Retail-Checkout"
    assert page.form.resolve_action(SIGN_IN_URL) == (
        f"{HOST}/ax/claim/validate?arb=1c2d3e4f&policy_handle=Retail-Checkout"
    )
    assert page.form.fields["appAction"] == "SIGNIN_CLAIM_COLLECT"
    assert page.form.fields["claimCollectionWorkflow"] == "unified"
    assert page.form.fields["anti-csrftoken-a2z"] == "hEa7Tq0aZx"


def test_password_page_with_passkey_button_is_sign_in() -> None:
    """A password page that merely offers a passkey button is an ordinary sign-in page."""
    page = classify_page(sample("password-with-passkey-button"), SIGN_IN_URL)
    assert page.kind is PageKind.SIGN_IN
    assert page.asks_for_password
    assert not page.asks_for_email
    assert page.form is not None
    # The sign-in form, not the passkey button's form next to it.
    assert page.form.form_name == "signIn"
    assert "webAuthnChallengeIdForButton" not in page.form.fields
    # The pre-filled hidden e-mail wins over the empty autofill hint of the same name.
    assert page.form.fields["email"] == EMAIL
    assert page.form.fields["encryptedPasswordExpected"] == ""
    assert page.form.fields["crossDomainRPIDCount"] == "NONE"


def test_hidden_inline_alerts_are_not_error_messages() -> None:
    """The hidden client-side alerts every sign-in page carries are not errors."""
    # Every sample sign-in page carries "Enter your password" in a hidden inline alert.
    assert "Enter your password" in sample("combined")
    assert classify_page(sample("combined")).error_message is None


# --- two-step verification --------------------------------------------------------------------


def test_mfa_page() -> None:
    """The two-step verification page and its form."""
    page = classify_page(sample("mfa"), SIGN_IN_URL)
    assert page.kind is PageKind.MFA
    assert page.error_message is None
    assert page.form is not None
    assert page.form.form_id == "auth-mfa-form"
    assert page.form.resolve_action(SIGN_IN_URL) == f"{HOST}/ap/signin"
    fields = page.form.fields
    assert fields["appAction"] == "SIGNIN_MFA"
    assert fields["otpCode"] == ""
    assert fields["rememberDevice"] == ""
    assert fields["deviceId"] == "5d5e9a2c-1f0b-4bd4-9a8f-0f2c3d4e5f60"
    assert fields["workflowState"].startswith("eyJ6aXAi")
    assert "mfaSubmit" in fields


def test_device_chooser_lists_devices_with_methods() -> None:
    """Each radio of the device chooser becomes a device, its method from the wrapper."""
    page = classify_page(sample("device-chooser"), SIGN_IN_URL)
    assert page.kind is PageKind.OTP_METHOD_CHOICE
    assert page.otp_devices == (
        OtpDevice("ctx-sms-1, SMS", OtpMethod.SMS),
        OtpDevice("ctx-app-2, TOTP", OtpMethod.TOTP),
        OtpDevice("ctx-voice-3, VOICE", OtpMethod.VOICE),
    )
    assert page.form is not None
    assert page.form.form_id == "auth-select-device-form"
    # Radios: the checked one is the field's value.
    assert page.form.fields["otpDeviceContext"] == "ctx-sms-1, SMS"
    assert page.form.fields["appAction"] == "MFA_NEW_OTP"
    # action="" posts back to the page itself.
    assert page.form.resolve_action(SIGN_IN_URL) == SIGN_IN_URL


def test_device_chooser_with_sms_only() -> None:
    """An SMS-only account shows a chooser without an authenticator app."""
    page = classify_page(sample("device-chooser-sms-only"), SIGN_IN_URL)
    assert page.kind is PageKind.OTP_METHOD_CHOICE
    assert [d.method for d in page.otp_devices] == [OtpMethod.SMS]
    assert page.form is not None
    # No radio is checked: the first one is the field's value.
    assert page.form.fields["otpDeviceContext"] == "ctx-sms-1, SMS"


def test_claims_picker_is_a_method_choice_labelled_by_for() -> None:
    """A claims picker is a method choice; methods come from labels tied by ``for``."""
    page = classify_page(sample("claims-picker"), SIGN_IN_URL)
    assert page.kind is PageKind.OTP_METHOD_CHOICE
    assert page.otp_devices == (
        OtpDevice("email", OtpMethod.EMAIL),
        OtpDevice("sms", OtpMethod.SMS),
    )
    assert page.form is not None
    assert page.form.form_name == "claimspicker"
    assert page.form.fields["option"] == "email"


def test_device_method_from_label_text_without_wrapper_class() -> None:
    """Without wrapper classes the label text names the method."""
    html = """<form id="auth-select-device-form" method="post" action="">
      <div><label><input type="radio" name="otpDeviceContext" value="a1">
        <span>Use your authenticator app</span></label></div>
      <div><label><input type="radio" name="otpDeviceContext" value="b2">
        Voice call to ***-42</label></div>
      <div><label><input type="radio" name="otpDeviceContext" value="c3">
        Something new</label></div>
    </form>"""
    page = classify_page(html)
    assert [d.method for d in page.otp_devices] == [
        OtpMethod.TOTP,
        OtpMethod.VOICE,
        OtpMethod.UNKNOWN,
    ]


# --- captchas ---------------------------------------------------------------------------------


def test_sign_in_captcha() -> None:
    """The captcha inside the sign-in form, answered together with the password."""
    page = classify_page(sample("sign-in-captcha"), SIGN_IN_URL)
    assert page.kind is PageKind.CAPTCHA
    assert page.captcha_kind is CaptchaKind.SIGN_IN
    # Entities in the attribute are decoded.
    assert page.captcha_url == (
        "https://opfcaptcha-prod.s3.amazonaws.com/4f1e2d3c.jpg?AWSAccessKeyId=AK&Expires=1"
    )
    assert page.error_message is not None
    assert page.error_message.startswith("To better protect your account")
    assert page.form is not None
    assert page.form.form_name == "signIn"
    assert page.form.fields["guess"] == ""
    assert page.form.fields["use_image_captcha"] == "true"
    assert page.form.fields["email"] == EMAIL
    # The captcha is answered with the password again.
    assert page.asks_for_password


@pytest.mark.parametrize(
    ("html", "message"),
    [
        (sample("cvf-captcha"), None),
        (sample("cvf-captcha-invalid"), "Enter the characters as they are given in the challenge."),
    ],
    ids=["first", "invalid-answer"],
)
def test_cvf_captcha(html: str, message: str | None) -> None:
    """The CVF image captcha, with and without the wrong-answer alert."""
    page = classify_page(html, f"{HOST}/ap/cvf/request?arb=1")
    assert page.kind is PageKind.CAPTCHA
    assert page.captcha_kind is CaptchaKind.CVF
    assert page.error_message == message
    assert page.captcha_url is not None
    assert page.captcha_url.startswith("https://opfcaptcha-prod.s3.amazonaws.com/9a8b7c6d5e4f.jpg")
    assert page.form is not None
    assert page.form.resolve_action(f"{HOST}/ap/cvf/request?arb=1") == f"{HOST}/ap/cvf/verify"
    assert page.form.fields["cvf_captcha_input"] == ""
    assert page.form.fields["cvf_captcha_captcha_type"] == "imageCaptcha"
    assert page.form.fields["verifyToken"] == "s|0f9e8d7c-6b5a-4a3b-9c2d-1e0f2a3b4c5d"
    assert "cvf_captcha_captcha_action" in page.form.fields


def test_robot_check_captcha() -> None:
    """The robot check submits by GET to /errors/validateCaptcha."""
    page = classify_page(sample("robot-check"), f"{HOST}/ap/signin")
    assert page.kind is PageKind.CAPTCHA
    assert page.captcha_kind is CaptchaKind.ROBOT_CHECK
    assert page.captcha_url == (
        "https://images-na.ssl-images-amazon.com/captcha/usvmgloq/Captcha_kwrrnqwkph.jpg"
    )
    assert page.form is not None
    assert page.form.method == "GET"
    assert page.form.resolve_action(f"{HOST}/ap/signin") == f"{HOST}/errors/validateCaptcha"
    assert page.form.fields == {
        "amzn": "Yj7qS1ZGdu0=",
        "amzn-r": "/ap/signin",
        "amzn-pt": "AuthenticationPortal",
        "field-keywords": "",
    }


def test_relative_captcha_src_is_made_absolute() -> None:
    """A relative captcha picture is resolved on the page URL when there is one."""
    html = """<form name="signIn" method="post" action="/ap/signin">
      <input type="password" id="ap_password" name="password">
      <img id="auth-captcha-image" src="/captcha/abc.jpg">
      <input type="text" id="auth-captcha-guess" name="guess"></form>"""
    assert classify_page(html, f"{HOST}/ap/signin").captcha_url == f"{HOST}/captcha/abc.jpg"
    assert classify_page(html).captcha_url == "/captcha/abc.jpg"


# --- approval, passkey, bot walls -------------------------------------------------------------


def test_approval_with_verification_code_form() -> None:
    """The verification-code approval page and its form."""
    page = classify_page(sample("approval-code"), f"{HOST}/ap/cvf/approval?arb=2b3c4d")
    assert page.kind is PageKind.APPROVAL
    assert page.form is not None
    assert page.form.form_id == "verification-code-form"
    assert page.form.action == "/ap/cvf/approval/verifyOtp"
    assert page.form.fields["otpCode"] == ""
    assert page.form.fields["csrfToken"] == "hCsrf0"


def test_approval_polling_form_is_preferred() -> None:
    """While the user approves on the phone, the polling form is the one to follow."""
    page = classify_page(sample("approval-polling"), f"{HOST}/ap/cvf/approval?arb=2b3c4d")
    assert page.kind is PageKind.APPROVAL
    assert page.form is not None
    assert page.form.form_id == "pollingForm"
    assert page.form.method == "GET"
    assert page.form.fields["transactionApprovalStatus"] == "TransactionPending"


def test_approval_recognised_by_url_alone() -> None:
    """An approval URL is enough, whatever the markup."""
    page = classify_page("<html><body><p>Waiting</p></body></html>", f"{HOST}/ap/cvf/approval")
    assert page.kind is PageKind.APPROVAL
    assert page.form is None


def test_passkey_message_in_error_box() -> None:
    """The passkey message may come in Amazon's error box, with a curly apostrophe."""
    html = samples.page(
        "Amazon Sign-In",
        samples.error_box("This device doesn\u2019t support passkeys.")
        + '<form name="signIn" method="post" action="/ap/signin">'
        '<input type="hidden" name="email" value="x"></form>',
    )
    page = classify_page(html)
    assert page.kind is PageKind.PASSKEY
    assert page.error_message == "This device doesn\u2019t support passkeys."


def test_gokuprops_alone_is_a_bot_challenge() -> None:
    """The WAF challenge parameters alone give the bot wall away."""
    html = "<html><head><script>window.gokuProps = {};</script></head><body></body></html>"
    assert classify_page(html).kind is PageKind.BOT_CHALLENGE


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><noscript>Please enable JavaScript to continue.</noscript></body></html>",
        sample("home-page"),
    ],
    ids=["bare-noscript", "home-page"],
)
def test_noscript_notice_is_not_a_bot_challenge(html: str) -> None:
    """The enable-JavaScript notice alone is not a bot wall."""
    assert "enable JavaScript" in html
    assert classify_page(html).kind is PageKind.UNKNOWN


def test_sign_in_and_mfa_pages_carry_the_noscript_notice() -> None:
    """Ordinary pages with the notice keep their own kind."""
    assert "<noscript>" in sample("combined")
    assert "<noscript>" in sample("mfa")
    assert classify_page(sample("combined")).kind is PageKind.SIGN_IN
    assert classify_page(sample("mfa")).kind is PageKind.MFA


# --- lockout, missing account, success, unknown -----------------------------------------------


def test_otp_challenge_options_mean_locked() -> None:
    """The OTP challenge options are the lockout's challenge."""
    html = (
        '<form method="post" action="/ap/challenge">'
        '<input type="radio" name="OTPChallengeOptions" value="x"></form>'
    )
    assert classify_page(html).kind is PageKind.ACCOUNT_LOCKED


def test_lockout_text_on_a_page_without_known_forms() -> None:
    """A lockout phrase in the visible text of an otherwise unknown page."""
    html = "<html><body><h1>Sorry</h1><div>Your account is on hold.</div></body></html>"
    page = classify_page(html)
    assert page.kind is PageKind.ACCOUNT_LOCKED
    assert page.error_message == "Your account is on hold."


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (
            (
                f"{HOST}/ap/maplanding?openid.assoc_handle=amzn_dp_project_dee_ios"
                "&openid.oa2.authorization_code=ANeGrdrnBRfxyPFeCHsnRVmI&openid.mode=id_res"
            ),
            "ANeGrdrnBRfxyPFeCHsnRVmI",
        ),
        ("/ap/maplanding?openid.oa2.authorization_code=AB%2FCD", "AB/CD"),
        (f"{HOST}/ap/maplanding#openid.oa2.authorization_code=XYZ", "XYZ"),
    ],
    ids=["landing-url", "relative-location", "fragment"],
)
def test_success_from_url(url: str, code: str) -> None:
    """The authorization code is read from the URL, whatever the body."""
    # Whatever the body: the landing page is a 404 "page not found".
    for html in ("", sample("home-page"), sample("combined")):
        page = classify_page(html, url)
        assert page.kind is PageKind.SUCCESS
        assert page.authorization_code == code


def test_empty_authorization_code_is_not_success() -> None:
    """An empty code is no success."""
    page = classify_page("", f"{HOST}/ap/maplanding?openid.oa2.authorization_code=&x=1")
    assert page.kind is PageKind.UNKNOWN
    assert page.authorization_code is None


@pytest.mark.parametrize("html", ["", sample("home-page"), "\x00\xff\ufffd" * 50])
def test_unknown_pages(html: str) -> None:
    """Pages that are none of the sign-in pages are unknown, without a message."""
    page = classify_page(html, HOST)
    assert page == Page(kind=PageKind.UNKNOWN)


def test_unknown_page_keeps_amazon_message() -> None:
    """An unknown page still reports Amazon's message."""
    html = samples.page(
        "Amazon", samples.error_box("Something odd", box_id="auth-warning-message-box")
    )
    page = classify_page(html)
    assert page.kind is PageKind.UNKNOWN
    assert page.error_message == "Something odd"


# --- form and message parsing details ---------------------------------------------------------


def test_form_fields_follow_browser_rules() -> None:
    """Fields are collected as a browser would submit them."""
    # A nested <form> is ignored (its fields join the outer form, and its end tag closes the
    # outer one); the first of duplicate attributes wins.
    html = """<form name="signIn" method="POST" action="/ap/signin">
      <input type="hidden" name="dup" value="first" name="second-name">
      <input name="untyped" value="u">
      <input type="email" name="email">
      <input type="password" id="ap_password" name="password" value="">
      <input type="checkbox" name="rememberMe" value="true">
      <input type="radio" name="pick" value="a"><input type="radio" name="pick" value="b" checked>
      <select name="lang"><option value="en">English<option value="de" selected>Deutsch</select>
      <select name="plain"><option>One</option><option>Two</option></select>
      <textarea name="note">hi &amp; bye</textarea>
      <button name="action" value="go">Go</button><button>nameless</button>
      <input type="submit">
      <form name="inner" action="/elsewhere"><input type="hidden" name="nested" value="n">
    </form>
    <input type="hidden" name="outside" value="o">"""
    page = classify_page(html)
    assert page.kind is PageKind.SIGN_IN
    assert page.form == ParsedForm(
        action="/ap/signin",
        method="POST",
        fields={
            "nested": "n",
            "dup": "first",
            "untyped": "u",
            "email": "",
            "password": "",
            "rememberMe": "true",
            "pick": "b",
            "lang": "de",
            "plain": "One",
            "note": "hi & bye",
            "action": "go",
        },
        form_id=None,
        form_name="signIn",
    )


def test_method_defaults_to_get() -> None:
    """A form without a method submits by GET."""
    html = '<form action="/errors/validateCaptcha"><input id="captchacharacters"></form>'
    page = classify_page(html)
    assert page.form is not None
    assert page.form.method == "GET"


def test_message_box_joins_items_and_drops_heading() -> None:
    """Several messages are joined; errors come before warnings."""
    html = samples.page(
        "Amazon Sign-In",
        samples.error_box("First   problem.", "Second\n problem.")
        + samples.error_box("A warning.", box_id="auth-warning-message-box")
        + """<form name="signIn" method="post" action="/ap/signin">
             <input type="email" name="email"></form>""",
    )
    page = classify_page(html)
    assert page.error_message == "First problem. Second problem. A warning."


def test_repr_shows_no_field_values_or_code() -> None:
    """The repr names fields but never shows their values or the code."""
    page = classify_page(sample("password-with-passkey-button"), SIGN_IN_URL)
    text = repr(page)
    assert EMAIL not in text
    assert "kq1Y0mZ2j3D" not in text
    assert "'email'" in text
    assert "sign_in" in text
    success = classify_page("", f"{HOST}/ap/maplanding?openid.oa2.authorization_code=SECRET1")
    assert "SECRET1" not in repr(success)
    chooser = classify_page(sample("device-chooser"))
    assert "ctx-sms-1" not in repr(chooser)
    assert "TOTP" in repr(chooser)


# --- never raises -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        ("<![foo[ x", PageKind.UNKNOWN),
        ("<![ bogus ]]><form name=signIn><input type=password id=ap_password>", PageKind.SIGN_IN),
        ("<!-- unclosed comment <form name=signIn>", PageKind.UNKNOWN),
        ("<form name=signIn><input type=email name=email", PageKind.UNKNOWN),
        ("<div id=auth-error-message-box><li>cut", PageKind.UNKNOWN),
        ("&#99999999999; &#xD800; &#0; &bogus; &amp", PageKind.UNKNOWN),
        ("\x00<div\x00 id=\x00>\x00</div>", PageKind.UNKNOWN),
        ("<a " + " ".join(f"x{i}=y" for i in range(5000)) + ">", PageKind.UNKNOWN),
        ("<div class=aok-hidden>" * 5000 + "Your account is on hold", PageKind.UNKNOWN),
        ("<li>" * 20000 + "</p>" * 20000, PageKind.UNKNOWN),
        ("<script>window.gokuProps = {", PageKind.BOT_CHALLENGE),
        ("<select name=a><option><option selected>", PageKind.UNKNOWN),
        ("<textarea name=t>never closed", PageKind.UNKNOWN),
        ("</form></form></div><form><form></label>", PageKind.UNKNOWN),
    ],
    ids=lambda value: repr(value[:20]) if isinstance(value, str) else str(value),
)
def test_malformed_input_is_classified(html: str, kind: PageKind) -> None:
    """Broken markup is classified the way a browser would read it, never raised."""
    page = classify_page(html, "http://[::1")
    assert page.kind is kind
    assert_consistent(page, "http://[::1")


def test_malformed_input_keeps_what_it_could_read() -> None:
    """A message box cut off by the end of the page still gives Amazon's text."""
    assert classify_page("<div id=auth-error-message-box><li>cut").error_message == "cut"


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        # A tag cut off by the end of the input is dropped, as HTML5 does.
        ('<form name="signIn" action="/ap/signin"><input type="email" name="email"', "unknown"),
        # An unterminated script runs to the end and is still read.
        ("<html><head><script>window.gokuProps = {key: 1", "bot_challenge"),
        # Trailing text the parser held back (a possible half character reference) is kept.
        ("<div>Your account is on hold &amp", "account_locked"),
        # An unterminated comment swallows the rest.
        ("<div>Hello</div><!-- <div>Your account is on hold</div>", "unknown"),
        # Many unterminated constructs: handled in one step, not one "<" at a time.
        ("<a b='" * 3000, "unknown"),
        ("<!--" * 3000, "unknown"),
    ],
    ids=["cut-tag", "open-script", "held-back-text", "open-comment", "open-attrs", "open-comments"],
)
def test_end_of_input_follows_html5(html: str, kind: str) -> None:
    """What the parser could not finish at the end of the input is settled like a browser."""
    assert classify_page(html).kind == kind


def test_every_sample_truncated_at_every_97th_offset() -> None:
    """Every sample cut short anywhere still classifies."""
    for name, html in samples.ALL.items():
        for end in range(0, len(html), 97):
            page = classify_page(html[:end], SIGN_IN_URL)
            try:
                assert_consistent(page, SIGN_IN_URL)
            except AssertionError as err:
                err.add_note(f"{name} cut at {end}")
                raise


_TAGS = st.sampled_from(
    [
        "form",
        "input",
        "div",
        "span",
        "li",
        "ul",
        "h4",
        "label",
        "select",
        "option",
        "textarea",
        "button",
        "script",
        "style",
        "img",
        "noscript",
        "p",
    ]
)
_ATTR_NAMES = st.sampled_from(
    [
        "id",
        "class",
        "name",
        "type",
        "value",
        "action",
        "method",
        "src",
        "alt",
        "checked",
        "selected",
        "hidden",
        "style",
        "for",
        "data-challenge-type",
    ]
)
_ATTR_VALUES = st.one_of(
    st.sampled_from(
        [
            "signIn",
            "ap_login_form",
            "auth-mfa-form",
            "auth-mfa-otpcode",
            "auth-select-device-form",
            "otpDeviceContext",
            "auth-TOTP",
            "auth-error-message-box",
            "cvf-widget-alert",
            "cvf-page-content",
            "aok-hidden",
            "display:none",
            "password",
            "email",
            "radio",
            "hidden",
            "captcha",
            "auth-captcha-image",
            "captchacharacters",
            "/errors/validateCaptcha",
            "verify",
            "pollingForm",
            "forgotPassword",
            "WAF_X",
            "http://[::1",
        ]
    ),
    st.text(max_size=12),
)
_ATTR = st.builds(
    lambda name, value, quote: f"{name}={quote}{value}{quote}",
    _ATTR_NAMES,
    _ATTR_VALUES,
    st.sampled_from(['"', "'", ""]),
)
_FRAGMENT = st.one_of(
    st.builds(
        lambda tag, attrs, close: f"<{tag} {' '.join(attrs)}{close}",
        _TAGS,
        st.lists(_ATTR, max_size=4),
        st.sampled_from([">", "/>", ""]),
    ),
    st.builds(lambda tag: f"</{tag}>", _TAGS),
    st.sampled_from(
        [
            "<!--",
            "-->",
            "<![",
            "<![CDATA[",
            "]]>",
            "<!DOCTYPE",
            "<?",
            "&",
            "&#",
            "&#x110000;",
            "\x00",
            "This device does not support passkeys.",
            "unusual activity",
            "gokuProps",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400), url=st.text(max_size=60))
def test_random_text_never_raises(text: str, url: str) -> None:
    """Any text and URL classify without raising, into a consistent page."""
    assert_consistent(classify_page(text, url), url)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments=st.lists(_FRAGMENT, max_size=40))
def test_random_html_fragments_never_raise(fragments: list[str]) -> None:
    """Random HTML-ish soup made of the classifier's own signals never raises."""
    assert_consistent(classify_page("".join(fragments), SIGN_IN_URL), SIGN_IN_URL)


# --- hostile pages: bounded in size, markup and memory ----------------------------------------

#: Peak memory the reader may hold while classifying: a multiple of the page's size, plus a
#: little per tag it keeps (at most MAX_MARKUP of them).
_MEMORY_FACTOR = 4
_BYTES_PER_TAG = 200


def test_page_over_the_size_bound_is_a_temporary_error() -> None:
    """A page over the size bound is not read: a temporary error with the guide's section."""
    with pytest.raises(PageTooLargeError) as caught:
        classify_page("<div>" + "x" * MAX_PAGE_CHARS + "</div>", SIGN_IN_URL)
    error = caught.value
    assert isinstance(error, UnexpectedResponseError)
    assert error.category is ErrorCategory.TEMPORARY
    assert not error.needs_user
    assert error.guide_slug is GuideSlug.AMAZON_UNREACHABLE
    assert "2 million" in error.message


def test_the_size_bound_is_not_hit_by_a_page_at_the_bound() -> None:
    """The bound is inclusive: a page of exactly the largest size is still read."""
    html = sample("combined")
    page = classify_page(html + " " * (MAX_PAGE_CHARS - len(html)), SIGN_IN_URL)
    assert page.kind is PageKind.SIGN_IN


@pytest.mark.parametrize(
    "html",
    [
        "<a>" * (MAX_MARKUP + 1),
        "</a>" * (MAX_MARKUP + 1),
        "<!---->" * (MAX_MARKUP + 1),
        "<a " + "b " * MAX_MARKUP + ">",
        "<a b='" * (MAX_MARKUP + 1),
        "<form>" + "<input name=a>" * MAX_MARKUP,
        "<div id=cvf-page-content>" + "<span class=auth-sms>" * 2000 + "<b></b>" * MAX_MARKUP,
    ],
    ids=["tags", "end-tags", "comments", "attributes", "open-attributes", "inputs", "deep-stack"],
)
def test_endless_markup_is_a_temporary_error(html: str) -> None:
    """More tags, attributes or comments than any real page has: not read, temporary error."""
    assert len(html) <= MAX_PAGE_CHARS
    with pytest.raises(PageTooLargeError) as caught:
        classify_page(html, SIGN_IN_URL)
    assert f"{MAX_MARKUP:,}" in caught.value.message


def test_a_real_page_is_far_from_the_markup_bound() -> None:
    """Amazon-sized pages: the biggest sample repeated to a few hundred kB still classifies."""
    html = sample("combined") * 60
    assert classify_page(html, SIGN_IN_URL).kind is PageKind.SIGN_IN


_TEXT_PAGE = 500_000


@pytest.mark.parametrize(
    ("html", "tags"),
    [
        ("<" * _TEXT_PAGE, 0),
        ("<a" * (_TEXT_PAGE // 2), 0),
        ("x" * _TEXT_PAGE, 0),
        ("&lt;" * (_TEXT_PAGE // 4), 0),
        ("<p>ab" * 10_000, 10_000),
        ("<form>" + "<input name=a value=b>" * 5_000, 15_000),
        (
            "<div id=auth-error-message-box><ul>" + "<li>Your account is on hold" * 10_000,
            10_000,
        ),
    ],
    ids=["lt", "lt-letter", "text", "entities", "paragraphs", "inputs", "error-items"],
)
def test_hostile_page_memory_stays_a_small_multiple_of_the_page(html: str, tags: int) -> None:
    """
    What the reader holds at its peak stays within a few times the page, plus a little per tag.

    html.parser needed ~110x on some such pages. The page itself is not counted here.
    """
    tracemalloc.start()
    try:
        classify_page(html, SIGN_IN_URL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= _MEMORY_FACTOR * len(html) + _BYTES_PER_TAG * tags, f"{peak / len(html):.1f}x"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(" a\t\n\xa0\u2003\u3000\x1cb"), max_size=60))
def test_collapse_reads_whitespace_as_str_split_does(text: str) -> None:
    """The low-memory collapse gives exactly what " ".join(text.split()) gives."""
    assert collapse(text) == " ".join(text.split())


def test_unicode_whitespace_is_every_space_character() -> None:
    """The whitespace table is exactly what str.isspace() accepts."""
    assert set(UNICODE_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}
