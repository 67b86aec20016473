"""Instructions per status poll and per POST status read, floor and mock: a steady figure on
a noisy, shared machine.

    python bench/instructions.py                 # all three providers and the POST (minutes)
    python bench/instructions.py --provider a2e  # one provider's poll
    python bench/instructions.py --post          # the POST read only
    python bench/instructions.py --provider relay --state sqlite   # on a state backend
    python bench/instructions.py --provider relay --state redis --cpu --tree /tmp/main

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

``--state sqlite|redis|URL`` runs the mock on a state backend (a temp sqlite file; a
redis-server started in a temp dir, or ``$AVATAR_MOCK_REDIS_URL``, outside valgrind, so only
the mock's own instructions are counted, not the store's): the read before each request, the
write check after it and the fleet journal's batched appends (sent every 64 polls, about what
a replica under load sends per 20 ms batch) are in the figure. ``--cpu`` reports the mock
process's CPU time per poll (user + system, no valgrind) instead: it includes the kernel's
socket work, which instructions do not, and moves with the machine's load. ``--tree PATH``
(repeatable) measures the mock of another checkout (its ``mockserver`` package, this tree's
harness); trees alternate, ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tests.redis_server import redis_server, with_prefix  # noqa: E402

PROVIDERS = ("youcam", "relay", "a2e")
MEMORY = "memory"
TREE_ENV = "BENCH_TREE"  # the checkout whose mockserver a child measures
POST = "a2e-post"  # A2E's POST video/awsResult, in the table's provider column
KEY = "sk-bench"


class MemoryTransport(asyncio.Transport):
    """Swallows what the server writes and counts the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0
        self.ok = 0
        self._closing = False
        self.waiting: tuple[int, asyncio.Future[None]] | None = None  # (answers, woken at)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        self.answers += data.count(b"HTTP/1.1 ")
        self.ok += data.count(b"HTTP/1.1 200")
        if self.waiting is not None and self.answers >= self.waiting[0]:
            self.waiting[1].set_result(None)
            self.waiting = None

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


async def poll(
    app: Any,
    requests: list[bytes],
    count: int,
    batch: int = 16,
    runner: Any = None,
    timed: int = 0,
) -> float:
    """``count`` keep-alive requests over one connection, ``batch`` pipelined at a time; the
    process's CPU seconds over the last ``timed`` of them. On a state backend the answers
    are awaited (they wait on the store's I/O) and the fleet journal is sent every 64."""
    from aiohttp import web

    if runner is None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
    protocol = runner.server()
    transport = MemoryTransport()
    protocol.connection_made(transport)
    from mockserver.keys import STATE_KEY

    state = app.get(STATE_KEY)  # none on the floor
    journal = state.journal if state is not None and state.persist is not None else None
    gc.collect()  # what setting up left: a full collection in one run and not the other
    gc.freeze()  # would move the difference by tens of thousands of instructions a poll
    sent = 0
    started = 0.0
    while sent < count:
        if sent == count - timed:
            started = time.process_time()
        chunk = b"".join(requests[(sent + k) % len(requests)] for k in range(batch))
        expected = transport.answers + batch
        protocol.data_received(chunk)
        sent += batch
        if journal is None:
            while transport.answers < expected:
                await asyncio.sleep(0)
            continue
        if transport.answers < expected:
            transport.waiting = (expected, asyncio.get_running_loop().create_future())
            await transport.waiting[1]
        if sent % 64 == 0:
            await journal.drain()
    spent = time.process_time() - started
    if transport.ok != transport.answers:
        raise SystemExit(f"{transport.answers - transport.ok} answers were not 200")
    await runner.cleanup()
    return spent


async def child(mode: str, provider: str, count: int, state_url: str, timed: int) -> float:
    """Polls ``count`` times; the CPU seconds of the last ``timed`` polls."""
    tree = os.environ.get(TREE_ENV)
    if tree:  # the package first, so that the harness's own imports resolve inside it
        sys.path.insert(0, tree)
        import mockserver.app  # noqa: F401
    import server as bench_server

    if provider == POST:
        read_path, body = bench_server.POST_READ[4:]
        if mode == "floor":
            app = bench_server.floor_post_app()
            ids = bench_server.floor_ids(300)["a2e"]
        else:
            app = mock_app()
            ids = await bench_server.populate_reads(app, 300)
        return await poll(app, posts(read_path, [body % i for i in ids]), count, timed=timed)
    status_path = bench_server.SUBMITS[provider][3]
    runner = None
    if mode == "floor":
        app = bench_server.floor_app()
        ids = bench_server.floor_ids(300)[provider]
    elif state_url == MEMORY:
        app = mock_app()
        ids = (await bench_server.populate(app, 900, None))[provider]
    else:  # the store opened first (on_startup), so the tasks are written to it
        from aiohttp import web

        from mockserver import fleetjournal
        from mockserver.keys import STATE_KEY

        fleetjournal.BATCH = 3600.0  # sent by poll(), every 64 polls, not by wall time
        app = mock_app(state_url)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ids = (await bench_server.populate(app, 900, None))[provider]
        await app[STATE_KEY].persist.flush()
    requests = gets([status_path.replace("{id}", i) for i in ids])
    return await poll(app, requests, count, runner=runner, timed=timed)


def mock_app(state_url: str = "memory") -> Any:
    """The mock as bench/server.py builds it: its scenario, a frozen virtual clock."""
    import server as bench_server

    from mockserver.app import create_app
    from mockserver.cli import collection_paused
    from mockserver.clock import VirtualClock
    from mockserver.scenario import parse_text
    from mockserver.state import ServerOptions

    scenario = parse_text(json.dumps(bench_server.bench_scenario(None)), "bench")
    with collection_paused():
        return create_app(scenario, VirtualClock(speed=0.0), ServerOptions(state=state_url))


def child_command(mode: str, provider: str, count: int, state_url: str, timed: int) -> list[str]:
    return [sys.executable, __file__, "--child", mode, provider, str(count), state_url, str(timed)]


def child_env(tree: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if tree:
        env[TREE_ENV] = tree
    return env


def instructions(mode: str, provider: str, count: int, state_url: str, tree: str | None) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            *child_command(mode, provider, count, state_url, 0),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(tree),
    ).stderr
    return int(re.search(r"I\s+refs:\s+([\d,]+)", out).group(1).replace(",", ""))


def per_poll(
    mode: str, provider: str, low: int, high: int, store: Callable[[], str], tree: str | None
) -> float:
    """Each run on a fresh store (``store()``): the two differ only in the polls."""

    def run(count: int) -> int:
        return instructions(mode, provider, count, store(), tree)

    return (run(high) - run(low)) / (high - low)


def cpu_per_poll(
    mode: str, provider: str, low: int, polls: int, state_url: str, tree: str | None
) -> float:
    """µs of the process's CPU per poll over ``polls`` polls after ``low`` to warm up."""
    out = subprocess.run(
        child_command(mode, provider, low + polls, state_url, polls),
        capture_output=True,
        text=True,
        check=True,
        env=child_env(tree),
    ).stdout
    return float(out.split()[-1]) / polls * 1e6


def store_url(name: str, tmp: Path, redis_url: str | None) -> str:
    """``--state``'s word made a url: a fresh sqlite file, a fresh Redis prefix."""
    if name == "sqlite":
        return f"sqlite:{tmp}/{uuid.uuid4().hex}.db"
    if name == "redis":
        if redis_url is None:
            raise SystemExit("no redis-server to start and no $AVATAR_MOCK_REDIS_URL")
        return with_prefix(redis_url, f"i{uuid.uuid4().hex}:")
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=PROVIDERS, action="append")
    parser.add_argument(
        "--post", action="store_true", help="the POST read (alone, unless with --provider)"
    )
    parser.add_argument("--polls", type=int, default=1280, help="the difference between runs")
    parser.add_argument(
        "--state", default=MEMORY, help="memory (default), sqlite, redis, or a --state url"
    )
    parser.add_argument("--cpu", action="store_true", help="CPU µs per poll, not instructions")
    parser.add_argument("--tree", action="append", help="a checkout whose mock to measure")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the trees")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, provider, count, state_url, timed = args.child
        spent = asyncio.run(child(mode, provider, int(count), state_url, int(timed)))
        print(f"{spent:.6f}")
        return
    if not args.cpu and shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    if args.state != MEMORY and args.post:
        raise SystemExit("--state measures the status polls (--provider), not the POST read")
    unit = "CPU µs/poll" if args.cpu else "instr/poll"
    print(f"| provider | state | tree | floor {unit} | mock {unit} | floor / mock |")
    print("|---|---|---|---:|---:|---:|")
    chosen = list(args.provider or ([] if args.post else PROVIDERS))
    if (args.post or not args.provider) and args.state == MEMORY:
        chosen.append(POST)
    trees: list[str | None] = list(args.tree or [None])
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis_url:

        def measure(mode: str, provider: str, state: str, tree: str | None) -> float:
            def store() -> str:
                return store_url(state, Path(tmp), redis_url)

            if args.cpu:
                return cpu_per_poll(mode, provider, 320, args.polls, store(), tree)
            return per_poll(mode, provider, 320, 320 + args.polls, store, tree)

        for _ in range(args.repeat):
            for provider in chosen:
                floor = measure("floor", provider, MEMORY, None)
                for tree in trees:
                    mock = measure("mock", provider, args.state, tree)
                    name = tree or "."
                    print(
                        f"| {provider} | {args.state} | {name} | {floor:,.0f} | {mock:,.0f} "
                        f"| {floor / mock:.2f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
