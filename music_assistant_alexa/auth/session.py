"""
The auth session manager: one Amazon account's sign-in, from first login to months of refreshes.

It owns the account's store folder and HTTP client and offers what callers need: ``login`` with
the user's credentials (resumable at a captcha), ``restore`` after a restart without a password,
``refresh`` and ``ensure_valid`` for everyone who needs a working session (single flight: any
number of concurrent callers share one refresh), ``reset`` for the complete re-authentication,
and a ``status`` snapshot for diagnostics. It never imports Music Assistant.

It also keeps the account safe from its callers: password submissions are counted, obstacles
pause further sign-ins, and credentials Amazon refused are remembered (as a salted fingerprint in
``state.json``) so that automatic sign-ins do not send them again; a sign-in the user asks for
always goes out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

from .captcha_picture import MAX_PICTURE_BYTES, fetch_captcha_picture
from .clock import SYSTEM_CLOCK, Clock, format_utc
from .endpoints import DEFAULT_MARKETPLACE, AmazonHosts
from .errors import (
    AlexaAuthError,
    CaptchaRequiredError,
    ErrorCategory,
    LoginBackoffError,
    MissingCredentialsError,
    NotSignedInError,
    SessionExpiredError,
    SessionRevokedError,
    error_class,
)
from .http import DEFAULT_PACE, DEFAULT_TIMEOUT, AmazonHttp
from .login import Credentials, SignInWalk
from .models import AuthEvent, CookieFile, RefusedCredentials, Registration, SessionState
from .registration import (
    DeviceIdentity,
    Pkce,
    deregister_device,
    exchange_cookies,
    fetch_csrf,
    refresh_access_token,
    register_device,
    session_is_valid,
)
from .store import SessionStore
from .totp import TotpKey, parse_totp_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from pathlib import Path
    from typing import Any

    from aiohttp import ClientSession

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_DEVICE_NAME: Final = "Music Assistant"
#: Refresh the access token when it has less than this left (it lasts an hour).
ACCESS_TOKEN_MARGIN: Final = 300.0
#: Password submissions allowed per account in any hour.
PASSWORD_ATTEMPTS_PER_HOUR: Final = 3
ATTEMPT_WINDOW: Final = 3600.0
#: Waits after a captcha, a lockout or a bot wall (the user's guide: 1 min, 5 min, 15 min, 1 h).
BACKOFF_LADDER: Final = (60.0, 300.0, 900.0, 3600.0)
#: How long a captcha waits for the user's answer.
CAPTCHA_TTL: Final = 600.0
#: After a refusal that is not permanent, automatic sign-ins wait this long before sending the
#: same credentials again.
REFUSAL_QUIET: Final = 3600.0
#: The back-off reason of a pause that the hourly password budget started.
ATTEMPT_BUDGET: Final = "attempt_budget"


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """A snapshot of the session for status lines and diagnostics (no secrets)."""

    signed_in: bool
    marketplace: str
    account_label: str | None = field(default=None, repr=False)
    device_name: str | None = None
    cookie_timestamp: float | None = None
    access_token_expires_at: float | None = None
    registered_at: float | None = None
    last_refresh_at: float | None = None
    last_refresh_ok: bool | None = None
    last_refresh_error: str | None = None
    captcha_url: str | None = None
    login_not_before: float | None = None
    password_attempts_last_hour: int = 0
    clock_offset: float | None = None
    unreadable_files: tuple[str, ...] = ()


@dataclass(slots=True)
class _SignIn:
    """One sign-in in flight, kept while a captcha waits for the user's answer."""

    walk: SignInWalk
    http: AmazonHttp
    credentials: Credentials = field(repr=False)
    device: DeviceIdentity = field(repr=False)
    pkce: Pkce = field(repr=False)
    #: Salted fingerprint of the credentials, remembered if Amazon refuses them.
    fingerprint: str = field(repr=False)
    expires_at: float = 0.0


class AuthSessionManager:
    """One Amazon account's session."""

    def __init__(  # noqa: PLR0913 - configuration, all keyword-only
        self,
        *,
        session: ClientSession,
        store_dir: Path,
        marketplace: str = DEFAULT_MARKETPLACE,
        endpoint: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        pace: float = DEFAULT_PACE,
        request_timeout: float = DEFAULT_TIMEOUT,
        device_name: str = DEFAULT_DEVICE_NAME,
        on_event: Callable[[AuthEvent], None] | None = None,
    ) -> None:
        """
        Create the manager; nothing is read or sent until a method is called.

        :param session: The injected aiohttp session (its connection pool is shared, its cookie
            jar is not used).
        :param store_dir: The account's folder.
        :param marketplace: The account's marketplace, e.g. "amazon.de".
        :param endpoint: Send every Amazon host to this base URL (the simulator), or None.
        :param clock: Clock for codes, pacing, expiry and back-off.
        :param pace: Minimum seconds between two requests to Amazon.
        :param request_timeout: Seconds one request may take.
        :param device_name: Name of our device in the account's device list.
        :param on_event: Called with every event recorded (sign-in, refresh, failure, ...).
        """
        self._session = session
        self.hosts = AmazonHosts.for_marketplace(marketplace, endpoint)
        self.store = SessionStore(store_dir)
        self.clock = clock
        self._pace = pace
        self._timeout = request_timeout
        self.device_name = device_name
        self._on_event = on_event
        self._http = self._new_http()
        self._registration: Registration | None = None
        self._cookies: CookieFile | None = None
        self._state: SessionState | None = None
        self._pending: _SignIn | None = None
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        """Return a representation without secrets."""
        return (
            f"AuthSessionManager(marketplace={self.hosts.marketplace.domain!r}, "
            f"store={str(self.store.folder)!r}, signed_in={self.signed_in})"
        )

    def _new_http(self) -> AmazonHttp:
        return AmazonHttp(
            self._session, self.hosts, clock=self.clock, pace=self._pace, timeout=self._timeout
        )

    # --- state -----------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        """Return whether a registered device and cookies are held."""
        return bool(self._registration and self._registration.is_registered and self._cookies)

    @property
    def registration(self) -> Registration | None:
        """Return the device registration held in memory (secrets inside: do not log)."""
        return self._registration

    @property
    def cookies(self) -> CookieFile | None:
        """Return the marketplace cookies held in memory (secrets inside: do not log)."""
        return self._cookies

    @property
    def http(self) -> AmazonHttp:
        """Return the account's HTTP client, for callers that talk to Alexa's web API."""
        return self._http

    async def state(self) -> SessionState:
        """Return the attempt record and history, reading them on first use."""
        if self._state is None:
            self._state = await self.store.read_state()
        return self._state

    def status(self) -> SessionStatus:
        """Return a snapshot of the session (no secrets)."""
        reg, cookies, state = self._registration, self._cookies, self._state or SessionState()
        now = self.clock.time()
        not_before = self._login_not_before(state, now)
        pending = self._pending if self._pending and self._pending.expires_at > now else None
        return SessionStatus(
            signed_in=self.signed_in,
            marketplace=self.hosts.marketplace.domain,
            account_label=(reg.customer_name or _mask_email(reg.email)) if reg else None,
            device_name=reg.device_name if reg else None,
            cookie_timestamp=cookies.timestamp if cookies else None,
            access_token_expires_at=reg.access_token_expires_at if reg else None,
            registered_at=reg.registered_at if reg else None,
            last_refresh_at=state.last_refresh_at,
            last_refresh_ok=state.last_refresh_ok,
            last_refresh_error=state.last_refresh_error,
            captcha_url=pending.walk.captcha_url if pending else None,
            login_not_before=not_before,
            password_attempts_last_hour=len(_recent_attempts(state, now)),
            clock_offset=self._http.clock_offset,
            unreadable_files=tuple(p.name for p in self.store.quarantined),
        )

    # --- restore ---------------------------------------------------------------------------

    async def restore(self, *, validate: bool = True) -> bool:
        """
        Load the stored session; optionally confirm it with Amazon (one request).

        Rejected cookies are renewed from the refresh token; no password is ever needed here.

        :param validate: Ask Amazon whether the cookies still work.
        :returns: False when nothing usable is stored (a sign-in is needed).
        :raises SessionRevokedError: Amazon revoked the device.
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        await self.state()
        registration = await self.store.read_registration()
        if registration is None or not registration.is_registered:
            self._registration = None
            return False
        self._registration = registration
        cookies = await self.store.read_cookies()
        usable = cookies is not None and cookies.marketplace == self.hosts.marketplace.domain
        self._cookies = cookies if usable else None
        if self._cookies is not None:
            self._http.load_cookies(self._cookies.cookies)
        if not validate:
            return True
        if self._cookies is not None and await session_is_valid(self._http, self._cookies.csrf):
            await self._record("restore")
            return True
        await self.refresh()
        return True

    # --- sign-in ---------------------------------------------------------------------------

    async def login(
        self, email: str, password: str, totp_key: str | TotpKey, *, automatic: bool = False
    ) -> None:
        """
        Sign in with the user's credentials, register (or reuse) our device, store the session.

        :param email: Amazon e-mail address (or phone number).
        :param password: Amazon password.
        :param totp_key: The authenticator-app key (validated before anything is sent).
        :param automatic: Nobody asked for this sign-in (a host's load or its retry): credentials
            Amazon refused are not sent again: after a permanent refusal (wrong password, unknown
            account) never until they change, after another one not within
            :data:`REFUSAL_QUIET`. The refusal is raised again instead, with nothing sent.
        :raises InvalidTwoFactorKeyError: The key is malformed (nothing sent, nothing stored).
        :raises MissingCredentialsError: E-mail or password is empty.
        :raises CaptchaRequiredError: Answer the captcha with :meth:`answer_captcha`.
        :raises AlexaAuthError: Any other obstacle, with its guide section.
        """
        key = totp_key if isinstance(totp_key, TotpKey) else parse_totp_key(totp_key)
        if not email.strip() or not password:
            msg = "Enter the e-mail address and the password of your Amazon account."
            raise MissingCredentialsError(msg)
        async with self._login_lock:
            state = await self.state()
            now = self.clock.time()
            not_before = self._login_not_before(state, now)
            if not_before is not None:
                raise _backoff_error(not_before, state.attempts.backoff_reason)
            fingerprint = self._fingerprint(state, email, password, key)
            if automatic:
                _raise_if_refused(state, fingerprint, now)
            if self._registration is None:
                self._registration = await self.store.read_registration()
            device = (
                DeviceIdentity.from_registration(self._registration)
                if self._registration
                else DeviceIdentity.create()
            )
            credentials = Credentials(email.strip(), password, key)
            http = self._new_http()
            pkce = Pkce.create()
            walk = SignInWalk(
                http,
                credentials,
                device=device,
                pkce=pkce,
                clock=self.clock,
                before_password=self._spend_password_attempt,
            )
            await self._drop_pending()
            sign_in = _SignIn(walk, http, credentials, device, pkce, fingerprint)
            await self._finish_walk(walk.run(), sign_in)

    async def answer_captcha(self, answer: str) -> None:
        """
        Continue the sign-in that stopped at a captcha.

        :param answer: The characters in the picture.
        :raises CaptchaRequiredError: No captcha is waiting (or it expired), or a new one came.
        :raises AlexaAuthError: Any other obstacle, with its guide section.
        """
        async with self._login_lock:
            pending = self._pending
            if pending is None or pending.expires_at <= self.clock.time():
                await self._drop_pending()
                msg = "The captcha has expired; start the sign-in again."
                raise CaptchaRequiredError(msg)
            self._pending = None  # continued below: its client lives on in the walk
            await self._finish_walk(pending.walk.answer_captcha(answer.strip()), pending)

    @property
    def captcha_url(self) -> str | None:
        """Return the picture of the captcha waiting for an answer, if any."""
        pending = self._pending
        if pending is None or pending.expires_at <= self.clock.time():
            return None
        return pending.walk.captcha_url

    async def captcha_picture(self, *, max_bytes: int = MAX_PICTURE_BYTES) -> str | None:
        """
        Return the waiting captcha's picture as a ``data:`` URI, fetched with the sign-in's client.

        :param max_bytes: Refuse a larger picture.
        :returns: None when no captcha waits, or the picture could not be fetched (the caller
            then shows :attr:`captcha_url` instead).
        """
        pending, url = self._pending, self.captcha_url
        if pending is None or url is None:
            return None
        try:
            return await fetch_captcha_picture(pending.http, url, max_bytes=max_bytes)
        except AlexaAuthError as err:
            _LOGGER.info("Could not fetch the captcha picture (%s): %s", err.code, err.message)
            return None

    async def _finish_walk(self, walk_step: Coroutine[Any, Any, str], sign_in: _SignIn) -> None:
        walk, http = sign_in.walk, sign_in.http
        try:
            code = await walk_step
            registration = await self._register(code, sign_in)
            csrf = await fetch_csrf(http)
            if not await session_is_valid(http, csrf):
                msg = "Amazon did not accept the new session."
                raise SessionExpiredError(msg)
            await self._adopt(http, registration, csrf)
        except CaptchaRequiredError as err:
            if walk.captcha_url:
                sign_in.expires_at = self.clock.time() + CAPTCHA_TTL
                self._pending = sign_in
            else:
                await http.close()
            await self._fail("sign_in", err, fingerprint=sign_in.fingerprint)
            raise
        except AlexaAuthError as err:
            if http is not self._http:
                await http.close()
            await self._fail("sign_in", err, fingerprint=sign_in.fingerprint)
            raise
        state = await self.state()
        state.attempts.not_before = 0.0
        state.attempts.backoff_step = 0
        state.attempts.backoff_reason = None
        state.attempts.refused = None
        if state.last_refresh_ok is False:
            # Fresh cookies from a sign-in supersede a failed refresh: stop reporting it.
            state.last_refresh_at = state.last_refresh_ok = state.last_refresh_error = None
        detail = None if walk.mfa_seen else "Amazon did not ask for a one-time code"
        await self._record("sign_in", detail=detail)
        _LOGGER.info("Signed in to Amazon (%s)", self.hosts.marketplace.domain)

    async def _register(self, code: str, sign_in: _SignIn) -> Registration:
        """Register (or re-register) our device, storing its identity first and its tokens next."""
        device, http = sign_in.device, sign_in.http
        stored = self._registration
        if stored is None or stored.device_serial != device.serial:
            # Remember the device before Amazon hears of it: if the answer is lost on the way,
            # the retry must register this same device, not a second one.
            stored = Registration(
                device_serial=device.serial,
                marketplace=self.hosts.marketplace.domain,
                frc=device.frc,
                map_md=device.map_md,
            )
            await self.store.write_registration(stored)
            self._registration = stored
        registered = await register_device(
            http,
            authorization_code=code,
            pkce=sign_in.pkce,
            device=device,
            device_name=self.device_name,
            now=self.clock.time(),
        )
        registration = registered.registration
        registration.email = sign_in.credentials.email
        # The device exists at Amazon now (and its old refresh token may be revoked): hold the
        # new tokens in memory first, then store them, so a failing disk cannot lose both.
        self._registration = registration
        await self.store.write_registration(registration)
        if registered.cookies:
            http.load_cookies(registered.cookies)
        else:
            http.load_cookies(await exchange_cookies(http, registration.refresh_token))
        return registration

    async def _adopt(self, http: AmazonHttp, registration: Registration, csrf: str) -> None:
        """
        Make a freshly signed-in client and its cookies the current ones, and store the cookies.

        The registration is already stored by the caller (sign-in: right after registering;
        refresh: with its new access token).
        """
        cookies = CookieFile(
            marketplace=self.hosts.marketplace.domain,
            timestamp=self.clock.time(),
            cookies=http.cookies_for(self.hosts.marketplace.domain),
            csrf=csrf,
        )
        await self.store.write_cookies(cookies)
        if http is not self._http:
            await self._http.close()
            self._http = http
        self._registration, self._cookies = registration, cookies

    async def _drop_pending(self) -> None:
        """Forget the sign-in waiting at a captcha, and close its HTTP client."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending.http.close()

    async def _spend_password_attempt(self) -> None:
        """Count one password submission against the hourly budget, or refuse it."""
        state = await self.state()
        now = self.clock.time()
        attempts = state.attempts
        attempts.password_submissions = _recent_attempts(state, now)
        if len(attempts.password_submissions) >= PASSWORD_ATTEMPTS_PER_HOUR:
            not_before = min(attempts.password_submissions) + ATTEMPT_WINDOW
            raise _backoff_error(not_before, ATTEMPT_BUDGET)
        attempts.password_submissions.append(now)
        # Persist before sending: a crash or restart must not hand out fresh attempts.
        await self.store.write_state(state)

    def _fingerprint(self, state: SessionState, email: str, password: str, key: TotpKey) -> str:
        """Return the credentials' fingerprint, salted with this store's own random salt."""
        attempts = state.attempts
        if not attempts.fingerprint_salt:
            attempts.fingerprint_salt = secrets.token_hex(16)
        parts = (email.strip().lower(), password, key.secret, self.hosts.marketplace.domain)
        salt = attempts.fingerprint_salt.encode()
        return hmac.new(salt, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

    def _login_not_before(self, state: SessionState, now: float) -> float | None:
        attempts = state.attempts
        recent = _recent_attempts(state, now)
        candidates = [attempts.not_before] if attempts.not_before > now else []
        if len(recent) >= PASSWORD_ATTEMPTS_PER_HOUR:
            candidates.append(min(recent) + ATTEMPT_WINDOW)
        return max(candidates) if candidates else None

    # --- refresh ---------------------------------------------------------------------------

    async def refresh(self) -> None:
        """
        Renew the access token, the marketplace cookies and the csrf cookie (three requests).

        Concurrent callers share one refresh.

        :raises NotSignedInError: There is no registered device.
        :raises SessionRevokedError: Amazon revoked the device (sign in again).
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        await self._single_flight("refresh", self._refresh)

    async def _refresh(self) -> None:
        registration = self._require_registration()
        http = self._http
        try:
            token, lifetime = await refresh_access_token(http, registration.refresh_token)
            registration.access_token = token
            registration.access_token_expires_at = self.clock.time() + lifetime
            http.load_cookies(await exchange_cookies(http, registration.refresh_token))
            csrf = await fetch_csrf(http)
        except AlexaAuthError as err:
            state = await self.state()
            state.last_refresh_at = self.clock.time()
            state.last_refresh_ok = False
            state.last_refresh_error = err.code
            await self._fail("refresh", err)
            raise
        registration.marketplace = self.hosts.marketplace.domain
        await self.store.write_registration(registration)
        await self._adopt(http, registration, csrf)
        state = await self.state()
        state.last_refresh_at = self.clock.time()
        state.last_refresh_ok = True
        state.last_refresh_error = None
        await self._record("refresh")

    async def ensure_valid(self) -> None:
        """
        Make sure the access token has a few minutes left and cookies are held.

        Concurrent callers share one refresh.

        :raises NotSignedInError: There is no registered device.
        :raises SessionRevokedError: Amazon revoked the device.
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        registration = self._require_registration()
        if self._cookies is None:
            await self.refresh()
            return
        if registration.access_token_expires_at - self.clock.time() < ACCESS_TOKEN_MARGIN:
            await self._single_flight("access_token", self._refresh_access_token)

    async def verify_device(self) -> None:
        """
        Ask Amazon whether our device registration still stands, by minting an access token.

        One request; the new token is kept.

        :raises NotSignedInError: There is no registered device.
        :raises SessionRevokedError: Amazon revoked the device.
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        self._require_registration()
        await self._single_flight("verify_device", self._mint_access_token)

    async def _refresh_access_token(self) -> None:
        registration = self._require_registration()
        if registration.access_token_expires_at - self.clock.time() >= ACCESS_TOKEN_MARGIN:
            return  # another caller refreshed it while this one waited
        await self._mint_access_token()

    async def _mint_access_token(self) -> None:
        registration = self._require_registration()
        try:
            token, lifetime = await refresh_access_token(self._http, registration.refresh_token)
        except AlexaAuthError as err:
            await self._fail("access_token", err)
            raise
        registration.access_token = token
        registration.access_token_expires_at = self.clock.time() + lifetime
        await self.store.write_registration(registration)

    async def access_token(self) -> str:
        """
        Return a valid access token, refreshing it when needed.

        :raises NotSignedInError: There is no registered device.
        """
        await self.ensure_valid()
        return self._require_registration().access_token

    async def check(self) -> bool:
        """Ask Amazon whether the held cookies are signed in (one request)."""
        if self._cookies is None:
            return False
        return await session_is_valid(self._http, self._cookies.csrf)

    async def _single_flight(self, key: str, factory: Callable[[], Awaitable[_T]]) -> _T:
        task = self._inflight.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(factory())
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
        # shield: one caller's cancellation must not cancel the refresh the others wait for.
        result: _T = await asyncio.shield(task)
        return result

    def _forget(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: the awaiting callers got it

    def _require_registration(self) -> Registration:
        if self._registration is None or not self._registration.is_registered:
            msg = "Not signed in to Amazon yet: sign in from the settings."
            raise NotSignedInError(msg)
        return self._registration

    # --- reset -----------------------------------------------------------------------------

    async def reset(self, *, deregister: bool = True) -> ResetResult:
        """
        Re-authenticate completely: back up the folder, deregister at Amazon, wipe.

        The password attempt record and any pause survive the wipe (in memory; the next password
        submission stores them again): a reset must not hand out fresh attempts.

        :param deregister: Remove our device from the account at Amazon first.
        :returns: Where the backup went and whether Amazon confirmed the deregistration.
        :raises StoreError: The folder could not be read or backed up; nothing was changed.
        """
        async with self._login_lock:
            attempts = (await self.state()).attempts
            if self._registration is None:
                self._registration = await self.store.read_registration()
            backup = await asyncio.to_thread(self.store.backup, now=self.clock.time())
            deregistered = False
            if deregister and self._registration and self._registration.is_registered:
                deregistered = await self._deregister(self._registration)
            await asyncio.to_thread(self.store.wipe)
            await self._http.close()
            self._http = self._new_http()
            self._registration = self._cookies = None
            await self._drop_pending()
            self._state = SessionState(attempts=attempts)
            detail = "device removed at Amazon" if deregistered else "device kept at Amazon"
            await self._record("reset", detail=detail, persist=False)
            return ResetResult(backup, deregistered)

    async def _deregister(self, registration: Registration) -> bool:
        try:
            token = registration.access_token
            if registration.access_token_expires_at - self.clock.time() < ACCESS_TOKEN_MARGIN:
                token, _ = await refresh_access_token(self._http, registration.refresh_token)
            return await deregister_device(self._http, token)
        except AlexaAuthError as err:
            _LOGGER.warning("Could not remove the device at Amazon: %s", err.code)
            return False

    async def close(self) -> None:
        """Cancel in-flight work and close what this manager opened."""
        for task in list(self._inflight.values()):
            task.cancel()
        self._inflight.clear()
        await self._drop_pending()
        await self._http.close()

    # --- events ----------------------------------------------------------------------------

    async def _fail(self, kind: str, err: AlexaAuthError, *, fingerprint: str = "") -> None:
        state = await self.state()
        if fingerprint and err.refuses_credentials:
            state.attempts.refused = RefusedCredentials(fingerprint, err.code, self.clock.time())
        if err.starts_backoff:
            step = min(state.attempts.backoff_step, len(BACKOFF_LADDER) - 1)
            state.attempts.not_before = self.clock.time() + BACKOFF_LADDER[step]
            state.attempts.backoff_step = min(step + 1, len(BACKOFF_LADDER) - 1)
            state.attempts.backoff_reason = err.code
        level = logging.INFO if err.category is ErrorCategory.TEMPORARY else logging.WARNING
        _LOGGER.log(level, "Amazon %s failed: %s (%s)", kind.replace("_", "-"), err.code, err)
        await self._record(
            "failure", ok=False, error_code=err.code, guide_slug=str(err.guide_slug), detail=kind
        )

    async def _record(  # noqa: PLR0913 - the fields of one event
        self,
        kind: str,
        *,
        ok: bool = True,
        error_code: str | None = None,
        guide_slug: str | None = None,
        detail: str | None = None,
        persist: bool = True,
    ) -> None:
        event = AuthEvent(self.clock.time(), kind, ok, error_code, guide_slug, detail)
        state = await self.state()
        state.record(event)
        if persist:
            try:
                await self.store.write_state(state)
            except AlexaAuthError as err:
                _LOGGER.warning("Could not save the sign-in history: %s", err)
        if self._on_event is not None:
            self._on_event(event)


@dataclass(frozen=True, slots=True)
class ResetResult:
    """What a reset did."""

    backup: Path | None
    deregistered: bool


def _backoff_error(not_before: float, reason: str | None) -> LoginBackoffError:
    if reason == ATTEMPT_BUDGET:
        why = "the password was already sent several times in the last hour"
    else:
        why = (error_class(reason) or AlexaAuthError).pause_reason
    return LoginBackoffError(why, not_before=not_before)


def _raise_if_refused(state: SessionState, fingerprint: str, now: float) -> None:
    """Raise the refusal again when an automatic sign-in would resend refused credentials."""
    refused = state.attempts.refused
    if refused is None or not hmac.compare_digest(refused.fingerprint, fingerprint):
        return
    cls = error_class(refused.error_code) or AlexaAuthError
    if cls.permanent_refusal:
        until = "until they are changed"
    elif now - refused.at < REFUSAL_QUIET:
        until = f"before {format_utc(refused.at + REFUSAL_QUIET)}"
    else:
        return
    _LOGGER.info("Not sending the credentials Amazon refused again (%s)", refused.error_code)
    msg = (
        f"Amazon refused these credentials at {format_utc(refused.at)} ({refused.error_code}); "
        f"they are not sent again automatically {until}. Check them and sign in from the "
        "settings."
    )
    raise cls(msg)


def _recent_attempts(state: SessionState, now: float) -> list[float]:
    """Return the password submissions of the last hour."""
    return [t for t in state.attempts.password_submissions if now - t < ATTEMPT_WINDOW]


def _mask_email(email: str) -> str | None:
    if not email:
        return None
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}" if domain else f"{name[:2]}***"


__all__ = ["AuthSessionManager", "ResetResult", "SessionRevokedError", "SessionStatus"]
