"""Status polls from 1 and 2 processes on one port: ``serve --workers N`` beside the floor.

    python bench/workers.py                 # 3 rounds of 5 s slices, ~3 minutes
    python bench/workers.py --quick         # a smoke run
    python bench/workers.py --json workers.json

Servers, each started with 1 and then 2 processes sharing one port (SO_REUSEPORT): the bare
aiohttp floor (bench/peer_floor.py, fixed bodies) and avatar-mock (``serve --workers N
--provider a2e`` over a fresh SQLite file, the shared backend workers need; real
image-to-video tasks created over HTTP first). One wrk (1 thread, 64 connections) polls
``GET /api/v1/userImage2Video/{_id}`` with a different id each request, after the same warm-up
rule as bench/peers.py, in rounds that visit every server in turn.

With one process the server is pinned to core 0 and wrk to core 1. With two processes the
server may use both cores, and wrk shares them: the table shows wrk's own CPU (its rusage
over the slice) beside the server's, so the cores the server had are ``cores - wrk``. From
the per-poll server CPU the expected rate on a machine with N cores free for the server is
``N * 1e6 / cpu_us`` (CPU-bound, each process as fast as alone; the shared store's read per
request is part of cpu_us): the last column, for 8 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peer_install
import peer_servers as ps
from peers import Load, create_tasks, free_port, machine, warm

SCALE_TO = 8  # the cores the last column projects to


def _mock(port: int, workers: int, work: Path) -> ps.Peer:
    peer = ps.mock(port, "uvloop" if _has_uvloop() else "asyncio", work)
    state = work / f"state-{workers}.db"
    peer.argv += ["--workers", str(workers), "--state", f"sqlite:{state}"]
    peer.name = f"avatar-mock, {workers} worker{'s' * (workers > 1)} (sqlite)"
    return peer


def _floor(port: int, workers: int, work: Path) -> ps.Peer:
    peer = ps.floor(port, "uvloop" if _has_uvloop() else "asyncio", work)
    peer.argv += ["--workers", str(workers)]
    peer.name = f"floor, {workers} process{'es' * (workers > 1)}"
    return peer


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


class CountedLoad(Load):
    """wrk as in bench/peers.py, plus wrk's own CPU over the slice (children's rusage)."""

    def run(self, server: ps.Running, call: str, ids: Path, seconds: int) -> dict[str, Any]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = super().run(server, call, ids, seconds)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result["wrk_cores"] = wrk_cpu / seconds
        result["server_cores"] = result["cpu_us"] * result["requests"] / 1e6 / seconds
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    slice_s, warm_cap = 2, 30.0
    if args.quick:
        args.seconds, args.rounds, args.tasks, slice_s, warm_cap = 1, 1, 100, 1, 4
    tools = peer_install.ensure(need_npm=False, need_java=False)
    if not tools.wrk:
        raise SystemExit("wrk is needed: apt-get install wrk")
    cores = os.cpu_count() or 1
    pin = cores >= 2 and tools.taskset is not None
    load_one = CountedLoad(tools.wrk, "1" if pin else None, 64)
    load_all = CountedLoad(tools.wrk, None, 64)  # with two processes wrk shares the cores
    print(f"# workers\n\nmachine: {machine()}\nload: {os.getloadavg()}\n", flush=True)
    work = Path(tempfile.mkdtemp(prefix="avatar-mock-workers-"))
    servers: list[tuple[ps.Running, int, Path]] = []
    try:
        for workers in (1, 2):
            cpu = "0" if pin and workers == 1 else None
            server = ps.Running(_mock(free_port(), workers, work), cpu)
            polls, _ = create_tasks(server, args.tasks)
            ids = work / f"mock-{workers}.ids"
            ids.write_text("\n".join(polls))
            if not (work / "get.json").exists():
                (work / "get.json").write_bytes(server.call("GET", ps.GET_PATH % polls[0])[1])
                (work / "post.json").write_bytes(b"{}")
            servers.append((server, workers, ids))
        for workers in (1, 2):
            cpu = "0" if pin and workers == 1 else None
            floor = ps.Running(_floor(free_port(), workers, work), cpu)
            servers.append((floor, workers, servers[workers - 1][2]))
        for server, workers, ids in servers:
            load = load_one if workers == 1 else load_all
            w = warm(lambda: load.run(server, "GET", ids, slice_s), slice_s, warm_cap)  # noqa: B023
            print(f"warmed {server.peer.name}: best {w['best_rps']:,.0f} polls/s", flush=True)
        measured: dict[str, list[dict[str, Any]]] = {s.peer.name: [] for s, _, _ in servers}
        for r in range(args.rounds):
            for server, workers, ids in servers:
                load = load_one if workers == 1 else load_all
                measured[server.peer.name].append(load.run(server, "GET", ids, args.seconds))
            print(f"round {r + 1} of {args.rounds} done", flush=True)
    finally:
        for server, _, _ in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    rows = {name: _summary(results) for name, results in measured.items()}
    report = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_after": os.getloadavg(),
        "pinned_one_process": pin,
        "rows": rows,
    }
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


def _summary(results: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p99_ms", "cpu_us", "wrk_cores", "server_cores")
    row = {k: statistics.median(r[k] for r in results) for k in keys}
    row["errors"] = sum(r["errors"] for r in results)
    row["per_core"] = row["rps"] / max(row["server_cores"], 1e-9)
    row["projected"] = SCALE_TO * 1e6 / row["cpu_us"]
    return row


def _print(report: dict[str, Any]) -> None:
    rows = report["rows"]
    print(f"\n{report['date']}, {report['machine']}\n")
    print(
        "| server | polls/s | p50 ms | p99 ms | server CPU µs/poll | server cores | wrk cores "
        f"| polls/s per server core | on {SCALE_TO} cores (projected) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r['cpu_us']:.0f} | {r['server_cores']:.2f} | {r['wrk_cores']:.2f} "
            f"| {r['per_core']:,.0f} | {r['projected']:,.0f} |"
        )
    names = list(rows)
    mock1, mock2, floor1, floor2 = (rows[n]["rps"] for n in names)
    print(
        f"\nscaling 1 -> 2 processes: avatar-mock x{mock2 / mock1:.2f}, "
        f"floor x{floor2 / floor1:.2f}; avatar-mock over the floor: "
        f"{mock1 / floor1:.2f} (1), {mock2 / floor2:.2f} (2)"
    )
    errors = {n: r["errors"] for n, r in rows.items() if r["errors"]}
    if errors:
        print(f"errors (non-2xx or socket): {errors}")


if __name__ == "__main__":
    main()
