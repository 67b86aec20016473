"""One Redis connection for the read before every request, with requests pipelined on it.

redis-py's command path (a pool checkout and release, the retry wrapper, packing every
argument through its encoder, a RESP3 parser built for any reply) cost a status poll ~250 µs
of the mock's CPU on Redis, more than the rest of the poll. The read is one script call with
a handful of short arguments and a small reply, so this connection writes the packed
``EVALSHA`` itself and parses the few RESP2 types a script answers with. Concurrent requests
share the connection: each writes its command and awaits the replies in order (Redis answers
a connection's commands in the order they came), so a poll is still one round trip and many
polls share a socket read.

Used for a plain ``redis://`` url (host, port, db, user, password); any other (TLS, a unix
socket, client options) keeps redis-py's path.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from redis.asyncio.connection import parse_url

SIMPLE = {"host", "port", "db", "username", "password"}
STALL = 30.0  # seconds without any reply while commands wait: the connection is dropped


class ReplyError(Exception):
    """An error reply (``-ERR ...``, ``-NOSCRIPT ...``)."""


class _Incomplete(Exception):
    """The buffer ends inside a reply: wait for more bytes."""


def simple_target(url: str) -> dict[str, Any] | None:
    """Where a plain ``redis://`` url points (host, port, db, user, password), else None."""
    if not url.startswith("redis://"):
        return None
    got = parse_url(url)
    if set(got) - SIMPLE:
        return None
    return {"host": "127.0.0.1", "port": 6379, "db": 0, **got}


def pack(*args: bytes | str | int) -> bytes:
    """One command in RESP."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(raw), raw))
    return b"".join(out)


def parse(buf: bytes | bytearray, at: int) -> tuple[Any, int]:
    """One RESP2 reply from ``buf`` at ``at``: (value, where the next begins). Raises
    ``_Incomplete`` when the buffer ends first; an error reply is a ``ReplyError`` value."""
    end = buf.find(b"\r\n", at)
    if end < 0:
        raise _Incomplete
    kind, line = buf[at : at + 1], buf[at + 1 : end]
    at = end + 2
    if kind == b":":
        return int(line), at
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, at
        if len(buf) < at + size + 2:
            raise _Incomplete
        return bytes(buf[at : at + size]), at + size + 2
    if kind == b"*":
        size = int(line)
        if size < 0:
            return None, at
        items = []
        for _ in range(size):
            item, at = parse(buf, at)
            items.append(item)
        return items, at
    if kind == b"+":
        return bytes(line), at
    if kind == b"-":
        return ReplyError(bytes(line).decode(errors="replace")), at
    raise ConnectionError(f"unexpected reply from redis: {bytes(buf[at - 2 : at + 40])!r}")


class RedisPipe(asyncio.Protocol):
    """A connection whose callers' commands are answered in the order they were written."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._buf = bytearray()
        self._lost: BaseException | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._answered = 0  # replies so far: the stall watch sees whether any came

    @classmethod
    async def open(cls, target: dict[str, Any], timeout: float = 3.0) -> RedisPipe:
        loop = asyncio.get_running_loop()
        _, pipe = await asyncio.wait_for(
            loop.create_connection(cls, target["host"], target["port"]), timeout
        )
        hello = []
        if target.get("password") is not None:
            user = target.get("username")
            hello.append(
                ("AUTH", user, target["password"]) if user else ("AUTH", target["password"])
            )
        if target["db"]:
            hello.append(("SELECT", target["db"]))
        for command in hello:
            reply = await asyncio.wait_for(pipe.call(pack(*command)), timeout)
            if isinstance(reply, ReplyError):
                pipe.close()
                raise ConnectionError(f"redis refused {command[0]}: {reply}")
        return pipe

    @property
    def usable(self) -> bool:
        return self._transport is not None and self._lost is None

    def call(self, command: bytes) -> asyncio.Future[Any]:
        """Write ``command``; the future holds its reply (a ``ReplyError`` for an error)."""
        future = asyncio.get_running_loop().create_future()
        if self._lost is not None or self._transport is None:
            future.set_exception(ConnectionError(f"redis connection lost: {self._lost}"))
            return future
        self._transport.write(command)
        self._waiting.append(future)
        if self._watch is None:
            self._watch = future.get_loop().call_later(STALL, self._check, self._answered)
        return future

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        at = 0
        waiting = self._waiting
        try:
            while at < len(buf) and waiting:
                reply, at = parse(buf, at)
                self._answered += 1
                future = waiting.popleft()
                if not future.done():  # a caller that gave up (cancelled) reads nothing
                    future.set_result(reply)
        except _Incomplete:
            pass
        except (ValueError, ConnectionError) as err:  # not RESP: nothing after it can be read
            self._fail(ConnectionError(str(err)))
            return
        del buf[:at]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("closed by the server"))

    # -- failure --------------------------------------------------------------------------
    def _check(self, answered: int) -> None:
        self._watch = None
        if not self._waiting:
            return
        if self._answered == answered:  # nothing answered for STALL seconds: give up on it
            self._fail(TimeoutError(f"no reply from redis in {STALL:.0f} s"))
            return
        self._watch = asyncio.get_running_loop().call_later(STALL, self._check, self._answered)

    def _fail(self, err: BaseException) -> None:
        if self._lost is None:
            self._lost = err
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(f"redis connection lost: {err}"))
        if self._transport is not None:
            self._transport.abort()
