"""Soak: does resident memory plateau while tasks are created and polled for a long time?

    python bench/soak.py                     # 10 minutes at 150 tasks/s, 30 s retention
    python bench/soak.py --duration 300 --rate 195

Starts the mock the way ``avatar-mock serve`` does (a child process, real clock speed, every
bound at its default) on a scenario whose only changes are a short ``task_retention`` for
all three providers, balances and rate limits no soak can exhaust, and short timelines.
Creates tasks at a fixed rate, rotating YouCam ai-avatar, relay and A2E image-to-video across
a few keys, and polls each one twice (while it runs and after it ended). Every 10 s it prints
the server's resident memory (VmRSS), its live tasks and what the load did; at the end, the
least-squares slope of RSS over the second half of the run (KiB per minute), as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
KEYS = [f"sk-soak-{i}" for i in range(8)]
SUBMITS = [
    (
        "/s2s/v2.0/task/ai-avatar",
        {
            "template_id": "female_manga_mood",
            "output_count": 4,
            "src_file_url": "https://e.x/a.jpg",
        },
        lambda body: body["data"]["task_id"],
        "/s2s/v2.0/task/ai-avatar/{}",
    ),
    (
        "/avatar/generation",
        {"avatar_url": "https://e.x/face.jpg", "audio_url": "https://e.x/hello.mp3"},
        lambda body: body["data"],
        "/avatar/task/{}",
    ),
    (
        "/api/v1/userImage2Video/start",
        {"name": "soak", "image_url": "https://e.x/face.png", "prompt": "speaking"},
        lambda body: body["data"]["_id"],
        "/api/v1/userImage2Video/{}",
    ),
]


def scenario(retention: float) -> str:
    huge = 1e12
    settings = f"{{task_retention: {retention}}}"
    return f"""
name: soak
balances: {{units: {huge}, coins: {huge}, diamonds: {huge}, quota: {huge}}}
providers:
  youcam:
    settings: {{task_retention: {retention}, polling_window: null}}
    rate_limits: []
    families: {{ai-avatar: {{states: {{running: 2}}}}}}
  relay:
    settings: {settings}
    families:
      avatar: {{states: {{NOT_START: 0.5, SUBMITTED: 0.5, QUEUED: 0.5, IN_PROGRESS: 1}}}}
  a2e:
    settings: {settings}
    families: {{image2video: {{states: {{sent: 0.5, pending: 2}}}}}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


class Load:
    def __init__(self) -> None:
        self.submitted = self.polls = self.errors = self.refused = 0


async def one_task(session: aiohttp.ClientSession, base: str, n: int, load: Load) -> None:
    path, body, task_id_of, status_path = SUBMITS[n % len(SUBMITS)]
    headers = {"Authorization": f"Bearer {KEYS[n % len(KEYS)]}"}
    try:
        async with session.post(base + path, json=body, headers=headers) as resp:
            answer = await resp.json()
            if resp.status != 200:
                load.refused += 1
                return
        load.submitted += 1
        url = base + status_path.format(task_id_of(answer))
        for pause in (1.0, 3.0):  # once while it runs, once after it ended
            await asyncio.sleep(pause)
            async with session.get(url, headers=headers) as resp:
                await resp.read()
                load.polls += 1
                if resp.status != 200:
                    load.errors += 1
    except (aiohttp.ClientError, ValueError, KeyError, TypeError):
        load.errors += 1


async def drive(base: str, pid: int, duration: float, rate: float, every: float) -> list:
    load = Load()
    samples: list[tuple[float, int, int]] = []
    pending: set[asyncio.Task] = set()
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        next_sample = started
        for n in itertools.count():
            due = started + n / rate
            now = time.monotonic()
            if now >= next_sample:
                async with session.get(base + "/__mock/health") as resp:
                    tasks = (await resp.json())["tasks"]
                t = now - started
                rss = rss_kib(pid)
                samples.append((t, rss, tasks))
                print(
                    f"{t:6.0f} s  RSS {rss / 1024:7.1f} MiB  live tasks {tasks:6d}  "
                    f"submitted {load.submitted:7d}  polls {load.polls:7d}  "
                    f"refused {load.refused}  errors {load.errors}",
                    flush=True,
                )
                next_sample += every
            if now - started >= duration:
                break
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.create_task(one_task(session, base, n, load))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending, return_exceptions=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--rate", type=float, default=150.0, help="tasks per second")
    parser.add_argument("--retention", type=float, default=30.0, help="task_retention, s")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()

    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(scenario(args.retention))
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--config", f.name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        if "serving" not in line:
            raise SystemExit(f"the mock did not start: {line}{server.stderr.read()}")
        time.sleep(0.3)
        print(
            f"soak: {args.rate:g} tasks/s for {args.duration:g} s, retention {args.retention:g} s,"
            f" mock pid {server.pid} on port {port}",
            flush=True,
        )
        samples = asyncio.run(
            drive(f"http://127.0.0.1:{port}", server.pid, args.duration, args.rate, args.every)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(f.name)
    half = [(t, rss) for t, rss, _ in samples if t >= args.duration / 2]
    per_min = slope(half) * 60 if len(half) >= 2 else float("nan")
    first, last = samples[0], samples[-1]
    live = [n for t, _, n in samples if t >= args.duration / 2]
    result = {
        "duration_s": args.duration,
        "rate": args.rate,
        "retention_s": args.retention,
        "rss_start_mib": round(first[1] / 1024, 1),
        "rss_end_mib": round(last[1] / 1024, 1),
        "rss_max_mib": round(max(s[1] for s in samples) / 1024, 1),
        "live_tasks_second_half": [min(live), max(live)] if live else None,
        "slope_second_half_kib_per_min": round(per_min, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
