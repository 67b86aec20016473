"""Time from process start to the first answered request, for `avatar-mock serve`.

    python bench/startup.py [--runs 7]

Prints each run and the median, for the mock and for the floor measured in the same run: a
bare aiohttp app that imports ``aiohttp.web`` and serves one route. Their difference is the
mock's own start-up cost. Real processes on real ports: interpreter start, imports, spec
loading, validator compilation and binding all count. Mock and floor runs alternate, so a
change of load on a shared machine touches both alike.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence

PATH = "/s2s/v2.0/task/template/ai-avatar"

# The floor: nothing but aiohttp.web, one route, the same address and answer shape.
FLOOR = f"""
import sys
from aiohttp import web

async def answer(request):
    return web.json_response({{"status": 200, "data": {{"templates": []}}}})

app = web.Application()
app.router.add_get("{PATH}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_answer(argv: Sequence[str], port: int) -> float:
    """Seconds from starting ``argv`` to the first answer it gives on ``port``."""
    url = f"http://127.0.0.1:{port}{PATH}?page_size=1"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=1) as resp:
                    resp.read()
                return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"server exited: {' '.join(argv)}") from None
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait()


def one_run() -> float:
    """Seconds from starting ``avatar-mock serve`` to its first answered request."""
    port = _free_port()
    return _first_answer([sys.executable, "-m", "mockserver", "serve", "--port", str(port)], port)


def floor_run() -> float:
    """Seconds from starting a bare aiohttp app (see FLOOR) to its first answered request."""
    port = _free_port()
    return _first_answer([sys.executable, "-c", FLOOR, str(port)], port)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    mock: list[float] = []
    floor: list[float] = []
    for i in range(args.runs):
        mock.append(one_run())
        floor.append(floor_run())
        print(
            f"run {i + 1}: {mock[-1] * 1000:.0f} ms to the first answered request "
            f"(floor {floor[-1] * 1000:.0f} ms)",
            flush=True,
        )
    mock_ms = statistics.median(mock) * 1000
    floor_ms = statistics.median(floor) * 1000
    print(f"median: {mock_ms:.0f} ms over {args.runs} runs")
    print(f"floor (bare aiohttp app, same runs): {floor_ms:.0f} ms median")
    print(f"the mock's own start-up: {mock_ms - floor_ms:.0f} ms (median minus floor)")


if __name__ == "__main__":
    main()
