"""Time from process start to the first answered request, for `avatar-mock serve`.

    python bench/startup.py [--runs 7]

Prints each run and the median. A real process on a real port: import, spec loading,
validator compilation and binding all count.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run() -> float:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/s2s/v2.0/task/template/ai-avatar?page_size=1"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=1) as resp:
                    resp.read()
                return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("server exited") from None
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        t = one_run()
        times.append(t)
        print(f"run {i + 1}: {t * 1000:.0f} ms to the first answered request")
    print(f"median: {statistics.median(times) * 1000:.0f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
