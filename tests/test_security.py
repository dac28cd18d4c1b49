"""
No secret of the account ever reaches a log line, a CLI output, a ``repr`` or a world-readable file.

Invariant: across every flow (sign-in, refresh, restore, renewal of expired cookies, reset) and
every failure path (wrong password, rejected code, captcha, throttling, dropped connections,
truncated answers, revoked device), with all loggers at DEBUG, and across every CLI command
(``login``, ``status``, ``status --json``, ``refresh``, ``doctor``, ``doctor --json``,
``totp``, ``reset``), none of these appears anywhere in the output: the password, the 2FA key
(as typed, grouped, lower case), refresh and access tokens, authorization codes, any cookie value
the simulated Amazon issued, the csrf value, the device serial, the customer id, ``frc``,
``map-md``, the device key, the e-mail address (status lines mask it). The secrets come from the
simulator's own ledger of what it issued, so a new cookie or token is covered without touching
this test. Session files are 0600 in a 0700 folder even under umask 000, and ``repr`` of every
model and error shows no secret.

Issue 12, item 9: the e-mail, the password, the one-time code and the cookies go to https
Amazon hosts of the account's marketplace only (or the explicit ``--endpoint`` in test mode). A
sign-in form or a redirect that points anywhere else is refused before a byte is sent, without
spending an attempt of the hourly budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import io
import json
import logging
import os
import pkgutil
import stat
from typing import TYPE_CHECKING, Any, Final

import pytest
from yarl import URL

import music_assistant_alexa.auth
import music_assistant_alexa.diagnostics
from music_assistant_alexa.auth.endpoints import AmazonHosts
from music_assistant_alexa.auth.errors import (
    AlexaAuthError,
    InvalidTwoFactorKeyError,
    UnknownPageError,
)
from music_assistant_alexa.auth.login import Credentials
from music_assistant_alexa.auth.models import Registration, RegistrationFile
from music_assistant_alexa.auth.pages import classify_page
from music_assistant_alexa.auth.private_files import FILE_MODE, FOLDER_MODE
from music_assistant_alexa.auth.refresh import RefreshScheduler
from music_assistant_alexa.auth.registration import DEVICE_TYPE, DeviceIdentity, Pkce
from music_assistant_alexa.auth.totp import parse_totp_key
from music_assistant_alexa.cli import main
from music_assistant_alexa.diagnostics import run_checks
from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, make_manager, simulator_session
from .hostile_amazon import HostileAmazon, NotAmazon, redirect_to, rewritten

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
    from pathlib import Path

    import aiohttp

    from music_assistant_alexa.auth.session import AuthSessionManager

    from .helpers import FakeClock

#: Shorter values (a cookie's "true", a timestamp) would match by chance.
MIN_SECRET_LENGTH: Final = 8
#: Loggers of the simulated Amazon's side of the wire: they may see what Amazon sees.
SERVER_LOGGERS: Final = (
    "music_assistant_alexa.simulator",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
)
#: Cookies whose value is a timestamp or a constant, not a secret.
PUBLIC_COOKIES: Final = frozenset({"session-id-time", "amzn-app-id"})
#: Fields a dataclass may show in its repr: none of them can hold a secret.
SAFE_REPR_FIELDS: Final = frozenset(
    {
        # endpoints
        "domain",
        "label",
        "language",
        "cookie_suffix",
        "home_regions",
        "marketplace",
        "override",
        # account_marketplace: marketplaces and Amazon's region names only
        "configured",
        "account_marketplace",
        "marketplace_mismatch",  # a MarketplaceMismatch, itself checked here
        # http
        "status",
        "url",
        # models
        "access_token_expires_at",
        "device_name",
        "device_type",
        "home_region",
        "registered_at",
        "former_registration_data",  # a Registration, itself checked here
        "schema_version",
        "name",  # a cookie's name; its value is hidden
        "path",
        "secure",
        "http_only",
        "expires",
        "timestamp",
        "at",
        "kind",
        "ok",
        "error_code",
        "guide_slug",
        "detail",
        "password_submissions",
        "not_before",
        "backoff_step",
        "backoff_reason",
        "attempts",
        "events",
        "last_refresh_at",
        "last_refresh_ok",
        "last_refresh_error",
        # registration, session
        "registration",  # a Registration
        "signed_in",
        "cookie_timestamp",
        "captcha_url",
        "login_not_before",
        "password_attempts_last_hour",
        "clock_offset",
        "unreadable_files",
        "device_registered",
        "newer_version_files",
        "foreign_owned_files",  # (file name, owner uid)
        "backup",
        "deregistered",
        "had_device",
        "deregister_error",  # an error code
        "removed",  # file names, here and below
        "kept",
        "folder_removed",
        "left_in_place",
        "failed",
        "strangers",
        # the browser sign-in: when, and which attempt (an id that grants nothing)
        "attempt_id",
        "created_at",
        "finished_at",
        "issued_at",
        # diagnostics
        "key",
        "message",
        # hand-off to the alexa provider (paths, usernames and hashes are hidden)
        "format",
        "expires_at",
        "action",
        "fed",
        "modified_at",
        "ownership",
        "same_account",
        "verdict",
        "exists",
        "folder_exists",
        "readable",
        "last_written",  # a WrittenFile, itself checked here
        "mode_problems",
        "others",  # FoundFiles, themselves checked here
        "files",  # WrittenFiles or FoundFiles, themselves checked here
        "result",  # a HandoffResult, itself checked here
        "outcome",
        "previous",
        "written_at",
        "signed_in_at",
        # the alexa provider instance fed (its id and what MA shows of it)
        "instance_id",
        "enabled",
        "loaded",
        "load_failed",
        "players",
        "playing",
        "reload_pending_since",
        "reload_due_by",
        "last_reload_at",
    }
)


# --- collecting the secrets and scanning for them ---------------------------------------------


def key_forms(key: str) -> dict[str, str]:
    """
    Return the ways a 2FA key can be written: as typed, grouped in fours, lower case.

    :param key: The key.
    """
    grouped = " ".join(key[i : i + 4] for i in range(0, len(key), 4))
    forms = {key, key.lower(), grouped, grouped.lower()}
    return dict.fromkeys(forms, "2FA key")


def registration_secrets(registration: Registration) -> dict[str, str]:
    """
    Return the secrets in one registration, by value.

    :param registration: The registration.
    """
    client_id = f"{registration.device_serial}#{DEVICE_TYPE}".encode().hex()
    found = {
        registration.device_serial: "device serial",
        client_id: "client id (hex of the serial)",
        registration.refresh_token: "refresh token",
        registration.access_token: "access token",
        registration.adp_token: "adp token",
        registration.device_private_key: "device private key",
        registration.frc: "frc",
        registration.map_md: "map-md",
        registration.customer_id: "customer id",
    }
    for line in registration.device_private_key.splitlines():
        if "PRIVATE KEY" not in line:
            found[line] = "device private key (one line)"
    return found


def simulator_secrets(simulator: AmazonSimulator) -> dict[str, str]:
    """
    Return every secret the simulated Amazon issued or holds, by value.

    :param simulator: The simulator.
    """
    ledger = simulator.ledger
    found: dict[str, str] = {}
    found.update(dict.fromkeys(ledger.access, "access token"))
    found.update(dict.fromkeys(ledger.refresh, "refresh token"))
    found.update(dict.fromkeys(ledger.codes, "authorization code"))
    found.update(dict.fromkeys(ledger.csrf, "csrf"))
    for name, value in ledger.cookie_domains:
        if name not in PUBLIC_COOKIES:
            found[value] = f"cookie {name}"
    for cookie_set in ledger.cookie_sets.values():
        for name, value in cookie_set.values.items():
            if name not in PUBLIC_COOKIES:
                found[value] = f"cookie {name}"
                found[value.strip('"')] = f"cookie {name}"
    for account in simulator.accounts.values():
        found[account.password] = "password"
        found[account.customer_id] = "customer id"
        found[account.user_id] = "customer user id"
        found.update(key_forms(account.totp_secret))
        for device in account.devices.values():
            found[device.serial] = "device serial"
            found[device.refresh_token] = "refresh token"
    return {value: what for value, what in found.items() if len(value) >= MIN_SECRET_LENGTH}


def find_leaks(texts: Iterable[tuple[str, str]], secrets: dict[str, str]) -> list[str]:
    """
    Return "what leaked where" for every secret found in the texts (never the secret itself).

    :param texts: (where, text) pairs.
    :param secrets: Secret value to what it is.
    """
    leaks = set()
    for where, text in texts:
        for value, what in secrets.items():
            if value in text:
                leaks.add(f"{what} in {where}")
    return sorted(leaks)


def log_texts(records: Iterable[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    """
    Return everything the client side logged: messages, their arguments, tracebacks.

    :param records: Captured log records.
    """
    formatter = logging.Formatter()
    for record in records:
        if record.name.startswith(SERVER_LOGGERS):
            continue
        where = f"log {record.name}:{record.lineno}"
        yield where, record.getMessage()
        yield where, repr(record.args)
        if record.exc_info:
            yield where, formatter.formatException(record.exc_info)
        if record.stack_info:
            yield where, record.stack_info


def error_texts(errors: Iterable[AlexaAuthError]) -> Iterator[tuple[str, str]]:
    """
    Return every way an error is shown: str, repr, the user text, Amazon's text.

    :param errors: The errors.
    """
    for err in errors:
        where = f"error {type(err).__name__}"
        yield where, str(err)
        yield where, repr(err)
        yield where, err.user_text()
        yield where, repr(vars(err))


async def expect_error(
    errors: list[AlexaAuthError], step: Callable[[], Coroutine[Any, Any, Any]]
) -> None:
    """
    Run a step that must fail with an auth error, and keep the error.

    :param errors: Where the error goes.
    :param step: The step.
    """
    with pytest.raises(AlexaAuthError) as caught:
        await step()
    errors.append(caught.value)


# --- the flows --------------------------------------------------------------------------------


async def test_logs_and_errors_of_every_flow_hold_no_secret(  # noqa: PLR0917 - fixtures
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    tmp_path: Path,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sign-in, refresh, restore, renewal, reset and nine failures, all at DEBUG: no secret."""
    caplog.set_level(logging.DEBUG)
    errors: list[AlexaAuthError] = []
    registrations: list[Registration] = []
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    await manager.refresh()
    clock.advance(3500)
    await manager.ensure_valid()  # a new access token on its own
    assert manager.registration is not None
    registrations.append(manager.registration)
    restarted = make_manager(http_session, manager.store.folder, simulator.base_url, clock)
    simulator.expire_cookies(TEST_EMAIL)
    assert await restarted.restore()  # rejected cookies renewed from the refresh token
    await restarted.close()
    assert await manager.restore()

    simulator.scenario.rate_limit = 1
    await expect_error(errors, manager.refresh)
    simulator.scenario.truncated_json = 1
    await expect_error(errors, manager.refresh)
    simulator.scenario.drop_connections = 1
    simulator.scenario.drop_on_path = "/ap/exchangetoken/cookies"
    await expect_error(errors, manager.refresh)
    simulator.scenario.drop_on_path = None
    simulator.scenario.invalid_grant = True
    await expect_error(errors, manager.refresh)
    simulator.scenario.invalid_grant = False

    other = make_manager(http_session, tmp_path / "other", simulator.base_url, clock)
    try:
        await expect_error(errors, lambda: other.login(TEST_EMAIL, "wrong password", TEST_KEY))
        await expect_error(
            errors, lambda: other.login(TEST_EMAIL, TEST_PASSWORD, "AAAA" * 13)
        )  # a key of another account: Amazon rejects the code
        clock.advance(3601)
        simulator.scenario.captcha_before_password = True
        await expect_error(errors, lambda: other.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY))
        assert other.status().captcha_url
        await expect_error(errors, lambda: other.answer_captcha("WRONG"))
        simulator.scenario.captcha_before_password = False
        await expect_error(errors, lambda: other.login("", TEST_PASSWORD, TEST_KEY))
        await expect_error(errors, lambda: other.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY[:-1]))
    finally:
        await other.close()

    result = await manager.reset()
    assert result.deregistered
    await expect_error(errors, manager.refresh)  # not signed in any more
    assert len(errors) == 11

    secrets = (
        simulator_secrets(simulator)
        | key_forms(TEST_KEY)
        | {TEST_PASSWORD: "password", TEST_EMAIL: "e-mail address"}
    )
    for registration in registrations:
        secrets |= registration_secrets(registration)
    assert len([r for r in caplog.records if not r.name.startswith(SERVER_LOGGERS)]) > 20
    texts = [*log_texts(caplog.records), *error_texts(errors)]
    assert find_leaks(texts, secrets) == []


async def test_the_scanner_finds_a_planted_secret(
    manager: AuthSessionManager, simulator: AmazonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The scan is not vacuous: a token logged by mistake is reported, named, never printed."""
    caplog.set_level(logging.DEBUG)
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    registration = manager.registration
    assert registration is not None
    logging.getLogger("music_assistant_alexa.auth.session").debug(
        "oops %s", registration.refresh_token
    )
    logging.getLogger("music_assistant_alexa.auth.http").debug("key %s", TEST_KEY.lower())
    leaks = find_leaks(log_texts(caplog.records), simulator_secrets(simulator))
    assert any(leak.startswith("refresh token in log") for leak in leaks)
    assert any(leak.startswith("2FA key in log") for leak in leaks)
    assert registration.refresh_token not in " ".join(leaks)


# --- the command line -------------------------------------------------------------------------


async def run_cli(args: list[str]) -> tuple[int, str]:
    """
    Run one CLI command in a worker thread (it runs its own event loop) and capture its output.

    :param args: The command line.
    :returns: The exit code and everything printed.
    """
    out = io.StringIO()
    code = await asyncio.to_thread(main, args, out=out)
    return code, out.getvalue()


async def test_cli_output_and_logs_hold_no_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command, verbose, against a real-clock simulator: no secret printed or logged."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY.lower())
    store = tmp_path / "account"
    outputs: list[tuple[str, str]] = []
    async with AmazonSimulator() as simulator:  # the CLI runs on the real clock
        simulator.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        common = ["--store", str(store), "--endpoint", simulator.base_url, "--pace", "0", "-vv"]
        commands = [
            ["login", "--email", TEST_EMAIL],
            ["status"],
            ["status", "--json"],
            ["refresh"],
            ["doctor"],
            ["doctor", "--json"],
            ["totp"],
        ]
        codes = {}
        for command in commands:
            code, printed = await run_cli([*common, *command])
            codes[" ".join(command)] = code
            outputs.append((f"cli {' '.join(command)}", printed))
        assert codes["login --email " + TEST_EMAIL] == 0
        assert codes["refresh"] == 0
        assert json.loads(dict(outputs)["cli status --json"])["signed_in"] is True
        assert dict(outputs)["cli doctor"].strip()
        registration_file = json.loads((store / "registration.json").read_text())
        registration = Registration.from_dict(registration_file["formerRegistrationData"])

        monkeypatch.setenv("AMAZON_PASSWORD", "wrong password")
        code, printed = await run_cli(
            ["--store", str(tmp_path / "wrong"), *common[2:], "login", "--email", TEST_EMAIL]
        )
        assert code == 3
        outputs.append(("cli login (wrong password)", printed))
        code, printed = await run_cli([*common, "reset", "--yes"])
        assert code == 0
        outputs.append(("cli reset", printed))
        secrets = simulator_secrets(simulator) | registration_secrets(registration)
    secrets |= key_forms(TEST_KEY) | {
        TEST_PASSWORD: "password",
        "wrong password": "password",
        TEST_EMAIL: "e-mail address",
    }
    captured = capsys.readouterr()
    texts = [
        *outputs,
        ("stdout", captured.out),
        ("stderr", captured.err),
        *log_texts(caplog.records),
    ]
    assert find_leaks(texts, secrets) == []


# --- files ------------------------------------------------------------------------------------


async def test_session_files_are_private_under_a_permissive_umask(
    manager: AuthSessionManager, simulator: AmazonSimulator
) -> None:
    """With umask 000, every folder we create is 0700 and every file 0600, backups included."""
    previous = os.umask(0)
    try:
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        await manager.refresh()
        result = await manager.reset()
        await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    finally:
        os.umask(previous)
    assert result.backup is not None
    assert simulator.device_count(TEST_EMAIL) == 1
    checked = 0
    for folder in (manager.store.folder, result.backup):
        assert stat.S_IMODE(folder.stat().st_mode) == FOLDER_MODE
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE, path.name
            checked += 1
    assert checked == 7  # three session files and the folder's mark; the backup has no mark


# --- repr -------------------------------------------------------------------------------------


def public_dataclasses() -> list[type[Any]]:
    """Return every public dataclass of the auth core and the diagnostics."""
    found: list[type[Any]] = []
    for package in (music_assistant_alexa.auth, music_assistant_alexa.diagnostics):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if (
                    inspect.isclass(obj)
                    and dataclasses.is_dataclass(obj)
                    and obj.__module__ == module.__name__
                    and not name.startswith("_")
                ):
                    found.append(obj)
    return found


def error_classes(root: type[AlexaAuthError] = AlexaAuthError) -> list[type[AlexaAuthError]]:
    """
    Return an error class and all classes under it.

    :param root: The root class.
    """
    classes = [root]
    for sub in root.__subclasses__():
        classes.extend(error_classes(sub))
    return classes


def test_dataclass_reprs_show_only_harmless_fields() -> None:
    """A new field shows up in a repr only after it has been judged harmless here."""
    classes = public_dataclasses()
    assert len(classes) > 15
    shown = {
        f"{cls.__name__}.{field.name}"
        for cls in classes
        if cls.__dataclass_params__.repr
        for field in dataclasses.fields(cls)
        if field.repr and field.name not in SAFE_REPR_FIELDS
    }
    assert shown == set()


def test_error_reprs_show_only_their_message() -> None:
    """Every error's repr is its class and its plain message: no attribute rides along."""
    classes = error_classes()
    assert len(classes) > 20
    for cls in classes:
        params = inspect.signature(cls.__init__).parameters
        kwargs: dict[str, Any] = {}
        if "problem" in params:
            kwargs["problem"] = "wrong_length"
        if "not_before" in params:
            kwargs["not_before"] = 1_800_000_000.0
        if "amazon_text" in params:
            kwargs["amazon_text"] = "Amazon's text"
        err = cls("the message", **kwargs)
        assert err.args == (err.message,)
        assert repr(err) == f"{cls.__name__}({err.message!r})"


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(TEST_KEY.replace("J", "1", 1), id="look-alike-digit"),
        pytest.param(f"{TEST_KEY}!", id="invalid-character"),
        pytest.param(TEST_KEY[:-4], id="too-short"),
        pytest.param(f"{TEST_KEY[:-1].lower()}0", id="lower-case-look-alike"),
        pytest.param(f"{TEST_KEY}{TEST_KEY[:4]}", id="too-long"),
    ],
)
def test_a_refused_key_is_never_repeated(typed: str) -> None:
    """The message about a mistyped key points at the mistake without quoting the key."""
    with pytest.raises(InvalidTwoFactorKeyError) as caught:
        parse_totp_key(typed)
    err = caught.value
    text = " ".join([str(err), repr(err), err.user_text(), repr(vars(err))])
    normalised = typed.replace(" ", "").upper()
    pieces = {normalised[i : i + MIN_SECRET_LENGTH] for i in range(len(normalised) - 7)}
    assert [p for p in pieces if p in text.upper()] == []


async def test_reprs_of_live_objects_hold_no_secret(
    manager: AuthSessionManager,
    simulator: AmazonSimulator,
    http_session: aiohttp.ClientSession,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    """Every record, client and manager holding real secrets prints without any of them."""
    await manager.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    registration, cookies = manager.registration, manager.cookies
    assert registration is not None
    assert cookies is not None
    hosts = manager.hosts
    csrf_answer = await manager.http.request("GET", hosts.url(hosts.alexa, "/api/language"))
    landing = "https://www.amazon.com/ap/maplanding?openid.oa2.authorization_code=SECRETCODE42"
    key = parse_totp_key(TEST_KEY)
    captcha = make_manager(http_session, tmp_path / "captcha", simulator.base_url, clock)
    simulator.scenario.captcha_before_password = True
    with pytest.raises(AlexaAuthError):
        await captcha.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert captcha._pending is not None
    objects: list[object] = [
        manager,
        registration,
        RegistrationFile(registration),
        cookies,
        *cookies.cookies,
        manager.status(),
        await manager.state(),
        manager.http,
        manager.store,
        csrf_answer,
        DeviceIdentity.from_registration(registration),
        Pkce.create(),
        key,
        Credentials(TEST_EMAIL, TEST_PASSWORD, key),
        classify_page("", landing),
        RefreshScheduler(manager),
        *await run_checks(manager, totp_key=TEST_KEY, validate=True),
        captcha,
        captcha._pending,
        captcha._pending.walk,
    ]
    await captcha.close()
    secrets = (
        simulator_secrets(simulator)
        | registration_secrets(registration)
        | {"SECRETCODE42": "authorization code", TEST_EMAIL: "e-mail address"}
    )
    texts = [(f"repr {type(obj).__name__}", repr(obj)) for obj in objects]
    texts += [(f"str {type(obj).__name__}", str(obj)) for obj in objects]
    assert find_leaks(texts, secrets) == []


# --- issue 12, item 9: credentials and cookies go to Amazon or nowhere -------------------------

SIGN_IN_ACTION = 'action="https://www.amazon.com/ap/signin"'


@pytest.fixture
async def hostile(simulator: AmazonSimulator) -> AsyncIterator[HostileAmazon]:
    """Run the hostile proxy in front of the simulator."""
    async with HostileAmazon(simulator) as proxy:
        yield proxy


@pytest.fixture
async def not_amazon() -> AsyncIterator[NotAmazon]:
    """Run a server that is not Amazon, recording what reaches it."""
    async with NotAmazon() as server:
        yield server


@pytest.fixture
async def proxied(
    hostile: HostileAmazon, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[AuthSessionManager]:
    """Return a signed-out manager that talks to Amazon through the hostile proxy."""
    session = simulator_session(hostile.base_url)
    manager = make_manager(session, tmp_path / "proxied", hostile.base_url, clock)
    yield manager
    await manager.close()
    await session.close()


@pytest.mark.parametrize(
    "target",
    [
        "{elsewhere}/ap/signin",
        "http://www.amazon.com/ap/signin",
        "https://www.amazon.com.evil.test/ap/signin",
        "https://evil.test/www.amazon.com/ap/signin",
        "https://www.amazon.de/ap/signin",
        "javascript:alert(1)",
        "//evil.test/ap/signin",
    ],
    ids=[
        "other-host",
        "plain-http",
        "lookalike-host",
        "other-host-amazon-path",
        "other-marketplace",
        "javascript",
        "scheme-relative",
    ],
)
async def test_a_form_pointing_away_from_amazon_gets_nothing(
    proxied: AuthSessionManager, hostile: HostileAmazon, not_amazon: NotAmazon, target: str
) -> None:
    """
    The sign-in form's action is not this account's Amazon over https: nothing is sent.

    No e-mail, password or code goes anywhere (the other server gets no request, Amazon no
    POST), no attempt of the hourly budget is spent, and the error is an unexpected page.
    """
    action = target.format(elsewhere=not_amazon.base_url)
    hostile.spoil("GET", "/ap/signin", rewritten(SIGN_IN_ACTION, f'action="{action}"'))
    with pytest.raises(UnknownPageError, match="nothing was sent there") as caught:
        await proxied.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert caught.value.guide_slug.value == "unexpected-amazon-page"
    assert not_amazon.got == []
    assert [r for r in hostile.requests if r[0] == "POST"] == []
    assert proxied.status().password_attempts_last_hour == 0
    assert (
        find_leaks(error_texts([caught.value]), {TEST_EMAIL: "e-mail", TEST_PASSWORD: "pw"}) == []
    )


@pytest.mark.parametrize("where", ["{elsewhere}/steal", "http://www.amazon.com/ap/maplanding"])
async def test_a_redirect_away_from_amazon_is_not_followed(
    proxied: AuthSessionManager, hostile: HostileAmazon, not_amazon: NotAmazon, where: str
) -> None:
    """After the password, a redirect off Amazon's https hosts is refused: no cookie goes there."""
    target = where.format(elsewhere=not_amazon.base_url)
    hostile.spoil("POST", "/ap/signin", redirect_to(target))
    with pytest.raises(UnknownPageError):
        await proxied.login(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
    assert not_amazon.got == []


def test_only_the_accounts_amazon_hosts_over_https_are_allowed() -> None:
    """The rule itself: https, the marketplace's and the sign-in domain's hosts, nothing else."""
    hosts = AmazonHosts.for_marketplace("amazon.de")
    allowed = [
        "https://www.amazon.de/ap/signin",
        "https://alexa.amazon.de/api/language",
        "https://www.amazon.com/ap/signin",  # amazon.de signs in on amazon.com
        "https://api.amazon.com/auth/token",
        "https://WWW.AMAZON.DE./ap/signin",
    ]
    refused = [
        "http://www.amazon.de/ap/signin",
        "https://www.amazon.co.uk/ap/signin",
        "https://www.amazon.de.evil.test/",
        "https://evilamazon.de/",
        "ftp://www.amazon.de/",
    ]
    assert [u for u in allowed if not hosts.allows(URL(u))] == []
    assert [u for u in refused if hosts.allows(URL(u))] == []
    test_mode = AmazonHosts.for_marketplace("amazon.de", "http://127.0.0.1:5000")
    assert test_mode.allows(URL("http://127.0.0.1:5000/ap/signin"))  # the explicit --endpoint
    assert not test_mode.allows(URL("http://127.0.0.1:5001/ap/signin"))
