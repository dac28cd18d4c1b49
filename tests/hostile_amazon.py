"""
A hostile Amazon: a real HTTP server in front of the simulator that spoils chosen answers.

Everything is forwarded to the simulator (which stays the faithful Amazon: sign-in, tokens,
cookies), except the requests a test picked, which get a hostile answer instead: JSON nested
200,000 deep, a ``Date`` header in the year 99999, an endless body, a form that sends the
password elsewhere, a redirect to another host. Clients are pointed at it exactly as at the
simulator (``--endpoint``, :func:`~tests.helpers.simulator_session`), so the real auth core, the
command line and the refresh task meet the hostile answer on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Self, TypeAlias

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from music_assistant_alexa.simulator import AmazonSimulator

#: Hop-by-hop and length headers the proxy must not copy from one side to the other.
_NOT_FORWARDED: Final = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "host"}
)


@dataclass(slots=True)
class Forwarded:
    """The simulator's answer to a forwarded request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def response(self, *, body: bytes | None = None) -> web.Response:
        """
        Return the answer as the proxy's response, optionally with another body.

        :param body: A replacement body.
        """
        response = web.Response(status=self.status, body=self.body if body is None else body)
        for name, value in self.headers:
            if name.lower() not in _NOT_FORWARDED:
                response.headers.add(name, value)
        return response


if TYPE_CHECKING:
    #: A hostile answer: given the request and the simulator's own answer, what to send instead.
    Spoiler: TypeAlias = Callable[[web.Request, Forwarded], Awaitable[web.StreamResponse]]


@dataclass
class HostileAmazon:
    """
    The proxy. ``spoil(method, path, answer)`` arms a hostile answer for one route.

    :param simulator: The simulator to forward to.
    """

    simulator: AmazonSimulator
    #: (method, host, path) of every request that reached the proxy.
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    #: Body bytes the endless answers managed to write before the client hung up.
    bytes_streamed: int = 0
    _spoilers: dict[tuple[str, str], Spoiler] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        """Return the URL clients are pointed at."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        """Start serving on a free loopback port."""
        self._client = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    def spoil(
        self,
        method: str,
        path: str,
        answer: Spoiler,
    ) -> None:
        """
        Answer one route with a hostile answer from now on.

        :param method: HTTP method.
        :param path: Path without query.
        :param answer: Builds the hostile answer.
        """
        self._spoilers[(method, path)] = answer

    def behave(self) -> None:
        """Forward everything again."""
        self._spoilers.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = request.headers.get("X-Forwarded-Host") or request.host
        self.requests.append((request.method, host.split(":")[0], request.path))
        forwarded = await self._forward(request, host)
        spoiler = self._spoilers.get((request.method, request.path))
        if spoiler is None:
            return forwarded.response()
        return await spoiler(request, forwarded)

    async def _forward(self, request: web.Request, host: str) -> Forwarded:
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        headers["X-Forwarded-Host"] = host
        async with self._client.request(
            request.method,
            f"{self.simulator.base_url}{request.rel_url}",
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as resp:
            body = await resp.read()
            return Forwarded(resp.status, list(resp.headers.items()), body)


@dataclass
class NotAmazon:
    """A server on loopback that is not Amazon: it records whatever reaches it."""

    #: (method, path, body) of every request it got.
    got: list[tuple[str, str, bytes]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        """Return its address (plain http, not an Amazon host)."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        """Start serving on a free loopback port."""

        async def take(request: web.Request) -> web.Response:
            self.got.append((request.method, request.path, await request.read()))
            return web.Response(text="thanks")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", take)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()


# --- hostile answers ----------------------------------------------------------------------------


def nested_json(depth: int) -> Spoiler:
    """
    Answer 200 with a JSON array nested ``depth`` deep.

    :param depth: How deep.
    """

    async def answer(_request: web.Request, _forwarded: Forwarded) -> web.StreamResponse:
        return web.Response(
            body=b"[" * depth + b"]" * depth, content_type="application/json", status=200
        )

    return answer


def with_header(name: str, value: str) -> Spoiler:
    """
    Answer as the simulator did, with one header replaced.

    :param name: Header name.
    :param value: Its hostile value.
    """

    async def answer(_request: web.Request, forwarded: Forwarded) -> web.StreamResponse:
        response = forwarded.response()
        response.headers[name] = value
        return response

    return answer


def rewritten(old: str, new: str) -> Spoiler:
    """
    Answer as the simulator did, with a piece of the body replaced (a form's action).

    :param old: Text to find (it must be there).
    :param new: What to put instead.
    """

    async def answer(_request: web.Request, forwarded: Forwarded) -> web.StreamResponse:
        text = forwarded.body.decode()
        assert old in text, f"{old!r} is not in the page"
        return forwarded.response(body=text.replace(old, new).encode())

    return answer


def json_answer(body: bytes) -> Spoiler:
    """
    Answer 200 with a JSON body given as raw bytes (so it may hold what ``json`` would not write).

    :param body: The body.
    """

    async def answer(_request: web.Request, _forwarded: Forwarded) -> web.StreamResponse:
        return web.Response(body=body, content_type="application/json")

    return answer


def redirect_to(location: str) -> Spoiler:
    """
    Answer with a 302 to a location.

    :param location: Where to.
    """

    async def answer(_request: web.Request, _forwarded: Forwarded) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": location})

    return answer


def endless(proxy: HostileAmazon, *, total: int, declare: bool = False) -> Spoiler:
    """
    Stream a body of ``total`` bytes, counting what gets written before the client hangs up.

    :param proxy: The proxy (its ``bytes_streamed`` counts).
    :param total: Bytes to send at most.
    :param declare: Announce the size in Content-Length (else: chunked, size unknown).
    """
    chunk = b"x" * 65536

    async def answer(request: web.Request, _forwarded: Forwarded) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/html"})
        if declare:
            response.content_length = total
        await response.prepare(request)
        try:
            while proxy.bytes_streamed < total:
                await response.write(chunk)
                proxy.bytes_streamed += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: the point of the exercise
        return response

    return answer
