"""
Render the troubleshooting guide to the HTML the package ships.

``python -m scripts.render_guide`` writes ``music_assistant_alexa/troubleshooting.html`` from
``docs/troubleshooting.md``; ``--check`` only reports whether the file is up to date (exit 1 if
not). Run it after every change to the guide; a test fails while the two differ.

The HTML is rendered here, at development time, so that Music Assistant needs no Markdown
library: markdown-it-py (CommonMark, with tables, raw HTML kept for the guide's ``<a id>``
anchors) is a development dependency only. Each section becomes one ``<section>`` element that
:mod:`music_assistant_alexa.guide_document` can serve whole or alone; a heading without an
explicit anchor gets the anchor GitHub derives from it, so every ``#link`` of the guide works
in the HTML page as on GitHub. The anchor becomes the heading's ``id``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from markdown_it import MarkdownIt

from music_assistant_alexa.guide_document import split_sections

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT: Final = Path(__file__).resolve().parent.parent
SOURCE: Final = ROOT / "docs" / "troubleshooting.md"
TARGET: Final = ROOT / "music_assistant_alexa" / "troubleshooting.html"
HEADER: Final = (
    "<!-- Generated from docs/troubleshooting.md by `python -m scripts.render_guide`. "
    "Do not edit: change the Markdown and run it again. -->\n"
)
#: The guide's ``<a id>`` line before a heading, as rendered: it becomes the heading's id.
_ANCHORED_HEADING: Final = re.compile(r'<p><a id="([^"]+)"></a></p>\n<h([1-6])>')


def render_guide_html(markdown: str) -> str:
    """
    Return the guide's sections rendered to HTML, one ``<section>`` element each.

    :param markdown: The guide's Markdown.
    """
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    parts = [HEADER]
    for section in split_sections(markdown):
        text = section.markdown
        if not section.explicit_anchor:
            text = f'<a id="{section.anchor}"></a>\n\n{text}'
        body = _ANCHORED_HEADING.sub(r'<h\2 id="\1">', renderer.render(text))
        parts.append(
            f'<section data-anchor="{section.anchor}" data-level="{section.level}">\n'
            f"{body}</section>\n"
        )
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """
    Write (or with ``--check`` compare) the rendered guide; return the exit code.

    :param argv: Arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m scripts.render_guide")
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    rendered = render_guide_html(SOURCE.read_text(encoding="utf-8"))
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if args.check:
        if rendered != current:
            sys.stderr.write(f"{TARGET.name} is out of date: run python -m scripts.render_guide\n")
            return 1
        return 0
    if rendered != current:
        TARGET.write_text(rendered, encoding="utf-8")
        sys.stdout.write(f"wrote {TARGET.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
