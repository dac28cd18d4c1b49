"""
Read an Amazon sign-in page once and collect the facts the page checks need.

The facts are the forms and their fields, inputs, pictures, radio buttons and their labels,
Amazon's error and warning boxes, and the visible text block by block. The reader is our own
small HTML tokenizer rather than :mod:`html.parser`: that parser's cost is not linear in the page
(its ``close()`` rescans the rest of the input once per stray ``<``, and some pages take ~110x
their size in memory), and the sign-in reads whatever Amazon, or anything pretending to be
Amazon, sends. This one moves forward only: every step consumes input or ends the page, so
its time is linear in the page size, and what it keeps is bounded by :data:`MAX_PAGE_CHARS` and
:data:`MAX_MARKUP`. A page beyond either raises :class:`~.errors.PageTooLargeError` (temporary:
Amazon's real pages are a small fraction of both). Apart from that it never raises, whatever
the input, and reads broken markup the way browsers do where it matters (a tag cut off by the
end of the page is dropped, an unclosed comment or script runs to the end).

Its patterns are compiled on first use, not at import: importing the auth core stays cheap.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Final

from .errors import PageTooLargeError

if TYPE_CHECKING:
    from collections.abc import Callable

#: Largest page read, in characters. Amazon's sign-in pages are a few hundred kB.
MAX_PAGE_CHARS: Final = 2_000_000
#: Most tags, end tags, attributes and comments read from one page; each costs a few
#: microseconds, so this bounds the time of a page. Amazon's pages have a few thousand.
MAX_MARKUP: Final = 50_000
#: Attributes kept per tag; further ones are read past (a tag of endless attributes would
#: otherwise cost ~50x its size in memory).
MAX_ATTRIBUTES: Final = 64
#: Bound on the stack of open elements that change how text is read (hidden, message box,
#: label...). Real pages nest a handful; a hostile page of endless unclosed ones would otherwise
#: grow it without limit.
MAX_DEPTH: Final = 1024

#: Server-side message boxes. The client-side inline alerts ("Enter your password") are left
#: out: Amazon ships them hidden in every page and only its JavaScript reveals them.
ERROR_BOX_IDS: Final = frozenset({"auth-error-message-box", "ap_error_page_message"})
WARNING_BOX_IDS: Final = frozenset({"auth-warning-message-box"})
ERROR_BOX_CLASSES: Final = frozenset({"cvf-widget-alert"})
#: Classes Amazon uses to hide markup that only its scripts show.
HIDING_CLASSES: Final = frozenset({"aok-hidden", "a-hidden", "hidden"})
#: Wrappers of the OTP device chooser's radios, by the method they stand for.
OTP_WRAPPER_CLASSES: Final = {
    "auth-totp": "TOTP",
    "auth-sms": "SMS",
    "auth-voice": "VOICE",
    "auth-email": "EMAIL",
}
APPROVAL_IDS: Final = frozenset(
    {"transactionapprovalstatus", "updatedchanneldetails", "resend-approval-alert"}
)
BOT_IDS: Final = frozenset({"challenge-container", "cvf-aamation-container"})

_VOID_TAGS: Final = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
#: Tags that start a new line of text, so phrases are matched and quoted per block.
_BLOCK_TAGS: Final = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "button",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "noscript",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "select",
        "table",
        "td",
        "th",
        "title",
        "tr",
        "ul",
    }
)
#: Elements whose content is text up to their end tag, never markup.
_RAW_TAGS: Final = ("script", "style")
_NO_CLASSES: Final[frozenset[str]] = frozenset()
_SIGNAL_IDS: Final = BOT_IDS | APPROVAL_IDS
_SIGNAL_CLASSES: Final = frozenset({"cvf-aamation-container", "transaction-approval-word-break"})
#: Ids and classes of elements that change how the text inside them is read.
_STATE_IDS: Final = ERROR_BOX_IDS | WARNING_BOX_IDS | {"cvf-page-content"}
_STATE_CLASSES: Final = ERROR_BOX_CLASSES | frozenset(OTP_WRAPPER_CLASSES)
_HEADING_TAGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: HTML's whitespace (not Unicode's: a no-break space inside a tag is part of a name).
_WS: Final = "\t\n\f\r "
#: Every character str.isspace() accepts, no-break spaces included: text reads them as spaces.
UNICODE_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TO_SPACE: Final = str.maketrans(dict.fromkeys(UNICODE_WHITESPACE, " "))


def collapse(text: str) -> str:
    """
    Collapse runs of whitespace (including no-break spaces) to single spaces.

    :param text: Any text.
    :return: The text on one line, without leading or trailing space.
    """
    # Not " ".join(text.split()) nor a regex substitution: both hold every word (or every
    # piece) as an object at once, ~15x the text. Each pass below halves the longest run.
    text = text.translate(_TO_SPACE)
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


# --- the tokenizer ----------------------------------------------------------------------------


class _Patterns:
    """The tokenizer's patterns; each matches forward from a position and never backtracks far."""

    __slots__ = (
        "attr_name",
        "equals",
        "gap",
        "markup",
        "raw_end",
        "tag_name",
        "unescape",
        "unquoted",
    )

    def __init__(self) -> None:
        # Imported on first use like the patterns: html loads its table of 2,000 named
        # character references when imported.
        from html import unescape  # noqa: PLC0415 - keeps the package import cheap

        #: Decode character references the way browsers do.
        self.unescape: Callable[[str], str] = unescape
        ws = re.escape(_WS)
        #: Where markup can start: "<" and a letter, "/", "!" or "?". Any other "<" is text.
        self.markup = re.compile(r"<[A-Za-z/!?]")
        self.tag_name = re.compile(rf"[A-Za-z][^{ws}/>]*")
        #: Between attributes: whitespace and stray slashes.
        self.gap = re.compile(rf"[{ws}/]*")
        self.attr_name = re.compile(rf"[^{ws}/>][^{ws}/>=]*")
        self.equals = re.compile(rf"[{ws}]*=[{ws}]*")
        self.unquoted = re.compile(rf"[^{ws}>]*")
        self.raw_end = {tag: re.compile(rf"</{tag}[{ws}/>]", re.IGNORECASE) for tag in _RAW_TAGS}


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


class _Tokenizer:
    """Split a page into start tags, end tags and text, and hand them to a scanner."""

    __slots__ = ("_end", "_html", "_markup", "_p", "_scanner")

    def __init__(self, html: str, scanner: PageScan) -> None:
        self._html = html
        self._end = len(html)
        self._scanner = scanner
        self._p = _patterns()
        self._markup = 0

    def run(self) -> None:
        """Read the whole page; stop early where the rest can only be a cut-off construct."""
        html, end, p = self._html, self._end, self._p
        pos = 0
        while pos < end:
            found = p.markup.search(html, pos)
            if found is None:
                self._text(html[pos:])
                return
            start = found.start()
            if start > pos:
                self._text(html[pos:start])
            self._count()
            kind = html[start + 1]
            if kind == "/":
                pos = self._end_tag(start)
            elif kind in "!?":
                pos = self._comment(start)
            else:
                pos = self._start_tag(start)
            if pos < 0:
                return  # the page ends inside a tag or comment: HTML drops it

    def _count(self) -> None:
        self._markup += 1
        if self._markup > MAX_MARKUP:
            msg = (
                f"Amazon sent a sign-in page with more than {MAX_MARKUP:,} tags and "
                "attributes, far more than a real one has; it was not read. We will try again "
                "later."
            )
            raise PageTooLargeError(msg)

    def _text(self, raw: str) -> None:
        self._scanner.handle_data(self._p.unescape(raw) if "&" in raw else raw)

    def _comment(self, start: int) -> int:
        """Skip a comment, doctype or processing instruction; return where reading goes on."""
        html = self._html
        if html.startswith("<!--", start):
            if html.startswith(("<!-->", "<!--->"), start):
                return html.index(">", start + 4) + 1
            close = html.find("-->", start + 4)
            return close + 3 if close >= 0 else -1
        close = html.find(">", start + 2)
        return close + 1 if close >= 0 else -1

    def _start_tag(self, start: int) -> int:
        name_match = self._p.tag_name.match(self._html, start + 1)
        if name_match is None:  # pragma: no cover - the markup pattern guarantees a letter
            return start + 1
        name = name_match.group().lower()
        read = self._attributes(name_match.end(), keep=True)
        if read is None:
            return -1
        attrs, self_closing, pos = read
        scanner = self._scanner
        scanner.handle_starttag(name, attrs)
        if self_closing:
            # As html.parser does: "<div/>" opens and closes (browsers only honour it on void
            # elements, which the scanner never keeps open anyway).
            scanner.handle_endtag(name)
            return pos
        if name in _RAW_TAGS:
            return self._raw_text(name, pos)
        return pos

    def _end_tag(self, start: int) -> int:
        html = self._html
        name_match = self._p.tag_name.match(html, start + 2)
        if name_match is None:
            # "</>" is dropped and "</ x>" is a bogus comment, both up to the next ">".
            close = html.find(">", start + 2)
            return close + 1 if close >= 0 else -1
        read = self._attributes(name_match.end(), keep=False)
        if read is None:
            return -1
        self._scanner.handle_endtag(name_match.group().lower())
        return read[2]

    def _raw_text(self, name: str, pos: int) -> int:
        """Hand a script's or style's content over as text, up to its end tag (not unescaped)."""
        html = self._html
        close = self._p.raw_end[name].search(html, pos)
        stop = close.start() if close is not None else self._end
        if stop > pos:
            self._scanner.handle_data(html[pos:stop])
        return stop if close is not None else -1

    def _attributes(self, pos: int, *, keep: bool) -> tuple[dict[str, str], bool, int] | None:
        """
        Read a tag's attributes up to its ">".

        :param pos: Where the tag name ended.
        :param keep: Collect the attributes (start tags) or only read past them (end tags).
        :return: Attributes (the first of duplicates wins, as in browsers; values unescaped),
            whether the tag closed itself with "/>", and where its ">" ended; ``None`` when the
            page ends inside the tag.
        """
        html, end, p = self._html, self._end, self._p
        attrs: dict[str, str] = {}
        while True:
            gap_start, pos = pos, _skip(p.gap, html, pos)
            if pos >= end:
                return None
            if html[pos] == ">":
                return attrs, pos > gap_start and html[pos - 1] == "/", pos + 1
            self._count()
            # html[pos] is none of space, "/" and ">": a name of at least one character.
            name_start, pos = pos, max(pos + 1, _skip(p.attr_name, html, pos))
            name_end, value = pos, ""
            after_equals = _skip(p.equals, html, pos)
            if after_equals > pos:
                pos = after_equals
                if pos >= end:
                    return None
                quote = html[pos]
                if quote in "\"'":
                    close = html.find(quote, pos + 1)
                    if close < 0:
                        return None
                    value, pos = html[pos + 1 : close], close + 1
                else:
                    value_start, pos = pos, _skip(p.unquoted, html, pos)
                    value = html[value_start:pos]
            if keep and len(attrs) < MAX_ATTRIBUTES:
                attrs.setdefault(
                    html[name_start:name_end].lower(),
                    p.unescape(value) if "&" in value else value,
                )


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """
    Return where a match of ``pattern`` at ``pos`` ends (``pos`` when it does not match).

    :param pattern: The pattern.
    :param text: The page.
    :param pos: Where to match.
    :return: The end of the match.
    """
    found = pattern.match(text, pos)
    return found.end() if found is not None else pos


# --- what the scanner collects ----------------------------------------------------------------


class Form:
    """A form of the page, with the fields a browser would submit."""

    __slots__ = ("action", "checked_radios", "classes", "fields", "form_id", "form_name", "method")

    def __init__(self, attr: dict[str, str], classes: frozenset[str]) -> None:
        """
        Start a form from its tag.

        :param attr: The ``<form>`` tag's attributes.
        :param classes: Its classes, lower case.
        """
        #: The raw ``action`` attribute ("" when missing).
        self.action: str = attr.get("action", "")
        self.method: str = attr.get("method", "")
        self.form_id: str | None = attr.get("id")
        self.form_name: str | None = attr.get("name")
        self.classes = classes
        #: Field name to value, as a browser would submit them.
        self.fields: dict[str, str] = {}
        self.checked_radios: set[str] = set()

    @property
    def id_l(self) -> str:
        """
        Return the form's id, stripped and lower case.

        :return: The id, or "".
        """
        return (self.form_id or "").strip().lower()

    @property
    def name_l(self) -> str:
        """
        Return the form's name, stripped and lower case.

        :return: The name, or "".
        """
        return (self.form_name or "").strip().lower()

    @property
    def action_path_l(self) -> str:
        """
        Return the action without query and fragment, lower case, without a trailing slash.

        :return: The path (or URL) the form posts to.
        """
        return self.action.split("?", 1)[0].split("#", 1)[0].strip().lower().rstrip("/")

    def put(self, name: str, value: str) -> None:
        """
        Set a field unless a filled-in one of the same name came first.

        Amazon's password page carries "email" twice: the pre-filled hidden one and an empty
        autofill hint. Whatever their order, the filled one must win.

        :param name: The field's name.
        :param value: Its value.
        """
        if not self.fields.get(name):
            self.fields[name] = value


class Input:
    """An ``<input>`` of the page."""

    __slots__ = ("form", "hidden", "id_l", "name_l", "type_l")

    def __init__(
        self, form: int | None, type_l: str, name_l: str, id_l: str, *, hidden: bool
    ) -> None:
        """
        Record an input.

        :param form: Index of the enclosing form, if any.
        :param type_l: Its type, lower case ("text" when missing).
        :param name_l: Its name, stripped and lower case.
        :param id_l: Its id, stripped and lower case.
        :param hidden: Hidden by an attribute or an enclosing element (not ``type=hidden``).
        """
        self.form = form
        self.type_l = type_l
        self.name_l = name_l
        self.id_l = id_l
        self.hidden = hidden

    @property
    def shown_to_user(self) -> bool:
        """
        Return whether the user would see and fill it: not hidden, not an autofill hint.

        :return: Whether it is a field the user fills in.
        """
        return not self.hidden and "autofill-hint" not in self.id_l


class Img:
    """An ``<img>`` of the page."""

    __slots__ = ("alt_l", "form", "id_l", "in_cvf", "src")

    def __init__(self, src: str, alt_l: str, id_l: str, form: int | None, *, in_cvf: bool) -> None:
        """
        Record a picture.

        :param src: Its ``src``, stripped.
        :param alt_l: Its ``alt``, stripped and lower case.
        :param id_l: Its id, stripped and lower case.
        :param form: Index of the enclosing form, if any.
        :param in_cvf: Inside ``#cvf-page-content``.
        """
        self.src = src
        self.alt_l = alt_l
        self.id_l = id_l
        self.form = form
        self.in_cvf = in_cvf


class Radio:
    """A radio button of the page."""

    __slots__ = ("form", "hint", "id_l", "label", "name_l", "value")

    def __init__(  # noqa: PLR0913 - one argument per fact
        self,
        form: int | None,
        name_l: str,
        value: str,
        *,
        id_l: str,
        hint: str | None,
        label: int | None,
    ) -> None:
        """
        Record a radio button.

        :param form: Index of the enclosing form, if any.
        :param name_l: Its name, stripped and lower case.
        :param value: Its value ("on" when missing).
        :param id_l: Its id, stripped and lower case.
        :param hint: The OTP method its wrapper's class names, if any.
        :param label: Index of the enclosing label, if any.
        """
        self.form = form
        self.name_l = name_l
        self.value = value
        self.id_l = id_l
        self.hint = hint
        self.label = label


class Label:
    """A ``<label>`` and its text."""

    __slots__ = ("for_id_l", "parts")

    def __init__(self, for_id_l: str) -> None:
        """
        Start a label.

        :param for_id_l: Its ``for`` attribute, stripped and lower case.
        """
        self.for_id_l = for_id_l
        self.parts: list[str] = []


class _Box:
    """An error or warning box being read: list items, and loose text for boxes without."""

    __slots__ = ("item", "items", "loose", "warning")

    def __init__(self, *, warning: bool) -> None:
        self.warning = warning
        self.items: list[list[str]] = []
        self.loose: list[str] = []
        self.item: list[str] | None = None

    def text(self) -> str:
        items = [collapse("".join(item)) for item in self.items]
        joined = " ".join(item for item in items if item)
        return joined or collapse("".join(self.loose))


class _Select:
    __slots__ = ("form", "name", "options")

    def __init__(self, form: int | None, name: str) -> None:
        self.form = form
        self.name = name
        self.options: list[tuple[str, bool]] = []


class _Option:
    __slots__ = ("parts", "selected", "value")

    def __init__(self, value: str | None, *, selected: bool) -> None:
        self.value = value  # None: the option's text is its value
        self.selected = selected
        self.parts: list[str] = []


class _Node:
    """
    An open element that changes how the text inside it is read, with the inherited facts.

    Only such elements are kept on the stack (a hidden block, a message box, a label...), not
    every <div> and <span>.
    """

    __slots__ = (
        "heading",
        "hidden",
        "hint",
        "in_cvf",
        "index",
        "is_item",
        "label",
        "level",
        "opens_box",
        "tag",
    )

    def __init__(self, tag: str, level: int, parent: _Node | None, index: int) -> None:
        self.tag: str = tag
        #: How many elements of this name were open, this one included: its end tag is the
        #: one that arrives while that many are open.
        self.level: int = level
        #: Its place on the stack.
        self.index: int = index
        self.hidden: bool = parent.hidden if parent else False
        self.hint: str | None = parent.hint if parent else None
        self.in_cvf: bool = parent.in_cvf if parent else False
        self.heading: bool = parent.heading if parent else False
        self.label: int | None = parent.label if parent else None
        self.opens_box: bool = False
        self.is_item: bool = False


class _Tag:
    """A start tag as the handlers see it."""

    __slots__ = ("attr", "classes", "el_id", "hidden", "name")

    def __init__(
        self, name: str, attr: dict[str, str], el_id: str, classes: frozenset[str], *, hidden: bool
    ) -> None:
        self.name = name
        self.attr = attr
        self.el_id = el_id  # stripped, lower-case
        self.classes = classes  # lower-case
        self.hidden = hidden  # by its own attributes or an enclosing element


# --- the scanner ------------------------------------------------------------------------------


class PageScan:
    """Every fact the page checks need, collected in one pass over the page."""

    def __init__(self) -> None:
        """Start with nothing read."""
        self.forms: list[Form] = []
        self.inputs: list[Input] = []
        self.imgs: list[Img] = []
        self.radios: list[Radio] = []
        self.labels: list[Label] = []
        #: Texts of Amazon's error boxes and warning boxes, in page order.
        self.error_texts: list[str] = []
        self.warning_texts: list[str] = []
        #: Visible text, one entry per block of the page.
        self.segments: list[str] = []
        #: A JavaScript or WAF challenge's markers were seen.
        self.bot_signal = False
        #: The approval page's markers were seen.
        self.approval_signal = False
        self._segment: list[str] = []
        self._stack: list[_Node] = []
        #: Open elements per tag name, to match end tags to the elements on the stack.
        self._depth: dict[str, int] = {}
        #: The stack's nodes per tag name, innermost last: an end tag finds its node at once.
        self._nodes: dict[str, list[_Node]] = {}
        self._form: int | None = None
        self._box: _Box | None = None
        self._select: _Select | None = None
        self._option: _Option | None = None
        self._textarea: tuple[int, str, list[str]] | None = None
        self._in_script = False
        self._in_style = False

    # -- what the tokenizer calls --

    def handle_starttag(self, tag: str, attr: dict[str, str]) -> None:
        """
        Read a start tag.

        :param tag: Its name, lower case.
        :param attr: Its attributes (names lower case, values unescaped).
        """
        el_id = attr["id"].strip().lower() if "id" in attr else ""
        css = attr.get("class")
        classes = frozenset(css.lower().split()) if css else _NO_CLASSES
        if tag in _BLOCK_TAGS:
            self._flush()
        # Cheap set tests first: most tags are plain <div>/<span>/<a> that matter to nothing.
        if (
            el_id in _SIGNAL_IDS
            or not classes.isdisjoint(_SIGNAL_CLASSES)
            or "data-challenge-type" in attr
        ):
            self._note_signals(attr, el_id, classes)
        top = self._stack[-1] if self._stack else None
        hides = bool(attr) and _hides(attr, classes)
        hidden = (top is not None and top.hidden) or hides
        handler = _START_HANDLERS.get(tag)
        if handler is not None:
            handler(self, _Tag(tag, attr, el_id, classes, hidden=hidden))
        if tag in _VOID_TAGS or tag in _RAW_TAGS:
            return
        level = self._depth.get(tag, 0) + 1
        self._depth[tag] = level
        if len(self._stack) < MAX_DEPTH and (
            hides
            or tag == "label"
            or self._box is not None
            or el_id in _STATE_IDS
            or not classes.isdisjoint(_STATE_CLASSES)
        ):
            self._maybe_push(_Tag(tag, attr, el_id, classes, hidden=hidden), level, top)

    def handle_endtag(self, tag: str) -> None:
        """
        Read an end tag.

        :param tag: Its name, lower case.
        """
        if tag in _BLOCK_TAGS:
            self._flush()
        handler = _END_HANDLERS.get(tag)
        if handler is not None:
            handler(self)
        level = self._depth.get(tag, 0)
        if not level:
            return  # a stray end tag; browsers ignore it too
        self._depth[tag] = level - 1
        nodes = self._nodes.get(tag)
        if not nodes:
            return
        node = nodes[-1]
        if node.level >= level:
            # Close it, and whatever was left unclosed inside it (<li>, <label>), as a browser
            # would.
            stack = self._stack
            while len(stack) > node.index:
                self._close(stack.pop())
        # Else the end tag belongs to an unremarkable element nested inside this one.

    def handle_data(self, data: str) -> None:
        """
        Read text (unescaped, except inside scripts and styles).

        :param data: The text.
        """
        if self._in_style:
            return
        if self._in_script:
            if "gokuProps" in data:
                self.bot_signal = True
            return
        if self._textarea is not None:
            self._textarea[2].append(data)
            return
        if self._option is not None:
            self._option.parts.append(data)
        top = self._stack[-1] if self._stack else None
        if top is not None and top.label is not None:
            self.labels[top.label].parts.append(data)
        if top is not None and top.hidden:
            return
        box = self._box
        if box is not None and not (top is not None and top.heading):
            (box.item if box.item is not None else box.loose).append(data)
        self._segment.append(data)

    def finish(self) -> None:
        """Close whatever a truncated page left open, so its text is not lost."""
        self._end_textarea()
        self._end_select()
        while self._stack:
            self._close(self._stack.pop())
        self._flush()

    # -- helpers of the callbacks --

    def _flush(self) -> None:
        if self._segment:
            text = collapse("".join(self._segment))
            self._segment = []
            if text:
                self.segments.append(text)

    def _note_signals(self, attr: dict[str, str], el_id: str, classes: frozenset[str]) -> None:
        if (
            el_id in BOT_IDS
            or "cvf-aamation-container" in classes
            or attr.get("data-challenge-type", "").upper().startswith("WAF")
        ):
            self.bot_signal = True
        if el_id in APPROVAL_IDS or "transaction-approval-word-break" in classes:
            self.approval_signal = True

    def _maybe_push(self, info: _Tag, level: int, top: _Node | None) -> None:
        """Put the element on the stack if it changes how the text inside it is read."""
        name, el_id, classes = info.name, info.el_id, info.classes
        box = self._box
        hint = next((OTP_WRAPPER_CLASSES[c] for c in classes if c in OTP_WRAPPER_CLASSES), None)
        opens_box = (
            box is None
            and not info.hidden
            and bool(el_id or classes)
            and (
                el_id in ERROR_BOX_IDS
                or el_id in WARNING_BOX_IDS
                or not classes.isdisjoint(ERROR_BOX_CLASSES)
            )
        )
        in_box = box is not None and (
            name == "li" or name in _HEADING_TAGS or "a-alert-heading" in classes
        )
        if not (
            (info.hidden and not (top is not None and top.hidden))
            or hint
            or opens_box
            or in_box
            or name == "label"
            or el_id == "cvf-page-content"
        ):
            return
        node = _Node(name, level, top, len(self._stack))
        node.hidden = info.hidden
        node.in_cvf = node.in_cvf or el_id == "cvf-page-content"
        node.hint = hint or node.hint
        if name == "label":
            self.labels.append(Label(for_id_l=info.attr.get("for", "").strip().lower()))
            node.label = len(self.labels) - 1
        if opens_box:
            self._box = _Box(warning=el_id in WARNING_BOX_IDS)
            node.opens_box = True
        elif box is not None and in_box:
            if name == "li":
                box.item = []
                box.items.append(box.item)
                node.is_item = True
            else:
                node.heading = True
        self._stack.append(node)
        self._nodes.setdefault(name, []).append(node)

    def _close(self, node: _Node) -> None:
        self._nodes[node.tag].pop()
        box = self._box
        if box is None:
            return
        if node.is_item:
            box.item = None
        if node.opens_box:
            self._box = None
            text = box.text()
            if text:
                (self.warning_texts if box.warning else self.error_texts).append(text)

    def _start_form(self, info: _Tag) -> None:
        if self._form is not None:
            # A <form> inside an open form is ignored by browsers; its fields join the outer one.
            return
        self.forms.append(Form(info.attr, info.classes))
        self._form = len(self.forms) - 1

    def _start_input(self, info: _Tag) -> None:
        attr = info.attr
        type_l = (attr.get("type") or "text").strip().lower()
        name = attr.get("name", "")
        self.inputs.append(
            Input(self._form, type_l, name.strip().lower(), info.el_id, hidden=info.hidden)
        )
        form = self.forms[self._form] if self._form is not None else None
        if type_l == "radio":
            value = attr.get("value", "on")
            top = self._stack[-1] if self._stack else None
            self.radios.append(
                Radio(
                    form=self._form,
                    name_l=name.strip().lower(),
                    value=value,
                    id_l=info.el_id,
                    hint=top.hint if top else None,
                    label=top.label if top else None,
                )
            )
            if form is not None and name:
                checked = "checked" in attr
                if name not in form.fields or (checked and name not in form.checked_radios):
                    form.fields[name] = value
                if checked:
                    form.checked_radios.add(name)
        elif form is not None and name:
            form.put(name, attr.get("value", ""))

    def _start_img(self, info: _Tag) -> None:
        top = self._stack[-1] if self._stack else None
        self.imgs.append(
            Img(
                src=info.attr.get("src", "").strip(),
                alt_l=info.attr.get("alt", "").strip().lower(),
                id_l=info.el_id,
                form=self._form,
                in_cvf=top.in_cvf if top else False,
            )
        )

    def _start_button(self, info: _Tag) -> None:
        name = info.attr.get("name", "")
        if self._form is not None and name:
            self.forms[self._form].put(name, info.attr.get("value", ""))

    def _start_select(self, info: _Tag) -> None:
        self._end_select()
        self._select = _Select(form=self._form, name=info.attr.get("name", ""))

    def _start_option(self, info: _Tag) -> None:
        self._end_option()
        if self._select is not None:
            self._option = _Option(info.attr.get("value"), selected="selected" in info.attr)

    def _start_textarea(self, info: _Tag) -> None:
        self._end_textarea()
        name = info.attr.get("name", "")
        if self._form is not None and name:
            self._textarea = (self._form, name, [])

    def _start_script(self, info: _Tag) -> None:
        self._in_script = True
        src = info.attr.get("src", "").lower()
        if "challenge.js" in src or "token.awswaf.com" in src:
            self.bot_signal = True

    def _start_style(self, _info: _Tag) -> None:
        self._in_style = True

    def _end_script(self) -> None:
        self._in_script = False

    def _end_style(self) -> None:
        self._in_style = False

    def _end_form(self) -> None:
        self._form = None

    def _end_option(self) -> None:
        option, self._option = self._option, None
        if option is not None and self._select is not None:
            value = option.value if option.value is not None else collapse("".join(option.parts))
            self._select.options.append((value, option.selected))

    def _end_select(self) -> None:
        self._end_option()
        select, self._select = self._select, None
        if select is None or select.form is None or not select.name:
            return
        chosen = next((value for value, selected in select.options if selected), None)
        if chosen is None:
            chosen = select.options[0][0] if select.options else ""
        self.forms[select.form].put(select.name, chosen)

    def _end_textarea(self) -> None:
        textarea, self._textarea = self._textarea, None
        if textarea is not None:
            form, name, parts = textarea
            self.forms[form].put(name, "".join(parts))


def _hides(attr: dict[str, str], classes: frozenset[str]) -> bool:
    """Return whether an element's own attributes hide it (and so its text)."""
    if "hidden" in attr or not classes.isdisjoint(HIDING_CLASSES):
        return True
    style = attr.get("style")
    if not style:
        return False
    style = style.replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


_START_HANDLERS: Final[dict[str, Callable[[PageScan, _Tag], None]]] = {
    "form": PageScan._start_form,  # noqa: SLF001 - the scanner's own dispatch table
    "input": PageScan._start_input,  # noqa: SLF001
    "img": PageScan._start_img,  # noqa: SLF001
    "button": PageScan._start_button,  # noqa: SLF001
    "select": PageScan._start_select,  # noqa: SLF001
    "option": PageScan._start_option,  # noqa: SLF001
    "textarea": PageScan._start_textarea,  # noqa: SLF001
    "script": PageScan._start_script,  # noqa: SLF001
    "style": PageScan._start_style,  # noqa: SLF001
}
_END_HANDLERS: Final[dict[str, Callable[[PageScan], None]]] = {
    "form": PageScan._end_form,  # noqa: SLF001
    "option": PageScan._end_option,  # noqa: SLF001
    "select": PageScan._end_select,  # noqa: SLF001
    "textarea": PageScan._end_textarea,  # noqa: SLF001
    "script": PageScan._end_script,  # noqa: SLF001
    "style": PageScan._end_style,  # noqa: SLF001
}


def scan(html: str) -> PageScan:
    """
    Read a page once and return what it holds.

    :param html: The page.
    :return: The facts.
    :raises PageTooLargeError: The page is beyond :data:`MAX_PAGE_CHARS` or :data:`MAX_MARKUP`
        (checked before and while reading; nothing of it is used).
    """
    if len(html) > MAX_PAGE_CHARS:
        msg = (
            f"Amazon sent a sign-in page of {len(html) / 1e6:.1f} million characters, more "
            f"than the {MAX_PAGE_CHARS / 1e6:g} million read safely; it was not read. We will "
            "try again later."
        )
        raise PageTooLargeError(msg)
    scanner = PageScan()
    _Tokenizer(html, scanner).run()
    scanner.finish()
    return scanner
