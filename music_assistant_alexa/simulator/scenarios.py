"""
Misbehaviour switches for the Amazon simulator.

A :class:`Scenario` is a bag of flags that tests flip at run time. Page flags change which page
Amazon serves during sign-in; fault counters (``rate_limit``, ``server_error``,
``drop_connections``, ``truncated_json``) count down as they fire, so a test can say "the next
three requests fail" and then watch the client recover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultCounter = Literal["rate_limit", "server_error", "drop_connections", "truncated_json"]


@dataclass(slots=True)
class Scenario:
    """
    How the simulated Amazon should misbehave; every switch defaults to "behave".

    The global scenario (``AmazonSimulator.scenario``) holds the transport faults and the flags
    that act before an account is known (the first GET of the sign-in page). An account's own
    scenario, when set, replaces the global one for every decision about that account.

    :param signin_get_404: GET /ap/signin answers HTTP 404 but still renders the form.
    :param email_first: Three-step sign-in: email page, then password page, then MFA.
    :param passkey_forced: After the password, a "This device does not support passkeys" page;
        its passkey form signs in a browser holding one of the account's passkeys.
    :param password_page_offers_passkey: Sign-in pages also carry the passkey button form.
    :param sms_only: After the password, an OTP device chooser with SMS and voice only.
    :param no_mfa_page: Two-step verification is off: the password alone signs in.
    :param otp_too_many: After the password, the device chooser with "too many OTPs".
    :param captcha_before_password: Sign-in forms carry the classic image captcha.
    :param captcha_after_wrong_password: A wrong password re-renders with the captcha.
    :param captcha_loop: The sign-in form asks for a captcha before the account's password,
        and again after every right answer from a client that does not run Amazon's page
        scripts (see :mod:`.browser_signals`); a browser gets through with one answer.
    :param cvf_captcha: After the password, the CVF image captcha page.
    :param robot_check: GET /ap/signin answers the robot-check (validateCaptcha) page.
    :param approval: After the password, the CVF approval / verification-code page.
    :param waf_challenge: After the password, the AWS WAF JavaScript challenge page (no form),
        for clients that do not run Amazon's page scripts; a browser passes it.
    :param aamation_challenge: After the password, the CVF "aamation" challenge page, for
        clients that do not run Amazon's page scripts; a browser passes it.
    :param lockout_after: After this many wrong passwords, the forgot-password lockout page.
    :param account_missing: Submitting an email shows the intent-confirmation (no account) page.
    :param rate_limit: The next N requests answer ``rate_limit_status`` with "Rate exceeded".
    :param rate_limit_status: Status for ``rate_limit``: 429 (default) or 503.
    :param server_error: The next N requests answer 503 without rate-limit text.
    :param slow_seconds: Delay every response by this many (real) seconds.
    :param drop_connections: The next N requests get their connection closed without an answer.
    :param drop_on_path: Only drop requests to this path (and count only those).
    :param truncated_json: The next N JSON responses are cut in half.
    :param invalid_grant: /auth/token and the cookie exchange answer 400 invalid_grant.
    :param require_init_cookies: A first GET without frc/map-md/amzn-app-id gets the captcha.
    :param alexa_unauth_redirect: Unauthenticated Alexa web calls 302 to /ap/signin, not 401.
    :param unverified_mobile: A wrong password is answered with a redirect to /ap/cvf/verify and
        "We're unable to verify your mobile number", as Amazon does since 2026 for a wrong or
        stale password, instead of "Your password is incorrect".
    """

    signin_get_404: bool = False
    email_first: bool = False
    passkey_forced: bool = False
    password_page_offers_passkey: bool = False
    sms_only: bool = False
    no_mfa_page: bool = False
    otp_too_many: bool = False
    captcha_before_password: bool = False
    captcha_after_wrong_password: bool = False
    captcha_loop: bool = False
    cvf_captcha: bool = False
    robot_check: bool = False
    approval: bool = False
    waf_challenge: bool = False
    aamation_challenge: bool = False
    lockout_after: int | None = None
    account_missing: bool = False
    rate_limit: int = 0
    rate_limit_status: int = 429
    server_error: int = 0
    slow_seconds: float = 0.0
    drop_connections: int = 0
    drop_on_path: str | None = None
    truncated_json: int = 0
    invalid_grant: bool = False
    require_init_cookies: bool = False
    alexa_unauth_redirect: bool = False
    unverified_mobile: bool = False

    def take(self, counter: FaultCounter) -> bool:
        """
        Fire one shot of a fault counter.

        :param counter: The counter's field name.
        :return: ``True`` (and one less left) when the counter was positive.
        """
        left: int = getattr(self, counter)
        if left <= 0:
            return False
        setattr(self, counter, left - 1)
        return True
