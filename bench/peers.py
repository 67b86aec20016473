"""avatar-mock beside the mock servers users would pick instead, in one run on one machine.

    python bench/peers.py            # everything: ~10 minutes, installs what is missing
    python bench/peers.py --quick    # a smoke run: short slices, one round
    python bench/peers.py --only floor,avatar-mock --json peers.json

Servers: the bare-aiohttp floor (asyncio and uvloop), avatar-mock (uvloop and asyncio),
WireMock in its default configuration (request journal on) and tuned, Prism, Mockoon. Two
calls: GET status polls (A2E ``userImage2Video/{_id}``, real tasks in avatar-mock, static stubs
elsewhere) and POST status reads (A2E ``video/awsResult``). Every server gets the same load
generator (wrk, one thread, 64 connections, a different id on every request), the same pinning
(the server on core 0, wrk on core 1, via taskset) and the same warm-up rule (2 s slices until
throughput stops climbing, capped at 60 s per call), then rounds of measurement that visit
every server in turn, so that drift on a shared machine weighs on all alike. Prints one table:
req/s (median of the rounds), p50, p99, resident memory, start-up to the first answer.
What is needed and missing (wrk, java, the npm packages) is installed into
~/.cache/avatar-mock-bench (see bench/peer_install.py); none of it is a package dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peer_install
import peer_servers as ps

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CALLS = ("GET", "POST")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


class Load:
    """wrk against one server and one call, pinned to the load core."""

    def __init__(self, wrk: str, cpu: str | None, connections: int) -> None:
        self.wrk, self.cpu, self.connections = wrk, cpu, connections

    def run(self, server: ps.Running, call: str, ids: Path, seconds: int) -> dict[str, Any]:
        argv = ["taskset", "-c", self.cpu] if self.cpu is not None else []
        argv += [self.wrk, "-t1", f"-c{self.connections}", f"-d{seconds}s", "--latency"]
        if call == "GET":
            argv += ["-s", str(HERE / "poll.lua"), server.base, "--", str(ids), ps.GET_PATH]
            argv += [ps.KEY]
        else:
            argv += ["-s", str(HERE / "post.lua"), server.base, "--", str(ids), ps.POST_PATH]
            argv += [ps.KEY, ps.POST_BODY]
        before = server.cpu_seconds()
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        cpu = server.cpu_seconds() - before
        requests = int(_grab(r"(\d+) requests in", out))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sockets = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        return {
            "rps": float(_grab(r"Requests/sec:\s+([\d.]+)", out)),
            "p50_ms": _ms(_grab(r"\s50%\s+(\S+)", out)),
            "p99_ms": _ms(_grab(r"\s99%\s+(\S+)", out)),
            "requests": requests,
            "errors": (int(non2xx.group(1)) if non2xx else 0)
            + (sum(int(g) for g in sockets.groups()) if sockets else 0),
            "cpu_us": cpu / max(requests, 1) * 1e6,
        }


def _grab(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match.group(1)


def warm(slice_once: Callable[[], dict[str, Any]], slice_s: int, cap_s: float) -> dict:
    """Load in slices until throughput stops climbing (two slices in a row no more than 3 %
    above the best so far) or ``cap_s`` is spent; the same rule for every server."""
    best, flat, spent, slices = 0.0, 0, 0.0, 0
    while spent < cap_s and flat < 2:
        rps = slice_once()["rps"]
        spent += slice_s
        slices += 1
        flat = 0 if rps > best * 1.03 else flat + 1
        best = max(best, rps)
    return {"slices": slices, "seconds": spent, "best_rps": best}


def create_tasks(server: ps.Running, count: int) -> tuple[list[str], list[str]]:
    """``count`` image-to-video tasks (polled by GET) and avatar videos (read by POST)."""
    polls, reads = [], []
    for i in range(count):
        body = {"name": f"bench {i}", "image_url": "https://cdn.example.com/faces/face-01.png"}
        body["prompt"] = "the person is speaking. Looking at the camera. static camera view point"
        status, raw = server.call(
            "POST", "/api/v1/userImage2Video/start", json.dumps(body).encode()
        )
        polls.append(_id_of(status, raw))
        video = {"anchor_id": "63de16f26c6193fa4ca7a486", "anchor_type": 0}
        video["audioSrc"] = "https://cdn.example.com/audio/hello-world.mp3"
        status, raw = server.call("POST", "/api/v1/video/generate", json.dumps(video).encode())
        reads.append(_id_of(status, raw))
    return polls, reads


def _id_of(status: int, raw: bytes) -> str:
    answer = json.loads(raw)
    if status != 200 or answer.get("code") != 0:
        raise RuntimeError(f"the mock refused to create a task: {status} {raw[:300]!r}")
    return str(answer["data"]["_id"])


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _start(
    build: Callable[[int], ps.Peer], cpu: str | None, skipped: dict[str, str]
) -> ps.Running | None:
    peer = build(free_port())
    print(f"starting {peer.name} ...", flush=True)
    try:
        running = ps.Running(peer, cpu)
    except RuntimeError as exc:
        skipped[peer.name] = str(exc)
        print(f"  ! {exc}", flush=True)
        return None
    print(f"  first answer after {running.startup_ms:.0f} ms", flush=True)
    return running


def _check(server: ps.Running, get_ids: Path, post_ids: Path) -> str | None:
    """Both calls answer 200 with JSON, or why not."""
    get_id = get_ids.read_text().split("\n", 1)[0]
    post_id = post_ids.read_text().split("\n", 1)[0]
    for method, path, body in (
        ("GET", ps.GET_PATH % get_id, None),
        ("POST", ps.POST_PATH, (ps.POST_BODY % post_id).encode()),
    ):
        status, raw = server.call(method, path, body)
        try:
            json.loads(raw)
        except ValueError:
            return f"{method} answered {status} with no JSON: {raw[:200]!r}"
        if status != 200:
            return f"{method} answered {status}: {raw[:200]!r}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s slices, 1 round, 4 s warm-up cap")
    parser.add_argument("--seconds", type=int, default=5, help="load per measured slice")
    parser.add_argument("--rounds", type=int, default=3, help="measured slices per server and call")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warm-cap", type=float, default=60, help="seconds of warm-up per call")
    parser.add_argument(
        "--tasks", type=int, default=1000, help="tasks created per kind in the mock"
    )
    parser.add_argument(
        "--only", help="comma-separated: floor, avatar-mock, wiremock, prism, mockoon (default all)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    slice_s = 2
    if args.quick:
        args.seconds, args.rounds, args.warm_cap, args.tasks, slice_s = 1, 1, 4, 100, 1
    only = set(args.only.split(",")) if args.only else None

    def wanted(kind: str) -> bool:
        return only is None or kind in only

    print(f"# avatar-mock beside its peers\n\nmachine: {machine()}\n", flush=True)
    tools = peer_install.ensure(
        need_npm=wanted("wiremock") or wanted("prism") or wanted("mockoon"),
        need_java=wanted("wiremock"),
    )
    if not tools.wrk:
        raise SystemExit("wrk is needed: apt-get install wrk")
    two = (os.cpu_count() or 1) >= 2 and tools.taskset is not None
    server_cpu, load_cpu = ("0", "1") if two else (None, None)
    load = Load(tools.wrk, load_cpu, args.connections)
    loops = ["uvloop", "asyncio"] if _has_uvloop() else ["asyncio"]
    skipped: dict[str, str] = dict(tools.missing)
    work = Path(tempfile.mkdtemp(prefix="avatar-mock-peers-"))
    servers: list[ps.Running] = []
    ids: dict[str, tuple[Path, Path]] = {}
    try:
        # avatar-mock first: its tasks give the ids, its answers the stubs' bodies
        for loop in loops:
            server = _start(partial(ps.mock, loop=loop, workdir=work), server_cpu, skipped)
            if server is None:
                continue
            polls, reads = create_tasks(server, args.tasks)
            get_ids, post_ids = work / f"{loop}-get.ids", work / f"{loop}-post.ids"
            get_ids.write_text("\n".join(polls))
            post_ids.write_text("\n".join(reads))
            ids[server.peer.name] = (get_ids, post_ids)
            if not (work / "get.json").exists():
                (work / "get.json").write_bytes(server.call("GET", ps.GET_PATH % polls[0])[1])
                post = (ps.POST_BODY % reads[0]).encode()
                (work / "post.json").write_bytes(server.call("POST", ps.POST_PATH, post)[1])
                (work / "peer-get.ids").write_text("\n".join(polls))
                (work / "peer-post.ids").write_text("\n".join(reads))
            servers.append(server)
        if not wanted("avatar-mock"):
            for server in servers:
                server.stop()
            servers = []
        if not (work / "get.json").exists():
            raise SystemExit(f"avatar-mock did not start, so the stubs have no bodies: {skipped}")
        builders: list[Callable[[int], ps.Peer]] = []
        if wanted("floor"):
            builders += [partial(ps.floor, loop=loop, workdir=work) for loop in loops]
        if wanted("wiremock") and tools.java and tools.wiremock_jar:
            for tuned in (False, True):
                builders.append(
                    partial(
                        ps.wiremock,
                        java=tools.java,
                        jar=tools.wiremock_jar,
                        workdir=work,
                        tuned=tuned,
                    )
                )
        if wanted("prism") and tools.prism:
            builders.append(partial(ps.prism, binary=tools.prism))
        if wanted("mockoon") and tools.mockoon:
            builders.append(partial(ps.mockoon, binary=tools.mockoon, workdir=work))
        for build in builders:
            server = _start(build, server_cpu, skipped)
            if server is not None:
                servers.append(server)
                ids[server.peer.name] = (work / "peer-get.ids", work / "peer-post.ids")
        for server in list(servers):
            problem = _check(server, *ids[server.peer.name])
            if problem:
                skipped[server.peer.name] = problem
                print(f"  ! {server.peer.name}: {problem}", flush=True)
                servers.remove(server)
                server.stop()
        servers.sort(key=_order)

        warmups: dict[str, dict[str, dict]] = {}
        for server in servers:
            warmups[server.peer.name] = {}
            for n, call in enumerate(CALLS):
                path = ids[server.peer.name][n]
                warmups[server.peer.name][call] = w = warm(
                    partial(load.run, server, call, path, slice_s),
                    slice_s,
                    args.warm_cap,
                )
                print(
                    f"warmed {server.peer.name} {call}: {w['slices']} slices, best "
                    f"{w['best_rps']:,.0f} req/s",
                    flush=True,
                )
        measured: dict[str, dict[str, list[dict]]] = {
            s.peer.name: {c: [] for c in CALLS} for s in servers
        }
        for r in range(args.rounds):
            for server in servers:
                for n, call in enumerate(CALLS):
                    result = load.run(server, call, ids[server.peer.name][n], args.seconds)
                    measured[server.peer.name][call].append(result)
            print(f"round {r + 1} of {args.rounds} done", flush=True)
        rss = {s.peer.name: s.rss_mib() for s in servers}
        startup = {s.peer.name: s.startup_ms for s in servers}
        notes = {s.peer.name: s.peer.note for s in servers}
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    rows = {
        name: {call: summary(results) for call, results in by_call.items()}
        for name, by_call in measured.items()
    }
    report = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(sys.argv),
        "settings": {
            "connections": args.connections,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "warm_cap": args.warm_cap,
            "tasks": args.tasks,
            "pinned": two,
        },
        "rows": rows,
        "rss_mib": rss,
        "startup_ms": startup,
        "warmup": warmups,
        "notes": notes,
        "skipped": skipped,
    }
    print_table(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


def _has_uvloop() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None


def _order(server: ps.Running) -> int:
    for n, prefix in enumerate(("floor", "avatar-mock", "WireMock", "Prism", "Mockoon")):
        if server.peer.name.startswith(prefix):
            return n
    return 9


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over the rounds of each figure; errors summed."""
    return {
        "rps": statistics.median(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "cpu_us": statistics.median(r["cpu_us"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "each_rps": [round(r["rps"]) for r in results],
    }


def print_table(report: dict[str, Any]) -> None:
    s = report["settings"]
    rows = report["rows"]
    floor = rows.get("floor: bare aiohttp (asyncio)")
    print(
        f"\n## {report['date']}: {report['machine']}\n\nwrk 1 thread, {s['connections']} "
        f"connections{', server on core 0, wrk on core 1' if s['pinned'] else ', not pinned'}; "
        f"warm-up until throughput stops climbing (cap {s['warm_cap']:.0f} s per call); "
        f"{s['rounds']} round(s) of {s['seconds']:g} s per server and call, visiting every "
        "server in turn; req/s is the median of the rounds, as are p50 and p99. 'x floor': "
        "over the bare-aiohttp floor on the standard loop. CPU: the server's own, per request.\n"
    )
    print(
        "| server | GET req/s | x floor | p50 ms | p99 ms | CPU µs | POST req/s | x floor | "
        "p50 ms | p99 ms | CPU µs | RSS MiB | start-up ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, by_call in rows.items():
        cells = [name]
        for call in CALLS:
            r = by_call[call]
            ratio = f"{r['rps'] / floor[call]['rps']:.2f}" if floor else "-"
            err = f" ({r['errors']} errors)" if r["errors"] else ""
            cells += [
                f"{r['rps']:,.0f}{err}",
                ratio,
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['cpu_us']:.0f}",
            ]
        cells += [f"{report['rss_mib'][name]:.0f}", f"{report['startup_ms'][name]:.0f}"]
        print("| " + " | ".join(cells) + " |")
    mock_u, floor_u = rows.get("avatar-mock (uvloop)"), rows.get("floor: bare aiohttp (uvloop)")
    mock_a = rows.get("avatar-mock (asyncio)")
    print()
    if mock_u and mock_a:
        print(
            "uvloop over asyncio, avatar-mock: "
            + ", ".join(f"{c} {mock_u[c]['rps'] / mock_a[c]['rps']:.2f}" for c in CALLS)
        )
    if mock_u and floor_u:
        print(
            "avatar-mock over the floor, both on uvloop: "
            + ", ".join(f"{c} {mock_u[c]['rps'] / floor_u[c]['rps']:.2f}" for c in CALLS)
        )
    if mock_a and floor:
        print(
            "avatar-mock over the floor, both on asyncio: "
            + ", ".join(f"{c} {mock_a[c]['rps'] / floor[c]['rps']:.2f}" for c in CALLS)
        )
    for name, note in report["notes"].items():
        print(f"- {name}: {note}")
    for name, why in report["skipped"].items():
        print(f"- not measured, {name}: {why}")


if __name__ == "__main__":
    main()
