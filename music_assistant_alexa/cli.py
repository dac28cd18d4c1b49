"""
The ``music-assistant-alexa`` command line.

For people who want to sign in, check or repair a session outside Music Assistant, and for the
demo on the built-in Amazon simulator. Passwords and 2FA keys come from the environment
(``AMAZON_PASSWORD``, ``AMAZON_2FA_KEY``) or a hidden prompt, never from flags, and nothing
secret is ever printed. Exit codes: 0 ok, 2 bad input, 3 needs the user's action, 4 temporary
failure (and Ctrl-C). ``login --browser`` needs neither: the user signs in in their own browser
and pastes the final page's address (at the prompt, or later with ``--final-url``).

Whatever happens, the output is plain lines (or strict JSON with ``--json``), never a
traceback: an unexpected exception is one "✗" line and exit code 4. Text from Amazon or from the
session files is printed with control characters shown as escapes, so an account name cannot
recolour or rewrite the terminal; a closed pipe (``| head``) ends the output quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import re
import sys
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import aiohttp

from music_assistant_alexa import __version__
from music_assistant_alexa.auth.bounds import strict_json_value
from music_assistant_alexa.auth.clock import SYSTEM_CLOCK, Clock, format_utc
from music_assistant_alexa.auth.endpoints import (
    DEFAULT_MARKETPLACE,
    MARKETPLACES,
    normalise_marketplace,
    resolver_kwargs,
)
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    CaptchaRequiredError,
    ErrorCategory,
    InternalError,
    browser_sign_in_helps,
)
from music_assistant_alexa.auth.http import DEFAULT_PACE
from music_assistant_alexa.auth.refresh import DAY, next_refresh_due
from music_assistant_alexa.auth.session import CALLER_TOLD, AuthSessionManager, SessionStatus
from music_assistant_alexa.auth.store import DEFAULT_LOCK_TIMEOUT, SessionStore
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key
from music_assistant_alexa.cli_wording import CommandLine
from music_assistant_alexa.guide import GUIDE_COMMAND, GuideSlug, command_link

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping, Sequence

_LOGGER = logging.getLogger(__name__)

EXIT_OK: Final = 0
EXIT_BAD_INPUT: Final = 2
EXIT_NEEDS_USER: Final = 3
EXIT_TEMPORARY: Final = 4
_EXIT_FOR: Final = {
    ErrorCategory.BAD_INPUT: EXIT_BAD_INPUT,
    ErrorCategory.NEEDS_USER: EXIT_NEEDS_USER,
    ErrorCategory.TEMPORARY: EXIT_TEMPORARY,
}


def exit_code_for(err: AlexaAuthError) -> int:
    """
    Return the exit code of an error: 2 bad input, 3 needs the user, 4 temporary.

    :param err: The error.
    """
    return _EXIT_FOR[err.category]


class UsageError(Exception):
    """Bad input on the command line (exit code 2)."""


#: Characters that move the cursor, recolour or reorder the terminal: shown as escapes.
_UNPRINTABLE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""
    Return text with control characters shown as escapes (ESC becomes the four characters ``\x1b``).

    Names and messages come from Amazon and from files on disk: printed raw, an escape sequence
    in an account name could recolour the terminal or hide the lines before it.

    :param text: The text.
    """

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def stdin_is_terminal() -> bool:
    """Return whether someone can answer a prompt on standard input."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def default_store() -> Path:
    """Return the default account folder (under ``$XDG_DATA_HOME`` or ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "music-assistant-alexa" / "account"


_SECRETS_HELP: Final = (
    "The password comes from the environment variable AMAZON_PASSWORD and the 2FA key (the "
    "52-character key of your authenticator app, not a 6-digit code) from AMAZON_2FA_KEY; "
    "without them you are asked, hidden. They are never taken as options, never printed and "
    "never stored."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="music-assistant-alexa",
        description="Sign in to Amazon for Alexa, keep the session fresh, and check it.",
        epilog=(
            "Exit codes: 0 ok, 2 bad input, 3 needs your action, 4 temporary failure. "
            f"`{GUIDE_COMMAND}` lists the troubleshooting guide's sections."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"the account's session folder (default: {default_store()})",
    )
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="send every Amazon host to this base URL (the simulator), keeping Amazon's names",
    )
    parser.add_argument(
        "--domain",
        default=None,
        metavar="MARKETPLACE",
        help=(
            f"the Amazon marketplace, one of: {', '.join(MARKETPLACES)}. Default: the one the "
            f"session folder is signed in on, else {DEFAULT_MARKETPLACE}. A folder keeps its "
            "marketplace: a --domain that contradicts it is refused (see switch-marketplace)"
        ),
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=DEFAULT_PACE,
        metavar="SECONDS",
        help="least time between two requests to Amazon (default: %(default)s)",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for another process using the session folder (default: %(default)s)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v: info, -vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = sub.add_parser(
        "login",
        help="sign in (password from AMAZON_PASSWORD, 2FA key from AMAZON_2FA_KEY, or prompts)",
        description=f"Sign in to Amazon and register this app as one device. {_SECRETS_HELP} "
        "When Amazon shows a captcha, the picture's address is printed and its characters "
        "asked for.",
    )
    login.add_argument(
        "--email", required=True, help="the e-mail address (or phone number) you sign in with"
    )
    login.add_argument(
        "--browser",
        action="store_true",
        help="sign in in your own browser and paste the final page's address (no password or "
        "2FA key needed: for passkeys, text-message codes, captcha loops, robot checks)",
    )
    login.add_argument(
        "--final-url",
        default=None,
        metavar="ADDRESS",
        help="with --browser: the address of the page Amazon showed at the end of the sign-in "
        "(finishes the link an earlier `login --browser` printed)",
    )
    status = sub.add_parser(
        "status",
        help="show the stored session",
        description="Show the stored session: account, marketplace, cookie age, refreshes. "
        "Nothing is sent to Amazon.",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of lines")
    sub.add_parser(
        "refresh",
        help="renew the cookies from the stored session",
        description="Renew the website cookies and the csrf from the stored device (two "
        "requests; no password).",
    )
    sub.add_parser(
        "switch-marketplace",
        help="move the stored session to another marketplace",
        description="Move the stored session to another Amazon marketplace: new cookies for it "
        "from the stored device (two requests; no password, no new device).",
    ).add_argument("marketplace", metavar="MARKETPLACE", help="the marketplace, e.g. amazon.de")
    sub.add_parser(
        "totp",
        help="show the current one-time code of the 2FA key",
        description="Show the code your 2FA key (AMAZON_2FA_KEY, or a hidden prompt) makes "
        "now, to compare with your authenticator app. Nothing is sent to Amazon.",
    )
    doctor = sub.add_parser(
        "doctor",
        help="run every health check",
        description="Run every health check: one line each, with the guide section of every "
        "problem. It asks Amazon whether the device and the session work and which "
        "marketplace the account belongs to (three requests); AMAZON_2FA_KEY, when set, "
        "is checked for its format.",
    )
    doctor.add_argument("--json", action="store_true", help="print the redacted report as JSON")
    doctor.add_argument("--offline", action="store_true", help="do not ask Amazon")
    doctor.add_argument(
        "--ma-data",
        type=Path,
        default=None,
        help="also check the Alexa players' session file in Music Assistant's data folder",
    )
    doctor.add_argument(
        "--username",
        default=None,
        help="the e-mail address in the alexa provider's settings (default: this session's)",
    )
    reset = sub.add_parser(
        "reset",
        help="back up, remove the device at Amazon, remove the session",
        description="Complete re-authentication: back up the session folder, remove the "
        "device at Amazon, and remove the session's files (the sign-in attempt record stays).",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sim = sub.add_parser(
        "simulator",
        help="run the Amazon simulator on loopback",
        description="Run the Amazon simulator with one account on 127.0.0.1 until Ctrl-C; the "
        "first line says where (point --endpoint at it).",
    )
    sim.add_argument("--port", type=int, default=0, help="the port (default: 0, any free one)")
    sim.add_argument("--email", required=True, help="the simulated account's e-mail address")
    sim.add_argument("--password", required=True, help="its password (a test value)")
    sim.add_argument(
        "--totp-secret", required=True, help="its authenticator key (base32, a test value)"
    )
    sim.add_argument(
        "--marketplace",
        default=DEFAULT_MARKETPLACE,
        help="the marketplace the account belongs to (default: %(default)s)",
    )
    sim.add_argument(
        "--blocks",
        choices=sorted(SIMULATED_BLOCKS),
        default=None,
        help="stop every automatic sign-in the way Amazon does for some accounts (a passkey "
        "only, codes by text message only, a captcha after every answer, a robot check); "
        "default: none",
    )
    sub.add_parser(
        "demo",
        help="sign in, check and refresh against the built-in simulator",
        description="Sign in, show the status, refresh and show it again, against the "
        "built-in simulator, in a temporary folder removed at the end. Nothing reaches Amazon.",
    )
    ma_path_help = (
        "the music_assistant package folder of Music Assistant (default: the one this "
        "Python imports)"
    )
    install = sub.add_parser(
        "install-provider",
        help="add the provider to Music Assistant",
        description="Write the provider folder into a Music Assistant installation; run it "
        "again to upgrade. Restart Music Assistant afterwards.",
    )
    install.add_argument("--ma-path", type=Path, default=None, metavar="DIR", help=ma_path_help)
    uninstall = sub.add_parser(
        "uninstall-provider",
        help="remove it from Music Assistant",
        description="Remove exactly the files install-provider wrote.",
    )
    uninstall.add_argument("--ma-path", type=Path, default=None, metavar="DIR", help=ma_path_help)
    guide = sub.add_parser(
        "guide",
        help="list the troubleshooting guide's sections, or print one",
        description="List the troubleshooting guide's sections, or print one as text.",
    )
    guide.add_argument("section", nargs="?", help="the section to print (its slug)")
    handoff = sub.add_parser(
        "handoff",
        help="write the session into the file Music Assistant's Alexa players use",
        description="Write the session's cookies into the file Music Assistant's own Alexa "
        "player provider restores its login from (checked with Amazon first; the old file "
        "kept as .bak).",
    )
    handoff.add_argument(
        "--ma-data",
        type=Path,
        required=True,
        metavar="DIR",
        help="Music Assistant's data folder (/data in Docker)",
    )
    handoff.add_argument(
        "--username", required=True, help="the e-mail address in the alexa provider's settings"
    )
    handoff.add_argument(
        "--force",
        action="store_true",
        help="replace a file the alexa provider's own sign-in wrote, even while it still works",
    )
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, clock: Clock = SYSTEM_CLOCK
) -> int:
    """
    Run one command and return its exit code.

    :param argv: Arguments (default: ``sys.argv[1:]``).
    :param out: Where to print (default: standard output).
    :param clock: The clock for codes, ages and waits (tests pass a fake one).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.clock = clock
    stream = out or sys.stdout
    before = set(logging.getLogger().handlers)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Every error and warning the auth core logs for its caller is printed as a line of
        # its own here: the log would say it a second time, on standard error. (Only on the
        # handler made here: a host's own logging is not ours to filter.)
        for handler in set(logging.getLogger().handlers) - before:
            handler.addFilter(_not_told)
    args.line = CommandLine(_folder_options(args))
    printer = _Printer(stream, args.line)
    try:
        if args.domain is not None:
            args.domain = normalise_marketplace(args.domain)
    except ValueError as err:
        printer(f"✗ {err}")
        return EXIT_BAD_INPUT
    return _run(args, printer)


def _not_told(record: logging.LogRecord) -> bool:
    """Let through the log records that do not repeat what the command prints anyway."""
    return not getattr(record, CALLER_TOLD, False)


def _folder_options(args: argparse.Namespace) -> list[str]:
    """Return the global options a fix's command must repeat to reach the same session."""
    options: list[str] = []
    if args.store is not None:
        options += ["--store", str(args.store)]
    if args.endpoint:
        options += ["--endpoint", args.endpoint]
    return options


def _run(args: argparse.Namespace, printer: _Printer) -> int:
    """Run one command, turning every way it can end into a line and an exit code."""
    try:
        _ask_before_the_loop(args)
        return asyncio.run(_COMMANDS[args.command](args, printer))
    except UsageError as err:
        printer(f"✗ {err}")
        return EXIT_BAD_INPUT
    except AlexaAuthError as err:
        printer.error(err)
        return exit_code_for(err)
    except KeyboardInterrupt:
        printer("interrupted")
        return EXIT_TEMPORARY
    except Exception as err:  # the last line of defence: never a traceback
        _LOGGER.debug("Unexpected failure", exc_info=True)
        wrapped = InternalError.wrapping(err)
        printer.error(wrapped)
        return exit_code_for(wrapped)


class _Printer:
    """Prints lines; the only way this module writes output."""

    def __init__(self, stream: TextIO, line: CommandLine | None = None) -> None:
        self.stream = stream
        #: How the user called us: fixes name commands that reach the same session.
        self.line = line or CommandLine()
        #: The reader went away (``| head``): nothing more is printed.
        self.closed = False

    def __call__(self, line: str = "") -> None:
        if self.closed:
            return
        try:
            print(printable(line), file=self.stream, flush=True)
        except BrokenPipeError:
            self.closed = True
            _silence(self.stream)

    def error(self, err: AlexaAuthError) -> None:
        """Print an error as one line: what happened, Amazon's words, the guide's section."""
        parts = [self.line.rewrite(err.message)]
        if err.amazon_text:
            parts.append(f'Amazon said: "{err.amazon_text}".')
        parts.append(f"How to fix it: {command_link(err.guide_slug)}")
        self(f"✗ {' '.join(parts)}")


# --- shared plumbing ---------------------------------------------------------------------------


def _session(endpoint: str | None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(**resolver_kwargs(endpoint))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def _manager(
    args: argparse.Namespace, session: aiohttp.ClientSession, marketplace: str
) -> AuthSessionManager:
    manager = AuthSessionManager(
        session=session,
        store_dir=args.store or default_store(),
        marketplace=marketplace,
        endpoint=args.endpoint,
        clock=args.clock,
        pace=args.pace,
    )
    manager.store.lock_timeout = max(0.0, args.lock_timeout)
    return manager


async def _stored_marketplace(folder: Path) -> str | None:
    """
    Return the marketplace a session folder is signed in on, or None (nothing moved or locked).

    :param folder: The session folder.
    """
    return (await SessionStore(folder).peek()).marketplace


async def _session_marketplace(args: argparse.Namespace) -> str:
    """
    Return the marketplace a command works on: the folder's, or ``--domain`` for a new session.

    :param args: The parsed command line (``store``, ``domain``).
    :raises UsageError: ``--domain`` contradicts the marketplace the folder is signed in on.
    """
    folder = args.store or default_store()
    stored = await _stored_marketplace(folder)
    if stored is None:
        return str(args.domain or DEFAULT_MARKETPLACE)
    if args.domain is not None and args.domain != stored:
        line: CommandLine = args.line
        msg = (
            f"The session in {folder} is signed in on {stored}, not {args.domain}. Leave out "
            "--domain (the folder remembers its marketplace), or move the session to "
            f"{args.domain}: {line.command('switch-marketplace', args.domain)}"
        )
        raise UsageError(msg)
    return stored


async def _with_manager(
    args: argparse.Namespace,
    body: Callable[[AuthSessionManager], Coroutine[Any, Any, int]],
    *,
    marketplace: str | None = None,
) -> int:
    """
    Run a command's body with the session's manager.

    :param args: The parsed command line.
    :param body: The command.
    :param marketplace: The marketplace to open the session on (default: the folder's).
    """
    market = marketplace or await _session_marketplace(args)
    async with _session(args.endpoint) as session:
        manager = _manager(args, session, market)
        try:
            # A folder that is not a session folder is refused before anything reads, sends or
            # changes anything (exit code 2).
            await asyncio.to_thread(manager.store.check_ours)
            return await body(manager)
        finally:
            await manager.close()


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader left at /dev/null, so the exit's flush does not complain."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _secret_from_env(name: str, prompt: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if not stdin_is_terminal():
        msg = f"Set {name} or run in a terminal to be asked for it."
        raise UsageError(msg)
    return getpass.getpass(prompt)


_KEY_VARIABLE: Final = "AMAZON_2FA_KEY"
_PASSWORD_VARIABLE: Final = "AMAZON_PASSWORD"  # noqa: S105 - a variable's name, not a password


def _read_key() -> TotpKey:
    return parse_totp_key(_secret_from_env(_KEY_VARIABLE, "Amazon 2FA key (hidden): "))


def _ask_before_the_loop(args: argparse.Namespace) -> None:
    """
    Ask for what the command needs from the user before the event loop runs.

    Outside the loop, Ctrl-C at a hidden prompt ends the command at once (inside it, the loop's
    own Ctrl-C handling would wait for Enter first), and the terminal's echo is restored.
    """
    args.confirmed = True
    in_browser = args.command == "login" and args.browser
    if args.command == "login" and args.final_url is not None and not in_browser:
        msg = "--final-url belongs to a sign-in in the browser: add --browser."
        raise UsageError(msg)
    # A sign-in in the browser needs neither the password nor the 2FA key.
    needed = {"login": (_KEY_VARIABLE, _PASSWORD_VARIABLE), "totp": (_KEY_VARIABLE,)}
    wanted = () if in_browser else needed.get(args.command, ())
    missing = [name for name in wanted if not os.environ.get(name)]
    if missing and not stdin_is_terminal():
        # Everything missing is said at once: nobody should fix one, run again, meet the next.
        which = " and ".join(missing)
        them = "them" if len(missing) > 1 else "it"
        msg = f"Set {which}, or run this in a terminal to be asked for {them} (hidden)."
        raise UsageError(msg)
    if _KEY_VARIABLE in wanted:
        args.key = _read_key()  # validated before the password is even asked for
    if _PASSWORD_VARIABLE in wanted:
        args.password = _secret_from_env(_PASSWORD_VARIABLE, "Amazon password (hidden): ")
    if args.command == "reset" and not args.yes:
        if not stdin_is_terminal():
            msg = "Refusing to reset without --yes when nobody can confirm."
            raise UsageError(msg)
        store = args.store or default_store()
        question = f"Back up and wipe {store}, and remove the device at Amazon? [y/N] "
        args.confirmed = read_answer(question).strip().lower() in ("y", "yes")


def read_answer(prompt: str) -> str:
    """
    Print a prompt and read one line from standard input.

    The line is read from the file descriptor itself, not through ``sys.stdin``'s buffer: the
    captcha prompt reads in a daemon thread, and a buffered read would hold a lock the exit after
    Ctrl-C then waits for (and aborts on).

    :param prompt: The question.
    :raises EOFError: Standard input is closed.
    """
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError) as err:
        raise EOFError from err
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1024)
        if not chunk:
            if not line:
                raise EOFError
            break
        line += chunk
    return line.decode(errors="replace").rstrip("\r\n")


# --- commands ----------------------------------------------------------------------------------


async def _cmd_login(args: argparse.Namespace, out: _Printer) -> int:
    if args.browser:
        return await _cmd_login_in_browser(args, out)
    key: TotpKey = args.key
    password: str = args.password

    async def body(manager: AuthSessionManager) -> int:
        ask = read_answer if stdin_is_terminal() else None
        try:
            await login_interactively(manager, args.email, password, key, out, input_fn=ask)
        except AlexaAuthError as err:
            if not browser_sign_in_helps(err):
                raise
            out.error(err)
            out(f"  Or sign in in your browser: {_browser_command(args)}")
            return exit_code_for(err)
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body)


# --- the sign-in in your own browser -----------------------------------------------------------

#: Pastes the browser sign-in asks for before it gives up on a terminal (a bad one asks again).
MAX_PASTES: Final = 3
#: ``simulator --blocks``: what stops the simulated account's automatic sign-in, as Amazon
#: would, named by the switch of the simulator's scenario that plays it. The sign-in in the
#: browser gets past each (a person's browser: passkey, text message, page scripts).
SIMULATED_BLOCKS: Final = {
    "passkey": "passkey_forced",
    "text-message": "sms_only",
    "captcha-loop": "captcha_loop",
    "robot-wall": "waf_challenge",
}


async def _cmd_login_in_browser(args: argparse.Namespace, out: _Printer) -> int:
    async def body(manager: AuthSessionManager) -> int:
        if args.final_url is not None:
            await manager.finish_browser_sign_in(args.final_url)
        else:
            ask = read_answer if stdin_is_terminal() else None
            command = _browser_command(args, final_url=True)
            if not await sign_in_in_browser(manager, args.email, out, input_fn=ask, later=command):
                return EXIT_NEEDS_USER
        out("✓ Signed in.")
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body)


async def sign_in_in_browser(
    manager: AuthSessionManager,
    email: str,
    out: _Printer,
    *,
    input_fn: Callable[[str], str] | None,
    later: str,
) -> bool:
    """
    Sign in in the user's own browser: print the link, read the final page's address, finish.

    :param manager: The account's session manager.
    :param email: The account's e-mail address (the session's label).
    :param out: Where to print.
    :param input_fn: Reads the pasted address; None when nobody can paste (no terminal).
    :param later: The command that finishes the sign-in later, with ``--final-url``.
    :returns: False when nobody can paste here: the link and how to go on were printed.
    :raises AlexaAuthError: The sign-in could not be finished (a bad address is asked for again,
        up to :data:`MAX_PASTES` times).
    """
    link = await manager.start_browser_sign_in(email=email)
    until = format_utc(link.expires_at)
    out(f"Sign in to Amazon ({link.marketplace}) in your own browser:")
    out("  1. Open this address in a browser (on this or any other device):")
    out(f"     {link.url}")
    out("  2. Sign in there the way Amazon asks: passkey, text-message code and captcha all work.")
    out('  3. Amazon ends on a "page not found" page. Copy the whole address of that page from')
    out(f"     the address bar. Paste it within a few minutes; this link works until {until}.")
    pastes = 0
    while True:
        pasted = await _read_paste(input_fn)
        if pasted is None:
            _print_how_to_finish_later(out, later, until)
            return False
        pastes += 1
        try:
            await manager.finish_browser_sign_in(pasted, attempt_id=link.attempt_id)
        except AlexaAuthError as err:
            if err.category is not ErrorCategory.BAD_INPUT or pastes >= MAX_PASTES:
                raise
            out.error(err)
        else:
            return True


async def _read_paste(input_fn: Callable[[str], str] | None) -> str | None:
    """Return the pasted address, or None when nobody can paste (no terminal, input closed)."""
    if input_fn is None:
        return None
    try:
        return await _ask(input_fn, "Address of the final page: ")
    except EOFError:
        return None


def _print_how_to_finish_later(out: _Printer, later: str, until: str) -> None:
    out("There is no terminal here to paste the address into. After signing in, run (before")
    out(f"{until}, with the address in single quotes):")
    out(f"  {later}")
    out(f"  More: {command_link(GuideSlug.BROWSER_SIGN_IN)}")


def _browser_command(args: argparse.Namespace, *, final_url: bool = False) -> str:
    """Return the command that signs this account in in the browser (finishing with an address)."""
    # --domain only when given: otherwise the folder's own marketplace applies, as for any command.
    words = ["--domain", args.domain] if args.domain is not None else []
    words += ["login", "--browser", "--email", args.email]
    if final_url:
        words += ["--final-url", "<address of the final page>"]
    line: CommandLine = args.line
    return line.command(*words)


async def login_interactively(  # noqa: PLR0913 - the pieces of one interactive sign-in
    manager: AuthSessionManager,
    email: str,
    password: str,
    key: TotpKey,
    out: _Printer,
    *,
    input_fn: Callable[[str], str] | None,
) -> None:
    """
    Sign in, asking the user to solve captchas Amazon shows on the way.

    :param manager: The account's session manager.
    :param email: Amazon e-mail address.
    :param password: Amazon password.
    :param key: The validated 2FA key.
    :param out: Where to print.
    :param input_fn: Reads the user's captcha answer; None when nobody can answer (no
        terminal): a captcha then ends the sign-in with the picture's link and how to go on.
    :raises CaptchaRequiredError: A captcha nobody can answer here, or a refusal.
    """
    out(f"Signing in to Amazon ({manager.hosts.marketplace.domain}) ...")
    captcha: CaptchaRequiredError | None = None
    try:
        await manager.login(email, password, key)
    except CaptchaRequiredError as err:
        captcha = err
    while captcha is not None:
        if not captcha.captcha_url:
            # The latest refusal is the one to report ("the captcha has expired", ...).
            raise captcha
        if input_fn is None:
            raise _no_terminal(manager, captcha, out.line)
        out("Amazon wants a captcha solved. Open this picture and type its characters:")
        out(f"  {captcha.captcha_url}")
        try:
            answer = await _ask(input_fn, "Characters: ")
        except EOFError:
            raise _no_terminal(manager, captcha, out.line) from None
        try:
            await manager.answer_captcha(answer)
        except CaptchaRequiredError as again:
            captcha = again
        else:
            captcha = None
    out("✓ Signed in.")


def _no_terminal(
    manager: AuthSessionManager, captcha: CaptchaRequiredError, line: CommandLine
) -> CaptchaRequiredError:
    """Return the error of a captcha nobody can answer here: the picture, and how to go on."""
    not_before = manager.status().login_not_before
    when = f" (from {format_utc(not_before)})" if not_before else ""
    msg = (
        "Amazon wants a picture puzzle solved, and there is no terminal here to type its "
        f"characters into. The picture: {captcha.captcha_url} To go on, run "
        f"`{line.sign_in()}` again in a terminal{when}, where it asks for the "
        "characters, or sign in from Music Assistant's settings, which show the picture."
    )
    return CaptchaRequiredError(msg, amazon_text=captcha.amazon_text, captcha_url=None)


async def _ask(input_fn: Callable[[str], str], prompt: str) -> str:
    """
    Read one answer without holding up Ctrl-C.

    The prompt waits in a daemon thread of its own: Ctrl-C cancels the waiting task at once,
    and nobody waits for the thread (a worker of the event loop's pool would be waited for, so
    Ctrl-C would do nothing until Enter).
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(value or "")

    def ask() -> None:
        value: str | None = None
        error: BaseException | None = None
        try:
            value = input_fn(prompt)
        except BaseException as err:  # noqa: BLE001 - EOFError and the like: the task decides
            error = err
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=ask, name="captcha-prompt", daemon=True).start()
    return await answer


async def _cmd_status(args: argparse.Namespace, out: _Printer) -> int:
    async def body(manager: AuthSessionManager) -> int:
        await manager.restore(validate=False)  # reads the attempt record and history too
        status = manager.status()
        now = manager.clock.time()
        if args.json:
            out(strict_json(status_json(status, now=now)))
        else:
            _print_status(status, out, now=now, reasons=manager.store.quarantine_reasons)
        return EXIT_OK if status.signed_in or status.device_registered else EXIT_NEEDS_USER

    return await _with_manager(args, body)


async def _cmd_refresh(args: argparse.Namespace, out: _Printer) -> int:
    async def body(manager: AuthSessionManager) -> int:
        if not await manager.restore(validate=False):
            out(f"✗ Not signed in: run `{out.line.sign_in()}` first.")
            _print_store_problems(manager.status(), out, now=manager.clock.time())
            return EXIT_NEEDS_USER
        await manager.refresh()
        if manager.refreshed_elsewhere:
            out("✓ Another process renewed the cookies just now; using them.")
        else:
            out("✓ Refreshed the cookies.")
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_switch(args: argparse.Namespace, out: _Printer) -> int:
    try:
        target = normalise_marketplace(args.marketplace)
    except ValueError as err:
        raise UsageError(str(err)) from err
    current = await _session_marketplace(args)  # refuses a --domain that contradicts the folder
    folder = args.store or default_store()
    if await _stored_marketplace(folder) is None:
        out(
            f"✗ Not signed in: there is no session to move. Sign in on {target} with "
            f"`{out.line.command('--domain', target, 'login', '--email')} EMAIL`."
        )
        return EXIT_NEEDS_USER
    if current == target:
        out(f"✓ The session is on {target} already.")
        return EXIT_OK

    async def body(manager: AuthSessionManager) -> int:
        await manager.restore(validate=False)
        await manager.refresh()
        out(
            f"✓ Moved the session from {current} to {target}: new cookies from the same device "
            "(no password, no new device)."
        )
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body, marketplace=target)


async def _cmd_totp(args: argparse.Namespace, out: _Printer) -> int:
    key: TotpKey = args.key
    now = args.clock.time()
    out(f"Current code: {key.code_at(now)} (valid for {int(key.seconds_left(now))} more seconds)")
    out("It should match the code your authenticator app shows for Amazon right now.")
    return EXIT_OK


async def _cmd_doctor(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.diagnostics import (  # noqa: PLC0415 - only this command needs it
        CheckStatus,
        build_report,
        render_checks,
        run_checks,
    )
    from music_assistant_alexa.diagnostics.handoff import (  # noqa: PLC0415 - doctor only
        alexa_players_file_checks,
    )

    async def body(manager: AuthSessionManager) -> int:
        with contextlib.suppress(AlexaAuthError):
            await manager.restore(validate=False)
        key = os.environ.get("AMAZON_2FA_KEY")
        checks = await run_checks(manager, totp_key=key, validate=not args.offline)
        if args.ma_data is not None:
            files = await alexa_players_file_checks(
                manager, ma_data=args.ma_data, username=args.username
            )
            checks.extend(files)
        if args.json:
            report = await build_report(manager, checks)
            out(strict_json(report))
        else:
            status = manager.status()
            for line in render_checks(out.line.check(check, status) for check in checks):
                out(line)
            _print_store_problems(manager.status(), out, now=manager.clock.time())
        if any(c.status is CheckStatus.ERROR for c in checks):
            return EXIT_NEEDS_USER
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_reset(args: argparse.Namespace, out: _Printer) -> int:
    if not args.confirmed:
        out("Nothing changed.")
        return EXIT_OK

    async def body(manager: AuthSessionManager) -> int:
        # The attempt record stays on disk: a reset must not hand the next process fresh
        # password attempts, nor end a pause Amazon asked for.
        result = await manager.reset(deregister=True, keep_state=True)
        folder = manager.store.folder
        if not result.removed and not result.had_device:
            out(f"Nothing to reset: {folder} holds no session, and no device is registered.")
            return EXIT_OK
        if result.backup:
            out(f"✓ Backed up the session folder to {result.backup}")
        if result.deregistered:
            out("✓ Removed the device at Amazon.")
        elif result.had_device:
            out(
                f"⚠ Could not remove the device at Amazon ({result.deregister_error}): if it is "
                'still listed under "Your devices" at Amazon, remove it there.'
            )
        if result.removed:
            out(f"✓ Removed from {folder}: {', '.join(result.removed)}.")
        if result.kept:
            out(
                f"  Kept {', '.join(result.kept)}: the sign-in attempt record, so a reset does not "
                "hand out fresh attempts."
            )
        out(f"Sign in again with `{out.line.sign_in()}`.")
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_simulator(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.simulator import AccountSpec, Scenario, serve  # noqa: PLC0415

    try:
        account = AccountSpec(args.email, args.password, args.totp_secret, args.marketplace)
    except ValueError as err:
        raise UsageError(str(err)) from err
    scenario = None
    if args.blocks:
        scenario = Scenario()
        setattr(scenario, SIMULATED_BLOCKS[args.blocks], True)
    await serve(
        port=args.port,
        accounts=[account],
        scenario=scenario,
        ready=lambda url: out(f"listening on {url}"),
    )
    return EXIT_OK


async def _cmd_demo(args: argparse.Namespace, out: _Printer) -> int:
    pace = 0 if args.pace == DEFAULT_PACE else args.pace
    return await run_demo(out, pace=pace, clock=args.clock)


async def run_demo(
    out: _Printer | Callable[[str], None], *, pace: float = 0, clock: Clock = SYSTEM_CLOCK
) -> int:
    """
    Walk login → status → refresh → status against the built-in simulator, in a temp folder.

    :param out: Where to print.
    :param pace: Seconds between requests (the simulator needs no pacing).
    :param clock: The clock of the simulator and the client alike.
    """
    import pyotp  # noqa: PLC0415 - demo only

    from music_assistant_alexa.simulator import AmazonSimulator  # noqa: PLC0415 - demo only

    printer = out if isinstance(out, _Printer) else _FuncPrinter(out)
    email, password = "demo@example.com", "demo-password"
    secret = pyotp.random_base32(length=52)
    with tempfile.TemporaryDirectory(prefix="maa-demo-") as tmp:
        async with AmazonSimulator(clock=clock.time) as sim:
            sim.add_account(email, password, secret)
            printer(f"Amazon simulator listening on {sim.base_url}")
            async with _session(sim.base_url) as session:
                manager = AuthSessionManager(
                    session=session,
                    store_dir=Path(tmp) / "account",
                    endpoint=sim.base_url,
                    clock=clock,
                    pace=pace,
                )
                try:
                    printer("\n[1/4] login")
                    await login_interactively(
                        manager,
                        email,
                        password,
                        parse_totp_key(secret),
                        printer,
                        input_fn=read_answer,
                    )
                    login_requests = sim.request_count()
                    printer(f"  {login_requests} HTTP requests")
                    printer("\n[2/4] status")
                    _print_status(manager.status(), printer, now=clock.time())
                    printer("\n[3/4] refresh")
                    sim.reset_counts()
                    await manager.refresh()
                    printer(f"✓ Refreshed ({sim.request_count()} HTTP requests)")
                    printer("\n[4/4] status")
                    _print_status(manager.status(), printer, now=clock.time())
                    files = ", ".join(sorted(_files(manager.store.folder)))
                    printer(f"\nSession files: {files} (in a temporary folder, removed now).")
                finally:
                    await manager.close()
    return EXIT_OK


class _FuncPrinter(_Printer):
    def __init__(self, func: Callable[[str], None]) -> None:
        self._func = func
        self.line = CommandLine()

    def __call__(self, line: str = "") -> None:
        self._func(line)


def _files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()] if folder.exists() else []


async def _cmd_install(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.ma.install import InstallError, install_provider  # noqa: PLC0415

    try:
        folder = install_provider(args.ma_path)
    except InstallError as err:
        raise UsageError(str(err)) from err
    out(f"✓ Installed the provider into {folder}. Restart Music Assistant to load it.")
    return EXIT_OK


async def _cmd_uninstall(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.ma.install import InstallError, uninstall_provider  # noqa: PLC0415

    try:
        removed = uninstall_provider(args.ma_path)
    except InstallError as err:
        raise UsageError(str(err)) from err
    out(f"✓ Removed {len(removed)} installed file(s)." if removed else "Nothing was installed.")
    return EXIT_OK


async def _cmd_guide(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa import guide_document  # noqa: PLC0415 - only this command needs it

    code = EXIT_OK
    if args.section is None:
        lines = _guide_sections()
    else:
        try:
            lines = [guide_document.section_text(args.section).rstrip("\n")]
        except guide_document.UnknownSectionError as err:
            lines = [f"✗ {err}", *_guide_sections()]
            code = EXIT_BAD_INPUT
    for line in lines:
        out(line)  # a closed pipe (`| head`) ends quietly in the printer itself
    return code


def _guide_sections() -> list[str]:
    from music_assistant_alexa import guide_document  # noqa: PLC0415 - only the guide needs it

    lines = [f"{guide_document.guide_title()}: print a section with `{command_link('SECTION')}`"]
    for section in guide_document.sections():
        if section.level > 1:
            indent = "  " * (section.level - 1)
            lines.append(f"{indent}{section.anchor:<{42 - len(indent)}} {section.title}")
    return lines


async def _cmd_handoff(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.auth.handoff.writer import (  # noqa: PLC0415 - only this command needs it
        AlexaHandoff,
        FileAction,
        HandoffOutcome,
        HandoffSource,
    )

    if not args.ma_data.is_dir():
        msg = (
            f"{args.ma_data} is not a folder: give Music Assistant's data folder (/data in Docker)."
        )
        raise UsageError(msg)

    market = await _session_marketplace(args)
    async with _session(args.endpoint) as session:
        manager = _manager(args, session, market)
        handoff = AlexaHandoff.for_manager(
            manager, session=session, ma_data=args.ma_data, username=args.username, pace=args.pace
        )
        try:
            if not await manager.restore(validate=True):
                out(f"✗ Not signed in: run `{out.line.sign_in()}` first.")
                return EXIT_NEEDS_USER
            report = await handoff.run(HandoffSource.from_manager(manager), force=args.force)
        finally:
            await handoff.close()
            await manager.close()
    result = report.result
    if result.outcome is HandoffOutcome.KEPT_USER_FILE:
        out(
            "⚠ Kept the file the alexa provider's own sign-in wrote: Amazon still accepts it "
            "(--force replaces it)."
        )
    else:
        out(f"✓ Handed the session to Music Assistant's Alexa players ({result.outcome}).")
        if result.backup is not None:
            out(f"  Previous file kept as {result.backup}")
    for found in report.files:
        if found.action is FileAction.REPLACED:
            out(f"  Replaced {found.label} ({found.verdict}); previous kept as {found.backup}")
        elif found.action is FileAction.REPORTED:
            out(
                f"  ⚠ {found.label} belongs to another account and is {found.verdict}: sign in "
                "again in that alexa provider; the file was left as it is."
            )
    out(str(result.path))
    return EXIT_OK


_COMMANDS: Final[dict[str, Callable[[argparse.Namespace, _Printer], Coroutine[Any, Any, int]]]] = {
    "login": _cmd_login,
    "status": _cmd_status,
    "refresh": _cmd_refresh,
    "switch-marketplace": _cmd_switch,
    "totp": _cmd_totp,
    "doctor": _cmd_doctor,
    "reset": _cmd_reset,
    "simulator": _cmd_simulator,
    "demo": _cmd_demo,
    "install-provider": _cmd_install,
    "uninstall-provider": _cmd_uninstall,
    "guide": _cmd_guide,
    "handoff": _cmd_handoff,
}


# --- status output -------------------------------------------------------------------------------


def status_json(status: SessionStatus, *, now: float) -> dict[str, Any]:
    """
    Return the status as JSON-able data (no secrets; the account label is masked).

    :param status: The session status.
    :param now: Epoch seconds, for ages.
    """
    data = asdict(status)
    data["cookie_age_days"] = _age_days(status.cookie_timestamp, now)
    data["next_refresh_due"] = next_refresh_due(status.cookie_timestamp, now=now)
    future = _dated_ahead(status, now)
    data["cookies_dated_ahead_days"] = None if future is None else future / DAY
    return data


def strict_json(data: Any) -> str:
    """
    Return data as strict JSON text (a value that is not a finite number becomes null).

    :param data: JSON-able data.
    """
    return json.dumps(strict_json_value(data), indent=2, sort_keys=True, allow_nan=False)


def _print_status(
    status: SessionStatus,
    out: _Printer,
    *,
    now: float,
    reasons: Mapping[str, str] | None = None,
) -> None:
    label = status.account_label or "your Amazon account"
    if status.signed_in:
        out(f"✓ Signed in as {label} on {status.marketplace}")
    elif status.device_registered:
        out(
            f"⚠ Signed in as {label} on {status.marketplace}, but no website cookies are stored: "
            f"run `{out.line.command('refresh')}` to renew them (Music Assistant renews them by "
            "itself)."
        )
    else:
        out(f"✗ Not signed in ({status.marketplace}).")
    mismatch = status.marketplace_mismatch
    if mismatch is not None:
        out(f"⚠ {out.line.mismatch(mismatch)} — {command_link(GuideSlug.CREDENTIALS)}")
    if status.signed_in or status.device_registered:
        _print_session(status, out, now=now)
    if status.unreadable_files:
        shown = [
            f"{name} ({reasons[name]})" if reasons and name in reasons else name
            for name in status.unreadable_files
        ]
        out(f"  Unreadable session files were moved aside: {', '.join(shown)}")
    _print_store_problems(status, out, now=now)


def _print_session(status: SessionStatus, out: _Printer, *, now: float) -> None:
    if status.device_name:
        out(f"  Device at Amazon: {status.device_name}")
    age = _age_days(status.cookie_timestamp, now)
    if age is not None:
        out(f"  Cookies: {age:.1f} days old")
    if status.last_refresh_at:
        result = "ok" if status.last_refresh_ok else f"failed ({status.last_refresh_error})"
        out(f"  Last refresh: {format_utc(status.last_refresh_at)} ({result})")
    due = next_refresh_due(status.cookie_timestamp, now=now)
    if due:
        out(f"  Next refresh due: {format_utc(due)}")


def _print_store_problems(status: SessionStatus, out: _Printer, *, now: float) -> None:
    """Print what is wrong with the folder or the clock, beyond the session itself."""
    if status.newer_version_files:
        out(
            f"⚠ {', '.join(status.newer_version_files)}: written by a newer version of "
            "music-assistant-alexa, left untouched. Update this one to use the session."
        )
    for name, uid in status.foreign_owned_files:
        what = "The session folder" if name == "." else name
        out(
            f"⚠ {what} belongs to another user (uid {uid}), not to the one running this "
            f"(uid {os.geteuid()}): saving may fail, or leave files that user cannot read."
        )
    ahead = _dated_ahead(status, now)
    if ahead is not None:
        out(
            f"⚠ The cookies are dated {ahead / DAY:.1f} days in the future: this computer's "
            "clock was wrong when they were stored (or is wrong now). Their renewal is "
            "scheduled from now; check the clock (time sync)."
        )


def _dated_ahead(status: SessionStatus, now: float) -> float | None:
    """Return how far in the future the cookies are dated (beyond a minute), or None."""
    stamp = status.cookie_timestamp
    return stamp - now if stamp is not None and stamp - now > 60 else None


def _age_days(timestamp: float | None, now: float) -> float | None:
    return None if timestamp is None else max(0.0, (now - timestamp) / DAY)
