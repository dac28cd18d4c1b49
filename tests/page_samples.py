"""
Sample Amazon sign-in pages for the page classifier's tests.

Written for these tests from the documented structure of Amazon's authportal pages (form ids,
field names, error-box markup and texts); they are not captured pages. Each keeps the parts the
classifier must see or must ignore: the real forms and ids, hidden fields, the <noscript>
notice every Amazon page carries, inline scripts and styles, and some unrelated chrome.
"""

from __future__ import annotations

from typing import Final

EMAIL: Final = "jane.doe@example.com"
HOST: Final = "https://www.amazon.com"
SIGN_IN_URL: Final = f"{HOST}/ap/signin?openid.mode=checkid_setup&openid.assoc_handle=amzn_dp"

_HEAD: Final = """<!DOCTYPE html>
<html lang="en-us" class="a-no-js">
<head>
  <meta charset="utf-8">
  <title dir="ltr">{title}</title>
  <link rel="stylesheet" href="https://m.media-amazon.com/images/I/auth-portal.css">
  <style>.auth-hide {{ display: none }} #ap_container {{ width: 350px }}</style>
  <script>var ue_t0 = ue_t0 || +new Date(); window.P && P.when("A").execute(function(A) {{}});
  </script>
</head>
<body class="ap-locale-en_US a-m-us a-aui_72554-c">
<noscript>
  <div class="a-box a-alert a-alert-warning"><div class="a-box-inner">
    <h4 class="a-alert-heading">Please Enable Cookies to Continue</h4>
    <p>Please enable JavaScript in your browser to use this page.</p>
  </div></div>
</noscript>
<div id="a-page"><div class="a-section a-padding-medium auth-workflow">
  <div class="a-section a-spacing-none auth-navbar">
    <a class="a-link-nav-icon" href="https://www.amazon.com/ref=ap_frn_logo">
      <i class="a-icon a-icon-logo" role="img" aria-label="Amazon"></i></a>
  </div>
  <div id="authportal-center-section" class="a-section">
"""

_FOOT: Final = """
  </div>
  <div class="a-divider a-divider-section"><div class="a-divider-inner"></div></div>
  <div id="ap-footer" class="a-section a-spacing-top-extra-large auth-footer">
    <a class="a-link-normal" href="/gp/help/customer/display.html?nodeId=508088">
      Conditions of Use</a> &nbsp;&nbsp;
    <a class="a-link-normal" href="/gp/help/customer/display.html?nodeId=468496">
      Privacy Notice</a>
    <span class="a-size-mini a-color-secondary">&copy; 1996-2026, Amazon.com, Inc.</span>
  </div>
</div></div>
<script>
  if (window.ue) {{ ue.count("auth.page", 1); }}
  var x = "<div id='auth-error-message-box'>not markup, a string</div>";
</script>
</body>
</html>
"""


def page(title: str, body: str) -> str:
    """
    Wrap a page body in Amazon's common chrome.

    :param title: The <title> text.
    :param body: The page-specific markup.
    """
    return _HEAD.format(title=title) + body + _FOOT.format()


def error_box(*messages: str, box_id: str = "auth-error-message-box") -> str:
    """
    Render Amazon's server-side message box.

    :param messages: One list item per message.
    :param box_id: ``auth-error-message-box`` or ``auth-warning-message-box``.
    """
    kind = "error" if "error" in box_id else "warning"
    items = "".join(
        f'<li><span class="a-list-item">\n              {m}\n            </span></li>'
        for m in messages
    )
    return f"""
<div id="{box_id}" class="a-box a-alert a-alert-{kind} auth-server-side-message-box a-spacing-base"
     role="alert" aria-live="assertive">
  <div class="a-box-inner a-alert-container">
    <h4 class="a-alert-heading">There was a problem</h4>
    <i class="a-icon a-icon-alert"></i>
    <div class="a-alert-content">
      <ul class="a-unordered-list a-nostyle a-vertical a-spacing-none">{items}</ul>
    </div>
  </div>
</div>"""


#: The client-side inline alerts every sign-in page ships hidden; only Amazon's script shows them.
_INLINE_ALERTS: Final = """
<div id="auth-email-missing-alert" class="a-box a-alert-inline a-alert-inline-error aok-hidden"
     role="alert"><div class="a-box-inner a-alert-container"><i class="a-icon a-icon-alert"></i>
  <div class="a-alert-content">Enter your email or mobile phone number</div></div></div>
<div id="auth-password-missing-alert" class="a-box a-alert-inline a-alert-inline-error aok-hidden"
     role="alert"><div class="a-box-inner a-alert-container"><i class="a-icon a-icon-alert"></i>
  <div class="a-alert-content">Enter your password</div></div></div>
"""

_HIDDEN_TRIO: Final = """
    <input type="hidden" name="appActionToken" value="cvpj2FvzWq8lCkDj3D">
    <input type="hidden" name="openid.return_to" value="ape:aHR0cHM6Ly93d3cuYW1hem9uLmNvbS8=">
    <input type="hidden" name="prevRID" value="ape:SkdHM1pQOE5XS0M0">
    <input type="hidden" name="workflowState" value="eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIn0.x">
"""


def _combined(error: str = "") -> str:
    return page(
        "Amazon Sign-In",
        f"""{error}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
  <h1 class="a-spacing-small">Sign in</h1>
  <form name="signIn" method="post" novalidate action="{HOST}/ap/signin"
        class="auth-validate-form auth-real-time-validation a-spacing-none">
    <input type="hidden" name="appAction" value="SIGNIN">
    {_HIDDEN_TRIO}
    <input type="hidden" name="metadata1" value="ECdITeCs:Zm9vYmFy">
    <label for="ap_email" class="a-form-label">Email or mobile phone number</label>
    <input type="email" maxlength="128" id="ap_email" autocomplete="username" name="email"
           tabindex="1" class="a-input-text a-span12 auth-autofocus auth-required-field">
    {_INLINE_ALERTS}
    <label for="ap_password" class="a-form-label">Password</label>
    <input type="password" id="ap_password" autocomplete="current-password" name="password"
           tabindex="2" class="a-input-text a-span12 auth-required-field">
    <span class="a-button a-button-primary"><span class="a-button-inner">
      <input id="signInSubmit" tabindex="5" class="a-button-input" type="submit"
             aria-labelledby="auth-signin-button-announce">
      <span id="auth-signin-button-announce" class="a-button-text">Sign in</span></span></span>
    <label for="auth-remember-me"><input type="checkbox" name="rememberMe" value="true"
           id="auth-remember-me"> Keep me signed in.</label>
  </form>
</div></div>""",
    )


#: Classic combined page: e-mail and password in one form.
COMBINED: Final = _combined()


def _claim(error: str = "", extra: str = "") -> str:
    return page(
        "Amazon Sign-In",
        f"""{error}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
  <h1 class="a-spacing-small">Sign in or create account</h1>
  <form name="signIn" method="post" novalidate action="{HOST}/ap/signin"
        class="auth-validate-form auth-real-time-validation a-spacing-none">
    <input type="hidden" name="appAction" value="SIGNIN_PWD_COLLECT">
    <input type="hidden" name="subPageType" value="SignInClaimCollect">
    {_HIDDEN_TRIO}
    <input type="hidden" name="metadata1" value="ape:dHJ1ZQ==">
    <input type="hidden" name="create" value="0">
    <label for="ap_email" class="a-form-label">Email or mobile phone number</label>
    <input type="email" maxlength="128" id="ap_email" name="email" tabindex="1"
           class="a-input-text a-span12 auth-autofocus auth-required-field">
    <input type="password" maxlength="1024" id="ap-credential-autofill-hint" name="password"
           class="a-input-text hide-credential-autofill-hint" tabindex="-1" aria-hidden="true">
    {_INLINE_ALERTS}{extra}
    <span id="continue" class="a-button a-button-span12 a-button-primary">
      <span class="a-button-inner"><input id="continue" tabindex="5" class="a-button-input"
        type="submit" aria-labelledby="continue-announce">
      <span id="continue-announce" class="a-button-text">Continue</span></span></span>
  </form>
</div></div>""",
    )


#: E-mail-first "claim collect" page.
CLAIM: Final = _claim()

#: E-mail-first page carrying the (hidden) client-side passkey message in its markup.
CLAIM_WITH_HIDDEN_PASSKEY_TEXT: Final = _claim(
    extra="""
    <div id="auth-passkey-unsupported-alert" class="a-box a-alert-inline aok-hidden">
      <div class="a-alert-content">This device does not support passkeys. For security
        reasons, please sign in on the device where you created your passkey.</div></div>"""
)

#: Newer unified claim page posting to /ax/claim.
UNIFIED_CLAIM: Final = page(
    "Amazon Sign-In",
    """
<form id="ap_login_form" name="signIn" method="post" novalidate
      action="/ax/claim/validate?arb=1c2d3e4f&amp;policy_handle=Retail-Checkout"
      class="auth-validate-form a-spacing-none">
  <input type="hidden" name="appAction" value="SIGNIN_CLAIM_COLLECT">
  <input type="hidden" name="subPageType" value="FullPageUnifiedClaimCollect">
  <input type="hidden" name="claimCollectionWorkflow" value="unified">
  <input type="hidden" name="metadata1" value="true">
  <input type="hidden" name="isServerSideRouting" value="true">
  <input type="hidden" name="anti-csrftoken-a2z" value="hEa7Tq0aZx">
  <label for="ap_email_login">Enter mobile number or email</label>
  <input type="email" name="email" id="ap_email_login" autocomplete="username"
         class="a-input-text a-form-normal a-span12">
  <input type="password" name="password" id="auth-credential-autofill-hint" tabindex="-1"
         class="a-input-text hide-credential-autofill-hint" aria-hidden="true">
  <span class="a-button a-button-primary"><span class="a-button-inner">
    <input type="submit" class="a-button-input" aria-labelledby="continue-announce">
    <span id="continue-announce" class="a-button-text">Continue</span></span></span>
</form>
<script>P.when("unified-claim").execute(function(){ /* sign in with a passkey */ });</script>
""",
)


def _password(error: str = "") -> str:
    return page(
        "Amazon Sign-In",
        f"""{error}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
  <h1 class="a-spacing-small">Sign in</h1>
  <div class="a-row a-spacing-base"><span>{EMAIL}</span>
    <a id="ap_change_login_claim" class="a-link-normal" href="/ap/signin?x=1">Change</a></div>
  <form name="signIn" method="post" novalidate action="{HOST}/ap/signin"
        class="auth-validate-form auth-real-time-validation a-spacing-none">
    <input type="hidden" name="appActionToken" value="kq1Y0mZ2j3D">
    <input type="hidden" name="appAction" value="SIGNIN_PWD_COLLECT">
    <input type="hidden" name="metadata1" value="ECdITeCs:YmFzZTY0">
    <input type="hidden" name="openid.return_to" value="ape:aHR0cHM6Ly93d3cuYW1hem9uLmNvbS8=">
    <input type="hidden" name="prevRID" value="ape:SkdHM1pQOE5XS0M0">
    <input type="hidden" name="workflowState" value="eyJ6aXAiOiJERUYifQ.abc">
    <input type="email" name="email" id="ap-credential-autofill-hint" value=""
           class="a-input-text hide-credential-autofill-hint" tabindex="-1" aria-hidden="true">
    <input type="hidden" name="email" id="ap_email" value="{EMAIL}">
    <input type="hidden" name="crossDomainRPIDCount" value="NONE">
    <label for="ap_password" class="a-form-label">Password</label>
    <a id="auth-fpp-link-bottom" class="a-link-normal"
       href="https://www.amazon.com/ap/forgotpassword?x=1">Forgot your password?</a>
    <input type="password" maxlength="1024" id="ap_password" name="password" tabindex="2"
           class="a-input-text a-span12 auth-autofocus auth-required-field">
    <input type="hidden" name="encryptedPasswordExpected" value="">
    {_INLINE_ALERTS}
    <span class="a-button a-button-primary"><span class="a-button-inner">
      <input id="signInSubmit" tabindex="5" class="a-button-input" type="submit">
      <span class="a-button-text">Sign in</span></span></span>
    <input type="checkbox" name="rememberMe" value="true" tabindex="4">
  </form>
  <div class="a-divider a-divider-break"><h5>or</h5></div>
  <form name="signInWithPasskeyButton" method="post" action="">
    <input type="hidden" name="webAuthnChallengeIdForButton" value="8c7b6a59-4d3e">
    <input type="hidden" name="webAuthnGetParametersForButton"
           value="eyJycElkIjoiYW1hem9uLmNvbSIsImNoYWxsZW5nZSI6IkFCQyJ9">
    <span class="a-button"><span class="a-button-inner">
      <button id="continue" class="a-button-text" type="submit">Sign in with a passkey</button>
    </span></span>
  </form>
</div></div>""",
    )


#: Password page of the e-mail-first flow, with the optional passkey button form.
PASSWORD_WITH_PASSKEY_BUTTON: Final = _password()
INVALID_PASSWORD: Final = _password(error_box("Your password is incorrect"))
UNKNOWN_EMAIL: Final = _claim(error_box("We cannot find an account with that email address"))
INVALID_EMAIL: Final = _claim(error_box("Enter a valid email or mobile number"))
#: A lockout message in Amazon's own box on the sign-in page.
LOCKED_IN_BOX: Final = _password(
    error_box(
        "Your account has been temporarily locked because of too many failed sign-in attempts."
    )
)


def _mfa(error: str = "") -> str:
    return page(
        "Two-Step Verification",
        f"""{error}
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
  <form id="auth-mfa-form" method="post" novalidate action="{HOST}/ap/signin"
        class="a-spacing-none">
    <input type="hidden" name="appAction" value="SIGNIN_MFA">
    {_HIDDEN_TRIO}
    <h1>Two-Step Verification</h1>
    <p>For added security, please enter the One Time Password (OTP) generated by your
      Authenticator App</p>
    <label for="auth-mfa-otpcode" class="a-form-label">Enter OTP:</label>
    <input type="tel" id="auth-mfa-otpcode" name="otpCode" maxlength="20" autocomplete="off"
           class="a-input-text a-span12 auth-autofocus auth-required-field">
    <input type="hidden" name="deviceId" value="5d5e9a2c-1f0b-4bd4-9a8f-0f2c3d4e5f60">
    <div class="a-checkbox"><label for="auth-mfa-remember-device">
      <input type="checkbox" id="auth-mfa-remember-device" name="rememberDevice" value="">
      <span class="a-label">Don't require OTP on this browser</span></label></div>
    <span class="a-button a-button-primary"><span class="a-button-inner">
      <input id="auth-signin-button" name="mfaSubmit" class="a-button-input" type="submit">
      <span class="a-button-text">Sign in</span></span></span>
    <a id="auth-get-new-otp-link" class="a-link-normal"
       href="{HOST}/ap/mfa/new-otp?ie=UTF8&amp;arb=d7e2">Didn't receive the OTP?</a>
  </form>
</div></div>""",
    )


MFA: Final = _mfa()
MFA_INVALID_OTP: Final = _mfa(
    error_box("The One Time Password (OTP) you entered is not valid. Please try again.")
)


def _device(method: str, value: str, label: str, *, checked: bool = False) -> str:
    mark = " checked" if checked else ""
    return f"""
    <div data-a-input-name="otpDeviceContext" class="a-radio auth-{method}">
      <label><input type="radio" name="otpDeviceContext" value="{value}"{mark}>
        <i class="a-icon a-icon-radio"></i>
        <span class="a-label a-radio-label">{label}</span></label></div>"""


def _chooser(devices: str, error: str = "") -> str:
    return page(
        "Two-Step Verification",
        f"""{error}
<form id="auth-select-device-form" method="post" action="" class="a-spacing-none">
  <input type="hidden" name="appAction" value="MFA_NEW_OTP">
  {_HIDDEN_TRIO}
  <h1>Two-Step Verification</h1>
  <p>For added security, we need to verify your identity. Choose where to receive the OTP.</p>
  <fieldset class="a-spacing-small">{devices}</fieldset>
  <span class="a-button a-button-primary"><span class="a-button-inner">
    <input id="auth-send-code" class="a-button-input" type="submit">
    <span class="a-button-text">Send OTP</span></span></span>
</form>""",
    )


DEVICE_CHOOSER: Final = _chooser(
    _device("SMS", "ctx-sms-1, SMS", "Text message to number ending in 42", checked=True)
    + _device("TOTP", "ctx-app-2, TOTP", "Authenticator App")
    + _device("VOICE", "ctx-voice-3, VOICE", "Call number ending in 42")
)
DEVICE_CHOOSER_SMS_ONLY: Final = _chooser(
    _device("SMS", "ctx-sms-1, SMS", "Text message to number ending in 42")
)
TOO_MANY_OTPS: Final = _chooser(
    _device("SMS", "ctx-sms-1, SMS", "Text message to number ending in 42"),
    error_box(
        "You've requested too many OTPs today. You can request a new OTP in 24 hours.",
    ),
)

#: Claims picker: where to send a verification code; labelled by ``for``, no wrapper classes.
CLAIMS_PICKER: Final = page(
    "Authentication required",
    """
<form name="claimspicker" method="post" action="/ap/cvf/verify">
  <input type="hidden" name="verifyToken" value="s|7a6b">
  <input type="radio" name="option" value="email" id="opt-email" checked>
  <label for="opt-email">Email j***@example.com</label>
  <input type="radio" name="option" value="sms" id="opt-sms">
  <label for="opt-sms">Text message (SMS) to ***-42</label>
  <input type="submit" id="continue" value="Send code">
</form>""",
)

#: Classic captcha inside the sign-in form.
SIGN_IN_CAPTCHA: Final = page(
    "Amazon Sign-In",
    error_box(
        "To better protect your account, please re-enter your password and then enter the "
        "characters as they are shown in the image below."
    )
    + f"""
<form name="signIn" method="post" novalidate action="{HOST}/ap/signin" class="auth-validate-form">
  <input type="hidden" name="appAction" value="SIGNIN">
  {_HIDDEN_TRIO}
  <input type="hidden" name="email" value="{EMAIL}">
  <input type="password" id="ap_password" name="password" class="a-input-text">
  <div id="auth-captcha-image-container" class="a-section a-text-center">
    <img alt="Visual CAPTCHA image, continue down for an audio option."
         src="https://opfcaptcha-prod.s3.amazonaws.com/4f1e2d3c.jpg?AWSAccessKeyId=AK&amp;Expires=1"
         id="auth-captcha-image" data-refresh-url="/ap/captcha?appAction=SIGNIN">
  </div>
  <a href="/ap/captcha?appAction=SIGNIN&amp;captchaType=audio&amp;marketPlaceId=ATVPDKIKX0DER"
     class="a-link-normal">Hear the characters</a>
  <label for="auth-captcha-guess">Type characters</label>
  <input type="text" id="auth-captcha-guess" name="guess" autocomplete="off"
         class="a-input-text a-span12 auth-required-field">
  <input type="hidden" name="use_image_captcha" value="true">
  <input type="hidden" name="use_audio_captcha" value="false">
  <input id="signInSubmit" class="a-button-input" type="submit">
</form>""",
)

_CVF_CAPTCHA_IMG: Final = (
    "https://opfcaptcha-prod.s3.amazonaws.com/9a8b7c6d5e4f.jpg?AWSAccessKeyId=AK"
)


def _cvf_captcha(alert: str = "") -> str:
    return page(
        "Authentication required",
        f"""
<div id="cvf-page-content" class="a-section">
  <div class="a-box"><div class="a-box-inner">
    <h1>Solve this puzzle to protect your account</h1>
    {alert}
    <form method="post" action="verify"
          class="cvf-widget-form cvf-widget-form-captcha fwcim-form a-spacing-none">
      <input type="hidden" name="cvf_captcha_captcha_token" value="ct-1a2b3c">
      <input type="hidden" name="cvf_captcha_captcha_type" value="imageCaptcha">
      <input type="hidden" name="cvf_captcha_js_enabled_metric" value="0">
      <input type="hidden" name="clientContext" value="133-0000000-0000000">
      <input type="hidden" name="openid.assoc_handle" value="amzn_dp_project_dee_ios">
      <input type="hidden" name="pageId" value="amzn_dp_project_dee_ios">
      <input type="hidden" name="verifyToken" value="s|0f9e8d7c-6b5a-4a3b-9c2d-1e0f2a3b4c5d">
      <div class="a-row a-text-center">
        <img alt="captcha" src="{_CVF_CAPTCHA_IMG}"></div>
      <input type="text" name="cvf_captcha_input" autocomplete="off" class="a-input-text">
      <span class="a-button"><span class="a-button-inner">
        <button name="cvf_captcha_captcha_action" value="newCaptcha" type="submit">
          See a new challenge</button></span></span>
      <button name="cvf_captcha_captcha_action" value="alternativeCaptcha" type="submit">
        Hear the challenge</button>
      <span class="a-button a-button-primary"><span class="a-button-inner">
        <input name="cvf_captcha_captcha_action" value="verifyCaptcha" type="submit"
               class="a-button-input"><span class="a-button-text">Continue shopping</span>
      </span></span>
    </form>
  </div></div>
</div>""",
    )


CVF_CAPTCHA: Final = _cvf_captcha()
CVF_CAPTCHA_INVALID: Final = _cvf_captcha(
    """<div class="a-box a-alert a-alert-error cvf-widget-alert" role="alert">
      <div class="a-box-inner a-alert-container"><i class="a-icon a-icon-alert"></i>
        <div class="a-alert-content">
          Enter the characters as they are given in the challenge.</div></div></div>"""
)

#: The "Robot Check" page in front of any Amazon URL.
ROBOT_CHECK: Final = """<!doctype html><html><head><title dir="ltr">Amazon.com</title>
<meta name="viewport" content="width=device-width"></head><body>
<div class="a-container a-padding-double-large" style="min-width:350px;padding:44px 0 !important">
  <div class="a-row a-spacing-double-large" style="width: 350px; margin: 0 auto">
    <div class="a-box a-alert a-alert-info a-spacing-base"><div class="a-box-inner">
      <h4>Enter the characters you see below</h4>
      <p class="a-last">Sorry, we just need to make sure you're not a robot. For best results,
        please make sure your browser is accepting cookies.</p></div></div>
    <form method="get" action="/errors/validateCaptcha" name="">
      <input type=hidden name="amzn" value="Yj7qS1ZGdu0="><input type=hidden name="amzn-r"
        value="&#047;ap&#047;signin"><input type=hidden name="amzn-pt" value="AuthenticationPortal">
      <div class="a-row a-text-center">
        <img src="https://images-na.ssl-images-amazon.com/captcha/usvmgloq/Captcha_kwrrnqwkph.jpg">
      </div>
      <input autocomplete="off" spellcheck="false" placeholder="Type characters"
             id="captchacharacters" name="field-keywords" type="text">
      <button type="submit" class="a-button-text">Continue shopping</button>
    </form>
  </div></div>
</body></html>"""


def _approval(forms: str) -> str:
    return page(
        "Authentication required",
        f"""
<div id="cvf-page-content" class="a-section">
  <h1>Approve the notification</h1>
  <div class="a-row"><span class="transaction-approval-word-break">We sent a notification
    to the Amazon app on your phone. Tap Approve to continue.</span></div>
  {forms}
</div>""",
    )


#: Verification-code approval: a code sent by e-mail or text, with the resend form.
APPROVAL_CODE: Final = _approval(
    """
  <form id="verification-code-form" method="post" action="/ap/cvf/approval/verifyOtp"
        class="cvf-widget-form">
    <input type="hidden" name="arb" value="2b3c4d">
    <input type="hidden" name="openid.return_to" value="ape:aHR0cHM6Ly93d3cuYW1hem9uLmNvbS8=">
    <input type="hidden" name="pageId" value="amzn_dp_project_dee_ios">
    <input type="hidden" name="openid.assoc_handle" value="amzn_dp_project_dee_ios">
    <input type="hidden" name="disableRedirect" value="true">
    <input type="hidden" name="isResend" value="false">
    <input type="hidden" name="csrfToken" value="hCsrf0">
    <input type="tel" id="input-box-otp" maxlength="6" autocomplete="one-time-code">
    <input type="hidden" id="otpCode" name="otpCode" value="">
    <input type="submit" id="cvf-submit-otp-button" value="Submit code">
  </form>
  <form id="resend-approval-form" method="post" action="/ap/cvf/approval/resend">
    <input type="hidden" name="arb" value="2b3c4d">
    <a id="resend-approval-link" href="#">Resend code</a>
  </form>"""
)

#: Push approval: the page polls until the user taps Approve.
APPROVAL_POLLING: Final = _approval(
    """
  <form id="pollingForm" method="get" action="/ap/cvf/approval/poll">
    <input type="hidden" name="arb" value="2b3c4d">
    <input type="hidden" id="transactionApprovalStatus" name="transactionApprovalStatus"
           value="TransactionPending">
  </form>
  <form id="resend-approval-form" method="post" action="/ap/cvf/approval/resend">
    <input type="hidden" name="arb" value="2b3c4d"></form>"""
)

PASSKEY_TEXT: Final = (
    "This device does not support passkeys. For security reasons, please sign in on the device "
    "where you created your passkey."
)

#: Amazon insists on a passkey: no password field, no OTP form, just the message.
FORCED_PASSKEY: Final = page(
    "Amazon Sign-In",
    f"""
<div class="a-box"><div class="a-box-inner a-padding-extra-large">
  <h1>Sign in with a passkey</h1>
  <div class="a-section a-spacing-base">
    <div class="a-alert-content">This device does not support passkeys.
      For security reasons, please sign in on the device where you created your passkey.</div>
  </div>
  <form name="signIn" method="post" action="{HOST}/ap/signin">
    <input type="hidden" name="email" value="{EMAIL}">
    <input type="hidden" name="appAction" value="SIGNIN_PASSKEY">
  </form>
  <form name="signInWithPasskeyButton" method="post" action="">
    <input type="hidden" name="webAuthnChallengeIdForButton" value="8c7b6a59">
    <button id="continue" type="submit">Try again</button>
  </form>
</div></div>""",
)

#: AWS WAF challenge interstitial.
WAF_CHALLENGE: Final = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title></title>
<script type="text/javascript">
window.awsWafCookieDomainList = [];
window.gokuProps = {
"key":"AQIDAHjcYu/GjX+QlghicBgQ/7bFaQZ+m5FKCMDnO+vTbNg96AE",
"iv":"A6wz0QCW6gAAAkKL",
"context":"Dm9q1bS2r2a0lYpZ9rM"
};
</script>
<script src="https://1f2e3d4c5b6a.edge.sdk.awswaf.com/1f2e3d4c5b6a/7f8e9d/challenge.js"></script>
</head><body>
<div id="challenge-container"></div>
<script type="text/javascript">
AwsWafIntegration.saveReferrer();
AwsWafIntegration.checkForceRefresh().then((forceRefresh) => {
  if (forceRefresh) { AwsWafIntegration.forceRefreshToken().then(() => {
    window.location.reload(true); }); }
});
</script>
<noscript><h1>JavaScript is disabled</h1>
In order to continue, we need to verify that you're not a robot.
This requires JavaScript. Enable JavaScript and then reload the page.
</noscript>
</body></html>"""

#: Post-sign-in JavaScript bot challenge: the challenge script only, no gokuProps.
JS_CHALLENGE: Final = """<!DOCTYPE html><html><head><title>Amazon.com</title>
<script src="https://a1b2c3.token.awswaf.com/a1b2c3/d4e5f6/g7h8/challenge.js" defer></script>
</head><body><div id="challenge-container" class="a-section"></div>
<noscript>Please enable JavaScript to continue.</noscript></body></html>"""

#: CVF "aamation" puzzle (WAF adversarial grid).
AAMATION: Final = page(
    "Authentication required",
    """
<div id="cvf-page-content" class="a-section">
  <div id="cvf-aamation-container" class="cvf-aamation-container"
       data-challenge-type="WAF_ADVERSARIAL_SYNTHETIC_GRID_LEVEL_1"
       data-external-id="aam-1a2b"></div>
  <form id="cvf-aamation-challenge-form" method="post" action="verify">
    <input type="hidden" name="cvf_aamation_response_token" value="">
    <input type="hidden" name="cvf_captcha_captcha_action" value="verifyAamationChallenge">
  </form>
</div>""",
)

#: Too many failures: Amazon only offers the password reset.
FORGOT_PASSWORD: Final = page(
    "Password assistance",
    """
<div class="a-box"><div class="a-box-inner">
  <h1>Password assistance</h1>
  <p>Enter the email address or mobile phone number associated with your Amazon account.</p>
  <form name="forgotPassword" method="post" action="/ap/forgotpassword">
    <input type="hidden" name="appActionToken" value="fp-token">
    <input type="email" name="email" id="ap_email">
    <input type="submit" id="continue" value="Continue">
  </form>
</div></div>""",
)

UNUSUAL_ACTIVITY_TEXT: Final = (
    "We detected unusual activity on your account and have temporarily locked it to protect you."
)

#: The authportal error page with a lockout message.
UNUSUAL_ACTIVITY: Final = page(
    "Amazon Sign-In",
    f"""
<div id="ap_error_page_title"><h1>Your account is on hold</h1></div>
<div id="ap_error_page_message" class="a-section">
  <p>{UNUSUAL_ACTIVITY_TEXT}</p>
</div>
<a id="ap_error_return_home" href="https://www.amazon.com/">Return to Amazon.com</a>""",
)

#: Amazon offers to create an account for an unknown e-mail address.
INTENT_CONFIRMATION: Final = page(
    "Amazon Sign-In",
    f"""
<h1>Looks like you are new to Amazon</h1>
<form id="intent-confirmation-form" method="post"
      action="/ap/register?showRememberMe=true&amp;openid.assoc_handle=usflex">
  <input type="hidden" name="claimCollectionLayoutType" value="unifiedAuthClaimCollection">
  <input type="hidden" name="email" value="{EMAIL}">
  <input type="hidden" name="arb" value="4c5d6e">
  <input type="hidden" name="csrf-token" value="gA1b2C3">
  <span class="a-button a-button-primary"><span class="a-button-inner">
    <input type="submit" class="a-button-input"><span class="a-button-text">Proceed to create
    an account</span></span></span>
</form>
<a href="/ap/signin?x=2">Sign in with another email or mobile number</a>""",
)

#: Amazon's storefront: a search form, <noscript> notice, no sign-in anything.
HOME_PAGE: Final = """<!doctype html><html lang="en-us" class="a-no-js"><head>
<meta charset="utf-8"><title>Amazon.com. Spend less. Smile more.</title>
<script>var aPageStart = (new Date()).getTime();</script>
<style>.nav-search-field { width: 100% }</style></head>
<body class="a-m-us a-aui_72554-c">
<noscript><img height="1" width="1" style="display:none;visibility:hidden;"
  src="//fls-na.amazon.com/1/batch/1/OP/ATVPDKIKX0DER:0:nojs" alt=""/>
  <div>Please enable JavaScript to use all features of this site.</div></noscript>
<header id="navbar-main"><div id="nav-belt">
  <a href="/ref=nav_logo" id="nav-logo-sprites" class="nav-logo-link" aria-label="Amazon"></a>
  <form id="nav-search-bar-form" accept-charset="utf-8" action="/s/ref=nb_sb_noss"
        class="nav-searchbar" method="GET" name="site-search" role="search">
    <select aria-describedby="searchDropdownDescription" class="nav-search-dropdown"
            id="searchDropdownBox" name="url" title="Search in">
      <option selected="selected" value="search-alias=aps">All Departments</option>
      <option value="search-alias=alexa-skills">Alexa Skills</option>
    </select>
    <input type="text" id="twotabsearchtextbox" value="" name="field-keywords"
           autocomplete="off" placeholder="Search Amazon" dir="auto"
           class="nav-input nav-progressive-attribute" tabindex="0" aria-label="Search Amazon"
           spellcheck="false">
    <input type="submit" id="nav-search-submit-button" class="nav-input" value="Go">
  </form>
  <a href="/ap/signin?openid.return_to=x" id="nav-link-accountList">Hello, sign in</a>
</div></header>
<div id="pageContent"><h2>Deals for you</h2><div class="a-carousel">
  <img src="https://m.media-amazon.com/images/I/deal1.jpg" alt="Echo Dot">
</div></div>
</body></html>"""


#: Every sample, by name, for the never-raises tests.
ALL: Final = {
    name: value
    for name, value in sorted(globals().items())
    if name.isupper()
    and not name.startswith("_")
    and isinstance(value, str)
    and value.lstrip().startswith("<")
}
