"""How the mock is put on a socket: aiohttp's server with the limits a shared server needs.

aiohttp alone keeps a connection that never finishes its request head until the keep-alive
timeout, takes every connection the OS hands it until the process runs out of file
descriptors (then ``accept()`` fails for everyone and asyncio logs every failure), and answers
a malformed or oversized head with a plain-text 400 that quotes the offending bytes, a bearer
key included. ``GuardedRunner`` (an ``AppRunner``) changes three things:

- **header timeout**: a connection must deliver a complete request head within
  ``header_timeout`` seconds of opening, or of the first byte of its next request; otherwise
  it gets a 408 and is closed (slowloris). Idle keep-alive connections close after
  ``keepalive_timeout``.
- **connection cap**: past ``max_connections`` open connections a new one is answered
  ``503`` with ``Retry-After: 1`` and closed, so descriptors never run out (the default stays
  below the process's file limit).
- **header errors**: a malformed or oversized head gets a JSON 400 in the dialect of the
  provider that owns the path (the request line's, when it was read), the control API's
  ``{"error", "status"}`` under ``/__mock/``, else that neutral shape, and echoes none of it.

Refusals are logged through ``QuietLog``: one line per kind per 10 s, with a count.
``avatar-mock serve`` runs :func:`serve`; the pytest plugin and tests use ``GuardedRunner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from mockserver.ids import uuid4
from mockserver.keys import PROVIDERS_KEY, STATE_KEY
from mockserver.loops import loop_factory
from mockserver.quietlog import QuietLog

log = logging.getLogger("avatar_mock")
quiet = QuietLog(log)  # the event loop's own complaints (failed accept), once per process

CONTROL_PREFIX = "/__mock"
HEAD_KEPT = 2048  # bytes of a request head kept to find its path when the head is refused
FD_RESERVE = 128  # descriptors left beside the cap: refusals, webhooks, files, the listener
LINGER_SECONDS = 1.0  # a refused connection is held this long for the client to read the 503
LINGER_MAX = 32  # refused connections held at once (from the reserve); more close at once

# (status, body) for a refused request head, given its path (None: the request line was not
# read) and what was wrong with it.
HeadAnswer = Callable[[str | None, str], tuple[int, bytes]]


def default_max_connections() -> int:
    """Below the process's file limit, so the listener never meets EMFILE; at most 4096."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft - FD_RESERVE))


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may take (``serve --header-timeout`` ... ``--max-header-size``)."""

    header_timeout: float | None = 10.0  # None: only the keep-alive timeout applies
    keepalive_timeout: float = 75.0
    max_connections: int = field(default_factory=default_max_connections)
    max_field_size: int = 8190  # one header line (and the request line)
    max_headers: int = 128


def _raw(status: int, reason: str, body: dict[str, Any], extra: str = "") -> bytes:
    data = orjson.dumps(body)
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n{extra}\r\n"
    )
    return head.encode() + data


REFUSED = _raw(
    503,
    "Service Unavailable",
    {"error": "too many open connections; retry shortly", "status": 503},
    "Retry-After: 1\r\n",
)
HEAD_TIMEOUT = _raw(
    408, "Request Timeout", {"error": "the request head did not arrive in time", "status": 408}
)


def _neutral(detail: str) -> tuple[int, bytes]:
    return 400, orjson.dumps({"error": detail, "status": 400})


def head_answer(app: web.Application) -> HeadAnswer:
    """The answer to a refused head, in the dialect of whoever owns its path."""

    def answer(path: str | None, detail: str) -> tuple[int, bytes]:
        if path is None or path.startswith(CONTROL_PREFIX):
            return _neutral(detail)
        for provider in app[PROVIDERS_KEY]:
            if provider.owns(path):
                dialect = provider.dialect
                err = dialect.pipeline_error("invalid_params", detail)
                trace_id = uuid4(app[STATE_KEY].id_rng("trace").getrandbits(128))
                return err.status, orjson.dumps(dialect.render(err, trace_id))
        return _neutral(detail)

    return answer


def _path_of(head: bytes) -> str | None:
    """The path of ``METHOD /path HTTP/x`` at the start of ``head``, if the line is whole."""
    line, newline, _ = head.partition(b"\n")
    parts = line.rstrip(b"\r").split(b" ")
    if not newline or len(parts) != 3 or not parts[1].startswith(b"/"):
        return None
    return parts[1].split(b"?", 1)[0].decode("latin-1")


def _problem(exc: HttpProcessingError) -> str:
    if isinstance(exc, LineTooLong):
        return "a request header is too large"
    if "Too many headers" in (exc.message or ""):
        return "too many request headers"
    return "malformed request head"


class _Refusal(asyncio.Protocol):
    """A connection over the cap: a 503, then closed once the client had time to read it
    (closing with its request unread would reset the connection and lose the answer)."""

    def __init__(self, server: GuardedServer) -> None:
        self.server = server
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport; uvloop's do not subclass asyncio.Transport, so no isinstance
        transport = cast(asyncio.Transport, transport)
        transport.write(REFUSED)
        if self.server.lingering >= LINGER_MAX or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.server.lingering += 1
        self.timer = asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)

    def data_received(self, data: bytes) -> None:
        pass  # the request is not read

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.server.lingering -= 1


class _HeadRefusal(web.Response):
    """The answer to a refused head, which calls ``written`` once it is sent: the connection
    is then closed readably. (A hook here, not an override of ``finish_response``, which
    would add a coroutine to every request.)"""

    def __init__(self, written: Callable[[], None], *, status: int, body: bytes) -> None:
        super().__init__(status=status, body=body, content_type="application/json")
        self._written = written

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(data)
        self._written()


class GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler with a deadline on the request head and JSON refusals.

    Uses two of ``RequestHandler``'s internals, ``_request_count`` (heads parsed so far) and
    ``_waiter`` (set while the connection waits for its next request); the tests in
    tests/test_connections.py pin the behaviour they give.
    """

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = False  # reading a request head: since connect, or its first byte
        self._heads = 0  # heads parsed when the current one began
        self._head = b""  # its first bytes, for the path of a refused head
        self._linger: asyncio.TimerHandle | None = None  # set once a refusal went out
        self._dropping = False  # a head was refused or timed out: what arrives is dropped

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._begin_head()

    def _begin_head(self) -> None:
        """A connection made: its first head is due within the deadline from now."""
        self._in_head = True
        self._heads = self._request_count
        self._head = b""
        self._arm()

    def _arm(self) -> None:
        timeout = self._guard.limits.header_timeout
        if timeout is not None:
            self._deadline = self._loop.call_later(timeout, self._head_timed_out)

    def _end_head(self) -> None:
        self._in_head = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        """Times a head from its first byte, but arms the deadline only for a head still
        incomplete once that chunk is parsed: most heads arrive whole, and a timer armed and
        cancelled per request was ~9 % of a status poll's instructions. A chunk that is a
        whole next head (a keep-alive poll's) takes the short way: parsed, and done."""
        if self._in_head or self._dropping:
            self._data_in_head(data)
            return
        waiter = self._waiter
        if waiter is None or waiter.done():  # a body, or a pipelined head: nothing to time
            RequestHandler.data_received(self, data)
            return
        # the first byte of the next request on this connection
        heads = self._request_count
        self._head = data  # its path, should the parser refuse it (sliced when read)
        RequestHandler.data_received(self, data)
        if self._request_count == heads:  # incomplete: its deadline runs from now
            self._in_head = True
            self._heads = heads
            self._head = data[:HEAD_KEPT]
            self._arm()

    def _data_in_head(self, data: bytes) -> None:
        """A chunk of a head begun earlier (the first on a connection), or one after a
        refusal: read and dropped, so the close is not a reset."""
        if self._dropping:
            return
        if len(self._head) < HEAD_KEPT and b"\n" not in self._head:
            self._head += data[: HEAD_KEPT - len(self._head)]
        RequestHandler.data_received(self, data)
        if self._in_head:
            if self._request_count != self._heads:
                self._end_head()
            elif self._deadline is None:
                self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._end_head()
        if self._linger is not None:
            self._linger.cancel()
            self._guard.lingering -= 1
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._deadline = None
        if not self._in_head or self._request_count != self._heads or self.transport is None:
            return
        self._guard.timed_out += 1
        self._guard.quiet.warning(
            "header-timeout",
            "closed a connection from %s: no complete request head within %g s",
            self._peer(),
            self._guard.limits.header_timeout,
        )
        self.transport.write(HEAD_TIMEOUT)
        self._close_readably()

    def _close_readably(self) -> None:
        """Half-close and hold the connection, as a refused one is: its client may still be
        sending (a slowloris, the rest of an oversized head), and closing with its bytes
        unread would reset the connection and lose the answer before it is read. What
        arrives meanwhile is dropped; the client's close, or ``LINGER_SECONDS``, ends it."""
        transport = self.transport
        if transport is None:
            return
        if self._guard.lingering >= LINGER_MAX or not transport.can_write_eof():
            self.force_close()
            return
        self._force_close = True  # nothing more is served on it
        self._dropping = True
        transport.write_eof()
        self._guard.lingering += 1
        self._linger = self._loop.call_later(LINGER_SECONDS, self.force_close)

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        return str(peer[0]) if peer else "unknown"

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A head the parser refused: the owner's envelope, nothing of the head echoed."""
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        problem = _problem(exc)
        self._guard.bad_heads += 1
        self._guard.quiet.warning(
            "bad-head", "refused a request head from %s: %s", self._peer(), problem
        )
        status, body = self._guard.answer(_path_of(self._head[:HEAD_KEPT]), problem)
        response = _HeadRefusal(self._close_readably, status=status, body=body)
        response.force_close()
        self._dropping = True  # closed readably once the answer is written
        return response


class GuardedServer(web.Server):
    """The protocol factory: a guarded handler per connection, or a refusal past the cap."""

    def __init__(
        self,
        base: web.Server,
        limits: ConnectionLimits,
        answer: HeadAnswer,
        handler_kwargs: dict[str, Any],
    ) -> None:
        super().__init__(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            **handler_kwargs,
        )
        self.handler_kwargs = handler_kwargs
        self.limits = limits
        self.answer = answer
        self.open = 0  # connections served now
        self.lingering = 0  # refused connections still held for their 503 to be read
        self.refused = 0  # counters since start, for tests and operators
        self.timed_out = 0
        self.bad_heads = 0
        self.quiet = QuietLog(log)  # refusals: one line per kind per 10 s, with a count

    def __call__(self) -> asyncio.BaseProtocol:  # type: ignore[override]
        if self.open >= self.limits.max_connections:
            self.refused += 1
            self.quiet.warning(
                "connection-refused",
                "refused a connection: %d open, the most allowed (serve --max-connections)",
                self.open,
            )
            return _Refusal(self)
        self.open += 1
        return GuardedRequestHandler(self, loop=self._loop, **self.handler_kwargs)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self.open -= 1


class GuardedRunner(web.AppRunner):
    """``web.AppRunner`` whose server is a :class:`GuardedServer` with ``limits``."""

    def __init__(self, app: web.Application, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        self.handler_kwargs: dict[str, Any] = {
            "access_log": None,
            "keepalive_timeout": self.limits.keepalive_timeout,
            "max_line_size": self.limits.max_field_size,
            "max_field_size": self.limits.max_field_size,
            "max_headers": self.limits.max_headers,
        }
        super().__init__(app, **self.handler_kwargs)

    @property
    def guard(self) -> GuardedServer:
        server = self.server
        assert isinstance(server, GuardedServer), "setup() first"
        return server

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()  # starts the app, as AppRunner does
        kwargs = {**self.handler_kwargs, "access_log_class": web.AccessLogger}
        return GuardedServer(base, self.limits, head_answer(self.app), kwargs)


def _quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio reports every failed ``accept()`` (EMFILE: out of descriptors) with a
    traceback, as fast as it retries; one line per 10 s is enough."""
    exc = context.get("exception")
    if isinstance(exc, OSError) and "accept" in str(context.get("message", "")):
        quiet.warning("accept-failed", "cannot accept connections: %s", exc)
        return
    loop.default_exception_handler(context)


async def _serve(
    app: web.Application, host: str, port: int, limits: ConnectionLimits, reuse_port: bool
) -> None:
    runner = GuardedRunner(app, limits)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_loop_errors)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(
    app: web.Application,
    host: str,
    port: int,
    limits: ConnectionLimits,
    loop: str = "asyncio",
    *,
    reuse_port: bool = False,
) -> None:
    """Serve ``app`` on ``host:port`` until SIGINT or SIGTERM (``avatar-mock serve``), on a
    new event loop of kind ``loop`` (see mockserver/loops.py); ``reuse_port``: share the port
    with the other workers of ``serve --workers`` (SO_REUSEPORT)."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        runner.run(_serve(app, host, port, limits, reuse_port))
