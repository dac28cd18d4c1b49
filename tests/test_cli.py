"""
The command line drives the real auth core against a simulator, and keeps secrets out of sight.

Passwords and keys come only from the environment or a prompt; the exit code says what kind of
trouble it was (2 bad input, 3 needs the user, 4 temporary); the demo works on a fresh folder;
the standalone simulator announces its address on its first line. The CLI runs on the tests'
fake clock, shared with the simulator, so no test waits for a one-time code's window.
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyotp
import pytest

from music_assistant_alexa import cli
from music_assistant_alexa.auth.session import CAPTCHA_TTL
from music_assistant_alexa.auth.store import STORE_MARKER, SessionStore
from music_assistant_alexa.cli import main
from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Seconds a test waits for a real child process (imports included) at most.
PROCESS_TIMEOUT: Final = 30.0


@pytest.fixture
async def live_simulator(clock: FakeClock) -> AsyncIterator[AmazonSimulator]:
    """Run a simulator on the fake clock that the CLI is given too."""
    async with AmazonSimulator(clock=clock.time) as sim:
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        yield sim


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand the secrets to the CLI the supported way: the environment."""
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY)


async def run_cli(*args: str, clock: FakeClock | None = None) -> tuple[int, str]:
    """Run the CLI in a worker thread (it has its own event loop); return code and output."""
    out = io.StringIO()
    code = await asyncio.to_thread(main, list(args), out=out, clock=clock or FakeClock())
    return code, out.getvalue()


def cli_args(sim: AmazonSimulator, store: Path, *rest: str) -> list[str]:
    """Return the global options that point the CLI at the simulator and a folder."""
    return ["--store", str(store), "--endpoint", sim.base_url, "--pace", "0", *rest]


def assert_no_secrets(text: str) -> None:
    """Fail if a password or key shows up in output."""
    for secret in (TEST_PASSWORD, TEST_KEY, TEST_KEY.lower()):
        assert secret not in text


async def test_login_status_refresh(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """Login, status --json and refresh work end to end and print nothing secret."""
    store = tmp_path / "acct"
    code, out = await run_cli(
        *cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 0, out
    assert "✓ Signed in." in out
    code, out = await run_cli(*cli_args(live_simulator, store, "status", "--json"), clock=clock)
    assert code == 0
    status = json.loads(out)
    assert status["signed_in"] is True
    assert status["marketplace"] == "amazon.com"
    assert status["cookie_age_days"] < 0.01
    assert TEST_EMAIL not in out
    live_simulator.reset_counts()
    code, refreshed = await run_cli(*cli_args(live_simulator, store, "refresh"), clock=clock)
    assert code == 0
    assert "Refreshed" in refreshed
    # Cookies and csrf only: no access token is minted when nothing needs one.
    assert live_simulator.request_count() == 2
    assert live_simulator.request_count("/auth/token") == 0
    assert_no_secrets(out + refreshed)


async def test_status_without_session_needs_user(tmp_path: Path) -> None:
    """An empty folder is "not signed in", exit code 3."""
    code, out = await run_cli("--store", str(tmp_path / "none"), "status")
    assert code == 3
    assert "Not signed in" in out


async def test_wrong_password_exit_code(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong password is "needs the user" (3), with Amazon's words and the guide link."""
    monkeypatch.setenv("AMAZON_PASSWORD", "not the password")
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3
    assert 'Amazon said: "Your password is incorrect"' in out
    assert "How to fix it: music-assistant-alexa guide email-password-and-marketplace" in out
    assert "not the password" not in out


async def test_bad_key_exit_code(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 6-digit code instead of the key is bad input (2); nothing is sent."""
    monkeypatch.setenv("AMAZON_2FA_KEY", "123456")
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 2
    assert "one-time code, not the 2FA key" in out
    assert live_simulator.request_count() == 0


async def test_temporary_failure_exit_code(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """Amazon's server errors are temporary (4)."""
    live_simulator.scenario.server_error = 5
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 4
    assert "server error" in out


async def test_login_prompts_for_captcha(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In captcha mode, login shows the picture's URL, reads the answer and completes."""
    live_simulator.scenario.captcha_before_password = True
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    prompts: list[str] = []

    def answer(prompt: str = "") -> str:
        prompts.append(prompt)
        live_simulator.scenario.captcha_before_password = False
        return live_simulator.captcha_answer

    monkeypatch.setattr(cli, "read_answer", answer)
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 0, out
    assert re.search(r"^  https?://\S+", out, re.MULTILINE)
    assert prompts == ["Characters: "]
    assert live_simulator.device_count(TEST_EMAIL) == 1


async def test_captcha_prompt_reports_the_latest_refusal(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An answer that comes too late ends with "expired", not with the first captcha's text."""
    live_simulator.scenario.captcha_before_password = True
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)

    def late_answer(_prompt: str = "") -> str:
        clock.advance(CAPTCHA_TTL + 1)
        return live_simulator.captcha_answer

    monkeypatch.setattr(cli, "read_answer", late_answer)
    args = cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL)
    code, out = await run_cli(*args, clock=clock)
    assert code == 3
    assert "✗ The captcha has expired; start the sign-in again." in out
    assert "Type the characters" not in out


async def test_totp_shows_current_code() -> None:
    """`totp` prints the code the authenticator app shows now."""
    code, out = await run_cli("totp", clock=FakeClock(start=1_800_000_005.0))
    assert code == 0
    assert pyotp.TOTP(TEST_KEY).at(1_800_000_005) in out
    assert "25 more seconds" in out
    assert_no_secrets(out)


async def test_reset_requires_confirmation_without_terminal(tmp_path: Path) -> None:
    """Without --yes and without a terminal, reset refuses (bad input) and changes nothing."""
    (tmp_path / "acct").mkdir()
    code, _ = await run_cli("--store", str(tmp_path / "acct"), "reset")
    assert code == 2
    assert (tmp_path / "acct").exists()


async def test_reset_with_yes(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """With --yes, reset backs up, removes the device at Amazon and wipes."""
    store = tmp_path / "acct"
    await run_cli(*cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock)
    code, out = await run_cli(*cli_args(live_simulator, store, "reset", "--yes"), clock=clock)
    assert code == 0, out
    assert "Removed the device at Amazon" in out
    assert f"✓ Removed from {store}: registration.json, cookies.json." in out
    assert "Kept state.json" in out
    # The attempt record stays (issue 12): the folder holds it and its mark, nothing secret.
    assert {p.name for p in store.iterdir()} == {"state.json", STORE_MARKER}
    assert live_simulator.device_count(TEST_EMAIL) == 0
    assert sorted(p.name.startswith("acct.backup-") for p in tmp_path.iterdir()) == [False, True]


def test_unknown_marketplace_is_bad_input(tmp_path: Path) -> None:
    """A marketplace we do not know is refused with exit code 2."""
    out = io.StringIO()
    assert main(["--store", str(tmp_path), "--domain", "amazon.xyz", "status"], out=out) == 2
    assert "Unknown Amazon marketplace" in out.getvalue()


def test_demo_runs_on_a_fresh_folder() -> None:
    """The demo signs in, shows the status, refreshes and shows it again."""
    out = io.StringIO()
    assert main(["demo"], out=out, clock=FakeClock()) == 0
    text = out.getvalue()
    for step in ("[1/4] login", "✓ Signed in.", "[3/4] refresh", "✓ Refreshed (2 HTTP requests)"):
        assert step in text
    assert "  5 HTTP requests" in text
    # The demo's folder is gone when it ends, and the demo says so.
    assert "(in a temporary folder, removed now)" in text


def test_standalone_simulator_prints_address_first() -> None:
    """`simulator` prints "listening on http://127.0.0.1:PORT" as its first line, then serves."""
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "music_assistant_alexa",
            "simulator",
            "--port",
            "0",
            "--email",
            TEST_EMAIL,
            "--password",
            TEST_PASSWORD,
            "--totp-secret",
            TEST_KEY,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert re.fullmatch(r"listening on http://127\.0\.0\.1:\d+\n", first)
    finally:
        proc.kill()
        proc.wait()


async def test_standalone_simulator_blocks_the_automatic_sign_in_on_request(
    tmp_path: Path,
) -> None:
    """`simulator --blocks passkey`: an automatic sign-in meets the passkey, as Amazon's would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "music_assistant_alexa",
        "simulator",
        "--email",
        TEST_EMAIL,
        "--password",
        TEST_PASSWORD,
        "--totp-secret",
        TEST_KEY,
        "--blocks",
        "passkey",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(PROCESS_TIMEOUT):
            first = (await proc.stdout.readline()).decode()
        url = first.removeprefix("listening on ").strip()
        store = tmp_path / "acct"
        login = ["--store", str(store), "--endpoint", url, "--pace", "0", "login"]

        code, out = await run_cli(*login, "--email", TEST_EMAIL)

        assert code == 3, out
        assert "passkey" in out
        assert "login --browser" in out
    finally:
        proc.kill()
        await proc.wait()


async def test_doctor_green_after_login_then_names_the_problem(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """`doctor` is all ✓ after a sign-in; a revoked device or a skewed clock gets its ✗ line."""
    store = tmp_path / "acct"
    await run_cli(*cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock)
    code, out = await run_cli(*cli_args(live_simulator, store, "doctor"), clock=clock)
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines
    assert all(line.startswith("✓") for line in lines), out

    live_simulator.clock_skew = 90
    code, out = await run_cli(*cli_args(live_simulator, store, "doctor"), clock=clock)
    assert code == 3
    drift = [line for line in out.splitlines() if "clock" in line.lower()]
    assert drift
    assert drift[0].startswith("✗")
    assert drift[0].endswith("music-assistant-alexa guide clock-drift")

    live_simulator.clock_skew = 0
    live_simulator.revoke_refresh_tokens(TEST_EMAIL)
    code, out = await run_cli(*cli_args(live_simulator, store, "doctor"), clock=clock)
    assert code == 3
    revoked = [line for line in out.splitlines() if line.endswith(" guide reauthentication-loop")]
    assert revoked, out
    assert revoked[0].startswith("✗")
    assert_no_secrets(out)


# --- issue 12 -------------------------------------------------------------------------------------


def strict_json(text: str) -> Any:
    """Parse JSON the way every other program does: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        msg = f"{name} is not JSON"
        raise ValueError(msg)

    return json.loads(text, parse_constant=refuse)


async def signed_in_folder(sim: AmazonSimulator, tmp_path: Path, clock: FakeClock) -> Path:
    """Sign in through the CLI and return the folder."""
    store = tmp_path / "acct"
    code, out = await run_cli(*cli_args(sim, store, "login", "--email", TEST_EMAIL), clock=clock)
    assert code == 0, out
    return store


def assert_clean(out: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Fail on a traceback anywhere: the output, standard output or standard error."""
    captured = capsys.readouterr()
    for text in (out, captured.out, captured.err):
        assert "Traceback" not in text
        assert "Error:" not in text.replace("✗", "")


# item 6: the captcha prompt


async def test_captcha_without_a_terminal_says_how_to_go_on(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No terminal (a script, a container): exit 3 with the picture's link and the way on."""
    live_simulator.scenario.captcha_before_password = True
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: False)
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path / "acct", "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3
    assert "there is no terminal here to type its characters into" in out
    assert re.search(r"The picture: https?://\S+", out)
    # The command reaches the same folder: it repeats --store and --endpoint.
    login = (
        f"music-assistant-alexa --store {tmp_path / 'acct'} --endpoint {live_simulator.base_url}"
    )
    assert f"run `{login} login --email EMAIL` again in a terminal" in out
    assert "Characters:" not in out
    assert_clean(out, capsys)


async def test_captcha_prompt_at_end_of_input_is_the_same_as_no_terminal(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Standard input closes at the prompt (EOFError): the same exit 3, not a traceback."""
    live_simulator.scenario.captcha_before_password = True
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)

    def closed(_prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr(cli, "read_answer", closed)
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path / "acct", "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3
    assert "no terminal here" in out
    assert_clean(out, capsys)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal and SIGINT are POSIX")
async def test_ctrl_c_at_the_captcha_prompt_ends_at_once(tmp_path: Path) -> None:
    """
    A real process on a real (pseudo-)terminal: Ctrl-C at "Characters:" ends it within seconds.

    Before issue 12 it waited for Enter (the prompt's worker thread was waited for) and then
    aborted with a fatal error about stdin's lock.
    """
    import pty  # noqa: PLC0415 - POSIX only

    async with AmazonSimulator() as sim:  # the child runs on the real clock
        sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        sim.scenario.captcha_before_password = True
        controller, terminal = pty.openpty()
        env = {**os.environ, "AMAZON_PASSWORD": TEST_PASSWORD, "AMAZON_2FA_KEY": TEST_KEY}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "music_assistant_alexa",
            *cli_args(sim, tmp_path / "acct", "login", "--email", TEST_EMAIL),
            stdin=terminal,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        os.close(terminal)
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            shown = b""
            while b"Characters: " not in shown:
                chunk = await asyncio.wait_for(proc.stdout.read(256), PROCESS_TIMEOUT)
                assert chunk, shown
                shown += chunk
            interrupted_at = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(proc.wait(), PROCESS_TIMEOUT)
            waited = time.monotonic() - interrupted_at
            rest = (await proc.stdout.read()).decode()
            errors = (await proc.stderr.read()).decode()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            os.close(controller)
    assert code == 4, errors
    assert "interrupted" in rest
    assert "Traceback" not in errors
    assert "Fatal Python error" not in errors
    assert waited < PROCESS_TIMEOUT / 2  # nobody pressed Enter; it did not wait for one


# item 11: output to a closed pipe, control characters, a padded key


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE semantics are POSIX")
def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`status | head` with head gone: no BrokenPipeError traceback, the usual exit code."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader (head) is gone before the first line
    try:
        proc = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "music_assistant_alexa", "--store", str(tmp_path), "status"],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=PROCESS_TIMEOUT,
            check=False,
        )
    finally:
        os.close(writer)
    errors = proc.stderr.decode()
    assert proc.returncode == 3, errors
    assert "Traceback" not in errors
    assert "BrokenPipe" not in errors
    assert "Exception ignored" not in errors


async def test_escape_sequences_in_the_account_name_are_neutralised(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A name with ESC[31m (and a bidi override) is printed as visible escapes, never raw."""
    async with AmazonSimulator(clock=clock.time) as sim:
        sim.add_account(
            TEST_EMAIL, TEST_PASSWORD, TEST_KEY, name="\x1b[2J\x1b[31mEve\u202e\x07 Mallory"
        )
        store = tmp_path / "acct"
        code, out = await run_cli(
            *cli_args(sim, store, "login", "--email", TEST_EMAIL), clock=clock
        )
        assert code == 0, out
        code, status = await run_cli(*cli_args(sim, store, "status"), clock=clock)
    assert code == 0
    for text in (out, status):
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "\x07" not in text
    assert "Signed in as \\x1b[2J\\x1b[31mEve\\u202e\\x07 on amazon.com" in status
    assert cli.printable("plain, with\ttab") == "plain, with\ttab"


async def test_a_2fa_key_with_base32_padding_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key as some apps show it, with "====" (or "=") at the end, is the same key."""
    for padded in (
        f"{TEST_KEY}====",
        f"{TEST_KEY.lower()}=",
        f"{TEST_KEY[:4]} {TEST_KEY[4:]} ====",
    ):
        monkeypatch.setenv("AMAZON_2FA_KEY", padded)
        code, out = await run_cli("totp", clock=FakeClock(start=1_800_000_005.0))
        assert code == 0, out
        assert pyotp.TOTP(TEST_KEY).at(1_800_000_005) in out


# item 11: a session without cookies, a folder of another user


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
async def test_a_fifo_as_cookies_json_hangs_no_command(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """Nobody writes into the FIFO: status and doctor answer at once, and it is moved aside."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    (store / "cookies.json").unlink()
    os.mkfifo(store / "cookies.json")
    status = run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    code, out = await asyncio.wait_for(status, PROCESS_TIMEOUT)
    assert code == 0, out
    assert "(not a regular file)" in out
    os.mkfifo(store / "cookies.json")
    doctor = run_cli(*cli_args(live_simulator, store, "doctor", "--offline"), clock=clock)
    code, out = await asyncio.wait_for(doctor, PROCESS_TIMEOUT)
    assert "unreadable session file(s) were moved aside" in out


async def test_missing_cookies_alone_is_not_signed_out(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """The device is registered, cookies.json is gone: a warning and the way back, not "✗"."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    (store / "cookies.json").unlink()
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 0, out
    assert "Not signed in" not in out
    assert "⚠ Signed in as Test on amazon.com, but no website cookies are stored" in out
    # The command to paste reaches the same folder (and the simulator) again.
    assert f"run `music-assistant-alexa --store {store} --endpoint" in out
    assert " refresh` to renew them" in out
    code, status = await run_cli(*cli_args(live_simulator, store, "status", "--json"), clock=clock)
    data = strict_json(status)
    assert data["device_registered"] is True
    assert data["signed_in"] is False
    code, out = await run_cli(*cli_args(live_simulator, store, "refresh"), clock=clock)
    assert code == 0, out
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert out.startswith("✓ Signed in as Test")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give files away"
)
async def test_a_folder_of_another_user_is_flagged(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """The folder belongs to uid 4242: status says so (saving would fail for that user)."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    os.chown(store, 4242, 4242)
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 0
    assert "⚠ The session folder belongs to another user (uid 4242)" in out
    code, data = await run_cli(*cli_args(live_simulator, store, "status", "--json"), clock=clock)
    assert strict_json(data)["foreign_owned_files"] == [[".", 4242]]


# item 5: malformed files, strict JSON


MALFORMED = [
    pytest.param("cookies.json", b'{"marketplace": "amazon.com", "timestamp": 1e400}', id="1e400"),
    pytest.param("cookies.json", b'{"marketplace": "amazon.com", "timestamp": NaN}', id="nan"),
    pytest.param("cookies.json", b'{"marketplace": "amazon.com", "timestamp": 1e20}', id="1e20"),
    pytest.param("cookies.json", b'{"marketplace": "amazon.com", "timestamp": -1}', id="negative"),
    pytest.param(
        "cookies.json",
        b'{"marketplace": "amazon.com", "timestamp": 1, "cookies": [{"name": "bad name;x",'
        b' "value": "v", "domain": ".amazon.com"}]}',
        id="cookie-name",
    ),
    pytest.param(
        "cookies.json",
        b'{"marketplace": "amazon.com", "timestamp": 1, "cookies": [{"name": "at-main",'
        b' "value": "v", "domain": ".amazon.com", "expires": 1e300}]}',
        id="expires-1e300",
    ),
    pytest.param("registration.json", b"[" * 200_000 + b"]" * 200_000, id="nested-200000"),
    pytest.param(
        "registration.json",
        b'{"formerRegistrationData": {"device_serial": "S", "marketplace": "amazon.com",'
        b' "refresh_token": "Atnr|x", "access_token_expires_at": Infinity}}',
        id="registration-infinity",
    ),
    pytest.param("state.json", b'{"last_refresh_at": 1e400}', id="state-1e400"),
]


@pytest.mark.parametrize(("name", "content"), MALFORMED)
async def test_malformed_files_never_crash_a_command(  # noqa: PLR0917 - fixtures
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
) -> None:
    """status, status --json, doctor and doctor --json: a clear report, strict JSON, no crash."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    (store / name).write_bytes(content)
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code in (0, 3), out
    assert f"Unreadable session files were moved aside: {name}.unreadable-" in out
    moved = next(p for p in store.iterdir() if ".unreadable-" in p.name)
    assert moved.read_bytes() == content
    (store / name).write_bytes(content)
    code, out = await run_cli(*cli_args(live_simulator, store, "status", "--json"), clock=clock)
    data = strict_json(out)
    assert len(data["unreadable_files"]) == 1
    for command in (["doctor", "--offline"], ["doctor", "--offline", "--json"]):
        (store / name).write_bytes(content)
        code, out = await run_cli(*cli_args(live_simulator, store, *command), clock=clock)
        assert code in (0, 3), out
        if "--json" in command:
            strict_json(out)
    assert_clean(out, capsys)


# item 8: a clock that was wrong


async def test_status_reports_cookies_dated_in_the_future(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """The cookies were stored with the clock 30 days ahead: clock trouble, due in 7 days."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    data = json.loads((store / "cookies.json").read_text())
    data["timestamp"] = clock.now + 30 * 86_400
    (store / "cookies.json").write_text(json.dumps(data))
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 0
    assert "⚠ The cookies are dated 30.0 days in the future" in out
    due = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(clock.now + 7 * 86_400))
    assert f"Next refresh due: {due}" in out
    code, out = await run_cli(*cli_args(live_simulator, store, "status", "--json"), clock=clock)
    status = strict_json(out)
    assert status["cookies_dated_ahead_days"] == pytest.approx(30)
    assert status["next_refresh_due"] == clock.now + 7 * 86_400


# item 7: a newer version's session


async def test_a_newer_versions_session_is_left_alone(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """Status reports it, login and reset refuse (exit 3), and nothing is moved or sent."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    data = json.loads((store / "registration.json").read_text())
    data["schema_version"] = 2
    newer = json.dumps(data).encode()
    (store / "registration.json").write_bytes(newer)
    live_simulator.reset_counts()
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 3
    assert "registration.json: written by a newer version of music-assistant-alexa" in out
    for command in (["login", "--email", TEST_EMAIL], ["reset", "--yes"], ["refresh"]):
        code, out = await run_cli(*cli_args(live_simulator, store, *command), clock=clock)
        assert code == 3, (command, out)
        assert "written by a newer version" in out
    assert live_simulator.request_count() == 0
    assert (store / "registration.json").read_bytes() == newer
    assert not [p for p in store.iterdir() if ".unreadable-" in p.name]


# item 4: a folder that is not a session folder


@pytest.mark.parametrize(
    "command",
    [
        ["login", "--email", TEST_EMAIL],
        ["status"],
        ["status", "--json"],
        ["refresh"],
        ["doctor"],
        ["reset", "--yes"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
async def test_a_folder_of_the_users_own_files_is_refused_untouched(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock, command: list[str]
) -> None:
    """--store at ~/Documents: exit 2 naming the files; no chmod, nothing deleted, nothing sent."""
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "taxes.pdf").write_bytes(b"%PDF")
    (folder / "registration.json").write_text("{}")  # even one of our names
    folder.chmod(0o755)
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    code, out = await run_cli(*cli_args(live_simulator, folder, *command), clock=clock)
    assert code == 2, out
    assert "holds files that are not part of a session (taxes.pdf)" in out
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Documents"]  # no backup either
    assert live_simulator.request_count() == 0


# item 3: reset says what it did, or fails loudly


async def test_reset_through_a_symlink_removes_the_session(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """A store reached through a symlink is really reset: status afterwards is signed out."""
    real = tmp_path / "real"
    code, out = await run_cli(
        *cli_args(live_simulator, real, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 0, out
    link = tmp_path / "link"
    link.symlink_to(real)
    code, out = await run_cli(*cli_args(live_simulator, link, "reset", "--yes"), clock=clock)
    assert code == 0, out
    assert "✓ Removed from" in out
    assert "registration.json, cookies.json" in out
    assert not (real / "registration.json").exists()
    assert not (real / "cookies.json").exists()
    code, out = await run_cli(*cli_args(live_simulator, link, "status"), clock=clock)
    assert code == 3
    assert "Not signed in" in out


async def test_reset_of_a_read_only_folder_changes_nothing_and_says_so(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The folder cannot be changed: exit 3, the device stays at Amazon, the files stay."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    real_access = os.access

    def read_only(path: Any, mode: int, **kwargs: Any) -> bool:
        if Path(path) == store and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", read_only)  # as on a read-only mount (we run as root)
    code, out = await run_cli(*cli_args(live_simulator, store, "reset", "--yes"), clock=clock)
    assert code == 3, out
    assert "cannot be changed" in out
    assert "the device stays registered at Amazon" in out
    assert "Wiped" not in out
    assert live_simulator.device_count(TEST_EMAIL) == 1
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before


async def test_reset_that_cannot_remove_a_file_fails_loudly(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """registration.json cannot be deleted: exit 3 naming it, and that the device is gone."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    real_unlink = Path.unlink

    def stuck(path: Path, missing_ok: bool = False) -> None:  # noqa: FBT001, FBT002 - Path's
        if path.name == "registration.json":
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", stuck)
    code, out = await run_cli(*cli_args(live_simulator, store, "reset", "--yes"), clock=clock)
    assert code == 3, out
    assert "Could not remove everything" in out
    assert "registration.json (Operation not permitted)" in out
    assert "The device was removed at Amazon, so the stored session no longer works." in out
    assert "Removed from" not in out


# item 1: the budget and the pause outlive a reset; the lock's wait is bounded


async def test_reset_does_not_hand_out_fresh_attempts(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three wrong passwords, `reset --yes`, then the right one: still paused, nothing sent."""
    store = tmp_path / "acct"
    monkeypatch.setenv("AMAZON_PASSWORD", "wrong password")
    for _ in range(3):
        code, out = await run_cli(
            *cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock
        )
        assert code == 3, out
    code, out = await run_cli(*cli_args(live_simulator, store, "reset", "--yes"), clock=clock)
    assert code == 0, out
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    posts = live_simulator.request_count("/ap/signin", method="POST")
    code, out = await run_cli(
        *cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3, out
    assert "✗ Sign-in paused" in out
    assert live_simulator.request_count("/ap/signin", method="POST") == posts
    clock.advance(3601)
    code, out = await run_cli(
        *cli_args(live_simulator, store, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 0, out


async def test_reset_does_not_end_a_pause_amazon_asked_for(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A captcha paused sign-ins; `reset --yes` in between does not lift the pause."""
    store = tmp_path / "acct"
    live_simulator.scenario.captcha_before_password = True
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: False)
    login = cli_args(live_simulator, store, "login", "--email", TEST_EMAIL)
    code, out = await run_cli(*login, clock=clock)
    assert code == 3, out
    live_simulator.scenario.captcha_before_password = False
    code, out = await run_cli(*cli_args(live_simulator, store, "reset", "--yes"), clock=clock)
    assert code == 0, out
    requests = live_simulator.request_count()
    code, out = await run_cli(*login, clock=clock)
    assert code == 3, out
    assert "✗ Sign-in paused because Amazon showed a captcha" in out
    assert live_simulator.request_count() == requests
    clock.advance(61)
    code, out = await run_cli(*login, clock=clock)
    assert code == 0, out


async def test_a_busy_folder_is_waited_for_within_the_bound(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """Another process holds the folder: after --lock-timeout, exit 4 saying what it waited for."""
    store = await signed_in_folder(live_simulator, tmp_path, clock)
    holder = SessionStore(store)  # another process's lock, as far as the CLI can tell
    live_simulator.reset_counts()
    async with holder.locked():
        code, out = await run_cli(
            "--lock-timeout", "0", *cli_args(live_simulator, store, "refresh"), clock=clock
        )
    assert code == 4, out
    assert (
        "Another process (Music Assistant or the command line) is using the session folder" in out
    )
    assert live_simulator.request_count() == 0
    code, out = await run_cli(*cli_args(live_simulator, store, "refresh"), clock=clock)
    assert code == 0, out


# --- issue 13: the marketplace, and words for a terminal ------------------------------------------

DE_EMAIL: Final = "familie@example.de"


def cookie_marketplace(store: Path) -> str:
    """Return the marketplace cookies.json is stored for."""
    marketplace: str = json.loads((store / "cookies.json").read_text())["marketplace"]
    return marketplace


async def test_an_account_of_another_marketplace_is_named_with_the_command_that_fixes_it(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """
    An amazon.de account signed in on the default amazon.com: `login` and `doctor` name it.

    The fix is one command that reaches the same folder; after it, `status` and `doctor` are
    clean and the folder stays on amazon.de.
    """
    live_simulator.add_account(DE_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    store = tmp_path / "acct"
    fix = f"music-assistant-alexa --store {store} --endpoint {live_simulator.base_url} "
    fix += "switch-marketplace amazon.de"
    code, out = await run_cli(
        *cli_args(live_simulator, store, "login", "--email", DE_EMAIL), clock=clock
    )
    assert code == 0, out
    warning = [line for line in out.splitlines() if line.startswith("⚠")]
    assert len(warning) == 1, out
    assert "Amazon says this account belongs to amazon.de, not amazon.com" in warning[0]
    assert fix in warning[0]
    assert warning[0].endswith("music-assistant-alexa guide email-password-and-marketplace")
    assert "settings" not in out

    code, out = await run_cli(*cli_args(live_simulator, store, "doctor"), clock=clock)
    assert code == 0, out  # a warning, not an error
    assert [line for line in out.splitlines() if line.startswith("⚠")] == warning

    live_simulator.reset_counts()
    code, out = await run_cli(
        *cli_args(live_simulator, store, "switch-marketplace", "amazon.de"), clock=clock
    )
    assert code == 0, out
    assert "✓ Moved the session from amazon.com to amazon.de" in out
    assert live_simulator.request_count() == 2
    assert live_simulator.device_count(DE_EMAIL) == 1
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 0, out
    assert "on amazon.de" in out
    assert "⚠" not in out
    code, out = await run_cli(*cli_args(live_simulator, store, "doctor"), clock=clock)
    assert code == 0, out
    assert all(line.startswith("✓") for line in out.strip().splitlines()), out
    code, out = await run_cli(
        *cli_args(live_simulator, store, "switch-marketplace", "de"), clock=clock
    )
    assert (code, out) == (0, "✓ The session is on amazon.de already.\n")


async def test_the_folder_remembers_its_marketplace(
    live_simulator: AmazonSimulator, tmp_path: Path, clock: FakeClock
) -> None:
    """
    Signed in with --domain amazon.de: plain status and refresh use amazon.de and keep it.

    A --domain that contradicts the folder is refused (exit 2) before anything is read, sent
    or changed, with the command that moves the session.
    """
    live_simulator.add_account(DE_EMAIL, TEST_PASSWORD, TEST_KEY, marketplace="amazon.de")
    store = tmp_path / "acct"
    login = ["--domain", "amazon.de", "login", "--email", DE_EMAIL]
    code, out = await run_cli(*cli_args(live_simulator, store, *login), clock=clock)
    assert code == 0, out
    code, out = await run_cli(*cli_args(live_simulator, store, "status"), clock=clock)
    assert code == 0, out
    assert "✓ Signed in as Test on amazon.de" in out
    code, out = await run_cli(*cli_args(live_simulator, store, "refresh"), clock=clock)
    assert code == 0, out
    assert cookie_marketplace(store) == "amazon.de"
    code, out = await run_cli(
        *cli_args(live_simulator, store, "--domain", "amazon.de", "status"), clock=clock
    )
    assert code == 0, out
    assert "on amazon.de" in out

    before = {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()}
    live_simulator.reset_counts()
    for command in (["status"], ["refresh"], ["login", "--email", DE_EMAIL], ["doctor"]):
        code, out = await run_cli(
            *cli_args(live_simulator, store, "--domain", "amazon.com", *command), clock=clock
        )
        assert code == 2, (command, out)
        assert out.startswith(
            f"✗ The session in {store} is signed in on amazon.de, not amazon.com."
        )
        assert "switch-marketplace amazon.com" in out
    assert live_simulator.request_count() == 0
    assert {p.name: p.read_bytes() for p in store.iterdir() if p.is_file()} == before


async def test_switching_without_a_session_says_how_to_sign_in(tmp_path: Path) -> None:
    """Nothing to move: exit 3 and the sign-in command for that marketplace."""
    code, out = await run_cli("--store", str(tmp_path / "none"), "switch-marketplace", "amazon.de")
    assert code == 3
    assert "--domain amazon.de login --email EMAIL" in out


@pytest.mark.parametrize("site", ["amazon.nl", "www.amazon.se", "https://www.amazon.com.be/"])
def test_a_real_amazon_shop_we_do_not_sign_in_to_is_refused_with_a_hint(
    tmp_path: Path, site: str
) -> None:
    """amazon.nl and the like: exit 2, the supported list and how to choose."""
    out = io.StringIO()
    assert main(["--store", str(tmp_path), "--domain", site, "status"], out=out) == 2
    text = out.getvalue()
    assert "is an Amazon shop, but not one of the Alexa marketplaces this app signs in to" in text
    assert "amazon.de" in text
    assert "Your devices" in text
    assert text.count("\n") == 1


def test_a_country_code_names_its_marketplace(tmp_path: Path) -> None:
    """`--domain uk` is amazon.co.uk (amazon.uk is no Amazon site)."""
    out = io.StringIO()
    assert main(["--store", str(tmp_path / "x"), "--domain", "uk", "status"], out=out) == 3
    assert out.getvalue().startswith("✗ Not signed in (amazon.co.uk).")


async def test_errors_are_worded_for_the_terminal(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong password: one line, the environment variable and --domain, never "settings"."""
    monkeypatch.setenv("AMAZON_PASSWORD", "not the password")
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3
    lines = out.splitlines()
    assert lines[0].startswith("Signing in")
    assert len(lines) == 2, out
    assert lines[1].startswith("✗ Amazon says the password is wrong. Check it (AMAZON_PASSWORD")
    assert "(--domain)" in lines[1]
    assert "settings" not in out


async def test_unverified_mobile_number_is_the_password(
    live_simulator: AmazonSimulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Amazon's "unable to verify your mobile number" is said to be the password, plainly."""
    live_simulator.scenario.unverified_mobile = True
    monkeypatch.setenv("AMAZON_PASSWORD", "an old password")
    code, out = await run_cli(
        *cli_args(live_simulator, tmp_path, "login", "--email", TEST_EMAIL), clock=clock
    )
    assert code == 3
    assert (
        "✗ Amazon says it cannot verify your mobile number, which it shows when the password "
        in (out)
    )
    assert 'Amazon said: "We\'re unable to verify your mobile number. Try signing in again."' in out
    assert "Check the password (AMAZON_PASSWORD, or what you typed), then run" in out
    assert "settings" not in out


async def test_doctor_before_any_sign_in_says_what_is_true(tmp_path: Path) -> None:
    """No folder: not "private (0700)", and the sign-in is a command, not "the settings"."""
    store = tmp_path / "never"
    code, out = await run_cli("--store", str(store), "doctor", "--offline")
    assert code == 3
    assert "private (0700) and its files are 0600" not in out
    assert "✓ No session folder yet; the first sign-in creates it private (0700)." in out
    assert f"Sign in with `music-assistant-alexa --store {store} login --email EMAIL`." in out
    assert "settings" not in out
    assert not store.exists()


async def test_every_missing_secret_is_named_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a terminal, both variables are named in one line (exit 2), nothing else done."""
    monkeypatch.delenv("AMAZON_PASSWORD")
    monkeypatch.delenv("AMAZON_2FA_KEY")
    code, out = await run_cli("--store", str(tmp_path / "a"), "login", "--email", TEST_EMAIL)
    assert code == 2
    assert out == (
        "✗ Set AMAZON_2FA_KEY and AMAZON_PASSWORD, or run this in a terminal to be asked for "
        "them (hidden).\n"
    )
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY)
    code, out = await run_cli("--store", str(tmp_path / "a"), "login", "--email", TEST_EMAIL)
    assert code == 2
    assert "Set AMAZON_PASSWORD, or run this in a terminal to be asked for it" in out
    assert not (tmp_path / "a").exists()


async def test_reset_of_an_empty_folder_says_so(tmp_path: Path) -> None:
    """Nothing stored: "nothing to reset", no claim about a device or a wipe."""
    store = tmp_path / "empty"
    code, out = await run_cli("--store", str(store), "reset", "--yes")
    assert code == 0
    assert out == f"Nothing to reset: {store} holds no session, and no device is registered.\n"


def sub_parsers() -> dict[str, Any]:
    """Return the sub-commands' parsers by name."""
    parser = cli.build_parser()
    (action,) = (a for a in parser._actions if a.dest == "command")
    choices: dict[str, Any] = action.choices  # type: ignore[assignment]
    return choices


def test_help_describes_every_option() -> None:
    """Every option of every command has a description; login names its variables."""
    parser = cli.build_parser()
    for name, sub in [("", parser), *sub_parsers().items()]:
        for action in sub._actions:
            if action.dest not in ("help", "version", "command"):
                assert action.help, f"{name} {action.dest}"
    top = " ".join(parser.format_help().split())
    assert f"(default: {cli.default_store()})" in top
    login = " ".join(sub_parsers()["login"].format_help().split())
    assert "AMAZON_PASSWORD" in login
    assert "AMAZON_2FA_KEY" in login


def test_readme_synopsis_matches_the_commands() -> None:
    """The README's command-line block names every command, and the simulator's options."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Command line", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if re.match(r"  \S", line)]
    listed = {line.split()[0] for line in commands}
    listed |= {"uninstall-provider"} if "/ uninstall-provider" in block else set()
    assert set(sub_parsers()) <= listed, listed
    simulator = next(line for line in block.splitlines() if line.lstrip().startswith("simulator"))
    for action in sub_parsers()["simulator"]._actions:
        if action.option_strings and action.dest != "help":
            assert action.option_strings[-1] in simulator, action.option_strings


def test_no_duplicated_log_line_without_verbose(tmp_path: Path) -> None:
    """
    A real process: a refused sign-in prints its "✗" line, and standard error stays empty.

    With -v the log line is there (it is what -v is for).
    """

    async def run(*verbose: str) -> tuple[int, str, str]:
        async with AmazonSimulator() as sim:  # the child runs on the real clock
            sim.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
            env = {**os.environ, "AMAZON_PASSWORD": "wrong", "AMAZON_2FA_KEY": TEST_KEY}
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "music_assistant_alexa",
                *verbose,
                *cli_args(sim, tmp_path / f"acct{len(verbose)}", "login", "--email", TEST_EMAIL),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            out, err = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
            return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = asyncio.run(run())
    assert code == 3, err
    assert out.count("✗") == 1
    assert err == ""
    code, out, err = asyncio.run(run("-v"))
    assert code == 3, err
    assert "WARNING music_assistant_alexa.auth.session: Amazon sign-in failed" in err
