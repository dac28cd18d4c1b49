"""
``music-assistant-alexa login --browser``: the sign-in in the user's browser, on the command line.

The command prints the link, waits for the final page's address at a terminal (asking again
after a bad one) or takes it later with ``--final-url``, and finishes; exit codes as everywhere:
0 ok, 2 bad input (a malformed or foreign address), 3 needs the user (an expired link, nothing
waiting, no terminal), 4 temporary. A person signs in with the test browser in between, on the
same fake clock as the simulator and the CLI.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import TYPE_CHECKING, Final

import pytest

from music_assistant_alexa import cli
from music_assistant_alexa.auth.browser_sign_in import BROWSER_SIGN_IN_TTL
from music_assistant_alexa.auth.registration import CODE_PARAMETER
from music_assistant_alexa.cli import main
from music_assistant_alexa.simulator import AmazonSimulator, Scenario

from .helpers import TEST_EMAIL, TEST_KEY, TEST_PASSWORD, FakeClock
from .user_browser import Person, UserBrowser

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

#: Seconds the person may take in the browser while the CLI waits at its prompt.
PERSON_TIMEOUT: Final = 30.0
_LINK: Final = re.compile(r"^\s+(https?://\S+/ap/signin\?\S+)$", re.MULTILINE)
PROMPT: Final = "Address of the final page: "


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[AmazonSimulator]:
    """Run a simulator on the fake clock the CLI is given too, with a passkey-only account."""
    async with AmazonSimulator(clock=clock.time) as simulator:
        simulator.add_account(TEST_EMAIL, TEST_PASSWORD, TEST_KEY)
        yield simulator


@pytest.fixture
async def browser(sim: AmazonSimulator) -> AsyncIterator[UserBrowser]:
    """Return the person's browser."""
    opened = UserBrowser(sim)
    yield opened
    await opened.close()


@pytest.fixture
def person(sim: AmazonSimulator, clock: FakeClock) -> Person:
    """Return the account's owner, with the authenticator app and a passkey."""
    passkey = sim.add_passkey(TEST_EMAIL)
    return Person(TEST_EMAIL, TEST_PASSWORD, sim, clock, totp_key=TEST_KEY, passkey=passkey)


def passkey_only(sim: AmazonSimulator) -> None:
    """Make the account one that Amazon signs in with its passkey only."""
    account = sim.find_account(TEST_EMAIL)
    assert account is not None
    account.scenario = Scenario(passkey_forced=True)


def args_for(sim: AmazonSimulator, store: Path, *rest: str) -> list[str]:
    """Return the options that point the CLI at the simulator and a folder."""
    return ["--store", str(store), "--endpoint", sim.base_url, "--pace", "0", *rest]


def browser_login(sim: AmazonSimulator, store: Path, *rest: str) -> list[str]:
    """Return the arguments of `login --browser` for the test account."""
    return args_for(sim, store, "login", "--browser", "--email", TEST_EMAIL, *rest)


async def run(args: list[str], clock: FakeClock, out: io.StringIO | None = None) -> tuple[int, str]:
    """Run the CLI in a worker thread (it has its own event loop); return code and output."""
    out = out or io.StringIO()
    code = await asyncio.to_thread(main, args, out=out, clock=clock)
    return code, out.getvalue()


def link_in(output: str) -> str:
    """Return the link the CLI printed."""
    found = _LINK.search(output)
    assert found is not None, output
    return found.group(1)


def at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, out: io.StringIO, answer: Callable[[str], str]
) -> list[str]:
    """
    Give the CLI a terminal whose user answers each prompt with ``answer(printed so far)``.

    :returns: The prompts shown, in order.
    """
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return answer(out.getvalue())

    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli, "read_answer", read)
    return prompts


def signs_in(person: Person, browser: UserBrowser) -> Callable[[str], str]:
    """Return what the person at the terminal does: open the printed link, sign in, copy."""
    loop = asyncio.get_running_loop()

    def answer(printed: str) -> str:
        signed = person.sign_in(browser, link_in(printed))
        return asyncio.run_coroutine_threadsafe(signed, loop).result(PERSON_TIMEOUT)

    return answer


@pytest.fixture(autouse=True)
def no_secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep password and key out of the environment: the browser way needs neither."""
    monkeypatch.delenv("AMAZON_PASSWORD", raising=False)
    monkeypatch.delenv("AMAZON_2FA_KEY", raising=False)


async def test_a_passkey_only_account_signs_in_through_the_cli(  # noqa: PLR0917 - fixtures
    sim: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an automatic sign-in Amazon wants the passkey: the browser way; one device."""
    store = tmp_path / "acct"
    monkeypatch.setenv("AMAZON_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AMAZON_2FA_KEY", TEST_KEY)
    code, out = await run(args_for(sim, store, "login", "--email", TEST_EMAIL), clock)
    assert code == 0, out
    assert sim.device_count(TEST_EMAIL) == 1
    passkey_only(sim)
    code, out = await run(args_for(sim, store, "login", "--email", TEST_EMAIL), clock)
    assert code == 3
    assert "where the passkey works" in out
    assert (
        f"  Or sign in in your browser: music-assistant-alexa --store {store} --endpoint "
        f"{sim.base_url} login --browser --email {TEST_EMAIL}"
    ) in out
    monkeypatch.delenv("AMAZON_PASSWORD")
    monkeypatch.delenv("AMAZON_2FA_KEY")

    printed = io.StringIO()
    prompts = at_a_terminal(monkeypatch, printed, signs_in(person, browser))
    code, out = await run(browser_login(sim, store), clock, printed)

    assert code == 0, out
    assert prompts == [PROMPT]
    assert person.steps == ["password", "passkey"]
    assert 'Amazon ends on a "page not found" page.' in out
    assert "✓ Signed in." in out
    assert "✓ Signed in as Test on amazon.com" in out
    assert CODE_PARAMETER not in out
    assert sim.device_count(TEST_EMAIL) == 1
    code, out = await run(args_for(sim, store, "refresh"), clock)
    assert code == 0, out
    code, out = await run(args_for(sim, store, "status", "--json"), clock)
    assert json.loads(out)["signed_in"] is True
    assert sim.violations == []


async def test_without_a_terminal_the_link_now_and_the_address_later(
    sim: AmazonSimulator, person: Person, browser: UserBrowser, tmp_path: Path, clock: FakeClock
) -> None:
    """No terminal: the link and the way to finish it (exit 3); later --final-url (exit 0)."""
    passkey_only(sim)
    store = tmp_path / "acct"
    code, out = await run(browser_login(sim, store), clock)
    assert code == 3
    assert "There is no terminal here to paste the address into." in out
    later = (
        f"  music-assistant-alexa --store {store} --endpoint {sim.base_url} login --browser "
        f"--email {TEST_EMAIL} --final-url '<address of the final page>'"
    )
    assert later in out
    assert "music-assistant-alexa guide sign-in-in-your-browser" in out
    final = await person.sign_in(browser, link_in(out))
    code, out = await run(browser_login(sim, store, "--final-url", final), clock)
    assert code == 0, out
    assert "✓ Signed in." in out
    assert sim.device_count(TEST_EMAIL) == 1
    code, out = await run(browser_login(sim, store, "--final-url", final), clock)
    assert code == 2
    assert "already used" in out


async def test_exit_codes_of_a_final_address(  # noqa: PLR0917 - fixtures
    sim: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing waiting 3, foreign 2, Amazon's trouble 4, expired 3; --final-url needs --browser."""
    store = tmp_path / "acct"
    landing = f"https://www.amazon.com/ap/maplanding?{CODE_PARAMETER}=ANeGrdrnBRfxyPFeCHsnRVmI"
    code, out = await run(browser_login(sim, store, "--final-url", landing), clock)
    assert (code, "No sign-in in the browser is waiting" in out) == (3, True)
    code, out = await run(
        args_for(sim, store, "login", "--email", TEST_EMAIL, "--final-url", landing), clock
    )
    assert (code, "add --browser" in out) == (2, True)
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: False)
    code, out = await run(browser_login(sim, store), clock)
    assert code == 3
    final = await person.sign_in(browser, link_in(out))
    foreign = final.replace("www.amazon.com", "www.amazon.com.example.org")
    code, out = await run(browser_login(sim, store, "--final-url", foreign), clock)
    assert (code, "not on Amazon" in out) == (2, True)
    assert "How to fix it: music-assistant-alexa guide sign-in-in-your-browser" in out
    sim.scenario.server_error = 3
    code, out = await run(browser_login(sim, store, "--final-url", final), clock)
    assert (code, "server error" in out) == (4, True)
    sim.scenario.server_error = 0
    clock.advance(BROWSER_SIGN_IN_TTL)
    code, out = await run(browser_login(sim, store, "--final-url", final), clock)
    assert (code, "The link expired" in out) == (3, True)
    assert sim.device_count(TEST_EMAIL) == 0


async def test_a_wrong_paste_is_asked_for_again(  # noqa: PLR0917 - fixtures
    sim: AmazonSimulator,
    person: Person,
    browser: UserBrowser,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A paste that is not the final address is explained and asked for again; then it signs in."""
    passkey_only(sim)
    good = signs_in(person, browser)
    pastes = iter([link_in, good])
    printed = io.StringIO()
    prompts = at_a_terminal(monkeypatch, printed, lambda text: next(pastes)(text))  # noqa: PLW0108
    code, out = await run(browser_login(sim, tmp_path / "acct"), clock, printed)
    assert code == 0, out
    assert prompts == [PROMPT, PROMPT]
    assert "✗ This is the link to open, not the address Amazon shows at the end." in out


async def test_wrong_pastes_end_after_three(
    sim: AmazonSimulator, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three bad pastes: bad input (2), nothing sent to Amazon's sign-in."""
    printed = io.StringIO()
    prompts = at_a_terminal(monkeypatch, printed, lambda _text: "the page said not found")
    code, out = await run(browser_login(sim, tmp_path / "acct"), clock, printed)
    assert code == 2
    assert prompts == [PROMPT] * 3
    assert out.count("neither a web address nor a code") == 3
    assert sim.request_count() == 0


async def test_end_of_input_at_the_prompt_says_how_to_go_on(
    sim: AmazonSimulator, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Standard input closes at the prompt: like no terminal, exit 3 with the way on."""

    def closed(_text: str) -> str:
        raise EOFError

    printed = io.StringIO()
    at_a_terminal(monkeypatch, printed, closed)
    code, out = await run(browser_login(sim, tmp_path / "acct"), clock, printed)
    assert code == 3
    assert "--final-url" in out
    assert "Traceback" not in out
