"""Status polls through the real server on each ``--state`` backend, in one run.

    python bench/state_polls.py [--seconds 3] [--rounds 3] [--connections 32] [--tasks 3000]

One replica per backend (bench/server.py with ``--state``), then two replicas on one store
(Redis, and one sqlite file): the second opens the store the first wrote its tasks to and
the connections are split between them (one wrk per replica, run at once, polling the same
task ids). Polled at relay's status endpoint; slices alternate over every row round after
round, so a change of load on the shared machine touches every row alike. Server CPU per
poll is the servers' own (user + system, both replicas' together); "per core" is memory's CPU
per poll over the row's: the polls one core answers, against memory. p99 of a two-replica
row is the worse replica's. Without ``AVATAR_MOCK_REDIS_URL`` a redis-server is started in a
temp dir. Polls/s and p99 mean something on a quiet machine only; CPU per poll less so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import Server, load  # noqa: E402  (bench/run.py: the same server and load)

from tests.redis_server import redis_server, with_prefix  # noqa: E402

PROVIDER = "relay"


def load_all(servers: list[Server], seconds: int, connections: int) -> dict:
    """The replicas polled at once, ``connections`` split between them: one figure."""
    share = max(connections // len(servers), 1)
    with ThreadPoolExecutor(len(servers)) as pool:
        got = list(pool.map(lambda s: load(s, PROVIDER, seconds, share), servers))
    requests = sum(g["requests"] for g in got)
    return {
        "rps": sum(g["rps"] for g in got),
        "p99_ms": max(g["p99_ms"] for g in got),
        "requests": requests,
        "cpu_us": sum(g["cpu_us"] * g["requests"] for g in got) / max(requests, 1),
        "errors": sum(g["errors"] for g in got),
    }


def replicas(url: str, tasks: int) -> list[Server]:
    """Two servers on the store ``url``: the first writes its tasks, the second reads them."""
    first = Server("--tasks", str(tasks), "--state", url)
    second = Server("--tasks", "0", "--state", url)
    second.info["ids"] = first.info["ids"]
    return [first, second]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tasks", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis_url:
        urls = {"memory": "memory", "sqlite": f"sqlite:{tmp}/bench.db"}
        if redis_url is not None:
            urls["redis"] = with_prefix(redis_url, f"b{uuid.uuid4().hex}:")
        rows: dict[str, list[Server]] = {
            k: [Server("--tasks", str(args.tasks), "--state", u)] for k, u in urls.items()
        }
        if redis_url is not None:
            shared = with_prefix(redis_url, f"b{uuid.uuid4().hex}:")
            rows["redis, 2 replicas"] = replicas(shared, args.tasks)
        rows["sqlite, 2 replicas"] = replicas(f"sqlite:{tmp}/shared.db", args.tasks)
        slices: dict[str, list[dict]] = {k: [] for k in rows}
        try:
            for _ in range(args.rounds):
                for name, servers in rows.items():
                    slices[name].append(load_all(servers, args.seconds, args.connections))
        finally:
            for servers in rows.values():
                for server in servers:
                    server.proc.terminate()
                    server.proc.wait(timeout=10)
    figures = {}
    for name, got in slices.items():
        figures[name] = (
            statistics.median(s["rps"] for s in got),
            statistics.median(s["p99_ms"] for s in got),
            sum(s["cpu_us"] * s["requests"] for s in got) / sum(s["requests"] for s in got),
            sum(s["errors"] for s in got),
        )
    base_rps, _, base_cpu, _ = figures["memory"]
    print(
        "| state | polls/s | p99 ms | server CPU µs/poll | polls/s vs memory | per core | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (rps, p99, cpu, errors) in figures.items():
        print(
            f"| {name} | {rps:,.0f} | {p99:.2f} | {cpu:.0f} | {rps / base_rps:.2f} "
            f"| {base_cpu / cpu:.2f} | {errors} |"
        )


if __name__ == "__main__":
    main()
