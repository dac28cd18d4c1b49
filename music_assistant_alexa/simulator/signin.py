"""
The sign-in state machine of the simulated Amazon (``www.amazon.<tld>/ap/...``).

A GET of ``/ap/signin`` opens a transaction that remembers the PKCE challenge and client id.
Every page the transaction renders carries fresh ``appActionToken`` / ``workflowState`` values;
a POST must echo them (and the other hidden fields) or it lands on the "start over" page. The
stage of the transaction, not the posted ``appAction``, decides what a POST means, so a client
that posts the wrong form cannot skip a step.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode, urlsplit

from . import pages
from .accounts import opaque_token, random_digits, request_id
from .browser_signals import PASSKEY_RESPONSE_FIELD, ran_page_scripts, read_passkey_response
from .context import read_form
from .marketplaces import find_marketplace
from .oauth import decode_client_id
from .responses import html_response, redirect, set_cookie

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp import web
    from multidict import MultiDict

    from .accounts import SimAccount
    from .context import RequestContext
    from .marketplaces import Marketplace
    from .scenarios import Scenario
    from .state import SimulatorState

ASSOC_HANDLE: Final = "amzn_dp_project_dee_ios"
INIT_COOKIES: Final = ("frc", "map-md", "amzn-app-id")
_S256_CHALLENGE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Clients may legitimately replace these values when echoing the form (but must still send
# them): Audible puts its own encrypted fingerprint into metadata1, and the password page
# repeats the email as a visible field.
_REPLACEABLE_HIDDEN: Final = frozenset({"metadata1", "email"})
_OPENID_NS: Final = "http://specs.openid.net/auth/2.0"
_IDENTIFIER_SELECT: Final = "http://specs.openid.net/auth/2.0/identifier_select"


class Stage(StrEnum):
    """Where a sign-in transaction stands."""

    CREDENTIALS = "credentials"  # email and/or password expected
    MFA = "mfa"  # otpCode expected
    CHOOSER = "chooser"  # otpDeviceContext expected
    CVF = "cvf"  # CVF image captcha expected
    AAMATION = "aamation"  # unsolvable CVF puzzle
    APPROVAL = "approval"  # waiting for approval or its code
    DONE = "done"  # code issued, or a dead end (lockout, passkey, WAF, no account)


@dataclass(slots=True)
class SignInTransaction:
    """
    One sign-in attempt, from the GET of /ap/signin to the authorization code.

    :param arb: Transaction handle used in CVF and new-OTP URLs.
    :param market: Marketplace of the host the sign-in started on.
    :param client_id: Hex client id (without ``device:``).
    :param serial: Serial decoded from the client id.
    :param challenge: PKCE S256 challenge.
    :param return_to: The validated ``openid.return_to`` (maplanding URL).
    :param assoc_handle: The ``openid.assoc_handle`` of the authorize URL.
    :param session_id: The ``session-id`` cookie the sign-in runs under.
    :param email_first: Render the email-only claim page first.
    :param captcha_pending: Sign-in forms carry the classic captcha until it is solved.
    :param stage: What the next POST must be.
    :param email: The account's e-mail, once the sign-in named one.
    :param mfa_done: Two-step verification is satisfied (code, or password + OTP).
    :param cleared: Challenges already passed (``cvf``, ``approval``).
    :param app_action_token: The ``appActionToken`` of the page last rendered.
    :param workflow_state: The ``workflowState`` of the page last rendered.
    :param verify_token: The CVF page's ``verifyToken``.
    :param expected_hidden: Hidden fields the next POST must echo unchanged.
    :param otp_options: Device-chooser radio values to their method.
    :param sent_code: The code "sent" by SMS, voice or approval message.
    :param approved: The user approved the sign-in on the phone.
    :param prev_rid: The ``prevRID`` of the transaction's pages.
    :param page_scripts_ran: The last form posted carried the fingerprint of Amazon's page
        scripts (a browser's ``metadata1``).
    :param refused_mobile: The password was refused with "We're unable to verify your mobile
        number" (``Scenario.unverified_mobile``): ``/ap/cvf/verify`` shows that page.
    """

    arb: str
    market: Marketplace
    client_id: str
    serial: str
    challenge: str
    return_to: str
    assoc_handle: str
    session_id: str
    email_first: bool
    captcha_pending: bool
    stage: Stage = Stage.CREDENTIALS
    email: str | None = None
    mfa_done: bool = False
    cleared: set[str] = field(default_factory=set)
    app_action_token: str = ""
    workflow_state: str = ""
    verify_token: str = ""
    expected_hidden: dict[str, str] = field(default_factory=dict)
    otp_options: dict[str, str] = field(default_factory=dict)
    sent_code: str | None = None
    approved: bool = False
    prev_rid: str = field(default_factory=request_id)  # RIDs are 20 upper-case characters
    page_scripts_ran: bool = False
    refused_mobile: bool = False

    @property
    def site(self) -> str:
        """
        Return the retail site URL forms post to.

        :return: e.g. ``https://www.amazon.com``.
        """
        return self.market.www_url


def _ape(value: str) -> str:
    # Amazon's "ape:" prefix marks a base64-encoded hidden value.
    return "ape:" + base64.b64encode(value.encode()).decode()


def _jwe_like() -> str:
    header = base64.urlsafe_b64encode(b'{"zip":"DEF","enc":"A256GCM","alg":"A256KW"}').decode()
    parts = (opaque_token(40), opaque_token(12), opaque_token(300), opaque_token(16))
    return ".".join((header.rstrip("="), *parts))


def _form_text(form: MultiDict[str], name: str) -> str:
    # First non-empty value: the password page repeats "email" as an empty visible field.
    for value in form.getall(name, []):
        if value.strip():
            return value
    return ""


class SignInFlow:
    """
    Handlers and state for everything under ``www.amazon.<tld>/ap/`` that a sign-in touches.

    :param state: The simulator's shared state (accounts, scenarios, ledger, clock).
    """

    def __init__(self, state: SimulatorState) -> None:
        """
        Start with no transactions.

        :param state: The simulator's shared state.
        """
        self._state = state
        self._by_workflow: dict[str, SignInTransaction] = {}
        self._by_arb: dict[str, SignInTransaction] = {}
        self._by_verify: dict[str, SignInTransaction] = {}
        self._robot_challenges: dict[str, str] = {}  # amzn token -> session-id
        self._robot_cleared: set[str] = set()  # session-ids that solved the robot check
        # passkey challenge id -> (transaction, relying party, challenge)
        self._passkey_challenges: dict[str, tuple[SignInTransaction, str, str]] = {}

    # -- public helpers for tests ---------------------------------------------------------------

    def approve(self, email: str) -> int:
        """
        Approve every pending approval-page sign-in of an account, as the phone app would.

        :param email: The account.
        :return: How many transactions were approved.
        """
        count = 0
        for txn in self._by_arb.values():
            if txn.email == email and txn.stage is Stage.APPROVAL:
                txn.approved = True
                count += 1
        return count

    def last_sent_code(self, email: str) -> str | None:
        """
        Return the newest code "sent" by SMS, voice or approval mail for an account.

        :param email: The account.
        :return: The code, or ``None``.
        """
        codes = [t.sent_code for t in self._by_arb.values() if t.email == email and t.sent_code]
        return codes[-1] if codes else None

    # -- GET /ap/signin ------------------------------------------------------------------------

    async def get_signin(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Open a sign-in transaction and render the first page.

        :param request: The request.
        :param ctx: The request context.
        :return: The sign-in page (200, or 404 with ``signin_get_404``), robot check or 400.
        """
        state = self._state
        scenario = state.scenario
        market = ctx.market
        new_cookies: dict[str, str] = {}
        session_id = ctx.cookies.get("session-id", "")
        if market.domain not in state.ledger.issued_for("session-id", session_id):
            # Amazon keeps an existing session; only a visitor without one gets new cookies.
            new_cookies = state.ledger.new_session_cookies(market, ctx.now)
            session_id = new_cookies["session-id"]

        if scenario.robot_check and session_id not in self._robot_cleared:
            amzn = opaque_token(18)
            self._robot_challenges[amzn] = session_id
            response = self._robot_page(amzn, request.path_qs)
        else:
            response = self._open_transaction(request, ctx, session_id)
        for name, value in new_cookies.items():
            set_cookie(
                response,
                name=name,
                value=value,
                domain=market.cookie_domain,
                now=ctx.now,
                secure=request.secure,
            )
        return response

    def _open_transaction(
        self, request: web.Request, ctx: RequestContext, session_id: str
    ) -> web.Response:
        state = self._state
        scenario = state.scenario
        query = request.query
        market = ctx.market
        problem, client_id, serial = self._check_authorize_query(query)
        if problem is not None:
            page = pages.error_page(site=market.www_url, title="Sign-In Error", message=problem)
            return html_response(page, status=400)
        txn = SignInTransaction(
            arb=str(uuid.uuid4()),
            market=market,
            client_id=client_id,
            serial=serial,
            challenge=query["openid.oa2.code_challenge"],
            return_to=query["openid.return_to"],
            assoc_handle=query.get("openid.assoc_handle", ASSOC_HANDLE),
            session_id=session_id,
            email_first=scenario.email_first,
            captcha_pending=scenario.captcha_before_password,
        )
        self._by_arb[txn.arb] = txn
        if scenario.require_init_cookies:
            missing = [name for name in INIT_COOKIES if name not in ctx.cookies]
            if missing:
                state.violation(f"GET /ap/signin without init cookies: {', '.join(missing)}")
                txn.captcha_pending = True
        status = 404 if scenario.signin_get_404 else 200
        return self._credentials_page(txn, status=status)

    @staticmethod
    def _check_authorize_query(  # noqa: PLR0911 - one return per rejected parameter
        query: Mapping[str, str],
    ) -> tuple[str | None, str, str]:
        raw_client_id = query.get("openid.oa2.client_id", "")
        if not raw_client_id.startswith("device:"):
            return "openid.oa2.client_id must start with device:", "", ""
        client_id = raw_client_id.removeprefix("device:")
        serial = decode_client_id(client_id)
        if serial is None:
            return "openid.oa2.client_id is not hex(serial#A2IVLV5VM2W81)", "", ""
        if query.get("openid.oa2.code_challenge_method") != "S256":
            return "openid.oa2.code_challenge_method must be S256", "", ""
        if not _S256_CHALLENGE.match(query.get("openid.oa2.code_challenge", "")):
            return "openid.oa2.code_challenge is missing or not an S256 challenge", "", ""
        # OAuth2 (RFC 6749 4.1.1) and OpenID 2.0 checkid_setup: what every client sends (§2.2).
        if query.get("openid.oa2.response_type") != "code":
            return "openid.oa2.response_type must be code", "", ""
        if "device_auth_access" not in query.get("openid.oa2.scope", "").split():
            return "openid.oa2.scope must include device_auth_access", "", ""
        if query.get("openid.mode") != "checkid_setup":
            return "openid.mode must be checkid_setup", "", ""
        if not _is_maplanding(query.get("openid.return_to", "")):
            return "openid.return_to must be https://www.amazon.<tld>/ap/maplanding", "", ""
        return None, client_id, serial

    # -- POST /ap/signin (and POST /ap/mfa/new-otp) ---------------------------------------------

    async def post_signin(  # noqa: PLR0911 - one return per kind of form posted
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Advance a transaction with a posted sign-in, MFA or device-chooser form.

        :param request: The request.
        :param ctx: The request context.
        :return: The next page or the redirect to maplanding.
        """
        state = self._state
        form = await read_form(request)
        challenge_id = _form_text(form, "webAuthnChallengeIdForButton")
        if challenge_id:
            return self._post_passkey(form, challenge_id, ctx)
        workflow_state = _form_text(form, "workflowState")
        if not workflow_state:
            state.violation(f"POST {request.path} without workflowState")
            return self._stale_page(ctx.market)
        txn = self._by_workflow.get(workflow_state)
        if txn is None or _form_text(form, "appActionToken") != txn.app_action_token:
            return self._stale_page(ctx.market)
        self._check_echo(request.path, form, txn)
        if ctx.cookies.get("session-id") != txn.session_id:
            state.violation(f"POST {request.path} without the session-id cookie of its sign-in")
        if "metadata1" in form:
            txn.page_scripts_ran = ran_page_scripts(_form_text(form, "metadata1"))
        if txn.stage is Stage.CREDENTIALS:
            return self._post_credentials(txn, form, ctx)
        if txn.stage is Stage.MFA:
            return self._post_mfa(txn, form, ctx)
        if txn.stage is Stage.CHOOSER:
            return self._post_chooser(txn, form)
        return self._stale_page(ctx.market)

    def _check_echo(self, path: str, form: MultiDict[str], txn: SignInTransaction) -> None:
        for name, value in txn.expected_hidden.items():
            sent = form.getall(name, [])
            if not sent and value == "":
                continue  # an empty field left out reads the same as one sent empty
            if not sent:
                self._state.violation(f"POST {path}: hidden field {name!r} not echoed")
            elif value not in sent and name not in _REPLACEABLE_HIDDEN:
                self._state.violation(f"POST {path}: hidden field {name!r} changed")

    def _post_credentials(  # noqa: PLR0911 - one return per page Amazon may show next
        self, txn: SignInTransaction, form: MultiDict[str], ctx: RequestContext
    ) -> web.Response:
        state = self._state
        email = _form_text(form, "email").strip() or (txn.email or "")
        if not email:
            return self._credentials_page(txn, errors=[pages.MISSING_EMAIL])
        account = state.find_account(email)
        scenario = state.scenario_for(account)
        if scenario.account_missing:
            return self._intent_page(txn, email)
        if account is not None and scenario.captcha_loop and "captcha_loop" not in txn.cleared:
            # Amazon's risk check wants a captcha before this account's password ...
            txn.cleared.add("captcha_loop")
            txn.captcha_pending = True
            txn.email = account.email
            return self._credentials_page(txn)
        if txn.captcha_pending:
            if _form_text(form, "guess").strip().upper() != state.captcha_answer.upper():
                return self._credentials_page(txn, errors=[pages.WRONG_CAPTCHA])
            if scenario.captcha_loop and not txn.page_scripts_ran:
                # ... and a new one after every answer, unless the sign-in runs in a browser.
                return self._credentials_page(txn, errors=[pages.WRONG_CAPTCHA])
            txn.captcha_pending = False
        if account is None:
            return self._credentials_page(txn, errors=[pages.UNKNOWN_EMAIL])
        on_claim_page = txn.email_first and txn.email is None
        txn.email = account.email
        # The claim page only collects the email; a password autofilled into its hidden
        # credential hint does not skip the password page.
        password = "" if on_claim_page else _form_text(form, "password")
        if not password:
            # Email step of the three-step flow, or a combined form posted without password:
            # Amazon answers with the password page carrying the email as a hidden field.
            return self._credentials_page(txn)
        return self._post_password(txn, account, scenario, password, ctx.now)

    def _post_password(
        self,
        txn: SignInTransaction,
        account: SimAccount,
        scenario: Scenario,
        password: str,
        now: float,
    ) -> web.Response:
        def locked_out() -> bool:
            limit = scenario.lockout_after
            return limit is not None and account.failed_passwords >= limit

        if locked_out():
            return self._lockout_page(txn, account)
        ok, mfa_done = self._check_password(account, scenario, password, now)
        if not ok:
            account.failed_passwords += 1
            if locked_out():
                return self._lockout_page(txn, account)
            if scenario.unverified_mobile:
                txn.stage = Stage.DONE
                txn.refused_mobile = True
                return self._redirect_cvf(txn, "/ap/cvf/verify")
            if scenario.captcha_after_wrong_password:
                txn.captcha_pending = True
            return self._credentials_page(txn, errors=[pages.WRONG_PASSWORD])
        account.failed_passwords = 0
        txn.mfa_done = mfa_done
        return self._after_password(txn)

    @staticmethod
    def _check_password(
        account: SimAccount, scenario: Scenario, password: str, now: float
    ) -> tuple[bool, bool]:
        """
        Check a password, accepting the alexapy-style "password + current OTP" form.

        :param account: The account signing in.
        :param scenario: The account's scenario (``no_mfa_page`` means no OTP to strip off).
        :param password: The posted password.
        :param now: Simulator time, for the appended OTP.
        :return: ``(password ok, MFA satisfied by an appended OTP)``.
        """
        if password == account.password:
            return True, False
        if scenario.no_mfa_page:
            # Without two-step verification Amazon has no OTP to strip off.
            return False, False
        head, tail = password[:-6], password[-6:]
        if head == account.password and account.verify_totp(tail, now):
            return True, True
        return False, False

    def _after_password(  # noqa: PLR0911 - one return per page Amazon may show next
        self, txn: SignInTransaction
    ) -> web.Response:
        """
        Decide what follows a good password (or a solved challenge after it).

        :param txn: The transaction.
        :return: The next page, or the redirect with the authorization code.
        """
        state = self._state
        account = state.find_account(txn.email or "")
        scenario = state.scenario_for(account)
        if scenario.waf_challenge and not txn.page_scripts_ran:
            txn.stage = Stage.DONE
            page = pages.waf_challenge_page(
                key=opaque_token(32),
                iv=opaque_token(12),
                context=opaque_token(96),
                script_url=(
                    f"https://{opaque_token(6).lower()}.{opaque_token(6).lower()}"
                    f".token.awswaf.com/{opaque_token(6)}/{opaque_token(9)}/challenge.js"
                ),
            )
            # AWS WAF answers its challenge action with 202.
            return html_response(page, status=202)
        if scenario.aamation_challenge and not txn.page_scripts_ran:
            txn.stage = Stage.AAMATION
            return self._redirect_cvf(txn, "/ap/cvf/request")
        if scenario.cvf_captcha and "cvf" not in txn.cleared:
            txn.stage = Stage.CVF
            return self._redirect_cvf(txn, "/ap/cvf/request")
        if scenario.passkey_forced:
            txn.stage = Stage.DONE
            page = pages.passkey_forced_page(site=txn.site, passkey_form=self._passkey_form(txn))
            return html_response(page)
        if scenario.approval and "approval" not in txn.cleared:
            txn.stage = Stage.APPROVAL
            txn.sent_code = random_digits(6)
            return self._redirect_cvf(txn, "/ap/cvf/approval")
        if txn.mfa_done or scenario.no_mfa_page or "approval" in txn.cleared:
            return self._finish(txn)
        if scenario.otp_too_many:
            return self._chooser_page(txn, sms_only=scenario.sms_only, too_many=True)
        if scenario.sms_only:
            return self._chooser_page(txn, sms_only=True)
        return self._mfa_page(txn)

    def _post_mfa(
        self, txn: SignInTransaction, form: MultiDict[str], ctx: RequestContext
    ) -> web.Response:
        account = self._state.find_account(txn.email or "")
        code = _form_text(form, "otpCode").strip()
        if txn.sent_code is not None:
            ok = code == txn.sent_code
        else:
            ok = account is not None and account.verify_totp(code, ctx.now)
        if not ok:
            return self._mfa_page(txn, errors=[pages.WRONG_OTP])
        txn.mfa_done = True
        return self._finish(txn)

    def _post_chooser(self, txn: SignInTransaction, form: MultiDict[str]) -> web.Response:
        scenario = self._state.scenario_for(self._state.find_account(txn.email or ""))
        if scenario.otp_too_many:
            return self._chooser_page(txn, sms_only=scenario.sms_only, too_many=True)
        kind = txn.otp_options.get(_form_text(form, "otpDeviceContext"))
        if kind is None:
            return self._chooser_page(
                txn, sms_only=scenario.sms_only, errors=[pages.CHOOSE_OTP_DEVICE]
            )
        txn.sent_code = None if kind == "TOTP" else random_digits(6)
        return self._mfa_page(txn)

    def _finish(self, txn: SignInTransaction) -> web.Response:
        state = self._state
        code = state.ledger.new_code(
            email=txn.email or "",
            client_id=txn.client_id,
            serial=txn.serial,
            challenge=txn.challenge,
            now=state.now(),
        )
        txn.stage = Stage.DONE
        self._forget_tokens(txn)
        params = {
            "openid.assoc_handle": txn.assoc_handle,
            "openid.mode": "id_res",
            "openid.oa2.authorization_code": code.code,
            "openid.return_to": txn.return_to,
            "openid.identity": _IDENTIFIER_SELECT,
            "openid.claimed_id": _IDENTIFIER_SELECT,
            "openid.ns": _OPENID_NS,
            "openid.ns.oa2": "http://www.amazon.com/ap/ext/oauth/2",
            "openid.oa2.scope": "device_auth_access",
            "openid.op_endpoint": f"{txn.site}/ap/signin",
            # OpenID 2.0 (section 10.1): the nonce starts with the server's time, in UTC.
            "openid.response_nonce": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(state.now()))
            + opaque_token(9),
            "openid.signed": "assoc_handle,claimed_id,identity,mode,ns,op_endpoint,"
            "response_nonce,return_to,ns.oa2,oa2.authorization_code,oa2.scope",
            "openid.sig": opaque_token(32),
        }
        return redirect(f"{txn.return_to}?{urlencode(params)}")

    # -- /ap/mfa/new-otp -----------------------------------------------------------------------

    async def get_new_otp(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Show the OTP device chooser ("Didn't receive the OTP?").

        :param request: The request (``arb`` in the query).
        :param ctx: The request context.
        :return: The chooser, or the start-over page.
        """
        txn = self._by_arb.get(request.query.get("arb", ""))
        if txn is None or txn.stage not in {Stage.MFA, Stage.CHOOSER}:
            return self._stale_page(ctx.market)
        scenario = self._state.scenario_for(self._state.find_account(txn.email or ""))
        return self._chooser_page(txn, sms_only=scenario.sms_only, too_many=scenario.otp_too_many)

    # -- CVF -----------------------------------------------------------------------------------

    async def get_cvf_request(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Render the CVF challenge of a transaction.

        :param request: The request (``arb`` in the query).
        :param ctx: The request context.
        :return: The captcha or aamation page, or the start-over page.
        """
        txn = self._by_arb.get(request.query.get("arb", ""))
        if txn is None or txn.stage not in {Stage.CVF, Stage.AAMATION}:
            return self._stale_page(ctx.market)
        return self._cvf_page(txn)

    async def get_cvf_verify(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Show where a refused password was sent: "We're unable to verify your mobile number".

        :param request: The request (``arb`` in the query).
        :param ctx: The request context.
        :return: That page, or the start-over page.
        """
        txn = self._by_arb.get(request.query.get("arb", ""))
        if txn is None or not txn.refused_mobile:
            return self._stale_page(ctx.market)
        back = f"{txn.site}/ap/signin?{urlencode({'openid.assoc_handle': txn.assoc_handle})}"
        return html_response(pages.unverified_mobile_page(site=txn.site, return_to=back))

    async def post_cvf_verify(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Check a CVF captcha answer.

        :param request: The request.
        :param ctx: The request context.
        :return: The next sign-in step, the captcha again, or the start-over page.
        """
        form = await read_form(request)
        txn = self._by_verify.get(_form_text(form, "verifyToken"))
        if txn is None or txn.stage not in {Stage.CVF, Stage.AAMATION}:
            return self._stale_page(ctx.market)
        self._check_echo(request.path, form, txn)
        if txn.stage is Stage.AAMATION:
            return self._cvf_page(txn)
        action = _form_text(form, "cvf_captcha_captcha_action")
        if action != "verifyCaptcha":
            return self._cvf_page(txn)
        answer = _form_text(form, "cvf_captcha_input").strip().upper()
        if answer != self._state.captcha_answer.upper():
            return self._cvf_page(txn, wrong=True)
        txn.cleared.add("cvf")
        self._by_verify.pop(txn.verify_token, None)
        return self._after_password(txn)

    async def get_approval(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Render the approval page.

        :param request: The request (``arb`` in the query).
        :param ctx: The request context.
        :return: The approval page, or the start-over page.
        """
        txn = self._by_arb.get(request.query.get("arb", ""))
        if txn is None or txn.stage is not Stage.APPROVAL:
            return self._stale_page(ctx.market)
        return self._approval_page(txn)

    async def get_approval_poll(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Answer the approval page's polling form.

        :param request: The request (``arb`` in the query).
        :param ctx: The request context.
        :return: The redirect to maplanding once approved, else the pending page.
        """
        txn = self._by_arb.get(request.query.get("arb", ""))
        if txn is None or txn.stage is not Stage.APPROVAL:
            return self._stale_page(ctx.market)
        if txn.approved:
            txn.cleared.add("approval")
            return self._after_password(txn)
        return self._approval_page(txn)

    async def post_approval_code(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Check the code of the approval page's verification form.

        :param request: The request.
        :param ctx: The request context.
        :return: The next step, the page with an error, or the start-over page.
        """
        form = await read_form(request)
        txn = self._by_arb.get(_form_text(form, "arb"))
        if txn is None or txn.stage is not Stage.APPROVAL:
            return self._stale_page(ctx.market)
        self._check_echo(request.path, form, txn)
        if not txn.sent_code or _form_text(form, "otpCode").strip() != txn.sent_code:
            return self._approval_page(txn, errors=[pages.WRONG_OTP])
        txn.cleared.add("approval")
        return self._after_password(txn)

    async def post_approval_resend(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        "Resend" the approval notification: a new code.

        :param request: The request.
        :param ctx: The request context.
        :return: The approval page, or the start-over page.
        """
        form = await read_form(request)
        txn = self._by_arb.get(_form_text(form, "arb"))
        if txn is None or txn.stage is not Stage.APPROVAL:
            return self._stale_page(ctx.market)
        txn.sent_code = random_digits(6)
        return self._approval_page(txn)

    # -- robot check, maplanding -------------------------------------------------------------------

    async def get_validate_captcha(
        self, request: web.Request, ctx: RequestContext
    ) -> web.StreamResponse:
        """
        Check a robot-check answer and send the visitor back where it came from.

        :param request: The request (``amzn``, ``amzn-r``, ``field-keywords``).
        :param ctx: The request context.
        :return: A redirect to ``amzn-r`` when solved, else a new robot check.
        """
        query = request.query
        back = query.get("amzn-r", "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        session_id = self._robot_challenges.pop(query.get("amzn", ""), None)
        answer = query.get("field-keywords", "").strip().upper()
        if session_id is not None and answer == self._state.captcha_answer.upper():
            self._robot_cleared.add(session_id)
            return redirect(f"{ctx.market.www_url}{back}")
        amzn = opaque_token(18)
        self._robot_challenges[amzn] = session_id or ctx.cookies.get("session-id", "")
        return self._robot_page(amzn, back)

    async def get_maplanding(self, request: web.Request, ctx: RequestContext) -> web.StreamResponse:
        """
        Answer the OAuth landing page the way Amazon does: 404 "page not found".

        :param request: The request.
        :param ctx: The request context.
        :return: The 404 page.
        """
        del request
        return html_response(pages.not_found_page(site=ctx.market.www_url), status=404)

    # -- rendering -----------------------------------------------------------------------------

    def _rotate(self, txn: SignInTransaction) -> None:
        self._by_workflow.pop(txn.workflow_state, None)
        txn.app_action_token = opaque_token(30) + "j3D"
        txn.workflow_state = _jwe_like()
        self._by_workflow[txn.workflow_state] = txn

    def _forget_tokens(self, txn: SignInTransaction) -> None:
        self._by_workflow.pop(txn.workflow_state, None)
        self._by_verify.pop(txn.verify_token, None)
        txn.expected_hidden = {}
        for challenge_id in [k for k, v in self._passkey_challenges.items() if v[0] is txn]:
            del self._passkey_challenges[challenge_id]

    def _trio(self, txn: SignInTransaction, app_action: str) -> dict[str, str]:
        self._rotate(txn)
        return {
            "appActionToken": txn.app_action_token,
            "appAction": app_action,
        }

    def _tail(self, txn: SignInTransaction) -> dict[str, str]:
        return {
            "openid.return_to": _ape(txn.return_to),
            "prevRID": _ape(txn.prev_rid),
            "workflowState": txn.workflow_state,
        }

    def _passkey_form(self, txn: SignInTransaction) -> str:
        challenge_id, challenge = opaque_token(16), opaque_token(32)
        self._passkey_challenges[challenge_id] = (txn, txn.market.domain, challenge)
        return pages.passkey_button_form(
            rp_id=txn.market.domain, challenge_id=challenge_id, challenge=challenge
        )

    def _post_passkey(
        self, form: MultiDict[str], challenge_id: str, ctx: RequestContext
    ) -> web.Response:
        """
        Sign in with a passkey: the browser's answer to a passkey form's challenge.

        A passkey is both factors at once: a good answer ends the sign-in with the code.

        :param form: The posted passkey form.
        :param challenge_id: Its ``webAuthnChallengeIdForButton``.
        :param ctx: The request context.
        :return: The redirect to maplanding, or an error page.
        """
        state = self._state
        found = self._passkey_challenges.pop(challenge_id, None)
        if found is None:
            return self._stale_page(ctx.market)
        txn, rp_id, challenge = found
        response = read_passkey_response(_form_text(form, PASSKEY_RESPONSE_FIELD))
        passkey = state.passkeys.get(response[0]) if response is not None else None
        account = state.find_account(passkey.email) if passkey is not None else None
        if (
            response is None
            or passkey is None
            or account is None
            or (txn.email is not None and txn.email != account.email)
            or response[1] != passkey.signature(rp_id, challenge)
        ):
            page = pages.error_page(
                site=txn.site,
                title="Sign-In Error",
                message="We could not sign you in with this passkey. Please start over.",
            )
            return html_response(page)
        txn.email = account.email
        txn.mfa_done = True
        return self._finish(txn)

    def _credentials_page(
        self, txn: SignInTransaction, *, errors: list[str] | None = None, status: int = 200
    ) -> web.Response:
        state = self._state
        scenario = state.scenario_for(state.find_account(txn.email or ""))
        claim = txn.email_first and txn.email is None
        hidden = self._trio(txn, "SIGNIN_PWD_COLLECT")
        if claim:
            hidden["subPageType"] = "SignInClaimCollect"
        hidden["metadata1"] = "ape:dHJ1ZQ=="
        hidden.update(self._tail(txn))
        if txn.email is not None:
            hidden["email"] = txn.email
        if claim:
            hidden["create"] = "0"
        else:
            hidden["encryptedPasswordExpected"] = ""
        txn.stage = Stage.CREDENTIALS
        txn.expected_hidden = dict(hidden)
        page = pages.signin_page(
            site=txn.site,
            hidden=hidden,
            email_first=txn.email_first,
            email=txn.email,
            errors=errors or [],
            captcha_url=self._captcha_image() if txn.captcha_pending else None,
            passkey_form=(
                self._passkey_form(txn) if scenario.password_page_offers_passkey else None
            ),
        )
        return html_response(page, status=status)

    def _mfa_page(self, txn: SignInTransaction, *, errors: list[str] | None = None) -> web.Response:
        hidden = self._trio(txn, "SIGNIN_MFA")
        hidden.update(self._tail(txn))
        hidden["deviceId"] = str(uuid.uuid4())
        txn.stage = Stage.MFA
        txn.expected_hidden = {k: v for k, v in hidden.items() if k != "deviceId"}
        page = pages.mfa_page(
            site=txn.site,
            hidden=hidden,
            new_otp_url=f"{txn.site}/ap/mfa/new-otp?{urlencode({'ie': 'UTF8', 'arb': txn.arb})}",
            errors=errors or [],
            sent_to=None if txn.sent_code is None else "your phone number ending in 42",
        )
        return html_response(page)

    def _chooser_page(
        self,
        txn: SignInTransaction,
        *,
        sms_only: bool,
        too_many: bool = False,
        errors: list[str] | None = None,
    ) -> web.Response:
        kinds = ("SMS", "VOICE") if sms_only else ("TOTP", "SMS")
        labels = {
            "TOTP": "Use your authenticator app",
            "SMS": "Send a text to my number ending in 42",
            "VOICE": "Call my number ending in 42",
        }
        if not txn.otp_options or set(txn.otp_options.values()) != set(kinds):
            txn.otp_options = {f"{opaque_token(12)}, {kind}": kind for kind in kinds}
        hidden = self._trio(txn, "MFA_NEW_OTP")
        hidden.update(self._tail(txn))
        txn.stage = Stage.CHOOSER
        txn.expected_hidden = dict(hidden)
        messages = [pages.TOO_MANY_OTPS] if too_many else list(errors or [])
        page = pages.device_chooser_page(
            site=txn.site,
            hidden=hidden,
            options=[(value, kind, labels[kind]) for value, kind in txn.otp_options.items()],
            errors=messages,
        )
        return html_response(page)

    def _redirect_cvf(self, txn: SignInTransaction, path: str) -> web.Response:
        # Amazon sends CVF challenges to their own URL, so the captcha form's relative action
        # "verify" resolves to /ap/cvf/verify.
        self._forget_tokens(txn)
        return redirect(f"{txn.site}{path}?{urlencode({'arb': txn.arb})}")

    def _cvf_page(self, txn: SignInTransaction, *, wrong: bool = False) -> web.Response:
        self._by_verify.pop(txn.verify_token, None)
        txn.verify_token = f"s|{uuid.uuid4()}"
        self._by_verify[txn.verify_token] = txn
        hidden = {
            "cvf_captcha_captcha_token": opaque_token(40),
            "cvf_captcha_captcha_type": "imageCaptcha",
            "cvf_captcha_js_enabled_metric": "0",
            "clientContext": opaque_token(20),
            "openid.assoc_handle": txn.assoc_handle,
            "openid.return_to": txn.return_to,
            "pageId": ASSOC_HANDLE,
            "verifyToken": txn.verify_token,
        }
        if txn.stage is Stage.AAMATION:
            hidden = {
                "cvf_aamation_response_token": "",
                "cvf_captcha_captcha_action": "verifyAamationChallenge",
                "cvf_aamation_error_code": "",
                "clientContext": hidden["clientContext"],
                "openid.assoc_handle": txn.assoc_handle,
                "openid.return_to": txn.return_to,
                "pageId": ASSOC_HANDLE,
                "verifyToken": txn.verify_token,
            }
            txn.expected_hidden = {"verifyToken": txn.verify_token}
            page = pages.aamation_page(site=txn.site, hidden=hidden)
            return html_response(page)
        txn.expected_hidden = {
            "cvf_captcha_captcha_token": hidden["cvf_captcha_captcha_token"],
            "verifyToken": txn.verify_token,
        }
        page = pages.cvf_captcha_page(
            site=txn.site, hidden=hidden, captcha_url=self._captcha_image(), wrong=wrong
        )
        return html_response(page)

    def _approval_page(
        self, txn: SignInTransaction, *, errors: list[str] | None = None
    ) -> web.Response:
        fields = {
            "otpCode": "",
            "arb": txn.arb,
            "openid.return_to": txn.return_to,
            "pageId": ASSOC_HANDLE,
            "openid.assoc_handle": txn.assoc_handle,
            "disableRedirect": "",
            "isResend": "false",
            "csrfToken": opaque_token(30),
        }
        txn.expected_hidden = {"arb": txn.arb, "csrfToken": fields["csrfToken"]}
        page = pages.approval_page(
            site=txn.site,
            verify_fields=fields,
            arb=txn.arb,
            status="TransactionCompleted" if txn.approved else "TransactionPending",
            errors=errors or [],
        )
        return html_response(page)

    def _robot_page(self, amzn: str, back: str) -> web.Response:
        hidden = {"amzn": amzn, "amzn-r": back, "amzn-pt": "AuthenticationPortal"}
        page = pages.robot_check_page(
            hidden=hidden,
            captcha_url=(
                f"https://images-na.ssl-images-amazon.com/captcha/{opaque_token(6).lower()}"
                f"/Captcha_{opaque_token(8).lower()}.jpg"
            ),
        )
        return html_response(page)

    def _lockout_page(self, txn: SignInTransaction, account: SimAccount) -> web.Response:
        txn.stage = Stage.DONE
        self._forget_tokens(txn)
        hidden = {
            "appActionToken": opaque_token(30) + "j3D",
            "appAction": "FORGOTPASSWORD",
            "openid.return_to": _ape(txn.return_to),
            "prevRID": _ape(txn.prev_rid),
            "workflowState": _jwe_like(),
        }
        page = pages.lockout_page(site=txn.site, hidden=hidden, email=account.email)
        return html_response(page)

    def _intent_page(self, txn: SignInTransaction, email: str) -> web.Response:
        txn.stage = Stage.DONE
        self._forget_tokens(txn)
        hidden = {
            "claimCollectionLayoutType": "unifiedAuthClaimCollection",
            "email": email,
            "arb": txn.arb,
            "csrf-token": opaque_token(30),
        }
        page = pages.intent_confirmation_page(site=txn.site, hidden=hidden, email=email)
        return html_response(page)

    def _stale_page(self, market: Marketplace) -> web.Response:
        page = pages.error_page(
            site=market.www_url,
            title="Please start over",
            message="Your sign-in session has expired or is no longer valid. Please start over.",
        )
        return html_response(page)

    @staticmethod
    def _captcha_image() -> str:
        return (
            f"https://opfcaptcha-prod.s3.amazonaws.com/{uuid.uuid4().hex}.jpg"
            f"?AWSAccessKeyId=AKIA{opaque_token(12).upper()}&Expires=1"
        )


def _is_maplanding(url: str) -> bool:
    # Amazon redirects only to its own landing page, never to a host the client names.
    parts = urlsplit(url)
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and parts.netloc.lower() == host  # no port, no user info
        and host.startswith("www.")
        and find_marketplace(host) is not None
        and parts.path == "/ap/maplanding"
        and not parts.query
        and not parts.fragment
    )
