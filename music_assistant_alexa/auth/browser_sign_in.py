"""
The sign-in in the user's own browser: a link to open there, and the final address pasted back.

When Amazon blocks the automatic sign-in (a passkey, codes by text message, captchas that keep
coming back, a robot wall), the user signs in on Amazon's own page in their own browser, where
all of these work. The link is the automatic sign-in's first page: the same client id (our
device serial), a PKCE challenge of its own, the account's marketplace. Amazon ends that sign-in
on its "page not found" landing page, whose address carries the authorization code. Pasted back,
the code and our verifier register the same single device, and from then on the session runs
exactly as after an automatic sign-in: no password or 2FA key is needed or stored on this path.

This module holds what is particular to the path, and touches neither the network nor the disk:
making the attempt and its link, reading what was pasted, and judging it against the stored
attempt. The session manager stores the attempt (``browser_sign_in.json``, under the folder's
lock, so a restart between link and paste loses nothing) and runs the steps after the code,
shared with the automatic sign-in (see
:meth:`~.session.AuthSessionManager.start_browser_sign_in` and
:meth:`~.session.AuthSessionManager.finish_browser_sign_in`).

What can be checked before anything is sent. Amazon's landing address echoes nothing a client
can choose per attempt (the landing page must be exactly ``/ap/maplanding``), so an address is
tied to its attempt in three ways: locally, by the attempt's expiry, by the codes already used
(kept as hashes, across attempts) and by the time Amazon issued it (OpenID's
``openid.response_nonce`` starts with it: an address issued before the link was made belongs to
another one); and at Amazon, which redeems a code only with the verifier of its own link.
Everything found wrong locally is refused before anything is read from or written to the folder.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final, NoReturn

from yarl import URL

from .bounds import is_sane_time
from .clock import format_utc
from .endpoints import is_amazon_host
from .errors import (
    BrowserAddressError,
    BrowserAddressUsedError,
    BrowserAttemptMismatchError,
    BrowserSignInExpiredError,
    NoBrowserSignInError,
)
from .models import BrowserSignInRecord
from .registration import (
    ASSOC_HANDLE,
    CODE_PARAMETER,
    LANDING_PATH,
    DeviceIdentity,
    Pkce,
    sign_in_query,
)

if TYPE_CHECKING:
    from .endpoints import AmazonHosts

#: How long a link may be finished: long enough to sign in with a passkey or a text message,
#: short enough that a forgotten one does not keep its verifier around.
BROWSER_SIGN_IN_TTL: Final = 20 * 60.0
#: A link with less than this left is not shown again: a new one is made instead.
REUSE_MARGIN: Final = 5 * 60.0
#: How far Amazon's clock may be from ours when an address's time is compared with the link's.
CLOCK_TOLERANCE: Final = 5 * 60.0
#: Most characters of a paste we read (a real landing address is about 1 KB).
MAX_PASTE: Final = 16 * 1024
#: Hashes of used codes kept, across links.
MAX_USED_CODES: Final = 20

#: A code pasted on its own (real ones are 20-odd letters, e.g. ANeGrdrnBRfxyPFeCHsnRVmI).
_BARE_CODE: Final = re.compile(r"[A-Za-z0-9_-]{16,512}")
_CODE: Final = re.compile(r"[A-Za-z0-9_.~-]{8,512}")
#: OpenID 2.0 (section 10.1): a response nonce starts with the server's UTC time.
_NONCE_TIME: Final = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z")
_SIGN_IN_PATHS: Final = frozenset({"/ap/signin", "/ap/register"})
_WHAT_TO_COPY: Final = (
    "Copy the whole address of the page Amazon shows at the end of the sign-in (it says the "
    f"page was not found; its address contains {LANDING_PATH}) and paste it here."
)


class AddressProblem(StrEnum):
    """Why a pasted text is not the final address of a browser sign-in."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    MALFORMED = "malformed"
    NOT_AMAZON = "not_amazon"
    NOT_HTTPS = "not_https"
    OTHER_MARKETPLACE = "other_marketplace"
    START_LINK = "start_link"
    SIGN_IN_PAGE = "sign_in_page"
    NOT_FINAL = "not_final"
    NO_CODE = "no_code"
    CANCELLED = "cancelled"
    OTHER_APP = "other_app"


@dataclass(frozen=True, slots=True)
class BrowserSignInLink:
    """A browser sign-in waiting for its final address: what to show the user."""

    #: The address to open in the browser (Amazon's sign-in page).
    url: str = field(repr=False)
    #: Which link this is; pass it back with the address, so a replaced link is recognised.
    attempt_id: str
    created_at: float
    #: Epoch seconds until which the final address can be pasted.
    expires_at: float
    marketplace: str


@dataclass(frozen=True, slots=True)
class FinalAddress:
    """What a pasted final address (or code) holds."""

    code: str = field(repr=False)
    #: When Amazon issued the code (from ``openid.response_nonce``), if the address says.
    issued_at: float | None = None


def new_attempt(
    *,
    device: DeviceIdentity,
    hosts: AmazonHosts,
    email: str,
    now: float,
    previous: BrowserSignInRecord | None,
) -> BrowserSignInRecord:
    """
    Make a new attempt for a device, with a fresh PKCE pair; it replaces any earlier one.

    :param device: Our device identity (the stored one whenever there is one).
    :param hosts: The account's marketplace.
    :param email: The account's e-mail address, as a label for the session.
    :param now: Epoch seconds.
    :param previous: The attempt it replaces: the hashes of its used codes are kept.
    """
    return BrowserSignInRecord(
        attempt_id=secrets.token_hex(6),
        marketplace=hosts.marketplace.domain,
        created_at=now,
        expires_at=now + BROWSER_SIGN_IN_TTL,
        device_serial=device.serial,
        frc=device.frc,
        map_md=device.map_md,
        code_verifier=Pkce.create().verifier,
        email=email,
        used_codes=list(previous.used_codes) if previous is not None else [],
    )


def is_open(record: BrowserSignInRecord, hosts: AmazonHosts, now: float) -> bool:
    """
    Return whether an attempt can still be finished.

    :param record: The stored attempt.
    :param hosts: The account's marketplace (an attempt for another one is not).
    :param now: Epoch seconds.
    """
    return (
        not record.finished
        and bool(record.code_verifier and record.device_serial)
        and record.marketplace == hosts.marketplace.domain
        and now < record.expires_at
    )


def can_reuse(record: BrowserSignInRecord, hosts: AmazonHosts, now: float) -> bool:
    """
    Return whether an attempt's link may be shown again instead of a new one.

    Showing the same link again keeps a tab the user already opened valid; a link about to
    expire is replaced.

    :param record: The stored attempt.
    :param hosts: The account's marketplace.
    :param now: Epoch seconds.
    """
    return is_open(record, hosts, now) and record.expires_at - now >= REUSE_MARGIN


def device_of(record: BrowserSignInRecord) -> DeviceIdentity:
    """
    Return the device identity an attempt's link was made for.

    :param record: The stored attempt.
    """
    return DeviceIdentity(record.device_serial, record.frc, record.map_md)


def pkce_of(record: BrowserSignInRecord) -> Pkce:
    """
    Return the PKCE pair of an attempt.

    :param record: The stored attempt.
    """
    return Pkce(record.code_verifier)


def link_for(record: BrowserSignInRecord, hosts: AmazonHosts) -> BrowserSignInLink:
    """
    Return the link of an attempt: the automatic sign-in's first page, for our device.

    :param record: The stored attempt (open).
    :param hosts: The account's marketplace.
    """
    query = sign_in_query(device_of(record), pkce_of(record), hosts)
    url = hosts.url(hosts.sign_in, "/ap/signin", query)
    return BrowserSignInLink(
        url=str(url),
        attempt_id=record.attempt_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        marketplace=record.marketplace,
    )


def finished(record: BrowserSignInRecord, code: str, now: float) -> BrowserSignInRecord:
    """
    Return an attempt as it is kept after its code was used: secrets wiped, the code's hash kept.

    :param record: The attempt.
    :param code: The authorization code Amazon accepted (or consumed).
    :param now: Epoch seconds.
    """
    used = [*record.used_codes, code_hash(code)][-MAX_USED_CODES:]
    return BrowserSignInRecord(
        attempt_id=record.attempt_id,
        marketplace=record.marketplace,
        created_at=record.created_at,
        expires_at=record.expires_at,
        email=record.email,
        finished_at=now,
        used_codes=used,
    )


def code_hash(code: str) -> str:
    """
    Return the hash under which a used code is remembered.

    :param code: An authorization code.
    """
    return hashlib.sha256(code.encode()).hexdigest()


# --- what was pasted ---------------------------------------------------------------------------


def read_address(pasted: str, hosts: AmazonHosts) -> FinalAddress:  # noqa: C901 - one branch per problem
    """
    Read a pasted final address (or a code on its own), refusing anything else with the reason.

    Only the account's Amazon over https is accepted (with an endpoint override, the override's
    port too), and only an address that carries an authorization code; line breaks a terminal or
    a mail program put into a long address are ignored.

    :param pasted: What the user pasted.
    :param hosts: The account's marketplace and where Amazon is reached.
    :raises BrowserAddressError: It is not the final address; ``problem`` says why.
    """
    if len(pasted) > MAX_PASTE:
        _refuse(AddressProblem.TOO_LONG, f"What was pasted is far too long. {_WHAT_TO_COPY}")
    trimmed = pasted.strip().strip("<>\"'")
    if _BARE_CODE.fullmatch(trimmed):
        return FinalAddress(trimmed)
    # Line breaks inside are a terminal's or a mail program's, never the address's.
    text = "".join(trimmed.split())
    if not text:
        _refuse(AddressProblem.EMPTY, f"Nothing was pasted. {_WHAT_TO_COPY}")
    if "://" not in text and text.lower().startswith(("www.amazon.", "amazon.")):
        text = f"https://{text}"  # copied without its scheme
    try:
        url = URL(text)
        host = (url.host or "").lower().rstrip(".")
    except (ValueError, TypeError):
        host, url = "", URL()
    if not url.is_absolute() or not host:
        _refuse(
            AddressProblem.MALFORMED,
            f"What was pasted is neither a web address nor a code. {_WHAT_TO_COPY}",
        )
    if not is_amazon_host(host):
        _refuse(
            AddressProblem.NOT_AMAZON,
            f"The pasted address is on {host}, not on Amazon. {_WHAT_TO_COPY}",
        )
    url = _as_amazon_wrote_it(url, hosts)
    if url.scheme != "https":
        _refuse(
            AddressProblem.NOT_HTTPS,
            f"The pasted address is not a secure (https) Amazon address. {_WHAT_TO_COPY}",
        )
    if not hosts.allows(url):
        _refuse(
            AddressProblem.OTHER_MARKETPLACE,
            f"The pasted address is on {host}, which is not where the sign-in for "
            f"{hosts.marketplace.domain} ends. Open the link made for this marketplace, sign in, "
            "and paste the address of its last page.",
        )
    query = url.query
    code = query.get(CODE_PARAMETER, "").strip()
    if not code:
        _refuse_page_without_code(url)
    if not _CODE.fullmatch(code):
        _refuse(
            AddressProblem.MALFORMED,
            f"The code in the pasted address is damaged. {_WHAT_TO_COPY}",
        )
    handle = query.get("openid.assoc_handle")
    return_to = query.get("openid.return_to")
    if (handle and not handle.startswith(ASSOC_HANDLE)) or (
        return_to and not _is_landing(return_to, hosts)
    ):
        _refuse(
            AddressProblem.OTHER_APP,
            "The pasted address ends another app's sign-in at Amazon, not the one started "
            "here. Open the link shown here, sign in, and paste the address of its last page.",
        )
    return FinalAddress(code, _nonce_time(query.get("openid.response_nonce")))


def _refuse_page_without_code(url: URL) -> NoReturn:
    """Refuse an Amazon address without a code, saying which page it is."""
    query, path = url.query, url.path
    if path == LANDING_PATH:
        if query.get("openid.mode") == "cancel":
            _refuse(
                AddressProblem.CANCELLED,
                "Amazon says the sign-in was cancelled. Open the link again and finish the "
                "sign-in.",
            )
        _refuse(
            AddressProblem.NO_CODE,
            "The pasted address is the one of the last page, but without the code at its end "
            f"(perhaps it was cut off). {_WHAT_TO_COPY}",
        )
    if path in _SIGN_IN_PATHS and "openid.oa2.code_challenge" in query:
        _refuse(
            AddressProblem.START_LINK,
            "This is the link to open, not the address Amazon shows at the end. Open it in your "
            f"browser and sign in there. {_WHAT_TO_COPY}",
        )
    if path in _SIGN_IN_PATHS or path.startswith(("/ap/", "/errors/")):
        _refuse(
            AddressProblem.SIGN_IN_PAGE,
            "The pasted address is a page in the middle of Amazon's sign-in (or an error page "
            f"of it), not the last one. Finish the sign-in there first. {_WHAT_TO_COPY}",
        )
    _refuse(
        AddressProblem.NOT_FINAL,
        "The pasted address is an Amazon page, but not the last page of the sign-in. "
        f"{_WHAT_TO_COPY}",
    )


def _refuse(problem: AddressProblem, message: str) -> NoReturn:
    raise BrowserAddressError(message, problem=problem)


def _as_amazon_wrote_it(url: URL, hosts: AmazonHosts) -> URL:
    """Return an address routed to an endpoint override (the simulator) as Amazon wrote it."""
    override = hosts.override
    if override is not None and url.explicit_port is not None and url.port == override.port:
        return url.with_scheme("https").with_port(None)
    return url


def _is_landing(value: str, hosts: AmazonHosts) -> bool:
    try:
        url = URL(value)
    except (ValueError, TypeError):
        return False
    return url.path == LANDING_PATH and hosts.allows(url)


def _nonce_time(nonce: str | None) -> float | None:
    """Return the time an OpenID response nonce starts with, or None."""
    match = _NONCE_TIME.match(nonce or "")
    if match is None:
        return None
    try:
        moment = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    epoch = moment.timestamp()
    return epoch if is_sane_time(epoch) else None


# --- the attempt --------------------------------------------------------------------------------


def check_attempt(
    record: BrowserSignInRecord | None,
    address: FinalAddress,
    *,
    hosts: AmazonHosts,
    now: float,
    attempt_id: str | None = None,
) -> BrowserSignInRecord:
    """
    Judge a pasted address against the stored attempt, before anything is sent.

    :param record: The stored attempt, if any.
    :param address: What was pasted.
    :param hosts: The account's marketplace.
    :param now: Epoch seconds.
    :param attempt_id: The attempt whose link the caller showed, if it knows.
    :returns: The attempt to finish.
    :raises NoBrowserSignInError: None is waiting (none was started, or it finished).
    :raises BrowserAddressUsedError: The address was used before.
    :raises BrowserAttemptMismatchError: The address (or the caller's link) is of another
        attempt.
    :raises BrowserSignInExpiredError: The attempt expired, or was made for another marketplace.
    """
    start_new = "Start a new sign-in in the browser (a new link)"
    if record is None:
        msg = f"No sign-in in the browser is waiting for its address. {start_new} first."
        raise NoBrowserSignInError(msg)
    if code_hash(address.code) in record.used_codes:
        msg = (
            "This address was already used to sign in, and each one works only once: nothing "
            "was changed. To sign in again, start a new sign-in in the browser."
        )
        raise BrowserAddressUsedError(msg)
    if attempt_id is not None and attempt_id != record.attempt_id:
        msg = (
            "The link this address should belong to was replaced by a newer one (another sign-in "
            "in the browser was started since). Open the newest link, sign in, and paste the "
            "address of its last page."
        )
        raise BrowserAttemptMismatchError(msg)
    if not is_open(record, hosts, now):
        if record.finished:
            msg = f"The sign-in in the browser with this link has already finished. {start_new}."
            raise NoBrowserSignInError(msg)
        if record.marketplace != hosts.marketplace.domain:
            msg = (
                f"The link was made for {record.marketplace}, but the marketplace is now "
                f"{hosts.marketplace.domain}. {start_new}."
            )
        else:
            minutes = round(BROWSER_SIGN_IN_TTL / 60)
            msg = (
                f"The link expired at {format_utc(record.expires_at)} (a link works for "
                f"{minutes} minutes). {start_new}, and paste the final address as soon as "
                "Amazon shows it."
            )
        raise BrowserSignInExpiredError(msg)
    issued = address.issued_at
    if issued is not None and issued < record.created_at - CLOCK_TOLERANCE:
        msg = (
            f"This address ends a sign-in from {format_utc(issued)}, before the current link was "
            f"made ({format_utc(record.created_at)}). Open the current link, sign in, and paste "
            "the address of its last page."
        )
        raise BrowserAttemptMismatchError(msg)
    return record


__all__ = [
    "BROWSER_SIGN_IN_TTL",
    "AddressProblem",
    "BrowserSignInLink",
    "FinalAddress",
    "check_attempt",
    "read_address",
]
