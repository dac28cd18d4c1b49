"""
The troubleshooting guide as shipped in the package: its sections, as text and as HTML.

The guide's one source is ``docs/troubleshooting.md``; the package carries it as
``troubleshooting.md`` (a link to that file, followed when the wheel is built) together with
``troubleshooting.html``, the same guide rendered to HTML by ``python -m scripts.render_guide``
(a test fails when the two drift apart). Nothing here needs a Markdown library at run time.

A section starts at a heading of level 1 to 3 and ends at the next one. Its anchor is the
explicit ``<a id="..."></a>`` right before the heading, or else the anchor GitHub derives from
the heading's text. Asking for a level-2 section also returns the level-3 sections inside it.

- The terminal prints one section as plain text (:func:`section_text`), with links to other
  sections shown as ``[slug]``.
- Music Assistant's web server serves the whole guide (:func:`guide_page_html`) or one section
  (:func:`section_page_html`) as a self-contained HTML page (no scripts, no outside resources).
"""

from __future__ import annotations

import html
import importlib.resources
import re
from dataclasses import dataclass
from functools import cache
from typing import Final, TypeVar

from .guide import GUIDE_COMMAND, GUIDE_ROUTE

#: The guide's Markdown, inside the package.
GUIDE_MARKDOWN: Final = "troubleshooting.md"
#: The guide rendered to HTML sections, inside the package (generated from the Markdown).
GUIDE_HTML: Final = "troubleshooting.html"
#: The deepest heading level that starts a section of its own.
MAX_SECTION_LEVEL: Final = 3

_ANCHOR_LINE: Final = re.compile(r'^<a id="([^"]+)"></a>\s*$')
_HEADING: Final = re.compile(r"^(#{1,6}) +(.+?)\s*#*\s*$")
_FENCE: Final = re.compile(r"^\s*(```|~~~)")
_HTML_SECTION: Final = re.compile(
    r'<section data-anchor="([^"]*)" data-level="(\d)">\n(.*?)</section>\n', re.DOTALL
)
_INTERNAL_LINK: Final = re.compile(r"\[([^\]]+)\]\(#([^)\s]+)\)")
_EXTERNAL_LINK: Final = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_AUTOLINK: Final = re.compile(r"<(https?://[^>\s]+)>")
_STRONG: Final = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

_T = TypeVar("_T")


class UnknownSectionError(LookupError):
    """The guide has no section with this anchor."""

    def __init__(self, anchor: str) -> None:
        """
        Create the error.

        :param anchor: The anchor asked for.
        """
        super().__init__(f'The guide has no section "{anchor}".')
        self.anchor = anchor


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the guide, from its anchor (or heading) to the next heading."""

    anchor: str
    level: int
    title: str
    #: The section's own Markdown: its anchor line, heading and text, without its subsections.
    markdown: str
    #: Whether the anchor is written in the guide (``<a id>``) rather than derived from the title.
    explicit_anchor: bool


def heading_anchor(title: str) -> str:
    """
    Return the anchor GitHub derives from a heading's text.

    :param title: The heading's text.
    """
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def split_sections(markdown: str) -> list[Section]:
    """
    Split a guide into its sections (the text before the first heading is dropped).

    :param markdown: The guide's Markdown.
    """
    lines = markdown.splitlines()
    starts: list[tuple[int, int, str, str | None]] = []  # (first line, level, title, anchor)
    anchor: tuple[int, str] | None = None
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            anchor = None
            continue
        if in_fence:
            continue
        if match := _ANCHOR_LINE.match(line):
            anchor = (index, match.group(1))
            continue
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) <= MAX_SECTION_LEVEL:
            first, explicit = anchor or (index, None)
            starts.append((first, len(heading.group(1)), heading.group(2), explicit))
        if line.strip():
            anchor = None
    sections = []
    for number, (first, level, title, explicit) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        text = "\n".join(lines[first:end]).strip("\n") + "\n"
        sections.append(
            Section(
                anchor=explicit or heading_anchor(title),
                level=level,
                title=title,
                markdown=text,
                explicit_anchor=explicit is not None,
            )
        )
    return sections


def _select(items: list[tuple[str, int, _T]], anchor: str) -> list[_T]:
    """Return the item with the anchor and, below it, the items of deeper levels."""
    for index, (name, level, value) in enumerate(items):
        if name != anchor:
            continue
        selected = [value]
        for _, deeper, item in items[index + 1 :]:
            if deeper <= level:
                break
            selected.append(item)
        return selected
    raise UnknownSectionError(anchor)


@cache
def guide_markdown() -> str:
    """Return the guide's Markdown, as shipped in the package."""
    package = importlib.resources.files(__package__ or "music_assistant_alexa")
    return (package / GUIDE_MARKDOWN).read_text(encoding="utf-8")


@cache
def sections() -> tuple[Section, ...]:
    """Return every section of the shipped guide, in order."""
    return tuple(split_sections(guide_markdown()))


def guide_title() -> str:
    """Return the guide's title (its level-1 heading)."""
    return next((s.title for s in sections() if s.level == 1), "Troubleshooting")


def find_sections(anchor: str) -> list[Section]:
    """
    Return the section with this anchor, followed by its subsections.

    :param anchor: The section's anchor (a guide slug, or a heading's derived anchor).
    :raises UnknownSectionError: No section has this anchor.
    """
    return _select([(s.anchor, s.level, s) for s in sections()], anchor)


def section_text(anchor: str) -> str:
    """
    Return one section of the guide (with its subsections) as plain text for a terminal.

    :param anchor: The section's anchor.
    :raises UnknownSectionError: No section has this anchor.
    """
    chunks: list[str] = []  # code blocks as they are, everything else to be converted
    prose: list[str] = []
    in_fence = False
    for section in find_sections(anchor):
        for line in [*section.markdown.splitlines(), ""]:
            if _FENCE.match(line):
                in_fence = not in_fence
                chunks.append(_plain("\n".join(prose)))
                prose = []
            elif in_fence:
                chunks.append(f"    {line}")
            elif heading := _HEADING.match(line):
                title = heading.group(2)
                underline = "=" if len(heading.group(1)) <= 2 else "-"
                prose.extend([title, underline * len(title)])
            elif not _ANCHOR_LINE.match(line):
                prose.append(line)
    chunks.append(_plain("\n".join(prose)))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(chunks)).strip("\n") + "\n"
    if _INTERNAL_LINK.search(section_markdown(anchor)):
        text += f"\nSections in [brackets]: {GUIDE_COMMAND} SECTION\n"
    return text


def section_markdown(anchor: str) -> str:
    """
    Return the Markdown of one section with its subsections.

    :param anchor: The section's anchor.
    :raises UnknownSectionError: No section has this anchor.
    """
    return "\n".join(section.markdown for section in find_sections(anchor))


def _plain(markdown: str) -> str:
    """Return Markdown prose as plain text: links spelled out, no emphasis markers."""
    text = _INTERNAL_LINK.sub(r"\1 [\2]", markdown)
    text = _EXTERNAL_LINK.sub(r"\1 (\2)", text)
    text = _AUTOLINK.sub(r"\1", text)
    return _STRONG.sub(r"\1", text)


# --- HTML -------------------------------------------------------------------------------------


@cache
def _html_sections() -> tuple[tuple[str, int, str], ...]:
    package = importlib.resources.files(__package__ or "music_assistant_alexa")
    text = (package / GUIDE_HTML).read_text(encoding="utf-8")
    return tuple((a, int(level), body) for a, level, body in _HTML_SECTION.findall(text))


_STYLE: Final = """
:root { color-scheme: light dark; }
body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 1rem 0; }
th, td { border: 1px solid #8888; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.92em; }
pre { background: #8882; padding: 0.8rem; overflow-x: auto; }
nav { margin-bottom: 1rem; }
h2:target, h3:target { text-decoration: underline; }
""".strip()


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def guide_page_html() -> str:
    """Return the whole guide as one HTML page, with an anchor for every section."""
    return _page(guide_title(), "".join(body for _, _, body in _html_sections()))


def section_page_html(anchor: str, *, page_url: str = GUIDE_ROUTE) -> str:
    """
    Return one section of the guide (with its subsections) as an HTML page.

    Links to other sections lead to the whole guide at ``page_url``.

    :param anchor: The section's anchor.
    :param page_url: Where the whole guide is served (default: MA's route for it).
    :raises UnknownSectionError: No section has this anchor.
    """
    bodies = _select(list(_html_sections()), anchor)
    whole = html.escape(page_url, quote=True)
    body = "".join(bodies).replace('href="#', f'href="{whole}#')
    title = next(s.title for s in find_sections(anchor))
    nav = f'<nav><a href="{whole}#{html.escape(anchor)}">{html.escape(guide_title())}</a></nav>\n'
    return _page(f"{title} · {guide_title()}", nav + body)
