"""Instructions per request on the real serve path: ``avatar-mock serve`` and the bare-aiohttp
floor (bench/peer_floor.py) under valgrind, loaded by wrk over real sockets.

    python bench/served_instructions.py                      # floor and mock, GET and POST
    python bench/served_instructions.py --call GET --only mock
    python bench/served_instructions.py --tree /tmp/main --tree .   # compare checkouts

Why it exists: bench/instructions.py feeds bench/server.py's app from memory on a plain
AppRunner, so what ``serve`` adds (its connection guard, keep-alive and header limits, its
access log and start-up configuration) is invisible to it: the guard's ~27 k instructions per
poll never showed there. This one runs the processes bench/peers.py compares, with its
scenario, its two calls (A2E's ``GET /api/v1/userImage2Video/{_id}`` and ``POST
/api/v1/video/awsResult`` with ``{"_id": ...}``), its task ids and its wrk scripts.

Each figure is the difference between two valgrind runs (cachegrind, no cache simulation)
of ``--seconds`` different loads, divided by the difference of their request counts, so
start-up, spec loading and task creation cancel out. Instructions are stable under the
machine's load; CPU time is not (and it includes the kernel's socket work, which this does
not). ``--tree DIR`` (repeatable) runs the ``mockserver`` of another checkout; the floor runs
once, it does not depend on the tree.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_servers as ps  # noqa: E402
from peers import create_tasks, free_port  # noqa: E402

CALLS = ("GET", "POST")
PEERS = ("floor", "mock")
START_TIMEOUT_S = 600.0  # a mock's start-up under valgrind takes a minute or more


def record(workdir: Path, tasks: int) -> tuple[list[str], list[str]]:
    """The floor answers the mock's own bodies (one answer of each call, recorded here) for
    the mock's own ids, as in bench/peers.py: one id polled over and over would be cheaper
    than many (yarl caches the URLs of the last 128 paths)."""
    mock = ps.Running(ps.mock(free_port(), "asyncio", workdir), None)
    try:
        polls, reads = create_tasks(mock, tasks)
        (workdir / "get.json").write_bytes(mock.call("GET", ps.GET_PATH % polls[0])[1])
        body = (ps.POST_BODY % reads[0]).encode()
        (workdir / "post.json").write_bytes(mock.call("POST", ps.POST_PATH, body)[1])
    finally:
        mock.stop()
    return polls, reads


def _valgrind(peer: ps.Peer, out: Path, tree: Path | None) -> ps.Peer:
    argv = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}"]
    env = dict(peer.env)
    cwd = peer.cwd
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        cwd = tree
    return replace(peer, argv=argv + peer.argv, env=env, cwd=cwd)


def _total(out: Path) -> int:
    match = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
    assert match, f"no summary in {out}"
    return int(match.group(1))


def one_run(
    which: str, call: str, seconds: int, workdir: Path, tree: Path | None, ids: list[str]
) -> tuple[int, int]:
    """(requests answered, instructions executed) of one server under ``seconds`` of wrk."""
    port = free_port()
    build = ps.mock if which == "mock" else ps.floor
    out = workdir / f"cg.{which}.{call}.{seconds}.{port}"
    server = ps.Running(
        _valgrind(build(port, "asyncio", workdir), out, tree), None, START_TIMEOUT_S
    )
    try:
        if which == "mock":  # its own tasks, as many as the floor has ids
            polls, reads = create_tasks(server, len(ids))
            ids = polls if call == "GET" else reads
        ids_file = workdir / "ids"
        ids_file.write_text("\n".join(ids))
        requests = 0
        if seconds:
            argv = ["wrk", "-t1", "-c64", f"-d{seconds}s"]
            if call == "GET":
                argv += ["-s", str(HERE / "poll.lua"), server.base, "--", str(ids_file)]
                argv += [ps.GET_PATH, ps.KEY]
            else:
                argv += ["-s", str(HERE / "post.lua"), server.base, "--", str(ids_file)]
                argv += [ps.POST_PATH, ps.KEY, ps.POST_BODY]
            text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
            if re.search(r"Non-2xx or 3xx responses: (\d+)", text):
                raise RuntimeError(f"{which} {call}: answers other than 200:\n{text}")
        server.proc.send_signal(signal.SIGINT)  # a clean exit: cachegrind writes its file
        server.proc.wait(timeout=300)
    finally:
        server.stop()
    return requests, _total(out)


def per_request(
    which: str, call: str, loads: list[int], workdir: Path, tree: Path | None, ids: list[str]
) -> float:
    (n1, t1), (n2, t2) = (one_run(which, call, s, workdir, tree, ids) for s in loads)
    print(f"  {which} {call} {tree or ''}: {n1} / {n2} requests", flush=True)
    return (t2 - t1) / (n2 - n1)


def main() -> None:
    # a server must hear SIGINT: a job started in the background of a shell has it ignored,
    # and its children inherit that (a handled signal is reset to the default at exec)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--call", choices=CALLS, action="append", help="default both")
    parser.add_argument("--only", choices=PEERS, action="append", help="default both")
    parser.add_argument("--tree", type=Path, action="append", help="a checkout's mockserver")
    parser.add_argument("--seconds", default="2,8", help="the two loads, seconds of wrk")
    parser.add_argument("--tasks", type=int, default=300, help="live tasks per kind")
    args = parser.parse_args()
    calls = args.call or list(CALLS)
    peers = args.only or list(PEERS)
    loads = [int(s) for s in args.seconds.split(",")]
    trees: list[Path | None] = [t.resolve() for t in args.tree] if args.tree else [None]
    workdir = Path(tempfile.mkdtemp(prefix="served-instructions-"))
    polls, reads = record(workdir, args.tasks)
    rows: list[tuple[str, str, float]] = []
    for call in calls:
        ids = polls if call == "GET" else reads
        if "floor" in peers:
            rows.append(("floor", call, per_request("floor", call, loads, workdir, None, ids)))
        for tree in trees if "mock" in peers else []:
            mock = per_request("mock", call, loads, workdir, tree, ids)
            rows.append((f"mock {tree or ps.ROOT}", call, mock))
    print(f"\n{'server':<40} {'call':<5} {'instructions/request':>21} {'floor/this':>10}")
    floors = {call: n for name, call, n in rows if name == "floor"}
    for name, call, n in rows:
        ratio = f"{floors[call] / n:.2f}" if call in floors else ""
        print(f"{name:<40} {call:<5} {n:>21,.0f} {ratio:>10}")


if __name__ == "__main__":
    main()
