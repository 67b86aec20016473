"""Where the mock's CPU per poll goes beyond the bare-aiohttp floor's, measured by removal.

    python bench/cpu_gap.py                 # ~4 minutes
    python bench/cpu_gap.py --seconds 2 --rounds 1

bench/peers.py says how far the mock is from the floor per core; this says of what the distance
is made. Each server of bench/gap_server.py (the floor; the floor after a pure-Python loop of
known cost; the mock; the mock with parts of a poll replaced by constants) is loaded in turn by
wrk as bench/peers.py loads them (one thread, 64 connections, A2E's GET poll over 1,000 task
ids, the server on core 0 and wrk on core 1), rounds visiting every server, medians printed.
CPU per request is split into user and kernel (``/proc/PID/stat``): the kernel's share is the
loopback's work, which the floor and the mock do with the same syscalls per request.

What the loop rows show: Python work that takes T µs on its own, timed here in a loop on the
server's core, costs more than T per request when it runs inside a loaded server (the lines
under the table say both); what the mock-without rows show: what each part costs in serving.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import timeit
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_install  # noqa: E402
import peer_servers as ps  # noqa: E402
import peers  # noqa: E402

DEFAULT_VARIANTS = (
    "floor",
    "python-200",
    "python-600",
    "mock",
    "mock-without-row-encode",
    "mock-without-trace",
    "mock-without-journal",
    "mock-without-auth",
    "mock-without-row-encode-trace-journal-auth",
)


def loop_alone_us(adds: int) -> float:
    """What ``python-N``'s loop costs on its own: best of several timed runs."""

    def loop() -> None:
        total = 0
        for i in range(adds):
            total += i

    return min(timeit.repeat(loop, number=20_000, repeat=7)) / 20_000 * 1e6


def start(variant: str, work: Path, core: str) -> ps.Running:
    port = peers.free_port()
    argv = [sys.executable, str(HERE / "gap_server.py"), variant, str(port), str(work / "get.json")]
    return ps.Running(ps.Peer(variant, argv, port, cwd=ps.ROOT), core)


def measure(load: peers.Load, server: ps.Running, ids: Path, seconds: int) -> dict[str, Any]:
    before = server.cpu_split()
    result = load.run(server, "GET", ids, seconds)
    after = server.cpu_split()
    per = 1e6 / max(result["requests"], 1)
    result["user_us"] = (after[0] - before[0]) * per
    result["sys_us"] = (after[1] - before[1]) * per
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    tools = peer_install.ensure(need_npm=False, need_java=False)
    if not tools.wrk or not tools.taskset or (os.cpu_count() or 1) < 2:
        raise SystemExit("needs wrk, taskset and two cores")
    os.sched_setaffinity(0, {0})  # the loop is timed alone on the server's core
    alone = {v: loop_alone_us(int(v.split("-")[1])) for v in variants if v.startswith("python-")}
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    load = peers.Load(tools.wrk, "1", 64)
    work = Path(tempfile.mkdtemp(prefix="avatar-mock-gap-"))
    servers: dict[str, tuple[ps.Running, Path]] = {}
    try:
        (work / "get.json").write_bytes(b"{}")  # the mocks need none; the floors get the real one
        for variant in [v for v in variants if v.startswith("mock")]:
            server = start(variant, work, "0")
            polls, _ = peers.create_tasks(server, 1000)
            ids = work / f"{variant}.ids"
            ids.write_text("\n".join(polls))
            if not (work / "peer.ids").exists():
                (work / "peer.ids").write_text("\n".join(polls))
                (work / "get.json").write_bytes(server.call("GET", ps.GET_PATH % polls[0])[1])
            urllib.request.urlopen(urllib.request.Request(server.base + "/__gap/on", b"")).read()
            servers[variant] = (server, ids)
        for variant in [v for v in variants if not v.startswith("mock")]:
            servers[variant] = (start(variant, work, "0"), work / "peer.ids")
        for server, ids in servers.values():
            peers.warm(lambda s=server, i=ids: load.run(s, "GET", i, 2), 2, 20)
        results: dict[str, list[dict[str, Any]]] = {v: [] for v in servers}
        for r in range(args.rounds):
            for variant, (server, ids) in servers.items():
                results[variant].append(measure(load, server, ids, args.seconds))
            print(f"round {r + 1} of {args.rounds} done", flush=True)
    finally:
        for server, _ in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    med = {
        v: {
            k: statistics.median(o[k] for o in outs) for k in ("rps", "cpu_us", "user_us", "sys_us")
        }
        for v, outs in results.items()
    }
    print(
        f"\nmachine: {peers.machine()}; wrk 1 thread, 64 connections, {args.rounds} rounds of "
        f"{args.seconds} s, medians\n"
    )
    print(
        "| server | req/s | x floor | CPU µs/req | user µs | kernel µs | vs floor µs | vs mock µs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    floor, mock = med.get("floor"), med.get("mock")
    for v, m in med.items():
        ratio = f"{m['rps'] / floor['rps']:.2f}" if floor else ""
        d_floor = f"{m['cpu_us'] - floor['cpu_us']:+.1f}" if floor else ""
        d_mock = f"{m['cpu_us'] - mock['cpu_us']:+.1f}" if mock and v.startswith("mock") else ""
        print(
            f"| {v} | {m['rps']:,.0f} | {ratio} | {m['cpu_us']:.1f} | {m['user_us']:.1f} | "
            f"{m['sys_us']:.1f} | {d_floor} | {d_mock} |"
        )
    for v, us in alone.items():
        if floor and v in med:
            served = med[v]["cpu_us"] - floor["cpu_us"]
            print(
                f"- {v}: the loop alone {us:.1f} µs; in serving it adds {served:.1f} µs per "
                f"request ({served / us:.1f} times)"
            )


if __name__ == "__main__":
    main()
