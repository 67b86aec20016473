"""Status polls through the real server on each ``--state`` backend, in one run.

    python bench/state_polls.py [--seconds 3] [--rounds 3] [--connections 32] [--tasks 3000]

One replica per backend (bench/server.py with ``--state``), polled by wrk (or the Python
generator) at relay's status endpoint; slices alternate memory, sqlite, redis round after
round, so a change of load on the shared machine touches every row alike. Server CPU per poll
is the server process's (plus, for Redis, nothing: a poll that changes nothing makes no round
trip). Without ``AVATAR_MOCK_REDIS_URL`` a redis-server is started in a temp dir.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import Server, load  # noqa: E402  (bench/run.py: the same server and load)

from tests.redis_server import redis_server, with_prefix  # noqa: E402

PROVIDER = "relay"


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
        servers = {k: Server("--tasks", str(args.tasks), "--state", u) for k, u in urls.items()}
        slices: dict[str, list[dict]] = {k: [] for k in servers}
        try:
            for _ in range(args.rounds):
                for name, server in servers.items():
                    slices[name].append(load(server, PROVIDER, args.seconds, args.connections))
        finally:
            for server in servers.values():
                server.proc.terminate()
                server.proc.wait(timeout=10)
    base = statistics.median(s["rps"] for s in slices["memory"])
    print("| state | polls/s | p99 ms | server CPU µs/poll | vs memory | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, got in slices.items():
        rps = statistics.median(s["rps"] for s in got)
        p99 = statistics.median(s["p99_ms"] for s in got)
        cpu = sum(s["cpu_us"] * s["requests"] for s in got) / sum(s["requests"] for s in got)
        errors = sum(s["errors"] for s in got)
        print(f"| {name} | {rps:,.0f} | {p99:.2f} | {cpu:.0f} | {rps / base:.2f} | {errors} |")


if __name__ == "__main__":
    main()
