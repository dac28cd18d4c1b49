"""
HTML pages of the simulated Amazon sign-in.

Markup follows real captured authportal pages (form names, ids, field names, classes and the
error-box structure), trimmed of scripts and styling. Renderers are pure: they take the hidden
fields and texts the sign-in flow decided on and return the page source. Every value is escaped.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SIGNIN_ACTION: Final = "/ap/signin"
WRONG_PASSWORD: Final = "Your password is incorrect"
UNKNOWN_EMAIL: Final = "We cannot find an account with that email address"
WRONG_OTP: Final = "The One Time Password (OTP) you entered is not valid. Please try again."
MISSING_EMAIL: Final = "Enter a valid email or mobile number"
TOO_MANY_OTPS: Final = (
    "You've requested too many OTPs today. You can request a new OTP in 24 hours."
)
PASSKEY_UNSUPPORTED: Final = (
    "This device does not support passkeys. For security reasons, please sign in on the device "
    "where you created your passkey."
)
WRONG_CAPTCHA: Final = "Enter the characters as they are given in the challenge."
CHOOSE_OTP_DEVICE: Final = "Choose where to receive the One Time Password (OTP)."
UNUSUAL_ACTIVITY: Final = (
    "We have detected unusual activity on your account. To continue, reset your password."
)
WAF_NOSCRIPT: Final = "In order to continue, we need to verify that you're not a robot."
#: What Amazon shows for a wrong or stale password since 2026 (AMP #3382, #3513, #3520).
UNVERIFIED_MOBILE: Final = "We're unable to verify your mobile number. Try signing in again."


def _attr(value: str) -> str:
    return escape(value, quote=True)


def hidden_inputs(fields: Mapping[str, str], ids: Mapping[str, str] | None = None) -> str:
    """
    Render hidden inputs.

    :param fields: Name to value, in page order.
    :param ids: Element ids for some of the fields, by name.
    :return: One ``<input type="hidden">`` per field.
    """
    ids = ids or {}
    return "\n".join(
        f'<input type="hidden" name="{_attr(name)}"'
        + (f' id="{_attr(ids[name])}"' if name in ids else "")
        + f' value="{_attr(value)}">'
        for name, value in fields.items()
    )


def error_box(messages: Iterable[str], *, heading: str = "There was a problem") -> str:
    """
    Render Amazon's server-side error box.

    :param messages: One list item per message.
    :param heading: The alert heading.
    :return: ``div#auth-error-message-box`` markup as on the captured pages.
    """
    items = "\n".join(
        f'<li><span class="a-list-item">\n              {escape(message)}\n            </span></li>'
        for message in messages
    )
    return f"""<div id="auth-error-message-box" class="a-box a-alert a-alert-error \
auth-server-side-message-box a-spacing-base" role="alert"><div class="a-box-inner \
a-alert-container"><h4 class="a-alert-heading">{escape(heading)}</h4><i class="a-icon \
a-icon-alert"></i><div class="a-alert-content">
          <ul class="a-unordered-list a-nostyle a-vertical a-spacing-none">
            {items}
          </ul>
        </div></div></div>"""


def warning_box(message: str, *, heading: str) -> str:
    """
    Render Amazon's warning box.

    :param message: The warning text.
    :param heading: The alert heading.
    :return: ``div#auth-warning-message-box`` markup.
    """
    return f"""<div id="auth-warning-message-box" class="a-box a-alert a-alert-warning \
auth-server-side-message-box a-spacing-base" role="alert"><div class="a-box-inner \
a-alert-container"><h4 class="a-alert-heading">{escape(heading)}</h4><i class="a-icon \
a-icon-alert"></i><div class="a-alert-content">
          <ul class="a-unordered-list a-nostyle a-vertical a-spacing-none">
            <li><span class="a-list-item">{escape(message)}</span></li>
          </ul>
        </div></div></div>"""


def _document(title: str, content: str, *, site: str) -> str:
    return f"""<!doctype html>
<html lang="en-us" class="a-no-js" data-19ax5a9jf="dingo">
<head>
<meta charset="utf-8">
<title dir="ltr">{escape(title)}</title>
</head>
<body>
<div id="a-page">
<div class="a-section a-padding-medium auth-workflow">
<div class="a-section a-spacing-none auth-navbar">
<div class="a-section a-spacing-medium a-text-center">
<a class="a-link-nav-icon" tabindex="-1" href="{_attr(site)}/ref=ap_frn_logo">\
<i class="a-icon a-icon-logo" role="img" aria-label="Amazon"></i></a>
</div>
</div>
<div id="authportal-center-section" class="a-section">
<div id="authportal-main-section" class="a-section">
{content}
</div>
</div>
</div>
</div>
</body>
</html>
"""


def passkey_button_form(*, rp_id: str, challenge_id: str, challenge: str) -> str:
    """
    Render the "sign in with a passkey" form (2.5-J).

    :param rp_id: WebAuthn relying party, e.g. ``amazon.com``.
    :param challenge_id: Opaque challenge id.
    :param challenge: Opaque WebAuthn challenge.
    :return: ``form[name=signInWithPasskeyButton]`` markup.
    """
    params = base64.b64encode(json.dumps({"rpId": rp_id, "challenge": challenge}).encode()).decode()
    fields = {
        "webAuthnChallengeIdForButton": challenge_id,
        "webAuthnGetParametersForButton": params,
    }
    return f"""<form name="signInWithPasskeyButton" method="post" action="" class="a-spacing-none">
{hidden_inputs(fields)}
<span class="a-button a-button-span12 a-button-base"><span class="a-button-inner">\
<button id="continue" class="a-button-text" type="submit">Sign in with a passkey</button>\
</span></span>
</form>"""


def signin_page(  # noqa: PLR0913 - keyword-only page options
    *,
    site: str,
    hidden: Mapping[str, str],
    email_first: bool,
    email: str | None,
    errors: Iterable[str] = (),
    captcha_url: str | None = None,
    passkey_form: str | None = None,
) -> str:
    """
    Render the sign-in page: combined (2.5-A) or email-first claim page (2.5-B).

    :param site: The retail site URL the form posts to, e.g. ``https://www.amazon.com``.
    :param hidden: The hidden fields (the flow expects them echoed back).
    :param email_first: Render the email-only claim page.
    :param email: The known email: the page is then the password step and carries it hidden
        (``hidden`` must already contain it).
    :param errors: Messages for the error box.
    :param captcha_url: Add the classic image captcha (2.5-F) with this image URL.
    :param passkey_form: Markup of the passkey button form, placed before the sign-in form.
    :return: The page.
    """
    errors = list(errors)
    box = error_box(errors) if errors else ""
    if email_first and email is None:
        heading = "Sign in or create account"
        credentials = """<div class="a-section a-spacing-large">
<label for="ap_email" class="a-form-label">Enter mobile number or email</label>
<input type="email" maxlength="128" id="ap_email" autocomplete="username" name="email" value="" \
class="a-input-text a-span12 auth-autofocus auth-required-field auth-require-claim-validation">
<input type="password" maxlength="1024" id="ap-credential-autofill-hint" \
autocomplete="current-password" name="password" class="a-input-text hide">
</div>"""
        submit = """<span id="continue" class="a-button a-button-span12 a-button-primary">\
<span class="a-button-inner"><input id="continue" class="a-button-input" type="submit" \
aria-labelledby="continue-announce"><span id="continue-announce" class="a-button-text" \
aria-hidden="true">Continue</span></span></span>"""
    else:
        heading = "Sign in"
        if email is None:
            email_field = """<label for="ap_email" class="a-form-label">Email or mobile phone \
number</label>
<input type="email" maxlength="128" id="ap_email" autocomplete="username" name="email" value="" \
class="a-input-text a-span12 auth-autofocus auth-required-field">
<div id="auth-email-missing-alert" class="a-box a-alert-inline a-alert-inline-error \
auth-inlined-error-message a-spacing-top-mini" role="alert" style="display:none">\
<div class="a-box-inner a-alert-container"><div class="a-alert-content">Enter your email or \
mobile phone number</div></div></div>"""
        else:
            email_field = f"""<div class="a-row a-spacing-base"><span>{escape(email)}</span> \
<a id="ap_change_login_claim" class="a-link-normal" href="{_attr(site)}/ap/signin">Change</a>\
</div>
<input type="email" maxlength="128" id="ap-credential-autofill-hint" autocomplete="username" \
name="email" class="a-input-text hide">"""
        credentials = f"""<div class="a-section a-spacing-large">
{email_field}
<div class="a-row a-spacing-small"><label for="ap_password" class="a-form-label">Password\
</label></div>
<input type="password" maxlength="1024" id="ap_password" autocomplete="current-password" \
name="password" class="a-input-text a-span12 auth-required-field">
<div id="auth-password-missing-alert" class="a-box a-alert-inline a-alert-inline-error \
auth-inlined-error-message a-spacing-top-mini" role="alert" style="display:none">\
<div class="a-box-inner a-alert-container"><div class="a-alert-content">Enter your password\
</div></div></div>
</div>"""
        submit = """<span id="auth-signin-button" class="a-button a-button-span12 \
a-button-primary auth-disable-button-on-submit"><span class="a-button-inner">\
<input id="signInSubmit" class="a-button-input" type="submit" \
aria-labelledby="auth-signin-button-announce"><span id="auth-signin-button-announce" \
class="a-button-text" aria-hidden="true">Sign in</span></span></span>"""
    captcha = ""
    if captcha_url is not None:
        captcha = f"""<div id="auth-captcha-image-container" class="a-section a-spacing-base \
a-text-center">
<img alt="Visual CAPTCHA image, continue down for an audio option." src="{_attr(captcha_url)}" \
id="auth-captcha-image" data-refresh-url="/ap/captcha?appAction=SIGNIN&amp;captchaType=image">
</div>
<label for="auth-captcha-guess" class="a-form-label">Type characters</label>
<input type="text" maxlength="1024" id="auth-captcha-guess" autocomplete="off" name="guess" \
class="a-input-text a-span12 auth-required-field auth-autofocus">"""
    content = f"""<div class="a-section auth-pagelet-container">
{box}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1 class="a-spacing-small">{heading}</h1>
{passkey_form or ""}
<form name="signIn" method="post" novalidate action="{_attr(site)}{SIGNIN_ACTION}" \
class="auth-validate-form auth-real-time-validation a-spacing-none">
{hidden_inputs(hidden, {"email": "ap_email"} if email is not None else None)}
{credentials}
{captcha}
<div class="a-section a-spacing-extra-large">
{submit}
<div class="a-row a-spacing-top-medium"><label for="auth-remember-me" class="a-form-label">\
<input type="checkbox" id="auth-remember-me" name="rememberMe" value="true">\
<span class="a-label a-checkbox-label">Keep me signed in.</span></label></div>
</div>
</form>
</div></div>
</div>"""
    return _document("Amazon Sign-In", content, site=site)


def mfa_page(
    *,
    site: str,
    hidden: Mapping[str, str],
    new_otp_url: str,
    errors: Iterable[str] = (),
    sent_to: str | None = None,
) -> str:
    """
    Render the two-step verification page (2.5-C).

    :param site: Retail site URL the form posts to.
    :param hidden: The hidden fields.
    :param new_otp_url: Target of "Didn't receive the OTP?".
    :param errors: Messages for the error box.
    :param sent_to: Masked phone number when the code went out by SMS or voice.
    :return: The page.
    """
    errors = list(errors)
    box = error_box(errors) if errors else ""
    if sent_to is None:
        intro = (
            "For added security, please enter the One Time Password (OTP) generated by your "
            "Authenticator App"
        )
    else:
        intro = (
            "For added security, please enter the One Time Password (OTP) sent to "
            f"{escape(sent_to)}"
        )
    content = f"""<div class="a-section auth-pagelet-container">
{box}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<form id="auth-mfa-form" method="post" novalidate action="{_attr(site)}{SIGNIN_ACTION}" \
class="a-spacing-none">
{hidden_inputs(hidden)}
<h1>Two-Step Verification</h1>
<p>{intro}</p>
<div class="a-row a-spacing-small"><label for="auth-mfa-otpcode" class="a-form-label">Enter OTP:\
</label></div>
<input type="tel" id="auth-mfa-otpcode" name="otpCode" maxlength="20" autocomplete="off" \
class="a-input-text a-span12 auth-autofocus auth-required-field">
<div class="a-row"><label for="auth-mfa-remember-device" class="a-form-label">\
<input type="checkbox" id="auth-mfa-remember-device" name="rememberDevice" value="">\
<span class="a-label a-checkbox-label">Don't require OTP on this browser</span></label></div>
<span class="a-button a-button-span12 a-button-primary"><span class="a-button-inner">\
<input id="auth-signin-button" name="mfaSubmit" class="a-button-input" type="submit" \
aria-labelledby="auth-signin-button-announce"><span id="auth-signin-button-announce" \
class="a-button-text" aria-hidden="true">Sign in</span></span></span>
<div class="a-row"><a id="auth-get-new-otp-link" class="a-link-normal" \
href="{_attr(new_otp_url)}">Didn't receive the OTP?</a></div>
</form>
</div></div>
</div>"""
    return _document("Two-Step Verification", content, site=site)


def device_chooser_page(
    *,
    site: str,
    hidden: Mapping[str, str],
    options: Iterable[tuple[str, str, str]],
    errors: Iterable[str] = (),
) -> str:
    """
    Render the OTP device chooser (2.5-D).

    :param site: Retail site URL (for the logo link; the form posts to ``""``).
    :param hidden: The hidden fields.
    :param options: ``(value, kind, label)`` per radio; kind is ``TOTP``, ``SMS`` or ``VOICE``.
    :param errors: Messages for the error box.
    :return: The page.
    """
    errors = list(errors)
    box = error_box(errors) if errors else ""
    radios = "\n".join(
        f"""<div data-a-input-name="otpDeviceContext" class="a-radio a-radio-fancy auth-{kind}">\
<label><input type="radio" name="otpDeviceContext" value="{_attr(value)}"\
{" checked" if index == 0 else ""}><i class="a-icon a-icon-radio"></i>\
<span class="a-label a-radio-label">{escape(label)}</span></label></div>"""
        for index, (value, kind, label) in enumerate(options)
    )
    content = f"""<div class="a-section auth-pagelet-container">
{box}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<form id="auth-select-device-form" method="post" action="" class="a-spacing-none">
{hidden_inputs(hidden)}
<h1>Two-Step Verification</h1>
<p>{escape(CHOOSE_OTP_DEVICE)}</p>
<fieldset class="a-spacing-small">
{radios}
</fieldset>
<span class="a-button a-button-span12 a-button-primary"><span class="a-button-inner">\
<input id="auth-send-code" class="a-button-input" type="submit" \
aria-labelledby="auth-send-code-announce"><span id="auth-send-code-announce" \
class="a-button-text" aria-hidden="true">Send OTP</span></span></span>
</form>
</div></div>
</div>"""
    return _document("Two-Step Verification", content, site=site)


def cvf_captcha_page(
    *, site: str, hidden: Mapping[str, str], captcha_url: str, wrong: bool = False
) -> str:
    """
    Render the CVF image captcha (2.5-E); its form posts to the relative action ``verify``.

    :param site: Retail site URL.
    :param hidden: The hidden fields.
    :param captcha_url: Image URL.
    :param wrong: Show the "enter the characters" alert.
    :return: The page.
    """
    alert = ""
    if wrong:
        alert = f"""<div class="a-box a-alert-inline a-alert-inline-error cvf-widget-alert" \
role="alert"><div class="a-box-inner a-alert-container"><i class="a-icon a-icon-alert"></i>\
<div class="a-alert-content">{escape(WRONG_CAPTCHA)}</div></div></div>"""
    content = f"""<div id="cvf-page-content" class="a-section">
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Authentication required</h1>
<form method="post" action="verify" class="cvf-widget-form cvf-widget-form-captcha fwcim-form">
{hidden_inputs(hidden)}
<p>Enter the characters you see</p>
{alert}
<div class="a-row a-text-center"><img alt="captcha" src="{_attr(captcha_url)}"></div>
<input type="text" name="cvf_captcha_input" autocomplete="off" \
class="a-input-text a-span12 cvf-widget-input cvf-widget-input-captcha">
<span class="a-button"><span class="a-button-inner"><input name="cvf_captcha_captcha_action" \
class="a-button-input" type="submit" value="newCaptcha"><span class="a-button-text">\
See a new challenge</span></span></span>
<span class="a-button"><span class="a-button-inner"><input name="cvf_captcha_captcha_action" \
class="a-button-input" type="submit" value="alternativeCaptcha"><span class="a-button-text">\
Hear the audio</span></span></span>
<span class="a-button a-button-primary"><span class="a-button-inner">\
<input name="cvf_captcha_captcha_action" class="a-button-input" type="submit" \
value="verifyCaptcha"><span class="a-button-text">Continue</span></span></span>
</form>
</div></div>
</div>"""
    return _document("Authentication required", content, site=site)


def aamation_page(*, site: str, hidden: Mapping[str, str]) -> str:
    """
    Render the CVF "aamation" (adversarial grid) challenge; unsolvable without a browser.

    :param site: Retail site URL.
    :param hidden: The hidden fields.
    :return: The page.
    """
    content = f"""<div id="cvf-page-content" class="a-section">
<div id="cvf-aamation-container" class="a-section" \
data-challenge-type="WAF_ADVERSARIAL_SYNTHETIC_GRID_LEVEL_1" data-aamation-mode="DEFAULT">
<h1>Solve this puzzle to protect your account</h1>
<form id="cvf-aamation-challenge-form" method="post" action="verify" class="cvf-widget-form">
{hidden_inputs(hidden)}
</form>
</div>
</div>"""
    return _document("Authentication required", content, site=site)


def robot_check_page(*, hidden: Mapping[str, str], captcha_url: str) -> str:
    """
    Render the robot-check captcha (2.5-G); the form GETs ``/errors/validateCaptcha``.

    :param hidden: ``amzn``, ``amzn-r``, ``amzn-pt``.
    :param captcha_url: Image URL.
    :return: The page.
    """
    return f"""<!doctype html>
<html class="a-no-js" lang="en-us"><head>
<meta charset="utf-8">
<title dir="ltr">Amazon.com</title>
</head>
<body>
<div class="a-container a-padding-double-large" style="min-width:350px;padding:44px 0 !important">
<div class="a-row a-spacing-double-large" style="width: 350px; margin: 0 auto">
<div class="a-row a-spacing-medium a-text-center"><i class="a-icon a-logo"></i></div>
<div class="a-box a-alert a-alert-info a-spacing-base"><div class="a-box-inner">
<i class="a-icon a-icon-alert"></i>
<h4>Enter the characters you see below</h4>
<p class="a-last">Sorry, we just need to make sure you're not a robot. For best results, please \
make sure your browser is accepting cookies.</p>
</div></div>
<form method="get" action="/errors/validateCaptcha" name="">
{hidden_inputs(hidden)}
<div class="a-row a-spacing-large"><div class="a-box"><div class="a-box-inner">
<h4>Type the characters you see in this image:</h4>
<div class="a-row a-text-center"><img src="{_attr(captcha_url)}"></div>
<div class="a-row a-spacing-base"><input autocomplete="off" spellcheck="false" \
placeholder="Type characters" id="captchacharacters" name="field-keywords" class="a-span12" \
autocapitalize="off" autocorrect="off" type="text"></div>
</div></div></div>
<div class="a-section a-spacing-extra-large"><span class="a-button a-button-primary a-span12">\
<span class="a-button-inner"><button type="submit" class="a-button-text">Continue shopping\
</button></span></span></div>
</form>
</div>
</div>
</body></html>
"""


def approval_page(
    *,
    site: str,
    verify_fields: Mapping[str, str],
    arb: str,
    status: str = "TransactionPending",
    errors: Iterable[str] = (),
) -> str:
    """
    Render the CVF approval / verification-code page (2.5-H).

    :param site: Retail site URL.
    :param verify_fields: Hidden fields of ``form#verification-code-form``.
    :param arb: The transaction handle the resend and polling forms carry.
    :param status: Value of ``input#transactionApprovalStatus``.
    :param errors: Messages for the error box.
    :return: The page.
    """
    errors = list(errors)
    box = error_box(errors) if errors else ""
    arb_field = hidden_inputs({"arb": arb})
    # otpCode is a hidden input with an id; the page's script copies the visible box into it.
    verify_hidden = {key: value for key, value in verify_fields.items() if key != "otpCode"}
    otp_value = _attr(verify_fields.get("otpCode", ""))
    content = f"""<div id="cvf-page-content" class="a-section">
{box}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Approve the notification</h1>
<div id="channelDetails" class="a-section">
<span class="transaction-approval-word-break">We've sent a notification to your registered \
device and email. Approve it to continue signing in.</span>
</div>
<input type="hidden" id="transactionApprovalStatus" name="transactionApprovalStatus" \
value="{_attr(status)}">
<form id="verification-code-form" method="post" action="/ap/cvf/approval/verifyOtp" \
class="cvf-widget-form">
{hidden_inputs(verify_hidden)}
<input type="hidden" id="otpCode" name="otpCode" value="{otp_value}">
<label for="input-box-otp" class="a-form-label">Or enter the code we sent</label>
<input type="tel" id="input-box-otp" maxlength="6" autocomplete="off" class="a-input-text">
<span class="a-button a-button-primary"><span class="a-button-inner">\
<input class="a-button-input" type="submit"><span class="a-button-text">Submit code</span>\
</span></span>
</form>
<form id="resend-approval-form" method="post" action="/ap/cvf/approval/resend" \
class="cvf-widget-form">
{arb_field}
<a id="resend-approval-link" class="a-link-normal" href="#">Resend notification</a>
</form>
<form id="pollingForm" method="get" action="/ap/cvf/approval/poll">
{arb_field}
</form>
</div></div>
</div>"""
    return _document("Authentication required", content, site=site)


def waf_challenge_page(*, key: str, iv: str, context: str, script_url: str) -> str:
    """
    Render the AWS WAF JavaScript challenge (2.5-I): no form at all.

    :param key: ``gokuProps.key``.
    :param iv: ``gokuProps.iv``.
    :param context: ``gokuProps.context``.
    :param script_url: URL of ``challenge.js``.
    :return: The page.
    """
    props = json.dumps({"key": key, "iv": iv, "context": context})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title></title>
<style>body {{ font-family: "Arial" }}</style>
<script type="text/javascript">
window.awsWafCookieDomainList = [];
window.gokuProps = {props};
</script>
<script src="{_attr(script_url)}"></script>
</head>
<body>
<div id="challenge-container"></div>
<script type="text/javascript">
AwsWafIntegration.saveReferrer();
AwsWafIntegration.checkForceRefresh().then((forceRefresh) => {{
  if (forceRefresh) {{ AwsWafIntegration.forceRefreshToken().then(() => {{
    window.location.reload(true); }}); }}
  else {{ AwsWafIntegration.getToken().then(() => {{ window.location.reload(true); }}); }}
}});
</script>
<noscript>
<h1>JavaScript is disabled</h1>
{escape(WAF_NOSCRIPT)} This requires JavaScript. Enable JavaScript and then reload the page.
</noscript>
</body>
</html>
"""


def lockout_page(*, site: str, hidden: Mapping[str, str], email: str) -> str:
    """
    Render the forgot-password page Amazon shows after too many failed sign-ins.

    :param site: Retail site URL.
    :param hidden: The hidden fields of ``form[name=forgotPassword]``.
    :param email: Pre-filled email.
    :return: The page.
    """
    content = f"""<div class="a-section auth-pagelet-container">
{warning_box(UNUSUAL_ACTIVITY, heading="Important Message!")}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Password assistance</h1>
<p>Enter the email address or mobile phone number associated with your Amazon account.</p>
<form name="forgotPassword" method="post" novalidate action="{_attr(site)}/ap/forgotpassword" \
class="auth-validate-form a-spacing-none">
{hidden_inputs(hidden)}
<label for="ap_email" class="a-form-label">Email or mobile phone number</label>
<input type="email" maxlength="128" id="ap_email" name="email" value="{_attr(email)}" \
class="a-input-text a-span12 auth-autofocus auth-required-field">
<span class="a-button a-button-span12 a-button-primary"><span class="a-button-inner">\
<input id="continue" class="a-button-input" type="submit"><span class="a-button-text">Continue\
</span></span></span>
</form>
</div></div>
</div>"""
    return _document("Amazon Password Assistance", content, site=site)


def intent_confirmation_page(*, site: str, hidden: Mapping[str, str], email: str) -> str:
    """
    Render the "new to Amazon" intent confirmation (2.5-K): the account does not exist.

    :param site: Retail site URL.
    :param hidden: ``claimCollectionLayoutType``, ``email``, ``arb``, ``csrf-token``.
    :param email: The email that was entered.
    :return: The page.
    """
    content = f"""<div class="a-section auth-pagelet-container">
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Looks like you are new to Amazon</h1>
<div class="a-row a-spacing-base"><span>{escape(email)}</span></div>
<form id="intent-confirmation-form" method="post" \
action="{_attr(site)}/ap/register?openid.assoc_handle=amzn_dp_project_dee_ios" \
class="a-spacing-none">
{hidden_inputs(hidden)}
<span class="a-button a-button-span12 a-button-primary"><span class="a-button-inner">\
<input id="intent-confirmation-button" class="a-button-input" type="submit">\
<span class="a-button-text">Proceed to create an account</span></span></span>
</form>
</div></div>
</div>"""
    return _document("Amazon Registration", content, site=site)


def passkey_forced_page(*, site: str, passkey_form: str) -> str:
    """
    Render the page Amazon shows when it insists on a passkey: no password, no OTP field.

    :param site: Retail site URL.
    :param passkey_form: Markup of the passkey button form.
    :return: The page.
    """
    content = f"""<div class="a-section auth-pagelet-container">
{warning_box(PASSKEY_UNSUPPORTED, heading="Sign in with your passkey")}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Sign in with your passkey</h1>
<p>{escape(PASSKEY_UNSUPPORTED)}</p>
{passkey_form}
</div></div>
</div>"""
    return _document("Amazon Sign-In", content, site=site)


def unverified_mobile_page(*, site: str, return_to: str) -> str:
    """
    Render the CVF page saying Amazon cannot verify the mobile number (a refused password).

    Its only way on is a link back to the start of the sign-in.

    :param site: Retail site URL.
    :param return_to: Where the "sign in" link leads back to.
    :return: The page.
    """
    content = f"""<div id="cvf-page-content" class="a-section">
{error_box([UNVERIFIED_MOBILE])}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
<h1>Verify mobile number</h1>
<p>For your security, we need to verify your identity.</p>
<a id="cvf-back-to-signin" class="a-link-normal" href="{_attr(return_to)}">Sign in</a>
</div></div>
</div>"""
    return _document("Authentication required", content, site=site)


def error_page(*, site: str, title: str, message: str) -> str:
    """
    Render an authportal error page (``#ap_error_page_message`` and ``#ap_error_return_home``).

    :param site: Retail site URL.
    :param title: Page heading.
    :param message: Explanation.
    :return: The page.
    """
    content = f"""<div class="a-section a-spacing-medium a-text-center">
<h1 id="ap_error_page_title">{escape(title)}</h1>
<p id="ap_error_page_message">{escape(message)}</p>
<a id="ap_error_return_home" class="a-link-normal" href="{_attr(site)}/">Return to Amazon</a>
</div>"""
    return _document("Amazon Sign-In", content, site=site)


def not_found_page(*, site: str) -> str:
    """
    Render Amazon's "page not found" (also what ``/ap/maplanding`` answers, with status 404).

    :param site: Retail site URL.
    :return: The page.
    """
    content = f"""<div class="a-section a-spacing-medium a-text-center">
<h1 id="ap_error_page_title">Looking for something?</h1>
<p id="ap_error_page_message">We're sorry. The Web address you entered is not a functioning \
page on our site.</p>
<a id="ap_error_return_home" class="a-link-normal" href="{_attr(site)}/ref=cs_404_link">\
Go to Amazon's Home Page</a>
</div>"""
    return _document("Page Not Found", content, site=site)


def spa_index_page() -> str:
    """
    Render a stand-in for the Alexa web app's ``/spa/index.html``.

    :return: The page.
    """
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Amazon Alexa</title></head>
<body><div id="root"></div></body></html>
"""
