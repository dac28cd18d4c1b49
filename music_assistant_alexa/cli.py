"""
The ``music-assistant-alexa`` command line.

For people who want to sign in, check or repair a session outside Music Assistant, and for the
demo on the built-in Amazon simulator. Passwords and 2FA keys come from the environment
(``AMAZON_PASSWORD``, ``AMAZON_2FA_KEY``) or a hidden prompt, never from flags, and nothing
secret is ever printed. Exit codes: 0 ok, 2 bad input, 3 needs the user's action, 4 temporary
failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import aiohttp

from music_assistant_alexa import __version__
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
)
from music_assistant_alexa.auth.http import DEFAULT_PACE
from music_assistant_alexa.auth.refresh import DAY, next_refresh_due
from music_assistant_alexa.auth.session import AuthSessionManager, SessionStatus
from music_assistant_alexa.auth.totp import TotpKey, parse_totp_key
from music_assistant_alexa.guide import command_link

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Sequence

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


def default_store() -> Path:
    """Return the default account folder (under ``$XDG_DATA_HOME`` or ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "music-assistant-alexa" / "account"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="music-assistant-alexa",
        description="Sign in to Amazon for Alexa, keep the session fresh, and check it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--store", type=Path, default=None, help="the account's session folder")
    parser.add_argument(
        "--endpoint", default=None, help="send every Amazon host to this base URL (a simulator)"
    )
    parser.add_argument(
        "--domain",
        default=DEFAULT_MARKETPLACE,
        help=f"Amazon marketplace (one of: {', '.join(MARKETPLACES)})",
    )
    parser.add_argument(
        "--pace", type=float, default=DEFAULT_PACE, help="seconds between requests to Amazon"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True)

    login = sub.add_parser("login", help="sign in (password and 2FA key from env or a prompt)")
    login.add_argument("--email", required=True)
    status = sub.add_parser("status", help="show the stored session")
    status.add_argument("--json", action="store_true")
    sub.add_parser("refresh", help="renew cookies and tokens from the stored session")
    sub.add_parser("totp", help="show the current one-time code of the 2FA key")
    doctor = sub.add_parser("doctor", help="run every health check")
    doctor.add_argument("--json", action="store_true")
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
    reset = sub.add_parser("reset", help="back up, deregister at Amazon, wipe")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sim = sub.add_parser("simulator", help="run the Amazon simulator on loopback")
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--email", required=True)
    sim.add_argument("--password", required=True)
    sim.add_argument("--totp-secret", required=True)
    sim.add_argument("--marketplace", default=DEFAULT_MARKETPLACE)
    sub.add_parser("demo", help="sign in, check and refresh against the built-in simulator")
    install = sub.add_parser("install-provider", help="add the provider to Music Assistant")
    install.add_argument("--ma-path", type=Path, default=None)
    uninstall = sub.add_parser("uninstall-provider", help="remove it from Music Assistant")
    uninstall.add_argument("--ma-path", type=Path, default=None)
    guide = sub.add_parser("guide", help="list the troubleshooting guide's sections, or print one")
    guide.add_argument("section", nargs="?", help="the section to print (its slug)")
    handoff = sub.add_parser(
        "handoff", help="write the session into the file Music Assistant's Alexa players use"
    )
    handoff.add_argument(
        "--ma-data",
        type=Path,
        required=True,
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
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    printer = _Printer(stream)
    try:
        args.domain = normalise_marketplace(args.domain)
        return asyncio.run(_COMMANDS[args.command](args, printer))
    except (UsageError, ValueError) as err:
        printer(f"✗ {err}")
        return EXIT_BAD_INPUT
    except AlexaAuthError as err:
        printer.error(err)
        return exit_code_for(err)
    except KeyboardInterrupt:
        printer("interrupted")
        return EXIT_TEMPORARY


class _Printer:
    """Prints lines; the only way this module writes output."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, line: str = "") -> None:
        print(line, file=self.stream, flush=True)

    def error(self, err: AlexaAuthError) -> None:
        self(f"✗ {err.message}")
        if err.amazon_text:
            self(f'  Amazon said: "{err.amazon_text}"')
        self(f"  How to fix it: {command_link(err.guide_slug)}")


# --- shared plumbing ---------------------------------------------------------------------------


def _session(endpoint: str | None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(**resolver_kwargs(endpoint))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def _manager(args: argparse.Namespace, session: aiohttp.ClientSession) -> AuthSessionManager:
    return AuthSessionManager(
        session=session,
        store_dir=args.store or default_store(),
        marketplace=args.domain,
        endpoint=args.endpoint,
        clock=args.clock,
        pace=args.pace,
    )


async def _with_manager(
    args: argparse.Namespace,
    body: Callable[[AuthSessionManager], Coroutine[Any, Any, int]],
) -> int:
    async with _session(args.endpoint) as session:
        manager = _manager(args, session)
        try:
            return await body(manager)
        finally:
            await manager.close()


def _secret_from_env(name: str, prompt: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if not sys.stdin.isatty():
        msg = f"Set {name} or run in a terminal to be asked for it."
        raise UsageError(msg)
    return getpass.getpass(prompt)


def _read_key() -> TotpKey:
    return parse_totp_key(_secret_from_env("AMAZON_2FA_KEY", "Amazon 2FA key (hidden): "))


# --- commands ----------------------------------------------------------------------------------


async def _cmd_login(args: argparse.Namespace, out: _Printer) -> int:
    key = _read_key()  # validated before the password is even asked for
    password = _secret_from_env("AMAZON_PASSWORD", "Amazon password (hidden): ")

    async def body(manager: AuthSessionManager) -> int:
        await login_interactively(manager, args.email, password, key, out, input_fn=input)
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body)


async def login_interactively(  # noqa: PLR0913 - the pieces of one interactive sign-in
    manager: AuthSessionManager,
    email: str,
    password: str,
    key: TotpKey,
    out: _Printer,
    *,
    input_fn: Callable[[str], str],
) -> None:
    """
    Sign in, asking the user to solve captchas Amazon shows on the way.

    :param manager: The account's session manager.
    :param email: Amazon e-mail address.
    :param password: Amazon password.
    :param key: The validated 2FA key.
    :param out: Where to print.
    :param input_fn: Reads the user's captcha answer.
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
        out("Amazon wants a captcha solved. Open this picture and type its characters:")
        out(f"  {captcha.captcha_url}")
        answer = await asyncio.to_thread(input_fn, "Characters: ")
        try:
            await manager.answer_captcha(answer)
        except CaptchaRequiredError as again:
            captcha = again
        else:
            captcha = None
    out("✓ Signed in.")


async def _cmd_status(args: argparse.Namespace, out: _Printer) -> int:
    async def body(manager: AuthSessionManager) -> int:
        await manager.restore(validate=False)  # reads the attempt record and history too
        status = manager.status()
        now = manager.clock.time()
        if args.json:
            out(json.dumps(status_json(status, now=now), indent=2, sort_keys=True))
        else:
            _print_status(status, out, now=now)
        return EXIT_OK if status.signed_in else EXIT_NEEDS_USER

    return await _with_manager(args, body)


async def _cmd_refresh(args: argparse.Namespace, out: _Printer) -> int:
    async def body(manager: AuthSessionManager) -> int:
        if not await manager.restore(validate=False):
            out("✗ Not signed in: run `music-assistant-alexa login` first.")
            return EXIT_NEEDS_USER
        await manager.refresh()
        out("✓ Refreshed cookies and tokens.")
        _print_status(manager.status(), out, now=manager.clock.time())
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_totp(args: argparse.Namespace, out: _Printer) -> int:
    key = _read_key()
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
            out(json.dumps(report, indent=2, sort_keys=True))
        else:
            for line in render_checks(checks):
                out(line)
        if any(c.status is CheckStatus.ERROR for c in checks):
            return EXIT_NEEDS_USER
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_reset(args: argparse.Namespace, out: _Printer) -> int:
    store = args.store or default_store()
    if not args.yes:
        if not sys.stdin.isatty():
            msg = "Refusing to reset without --yes when nobody can confirm."
            raise UsageError(msg)
        question = f"Back up and wipe {store}, and remove the device at Amazon? [y/N] "
        answer = await asyncio.to_thread(input, question)
        if answer.strip().lower() not in ("y", "yes"):
            out("Nothing changed.")
            return EXIT_OK

    async def body(manager: AuthSessionManager) -> int:
        result = await manager.reset(deregister=True)
        if result.backup:
            out(f"✓ Backed up the session folder to {result.backup}")
        out(
            "✓ Removed the device at Amazon." if result.deregistered else "⚠ Device kept at Amazon."
        )
        out("✓ Wiped the session. Sign in again with `music-assistant-alexa login`.")
        return EXIT_OK

    return await _with_manager(args, body)


async def _cmd_simulator(args: argparse.Namespace, out: _Printer) -> int:
    from music_assistant_alexa.simulator import AccountSpec, serve  # noqa: PLC0415

    account = AccountSpec(args.email, args.password, args.totp_secret, args.marketplace)
    await serve(port=args.port, accounts=[account], ready=lambda url: out(f"listening on {url}"))
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
                        manager, email, password, parse_totp_key(secret), printer, input_fn=input
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
                    printer(f"\nSession files: {', '.join(sorted(_files(manager.store.folder)))}")
                finally:
                    await manager.close()
    return EXIT_OK


class _FuncPrinter(_Printer):
    def __init__(self, func: Callable[[str], None]) -> None:
        self._func = func

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
    try:
        for line in lines:
            out(line)
    except BrokenPipeError:
        # Piped into `head` or a pager that quit early: stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.stream.fileno())
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
    from music_assistant_alexa.auth.handoff import (  # noqa: PLC0415 - only this command needs it
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

    async with _session(args.endpoint) as session:
        manager = _manager(args, session)
        handoff = AlexaHandoff.for_manager(
            manager, session=session, ma_data=args.ma_data, username=args.username, pace=args.pace
        )
        try:
            if not await manager.restore(validate=True):
                out("✗ Not signed in: run `music-assistant-alexa login` first.")
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
    data["next_refresh_due"] = next_refresh_due(status.cookie_timestamp)
    return data


def _print_status(status: SessionStatus, out: _Printer, *, now: float) -> None:
    if not status.signed_in:
        out(f"✗ Not signed in ({status.marketplace}).")
        if status.unreadable_files:
            out(
                f"  Unreadable session files were moved aside: {', '.join(status.unreadable_files)}"
            )
        return
    out(f"✓ Signed in as {status.account_label or 'your Amazon account'} on {status.marketplace}")
    if status.device_name:
        out(f"  Device at Amazon: {status.device_name}")
    age = _age_days(status.cookie_timestamp, now)
    if age is not None:
        out(f"  Cookies: {age:.1f} days old")
    if status.last_refresh_at:
        result = "ok" if status.last_refresh_ok else f"failed ({status.last_refresh_error})"
        out(f"  Last refresh: {format_utc(status.last_refresh_at)} ({result})")
    due = next_refresh_due(status.cookie_timestamp)
    if due:
        out(f"  Next refresh due: {format_utc(due)}")


def _age_days(timestamp: float | None, now: float) -> float | None:
    return None if timestamp is None else max(0.0, (now - timestamp) / DAY)
