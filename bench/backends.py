"""Poll-shaped reads and submit-shaped writes against each state backend, in one run.

    python bench/backends.py [--seconds 2] [--rounds 3] [--concurrency 8] [--tasks 2000]
                             [--redis redis://HOST:PORT/DB]

A poll is what a status poll will ask of the store: ``Backend.poll`` with one task record,
two rate-limit windows and one pending journal entry (one round trip). A submit is an id
from a sequence counter and a create-only put with two index memberships (two round trips).
``--concurrency`` coroutines issue them back to back on one event loop, one client each
backend, as one replica would. Slices alternate (each backend's polls, then its submits,
round after round), so a change of load on a shared machine touches every row alike.

CPU per op is this process's (the client, and sqlite's worker thread) plus, for Redis, the
server's own (``INFO cpu``): it moves less with other load than wall time. The loop-lag column
is the p99 delay of a 1 ms ticker on the same loop (its worst slice): what the store's calls
add to every other request's latency. The "on the loop" rows run the same sqlite calls on the
event loop's thread instead of the worker thread, to show what the thread buys. Without
``--redis`` a redis-server is started on a free port in a temp dir (no persistence).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.backends import Backend, CounterOp, open_backend
from mockserver.backends.sqlite import SqliteBackend
from tests.redis_server import redis_server, with_prefix

T = TypeVar("T")
NOW = 1_750_000_000.0


class OnTheLoop(SqliteBackend):
    """The same store, its blocking calls made on the event loop's thread."""

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)


async def open_on_loop(target: str) -> Backend:
    db = OnTheLoop(target)
    await db.open()
    return db


RULES = [CounterOp("rl:s", window=1.0, limit=10**9), CounterOp("rl:m", window=60.0, limit=10**9)]
TASK = {
    "provider": "a2e",
    "family": "talking_photo",
    "tenant": "sk-bench",
    "created_at": NOW,
    "timeline": {"states": ["initialized", "sent", "process", "success"], "times": [0, 1, 2, 30]},
    "params": {"image_url": "https://example.com/face.jpg", "audio_url": "https://x/a.mp3"},
}


async def preload(db: Backend, tasks: int) -> list[str]:
    await db.clear()
    keys = [f"a2e:task:{i:08x}" for i in range(tasks)]
    value = orjson.dumps(TASK)
    for key in keys:
        await db.put(key, value, version=0, indexes=["a2e:sk-bench", "a2e:sk-bench:photo"])
    return keys


async def server_cpu(db: Backend) -> float:
    """CPU seconds the store's own server has used (Redis); 0 for the in-process ones."""
    client = getattr(db, "client", None)
    if client is None or not hasattr(client, "info"):
        return 0.0
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def run_slice(
    db: Backend, op: Callable[[int], Awaitable[object]], seconds: float, concurrency: int
) -> tuple[int, list[float], float, float]:
    """(ops, latencies, p99 loop lag, CPU seconds here and in the server) over ``seconds``."""
    latencies: list[float] = []
    lags: list[float] = []
    deadline = time.perf_counter() + seconds
    stop = False

    async def ticker() -> None:
        while not stop:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t - 0.001)

    async def worker(w: int) -> None:
        i = w
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t)
            i += concurrency
            await asyncio.sleep(0)  # as a server would: other requests run between two

    cpu = time.process_time() - await server_cpu(db)
    tick = asyncio.create_task(ticker())
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    stop = True
    await tick
    cpu = time.process_time() + await server_cpu(db) - cpu
    return len(latencies), latencies, p99(lags), cpu


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--tasks", type=int, default=2_000)
    ap.add_argument("--redis", default=None)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as started:
        redis_url = args.redis or started
        urls = {
            "memory": "memory",
            "sqlite (NORMAL)": f"sqlite:{tmp}/normal.db",
            "sqlite (FULL)": f"sqlite:{tmp}/full.db?synchronous=full",
        }
        if redis_url:
            urls["redis"] = with_prefix(redis_url, "bench:")
        backends = {name: await open_backend(url) for name, url in urls.items()}
        backends["sqlite (NORMAL), on the loop"] = await open_on_loop(f"{tmp}/inline-normal.db")
        backends["sqlite (FULL), on the loop"] = await open_on_loop(
            f"{tmp}/inline-full.db?synchronous=full"
        )
        keys = {name: await preload(db, args.tasks) for name, db in backends.items()}
        entry = orjson.dumps(["GET", "/api/v1/talkingPhoto/x", 200, "a2e", "op", "sk", 0.0002])
        value = orjson.dumps(TASK)
        rows: dict[tuple[str, str], list[tuple[int, list[float], float, float]]]
        rows = defaultdict(list)

        for _ in range(args.rounds):
            for name, db in backends.items():
                ids = keys[name]

                async def poll(i: int, db: Backend = db, ids: list[str] = ids) -> object:
                    return await db.poll(
                        [ids[i % len(ids)]], now=NOW, counters=RULES, journal=[entry], keep=10_000
                    )

                async def submit(i: int, db: Backend = db) -> object:
                    seq = await db.count(CounterOp("seq:a2e"), now=NOW)
                    key = f"a2e:new:{seq.value:08x}"
                    return await db.put(key, value, version=0, indexes=["a2e:sk-b", "a2e:sk-b:p"])

                for op_name, op in (("poll", poll), ("submit", submit)):
                    rows[(name, op_name)].append(
                        await run_slice(db, op, args.seconds, args.concurrency)
                    )

        seconds = args.seconds * args.rounds
        print(
            f"{args.rounds} rounds x {args.seconds} s per row, concurrency {args.concurrency}, "
            f"{args.tasks} tasks preloaded"
        )
        print("| backend | op | ops/s | p50 ms | p99 ms | CPU µs/op | loop lag p99 ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for (name, kind), slices in rows.items():
            ops = sum(s[0] for s in slices)
            lat = [x for s in slices for x in s[1]]
            lag = max(s[2] for s in slices)  # the worst slice's
            cpu = sum(s[3] for s in slices) / ops
            print(
                f"| {name} | {kind} | {ops / seconds:,.0f} | {statistics.median(lat) * 1e3:.3f} "
                f"| {p99(lat) * 1e3:.3f} | {cpu * 1e6:.0f} | {lag * 1e3:.2f} |"
            )
        for db in backends.values():
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
