"""Time from process start to the first answered request, for `avatar-mock serve`.

    python bench/startup.py [--runs 7] [--against DIR]

Prints each run and the median, for the mock and for the floor measured in the same run: a
bare aiohttp app that imports ``aiohttp.web`` and serves one route. Their difference is the
mock's own start-up cost. Real processes on real ports: interpreter start, imports, spec
loading, validator compilation and binding all count. Mock and floor runs alternate, so a
change of load on a shared machine touches both alike; the CPU time each server had used by
its first answer (Linux) is printed too, as it moves less with other load than wall time.

Both start from compiled bytecode, as an installed wheel does (pip compiles it): the bench
compiles the checkout's packages first. Without that, a checkout run with
PYTHONDONTWRITEBYTECODE=1 (or from a read-only tree) compiles ~95 modules from source at
every start while the floor's aiohttp loads its .pyc, and the difference measured is mostly
the compiler (``--no-compile`` keeps it, to see that cost).
"""

from __future__ import annotations

import argparse
import compileall
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

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


class Run(NamedTuple):
    wall: float  # seconds from process start to the first answer
    cpu: float | None  # CPU seconds (user + system) the server had used by then; Linux only


def _cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by ``pid``: steadier than wall time on a shared machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _first_answer(argv: Sequence[str], port: int, tree: Path | None = None) -> Run:
    """Start ``argv`` (in checkout ``tree``, else here) and time it to its first answer."""
    url = f"http://127.0.0.1:{port}{PATH}?page_size=1"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree, env=env
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=1) as resp:
                    resp.read()
                return Run(time.perf_counter() - started, _cpu_seconds(proc.pid))
            except urllib.error.HTTPError as exc:  # an answer, but not the one asked for
                raise SystemExit(f"{' '.join(argv)} answered {exc.code} {exc.reason}") from None
            except OSError:  # not listening yet
                if proc.poll() is not None:
                    raise SystemExit(f"server exited: {' '.join(argv)}") from None
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait()


def time_mock(tree: Path | None = None) -> Run:
    """``avatar-mock serve`` (from checkout ``tree``, else this one) to its first answer."""
    port = _free_port()
    argv = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
    return _first_answer(argv, port, tree)


def time_floor() -> Run:
    """A bare aiohttp app (see FLOOR) to its first answered request."""
    port = _free_port()
    return _first_answer([sys.executable, "-c", FLOOR, str(port)], port)


def one_run() -> float:
    """Seconds from starting ``avatar-mock serve`` to its first answered request."""
    return time_mock().wall


def floor_run() -> float:
    """Seconds from starting the bare aiohttp floor to its first answered request."""
    return time_floor().wall


def _median_ms(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) * 1000 if known else None


def compile_checkout(root: Path | None = None) -> None:
    """Bytecode for the checkout's packages (what ``pip install`` writes for a wheel)."""
    root = root or Path(__file__).resolve().parent.parent
    for package in ("mockserver", "contracts"):
        compileall.compile_dir(root / package, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--no-compile", action="store_true", help="start from source where no .pyc is cached"
    )
    parser.add_argument(
        "--against", type=Path, metavar="DIR", help="another checkout, timed in the same runs"
    )
    args = parser.parse_args()
    against: Path | None = args.against.resolve() if args.against else None
    if against is not None and not (against / "mockserver" / "contracts").exists():
        raise SystemExit(
            f"{against}: link mockserver/contracts and mockserver/fixtures to ../contracts and "
            "../fixtures (setup.py maps them so in a wheel)"
        )
    if not args.no_compile:
        compile_checkout()
        if against is not None:
            compile_checkout(against)
    mock: list[Run] = []
    floor: list[Run] = []
    other: list[Run] = []
    for i in range(args.runs):
        mock.append(time_mock())
        if against is not None:
            other.append(time_mock(against))
        floor.append(time_floor())
        cpu = (
            f"; CPU {mock[-1].cpu * 1000:.0f} ms, floor {floor[-1].cpu * 1000:.0f} ms"
            if mock[-1].cpu is not None and floor[-1].cpu is not None
            else ""
        )
        if other:
            cpu += f"; the other checkout {other[-1].wall * 1000:.0f} ms"
            cpu += f", CPU {other[-1].cpu * 1000:.0f} ms" if other[-1].cpu is not None else ""
        print(
            f"run {i + 1}: {mock[-1].wall * 1000:.0f} ms to the first answered request "
            f"(floor {floor[-1].wall * 1000:.0f} ms{cpu})",
            flush=True,
        )
    mock_ms = statistics.median(r.wall for r in mock) * 1000
    floor_ms = statistics.median(r.wall for r in floor) * 1000
    print(f"median: {mock_ms:.0f} ms over {args.runs} runs")
    print(f"floor (bare aiohttp app, same runs): {floor_ms:.0f} ms median")
    print(f"the mock's own start-up: {mock_ms - floor_ms:.0f} ms (median minus floor)")
    mock_cpu = _median_ms([r.cpu for r in mock])
    floor_cpu = _median_ms([r.cpu for r in floor])
    if mock_cpu is not None and floor_cpu is not None:
        print(
            f"CPU to the first answer (steadier under load): {mock_cpu:.0f} ms, floor "
            f"{floor_cpu:.0f} ms, the mock's own {mock_cpu - floor_cpu:.0f} ms (medians)"
        )
    if other:
        other_ms = statistics.median(r.wall for r in other) * 1000
        other_cpu = _median_ms([r.cpu for r in other])
        cpu = (
            f"; CPU {other_cpu:.0f} ms, its own {other_cpu - floor_cpu:.0f} ms"
            if other_cpu is not None and floor_cpu is not None
            else ""
        )
        print(
            f"{against} (same runs): {other_ms:.0f} ms median, its own "
            f"{other_ms - floor_ms:.0f} ms{cpu}"
        )


if __name__ == "__main__":
    main()
