"""
Limits on every value the auth core reads from disk or from Amazon.

Parsing is where hostile or damaged input turns into crashes far away: JSON nested 200,000 deep
ends in a RecursionError, ``1e400`` becomes infinity and a timestamp of ``1e20`` an
OverflowError in the first date formatting, a cookie named ``bad name;x`` a CookieError when the
jar is filled. Everything read is therefore checked here first, against the shape of the record
it claims to be, and refused with a plain reason (never quoting the value: it may be a token).

The rules are generic, by the field's declared type, so a field added to a stored record is
bounded without touching this module: every ``float`` in a stored record is an epoch time or a
duration (finite, from 0 to the year 2200), every ``int`` a small count, every ``str`` at most
64 KiB without NUL, every list at most 1,000 items. Cookies, the values sent in headers (the
access token, the csrf) and marketplaces get the extra checks their use needs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from typing import TYPE_CHECKING, Any, Final, Union

from .endpoints import MARKETPLACES, amazon_site, is_amazon_host
from .models import CookieFile, Registration, StoredCookie

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: Deepest nesting of JSON we read (our files nest 4 deep, Amazon's answers about 6).
MAX_JSON_DEPTH: Final = 32
#: Earliest and latest epoch time we believe (0 stands for "none" in several fields).
MIN_TIME: Final = 0.0
MAX_TIME: Final = 7_258_118_400.0  # 2200-01-01 00:00 UTC
#: Longest text in a stored record (a device key is about 1.7 KB, a token about 1 KB).
MAX_TEXT: Final = 64 * 1024
#: Most items in a stored list (50 events, a few dozen cookies).
MAX_ITEMS: Final = 1_000
#: Largest count in a stored record (back-off steps, schema versions).
MAX_COUNT: Final = 1_000_000
#: Largest integer in JSON we accept: beyond it a float loses precision and sums overflow.
MAX_SAFE_INT: Final = 2**53
#: Longest cookie name.
MAX_COOKIE_NAME: Final = 256

_COOKIE_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~:0-9A-Za-z]+")
#: Printable ASCII without ";" (which would end the cookie in a Cookie header).
_COOKIE_VALUE: Final = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_HOST_NAME: Final = re.compile(r"[a-z0-9.-]{1,253}")
#: The attributes a cookie line can carry, in http.cookies' order ("partitioned" is Python
#: 3.14's). No cookie can be called one of these (http.cookies refuses them).
COOKIE_ATTRIBUTES: Final = (
    "expires",
    "path",
    "comment",
    "domain",
    "max-age",
    "secure",
    "httponly",
    "version",
    "samesite",
    "partitioned",
)
_RESERVED_COOKIE_NAMES: Final = frozenset(COOKIE_ATTRIBUTES)
_NUL: Final = re.compile(r"\x00")
#: What would break (or smuggle) a header line.
_HEADER_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f]")


class BoundsError(ValueError):
    """A value is outside the limits; the message says which, without quoting it."""


# --- JSON ------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    msg = f"{name} is not a number"
    raise BoundsError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = "a number is too large"
        raise BoundsError(msg)
    return value


def _safe_int(text: str) -> int:
    # The length check first: int() of a 4,000-digit string is slow before it is refused.
    if len(text) > 20 or abs(value := int(text)) > MAX_SAFE_INT:
        msg = "a whole number is too large"
        raise BoundsError(msg)
    return value


def load_json(raw: bytes | str) -> Any:
    """
    Parse strict, bounded JSON: no NaN or Infinity, finite numbers, limited nesting.

    :param raw: The JSON text (bytes are decoded as UTF-8, -16 or -32, as JSON allows).
    :raises BoundsError: It is not JSON, or not within the limits.
    """
    try:
        data = json.loads(
            raw,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_safe_int,
        )
    except RecursionError as err:
        msg = "nested too deeply"
        raise BoundsError(msg) from err
    except BoundsError:
        raise
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        msg = "not valid JSON"
        raise BoundsError(msg) from err
    check_depth(data)
    return data


def check_depth(data: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """
    Refuse parsed JSON that nests deeper than a limit (without recursing itself).

    :param data: Parsed JSON.
    :param limit: Deepest nesting allowed.
    :raises BoundsError: It nests deeper.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            msg = "nested too deeply"
            raise BoundsError(msg)
        stack.extend((child, depth + 1) for child in children)


def strict_json_value(data: Any) -> Any:
    """
    Return data with every non-finite float replaced by None, so it dumps as strict JSON.

    :param data: JSON-able data (dicts, lists, scalars).
    """
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: strict_json_value(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [strict_json_value(value) for value in data]
    return data


# --- single values ---------------------------------------------------------------------------


def is_sane_time(value: float) -> bool:
    """
    Return whether an epoch time is finite and between 1970 and 2200.

    :param value: Epoch seconds.
    """
    return math.isfinite(value) and MIN_TIME <= value <= MAX_TIME


def is_cookie_name(name: str) -> bool:
    """
    Return whether a text can be a cookie's name (an HTTP token, not an attribute name).

    :param name: The name.
    """
    return (
        0 < len(name) <= MAX_COOKIE_NAME
        and _COOKIE_NAME.fullmatch(name) is not None
        and name.lower() not in _RESERVED_COOKIE_NAMES
    )


def is_cookie_value(value: str) -> bool:
    """
    Return whether a text can be sent as a cookie's value (printable ASCII, no ";").

    :param value: The value.
    """
    return len(value) <= MAX_TEXT and _COOKIE_VALUE.fullmatch(value) is not None


def check_cookie(name: str, value: str, domain: str, path: str) -> None:
    """
    Refuse a cookie we could not send safely, or that is not Amazon's.

    :param name: Its name.
    :param value: Its value.
    :param domain: The domain it is for (".amazon.de", "alexa.amazon.de").
    :param path: Its path.
    :raises BoundsError: Something is wrong with it (the message names the cookie, never its
        value).
    """
    if not is_cookie_name(name):
        msg = "a cookie has a name that is not valid"
        raise BoundsError(msg)
    if not is_cookie_value(value):
        msg = f"the cookie {name} has a value that cannot be sent"
        raise BoundsError(msg)
    host = domain.lower().lstrip(".")
    if _HOST_NAME.fullmatch(host) is None or not is_amazon_host(host):
        msg = f"the cookie {name} is not for an Amazon host"
        raise BoundsError(msg)
    if not path.startswith("/") or len(path) > 1024 or not is_cookie_value(path):
        msg = f"the cookie {name} has a path that is not valid"
        raise BoundsError(msg)


# --- stored records --------------------------------------------------------------------------


def check_record(data: Mapping[str, Any], model: type[Any]) -> None:
    """
    Refuse the raw JSON of a stored record that is not of the record's shape and bounds.

    Checked before the record is built: the model's own conversion would turn ``"nan"`` into a
    float and a list into its text.

    :param data: The parsed JSON object.
    :param model: The record's dataclass.
    :raises BoundsError: A value is missing its type or bounds (the message names the field).
    """
    for key, name, hint in _fields_of(model):
        if key not in data:
            continue  # a default applies, or the model reports the missing field
        _check_value(data[key], hint, name)
    extra = _EXTRA_CHECKS.get(model)
    if extra is not None:
        extra(data)


def _fields_of(model: type[Any]) -> tuple[tuple[str, str, Any], ...]:
    """Return (key in JSON, field name, type) of a record's fields, resolved once per model."""
    fields = _FIELDS.get(model)
    if fields is None:
        hints = typing.get_type_hints(model)
        fields = tuple(
            (spec.metadata.get("alias", spec.name), spec.name, hints[spec.name])
            for spec in dataclasses.fields(model)
        )
        _FIELDS[model] = fields
    return fields


_FIELDS: dict[type[Any], tuple[tuple[str, str, Any], ...]] = {}


def _check_value(value: Any, hint: Any, where: str) -> None:  # noqa: C901, PLR0912 - one branch per type
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return
        _check_value(value, next(o for o in options if o is not type(None)), where)
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{where} is not a number"
            raise BoundsError(msg)
        if not is_sane_time(float(value)):
            msg = f"{where} is out of range ({value:g})"
            raise BoundsError(msg)
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{where} is not a whole number"
            raise BoundsError(msg)
        if not 0 <= value <= MAX_COUNT:
            msg = f"{where} is out of range ({value})"
            raise BoundsError(msg)
    elif hint is bool:
        if not isinstance(value, bool):
            msg = f"{where} is not true or false"
            raise BoundsError(msg)
    elif hint is str:
        if not isinstance(value, str):
            msg = f"{where} is not a text"
            raise BoundsError(msg)
        if len(value) > MAX_TEXT or _NUL.search(value):
            msg = f"{where} is too long or holds a NUL"
            raise BoundsError(msg)
    elif origin is list:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            msg = f"{where} is not a list of at most {MAX_ITEMS} items"
            raise BoundsError(msg)
        (item_hint,) = typing.get_args(hint)
        for item in value:
            _check_value(item, item_hint, where)
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            msg = f"{where} is not an object"
            raise BoundsError(msg)
        check_record(value, hint)
    # Any other type (an enum, a literal) is left to the model's own conversion.


def _check_marketplace(data: Mapping[str, Any]) -> None:
    market = data.get("marketplace")
    if market is not None and market not in MARKETPLACES:
        msg = "the marketplace is not one we know"
        raise BoundsError(msg)


def _check_header_values(data: Mapping[str, Any], *names: str) -> None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and _HEADER_UNSAFE.search(value):
            msg = f"{name} holds a control character"
            raise BoundsError(msg)


def _check_registration(data: Mapping[str, Any]) -> None:
    _check_marketplace(data)
    reported = data.get("account_marketplace")
    if reported and amazon_site(reported) != reported:
        msg = "the account's marketplace is not an Amazon site"
        raise BoundsError(msg)
    _check_header_values(data, "access_token", "adp_token")


def _check_cookie_file(data: Mapping[str, Any]) -> None:
    _check_marketplace(data)
    _check_header_values(data, "csrf")


def _check_stored_cookie(data: Mapping[str, Any]) -> None:
    check_cookie(
        str(data.get("name", "")),
        str(data.get("value", "")),
        str(data.get("domain", "")),
        str(data.get("path", "/")),
    )


_EXTRA_CHECKS: Final[dict[type[Any], Callable[[Mapping[str, Any]], None]]] = {
    StoredCookie: _check_stored_cookie,
    CookieFile: _check_cookie_file,
    Registration: _check_registration,
}


__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_TIME",
    "MIN_TIME",
    "BoundsError",
    "check_cookie",
    "check_depth",
    "check_record",
    "is_cookie_name",
    "is_sane_time",
    "load_json",
    "strict_json_value",
]
