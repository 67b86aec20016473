"""``avatar-mock serve --workers N``: N processes on one port, refused over memory, stopped
together, a worker that dies reported and replaced (mockserver/workers.py).

Real processes on a real port; the waits are for processes to start and stop, not mock time.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serve_processes import free_port


def _health_pid(port: int) -> int | None:
    """The pid of the worker that answers a new connection, or None while none does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/__mock/health")
        return int(json.loads(conn.getresponse().read())["pid"])
    except OSError:
        return None
    finally:
        conn.close()


def _pids_answering(port: int, want: int, avoid: set[int] = frozenset(), limit: float = 30.0):
    """Distinct pids seen on new connections until ``want`` of them not in ``avoid`` answered."""
    seen: set[int] = set()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        pid = _health_pid(port)
        if pid is not None and pid not in avoid:
            seen.add(pid)
            if len(seen) >= want:
                return seen
        elif pid is None:
            time.sleep(0.05)  # a process still starting, not mock time
    raise AssertionError(f"only pids {sorted(seen)} answered on port {port}")


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def workers(tmp_path):
    """Start ``serve --workers`` in ``tmp_path``; yields (parent, port, stderr file)."""
    started: list[subprocess.Popen] = []

    def start(*args: str):
        port = free_port()
        err = tmp_path / f"stderr-{port}.txt"
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port), *args],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err.open("wb"),
        )
        started.append(proc)
        return proc, port, err

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def test_two_workers_answer_on_one_port_and_one_that_dies_is_replaced(workers, tmp_path):
    parent, port, err = workers("--workers", "2")
    pids = _pids_answering(port, 2)
    assert all(_parent_of(pid) == parent.pid for pid in pids)
    assert (tmp_path / "avatar-mock.sqlite3").exists()  # the default shared store, checked

    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    [replacement] = _pids_answering(port, 1, avoid=pids)
    assert _parent_of(replacement) == parent.pid
    report = err.read_text()
    assert f"(pid {victim}) exited with signal SIGKILL" in report
    assert f"started pid {replacement} in its place" in report


def test_the_workers_share_the_store_their_scenario_names(workers, tmp_path):
    """The scenario's ``state`` names the store for ``--workers`` as it does for one process
    (mockserver.stateurl's rule), not the default file in the working folder."""
    config = tmp_path / "scenario.yaml"
    config.write_text("state: sqlite:named.db\n")
    _, port, _ = workers("--workers", "2", "--config", str(config))
    assert len(_pids_answering(port, 2)) == 2
    assert (tmp_path / "named.db").exists()
    assert not (tmp_path / "avatar-mock.sqlite3").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_parent_stops_every_worker(workers, sig):
    parent, port, _ = workers("--workers", "2", "--state", "sqlite:shared.db")
    pids = _pids_answering(port, 2)
    parent.send_signal(sig)
    assert parent.wait(timeout=30) == 0
    assert all(_gone(pid) for pid in pids)  # stopped and reaped, none left behind
    assert _port_free(port)


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--state", "memory"], {}, "and --state memory is one per process"),
        ([], {"AVATAR_MOCK_STATE": "memory"}, "and $AVATAR_MOCK_STATE=memory is one per"),
        (["--config", "memory.yaml"], {}, "and the scenario's state: memory is one per"),
        (["--state", "sqlite:"], {}, "bad sqlite state url"),
        (["--port", "0"], {}, "needs a fixed --port"),
    ],
    ids=["memory", "memory-from-env", "memory-from-scenario", "bad-store", "port-0"],
)
def test_workers_are_refused_where_state_would_split(tmp_path, args, env, said):
    (tmp_path / "memory.yaml").write_text("state: memory\n")
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", "2", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr.decode()
    assert _port_free(port)


def test_a_store_that_cannot_be_reached_stops_start_up(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--workers", "2", "--state", url],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot start" in done.stderr.decode()


@pytest.mark.parametrize("count", ["0", "65", "two"])
def test_a_bad_worker_count_is_a_usage_error(count, capsys):
    from mockserver.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workers", count])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err


def test_a_worker_that_keeps_dying_stops_the_group(tmp_path):
    """The port is held by another program, so every worker fails to bind: after RESTARTS
    exits in a minute the supervisor gives up with status 1 and says so."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # no SO_REUSEPORT: a worker cannot join it
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "times in 60 s; stopping all workers" in err
    assert "started pid" in err  # replaced before it was given up on
