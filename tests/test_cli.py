"""
The command line drives the real auth core against a simulator, and keeps secrets out of sight.

Passwords and keys come only from the environment or a prompt; the exit code says what kind of
trouble it was (2 bad input, 3 needs the user, 4 temporary); the demo works on a fresh folder;
the standalone simulator announces its address on its first line. The CLI runs on the tests'
fake clock, shared with the simulator, so no test waits for a one-time code's window.
"""

from __future__ import annotations

import asyncio
import builtins
import io
import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pyotp
import pytest

from music_assistant_alexa.auth.session import CAPTCHA_TTL
from music_assistant_alexa.cli import main
from music_assistant_alexa.simulator import AmazonSimulator

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


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
    code, refreshed = await run_cli(*cli_args(live_simulator, store, "refresh"), clock=clock)
    assert code == 0
    assert "Refreshed" in refreshed
    assert live_simulator.request_count("/auth/token") == 1
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
    prompts: list[str] = []

    def answer(prompt: str = "") -> str:
        prompts.append(prompt)
        live_simulator.scenario.captcha_before_password = False
        return live_simulator.captcha_answer

    monkeypatch.setattr(builtins, "input", answer)
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

    def late_answer(_prompt: str = "") -> str:
        clock.advance(CAPTCHA_TTL + 1)
        return live_simulator.captcha_answer

    monkeypatch.setattr(builtins, "input", late_answer)
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
    assert not store.exists()
    assert live_simulator.device_count(TEST_EMAIL) == 0
    assert [p.name.startswith("acct.backup-") for p in tmp_path.iterdir()] == [True]


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
    for step in ("[1/4] login", "✓ Signed in.", "[3/4] refresh", "✓ Refreshed (3 HTTP requests)"):
        assert step in text
    assert "  6 HTTP requests" in text


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
