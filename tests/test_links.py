"""
No link the project ships or documents points at a host that does not exist.

"Exists" means: on the allow-list below, each entry checked by hand to be a real, public host
(or a loopback address). The project's own public home is :data:`PUBLIC_GUIDE_URL`; while it is
empty, no link may claim one (a link to ``github.com/music-assistant-alexa`` was a 404). Scanned:
every text file of the package (code, the guide and its HTML, the manifest), README.md, docs/
and the top-level manifest.json, whose ``@owner`` code owners MA's frontend turns into GitHub
links. URLs built at run time (``https://{host}/...``) are not links and are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import pytest

from music_assistant_alexa.auth.endpoints import MARKETPLACES
from music_assistant_alexa.guide import PUBLIC_GUIDE_URL

ROOT: Final = Path(__file__).resolve().parent.parent
SCANNED_SUFFIXES: Final = frozenset({".py", ".md", ".html", ".json", ".txt", ".toml"})

#: Hosts (and their sub-domains) that exist: Amazon's sites and services the sign-in talks to or
#: the guide sends people to, OpenID's namespace URIs, Music Assistant's site.
REAL_DOMAINS: Final = frozenset(
    {
        *MARKETPLACES,  # amazon.com, amazon.de, ...: the marketplaces
        "amazonalexa.com",  # api.amazonalexa.com
        "amazonaws.com",  # captcha pictures (opfcaptcha-prod.s3.amazonaws.com)
        "awswaf.com",  # Amazon's bot-check scripts (token.awswaf.com)
        "media-amazon.com",  # m.media-amazon.com
        "ssl-images-amazon.com",  # images-na.ssl-images-amazon.com
        "specs.openid.net",  # OpenID 2.0 namespace URIs in the sign-in form
        "music-assistant.io",
    }
)
#: Organisations on github.com whose pages exist (any other github.com link is refused).
REAL_GITHUB_OWNERS: Final = frozenset({"music-assistant"})
LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})

_URL: Final = re.compile(r"https?://[^\s\"'<>()\[\]`|]+")


def shipped_files() -> list[Path]:
    """Return the files whose links users see: the package, README, docs, the manifest."""
    files = [ROOT / "README.md", ROOT / "manifest.json"]
    for folder in (ROOT / "music_assistant_alexa", ROOT / "docs"):
        files.extend(
            p
            for p in sorted(folder.rglob("*"))
            if p.suffix in SCANNED_SUFFIXES and "__pycache__" not in p.parts
        )
    return files


def links_in(text: str) -> list[str]:
    """Return the literal http(s) links of a text (run-time templates are left out)."""
    found = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:*")
        host = url.split("://", 1)[1].split("/", 1)[0]
        placeholder = text[match.end() : match.end() + 1] == "<"  # https://www.amazon.<tld>
        if (
            "{" in host
            or "\\" in host
            or placeholder
            or not re.search(r"\w\.[a-z]|^\[|^localhost", host)
        ):
            continue  # an f-string, regex or prose template, or a bare "https://"
        found.append(url)
    return found


def is_real(url: str) -> bool:
    """Return whether a link's host is on the allow-list (github.com: the organisation too)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in LOOPBACK:
        return True
    if host in {"github.com", "www.github.com"}:
        owner = parts.path.strip("/").split("/", 1)[0]
        return owner in REAL_GITHUB_OWNERS
    return any(host == domain or host.endswith(f".{domain}") for domain in REAL_DOMAINS)


def test_scan_covers_what_users_see() -> None:
    """The scan reads the package's code, guide, HTML and manifest, README and docs."""
    names = {p.relative_to(ROOT).as_posix() for p in shipped_files()}
    assert {
        "README.md",
        "manifest.json",
        "docs/troubleshooting.md",
        "music_assistant_alexa/guide.py",
        "music_assistant_alexa/troubleshooting.html",
        "music_assistant_alexa/auth/registration.py",
    } <= names


def test_every_link_points_at_a_real_host() -> None:
    """Every literal link in the shipped files and the docs is on the allow-list."""
    bad = {
        f"{path.relative_to(ROOT)}: {url}"
        for path in shipped_files()
        for url in links_in(path.read_text(encoding="utf-8"))
        if not is_real(url)
    }
    assert bad == set()


def test_code_owners_link_nowhere_missing() -> None:
    """MA's frontend links an ``@owner`` of the manifest to github.com/owner: it must exist."""
    owners = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))["codeowners"]
    links = [f"https://github.com/{o.removeprefix('@')}" for o in owners if o.startswith("@")]
    assert [link for link in links if not is_real(link)] == []


def test_public_home_is_empty_or_real() -> None:
    """The public guide address is unset until a real home exists."""
    assert PUBLIC_GUIDE_URL == "" or is_real(PUBLIC_GUIDE_URL)


@pytest.mark.parametrize(
    ("url", "real"),
    [
        ("https://github.com/music-assistant-alexa/music-assistant-alexa/blob/main/x.md", False),
        ("https://github.com/music-assistant/server", True),
        ("https://www.amazon.de/ap/signin", True),
        ("https://www.amazon.com.example.com/", False),
        ("https://notamazon.com/", False),
        ("https://music-assistant.io/", True),
        ("http://127.0.0.1:8095/alexa_auth/guide", True),
    ],
)
def test_allow_list_is_not_blind(url: str, *, real: bool) -> None:
    """The check refuses made-up hosts and look-alikes, and accepts the real ones."""
    assert is_real(url) is real


def test_scanner_finds_links_and_skips_templates() -> None:
    """Links in Markdown, HTML and code are found; run-time templates are not links."""
    text = (
        'See [guide](https://github.com/x/y#a). <a href="https://music-assistant.io/x">x</a> '
        'url = f"https://{host}/ap/signin" and "https://" + domain, <https://www.amazon.com/mycd>, '
        "https://www.amazon.<tld>/ap/maplanding, http://localhost:8095/."
    )
    assert links_in(text) == [
        "https://github.com/x/y#a",
        "https://music-assistant.io/x",
        "https://www.amazon.com/mycd",
        "http://localhost:8095/",
    ]
