"""``avatar-mock serve`` as real processes on real ports, spoken to over real HTTP: for what
only a process shows (its own memory, a ``kill -9``, replicas that share nothing but a store).

The one wait here is for a process to bind and answer (wall time, bounded); everything the
mock does in time runs on its virtual clock (``--speed 0`` unless a test says otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

SECRET = "a-secret-both-runs-share"  # replicas and restarts verify each other's links
SERVE = [sys.executable, "-m", "mockserver", "serve"]
READY_S = 30.0  # a start on a loaded machine (two cores shared) can take seconds
KEY = "sk-test"


def free_port() -> int:
    """A port nothing listens on now (another process may take it before it is bound)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = KEY,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, Any]:
    """One request as a client makes it: the status and the JSON answer (bytes if not JSON);
    an error status is an answer, not an exception."""
    sent = dict(headers or {})
    if key is not None:
        sent.setdefault("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, _decoded(resp.headers.get_content_type(), resp.read())
    except urllib.error.HTTPError as err:
        return err.code, _decoded(err.headers.get_content_type(), err.read())


def _decoded(content_type: str, raw: bytes) -> Any:
    return json.loads(raw) if content_type == "application/json" else raw


def wait_ready(
    proc: subprocess.Popen, base: str, deadline_s: float = READY_S, log: IO[bytes] | None = None
) -> None:
    """Until ``base`` answers health; a process that exits first fails with its stderr (its
    ``log`` file, else its stderr pipe)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {_stderr(proc, log)}")
        try:
            call(base, "GET", "/__mock/health", key=None, timeout=2)
            return
        except OSError:
            time.sleep(0.05)  # waiting for a real process to bind, not for mock time
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError(f"server did not answer in {deadline_s:.0f}s: {_stderr(proc, log)}")


def _stderr(proc: subprocess.Popen, log: IO[bytes] | None) -> str:
    """What an exited process said on stderr."""
    if log is not None:
        log.seek(0)
        raw = log.read()
    else:
        raw = proc.stderr.read() if proc.stderr is not None else b""
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


@dataclass
class Served:
    """One running ``serve`` process and the origin it answers on."""

    proc: subprocess.Popen
    base: str
    log: IO[bytes]

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return call(self.base, method, path, body, **kwargs)

    def stop(self) -> None:
        """SIGTERM, as a deploy stops it: the process closes its store."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()

    def kill(self) -> None:
        """SIGKILL: nothing runs after it, no store closed, no buffer flushed."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()


def serve(*args: str, env: dict[str, str] | None = None) -> Served:
    """``serve *args`` on a free port, once it answers. Its stderr goes to a temporary file
    (a pipe nobody reads would block a chatty server), read back if it fails to start."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115  (Served.stop and .kill close it)
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, log=log)
    except BaseException:
        log.close()
        raise
    return Served(proc, base, log)


def on_store(store: str, *args: str) -> Served:
    """A replica on ``store`` as the fleet tests run one: frozen clock, the shared secret."""
    return serve("--speed", "0", "--secret", SECRET, "--state", store, *args)
