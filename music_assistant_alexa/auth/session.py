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

Several processes may use one account's folder (Music Assistant and the command line): every
sign-in, refresh, access-token renewal, reset and saved event holds the folder's lock (see
:mod:`.store`) and first takes what another process stored meanwhile. So the attempt budget and
back-off hold across processes, a refresh that waited for another one uses its cookies instead
of asking Amazon again, and nobody writes back an older copy of a file.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

from .account_marketplace import MarketplaceMismatch, judge, needs_lookup
from .browser_sign_in import (
    BrowserSignInLink,
    can_reuse,
    check_attempt,
    device_of,
    finished,
    is_open,
    link_for,
    new_attempt,
    pkce_of,
    read_address,
)
from .captcha_picture import MAX_PICTURE_BYTES, fetch_captcha_picture
from .clock import SYSTEM_CLOCK, Clock, format_utc
from .endpoints import DEFAULT_MARKETPLACE, AmazonHosts
from .errors import (
    AlexaAuthError,
    BrowserCodeRefusedError,
    BrowserSignInExpiredError,
    CaptchaRequiredError,
    ErrorCategory,
    InternalError,
    LoginBackoffError,
    MissingCredentialsError,
    NewerVersionError,
    NotSignedInError,
    RegistrationError,
    SessionRevokedError,
    StoreError,
    error_class,
)
from .http import DEFAULT_PACE, DEFAULT_TIMEOUT, AmazonHttp
from .login import Credentials, SignInWalk
from .models import (
    AuthEvent,
    BrowserSignInRecord,
    CookieFile,
    RefusedCredentials,
    Registration,
    SessionState,
)
from .registration import (
    DeviceIdentity,
    Pkce,
    deregister_device,
    exchange_cookies,
    fetch_account_profile,
    fetch_csrf,
    refresh_access_token,
    register_device,
    session_is_valid,
)
from .store import COOKIES_FILE, REGISTRATION_FILE, STATE_FILE, FolderState, SessionStore
from .totp import TotpKey, parse_totp_key
from .usernames import mask_username

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
#: Access-token lifetimes we believe, whatever Amazon states (it says 3600 s): a longer one
#: would keep a dead token, a shorter one renew it on every call.
MIN_TOKEN_LIFETIME: Final = ACCESS_TOKEN_MARGIN + 60.0
MAX_TOKEN_LIFETIME: Final = 86_400.0
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
#: Set (true) on log records that repeat what the caller is told anyway (a raised error, a
#: result it reads): a front end that prints those itself, the command line, filters them out.
CALLER_TOLD: Final = "alexa_auth_caller_told"
_TOLD: Final = {CALLER_TOLD: True}


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
    #: A device is registered (its refresh token stored), even if no cookies are: a refresh
    #: recovers without the user.
    device_registered: bool = False
    #: Session files a newer version wrote: left untouched, and nothing is saved over them.
    newer_version_files: tuple[str, ...] = ()
    #: (name, owner uid) of the folder (".") and files another user owns.
    foreign_owned_files: tuple[tuple[str, int], ...] = ()
    #: The account's home region as the registration gave it ("NA", "EU", "FE"), if known.
    home_region: str | None = None
    #: The marketplace Amazon named for the account (``/api/users/me``), if it was asked.
    account_marketplace: str | None = None
    #: Amazon says the account belongs elsewhere than :attr:`marketplace` (see
    #: :mod:`.account_marketplace`).
    marketplace_mismatch: MarketplaceMismatch | None = None


@dataclass(slots=True)
class _Grant:
    """What turns an authorization code into a session, whichever way the code was obtained."""

    http: AmazonHttp
    device: DeviceIdentity = field(repr=False)
    pkce: Pkce = field(repr=False)
    #: The account's e-mail address, the session's label.
    email: str = field(repr=False)


@dataclass(slots=True)
class _SignIn(_Grant):
    """One automatic sign-in in flight, kept while a captcha waits for the user's answer."""

    walk: SignInWalk = field(kw_only=True)
    credentials: Credentials = field(repr=False, kw_only=True)
    #: Salted fingerprint of the credentials, remembered if Amazon refuses them.
    fingerprint: str = field(repr=False, kw_only=True)
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
        self._foreign_owned: tuple[tuple[str, int], ...] = ()
        #: The last refresh() found the session renewed by another process while it waited for
        #: the folder, and took that instead of asking Amazon again.
        self.refreshed_elsewhere = False

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
            account_label=(reg.customer_name or _masked(reg.email)) if reg else None,
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
            device_registered=bool(reg and reg.is_registered),
            newer_version_files=tuple(sorted(self.store.newer_files)),
            foreign_owned_files=self._foreign_owned,
            home_region=(reg.home_region or None) if reg else None,
            account_marketplace=(reg.account_marketplace or None) if reg else None,
            marketplace_mismatch=self.marketplace_mismatch,
        )

    @property
    def marketplace_mismatch(self) -> MarketplaceMismatch | None:
        """Return what Amazon says against the session's marketplace, if anything."""
        reg = self._registration
        if reg is None or not reg.is_registered:
            return None
        return judge(self.hosts.marketplace.domain, reg.home_region, reg.account_marketplace)

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
        self._foreign_owned = tuple(await asyncio.to_thread(self.store.owner_problems))
        registration = await self.store.read_registration()
        # Read (and check) the cookies even without a device: an unreadable file is found and
        # moved aside now, not hit later by something that reads it raw.
        cookies = await self.store.read_cookies()
        # Held even before Amazon registered it: the next sign-in, of either kind, must reuse
        # this device identity, never make a second one.
        self._registration = registration
        if registration is None or not registration.is_registered:
            return False
        self._take_cookies(cookies)
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
        async with self._login_lock, self.store.locked():
            # One sign-in per folder at a time, across processes: the budget and the back-off
            # are read fresh and spent under the same lock.
            await self._sync_from_disk()
            self._refuse_newer_files()
            state = await self.state()
            now = self.clock.time()
            not_before = self._login_not_before(state, now)
            if not_before is not None:
                raise _backoff_error(not_before, state.attempts.backoff_reason)
            fingerprint = self._fingerprint(state, email, password, key)
            if automatic:
                _raise_if_refused(state, fingerprint, now)
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
            sign_in = _SignIn(
                http,
                device,
                pkce,
                credentials.email,
                walk=walk,
                credentials=credentials,
                fingerprint=fingerprint,
            )
            await self._finish_walk(walk.run(), sign_in)

    async def answer_captcha(self, answer: str) -> None:
        """
        Continue the sign-in that stopped at a captcha.

        :param answer: The characters in the picture.
        :raises CaptchaRequiredError: No captcha is waiting (or it expired), or a new one came.
        :raises AlexaAuthError: Any other obstacle, with its guide section.
        """
        async with self._login_lock, self.store.locked():
            await self._sync_from_disk()
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

    # --- the sign-in in the user's own browser (issue 15; see .browser_sign_in) --------------

    async def start_browser_sign_in(
        self, *, email: str = "", renew: bool = False
    ) -> BrowserSignInLink:
        """
        Make (or show again) the link for a sign-in in the user's own browser; nothing is sent.

        The link is the automatic sign-in's first page for our device (the stored one, or one
        stored now, so that both ways register the same single device). The attempt, with its
        PKCE verifier, is stored for :data:`~.browser_sign_in.BROWSER_SIGN_IN_TTL` seconds: a
        restart before the paste loses nothing. Nothing pauses it: no password is sent.

        :param email: The account's e-mail address (the session's label; optional).
        :param renew: Always make a new link. Otherwise the waiting link is returned again while
            it has a few minutes left, so a tab the user already opened stays valid.
        :returns: The link to open, its attempt id and its expiry.
        :raises NewerVersionError: A newer version wrote the session (nothing was changed).
        :raises StoreError: The attempt could not be stored.
        """
        async with self._login_lock, self.store.locked():
            await self._sync_from_disk()
            self._refuse_newer_files()
            now = self.clock.time()
            previous = await self.store.read_browser_sign_in()
            if not renew and previous is not None and can_reuse(previous, self.hosts, now):
                return link_for(previous, self.hosts)
            if self._registration is None:
                # Remember the device before Amazon hears of it, as the automatic sign-in does:
                # then an automatic sign-in meanwhile reuses it, and a paste Amazon refuses
                # leaves every file as it was.
                device = DeviceIdentity.create()
                self._registration = Registration(
                    device_serial=device.serial,
                    marketplace=self.hosts.marketplace.domain,
                    frc=device.frc,
                    map_md=device.map_md,
                    email=email.strip(),
                )
                await self.store.write_registration(self._registration)
            record = new_attempt(
                device=DeviceIdentity.from_registration(self._registration),
                hosts=self.hosts,
                email=email.strip() or self._registration.email,
                now=now,
                previous=previous,
            )
            await self.store.write_browser_sign_in(record)
            until = format_utc(record.expires_at)
            await self._record("browser_sign_in_link", detail=f"valid until {until}")
        return link_for(record, self.hosts)

    async def pending_browser_sign_in(self) -> BrowserSignInLink | None:
        """Return the link of the browser sign-in waiting for its address, if one is (no lock)."""
        record = await self.store.read_browser_sign_in()
        if record is None or not is_open(record, self.hosts, self.clock.time()):
            return None
        return link_for(record, self.hosts)

    async def finish_browser_sign_in(self, pasted: str, *, attempt_id: str | None = None) -> None:
        """
        Finish a browser sign-in with the address of its final page (or the code alone).

        The code registers our device with the attempt's verifier; then everything runs as after
        an automatic sign-in (cookies, csrf, validation, events, state). The code works once.
        Everything found wrong before Amazon is asked changes nothing, on disk or at Amazon.

        :param pasted: What the user pasted: the whole address, or the code.
        :param attempt_id: The attempt whose link the caller showed (a replaced one is refused).
        :raises BrowserAddressError: Not the final address (bad input; ``problem`` says why).
        :raises BrowserAddressUsedError: The address was used before (bad input).
        :raises BrowserAttemptMismatchError: It belongs to another link (bad input).
        :raises BrowserSignInExpiredError: The link expired, or none is waiting
            (:class:`~.errors.NoBrowserSignInError`): a new link is needed.
        :raises BrowserCodeRefusedError: Amazon refused the code (too old, or of another link).
        :raises AlexaAuthError: Temporary trouble, or a store problem.
        """
        address = read_address(pasted, self.hosts)
        async with self._login_lock, self.store.locked():
            await self._sync_from_disk()
            self._refuse_newer_files()
            record = check_attempt(
                await self.store.read_browser_sign_in(),
                address,
                hosts=self.hosts,
                now=self.clock.time(),
                attempt_id=attempt_id,
            )
            device = device_of(record)
            stored = self._registration
            if stored is not None and stored.device_serial != device.serial:
                msg = (
                    "Since this link was made, a sign-in of another kind registered another "
                    "device; the link no longer fits. Start a new sign-in in the browser."
                )
                raise BrowserSignInExpiredError(msg)
            await self._drop_pending()
            email = record.email or (stored.email if stored is not None else "")
            grant = _Grant(self._new_http(), device, pkce_of(record), email)
            await self._finish_browser(address.code, grant, record)

    async def _finish_browser(self, code: str, grant: _Grant, record: BrowserSignInRecord) -> None:
        before = self._registration
        try:
            await _as_ours(self._complete_sign_in(_given(code), grant), "browser_sign_in")
        except AlexaAuthError as err:
            failure = err
            if isinstance(err, RegistrationError):
                msg = (
                    "Amazon did not accept the code in this address. A code works only once, "
                    "for a few minutes after the sign-in, and only with the link it came from. "
                    "Start a new sign-in in the browser and paste its final address right away."
                )
                failure = BrowserCodeRefusedError(msg, amazon_text=err.amazon_text)
            await grant.http.close()  # a client of its own, adopted only on success
            registered = self._registration
            if registered is not before and registered is not None and registered.is_registered:
                # Amazon took the code (the device is registered; a refresh brings the cookies):
                # the same address cannot work again.
                done = finished(record, code, self.clock.time())
                await self.store.write_browser_sign_in(done)
            await self._fail("browser_sign_in", failure)
            if failure is err:
                raise
            raise failure from err
        await self.store.write_browser_sign_in(finished(record, code, self.clock.time()))
        await self._note_signed_in("in the browser")

    async def _finish_walk(self, walk_step: Coroutine[Any, Any, str], sign_in: _SignIn) -> None:
        walk, http = sign_in.walk, sign_in.http
        try:
            await _as_ours(self._complete_sign_in(walk_step, sign_in), "sign_in")
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
        (await self.state()).attempts.refused = None
        detail = None if walk.mfa_seen else "Amazon did not ask for a one-time code"
        await self._note_signed_in(detail)

    async def _note_signed_in(self, detail: str | None) -> None:
        """Record a finished sign-in (of either kind): no more pause, no stale refresh failure."""
        state = await self.state()
        state.attempts.not_before = 0.0
        state.attempts.backoff_step = 0
        state.attempts.backoff_reason = None
        if state.last_refresh_ok is False:
            # Fresh cookies from a sign-in supersede a failed refresh: stop reporting it.
            state.last_refresh_at = state.last_refresh_ok = state.last_refresh_error = None
        details = [detail] if detail else []
        mismatch = self._note_mismatch()
        if mismatch is not None:
            details.append(_event_detail(mismatch))
        await self._record("sign_in", detail="; ".join(details) or None)
        _LOGGER.info("Signed in to Amazon (%s)", self.hosts.marketplace.domain)

    async def _complete_sign_in(self, walk_step: Coroutine[Any, Any, str], sign_in: _Grant) -> None:
        """
        Walk to the code, register, fetch the csrf and adopt the new session.

        No request checks the new session afterwards: the csrf request already proves that
        Amazon's Alexa host accepts the registration's cookies (it answers 401, or sends the
        sign-in page, for cookies it does not accept, and hands the csrf only to a session it
        knows). When the registration's home region cannot be this marketplace's, the account
        belongs elsewhere: ``/api/users/me`` names the marketplace, and its answer proves the
        same about the cookies.
        """
        http = sign_in.http
        code = await walk_step
        registration = await self._register(code, sign_in)
        csrf: str | None = None
        if needs_lookup(self.hosts.marketplace, registration.home_region):
            csrf = await self._look_up_marketplace(http, registration)
        if csrf is None:
            csrf = await fetch_csrf(http)
        await self._adopt(http, registration, csrf)

    async def _look_up_marketplace(
        self, http: AmazonHttp, registration: Registration
    ) -> str | None:
        """
        Ask which marketplace the account belongs to; return the csrf to keep, or None.

        A session on the wrong marketplace is moved by its fix (new cookies and a csrf there),
        so the csrf of this one is not fetched: "" stands for "none, on purpose". A lookup
        Amazon could not answer right now is no reason to fail a sign-in that worked: the csrf
        request then follows, as without the lookup.
        """
        try:
            profile = await fetch_account_profile(http)
        except AlexaAuthError as err:
            if err.category is not ErrorCategory.TEMPORARY:
                raise
            _LOGGER.info("Could not ask Amazon for the account's marketplace (%s)", err.code)
            return None
        registration.account_marketplace = profile.marketplace
        await self.store.write_registration(registration)
        domain = self.hosts.marketplace.domain
        moving = judge(domain, registration.home_region, profile.marketplace) is not None
        return profile.csrf if profile.csrf or moving else None

    async def _register(self, code: str, sign_in: _Grant) -> Registration:
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
        registration.email = sign_in.email
        registration.access_token_expires_at = _bounded_expiry(
            registration.access_token_expires_at, self.clock.time()
        )
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
        Renew the marketplace cookies and the csrf cookie (two requests).

        The access token is not renewed here: whatever needs one mints it
        (:meth:`access_token`, :meth:`verify_device`, the deregistration of a reset).

        Concurrent callers share one refresh, in this process and across processes: a refresh
        that had to wait for another process's uses the cookies that one stored (and
        :attr:`refreshed_elsewhere` says so).

        :raises NotSignedInError: There is no registered device.
        :raises SessionRevokedError: Amazon revoked the device (sign in again).
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        self.refreshed_elsewhere = await self._single_flight("refresh", self._refresh)

    async def _refresh(self) -> bool:
        """Refresh under the folder's lock; return True when another process did it meanwhile."""
        known = self._cookies.timestamp if self._cookies is not None else None
        waiting_since = self.clock.time()
        async with self.store.locked(create=False):
            await self._sync_from_disk()
            cookies = self._cookies
            if (
                cookies is not None
                and cookies.timestamp >= waiting_since
                and (known is None or cookies.timestamp > known)
            ):
                _LOGGER.info("Another process renewed the Amazon session just now; using it")
                return True
            await self._refresh_locked()
            return False

    async def _refresh_locked(self) -> None:
        registration = self._require_registration()
        http = self._http
        try:
            csrf = await _as_ours(self._renew(registration, http), "refresh")
        except AlexaAuthError as err:
            state = await self.state()
            state.last_refresh_at = self.clock.time()
            state.last_refresh_ok = False
            state.last_refresh_error = err.code
            await self._fail("refresh", err)
            raise
        if registration.marketplace != self.hosts.marketplace.domain:
            # The session moves to this marketplace (a marketplace changed in the settings, or
            # the command line's switch-marketplace): the device is the same, the cookies new.
            registration.marketplace = self.hosts.marketplace.domain
            await self.store.write_registration(registration)
        await self._adopt(http, registration, csrf)
        state = await self.state()
        state.last_refresh_at = self.clock.time()
        state.last_refresh_ok = True
        state.last_refresh_error = None
        mismatch = self._note_mismatch()
        await self._record("refresh", detail=_event_detail(mismatch) if mismatch else None)

    async def _renew(self, registration: Registration, http: AmazonHttp) -> str:
        """
        Mint the marketplace cookies into the jar and return the csrf (two requests).

        The cookie exchange spends the refresh token just as the access-token request did, so
        it proves as much: a device Amazon revoked gets ``invalid_grant`` there.
        """
        http.load_cookies(await exchange_cookies(http, registration.refresh_token))
        return await fetch_csrf(http)

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

    async def verify_marketplace(self) -> MarketplaceMismatch | None:
        """
        Ask Amazon which marketplace the account belongs to (one request) and remember it.

        :returns: The mismatch with the session's marketplace, if Amazon names another.
        :raises NotSignedInError: There is no registered device, or no cookies are held.
        :raises SessionExpiredError: Amazon does not accept the cookies.
        :raises AlexaAuthError: Temporary trouble reaching Amazon.
        """
        self._require_registration()
        if self._cookies is None:
            msg = "No website cookies are held, so Amazon cannot be asked about the account."
            raise NotSignedInError(msg)
        profile = await _as_ours(fetch_account_profile(self._http), "marketplace_check")
        if profile.marketplace:
            async with self.store.locked(create=False):
                await self._sync_from_disk()
                registration = self._require_registration()
                if registration.account_marketplace != profile.marketplace:
                    registration.account_marketplace = profile.marketplace
                    await self.store.write_registration(registration)
        return self.marketplace_mismatch

    async def _refresh_access_token(self) -> None:
        async with self.store.locked(create=False):
            await self._sync_from_disk()
            registration = self._require_registration()
            if registration.access_token_expires_at - self.clock.time() >= ACCESS_TOKEN_MARGIN:
                return  # another caller (or process) refreshed it while this one waited
            await self._mint_access_token()

    async def _mint_access_token(self) -> None:
        async with self.store.locked(create=False):
            await self._sync_from_disk()
            registration = self._require_registration()
            try:
                token, lifetime = await _as_ours(
                    refresh_access_token(self._http, registration.refresh_token), "access_token"
                )
            except AlexaAuthError as err:
                await self._fail("access_token", err)
                raise
            registration.access_token = token
            registration.access_token_expires_at = self.clock.time() + _bounded_lifetime(lifetime)
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
            if REGISTRATION_FILE in self.store.newer_files:
                self._refuse_newer_files()
            msg = "Not signed in to Amazon yet: sign in from the settings."
            raise NotSignedInError(msg)
        return self._registration

    # --- reset -----------------------------------------------------------------------------

    async def reset(self, *, deregister: bool = True, keep_state: bool = False) -> ResetResult:
        """
        Re-authenticate completely: back up the folder, deregister at Amazon, remove the session.

        Exactly the session's files are removed, and the result names them. The password
        attempt record and any pause survive: in memory always, and on disk with
        ``keep_state`` (the folder and its ``state.json`` stay), so that no later process gets
        fresh attempts either. Nothing is changed, at Amazon or on disk, when the folder is not
        a session folder, was written by a newer version, or is read-only.

        :param deregister: Remove our device from the account at Amazon first.
        :param keep_state: Keep the folder and the attempt record (``state.json``); without it
            the folder is deleted when nothing else is in it.
        :returns: Where the backup went, whether Amazon confirmed the deregistration, and which
            files were removed and kept.
        :raises StoreNotOursError: The folder holds other files; nothing was changed.
        :raises NewerVersionError: A newer version wrote a session file; nothing was changed.
        :raises StoreError: The folder could not be read, backed up or changed (the message says
            what is left, and whether the device is still registered at Amazon).
        """
        async with self._login_lock:
            if await asyncio.to_thread(self.store.check_ours) is FolderState.MISSING:
                # Nothing on disk (deleted by hand?): the device held in memory still goes.
                registration, deregistered, why = self._registration, False, None
                had_device = registration is not None and registration.is_registered
                if deregister and registration is not None and had_device:
                    deregistered, why = await self._deregister(registration)
                await self._forget_session()
                return ResetResult(
                    None, deregistered=deregistered, had_device=had_device, deregister_error=why
                )
            async with self.store.locked(create=False):
                await self._sync_from_disk()
                return await self._reset_locked(deregister=deregister, keep_state=keep_state)

    async def _reset_locked(self, *, deregister: bool, keep_state: bool) -> ResetResult:
        store = self.store
        self._refuse_newer_files()
        if not await asyncio.to_thread(store.can_change):
            msg = (
                f"The session folder {store.folder} cannot be changed (it is read-only or not "
                "ours): nothing was removed, and the device stays registered at Amazon."
            )
            raise StoreError(msg)
        attempts = (await self.state()).attempts
        registration = self._registration
        backup = await asyncio.to_thread(store.backup, now=self.clock.time())
        deregistered, why = False, None
        had_device = registration is not None and registration.is_registered
        if deregister and registration is not None and had_device:
            deregistered, why = await self._deregister(registration)
        removal = await asyncio.to_thread(store.remove_session, keep_state=keep_state)
        await self._forget_session()
        self._state = SessionState(attempts=attempts)
        detail = "device removed at Amazon" if deregistered else "device kept at Amazon"
        await self._record("reset", detail=detail, persist=keep_state and not removal.failed)
        if removal.failed:
            left = ", ".join(f"{name} ({why})" for name, why in removal.failed)
            device = (
                "The device was removed at Amazon, so the stored session no longer works."
                if deregistered
                else "The device is still registered at Amazon."
            )
            msg = (
                f"Could not remove everything from {store.folder}: {left}. {device} Fix the "
                "folder's permissions (or remove the files by hand) and reset again."
            )
            raise StoreError(msg)
        return ResetResult(
            backup,
            deregistered,
            had_device=had_device,
            deregister_error=why,
            removed=tuple(removal.removed),
            kept=tuple(removal.kept),
            folder_removed=removal.folder_removed,
            left_in_place=tuple(removal.strangers),
        )

    async def _forget_session(self) -> None:
        """Drop the session held in memory (the attempt record stays)."""
        await self._http.close()
        self._http = self._new_http()
        self._registration = self._cookies = None
        await self._drop_pending()

    async def _deregister(self, registration: Registration) -> tuple[bool, str | None]:
        """Remove the device at Amazon; return whether Amazon confirmed, and why not."""
        try:
            token = registration.access_token
            if registration.access_token_expires_at - self.clock.time() < ACCESS_TOKEN_MARGIN:
                token, _ = await refresh_access_token(self._http, registration.refresh_token)
            if await deregister_device(self._http, token):
                return True, None
            why = "refused"
        except AlexaAuthError as err:
            why = err.code
        except Exception as err:  # noqa: BLE001 - a reset goes on whatever Amazon answered
            why = type(err).__name__
        _LOGGER.warning("Could not remove the device at Amazon: %s", why, extra=_TOLD)
        return False, why

    # --- issue 12: what other processes stored ------------------------------------------------

    async def record_failure(self, kind: str, err: AlexaAuthError) -> None:
        """
        Record a failure that happened outside the manager, like those inside it.

        The refresh task's watchdog calls it for an exception that escaped a refresh step, so
        the history, the last-refresh result and the diagnostics show it.

        :param kind: What failed ("refresh", ...).
        :param err: The error (an :class:`~.errors.InternalError` for an unexpected exception).
        """
        async with self.store.locked():
            await self._sync_state()
            if kind == "refresh":
                state = await self.state()
                state.last_refresh_at = self.clock.time()
                state.last_refresh_ok = False
                state.last_refresh_error = err.code
            await self._fail(kind, err)

    async def _sync_from_disk(self) -> None:
        """
        Take what another process stored since this manager last read or wrote the folder.

        Called with the folder's lock held, before a sign-in, refresh, token renewal or reset
        reads the session. A file this manager wrote last (or failed to write) is not read
        again: what is held in memory is then the newest.
        """
        store = self.store
        names = (STATE_FILE, REGISTRATION_FILE, COOKIES_FILE)
        changed = await asyncio.to_thread(lambda: {n for n in names if store.changed_on_disk(n)})
        if STATE_FILE in changed:
            self._state = await store.read_state()
        if REGISTRATION_FILE in changed:
            self._registration = await store.read_registration()
        if COOKIES_FILE in changed:
            self._http.clear_cookies()
            self._take_cookies(await store.read_cookies())

    def _refuse_newer_files(self) -> None:
        """Refuse to work on a session a newer version stored (it would be signed out)."""
        if self.store.newer_files:
            names = ", ".join(sorted(self.store.newer_files))
            msg = (
                f"{names} was written by a newer version of music-assistant-alexa; this version "
                "leaves the session untouched. Update music-assistant-alexa (nothing was changed)."
            )
            raise NewerVersionError(msg)

    def _note_mismatch(self) -> MarketplaceMismatch | None:
        """Say in the log when Amazon names another marketplace for the account."""
        mismatch = self.marketplace_mismatch
        if mismatch is not None:
            _LOGGER.warning("%s", mismatch.statement, extra=_TOLD)
        return mismatch

    def _take_cookies(self, cookies: CookieFile | None) -> None:
        """Hold stored cookies (if they are for this marketplace) and put them in the jar."""
        usable = cookies is not None and cookies.marketplace == self.hosts.marketplace.domain
        self._cookies = cookies if usable else None
        if self._cookies is not None:
            self._http.load_cookies(self._cookies.cookies)

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
        _LOGGER.log(
            level, "Amazon %s failed: %s (%s)", kind.replace("_", "-"), err.code, err, extra=_TOLD
        )
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
        recorded = False
        if persist:
            try:
                async with self.store.locked():
                    # Appended to the newest history on disk: another process's events stay.
                    await self._sync_state()
                    (await self.state()).record(event)
                    recorded = True
                    await self.store.write_state(await self.state())
            except AlexaAuthError as err:
                _LOGGER.warning("Could not save the sign-in history: %s", err)
        if not recorded:
            (await self.state()).record(event)
        if self._on_event is not None:
            self._on_event(event)

    async def _sync_state(self) -> None:
        if await asyncio.to_thread(self.store.changed_on_disk, STATE_FILE):
            self._state = await self.store.read_state()


@dataclass(frozen=True, slots=True)
class ResetResult:
    """What a reset did."""

    backup: Path | None
    deregistered: bool
    #: A registered device was held (there was something to remove at Amazon).
    had_device: bool = False
    #: Why Amazon did not confirm the removal (an error code, "refused"), when it did not.
    deregister_error: str | None = None
    #: Names of the files removed, the registration and cookies first.
    removed: tuple[str, ...] = ()
    #: Names of session files kept on purpose (the attempt record).
    kept: tuple[str, ...] = ()
    folder_removed: bool = False
    #: Files in the folder that are not the session's, left untouched.
    left_in_place: tuple[str, ...] = ()


def _backoff_error(not_before: float, reason: str | None) -> LoginBackoffError:
    if reason == ATTEMPT_BUDGET:
        why = "the password was already sent several times in the last hour"
    else:
        why = (error_class(reason) or AlexaAuthError).pause_reason
    return LoginBackoffError(why, not_before=not_before, reason=reason)


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


async def _given(code: str) -> str:
    """Return a code obtained elsewhere, as the step that precedes the registration."""
    return code


async def _as_ours(step: Awaitable[_T], what: str) -> _T:
    """
    Await a step that talks to Amazon, turning any exception that is not ours into ours.

    Issue 12: an answer nothing anticipated (nested too deeply, a year 99999) must end as a
    failure like the others (recorded, reported, retried), never as a crash of the caller.
    """
    try:
        return await step
    except AlexaAuthError:
        raise
    except Exception as err:
        _LOGGER.debug("Amazon %s failed unexpectedly", what.replace("_", "-"), exc_info=True)
        raise InternalError.wrapping(err) from err


def _event_detail(mismatch: MarketplaceMismatch) -> str:
    """Return a mismatch as an event's detail (marketplaces and regions only)."""
    where = mismatch.account_marketplace or f"the {mismatch.home_region} region"
    return f"Amazon says the account belongs to {where}, not {mismatch.configured}"


def _bounded_lifetime(lifetime: float) -> float:
    """Return an access token's stated lifetime, within what we believe."""
    return min(max(float(lifetime), MIN_TOKEN_LIFETIME), MAX_TOKEN_LIFETIME)


def _bounded_expiry(expires_at: float, now: float) -> float:
    """Return an access token's expiry, within the lifetimes we believe."""
    return now + _bounded_lifetime(expires_at - now)


def _recent_attempts(state: SessionState, now: float) -> list[float]:
    """Return the password submissions of the last hour."""
    return [t for t in state.attempts.password_submissions if now - t < ATTEMPT_WINDOW]


def _masked(email: str) -> str | None:
    return mask_username(email) if email else None


__all__ = ["AuthSessionManager", "ResetResult", "SessionRevokedError", "SessionStatus"]
