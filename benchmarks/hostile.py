"""
Measure what hostile answers cost the auth core: memory and time, not pass or fail in CI.

Run from the repository root: ``python -m benchmarks.hostile`` (``--help`` for the knobs). A
child process serves the hostile answers (so its memory is not ours); this process asks it
through the real :class:`~music_assistant_alexa.auth.http.AmazonHttp` and prints one markdown
table:

* **A 1 GB answer** (chunked, and announced with ``Content-Length``): the peak resident memory
  of this process before and after the request (``ru_maxrss``), the Python allocations' peak
  during it (tracemalloc), the wall time, and how it ended (the error's code).
* **JSON nested 200,000 deep** and **a number 1e400**: the time to refuse them.
* With ``--uncapped``, the same 1 GB read the way the client read answers before issue 12
  (``await response.read()``), for comparison. It needs more than 1 GB of free memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Final

import aiohttp
from aiohttp import web

from music_assistant_alexa.auth.bounds import BoundsError, load_json
from music_assistant_alexa.auth.endpoints import AmazonHosts, resolver_kwargs
from music_assistant_alexa.auth.errors import AlexaAuthError
from music_assistant_alexa.auth.http import MAX_BODY_BYTES, AmazonHttp

if TYPE_CHECKING:
    from collections.abc import Sequence

GIB: Final = 1024**3
_CHUNK: Final = b"x" * (1024 * 1024)


# --- the child: a server that never stops talking -----------------------------------------------


async def _serve(size: int) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        if request.query.get("declare"):
            response.content_length = size
        await response.prepare(request)
        sent = 0
        with contextlib.suppress(ConnectionError, RuntimeError):
            while sent < size:
                await response.write(_CHUNK)
                sent += len(_CHUNK)
        return response

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", endless)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


# --- the measurements ---------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS; this benchmark reports Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _capped(base_url: str, query: str) -> tuple[str, float, float, float, float]:
    hosts = AmazonHosts.for_marketplace("amazon.com", base_url)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(**resolver_kwargs(base_url))
    ) as session:
        http = AmazonHttp(session, hosts, pace=0, timeout=600)
        before = _peak_rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        try:
            await http.request("GET", f"https://www.amazon.com/ap/signin{query}")
            outcome = "read (not capped!)"
        except AlexaAuthError as err:
            outcome = err.code
        elapsed = time.perf_counter() - started
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await http.close()
    return outcome, before, _peak_rss_mb(), traced / 1024**2, elapsed


async def _uncapped(base_url: str) -> tuple[str, float, float, float, float]:
    async with aiohttp.ClientSession() as session:
        before = _peak_rss_mb()
        started = time.perf_counter()
        async with session.get(f"{base_url}/") as response:
            body = await response.text()
        elapsed = time.perf_counter() - started
        outcome = f"read {len(body) / 1024**2:.0f} MB"
        del body
    return outcome, before, _peak_rss_mb(), float("nan"), elapsed


def _refusal_time(raw: bytes) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        load_json(raw)
        outcome = "parsed (not refused!)"
    except BoundsError as err:
        outcome = str(err)
    return outcome, time.perf_counter() - started


async def _measure(size: int, *, uncapped: bool) -> list[str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.hostile",
        "--serve",
        str(size),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        base_url = (await child.stdout.readline()).decode().strip()
        rows = []
        for label, query in (("chunked", ""), ("Content-Length announced", "?declare=1")):
            outcome, before, after, traced, elapsed = await _capped(base_url, query)
            rows.append(
                f"| {size / GIB:g} GB answer, {label} | {outcome} | {before:.0f} → {after:.0f} MB "
                f"| {traced:.1f} MB | {elapsed:.2f} s |"
            )
        if uncapped:
            outcome, before, after, _, elapsed = await _uncapped(base_url)
            rows.append(
                f"| {size / GIB:g} GB answer, read whole (before issue 12) | {outcome} "
                f"| {before:.0f} → {after:.0f} MB | — | {elapsed:.2f} s |"
            )
    finally:
        child.kill()
        await child.wait()
    for label, raw in (
        ("JSON nested 200,000 deep", b"[" * 200_000 + b"]" * 200_000),
        ("a number 1e400", b'{"expires_in": 1e400}'),
    ):
        outcome, elapsed = _refusal_time(raw)
        rows.append(f"| {label} | refused: {outcome} | — | — | {elapsed * 1000:.1f} ms |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the measurements and print the table.

    :param argv: Arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__)
    parser.add_argument("--size-gb", type=float, default=1.0, help="size of the endless answer")
    parser.add_argument(
        "--uncapped", action="store_true", help="also read it whole, as before (needs the memory)"
    )
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
        return 0
    rows = asyncio.run(_measure(int(args.size_gb * GIB), uncapped=args.uncapped))
    print(f"Cap: {MAX_BODY_BYTES / 1024**2:.0f} MB per answer. Python {sys.version.split()[0]}.")
    print()
    print("| hostile answer | outcome | peak memory of this process | Python allocations | time |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
