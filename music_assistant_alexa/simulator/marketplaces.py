"""
Amazon marketplaces and host names as the simulator sees them.

The client resolves every Amazon host name to the simulator and talks plain http to it, so the
simulator tells the hosts apart by the ``Host`` header alone. This module turns a host name into
"which service, which marketplace" and knows the per-marketplace cookie suffixes and identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class HostKind(StrEnum):
    """The Amazon service a host name belongs to."""

    WWW = "www"  # www.amazon.<tld>: sign-in pages, cookie exchange
    API = "api"  # api.amazon.<tld>: device registration and tokens
    ALEXA = "alexa"  # alexa.amazon.<tld>: the Alexa web app and its JSON API
    AMAZONALEXA = "amazonalexa"  # api.amazonalexa.com: capabilities
    CAPTCHA = "captcha"  # opfcaptcha-prod.s3.amazonaws.com: captcha pictures


@dataclass(frozen=True, slots=True)
class Marketplace:
    """
    One Amazon marketplace.

    :param domain: The registrable domain, e.g. ``amazon.de``.
    :param cookie_suffix: Suffix of the marketplace cookies (``at-<suffix>``), ``main`` for .com.
    :param country: Country of residence reported by ``/api/users/me``.
    :param marketplace_id: Amazon's marketplace id.
    :param locale: Locale reported by ``/api/users/me``.
    :param home_region: ``NA``, ``EU`` or ``FE`` as in the registration's ``customer_info``.
    """

    domain: str
    cookie_suffix: str
    country: str
    marketplace_id: str
    locale: str
    home_region: str

    @property
    def cookie_domain(self) -> str:
        """
        Return the cookie domain, e.g. ``.amazon.de``.

        :return: The domain with a leading dot.
        """
        return f".{self.domain}"

    @property
    def www_url(self) -> str:
        """
        Return the real https URL of the retail site, e.g. ``https://www.amazon.de``.

        :return: The URL without a trailing slash.
        """
        return f"https://www.{self.domain}"

    @property
    def alexa_host(self) -> str:
        """
        Return the Alexa web host name, e.g. ``alexa.amazon.de``.

        :return: The host name.
        """
        return f"alexa.{self.domain}"


# The 12 marketplaces alexapy's secureauth.ALLOWED_DOMAINS accepts; suffixes follow the real
# at-main / at-acb<cc> cookie names, regions follow alexapy's ALEXA_API_BASE table.
MARKETPLACES: Final[dict[str, Marketplace]] = {
    m.domain: m
    for m in (
        Marketplace("amazon.com", "main", "US", "ATVPDKIKX0DER", "en-US", "NA"),
        Marketplace("amazon.ca", "acbca", "CA", "A2EUQ1WTGCTBG2", "en-CA", "NA"),
        Marketplace("amazon.com.mx", "acbmx", "MX", "A1AM78C64UM0Y8", "es-MX", "NA"),
        Marketplace("amazon.com.br", "acbbr", "BR", "A2Q3Y263D00KWC", "pt-BR", "NA"),
        Marketplace("amazon.co.uk", "acbuk", "GB", "A1F83G8C2ARO7P", "en-GB", "EU"),
        Marketplace("amazon.de", "acbde", "DE", "A1PA6795UKMFR9", "de-DE", "EU"),
        Marketplace("amazon.fr", "acbfr", "FR", "A13V1IB3VIYZZH", "fr-FR", "EU"),
        Marketplace("amazon.it", "acbit", "IT", "APJ6JRA9NG5V4", "it-IT", "EU"),
        Marketplace("amazon.es", "acbes", "ES", "A1RKKUPIHCS9HS", "es-ES", "EU"),
        Marketplace("amazon.in", "acbin", "IN", "A21TJRUUN4KGV", "en-IN", "FE"),
        Marketplace("amazon.co.jp", "acbjp", "JP", "A1VC38T7YXB528", "ja-JP", "FE"),
        Marketplace("amazon.com.au", "acbau", "AU", "A39IBJ37TRP1C6", "en-AU", "FE"),
    )
}

AMAZONALEXA_HOST: Final = "api.amazonalexa.com"
#: The S3 bucket Amazon serves its captcha pictures from.
CAPTCHA_HOST: Final = "opfcaptcha-prod.s3.amazonaws.com"


@dataclass(frozen=True, slots=True)
class HostInfo:
    """
    What a request's host name means.

    :param name: The host name without port, lower case.
    :param kind: The service, or ``None`` when the host is not an Amazon host we know.
    :param marketplace: The marketplace of an ``amazon.<tld>`` host; ``None`` for others.
    """

    name: str
    kind: HostKind | None
    marketplace: Marketplace | None


def find_marketplace(domain: str) -> Marketplace | None:
    """
    Look up a marketplace by a cookie domain or host name.

    :param domain: ``amazon.de``, ``.amazon.de``, ``www.amazon.de`` or ``api.amazon.de``.
    :return: The marketplace, or ``None``.
    """
    name = domain.strip().lower().lstrip(".")
    for prefix in ("www.", "api.", "alexa."):
        if name.startswith(prefix):
            name = name.removeprefix(prefix)
            break
    return MARKETPLACES.get(name)


def classify_host(host: str) -> HostInfo:
    """
    Classify a host header value.

    :param host: The ``Host`` (or ``X-Forwarded-Host``) value, with or without port.
    :return: The host's meaning; ``kind`` is ``None`` for hosts the simulator does not serve.
    """
    name = strip_port(host)
    if name == AMAZONALEXA_HOST:
        return HostInfo(name, HostKind.AMAZONALEXA, None)
    if name == CAPTCHA_HOST:
        return HostInfo(name, HostKind.CAPTCHA, None)
    for kind in (HostKind.WWW, HostKind.API, HostKind.ALEXA):
        prefix = f"{kind.value}."
        if name.startswith(prefix) and (found := MARKETPLACES.get(name.removeprefix(prefix))):
            return HostInfo(name, kind, found)
    return HostInfo(name, None, find_marketplace(name))


def strip_port(host: str) -> str:
    """
    Drop the port (and a trailing dot) from a host header value.

    :param host: e.g. ``www.amazon.com:8123`` or ``[::1]:80``.
    :return: The lower-case host name.
    """
    name = host.strip().lower()
    if name.startswith("["):
        # IPv6 literal: keep the brackets' content only.
        return name[1:].split("]", 1)[0]
    if name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name.rstrip(".")
