"""Benchmarks for the hot path and how cost grows, in one run on one machine.

    python bench/run.py                      # everything (takes a few minutes)
    python bench/run.py --tasks 1000 --quick # a short look

Prints, for each provider's status endpoint: polls per second and p50/p99 latency of the
bare-aiohttp floor (same JSON, same run) and of the mock with 1 thousand, 100 thousand and
1 million live tasks (auth, validation, rate limiting with raised limits, journal and an idle
chaos engine all on); resident memory per live task; start-up time to the first answer;
signed webhook deliveries per second while the server answers polls; the test suite's time.
Load comes from wrk (Debian package ``wrk``) when installed, else from a Python generator.
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATUS_PATHS = {
    "youcam": "/s2s/v2.0/task/ai-avatar/%s",
    "relay": "/avatar/task/%s",
    "a2e": "/api/v1/userImage2Video/%s",
}
KEY = "sk-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """bench/server.py in a child process."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"server did not start: {line}{self.proc.stderr.read()}")
        self.info: dict[str, Any] = json.loads(line[6:])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used (robust to other load)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(base: str, provider: str, ids: list[str], seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
        f.write("\n".join(ids))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(HERE / "poll.lua"),
                base,
                "--",
                f.name,
                STATUS_PATHS[provider],
                KEY,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": total,
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


async def _python_load(
    base: str, provider: str, ids: list[str], seconds: int, connections: int
) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {KEY}"}

    async def worker(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        i = n
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(
                base + STATUS_PATHS[provider] % ids[i % len(ids)], headers=headers
            ) as resp:
                await resp.read()
                errors += resp.status >= 400
            latencies.append((time.perf_counter() - started) * 1000)
            i += connections

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(n, session) for n in range(connections)))
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "requests": len(latencies),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "errors": errors,
    }


def load(server: Server, provider: str, seconds: int, connections: int) -> dict:
    """Poll ``provider``'s status endpoint; add the server's CPU time per request."""
    ids = server.info["ids"][provider]
    before = server.cpu_seconds()
    if shutil.which("wrk"):
        result = wrk(server.base, provider, ids, seconds, connections)
    else:
        result = asyncio.run(_python_load(server.base, provider, ids, seconds, connections))
    result["cpu_us"] = (server.cpu_seconds() - before) / max(result["requests"], 1) * 1e6
    return result


def combined(slices: list[dict]) -> dict:
    """One figure from several slices of load: totals for throughput and CPU, the median
    slice for the latency percentiles."""
    requests = sum(r["requests"] for r in slices)
    return {
        "rps": sum(r["rps"] for r in slices) / len(slices),
        "requests": requests,
        "cpu_us": sum(r["cpu_us"] * r["requests"] for r in slices) / max(requests, 1),
        "p50_ms": statistics.median(r["p50_ms"] for r in slices),
        "p99_ms": statistics.median(r["p99_ms"] for r in slices),
        "errors": sum(r["errors"] for r in slices),
    }


def interleaved(
    floor: Server, mock: Server, provider: str, seconds: int, slices: int, connections: int
) -> tuple[dict, dict]:
    """The floor and the mock loaded in alternating slices, so that what else the shared
    machine does in the meantime weighs on both alike."""
    low: list[dict] = []
    high: list[dict] = []
    for _ in range(slices):
        low.append(load(floor, provider, seconds, connections))
        high.append(load(mock, provider, seconds, connections))
    return combined(low), combined(high)


def startup_ms(runs: int = 5) -> tuple[float, float]:
    """Median ms to the first answered request: the mock's, and the bare-aiohttp floor's
    (runs alternate, see bench/startup.py)."""
    sys.path.insert(0, str(HERE))
    from startup import compile_checkout, floor_run, one_run  # bench/startup.py

    compile_checkout()  # both from bytecode, as installed (see bench/startup.py)
    mock: list[float] = []
    floor: list[float] = []
    for _ in range(runs):
        mock.append(one_run())
        floor.append(floor_run())
    return statistics.median(mock) * 1000, statistics.median(floor) * 1000


async def _count_receiver(port: int, expected: int, done: asyncio.Event, stamps: list[float]):
    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        stamps.append(time.perf_counter())
        if len(stamps) >= expected:
            done.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def webhook_rate(tasks: int, seconds: int, connections: int) -> dict:
    """Signed deliveries per second to a loopback receiver while wrk polls the mock."""
    port = free_port()
    server = Server(
        "--mode",
        "mock",
        "--tasks",
        str(tasks * 3),
        "--webhook-url",
        f"http://127.0.0.1:{port}/hook",
    )
    # youcam: one signed delivery per task; relay: one notify_hook per task (terminal only)
    expected = len(server.info["ids"]["youcam"]) + len(server.info["ids"]["relay"])

    async def run() -> dict:
        done = asyncio.Event()
        stamps: list[float] = []
        runner = await _count_receiver(port, expected, done, stamps)
        poller = None
        if shutil.which("wrk"):
            ids = server.info["ids"]["youcam"]
            with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
                f.write("\n".join(ids))
            poller = subprocess.Popen(
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{seconds}s",
                    "--latency",
                    "-s",
                    str(HERE / "poll.lua"),
                    server.base,
                    "--",
                    f.name,
                    STATUS_PATHS["youcam"],
                    KEY,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            await asyncio.sleep(1)
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            await session.post(server.base + "/__mock/clock/advance", json={"seconds": 40_000})
            try:
                await asyncio.wait_for(done.wait(), timeout=600)
            finally:
                elapsed = (stamps[-1] if stamps else time.perf_counter()) - started
        polls = None
        if poller is not None:
            out = poller.communicate()[0]
            polls = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        await runner.cleanup()
        return {
            "deliveries": len(stamps),
            "seconds": elapsed,
            "per_second": len(stamps) / elapsed,
            "polls_per_second_meanwhile": polls,
        }

    try:
        return asyncio.run(run())
    finally:
        server.stop()


def suite_seconds() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load from "
        f"{'wrk' if shutil.which('wrk') else 'the Python generator'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tasks",
        default="1000,100000,1000000",
        help="live task counts, comma separated (split over the 3 providers)",
    )
    parser.add_argument("--seconds", type=int, default=3, help="load per slice")
    parser.add_argument(
        "--slices", type=int, default=4, help="alternating floor/mock slices per figure"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--webhook-tasks", type=int, default=2000, help="per provider (0: no webhook figure)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 s slices, 2 of them; no suite, no webhooks"
    )
    parser.add_argument("--skip-suite", action="store_true", help="do not time the test suite")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    seconds = 2 if args.quick else args.seconds
    if args.quick:
        args.slices = 2
    results: dict[str, Any] = {"machine": machine(), "command": " ".join(sys.argv)}
    print(f"# avatar-mock benchmark\n\nmachine: {results['machine']}\n")

    results["startup_ms"], results["startup_floor_ms"] = startup_ms()
    print(
        f"start-up to first answered request: {results['startup_ms']:.0f} ms, bare-aiohttp "
        f"floor {results['startup_floor_ms']:.0f} ms (medians of 5)\n"
    )

    rows: list[tuple[str, str, dict]] = []
    memory: dict[int, float] = {}
    floor = Server("--mode", "floor")
    try:
        for count in (int(c) for c in args.tasks.split(",")):
            server = Server("--mode", "mock", "--tasks", str(count))
            try:
                info = server.info
                memory[count] = (
                    (info["rss_after_kib"] - info["rss_before_kib"]) * 1024 / max(info["tasks"], 1)
                )
                for provider in STATUS_PATHS:
                    low, high = interleaved(
                        floor, server, provider, seconds, args.slices, args.connections
                    )
                    rows.append(("floor", provider, low))
                    rows.append((f"mock {count:,}", provider, high))
            finally:
                server.stop()
    finally:
        floor.stop()
    results["polls"] = [{"server": s, "provider": p, **r} for s, p, r in rows]
    results["bytes_per_task"] = memory

    print(
        f"status polls, {args.connections} connections, {args.slices} alternating slices of "
        f"{seconds} s per server. Each mock row is compared with the floor row above it,\n"
        "measured in the slices between its own. 'x floor': polls/s over the floor's; 'cpu x "
        "floor': the floor's server CPU per poll over this one's, the throughput ratio the "
        "server itself allows (steadier on a shared machine).\n"
    )
    print("| server | provider | polls/s | x floor | CPU us/poll | cpu x floor | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (_, _, low), (s, p, r) in zip(rows[::2], rows[1::2], strict=True):
        for name, row in ((f"floor (beside {s[5:]})", low), (s, r)):
            print(
                f"| {name} | {p} | {row['rps']:,.0f} | {row['rps'] / low['rps']:.2f} | "
                f"{row['cpu_us']:.0f} | {low['cpu_us'] / row['cpu_us']:.2f} | "
                f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} |"
                + (f" {row['errors']} errors" if row["errors"] else "")
            )
    print("\nresident memory per live task (typical request bodies):")
    for count, per in memory.items():
        print(f"  {count:>9,} tasks: {per:,.0f} bytes/task")
    counts = sorted(memory)
    if len(counts) > 1:
        for provider in STATUS_PATHS:
            low = next(r for s, p, r in rows if s == f"mock {counts[0]:,}" and p == provider)
            high = next(r for s, p, r in rows if s == f"mock {counts[-1]:,}" and p == provider)
            print(
                f"  p99 at {counts[-1]:,} / p99 at {counts[0]:,} ({provider}): "
                f"{high['p99_ms'] / low['p99_ms']:.2f}"
            )

    if not args.quick and args.webhook_tasks > 0:  # none to deliver: nothing to wait for
        results["webhooks"] = webhook_rate(args.webhook_tasks, seconds, args.connections)
        w = results["webhooks"]
        polls = w["polls_per_second_meanwhile"]
        print(
            f"\nwebhooks: {w['deliveries']:,} deliveries (YouCam signed + relay) in "
            f"{w['seconds']:.2f} s = {w['per_second']:,.0f}/s"
            + (f", while answering {polls:,.0f} polls/s" if polls else "")
        )
    if not args.quick and not args.skip_suite:
        results["suite_seconds"] = suite_seconds()
        print(f"\ntest suite: {results['suite_seconds']:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
