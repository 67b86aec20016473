"""``avatar-mock serve --workers N``: N server processes on one port, over one state store.

Each worker is an ordinary ``avatar-mock serve`` process that binds the port with
``SO_REUSEPORT``, so the kernel spreads new connections over the workers and no process
proxies another's traffic. What one worker knows the others must know too, so the workers
need a shared state store: ``--state sqlite:PATH`` (one machine; the default,
``sqlite:avatar-mock.sqlite3`` in the working folder) or ``--state redis://HOST:PORT/DB``.
``--state memory`` is refused: every worker would keep its own tasks, tenants, clock and
rate-limit windows, and a poll the kernel hands to another worker would not find its task.

The supervising process opens the store once before any worker starts (a store that cannot be
reached, or holds a schema this version cannot read, stops start-up with the store's own
message), then starts the workers and waits. SIGTERM or SIGINT stops them all: each is sent
SIGTERM and given ``STOP_GRACE`` seconds to finish its requests and close, then killed. A
worker that exits on its own is reported on standard error (its pid and exit status) and
started again, so the port keeps its N workers; one that keeps dying (``RESTARTS`` times in
``RESTART_WINDOW`` seconds) stops the whole group with exit status 1, since restarting it
would only hide the fault.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.stateurl import STATE_ENV, Named, naming, refusal

if TYPE_CHECKING:
    from mockserver.scenario import Scenario

DEFAULT_SHARED_STATE = "sqlite:avatar-mock.sqlite3"
STOP_GRACE = 10.0  # seconds a worker has to close after SIGTERM
RESTARTS = 5  # a worker that exits this many times ...
RESTART_WINDOW = 60.0  # ... within this many seconds stops the group
TICK = 0.1  # seconds between looks at the workers (the supervisor's wall clock, not the mock's)
MAX_WORKERS = 64


def add_arguments(serve: argparse.ArgumentParser) -> None:
    """``--workers``, ``--state`` and the hidden flag a worker is started with."""
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="serve from N processes on one port (SO_REUSEPORT) over a shared --state "
        f"(default {DEFAULT_SHARED_STATE} when N > 1; memory is refused)",
    )
    serve.add_argument(
        "--state",
        metavar="URL",
        help=f"where state lives: memory (default), sqlite:PATH or redis://HOST:PORT/DB "
        f"(else ${STATE_ENV}, else the scenario's state)",
    )
    serve.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_WORKERS} workers, not {n}")
    return n


def shared_state(args: argparse.Namespace, scenario: Scenario) -> str | int:
    """The store the workers share (mockserver.stateurl's rule, ``DEFAULT_SHARED_STATE``
    where nothing names one), or the exit status after saying why there is none."""
    url, where = naming(args.state, scenario) or Named(DEFAULT_SHARED_STATE, "the default")
    if url.partition(":")[0].lower() == "memory":
        print(
            f"avatar-mock: --workers {args.workers} needs a shared state store, and "
            f"{where} is one per process: each worker would keep its own tasks, tenants, "
            "clock and rate-limit windows, so a poll answered by another worker would not "
            "find the task it polls. Give --state sqlite:PATH (one machine) or --state "
            f"redis://HOST:PORT/DB (--state wins over ${STATE_ENV} and the scenario's "
            f"state); where none names a store, --workers uses {DEFAULT_SHARED_STATE}.",
            file=sys.stderr,
        )
        return 2
    if args.port == 0:
        print("avatar-mock: --workers needs a fixed --port (workers share it)", file=sys.stderr)
        return 2
    why = refusal(url)
    if why is not None:
        print(f"avatar-mock: cannot start: {why}", file=sys.stderr)
        return 2
    return url


@dataclass
class Worker:
    """A worker process of ``serve --workers N``, and when it exited on its own (for RESTARTS)."""

    index: int
    proc: subprocess.Popen[bytes]
    exits: deque[float] = field(default_factory=deque)  # when it exited on its own


class Supervisor:
    """Starts the workers, restarts one that exits, stops them all on SIGTERM or SIGINT."""

    def __init__(self, argv: Sequence[str], count: int, state: str) -> None:
        self.argv = list(argv)
        self.count = count
        self.state = state
        self.stopping = False
        self.workers: list[Worker] = []

    def command(self, index: int) -> list[str]:
        """The worker's command line: the same ``serve`` flags, its index, the shared store
        (later flags win in argparse, so these override what the operator gave)."""
        return [
            sys.executable,
            "-m",
            "mockserver",
            *self.argv,
            "--worker-index",
            str(index),
            "--state",
            self.state,
        ]

    def start(self, index: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(index))

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.workers = [Worker(i, self.start(i)) for i in range(self.count)]
        pids = ", ".join(str(w.proc.pid) for w in self.workers)
        print(f"avatar-mock: {self.count} workers (pids {pids}) over {self.state}", flush=True)
        status = 0
        while not self.stopping:
            for worker in self.workers:
                exited = worker.proc.poll() is not None and not self.stopping
                if exited and not self._restart(worker):
                    status = 1
                    self.stopping = True
                    break
            time.sleep(TICK)
        self._stop_all()
        return status

    def _restart(self, worker: Worker) -> bool:
        """Report the worker's exit and start another in its place (False: it keeps dying)."""
        code = worker.proc.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
        now = time.monotonic()
        worker.exits.append(now)
        while worker.exits and worker.exits[0] < now - RESTART_WINDOW:
            worker.exits.popleft()
        if len(worker.exits) >= RESTARTS:
            print(
                f"avatar-mock: worker {worker.index} (pid {worker.proc.pid}) exited with {how}, "
                f"{len(worker.exits)} times in {RESTART_WINDOW:.0f} s; stopping all workers",
                file=sys.stderr,
                flush=True,
            )
            return False
        old = worker.proc.pid
        worker.proc = self.start(worker.index)
        print(
            f"avatar-mock: worker {worker.index} (pid {old}) exited with {how}; "
            f"started pid {worker.proc.pid} in its place",
            file=sys.stderr,
            flush=True,
        )
        return True

    def _stop_all(self) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for worker in self.workers:
            try:
                worker.proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                print(
                    f"avatar-mock: worker {worker.index} (pid {worker.proc.pid}) did not stop "
                    f"within {STOP_GRACE:.0f} s; killed",
                    file=sys.stderr,
                )
                worker.proc.kill()
                worker.proc.wait()


def supervise(args: argparse.Namespace, argv: Sequence[str], scenario: Scenario) -> int:
    """``serve --workers N`` (N > 1): check the store, then run the workers until stopped."""
    state = shared_state(args, scenario)
    if isinstance(state, int):
        return state
    return Supervisor(argv, args.workers, state).run()
