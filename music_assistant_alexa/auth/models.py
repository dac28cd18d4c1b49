"""
Typed records of the auth core: what the store keeps and what callers read.

Every field that holds a secret (tokens, cookies, device keys) is left out of ``repr`` so that a
record can be logged or shown in a traceback without leaking anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Final

from mashumaro import DataClassDictMixin
from mashumaro.config import BaseConfig

#: Bump when a stored file's shape changes; older files are migrated or refused, never misread.
SCHEMA_VERSION = 1
#: The key of our device in ``registration.json`` (the name the guide and other libraries use).
REGISTRATION_KEY: Final = "formerRegistrationData"


class StoreModel(DataClassDictMixin):
    """
    Base of every stored record: aliases on the wire, no ``None`` noise.

    The records are plain dataclasses, not ``slots=True``: a slotted dataclass is built twice,
    and mashumaro prepares each build: about 1 ms more per class at import.
    """

    class Config(BaseConfig):
        """mashumaro settings shared by every stored record."""

        serialize_by_alias = True
        omit_none = True
        forbid_extra_keys = False
        # Compile (de)serialisers at first use, not at import: the store only uses them in a
        # worker thread, and importing the package stays cheap.
        lazy_compilation = True


@dataclass
class Registration(StoreModel):
    """
    Our registered device at Amazon: what every later login and refresh reuses.

    Stored in ``registration.json`` under ``formerRegistrationData`` (the name the user's guide
    and other Alexa libraries use), so the guide's own health checks stay meaningful.
    """

    device_serial: str = field(repr=False)
    marketplace: str
    refresh_token: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    access_token_expires_at: float = 0.0
    adp_token: str = field(default="", repr=False)
    device_private_key: str = field(default="", repr=False)
    frc: str = field(default="", repr=False)
    map_md: str = field(default="", repr=False)
    device_name: str = ""
    device_type: str = "A2IVLV5VM2W81"
    customer_id: str = field(default="", repr=False)
    customer_name: str = field(default="", repr=False)
    home_region: str = ""
    #: The marketplace Amazon named for the account (``/api/users/me``), "" while not asked.
    account_marketplace: str = ""
    email: str = field(default="", repr=False)
    registered_at: float = 0.0

    @property
    def is_registered(self) -> bool:
        """Return whether Amazon gave this device a refresh token."""
        return bool(self.refresh_token)


@dataclass
class RegistrationFile(StoreModel):
    """The whole ``registration.json``."""

    former_registration_data: Registration = field(metadata={"alias": REGISTRATION_KEY})
    schema_version: int = SCHEMA_VERSION


@dataclass
class StoredCookie(StoreModel):
    """One website cookie."""

    name: str
    value: str = field(repr=False)
    domain: str
    path: str = "/"
    secure: bool = True
    http_only: bool = False
    expires: float | None = None


@dataclass
class CookieFile(StoreModel):
    """The whole ``cookies.json``: the marketplace cookies and when they were issued."""

    marketplace: str
    #: Epoch seconds when Amazon issued these cookies (the guide's cookie-age checks read it).
    timestamp: float
    cookies: list[StoredCookie] = field(default_factory=list, repr=False)
    csrf: str = field(default="", repr=False)
    schema_version: int = SCHEMA_VERSION


@dataclass
class AuthEvent(StoreModel):
    """One thing that happened to the session, for the diagnostics history."""

    #: Epoch seconds.
    at: float
    #: "sign_in", "restore", "refresh", "failure", "reset", "deregister", "captcha"...
    kind: str
    ok: bool = True
    #: The error's code and guide slug for failures.
    error_code: str | None = None
    guide_slug: str | None = None
    detail: str | None = None


@dataclass
class RefusedCredentials(StoreModel):
    """The last credentials Amazon refused, so that automatic sign-ins do not resend them."""

    #: Salted fingerprint of e-mail, password, 2FA key and marketplace (never the credentials).
    fingerprint: str = field(repr=False)
    #: The refusal's :attr:`~.errors.AlexaAuthError.code`.
    error_code: str
    #: Epoch seconds.
    at: float


@dataclass
class AttemptState(StoreModel):
    """Sign-in attempts and the back-off that protects the account from a lockout."""

    #: Epoch seconds of every password submission in the last hour.
    password_submissions: list[float] = field(default_factory=list)
    #: Epoch seconds before which no new sign-in may start (0: none).
    not_before: float = 0.0
    #: Index into the back-off ladder of the last obstacle (captcha, lockout, bot wall).
    backoff_step: int = 0
    #: Code of the obstacle that set the back-off.
    backoff_reason: str | None = None
    #: The last refusal of a sign-in, cleared by a successful one.
    refused: RefusedCredentials | None = field(default=None, repr=False)
    #: Random salt of this store's credential fingerprints, made on first use.
    fingerprint_salt: str = field(default="", repr=False)


@dataclass
class SessionState(StoreModel):
    """The whole ``state.json``: no secrets, only what diagnostics and the back-off need."""

    attempts: AttemptState = field(default_factory=AttemptState)
    events: list[AuthEvent] = field(default_factory=list)
    last_refresh_at: float | None = None
    last_refresh_ok: bool | None = None
    last_refresh_error: str | None = None
    schema_version: int = SCHEMA_VERSION

    MAX_EVENTS: ClassVar[int] = 50

    def record(self, event: AuthEvent) -> None:
        """
        Append an event, keeping the newest :attr:`MAX_EVENTS`.

        :param event: The event.
        """
        self.events.append(event)
        del self.events[: -self.MAX_EVENTS]


@dataclass
class BrowserSignInRecord(StoreModel):
    """
    The whole ``browser_sign_in.json``: the newest sign-in in the user's own browser.

    Kept from the link's making until its address is pasted, so that a restart in between loses
    nothing. The secrets in it (the PKCE verifier) are wiped once the sign-in finished; what
    stays is when it was made and which codes were already used (their hashes), so that the
    same address pasted again is recognised.
    """

    #: Short random id of the attempt: callers hold it to say which link they showed.
    attempt_id: str
    marketplace: str
    #: Epoch seconds the link was made, and until when it may be finished.
    created_at: float
    expires_at: float
    device_serial: str = field(default="", repr=False)
    frc: str = field(default="", repr=False)
    map_md: str = field(default="", repr=False)
    code_verifier: str = field(default="", repr=False)
    #: The account's e-mail address as the caller gave it (the session's label).
    email: str = field(default="", repr=False)
    #: Epoch seconds the sign-in finished with this link (0: not yet).
    finished_at: float = 0.0
    #: SHA-256 of every authorization code used to sign in, newest last (a few, across links).
    used_codes: list[str] = field(default_factory=list, repr=False)
    schema_version: int = SCHEMA_VERSION

    @property
    def finished(self) -> bool:
        """Return whether a sign-in was finished with this link."""
        return self.finished_at > 0
