"""
Every link the product prints lands on a section of docs/troubleshooting.md that exists.

Invariants protected here: every GuideSlug, and every slug the code names, is an explicit
anchor in the guide; every error class has a section and its code is in the Error message
reference; every 2FA key problem and every health-check key is explained; the guide's internal
links resolve; and no example 2FA key in the guide is one that could never be real (base32 has
no 0, 1, 8 or 9).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from music_assistant_alexa.auth.errors import AlexaAuthError
from music_assistant_alexa.auth.totp import KEY_LENGTH, KeyProblem, normalise_key, parse_totp_key
from music_assistant_alexa.diagnostics import CheckKey
from music_assistant_alexa.guide import (
    GUIDE_COMMAND,
    GUIDE_ROUTE,
    PUBLIC_GUIDE_URL,
    GuideSlug,
    command_link,
    guide_link,
    public_link,
    web_linker,
)
from music_assistant_alexa.ma.constants import DOMAIN

ROOT: Final = Path(__file__).resolve().parent.parent
GUIDE: Final = ROOT / "docs" / "troubleshooting.md"
PACKAGE: Final = ROOT / "music_assistant_alexa"
BASE32: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
#: An example key that circulates in other guides: it has 0, 8 and 9, so it cannot be real.
INVALID_EXAMPLE_KEYS: Final = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567890ABCDEFGHIJKLMNO",
    "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567 8ABC DEFG HIJK LMNO",
)


@pytest.fixture(scope="module")
def guide() -> str:
    """Return the guide's text."""
    return GUIDE.read_text(encoding="utf-8")


def anchors(text: str) -> set[str]:
    """Return the explicit anchors of a Markdown text."""
    return set(re.findall(r'<a id="([^"]+)"></a>', text))


def heading_slugs(text: str) -> set[str]:
    """Return the anchors GitHub derives from the headings."""
    slugs = set()
    for title in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


def section(text: str, heading: str) -> str:
    """Return a level-2 section's text, up to the next level-2 heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def error_classes(root: type[AlexaAuthError] = AlexaAuthError) -> list[type[AlexaAuthError]]:
    """Return an error class and all its subclasses."""
    found = [root]
    for sub in root.__subclasses__():
        found.extend(error_classes(sub))
    return found


def slugs_named_in_code() -> set[str]:
    """Return every GuideSlug member the package's code refers to, by name."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        names.update(re.findall(r"GuideSlug\.([A-Z][A-Z0-9_]*)", path.read_text(encoding="utf-8")))
    return names


def test_every_slug_is_an_anchor(guide: str) -> None:
    """Each GuideSlug value has an explicit anchor in the guide."""
    missing = {slug.value for slug in GuideSlug} - anchors(guide)
    assert missing == set()


def test_anchors_are_unique(guide: str) -> None:
    """No anchor is defined twice (a link would land on the first)."""
    found = re.findall(r'<a id="([^"]+)"></a>', guide)
    assert len(found) == len(set(found))


def test_every_slug_named_in_code_exists_and_is_an_anchor(guide: str) -> None:
    """Every GuideSlug.X in the code is a member whose section exists."""
    names = slugs_named_in_code()
    assert names, "the scan found no GuideSlug usage at all"
    members = GuideSlug.__members__
    unknown = names - set(members)
    assert unknown == set()
    assert {members[name].value for name in names} <= anchors(guide)


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_error_class_has_a_section_and_a_reference_row(
    guide: str, cls: type[AlexaAuthError]
) -> None:
    """Each error's slug is an anchor, and its code is in the Error message reference."""
    assert cls.guide_slug.value in anchors(guide)
    reference = section(guide, "Error message reference")
    assert f"| `{cls.code}` |" in reference
    assert cls.code in reference


def test_error_codes_are_unique() -> None:
    """Codes identify errors in logs and diagnostics; two classes must not share one."""
    codes = [cls.code for cls in error_classes()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("problem", list(KeyProblem))
def test_every_key_problem_is_explained(guide: str, problem: KeyProblem) -> None:
    """Each way a 2FA key can be refused has a row in the reference."""
    assert f"| `{problem.value}` |" in section(guide, "Error message reference")


@pytest.mark.parametrize("key", list(CheckKey))
def test_every_health_check_is_explained(guide: str, key: CheckKey) -> None:
    """Each health-check key is described under Health checks and in the reference."""
    assert f"`{key.value}`" in section(guide, "Health checks")
    assert f"`{key.value}`" in section(guide, "Error message reference")


def test_internal_links_resolve(guide: str) -> None:
    """Every #link in the guide points at an anchor or a heading."""
    targets = set(re.findall(r"\]\(#([^)]+)\)", guide))
    assert targets
    assert targets - anchors(guide) - heading_slugs(guide) == set()


def test_default_link_is_the_public_guide_or_the_command() -> None:
    """Without a public home the default link names the terminal command that prints it."""
    if PUBLIC_GUIDE_URL:
        assert guide_link(GuideSlug.CLOCK_DRIFT) == f"{PUBLIC_GUIDE_URL}#clock-drift"
    else:
        assert public_link(GuideSlug.CLOCK_DRIFT) is None
        assert guide_link(GuideSlug.CLOCK_DRIFT) == "music-assistant-alexa guide clock-drift"
    assert command_link(GuideSlug.CAPTCHA) == f"{GUIDE_COMMAND} captcha-issues"


def test_web_links_lead_to_the_route_on_music_assistant() -> None:
    """The adapter's links are absolute (MA's frontend opens no others) and end in the slug."""
    assert f"/{DOMAIN}/guide" == GUIDE_ROUTE
    link = web_linker("http://192.0.2.10:8095/")
    assert link(GuideSlug.CAPTCHA) == "http://192.0.2.10:8095/alexa_auth/guide#captcha-issues"


def test_errors_carry_the_slug_and_the_presenter_renders_the_link() -> None:
    """user_text() uses the default link, or the one the place where it is shown passes."""
    err = AlexaAuthError("Something failed.", amazon_text="Try later")
    assert err.guide_url == guide_link(err.guide_slug)
    assert err.user_text().endswith(f"How to fix it: {guide_link(err.guide_slug)}")
    web = web_linker("http://192.0.2.10:8095")
    assert err.user_text(web) == (
        'Something failed. Amazon said: "Try later". How to fix it: '
        "http://192.0.2.10:8095/alexa_auth/guide#complete-re-authentication"
    )


def test_no_invalid_example_key(guide: str) -> None:
    """The guide does not repeat the impossible example key of other guides."""
    flat = normalise_key(guide)
    for key in INVALID_EXAMPLE_KEYS:
        assert key not in guide
        assert normalise_key(key) not in flat


def key_like_strings(text: str) -> list[str]:
    """Return runs that look like 2FA keys: groups of four, or long upper-case runs."""
    grouped = re.findall(r"\b[A-Z0-9]{4}(?: [A-Z0-9]{4}){4,}\b", text)
    solid = re.findall(r"\b[A-Z0-9]{20,}\b", text)
    return grouped + solid


def test_every_example_key_is_valid_base32(guide: str) -> None:
    """Any key-like example in the guide uses base32 only, and a full-length one parses."""
    examples = key_like_strings(guide)
    assert examples, "the guide shows no example key; the format section should"
    for example in examples:
        key = normalise_key(example)
        assert set(key) <= BASE32, f"invalid characters in example {example!r}"
        if len(key) == KEY_LENGTH:
            parse_totp_key(example)


def test_scanner_catches_invalid_keys() -> None:
    """The key scan is not blind: it finds both forms of the impossible example."""
    for key in INVALID_EXAMPLE_KEYS:
        found = key_like_strings(f"Example: {key} here.")
        assert found
        assert not set(normalise_key(found[0])) <= BASE32


def test_no_advice_to_hide_things_from_support(guide: str) -> None:
    """The guide is honest with Amazon's support; it never tells users to keep things back."""
    lowered = guide.lower()
    assert "do not mention" not in lowered
    assert "don't mention" not in lowered
