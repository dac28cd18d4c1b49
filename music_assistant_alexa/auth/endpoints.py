"""
Amazon marketplaces, their host names, and where requests for them go.

Every URL the auth core builds or receives (form actions, redirects) passes through
:meth:`AmazonHosts.route`. Normally that is the identity. With an endpoint override (the demo, the
tests, ``--endpoint``) it keeps the Amazon host name and only swaps scheme and port, and
:class:`LoopbackResolver` resolves Amazon's names to the override's address: cookies stay keyed by
the real host names, and the simulator still sees which host it was asked. Amazon's captcha
pictures live on hosts of their own (:data:`CAPTCHA_PICTURE_HOSTS`), routed the same way.
"""

from __future__ import annotations

import functools
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_MARKETPLACE: Final = "amazon.com"
#: Amazon's names of its three Alexa regions (``customer_info.home_region``), in words.
REGION_NAMES: Final[Mapping[str, str]] = {
    "NA": "North American",
    "EU": "European",
    "FE": "Far East",
}


@dataclass(frozen=True, slots=True)
class Marketplace:
    """One Amazon marketplace."""

    domain: str  # "amazon.de"
    label: str  # shown in the settings dropdown
    language: str  # Accept-Language / sign-in language
    cookie_suffix: str  # suffix of the marketplace cookies (at-acbde, ubid-acbde, ...)
    #: The home regions Amazon reports (``customer_info.home_region``) for this marketplace's
    #: accounts. More than one where the sources disagree: a region is only ever evidence of a
    #: wrong marketplace when it cannot be this one's.
    home_regions: tuple[str, ...] = ("NA",)

    @property
    def cookie_domain(self) -> str:
        """Return the domain Amazon issues this marketplace's cookies for (".amazon.de")."""
        return f".{self.domain}"

    @property
    def sign_in_domain(self) -> str:
        """
        Return the marketplace whose sign-in page starts the login.

        Amazon signs every region in on amazon.com, except the Far East marketplace of Japan.
        """
        return "amazon.co.jp" if self.domain == "amazon.co.jp" else DEFAULT_MARKETPLACE


MARKETPLACES: Final[Mapping[str, Marketplace]] = {
    m.domain: m
    for m in (
        Marketplace("amazon.com", "United States (amazon.com)", "en-US", "main", ("NA",)),
        Marketplace("amazon.ca", "Canada (amazon.ca)", "en-CA", "acbca", ("NA",)),
        Marketplace("amazon.com.mx", "Mexico (amazon.com.mx)", "es-MX", "acbmx", ("NA",)),
        Marketplace("amazon.com.br", "Brazil (amazon.com.br)", "pt-BR", "acbbr", ("NA",)),
        Marketplace("amazon.co.uk", "United Kingdom (amazon.co.uk)", "en-GB", "acbuk", ("EU",)),
        Marketplace("amazon.de", "Germany (amazon.de)", "de-DE", "acbde", ("EU",)),
        Marketplace("amazon.fr", "France (amazon.fr)", "fr-FR", "acbfr", ("EU",)),
        Marketplace("amazon.it", "Italy (amazon.it)", "it-IT", "acbit", ("EU",)),
        Marketplace("amazon.es", "Spain (amazon.es)", "es-ES", "acbes", ("EU",)),
        # alexapy serves India from the Far East API host; Amazon's Alexa regions group it
        # with Europe. Either home region is believed for it.
        Marketplace("amazon.in", "India (amazon.in)", "en-IN", "acbin", ("FE", "EU")),
        Marketplace("amazon.co.jp", "Japan (amazon.co.jp)", "ja-JP", "acbjp", ("FE",)),
        Marketplace("amazon.com.au", "Australia (amazon.com.au)", "en-AU", "acbau", ("FE",)),
    )
}

#: Amazon shops that are not Alexa marketplaces this app signs in to: refused with a hint.
OTHER_AMAZON_SITES: Final = frozenset(
    {
        "amazon.ae",
        "amazon.cn",
        "amazon.co.za",
        "amazon.com.be",
        "amazon.com.tr",
        "amazon.eg",
        "amazon.ie",
        "amazon.nl",
        "amazon.pl",
        "amazon.sa",
        "amazon.se",
        "amazon.sg",
    }
)
#: Country codes whose ``amazon.<code>`` is no Amazon site, to the site the country's shop is.
_COUNTRY_ALIASES: Final[Mapping[str, str]] = {
    "amazon.uk": "amazon.co.uk",
    "amazon.gb": "amazon.co.uk",
    "amazon.jp": "amazon.co.jp",
    "amazon.au": "amazon.com.au",
    "amazon.mx": "amazon.com.mx",
    "amazon.br": "amazon.com.br",
    "amazon.us": "amazon.com",
}


@functools.cache
def _site_pattern() -> re.Pattern[str]:
    # Compiled on first use: importing the auth core stays cheap.
    return re.compile(r"amazon(\.[a-z]{2,3}){1,2}")


def normalise_marketplace(raw: str | None) -> str:
    """
    Turn what a user typed ("https://www.amazon.de/", "de", "uk", "Amazon.DE") into a marketplace.

    :param raw: The marketplace as typed.
    :raises ValueError: It is not one of the supported marketplaces; the message says which are,
        and what to do about a real Amazon shop that is not one of them (amazon.nl, ...).
    """
    value = (raw or DEFAULT_MARKETPLACE).strip().lower()
    value = value.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    value = value.removeprefix("www.")
    if not value.startswith("amazon."):
        value = f"amazon.{value.removeprefix('.')}"
    value = _COUNTRY_ALIASES.get(value, value)
    if value in MARKETPLACES:
        return value
    supported = ", ".join(MARKETPLACES)
    if value in OTHER_AMAZON_SITES:
        msg = (
            f"{value} is an Amazon shop, but not one of the Alexa marketplaces this app signs in "
            f"to ({supported}). Choose the one your Echo devices are registered with (Amazon "
            "lists them under Your devices there); a sign-in warns when Amazon says the account "
            "belongs to another."
        )
    else:
        msg = f"Unknown Amazon marketplace {value!r}; choose one of: {supported}"
    raise ValueError(msg)


def amazon_site(value: object) -> str | None:
    """
    Return the Amazon site ("amazon.de") an answer names ("https://www.amazon.de"), if it is one.

    The site may be one this app does not sign in to (amazon.nl): this reads what Amazon says,
    it does not check it against :data:`MARKETPLACES`.

    :param value: A URL or host name from one of Amazon's answers (anything else gives None).
    """
    if not isinstance(value, str) or len(value) > 256:
        return None
    host = value.strip().lower().removeprefix("https://").removeprefix("http://")
    host = host.split("/", 1)[0].rstrip(".").removeprefix("www.")
    return host if _site_pattern().fullmatch(host) else None


def region_marketplaces(region: str) -> list[str]:
    """
    Return the supported marketplaces whose accounts Amazon may put in a home region.

    :param region: ``NA``, ``EU`` or ``FE``.
    """
    return [m.domain for m in MARKETPLACES.values() if region in m.home_regions]


def is_amazon_host(host: str) -> bool:
    """
    Return whether a host name belongs to Amazon's sign-in or Alexa services.

    :param host: A host name.
    """
    host = host.lower().rstrip(".")
    return host == "api.amazonalexa.com" or any(
        host == m.domain or host.endswith(f".{m.domain}") for m in MARKETPLACES.values()
    )


#: Hosts Amazon's captcha pictures come from (the sign-in and CVF captchas' bucket, the robot
#: check's image host). Pictures only: no credentials are ever sent there.
CAPTCHA_PICTURE_HOSTS: Final = frozenset(
    {"opfcaptcha-prod.s3.amazonaws.com", "images-na.ssl-images-amazon.com"}
)


def is_captcha_picture_host(host: str) -> bool:
    """
    Return whether a host name serves Amazon's captcha pictures.

    :param host: A host name.
    """
    return host.lower().rstrip(".") in CAPTCHA_PICTURE_HOSTS


def _routed(host: str) -> bool:
    """Return whether an endpoint override receives the requests for a host name."""
    return is_amazon_host(host) or is_captcha_picture_host(host)


@dataclass(frozen=True, slots=True)
class AmazonHosts:
    """The Amazon hosts of one marketplace, and how to reach them."""

    marketplace: Marketplace
    #: Base URL (scheme, host, port) every Amazon host is sent to, or None for the real Amazon.
    override: URL | None = None

    @classmethod
    def for_marketplace(cls, domain: str, endpoint: str | None = None) -> AmazonHosts:
        """
        Build the hosts of a marketplace.

        :param domain: Marketplace domain, e.g. "amazon.de".
        :param endpoint: Optional base URL that every Amazon host is sent to.
        """
        return cls(MARKETPLACES[normalise_marketplace(domain)], URL(endpoint) if endpoint else None)

    def url(self, host: str, path: str, query: Mapping[str, str] | None = None) -> URL:
        """
        Return the URL of a path on an Amazon host, routed.

        :param host: Amazon host name, e.g. "api.amazon.com".
        :param path: Absolute path.
        :param query: Optional query parameters.
        """
        url = URL.build(scheme="https", host=host, path=path)
        if query:
            url = url.with_query(query)
        return self.route(url)

    def route(self, url: str | URL) -> URL:
        """
        Send an Amazon URL to where Amazon is reached from here.

        :param url: An absolute URL as Amazon wrote it (form action, redirect).
        """
        url = URL(url)
        if self.override is None or not url.host or not _routed(url.host):
            return url
        return url.with_scheme(self.override.scheme).with_port(self.override.port)

    def allows(self, url: URL) -> bool:
        """
        Return whether credentials and cookies may be sent to a URL (as Amazon wrote it).

        Only https, and only the Amazon hosts this account signs in and works on: the
        marketplace's own domain and the sign-in domain (amazon.com, or amazon.co.jp), with
        their subdomains. With an endpoint override, that exact endpoint is allowed too.

        :param url: An absolute URL: a form's action, a redirect's target, a URL we built.
        """
        if self.override is not None and url.is_absolute():
            override = self.override
            if (url.scheme, url.host, url.port) == (override.scheme, override.host, override.port):
                return True
        host = (url.host or "").lower().rstrip(".")
        domains = {self.marketplace.domain, self.marketplace.sign_in_domain}
        return url.scheme == "https" and any(
            host == domain or host.endswith(f".{domain}") for domain in domains
        )

    @property
    def www(self) -> str:
        """Return the retail host of the marketplace, "www.amazon.de"."""
        return f"www.{self.marketplace.domain}"

    @property
    def sign_in(self) -> str:
        """Return the host whose sign-in page starts the login."""
        return f"www.{self.marketplace.sign_in_domain}"

    @property
    def api(self) -> str:
        """Return the device-auth API host (registration and tokens are global)."""
        return f"api.{self.marketplace.sign_in_domain}"

    @property
    def alexa(self) -> str:
        """Return the Alexa web host of the marketplace, "alexa.amazon.de"."""
        return f"alexa.{self.marketplace.domain}"


class LoopbackResolver(AbstractResolver):
    """Resolve Amazon's host names to one local address (the simulator's), others normally."""

    def __init__(
        self, address: str = "127.0.0.1", fallback: AbstractResolver | None = None
    ) -> None:
        """
        Create the resolver.

        :param address: IPv4 address Amazon's names resolve to.
        :param fallback: Resolver for every other name (none: they fail).
        """
        self._address = address
        self._fallback = fallback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """
        Resolve a host name.

        :param host: Host name.
        :param port: Port.
        :param family: Address family asked for.
        """
        if _routed(host) or host in ("localhost", self._address):
            return [
                {
                    "hostname": host,
                    "host": self._address,
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        if self._fallback is None:
            msg = f"{host} is not an Amazon host and no other names resolve here"
            raise OSError(msg)
        return await self._fallback.resolve(host, port, family)

    async def close(self) -> None:
        """Close the fallback resolver."""
        if self._fallback is not None:
            await self._fallback.close()


def resolver_kwargs(endpoint: str | None) -> dict[str, Any]:
    """
    Return the ``TCPConnector`` arguments that route Amazon's names to an endpoint override.

    :param endpoint: The override base URL, or None for the real Amazon.
    """
    if not endpoint:
        return {}
    host = URL(endpoint).host or "127.0.0.1"
    address = "127.0.0.1" if host == "localhost" else host
    return {"resolver": LoopbackResolver(address)}
