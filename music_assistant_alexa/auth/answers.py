"""
Amazon's device-auth answers as typed models: register, token, cookie exchange and errors.

Each model names the part of an answer the auth core reads, with Amazon's defaults; everything
else Amazon sends is ignored. :func:`parse_answer` turns a missing or mistyped part into
:class:`~.errors.UnexpectedResponseError`, so callers never index into raw JSON. The models
live only while an answer is read and hold tokens and cookies: none has a field ``repr``.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from mashumaro import DataClassDictMixin
from mashumaro.config import BaseConfig

from .errors import UnexpectedResponseError
from .models import StoredCookie


class AnswerModel(DataClassDictMixin):
    """
    Base of every answer model: extra keys ignored, compiled on first use, scalars checked.

    The models are plain dataclasses, not ``slots=True``: a slotted dataclass is built twice, and
    mashumaro prepares each build: about 1 ms more per class at import.
    """

    class Config(BaseConfig):
        """mashumaro settings shared by every answer model."""

        forbid_extra_keys = False
        # Compile the parser at first use, not at import: importing the package stays cheap.
        lazy_compilation = True

    @classmethod
    def __pre_deserialize__(cls, d: dict[Any, Any]) -> dict[Any, Any]:
        """
        Refuse a scalar of the wrong type before mashumaro converts it.

        mashumaro turns anything into a ``str`` field with ``str()`` (newer versions: a list
        becomes the token ``"['x']"``) or lets it through unchanged (older ones: a dict where a
        string belongs); either way a malformed answer would pass as a well-formed one.

        :param d: The answer part's raw JSON object.
        :return: ``d`` unchanged.
        :raises TypeError: A scalar field holds another type (read as a malformed answer).
        """
        for key, allowed in _scalar_fields(cls).items():
            value = d.get(key)
            if value is not None and not isinstance(value, allowed):
                msg = f"{cls.__name__}.{key} is not a {allowed[0].__name__}"
                raise TypeError(msg)
        return d


#: The JSON types accepted for each scalar field type (Amazon sends some numbers as strings).
_WIRE_TYPES: dict[Any, tuple[type, ...]] = {
    str: (str,),
    bool: (bool,),
    int: (int, str),
    float: (int, float, str),
}


#: The scalar fields of each model read so far (worked out once per model, on first use).
_SCALAR_FIELDS: dict[type, dict[str, tuple[type, ...]]] = {}


def _scalar_fields(model: type[AnswerModel]) -> dict[str, tuple[type, ...]]:
    """Return the wire key and accepted JSON types of each scalar field of a model."""
    known = _SCALAR_FIELDS.get(model)
    if known is not None:
        return known
    hints = typing.get_type_hints(model)
    checked: dict[str, tuple[type, ...]] = {}
    for item in fields(model):  # type: ignore[arg-type]  # every answer model is a dataclass
        hint = hints[item.name]
        if isinstance(hint, types.UnionType):
            options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            hint = options[0] if len(options) == 1 else None
        if hint in _WIRE_TYPES:
            checked[item.metadata.get("alias", item.name)] = _WIRE_TYPES[hint]
    _SCALAR_FIELDS[model] = checked
    return checked


_Answer = TypeVar("_Answer", bound=AnswerModel)


def parse_answer(model: type[_Answer], data: Any, what: str) -> _Answer:
    """
    Read an answer's JSON into its model.

    :param model: The model.
    :param data: The parsed JSON.
    :param what: The message of the error when a part is missing or of the wrong type.
    :return: The model.
    :raises UnexpectedResponseError: ``data`` does not have the model's shape.
    """
    if not isinstance(data, dict):
        raise UnexpectedResponseError(what)
    try:
        return model.from_dict(data)
    except (LookupError, TypeError, ValueError) as err:  # mashumaro's MissingField and kin
        raise UnexpectedResponseError(what) from err


# --- shared parts -------------------------------------------------------------------------------


@dataclass(repr=False)
class WebsiteCookie(AnswerModel):
    """One cookie as the register and exchange answers list it."""

    name: str = field(metadata={"alias": "Name"})
    value: str = field(repr=False, metadata={"alias": "Value"})
    path: str | None = field(default=None, metadata={"alias": "Path"})
    secure: bool = field(default=True, metadata={"alias": "Secure"})
    http_only: bool = field(default=False, metadata={"alias": "HttpOnly"})

    def stored(self, domain: str) -> StoredCookie:
        """
        Return the cookie as the store keeps it.

        :param domain: The marketplace's cookie domain, e.g. ``.amazon.de``.
        :return: The cookie, its value without the double quotes Amazon wraps some values in
            (every client strips them).
        """
        return StoredCookie(
            name=self.name,
            value=self.value.strip('"'),
            domain=domain,
            path=self.path or "/",
            secure=self.secure,
            http_only=self.http_only,
        )


# --- /auth/register -----------------------------------------------------------------------------


@dataclass(repr=False)
class BearerToken(AnswerModel):
    """The device's tokens; Amazon sends ``expires_in`` as a string here."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int = 3600


@dataclass(repr=False)
class MacDms(AnswerModel):
    """The device's signing material."""

    adp_token: str = field(default="", repr=False)
    device_private_key: str = field(default="", repr=False)


@dataclass(repr=False)
class RegisterTokens(AnswerModel):
    """The tokens of a registration."""

    bearer: BearerToken
    mac_dms: MacDms | None = None
    website_cookies: list[WebsiteCookie] | None = field(default=None, repr=False)


@dataclass(repr=False)
class DeviceInfo(AnswerModel):
    """How Amazon lists the device."""

    device_name: str | None = None
    device_type: str | None = None


@dataclass(repr=False)
class CustomerInfo(AnswerModel):
    """Who signed in."""

    user_id: str = field(default="", repr=False)
    name: str | None = field(default=None, repr=False)
    given_name: str | None = field(default=None, repr=False)
    home_region: str = ""


@dataclass(repr=False)
class RegisterExtensions(AnswerModel):
    """The extensions a registration asked for."""

    device_info: DeviceInfo | None = None
    customer_info: CustomerInfo | None = None


@dataclass(repr=False)
class RegisterSuccess(AnswerModel):
    """``response.success`` of a registration."""

    tokens: RegisterTokens
    extensions: RegisterExtensions | None = None


@dataclass(repr=False)
class RegisterResponse(AnswerModel):
    """``response`` of a registration."""

    success: RegisterSuccess


@dataclass(repr=False)
class RegisterAnswer(AnswerModel):
    """The answer of ``POST /auth/register``."""

    response: RegisterResponse


# --- /auth/token and /ap/exchangetoken/cookies --------------------------------------------------


@dataclass(repr=False)
class AccessTokenAnswer(AnswerModel):
    """The answer of ``POST /auth/token`` for an access token."""

    access_token: str = field(repr=False)
    token_type: str = "bearer"  # noqa: S105 - a token type name, not a secret
    expires_in: int = 3600


@dataclass(repr=False)
class ExchangeTokens(AnswerModel):
    """``response.tokens`` of a cookie exchange: cookies by cookie domain."""

    cookies: dict[str, list[WebsiteCookie]] = field(repr=False)


@dataclass(repr=False)
class ExchangeResponse(AnswerModel):
    """``response`` of a cookie exchange."""

    tokens: ExchangeTokens


@dataclass(repr=False)
class CookieExchangeAnswer(AnswerModel):
    """The answer of ``POST /ap/exchangetoken/cookies``."""

    response: ExchangeResponse


# --- errors -------------------------------------------------------------------------------------


@dataclass(repr=False)
class ErrorDetail(AnswerModel):
    """``response.error`` of an API error."""

    code: str | None = None
    message: str | None = None


@dataclass(repr=False)
class ErrorResponse(AnswerModel):
    """``response`` of an API error."""

    error: ErrorDetail | None = None


@dataclass(repr=False)
class ErrorAnswer(AnswerModel):
    """An error answer: OAuth's ``error``/``error_description``, or the API's ``response``."""

    error: str | None = None
    error_description: str | None = None
    response: ErrorResponse | None = None

    @property
    def text(self) -> str | None:
        """
        Return Amazon's own words, if the answer has any.

        :return: The description or message.
        """
        if self.error_description is not None:
            return self.error_description
        if self.response is not None and self.response.error is not None:
            return self.response.error.message
        return None


def error_answer(data: Any) -> ErrorAnswer | None:
    """
    Read an error answer, whatever its shape.

    :param data: The parsed JSON, or ``None`` when the body was not JSON.
    :return: The answer, or ``None`` when it has neither shape.
    """
    if not isinstance(data, dict):
        return None
    try:
        return ErrorAnswer.from_dict(data)
    except (LookupError, TypeError, ValueError):
        return None
