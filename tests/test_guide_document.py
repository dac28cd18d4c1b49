"""
The guide ships in the package and reaches the user as HTML (Music Assistant) and text (CLI).

Invariants protected here: the package carries docs/troubleshooting.md itself (one source) and
an HTML rendering that is current; every guide slug is a section, an HTML anchor and a printable
section; links inside the HTML all resolve; the pages load nothing from outside; and the
``guide`` command lists, prints, and refuses an unknown slug with exit code 2 and the list.
"""

from __future__ import annotations

import importlib.resources
import io
import re
from pathlib import Path
from typing import Final

import pytest

from music_assistant_alexa import guide_document
from music_assistant_alexa.cli import EXIT_BAD_INPUT, EXIT_OK, main
from music_assistant_alexa.guide import GUIDE_ROUTE, GuideSlug
from music_assistant_alexa.guide_document import (
    UnknownSectionError,
    find_sections,
    guide_page_html,
    section_page_html,
    section_text,
    sections,
    split_sections,
)
from scripts.render_guide import render_guide_html

ROOT: Final = Path(__file__).resolve().parent.parent
DOCS_GUIDE: Final = ROOT / "docs" / "troubleshooting.md"
PACKAGE: Final = importlib.resources.files("music_assistant_alexa")


def _ids(page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page))


def test_package_ships_the_docs_guide() -> None:
    """The package's guide is docs/troubleshooting.md, not a copy that could drift."""
    packaged = PACKAGE / guide_document.GUIDE_MARKDOWN
    assert packaged.read_text(encoding="utf-8") == DOCS_GUIDE.read_text(encoding="utf-8")
    assert Path(str(packaged)).resolve() == DOCS_GUIDE.resolve()


def test_shipped_html_is_rendered_from_the_current_guide() -> None:
    """troubleshooting.html is what scripts.render_guide makes of the Markdown today."""
    rendered = render_guide_html(DOCS_GUIDE.read_text(encoding="utf-8"))
    shipped = (PACKAGE / guide_document.GUIDE_HTML).read_text(encoding="utf-8")
    assert shipped == rendered, "the guide changed: run `python -m scripts.render_guide`"


def test_every_slug_is_a_section_everywhere() -> None:
    """Each slug is a level-2 section, an id of the HTML page, and prints as text."""
    by_anchor = {s.anchor: s for s in sections()}
    page_ids = _ids(guide_page_html())
    for slug in GuideSlug:
        assert by_anchor[slug].level == 2, slug
        assert slug.value in page_ids
        assert section_text(slug).startswith(by_anchor[slug].title + "\n")


def test_anchors_are_unique_and_links_resolve_in_the_page() -> None:
    """No id twice, and every #link of the HTML page lands on an id of the page."""
    page = guide_page_html()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets
    assert targets - set(ids) == set()


def test_pages_are_self_contained() -> None:
    """No scripts and nothing loaded from elsewhere: MA serves the page as it is."""
    for page in (guide_page_html(), section_page_html(GuideSlug.CAPTCHA)):
        assert page.startswith("<!DOCTYPE html>")
        assert "<script" not in page
        assert " src=" not in page
        assert "<link" not in page


def test_section_page_holds_one_section_and_links_to_the_whole_guide() -> None:
    """A section page has that section only; its #links lead to the full page."""
    page = section_page_html(GuideSlug.CAPTCHA, page_url="/alexa_auth/guide")
    assert '<h2 id="captcha-issues">Captcha</h2>' in page
    assert 'id="clock-drift"' not in page
    assert 'href="#' not in page
    assert 'href="/alexa_auth/guide#complete-re-authentication"' in page
    assert "<title>Captcha · Troubleshooting Alexa sign-in</title>" in page
    assert GUIDE_ROUTE == "/alexa_auth/guide"


def test_a_level_two_section_includes_its_subsections() -> None:
    """Asking for a section gives its subsections too; a subsection alone is just itself."""
    reference = [s.anchor for s in find_sections("error-message-reference")]
    assert reference[0] == "error-message-reference"
    assert "2fa-key-messages" in reference
    assert "getting-help" not in reference
    assert [s.anchor for s in find_sections("2fa-key-messages")] == ["2fa-key-messages"]
    page = section_page_html("error-message-reference")
    assert 'id="2fa-key-messages"' in page


def test_unknown_section_is_refused() -> None:
    """An anchor that is not in the guide raises, naming it."""
    with pytest.raises(UnknownSectionError, match='no section "nope"'):
        section_text("nope")
    with pytest.raises(UnknownSectionError):
        section_page_html("nope")


def test_section_text_is_plain() -> None:
    """No Markdown markers or HTML in the text; links shown as [slug] with the command."""
    text = section_text(GuideSlug.TWO_FACTOR)
    assert text.startswith("2FA configuration\n=================\n")
    assert "<a id" not in text
    assert "](" not in text
    assert "**" not in text
    assert "```" not in text
    assert "see Clock drift [clock-drift]" in text.replace("\n", " ")
    assert "(on amazon.com: https://www.amazon.com/a/settings/approval)" in text
    assert "\n    python3 -c " in text  # a code block, indented
    assert text.endswith("Sections in [brackets]: music-assistant-alexa guide SECTION\n")


def test_splitting_ignores_headings_in_code_and_derives_missing_anchors() -> None:
    """Explicit anchors win, headings get GitHub's anchor, code blocks are not headings."""
    found = split_sections(
        '# Title\n\nIntro.\n\n<a id="first"></a>\n\n## One\n\n```bash\n## not a heading\n```\n\n'
        "## Two, too!\n\ntext\n\n#### Deep\n\nmore\n"
    )
    assert [(s.anchor, s.level, s.explicit_anchor) for s in found] == [
        ("title", 1, False),
        ("first", 2, True),
        ("two-too", 2, False),
    ]
    assert found[1].markdown.startswith('<a id="first"></a>')
    assert "## not a heading" in found[1].markdown
    assert found[2].markdown.endswith("#### Deep\n\nmore\n")


def _run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["guide", *args], out=out)
    return code, out.getvalue()


def test_cli_lists_the_sections() -> None:
    """`guide` alone lists every section with its slug and title."""
    code, out = _run_cli()
    assert code == EXIT_OK
    assert "music-assistant-alexa guide SECTION" in out.splitlines()[0]
    for slug in GuideSlug:
        assert re.search(rf"^  {re.escape(slug.value)} +\S", out, flags=re.MULTILINE), slug
    assert re.search(r"^  captcha-issues +Captcha$", out, flags=re.MULTILINE)


def test_cli_prints_a_section() -> None:
    """`guide captcha-issues` prints that section, and only it."""
    code, out = _run_cli("captcha-issues")
    assert code == EXIT_OK
    assert out.startswith("Captcha\n=======\n")
    assert "Clock drift\n===" not in out


def test_cli_refuses_an_unknown_section_with_the_list() -> None:
    """An unknown slug exits 2, says so, and shows what exists."""
    code, out = _run_cli("captcha")
    assert code == EXIT_BAD_INPUT
    assert out.startswith('✗ The guide has no section "captcha".\n')
    assert "  captcha-issues " in out
