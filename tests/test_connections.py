"""Connections: a head that never finishes is closed, connections past the cap get a clean 503,
and a malformed or oversized head is refused in the path owner's envelope, echoing nothing.

Real sockets on loopback against ``GuardedRunner`` (what ``avatar-mock serve`` and the pytest
plugin run), with a header timeout small enough that the only waiting is that timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from mockserver.app import create_app
from mockserver.clock import VirtualClock
from mockserver.server import ConnectionLimits, GuardedRunner
from tests.serve_processes import free_port, wait_ready

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

SECRET = "sk-secret-do-not-echo"
HEAD_TIMEOUT = 0.3


@pytest.fixture
async def served(request) -> AsyncIterator[tuple[int, GuardedRunner]]:
    limits = getattr(request, "param", ConnectionLimits(header_timeout=HEAD_TIMEOUT))
    runner = GuardedRunner(create_app(clock=VirtualClock(speed=0.0)), limits)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site.port, runner
    await runner.cleanup()


async def exchange(port: int, raw: bytes, wait: float = 5.0) -> bytes:
    """Send ``raw``, read until the server closes (or ``wait`` passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def split(answer: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, json.loads(body)


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: mock", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def closed_by_server(runner: GuardedRunner) -> None:
    """Until the server saw the client's close (a refused connection is held until then)."""
    for _ in range(200):
        if runner.guard.open == 0:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{runner.guard.open} connections still open")


async def keep_sending(writer: asyncio.StreamWriter, chunks: list[bytes], every: float) -> None:
    """Write ``chunks`` one per ``every`` seconds, as a client unaware of any refusal; stop
    at a write error (the connection was reset)."""
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(every)
    except ConnectionError:
        pass


# --- header timeout -------------------------------------------------------------------------


async def test_a_head_that_never_finishes_is_closed_with_408(served):
    port, runner = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /__mock/health HTTP/1.1\r\nHost: mock\r\n")
    answer = b""
    for _ in range(50):  # dribble one header line every 20 ms: slowloris
        await asyncio.sleep(0.02)
        if writer.is_closing() or reader.at_eof():
            break
        writer.write(b"X-Slow: 1\r\n")
        try:
            answer += await asyncio.wait_for(reader.read(), 0.001)
        except TimeoutError:
            pass
        except ConnectionError:
            break
    answer += await asyncio.wait_for(reader.read(), 2)
    elapsed = time.monotonic() - started
    writer.close()
    await closed_by_server(runner)
    status, headers, body = split(answer)
    assert (status, body) == (
        408,
        {"error": "the request head did not arrive in time", "status": 408},
    )
    assert headers["Connection"] == "close"
    assert HEAD_TIMEOUT <= elapsed < HEAD_TIMEOUT + 1.0
    assert runner.guard.timed_out == 1 and runner.guard.open == 0


async def test_a_client_still_sending_at_the_deadline_reads_its_408(served):
    """Closing with the client's bytes unread resets the connection and loses the 408: the
    server half-closes and drops what still arrives, so the client reads its answer."""
    port, runner = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /__mock/health HTTP/1.1\r\nHost: mock\r\n")
    lines = int((HEAD_TIMEOUT + 0.2) / 0.005)  # past the deadline, under the header cap
    await keep_sending(writer, [b"X-Slow: 1\r\n"] * lines, 0.005)
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert split(answer)[0] == 408
    await closed_by_server(runner)


async def test_a_head_refused_while_it_still_arrives_is_read_not_reset(served):
    port, runner = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    big = b"GET /__mock/health HTTP/1.1\r\nHost: mock\r\nX-Big: " + b"a" * 4_000_000
    await keep_sending(writer, [big, b"\r\n\r\n"], 0)
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    status, _, body = split(answer)
    assert (status, body) == (400, {"error": "a request header is too large", "status": 400})
    await closed_by_server(runner)


async def test_a_connection_that_sends_nothing_is_closed_too(served):
    port, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert split(answer)[0] == 408


async def test_keepalive_idle_time_is_not_the_head_timeout(served):
    """The deadline runs from a request's first byte, so a keep-alive client that pauses
    between requests longer than the header timeout is still served."""
    port, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(2):
        writer.write(get("/__mock/health"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        length = int(
            next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        await reader.readexactly(length)
        assert head.startswith(b"HTTP/1.1 200")
        await asyncio.sleep(HEAD_TIMEOUT * 2)  # idle, not inside a head
    writer.close()


async def _served_once(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A keep-alive connection that has had one request answered: what follows on it is a
    next head (the guard's short way when it arrives whole)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(get("/__mock/health"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    length = next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    await reader.readexactly(int(length.split(b":")[1]))
    return reader, writer


async def test_a_next_head_that_never_finishes_is_closed_with_408(served):
    """The deadline also guards the second head on a connection, timed from its first byte."""
    port, runner = served
    reader, writer = await _served_once(port)
    started = time.monotonic()
    writer.write(b"GET /__mock/health HTTP/1.1\r\nHost: mock\r\n")  # and nothing more
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert split(answer)[0] == 408
    assert HEAD_TIMEOUT <= time.monotonic() - started < HEAD_TIMEOUT + 1.0
    assert runner.guard.timed_out == 1
    await closed_by_server(runner)


async def test_a_malformed_next_head_on_an_a2e_path_gets_a2es_envelope(served):
    """A bad head arriving whole on a kept-alive connection is refused in the words of the
    provider its path names, as a first head is."""
    port, runner = served
    reader, writer = await _served_once(port)
    writer.write(get("/api/v1/userImage2Video/x", f"Authorization: Bearer {SECRET}\x01"))
    answer = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    status, _, body = split(answer)
    assert status == 400 and body["code"] == 400 and body["data"] is None
    assert body["msg"] == "Bad Request: malformed request head" and body["trace_id"]
    assert SECRET.encode() not in answer
    await closed_by_server(runner)


# --- connection cap -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "served", [ConnectionLimits(header_timeout=None, max_connections=3)], indirect=True
)
async def test_connections_past_the_cap_get_a_clean_503(served, caplog):
    port, runner = served
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert runner.guard.open == 3
    with caplog.at_level(logging.WARNING, logger="avatar_mock"):
        answers = [await exchange(port, get("/__mock/health"), wait=3) for _ in range(5)]
    for answer in answers:
        status, headers, body = split(answer)
        assert status == 503 and headers["Retry-After"] == "1"
        assert body == {"error": "too many open connections; retry shortly", "status": 503}
    assert runner.guard.refused == 5
    refusals = [r for r in caplog.records if "refused a connection" in r.getMessage()]
    assert len(refusals) == 1  # five refusals, one log line
    _, writer = held.pop()
    writer.close()
    await asyncio.sleep(0.05)
    status, _, body = split(await exchange(port, get("/__mock/health", "Connection: close")))
    assert status == 200 and body["status"] == "ok"  # room again: served
    for _, writer in held:
        writer.close()


# --- header errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/s2s/v2.0/task/ai-avatar/x",
            {
                "status": 400,
                "error": "Invalid parameter value: a request header is too large",
                "error_code": "InvalidParameters",
            },
        ),
        (
            "/avatar/task/x",
            {"code": "invalid_request", "message": "a request header is too large", "data": None},
        ),
        ("/__mock/health", {"error": "a request header is too large", "status": 400}),
        ("/nowhere", {"error": "a request header is too large", "status": 400}),
    ],
)
async def test_an_oversized_header_is_refused_in_the_owners_envelope(
    served, path, expected, caplog
):
    port, _ = served
    with caplog.at_level(logging.DEBUG):
        answer = await exchange(port, get(path, f"Authorization: Bearer {SECRET}{'A' * 9000}"))
    status, headers, body = split(answer)
    assert (status, body) == (400, expected)
    assert headers["Content-Type"] == "application/json"
    assert SECRET.encode() not in answer
    assert all(SECRET not in r.getMessage() for r in caplog.records)


async def test_a_malformed_header_on_an_a2e_path_gets_a2es_envelope(served, caplog):
    port, _ = served
    with caplog.at_level(logging.DEBUG):
        answer = await exchange(
            port, get("/api/v1/userImage2Video/x", f"Authorization: Bearer {SECRET}\x01")
        )
    status, _, body = split(answer)
    assert status == 400 and body["code"] == 400 and body["data"] is None
    assert body["msg"] == "Bad Request: malformed request head" and body["trace_id"]
    assert SECRET.encode() not in answer
    assert all(SECRET not in r.getMessage() and not r.exc_info for r in caplog.records)


async def test_a_request_line_that_is_not_http_gets_the_neutral_json(served):
    port, _ = served
    status, _, body = split(await exchange(port, b"\x16\x03\x01 hello\r\n\r\n"))
    assert (status, body) == (400, {"error": "malformed request head", "status": 400})


# --- avatar-mock serve ----------------------------------------------------------------------


def test_serve_flags_set_the_limits():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mockserver", "serve", "--port", str(port),
            "--header-timeout", "0.5", "--max-connections", "2", "--max-header-size", "100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_ready(proc, f"http://127.0.0.1:{port}")

        async def probe() -> tuple[bytes, bytes, bytes]:
            slow = await asyncio.open_connection("127.0.0.1", port)
            other = await asyncio.open_connection("127.0.0.1", port)
            other[1].write(get("/avatar/task/x", f"X-Long: {'a' * 200}"))
            too_long = await asyncio.wait_for(other[0].read(), 3)  # held until we close it
            refused = await exchange(port, get("/__mock/health"))
            timed_out = await asyncio.wait_for(slow[0].read(), 3)
            slow[1].close()
            other[1].close()
            return too_long, refused, timed_out

        too_long, refused, timed_out = asyncio.run(probe())
        assert split(too_long)[2]["code"] == "invalid_request"
        assert split(refused)[0] == 503
        assert split(timed_out)[0] == 408
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0  # SIGTERM: a clean stop


def test_serve_refuses_a_bad_limit():
    out = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--header-timeout", "nan"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "argument --header-timeout: 'nan' is not a number" in out.stderr
