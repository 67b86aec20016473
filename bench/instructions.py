"""Instructions per status poll and per POST status read, floor and mock: a steady figure on
a noisy, shared machine.

    python bench/instructions.py                 # all three providers and the POST (minutes)
    python bench/instructions.py --provider a2e  # one provider's poll
    python bench/instructions.py --post          # the POST read only

Polls/s and CPU time move by tens of percent with what else the machine runs; an instruction
count does not. Each figure is the difference between two runs under valgrind (Debian
package ``valgrind``, tool cachegrind without cache simulation) that differ only in the
number of polls, divided by that number, so start-up, spec loading and task creation cancel
out. The polls go through aiohttp's real protocol, parser, router and response writer, fed
from memory (no sockets, so no kernel time is counted); the floor is bench/server.py's bare
app, the mock the same app ``bench/server.py --mode mock`` serves, with 300 live tasks.

The POST read is A2E's ``POST /api/v1/video/awsResult`` with ``{"_id": ...}`` (body read, JSON
parse, validation, lookup) against 300 live avatar videos; its floor reads the body and
answers a fixed body of the same shape (bench/server.py's ``floor_post_app``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

PROVIDERS = ("youcam", "relay", "a2e")
POST = "a2e-post"  # A2E's POST video/awsResult, in the table's provider column
KEY = "sk-bench"


class MemoryTransport(asyncio.Transport):
    """Swallows what the server writes and counts the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0
        self.ok = 0
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        self.answers += data.count(b"HTTP/1.1 ")
        self.ok += data.count(b"HTTP/1.1 200")

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Nothing to limit: every write is swallowed at once."""

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        """The polls are fed by hand; there is no reading to pause."""

    def resume_reading(self) -> None:
        """See pause_reading."""


def gets(paths: list[str]) -> list[bytes]:
    """One keep-alive status poll per path."""
    return [
        f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n".encode()
        for p in paths
    ]


def posts(path: str, bodies: list[str]) -> list[bytes]:
    """One keep-alive JSON POST to ``path`` per body."""
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n{b}"
        ).encode()
        for b in bodies
    ]


async def poll(app: Any, requests: list[bytes], count: int, batch: int = 16) -> None:
    """``count`` keep-alive requests over one connection, ``batch`` pipelined at a time."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    protocol = runner.server()
    transport = MemoryTransport()
    protocol.connection_made(transport)
    sent = 0
    while sent < count:
        chunk = b"".join(requests[(sent + k) % len(requests)] for k in range(batch))
        expected = transport.answers + batch
        protocol.data_received(chunk)
        sent += batch
        while transport.answers < expected:
            await asyncio.sleep(0)
    if transport.ok != transport.answers:
        raise SystemExit(f"{transport.answers - transport.ok} answers were not 200")
    await runner.cleanup()


async def child(mode: str, provider: str, count: int) -> None:
    import server as bench_server

    if provider == POST:
        read_path, body = bench_server.POST_READ[4:]
        if mode == "floor":
            app = bench_server.floor_post_app()
            ids = bench_server.floor_ids(300)["a2e"]
        else:
            app = mock_app()
            ids = await bench_server.populate_reads(app, 300)
        await poll(app, posts(read_path, [body % i for i in ids]), count)
        return
    status_path = bench_server.SUBMITS[provider][3]
    if mode == "floor":
        app = bench_server.floor_app()
        ids = bench_server.floor_ids(300)[provider]
    else:
        app = mock_app()
        ids = (await bench_server.populate(app, 900, None))[provider]
    await poll(app, gets([status_path.replace("{id}", i) for i in ids]), count)


def mock_app() -> Any:
    """The mock as bench/server.py builds it: its scenario, a frozen virtual clock."""
    import server as bench_server

    from mockserver.app import create_app
    from mockserver.cli import collection_paused
    from mockserver.clock import VirtualClock
    from mockserver.scenario import parse_text
    from mockserver.state import ServerOptions

    scenario = parse_text(json.dumps(bench_server.bench_scenario(None)), "bench")
    with collection_paused():
        return create_app(scenario, VirtualClock(speed=0.0), ServerOptions())


def instructions(mode: str, provider: str, count: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            mode,
            provider,
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    ).stderr
    return int(re.search(r"I\s+refs:\s+([\d,]+)", out).group(1).replace(",", ""))


def per_poll(mode: str, provider: str, low: int, high: int) -> float:
    return (instructions(mode, provider, high) - instructions(mode, provider, low)) / (high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=PROVIDERS, action="append")
    parser.add_argument(
        "--post", action="store_true", help="the POST read (alone, unless with --provider)"
    )
    parser.add_argument("--polls", type=int, default=1280, help="the difference between runs")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, provider, count = args.child
        asyncio.run(child(mode, provider, int(count)))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    print("| provider | floor instr/poll | mock instr/poll | floor / mock |")
    print("|---|---:|---:|---:|")
    chosen = list(args.provider or ([] if args.post else PROVIDERS))
    if args.post or not args.provider:
        chosen.append(POST)
    for provider in chosen:
        floor = per_poll("floor", provider, 320, 320 + args.polls)
        mock = per_poll("mock", provider, 320, 320 + args.polls)
        print(f"| {provider} | {floor:,.0f} | {mock:,.0f} | {floor / mock:.2f} |", flush=True)


if __name__ == "__main__":
    main()
