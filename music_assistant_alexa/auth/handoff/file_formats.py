"""
The cookie files Music Assistant's built-in ``alexa`` provider restores its Amazon session from.

That provider keeps its session in ``<MA data>/.alexa/alexa_media.<username>.pickle`` and hands
it to alexapy's ``AlexaLogin.load_cookie()``. Three layouts exist in the wild:

- ``aiohttp_pickle``: what ``aiohttp.CookieJar.save`` wrote up to aiohttp 3.13, a pickled
  ``defaultdict(SimpleCookie)`` keyed by ``(domain, path)``. Every alexapy version reads it, and
  so does ``CookieJar.load`` of aiohttp 3.13 (plain unpickling) and 3.14 (a restricted
  unpickler that admits only cookie types). This is the layout we write.
- ``aiohttp_json``: what ``CookieJar.save`` writes from aiohttp 3.14 on. alexapy up to 1.29.23
  cannot read it.
- ``alexapy_json``: alexapy's own ``.cookies`` file (from alexapy 1.29.24 on).

Reading never unpickles arbitrary objects: the same allow-list as aiohttp 3.14's restricted
unpickler applies, so a crafted file cannot run code here. Writing builds each ``Morsel`` by
calling the class, so the reading Python fills in the cookie attributes it knows (Python 3.14
added ``partitioned``): one file serves every Python and aiohttp version above.
"""

from __future__ import annotations

import io
import json
import math
import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from enum import StrEnum
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final

from music_assistant_alexa.auth.bounds import COOKIE_ATTRIBUTES, BoundsError, load_json
from music_assistant_alexa.auth.endpoints import MARKETPLACES, Marketplace

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Larger files are not cookie jars of one account; refuse them before parsing.
MAX_FILE_SIZE: Final = 1 << 20
#: The format tag of alexapy's ``.cookies`` files.
ALEXAPY_FORMAT: Final = "alexapy.cookies"
ALEXAPY_VERSION: Final = 1
#: Pickle protocol 4 is read by every Python this project and Music Assistant run on.
PICKLE_PROTOCOL: Final = 4
#: What aiohttp 3.14's restricted unpickler admits; our files never need more.
ALLOWED_GLOBALS: Final = frozenset(
    {
        ("http.cookies", "SimpleCookie"),
        ("http.cookies", "Morsel"),
        ("collections", "defaultdict"),
        ("builtins", "tuple"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "dict"),
    }
)
#: Cookie attributes every supported Python knows (older ones lack 3.14's "partitioned").
_PORTABLE_ATTRIBUTES: Final = tuple(name for name in COOKIE_ATTRIBUTES if name != "partitioned")
#: Website cookies of a marketplace that a signed-in Alexa web session uses, by exact name.
_SESSION_COOKIES: Final = frozenset({"session-id", "session-id-time", "session-token"})
#: ... and by prefix, followed by the marketplace's suffix ("at-main", "ubid-acbde").
_MARKETPLACE_PREFIXES: Final = ("at-", "sess-at-", "ubid-", "x-", "lc-", "sst-")


class CookieFileFormat(StrEnum):
    """The layout of a cookie file."""

    AIOHTTP_PICKLE = "aiohttp_pickle"
    AIOHTTP_JSON = "aiohttp_json"
    ALEXAPY_JSON = "alexapy_json"


class CookieFileError(ValueError):
    """A file is not a cookie file in any layout we know (its content is never quoted)."""


@dataclass(frozen=True, slots=True)
class FileCookie:
    """One cookie as a cookie file holds it."""

    name: str
    value: str = field(repr=False)
    #: Without a leading dot: "amazon.com" (the whole marketplace), "alexa.amazon.com" (a host).
    domain: str
    path: str = "/"
    secure: bool = True
    http_only: bool = False
    #: Epoch seconds after which a client drops the cookie; None: no expiry was set.
    expires_at: float | None = None

    def sent_to(self, host: str) -> bool:
        """
        Return whether a client sends this cookie to a host (domain match, RFC 6265).

        :param host: A host name, e.g. "alexa.amazon.com".
        """
        return host == self.domain or host.endswith(f".{self.domain}")


@dataclass(frozen=True, slots=True)
class CookieFileContents:
    """What a cookie file holds."""

    format: CookieFileFormat
    cookies: tuple[FileCookie, ...] = field(repr=False)

    def sent_to(self, host: str) -> list[FileCookie]:
        """
        Return the cookies a client would send to a host (one per name, the most specific).

        :param host: A host name, e.g. "alexa.amazon.de".
        """
        chosen: dict[str, FileCookie] = {}
        for cookie in self.cookies:
            if not cookie.sent_to(host):
                continue
            current = chosen.get(cookie.name)
            if current is None or len(cookie.domain) > len(current.domain):
                chosen[cookie.name] = cookie
        return list(chosen.values())

    def marketplace(self) -> Marketplace | None:
        """Return the marketplace whose sign-in cookie (``at-<suffix>``) the file holds."""
        for market in MARKETPLACES.values():
            names = {c.name for c in self.cookies if c.domain == market.domain}
            if f"at-{market.cookie_suffix}" in names and "session-id" in names:
                return market
        return None

    def sign_in_expires_at(self, market: Marketplace) -> float | None:
        """
        Return when the marketplace's sign-in cookie expires on the client, if it says.

        :param market: The marketplace.
        """
        for cookie in self.cookies:
            if cookie.domain == market.domain and cookie.name == f"at-{market.cookie_suffix}":
                return cookie.expires_at
        return None


def is_session_cookie(name: str, market: Marketplace) -> bool:
    """
    Return whether a cookie belongs to the marketplace's signed-in web session.

    Everything else the account's jar may hold (the device fingerprint ``frc``, ``map-md``,
    sign-in page leftovers) stays out of the files we hand over.

    :param name: Cookie name.
    :param market: The marketplace.
    """
    if name in _SESSION_COOKIES or name == "csrf":
        return True
    return any(name == f"{prefix}{market.cookie_suffix}" for prefix in _MARKETPLACE_PREFIXES)


# --- writing ---------------------------------------------------------------------------------


def encode_aiohttp_pickle(cookies: Iterable[FileCookie]) -> bytes:
    """
    Return the cookies in the ``aiohttp_pickle`` layout (what aiohttp ≤ 3.13 saved).

    :param cookies: The cookies.
    """
    jar: defaultdict[tuple[str, str], SimpleCookie] = defaultdict(SimpleCookie)
    for cookie in cookies:
        # aiohttp keys its buckets by the domain without a dot and the path without its
        # trailing slash ("/" becomes ""); lookups build the same keys.
        jar[cookie.domain, cookie.path.rstrip("/")][cookie.name] = _morsel(cookie)
    buffer = io.BytesIO()
    _PortablePickler(buffer, protocol=PICKLE_PROTOCOL).dump(jar)
    return buffer.getvalue()


def encode_alexapy_json(cookies: Iterable[FileCookie]) -> bytes:
    """
    Return the cookies in alexapy's own ``.cookies`` layout (alexapy ≥ 1.29.24).

    :param cookies: The cookies.
    """
    entries = [
        {
            "name": c.name,
            "value": c.value,
            "domain": c.domain,
            "path": c.path,
            "expires": _http_date(c.expires_at) if c.expires_at is not None else "",
            "max_age": "",
            "secure": c.secure,
            "httponly": c.http_only,
            "samesite": "",
            "partitioned": False,
            "host_only": False,
            "expiration": c.expires_at,
        }
        for c in cookies
    ]
    document = {"format": ALEXAPY_FORMAT, "version": ALEXAPY_VERSION, "cookies": entries}
    return json.dumps(document, indent=2).encode()


def encode(cookies: Iterable[FileCookie], file_format: CookieFileFormat) -> bytes:
    """
    Return the cookies in one of the layouts we write.

    :param cookies: The cookies.
    :param file_format: ``aiohttp_pickle`` or ``alexapy_json``.
    :raises ValueError: A layout we do not write.
    """
    if file_format is CookieFileFormat.AIOHTTP_PICKLE:
        return encode_aiohttp_pickle(cookies)
    if file_format is CookieFileFormat.ALEXAPY_JSON:
        return encode_alexapy_json(cookies)
    msg = f"{file_format} files are read, never written"
    raise ValueError(msg)


def _morsel(cookie: FileCookie) -> Morsel[str]:
    holder: SimpleCookie = SimpleCookie()
    # Through SimpleCookie, so the value is quoted exactly as aiohttp's own jar quotes it.
    holder[cookie.name] = cookie.value
    morsel = holder[cookie.name]
    morsel["domain"] = cookie.domain
    morsel["path"] = cookie.path
    if cookie.expires_at is not None:
        morsel["expires"] = _http_date(cookie.expires_at)
    if cookie.secure:
        morsel["secure"] = True
    if cookie.http_only:
        morsel["httponly"] = True
    return morsel


class _PortablePickler(pickle.Pickler):
    """Pickles a ``Morsel`` as a call to the class, then its attributes and state."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not Morsel:
            return NotImplemented
        # Calling Morsel() (instead of the usual Morsel.__new__) runs the reader's __init__,
        # which sets every attribute that reader's Python knows; the items below then fill in
        # only attributes that every Python knows.
        state = {"key": obj.key, "value": obj.value, "coded_value": obj.coded_value}
        items = [(name, obj[name]) for name in _PORTABLE_ATTRIBUTES if obj.get(name)]
        return (Morsel, (), state, None, iter(items))


def _http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


# --- reading ---------------------------------------------------------------------------------


def read_cookie_file(data: bytes) -> CookieFileContents:
    """
    Read a cookie file in any of the three layouts.

    :param data: The file's bytes.
    :raises CookieFileError: Not a cookie file we know (or too large to be one).
    """
    if len(data) > MAX_FILE_SIZE:
        msg = "the file is too large to be a cookie file"
        raise CookieFileError(msg)
    try:
        # Strict and depth-bounded: a file nested 200,000 levels deep is no cookie jar, and
        # must not end the reader with a RecursionError.
        document = load_json(data)
    except BoundsError:
        return CookieFileContents(CookieFileFormat.AIOHTTP_PICKLE, _read_pickle(data))
    if not isinstance(document, dict):
        msg = "the file holds JSON that is not a cookie jar"
        raise CookieFileError(msg)
    if document.get("format") == ALEXAPY_FORMAT:
        return CookieFileContents(CookieFileFormat.ALEXAPY_JSON, _read_alexapy(document))
    return CookieFileContents(CookieFileFormat.AIOHTTP_JSON, _read_aiohttp_json(document))


class _CookieUnpickler(pickle.Unpickler):
    """Unpickles cookie jars only: any other class in the file stops the reading."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            msg = f"the file refers to {module}.{name}, which no cookie jar holds"
            raise CookieFileError(msg)
        return super().find_class(module, name)


def _read_pickle(data: bytes) -> tuple[FileCookie, ...]:
    try:
        jar = _CookieUnpickler(io.BytesIO(data)).load()
    except CookieFileError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure of an untrusted pickle means "unreadable"
        msg = f"the file is not a readable cookie jar ({type(err).__name__})"
        raise CookieFileError(msg) from None
    if not isinstance(jar, dict):
        msg = "the pickled object is not a cookie jar"
        raise CookieFileError(msg)
    cookies: list[FileCookie] = []
    for key, bucket in jar.items():
        bucket_domain = str(key[0]) if isinstance(key, tuple) and key else ""
        if not isinstance(bucket, BaseCookie):
            continue
        # BaseCookie turns whatever is stored in it into a Morsel, unpickled items included.
        for name, morsel in bucket.items():
            domain = str(morsel.get("domain") or bucket_domain).lstrip(".")
            if not domain:
                continue  # a cookie without a domain is never sent anywhere we care about
            cookies.append(
                FileCookie(
                    name=str(name),
                    value=str(morsel.value),
                    domain=domain.lower(),
                    path=str(morsel.get("path") or "/"),
                    secure=bool(morsel.get("secure")),
                    http_only=bool(morsel.get("httponly")),
                    expires_at=_parse_http_date(str(morsel.get("expires") or "")),
                )
            )
    return tuple(cookies)


def _read_aiohttp_json(document: dict[str, Any]) -> tuple[FileCookie, ...]:
    cookies: list[FileCookie] = []
    for compound, bucket in document.items():
        if "|" not in compound or not isinstance(bucket, dict):
            msg = "the JSON is not an aiohttp cookie jar"
            raise CookieFileError(msg)
        bucket_domain = compound.split("|", 1)[0]
        for name, record in bucket.items():
            if not isinstance(record, dict) or not isinstance(record.get("value"), str):
                msg = "the JSON is not an aiohttp cookie jar"
                raise CookieFileError(msg)
            domain = str(record.get("domain") or bucket_domain).lstrip(".")
            expires_at = _finite(record.get("expires_timestamp"))
            if expires_at is None:
                expires_at = _parse_http_date(str(record.get("expires") or ""))
            cookies.append(
                FileCookie(
                    name=str(name),
                    value=str(record["value"]),
                    domain=domain.lower(),
                    path=str(record.get("path") or "/"),
                    secure=bool(record.get("secure")),
                    http_only=bool(record.get("httponly")),
                    expires_at=expires_at,
                )
            )
    return tuple(cookies)


def _read_alexapy(document: dict[str, Any]) -> tuple[FileCookie, ...]:
    raw = document.get("cookies")
    if not isinstance(raw, list):
        msg = "the alexapy cookie file has no cookie list"
        raise CookieFileError(msg)
    cookies: list[FileCookie] = []
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("name") or entry.get("value") is None:
            continue
        expires_at = _finite(entry.get("expiration"))
        if expires_at is None:
            expires_at = _parse_http_date(str(entry.get("expires") or ""))
        cookies.append(
            FileCookie(
                name=str(entry["name"]),
                value=str(entry["value"]),
                domain=str(entry.get("domain") or "").lstrip(".").lower(),
                path=str(entry.get("path") or "/"),
                secure=bool(entry.get("secure", True)),
                http_only=bool(entry.get("httponly", False)),
                expires_at=expires_at,
            )
        )
    return tuple(cookies)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _parse_http_date(value: str) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
