"""
Recognise which Amazon sign-in page a response is.

The sign-in walks Amazon's HTML pages one form at a time. Every answer is one of a small set of
pages (sign-in form, two-step verification, OTP device chooser, captcha, approval, passkey, bot
wall, lockout, "no such account") or the final redirect that carries the authorization code. The
login code must know which, so that each obstacle becomes a precise, guide-linked error instead
of a bare "login failed".

:func:`classify_page` reads the page in a single pass with the standard library's
:mod:`html.parser`: it runs inside Music Assistant's event loop, so it has to be quick, and a
third-party parser would be one more dependency to keep in step with the server. The pass only
collects facts (forms and their fields, ids, images, error boxes, visible text). The checks run
afterwards in a fixed order: the most specific form structures first and loose text matches last,
because Amazon's pages share a lot of markup and the specific signals are the trustworthy ones.
It never raises, whatever the input.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urljoin

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class PageKind(StrEnum):
    """What an Amazon sign-in response is."""

    SIGN_IN = "sign_in"
    MFA = "mfa"
    OTP_METHOD_CHOICE = "otp_method_choice"
    CAPTCHA = "captcha"
    APPROVAL = "approval"
    PASSKEY = "passkey"
    BOT_CHALLENGE = "bot_challenge"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_MISSING = "account_missing"
    SUCCESS = "success"
    UNKNOWN = "unknown"


class CaptchaKind(StrEnum):
    """Which of Amazon's three captcha pages a captcha is; each is answered differently."""

    SIGN_IN = "sign_in"  # image inside the sign-in form, answered as "guess" with the password
    CVF = "cvf"  # "Authentication required" page, answered as "cvf_captcha_input"
    ROBOT_CHECK = "robot_check"  # /errors/validateCaptcha, answered as "field-keywords" by GET


#: Methods an OTP device can have; the login only automates "TOTP".
OTP_METHODS: Final = frozenset({"TOTP", "SMS", "VOICE", "EMAIL", "UNKNOWN"})


@dataclass(frozen=True, slots=True, repr=False)
class OtpDevice:
    """One choice on the OTP device chooser."""

    #: The radio's value, posted back as ``otpDeviceContext`` (or ``option``) to pick it.
    value: str
    #: One of :data:`OTP_METHODS`.
    method: str

    def __repr__(self) -> str:
        """Show the method only: the value is an opaque token that can name a phone number."""
        return f"OtpDevice(method={self.method!r})"


@dataclass(frozen=True, slots=True, repr=False)
class ParsedForm:
    """A form of the page, with the fields a browser would submit."""

    #: The raw ``action`` attribute ("" when missing).
    action: str
    #: "POST" for ``method=post``, else "GET".
    method: str
    #: Field name to value. Hidden fields keep their value, other inputs their ``value``
    #: attribute or "". Radios: the checked one, or the first when none is checked.
    fields: dict[str, str]
    form_id: str | None
    form_name: str | None

    def resolve_action(self, page_url: str) -> str:
        """
        Return the absolute URL the form submits to.

        An empty action means "this page", as in a browser.

        :param page_url: The URL the page was served from.
        :raises ValueError: ``page_url`` or the action is not a valid URL (a bad IPv6 host).
        """
        action = self.action.strip()
        return urljoin(page_url, action) if action else page_url

    def __repr__(self) -> str:
        """Show field names only: values hold the user's e-mail address and session tokens."""
        path = self.action.split("?", 1)[0]
        return (
            f"ParsedForm(action={path!r}, method={self.method!r}, form_id={self.form_id!r}, "
            f"form_name={self.form_name!r}, fields={sorted(self.fields)!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Page:
    """What :func:`classify_page` found on one response."""

    kind: PageKind
    #: Amazon's error or warning text (the messages without the "There was a problem" heading).
    error_message: str | None = None
    #: The form to submit next (sign-in, MFA, device chooser, captcha, approval polling).
    form: ParsedForm | None = None
    #: The captcha picture, made absolute against the page URL when one was given.
    captcha_url: str | None = None
    captcha_kind: CaptchaKind | None = None
    #: The choices of an OTP device chooser, in page order.
    otp_devices: tuple[OtpDevice, ...] = ()
    #: The code from the final redirect, for :attr:`PageKind.SUCCESS`.
    authorization_code: str | None = None
    #: The sign-in form has a visible e-mail field (e-mail-first or combined page).
    asks_for_email: bool = False
    #: The sign-in form has a real password field, not the e-mail page's autofill hint.
    asks_for_password: bool = False

    def __repr__(self) -> str:
        """Show the kind, Amazon's message and field names; never field values or the code."""
        parts = [f"kind={self.kind.value!r}"]
        if self.error_message is not None:
            parts.append(f"error_message={self.error_message!r}")
        if self.form is not None:
            parts.append(f"form={self.form!r}")
        if self.captcha_kind is not None:
            parts.append(f"captcha_kind={self.captcha_kind.value!r}")
        if self.captcha_url is not None:
            parts.append(f"captcha_url={self.captcha_url!r}")
        if self.otp_devices:
            parts.append(f"otp_devices={[d.method for d in self.otp_devices]!r}")
        if self.authorization_code is not None:
            parts.append("authorization_code=<redacted>")
        if self.asks_for_email or self.asks_for_password:
            parts.append(f"asks_for_email={self.asks_for_email}")
            parts.append(f"asks_for_password={self.asks_for_password}")
        return f"Page({', '.join(parts)})"


# --- what the checks look for ---------------------------------------------------------------

_CODE_PARAM: Final = "openid.oa2.authorization_code"

#: Server-side message boxes. The client-side inline alerts ("Enter your password") are left
#: out: Amazon ships them hidden in every page and only its JavaScript reveals them.
_ERROR_BOX_IDS: Final = frozenset({"auth-error-message-box", "ap_error_page_message"})
_WARNING_BOX_IDS: Final = frozenset({"auth-warning-message-box"})
_ERROR_BOX_CLASSES: Final = frozenset({"cvf-widget-alert"})
#: Classes Amazon uses to hide markup that only its scripts show.
_HIDING_CLASSES: Final = frozenset({"aok-hidden", "a-hidden", "hidden"})
_OTP_WRAPPER_CLASSES: Final = {
    "auth-totp": "TOTP",
    "auth-sms": "SMS",
    "auth-voice": "VOICE",
    "auth-email": "EMAIL",
}
_APPROVAL_FORM_IDS: Final = ("pollingform", "verification-code-form", "resend-approval-form")
_APPROVAL_IDS: Final = frozenset(
    {"transactionapprovalstatus", "updatedchanneldetails", "resend-approval-alert"}
)

#: Phrases of a forced passkey. Deliberately not "sign in with a passkey": that is the label
#: of the optional passkey button on ordinary e-mail and password pages.
_PASSKEY_PHRASES: Final = (
    "not support passkey",
    "n't support passkey",
    "where you created your passkey",
    "passkey is required",
    "requires a passkey",
)
_LOCK_PHRASES: Final = (
    "unusual activity",
    "account has been locked",
    "account is locked",
    "account locked",
    "temporarily locked",
    "locked your account",
    "account on hold",
    "account is on hold",
    "placed on hold",
    "account has been suspended",
    "account is suspended",
    "too many failed",
    "too many unsuccessful",
    "too many attempts",
    "too many sign-in attempts",
    "too many sign in attempts",
)
#: The AWS WAF interstitial's <noscript> text. Only trusted on a page without any form, since
#: the robot-check captcha says much the same ("make sure you're not a robot").
_ROBOT_PHRASES: Final = ("not a robot",)

_VOID_TAGS: Final = frozenset(
    [
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
    ]
)
#: Tags that start a new line of text, so phrases are matched and quoted per block.
_BLOCK_TAGS: Final = frozenset(
    [
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
    ]
)
_NO_CLASSES: Final[frozenset[str]] = frozenset()
_BOT_IDS: Final = frozenset({"challenge-container", "cvf-aamation-container"})
_SIGNAL_IDS: Final = _BOT_IDS | _APPROVAL_IDS
_SIGNAL_CLASSES: Final = frozenset({"cvf-aamation-container", "transaction-approval-word-break"})
#: Ids and classes of elements that change how the text inside them is read.
_STATE_IDS: Final = _ERROR_BOX_IDS | _WARNING_BOX_IDS | {"cvf-page-content"}
_STATE_CLASSES: Final = _ERROR_BOX_CLASSES | frozenset(_OTP_WRAPPER_CLASSES)
_HEADING_TAGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Bound on the stack of open elements that change how text is read (hidden, message box,
#: label...). Real pages nest a handful; a hostile page of endless unclosed ones would otherwise
#: grow it without limit.
_MAX_DEPTH: Final = 1024
_RAW_TAGS: Final = frozenset({"script", "style"})
#: Longest quote taken from running text around a matched phrase.
_QUOTE_BEFORE: Final = 160
_QUOTE_AFTER: Final = 240


def _collapse(text: str) -> str:
    """Collapse runs of whitespace (including no-break spaces) to single spaces."""
    return " ".join(text.split())


def _normalise(text: str) -> str:
    """Lower-case text and straighten typographic apostrophes, for phrase matching."""
    return text.lower().replace("\u2019", "'")


def _find_phrase(text: str, phrases: Iterable[str]) -> int:
    """Return where the first of ``phrases`` occurs in normalised ``text``, or -1."""
    lowered = _normalise(text)
    for phrase in phrases:
        found = lowered.find(phrase)
        if found >= 0:
            return found
    return -1


# --- the single parsing pass ----------------------------------------------------------------


@dataclass(slots=True)
class _Form:
    action: str
    method: str
    form_id: str | None
    form_name: str | None
    classes: frozenset[str]
    fields: dict[str, str] = field(default_factory=dict)
    checked_radios: set[str] = field(default_factory=set)

    @property
    def id_l(self) -> str:
        return (self.form_id or "").strip().lower()

    @property
    def name_l(self) -> str:
        return (self.form_name or "").strip().lower()

    @property
    def action_path_l(self) -> str:
        return self.action.split("?", 1)[0].split("#", 1)[0].strip().lower().rstrip("/")

    def put(self, name: str, value: str) -> None:
        # Amazon's password page carries "email" twice: the pre-filled hidden one and an empty
        # autofill hint. Whatever their order, the filled one must win.
        if not self.fields.get(name):
            self.fields[name] = value

    def parsed(self) -> ParsedForm:
        method = "POST" if self.method.strip().lower() == "post" else "GET"
        return ParsedForm(
            action=self.action,
            method=method,
            fields=dict(self.fields),
            form_id=self.form_id,
            form_name=self.form_name,
        )


@dataclass(frozen=True, slots=True)
class _Input:
    form: int | None
    type_l: str
    name_l: str
    id_l: str
    hidden: bool  # hidden by an attribute or an enclosing element, not type=hidden

    @property
    def shown_to_user(self) -> bool:
        """Return whether the user would see and fill it: not hidden, not an autofill hint."""
        return not self.hidden and "autofill-hint" not in self.id_l


@dataclass(frozen=True, slots=True)
class _Img:
    src: str
    alt_l: str
    id_l: str
    form: int | None
    in_cvf: bool


@dataclass(frozen=True, slots=True)
class _Radio:
    form: int | None
    name_l: str
    value: str
    id_l: str
    hint: str | None
    label: int | None


@dataclass(slots=True)
class _Label:
    for_id_l: str
    parts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Box:
    """An error or warning box being read: list items, and loose text for boxes without."""

    warning: bool
    items: list[list[str]] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)
    item: list[str] | None = None

    def text(self) -> str:
        items = [_collapse("".join(item)) for item in self.items]
        joined = " ".join(item for item in items if item)
        return joined or _collapse("".join(self.loose))


@dataclass(slots=True)
class _Select:
    form: int | None
    name: str
    options: list[tuple[str, bool]] = field(default_factory=list)


@dataclass(slots=True)
class _Option:
    value: str | None
    selected: bool
    parts: list[str] = field(default_factory=list)


class _Node:
    """
    An open element that changes how the text inside it is read, with the inherited facts.

    Only such elements are kept on the stack (a hidden block, a message box, a label...), not
    every <div> and <span>: the per-tag cost of the stdlib parser dominates already.
    """

    __slots__ = (
        "heading",
        "hidden",
        "hint",
        "in_cvf",
        "is_item",
        "label",
        "level",
        "opens_box",
        "tag",
    )

    def __init__(self, tag: str, level: int, parent: _Node | None) -> None:
        self.tag: str = tag
        #: How many elements of this name were open, this one included: its end tag is the
        #: one that arrives while that many are open.
        self.level: int = level
        self.hidden: bool = parent.hidden if parent else False
        self.hint: str | None = parent.hint if parent else None
        self.in_cvf: bool = parent.in_cvf if parent else False
        self.heading: bool = parent.heading if parent else False
        self.label: int | None = parent.label if parent else None
        self.opens_box: bool = False
        self.is_item: bool = False


@dataclass(frozen=True, slots=True)
class _Tag:
    """A start tag as the handlers see it."""

    name: str
    attr: dict[str, str]
    el_id: str  # stripped, lower-case
    classes: frozenset[str]  # lower-case
    hidden: bool  # by its own attributes or an enclosing element


class _Scanner(HTMLParser):
    """Collect, in one pass, every fact the checks need."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.inputs: list[_Input] = []
        self.imgs: list[_Img] = []
        self.radios: list[_Radio] = []
        self.labels: list[_Label] = []
        self.error_texts: list[str] = []
        self.warning_texts: list[str] = []
        #: Visible text, one entry per block of the page.
        self.segments: list[str] = []
        self.bot_signal = False
        self.approval_signal = False
        self._segment: list[str] = []
        self._stack: list[_Node] = []
        #: Open elements per tag name, to match end tags to the elements on the stack.
        self._depth: dict[str, int] = {}
        #: Elements on the stack per tag name, so most end tags skip the stack search.
        self._on_stack: dict[str, int] = {}
        self._form: int | None = None
        self._box: _Box | None = None
        self._select: _Select | None = None
        self._option: _Option | None = None
        self._textarea: tuple[int, str, list[str]] | None = None
        self._in_script = False
        self._in_style = False

    # -- parser callbacks --

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Reversed, so that the first of duplicate attributes wins, as in browsers.
        attr = {key: value or "" for key, value in reversed(attrs)} if attrs else {}
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
        hides = bool(attr) and self._hides(attr, classes)
        hidden = (top is not None and top.hidden) or hides
        handler = self._START_HANDLERS.get(tag)
        if handler is not None:
            handler(self, _Tag(tag, attr, el_id, classes, hidden))
        if tag in _VOID_TAGS or tag in _RAW_TAGS:
            return
        level = self._depth.get(tag, 0) + 1
        self._depth[tag] = level
        if len(self._stack) < _MAX_DEPTH and (
            hides
            or tag == "label"
            or self._box is not None
            or el_id in _STATE_IDS
            or not classes.isdisjoint(_STATE_CLASSES)
        ):
            self._maybe_push(_Tag(tag, attr, el_id, classes, hidden), level, top)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        handler = self._END_HANDLERS.get(tag)
        if handler is not None:
            handler(self)
        level = self._depth.get(tag, 0)
        if not level:
            return  # a stray end tag; browsers ignore it too
        self._depth[tag] = level - 1
        if not self._on_stack.get(tag):
            return
        stack = self._stack
        for index in range(len(stack) - 1, -1, -1):
            node = stack[index]
            if node.tag != tag:
                continue
            if node.level >= level:
                # Close it, and whatever was left unclosed inside it (<li>, <label>), as a
                # browser would.
                while len(stack) > index:
                    self._close(stack.pop())
            # Else the end tag belongs to an unremarkable element nested inside this one.
            break

    def handle_data(self, data: str) -> None:
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

    def end_of_input(self) -> None:
        """
        Handle what :meth:`feed` left unparsed, the HTML5 way, instead of :meth:`close`.

        ``feed()`` stops at the first construct with no end in sight (a tag without ">", a
        comment without "-->") and buffers the rest. ``close()`` would then step through that
        rest one "<" at a time, rescanning to the end each time: quadratic, and a minute of
        blocked event loop for 100 KB of "<a b='" on the parsers before CPython's fix for
        gh-135462. HTML5 simply drops a tag cut off by the end of the input and ends an open
        comment there, which is what this does (and what the fixed parsers do).
        """
        rest, self.rawdata = self.rawdata, ""
        if not rest:
            return
        if self._in_script or self._in_style:
            self.handle_data(rest)  # the unterminated script or style runs to the end
        elif not (rest[0] == "<" and len(rest) > 1 and (rest[1].isalpha() or rest[1] in "/!?")):
            # Plain text held back in case a character reference was cut in half.
            self.handle_data(unescape(rest))

    def finish(self) -> None:
        """Close whatever a truncated page left open, so its text is not lost."""
        self._end_textarea()
        self._end_select()
        while self._stack:
            self._close(self._stack.pop())
        self._flush()

    # -- helpers of the callbacks --

    @staticmethod
    def _hides(attr: dict[str, str], classes: frozenset[str]) -> bool:
        """Return whether an element's own attributes hide it (and so its text)."""
        if "hidden" in attr or not classes.isdisjoint(_HIDING_CLASSES):
            return True
        style = attr.get("style")
        if not style:
            return False
        style = style.replace(" ", "").lower()
        return "display:none" in style or "visibility:hidden" in style

    def _flush(self) -> None:
        if self._segment:
            text = _collapse("".join(self._segment))
            self._segment = []
            if text:
                self.segments.append(text)

    def _note_signals(self, attr: dict[str, str], el_id: str, classes: frozenset[str]) -> None:
        if (
            el_id in _BOT_IDS
            or "cvf-aamation-container" in classes
            or attr.get("data-challenge-type", "").upper().startswith("WAF")
        ):
            self.bot_signal = True
        if el_id in _APPROVAL_IDS or "transaction-approval-word-break" in classes:
            self.approval_signal = True

    def _maybe_push(self, info: _Tag, level: int, top: _Node | None) -> None:
        """Put the element on the stack if it changes how the text inside it is read."""
        name, el_id, classes = info.name, info.el_id, info.classes
        box = self._box
        hint = next((_OTP_WRAPPER_CLASSES[c] for c in classes if c in _OTP_WRAPPER_CLASSES), None)
        opens_box = (
            box is None
            and not info.hidden
            and bool(el_id or classes)
            and (
                el_id in _ERROR_BOX_IDS
                or el_id in _WARNING_BOX_IDS
                or not classes.isdisjoint(_ERROR_BOX_CLASSES)
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
        node = _Node(name, level, top)
        node.hidden = info.hidden
        node.in_cvf = node.in_cvf or el_id == "cvf-page-content"
        node.hint = hint or node.hint
        if name == "label":
            self.labels.append(_Label(for_id_l=info.attr.get("for", "").strip().lower()))
            node.label = len(self.labels) - 1
        if opens_box:
            self._box = _Box(warning=el_id in _WARNING_BOX_IDS)
            node.opens_box = True
        elif box is not None and in_box:
            if name == "li":
                box.item = []
                box.items.append(box.item)
                node.is_item = True
            else:
                node.heading = True
        self._stack.append(node)
        self._on_stack[name] = self._on_stack.get(name, 0) + 1

    def _close(self, node: _Node) -> None:
        self._on_stack[node.tag] -= 1
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
        attr = info.attr
        self.forms.append(
            _Form(
                action=attr.get("action", ""),
                method=attr.get("method", ""),
                form_id=attr.get("id") if "id" in attr else None,
                form_name=attr.get("name") if "name" in attr else None,
                classes=info.classes,
            )
        )
        self._form = len(self.forms) - 1

    def _start_input(self, info: _Tag) -> None:
        attr = info.attr
        type_l = (attr.get("type") or "text").strip().lower()
        name = attr.get("name", "")
        self.inputs.append(
            _Input(self._form, type_l, name.strip().lower(), info.el_id, info.hidden)
        )
        form = self.forms[self._form] if self._form is not None else None
        if type_l == "radio":
            value = attr.get("value", "on")
            top = self._stack[-1] if self._stack else None
            self.radios.append(
                _Radio(
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
            _Img(
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
            value = info.attr.get("value")  # None: the option's text is its value
            self._option = _Option(value=value, selected="selected" in info.attr)

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
            value = option.value if option.value is not None else _collapse("".join(option.parts))
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

    _START_HANDLERS: Final[dict[str, Callable[[_Scanner, _Tag], None]]] = {
        "form": _start_form,
        "input": _start_input,
        "img": _start_img,
        "button": _start_button,
        "select": _start_select,
        "option": _start_option,
        "textarea": _start_textarea,
        "script": _start_script,
        "style": _start_style,
    }
    _END_HANDLERS: Final[dict[str, Callable[[_Scanner], None]]] = {
        "form": _end_form,
        "option": _end_option,
        "select": _end_select,
        "textarea": _end_textarea,
        "script": _end_script,
        "style": _end_style,
    }


def _scan(html: str) -> _Scanner:
    """Parse ``html`` once and return the collected facts; never raises."""
    scanner = _Scanner()
    # Python's parser hands "<![" constructs to _markupbase, which raises AssertionError on
    # unknown keywords ("<![foo["). Browsers read every "<![" in HTML content as a bogus comment
    # up to the next ">", which is what the parser does for "<!-[", so the rewrite changes nothing
    # a browser would show.
    text = html.replace("<![", "<!-[")
    # Belt and braces for other parser versions: a page that still breaks the parser is
    # classified from what was read before the break, never raised to the login.
    with contextlib.suppress(Exception):
        scanner.feed(text)
        scanner.end_of_input()
    scanner.finish()
    return scanner


# --- the checks -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Facts:
    """The scanner's findings, with the queries the checks share."""

    scan: _Scanner
    url: str
    _asks: dict[int, tuple[bool, bool]] | None = None

    def error_text(self) -> str | None:
        """Return Amazon's message boxes, errors before warnings, or None."""
        texts = list(dict.fromkeys(self.scan.error_texts + self.scan.warning_texts))
        return " ".join(texts) or None

    def form(self, index: int | None) -> ParsedForm | None:
        return None if index is None else self.scan.forms[index].parsed()

    def form_index(self, test: Callable[[_Form], bool]) -> int | None:
        return next((i for i, form in enumerate(self.scan.forms) if test(form)), None)

    def input(self, test: Callable[[_Input], bool]) -> _Input | None:
        return next((item for item in self.scan.inputs if test(item)), None)

    def quote(self, phrases: tuple[str, ...]) -> str | None:
        """Return the visible text around the first of ``phrases``, or None."""
        for segment in self.scan.segments:
            found = _find_phrase(segment, phrases)
            if found >= 0:
                # A page without block markup can be one long segment; quote around the match.
                start = max(0, found - _QUOTE_BEFORE)
                return segment[start : found + _QUOTE_AFTER].strip()
        return None

    def box_with(self, phrases: tuple[str, ...]) -> str | None:
        """Return the message boxes if they contain one of ``phrases``."""
        text = self.error_text()
        return text if text and _find_phrase(text, phrases) >= 0 else None

    def asks(self, index: int) -> tuple[bool, bool]:
        """Return whether form ``index`` shows an e-mail field and a real password field."""
        if self._asks is None:
            # One pass for all forms: a page of many forms must not cost forms x inputs.
            self._asks = {}
            for item in self.scan.inputs:
                if item.form is None or not item.shown_to_user:
                    continue
                email, password = self._asks.get(item.form, (False, False))
                if item.type_l == "password":
                    password = True
                elif item.name_l == "email" and item.type_l not in {"hidden", "submit", "button"}:
                    email = True
                self._asks[item.form] = (email, password)
        return self._asks.get(index, (False, False))

    def has_real_password(self) -> bool:
        return any(item.type_l == "password" and item.shown_to_user for item in self.scan.inputs)

    def resolve(self, src: str) -> str:
        if not self.url:
            return src
        try:
            return urljoin(self.url, src)
        except ValueError:  # a malformed page URL (bad IPv6 host) must not break the check
            return src

    def url_path_l(self) -> str:
        return self.url.split("?", 1)[0].split("#", 1)[0].lower()


def _authorization_code(url: str) -> str | None:
    """Return the non-empty ``openid.oa2.authorization_code`` of ``url``, or None."""
    if _CODE_PARAM not in url:
        return None
    # The code sits in the query; a fragment is read too, in case a redirect ever moves it there.
    query = url.split("?", 1)[1] if "?" in url else url
    for key, value in parse_qsl(query.replace("#", "&")):
        if key == _CODE_PARAM and value.strip():
            return value.strip()
    return None


def _check_lock_structure(facts: _Facts) -> Page | None:
    """Find the forgot-password form, OTP challenge options, or a lockout in Amazon's box."""
    forgot = facts.form_index(lambda f: f.name_l == "forgotpassword")
    challenge = facts.input(lambda i: i.name_l == "otpchallengeoptions")
    if forgot is not None or challenge is not None:
        message = facts.error_text() or facts.quote(_LOCK_PHRASES)
        return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=message)
    boxed = facts.box_with(_LOCK_PHRASES)
    if boxed:
        return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=boxed)
    return None


def _captcha_page(facts: _Facts, kind: CaptchaKind, index: int | None, imgs: list[_Img]) -> Page:
    src = next((img.src for img in imgs if img.src), None)
    asks_email = asks_password = False
    if kind is CaptchaKind.SIGN_IN and index is not None:
        # The sign-in captcha is answered together with the password; the login needs to know.
        asks_email, asks_password = facts.asks(index)
    return Page(
        kind=PageKind.CAPTCHA,
        captcha_kind=kind,
        form=facts.form(index),
        captcha_url=facts.resolve(src) if src else None,
        error_message=facts.error_text(),
        asks_for_email=asks_email,
        asks_for_password=asks_password,
    )


def _robot_check(facts: _Facts) -> Page | None:
    """Find the robot check: ``form[action$=validateCaptcha]``, ``input#captchacharacters``."""
    scan = facts.scan
    robot_input = facts.input(lambda i: i.id_l.startswith("captchacharacters"))
    index = facts.form_index(lambda f: f.action_path_l.endswith("validatecaptcha"))
    if index is None and robot_input is not None:
        index = robot_input.form
    if index is None and robot_input is None:
        return None
    imgs = [i for i in scan.imgs if i.form == index and "captcha" in i.src.lower()]
    imgs += [i for i in scan.imgs if "/captcha/" in i.src.lower()]
    return _captcha_page(facts, CaptchaKind.ROBOT_CHECK, index, imgs)


def _cvf_captcha(facts: _Facts, *, by_image: bool) -> Page | None:
    """
    Find the CVF image captcha ("Authentication required").

    :param by_image: Also accept just a ``captcha`` picture inside ``#cvf-page-content``; that
        weaker signal is only tried after the sign-in captcha's own ids.
    """
    scan = facts.scan
    cvf_input = facts.input(lambda i: i.name_l == "cvf_captcha_input")
    index = facts.form_index(lambda f: "cvf-widget-form-captcha" in f.classes)
    if index is None and cvf_input is not None:
        index = cvf_input.form
    imgs = [i for i in scan.imgs if i.alt_l == "captcha" and i.in_cvf]
    if index is None and cvf_input is None:
        if not (by_image and imgs):
            return None
        index = imgs[0].form
    imgs += [i for i in scan.imgs if i.form == index and "captcha" in i.alt_l]
    return _captcha_page(facts, CaptchaKind.CVF, index, imgs)


def _sign_in_captcha(facts: _Facts) -> Page | None:
    """Find the sign-in form's captcha: ``img#auth-captcha-image``, ``input[name=guess]``."""
    scan = facts.scan
    guess = facts.input(
        lambda i: i.id_l == "auth-captcha-guess" or (i.name_l == "guess" and i.type_l != "hidden")
    )
    image = next((i for i in scan.imgs if i.id_l == "auth-captcha-image"), None)
    if guess is None and image is None:
        return None
    index = guess.form if guess is not None else None
    if index is None and image is not None:
        index = image.form
    if index is None:
        index = facts.form_index(lambda f: f.name_l == "signin")
    imgs = [image] if image is not None else []
    imgs += [i for i in scan.imgs if i.form == index and "captcha" in (i.alt_l + i.src.lower())]
    return _captcha_page(facts, CaptchaKind.SIGN_IN, index, imgs)


def _check_captcha(facts: _Facts) -> Page | None:
    """Find the robot check, the CVF image captcha, or the captcha in the sign-in form."""
    return (
        _robot_check(facts)
        or _cvf_captcha(facts, by_image=False)
        or _sign_in_captcha(facts)
        or _cvf_captcha(facts, by_image=True)
    )


def _check_mfa(facts: _Facts) -> Page | None:
    """Find two-step verification: ``form#auth-mfa-form``, ``input#auth-mfa-otpcode``."""
    index = facts.form_index(lambda f: f.id_l == "auth-mfa-form")
    if index is None:
        otp = facts.input(lambda i: i.id_l == "auth-mfa-otpcode")
        if otp is not None:
            index = otp.form
        else:
            index = facts.form_index(lambda f: f.fields.get("appAction") == "SIGNIN_MFA")
            if index is None:
                return None
    return Page(kind=PageKind.MFA, form=facts.form(index), error_message=facts.error_text())


_TEXT_METHODS: Final = (
    (frozenset({"authenticator", "totp"}), "TOTP"),
    (frozenset({"sms", "text"}), "SMS"),
    (frozenset({"voice", "call"}), "VOICE"),
    (frozenset({"email"}), "EMAIL"),
)
_WORD_RE: Final = re.compile(r"[a-z]+")


def _method_from_text(text: str) -> str | None:
    """Guess a device's method from its label ("Text message to ***-123") or value."""
    words = set(_WORD_RE.findall(text.lower().replace("e-mail", "email")))
    for keys, method in _TEXT_METHODS:
        if not words.isdisjoint(keys):
            return method
    return None


def _otp_devices(facts: _Facts, index: int, *, claims: bool) -> tuple[OtpDevice, ...]:
    scan = facts.scan
    by_for = {label.for_id_l: label for label in scan.labels if label.for_id_l}
    devices: list[OtpDevice] = []
    for radio in scan.radios:
        if radio.name_l != "otpdevicecontext" and not (claims and radio.form == index):
            continue
        method = radio.hint
        if method is None and radio.label is not None:
            method = _method_from_text("".join(scan.labels[radio.label].parts))
        if method is None and radio.id_l in by_for:
            method = _method_from_text("".join(by_for[radio.id_l].parts))
        if method is None:
            method = _method_from_text(radio.value)
        devices.append(OtpDevice(value=radio.value, method=method or "UNKNOWN"))
    return tuple(devices)


def _check_otp_choice(facts: _Facts) -> Page | None:
    """Find the OTP device chooser (``form#auth-select-device-form``) or claims picker."""
    index = facts.form_index(lambda f: f.id_l == "auth-select-device-form")
    claims = False
    if index is None:
        index = facts.form_index(lambda f: f.name_l == "claimspicker")
        claims = index is not None
    if index is None:
        return None
    return Page(
        kind=PageKind.OTP_METHOD_CHOICE,
        form=facts.form(index),
        error_message=facts.error_text(),
        otp_devices=_otp_devices(facts, index, claims=claims),
    )


def _check_approval(facts: _Facts) -> Page | None:
    """Find CVF approval: polling, verification-code or resend forms, or an approval URL."""
    by_id = {form.id_l: i for i, form in reversed(list(enumerate(facts.scan.forms)))}
    # Polling first: while the user approves on the phone, that is the form to follow.
    index = next((by_id[i] for i in _APPROVAL_FORM_IDS if i in by_id), None)
    if index is None:
        index = facts.form_index(lambda f: "/ap/cvf/approval" in f.action.lower())
    if (
        index is None
        and not facts.scan.approval_signal
        and "/ap/cvf/approval" not in facts.url_path_l()
    ):
        return None
    return Page(kind=PageKind.APPROVAL, form=facts.form(index), error_message=facts.error_text())


def _check_account_missing(facts: _Facts) -> Page | None:
    """Find Amazon's offer to create an account: ``form#intent-confirmation-form``."""
    if facts.form_index(lambda f: f.id_l == "intent-confirmation-form") is None:
        return None
    return Page(kind=PageKind.ACCOUNT_MISSING, error_message=facts.error_text())


def _check_passkey(facts: _Facts) -> Page | None:
    """Find a forced passkey: the phrase is visible and there is no password to type."""
    if facts.has_real_password():
        return None
    message = facts.box_with(_PASSKEY_PHRASES) or facts.quote(_PASSKEY_PHRASES)
    if message is None:
        return None
    return Page(kind=PageKind.PASSKEY, error_message=message)


def _check_sign_in(facts: _Facts) -> Page | None:
    """Find a sign-in form (``form[name=signIn]``, ``form#ap_login_form``) that asks."""
    for index, form in enumerate(facts.scan.forms):
        if form.name_l != "signin" and form.id_l != "ap_login_form":
            continue
        email, password = facts.asks(index)
        if email or password:
            return Page(
                kind=PageKind.SIGN_IN,
                form=form.parsed(),
                error_message=facts.error_text(),
                asks_for_email=email,
                asks_for_password=password,
            )
    return None


def _check_bot(facts: _Facts) -> Page | None:
    """Find an AWS WAF / JavaScript challenge or a CVF "aamation" puzzle."""
    aamation = facts.form_index(lambda f: f.id_l == "cvf-aamation-challenge-form")
    robot_text = not facts.scan.forms and facts.quote(_ROBOT_PHRASES) is not None
    if facts.scan.bot_signal or aamation is not None or robot_text:
        return Page(kind=PageKind.BOT_CHALLENGE, error_message=facts.error_text())
    return None


def _check_lock_text(facts: _Facts) -> Page | None:
    """Find a lockout or "unusual activity" message anywhere in the visible text."""
    quote = facts.quote(_LOCK_PHRASES)
    if quote is None:
        return None
    return Page(kind=PageKind.ACCOUNT_LOCKED, error_message=facts.error_text() or quote)


def _check_verify_code(facts: _Facts) -> Page | None:
    """Find a CVF "enter the code we sent" form (``form[action=verify]`` with ``code``)."""
    index = facts.form_index(lambda f: f.action_path_l.endswith("verify") and "code" in f.fields)
    if index is None:
        return None
    return Page(kind=PageKind.APPROVAL, form=facts.form(index), error_message=facts.error_text())


#: The checks, most specific first. Lockout by Amazon's own message box comes before everything:
#: retrying a locked account makes things worse. Captcha beats sign-in because the sign-in
#: captcha lives inside the sign-in form. Passkey comes before sign-in because a forced-passkey
#: e-mail page still carries an e-mail field. The bot checks come after the forms because the
#: WAF token script can appear on ordinary pages; loose text matches come last.
_CHECKS: Final[tuple[Callable[[_Facts], Page | None], ...]] = (
    _check_lock_structure,
    _check_captcha,
    _check_mfa,
    _check_otp_choice,
    _check_approval,
    _check_account_missing,
    _check_passkey,
    _check_sign_in,
    _check_bot,
    _check_lock_text,
    _check_verify_code,
)


def classify_page(html: str, url: str = "") -> Page:
    """
    Say which Amazon sign-in page ``html`` is.

    A URL carrying a non-empty ``openid.oa2.authorization_code`` is :attr:`PageKind.SUCCESS`
    whatever the body, so a redirect's ``Location`` can be passed with an empty body. Anything
    unrecognised is :attr:`PageKind.UNKNOWN`, with Amazon's message when the page has one.
    Never raises.

    :param html: The response body.
    :param url: The URL the page came from (or a redirect's ``Location``).
    """
    code = _authorization_code(url)
    if code:
        return Page(kind=PageKind.SUCCESS, authorization_code=code)
    facts = _Facts(_scan(html), url)
    for check in _CHECKS:
        page = check(facts)
        if page is not None:
            return page
    return Page(kind=PageKind.UNKNOWN, error_message=facts.error_text())
