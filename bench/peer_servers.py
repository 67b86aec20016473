"""The servers bench/peers.py compares, each configured to answer the same two calls.

The calls are A2E's: ``GET /api/v1/userImage2Video/{_id}`` (a status poll) and
``POST /api/v1/video/awsResult`` with ``{"_id": ...}`` (a status read). avatar-mock answers
them from real tasks; the floor, WireMock and Mockoon answer with static stubs whose bodies
are the mock's own recorded answers; Prism answers from contracts/a2e/openapi.yaml (its
examples, so its bodies differ in size). Each server is started through ``taskset`` on the
server core; start-up is the time from ``Popen`` to the first HTTP answer on the poll path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GET_PATH = "/api/v1/userImage2Video/%s"
POST_PATH = "/api/v1/video/awsResult"
POST_BODY = '{"_id":"%s"}'
KEY = "sk-bench"


@dataclass
class Peer:
    """How to start one server: ``argv`` runs it on ``port``; ``note`` goes under the table."""

    name: str
    argv: list[str]
    port: int
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


class Running:
    """A started peer: its process, the start-up it took, its memory and CPU (process tree)."""

    def __init__(self, peer: Peer, cpu: str | None, timeout: float = 180.0) -> None:
        self.peer = peer
        prefix = ["taskset", "-c", cpu] if cpu is not None else []
        # stderr to a file: a pipe nobody reads would stall a chatty server once it is full
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the server)
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            prefix + peer.argv,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            env={**os.environ, **peer.env},
            cwd=peer.cwd,
            start_new_session=True,  # its children (npm shims, forks) stop with it
        )
        self.startup_ms = self._first_answer(started, timeout) * 1000

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.peer.port}"

    def _first_answer(self, started: float, timeout: float) -> float:
        url = self.base + GET_PATH % "000000000000000000000000"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"})
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(request, timeout=2) as resp:
                    resp.read()
                return time.perf_counter() - started
            except urllib.error.HTTPError:  # an answer all the same (the mock: no such task)
                return time.perf_counter() - started
            except OSError:
                if self.proc.poll() is not None:
                    self.stderr.seek(0)
                    err = self.stderr.read().decode(errors="replace")
                    raise RuntimeError(f"{self.peer.name} exited: {err[-600:]}") from None
                time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.peer.name} did not answer within {timeout:.0f} s")

    def _tree(self) -> list[int]:
        """This server's pid and its descendants'."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(children.get(pid, []))
        return pids

    def rss_mib(self) -> float:
        total = 0
        for pid in self._tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_split(self) -> tuple[float, float]:
        """User and kernel CPU seconds of the process tree so far."""
        user = kernel = 0
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user += int(fields[11])
            kernel += int(fields[12])
        tick = os.sysconf("SC_CLK_TCK")
        return user / tick, kernel / tick

    def cpu_seconds(self) -> float:
        return sum(self.cpu_split())

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.base + path, body, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.stderr.close()


# --- the servers ----------------------------------------------------------------------------


def mock_scenario() -> dict[str, Any]:
    """As bench/server.py's: limits raised so the path is measured, not refusals; auth,
    validation, the journal and the (idle) chaos engine on. Tasks stay working for hours."""
    return {
        "name": "bench-peers",
        "balances": {"units": 1e12, "coins": 1e12, "quota": 1e12, "diamonds": 1e12},
        "limits": {"max_tasks": None, "max_tasks_per_tenant": None},
        "providers": {
            "a2e": {
                "families": {
                    "image2video": {"states": {"sent": 1, "pending": 36_000}},
                    "video": {"states": {"init": 1, "start": 1, "pending": 36_000}},
                }
            }
        },
    }


def mock(port: int, loop: str, workdir: Path) -> Peer:
    config = workdir / "scenario.json"  # JSON is YAML
    config.write_text(json.dumps(mock_scenario()))
    argv = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
    argv += ["--config", str(config), "--loop", loop, "--provider", "a2e"]
    return Peer(
        f"avatar-mock ({loop})",
        argv,
        port,
        "`avatar-mock serve --provider a2e`, real tasks, bearer auth, validation, journal",
        cwd=ROOT,
    )


def floor(port: int, loop: str, workdir: Path) -> Peer:
    argv = [sys.executable, str(HERE / "peer_floor.py"), str(port)]
    argv += [str(workdir / "get.json"), str(workdir / "post.json"), "--loop", loop]
    return Peer(f"floor: bare aiohttp ({loop})", argv, port, "fixed bodies, reads the POST body")


def _wiremock_root(workdir: Path, get_body: bytes, post_body: bytes) -> Path:
    root = workdir / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    headers = {"Content-Type": "application/json"}
    stubs = {
        "poll.json": {
            "request": {"method": "GET", "urlPathPattern": "/api/v1/userImage2Video/[^/]+"},
            "response": {"status": 200, "headers": headers, "body": get_body.decode()},
        },
        "read.json": {
            "request": {"method": "POST", "urlPath": POST_PATH},
            "response": {"status": 200, "headers": headers, "body": post_body.decode()},
        },
    }
    for name, stub in stubs.items():
        (root / "mappings" / name).write_text(json.dumps(stub))
    return root


def wiremock(port: int, java: str, jar: Path, workdir: Path, tuned: bool) -> Peer:
    root = _wiremock_root(
        workdir, (workdir / "get.json").read_bytes(), (workdir / "post.json").read_bytes()
    )
    argv = [java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1"]
    argv += ["--root-dir", str(root), "--disable-banner"]
    note = "static stubs, request journal on (its default)"
    name = "WireMock (default)"
    if tuned:
        argv += ["--no-request-journal", "--disable-request-logging", "--disable-gzip"]
        note = "static stubs, `--no-request-journal --disable-request-logging --disable-gzip`"
        name = "WireMock (tuned)"
    return Peer(name, argv, port, f"{jar.name} on {java}; {note}")


def prism(port: int, binary: Path) -> Peer:
    spec = ROOT / "contracts" / "a2e" / "openapi.yaml"
    argv = [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    return Peer("Prism", argv, port, "`prism mock contracts/a2e/openapi.yaml` (static examples)")


def mockoon_environment(port: int, get_body: bytes, post_body: bytes) -> dict[str, Any]:
    """A Mockoon environment with the two routes; Mockoon repairs what is left out."""
    routes = []
    for method, endpoint, body in (
        ("get", "api/v1/userImage2Video/:id", get_body),
        ("post", POST_PATH.lstrip("/"), post_body),
    ):
        routes.append(
            {
                "uuid": str(uuid.uuid4()),
                "type": "http",
                "method": method,
                "endpoint": endpoint,
                "responses": [
                    {
                        "uuid": str(uuid.uuid4()),
                        "body": body.decode(),
                        "statusCode": 200,
                        "headers": [{"key": "Content-Type", "value": "application/json"}],
                        "default": True,
                        "disableTemplating": True,
                    }
                ],
            }
        )
    return {
        "uuid": str(uuid.uuid4()),
        "lastMigration": 33,  # @mockoon/cli 9.9.0's latest; older numbers would be migrated
        "name": "avatar-mock bench",
        "port": port,
        "hostname": "127.0.0.1",
        "routes": routes,
        "rootChildren": [{"type": "route", "uuid": r["uuid"]} for r in routes],
        "cors": False,
    }


def mockoon(port: int, binary: Path, workdir: Path) -> Peer:
    env = workdir / "mockoon.json"
    get_body, post_body = (workdir / "get.json").read_bytes(), (workdir / "post.json").read_bytes()
    env.write_text(json.dumps(mockoon_environment(port, get_body, post_body)))
    argv = [str(binary), "start", "--data", str(env), "--port", str(port)]
    argv += ["--hostname", "127.0.0.1", "--disable-log-to-file", "--disable-admin-api"]
    return Peer("Mockoon", argv, port, "generated environment, templating off, logs to stdout only")
