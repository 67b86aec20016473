"""`serve --loop`: the event loop asked for is the one that answers, and health says which."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from mockserver import cli, loops
from tests.serve_processes import free_port

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

needs_uvloop = pytest.mark.skipif(not loops.uvloop_available(), reason="uvloop not installed")


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[str, dict]:
    """Start ``serve`` in a real process; its start-up line and its answer to health."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != loops.LOOP_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environ, **(env or {})},
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = proc.stdout.readline()  # printed once the app is built
        assert line, proc.stderr.read()
        end = time.monotonic() + 15
        while True:
            try:
                url = f"http://127.0.0.1:{port}/__mock/health"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    return line, json.loads(resp.read())
            except OSError:
                assert time.monotonic() < end, "serve did not answer in time"
                time.sleep(0.05)  # a real process binding its port, not mock time
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_loop_asyncio_is_honoured():
    line, health = _serve("--loop", "asyncio")
    assert "loop asyncio" in line
    assert health["loop"] == "asyncio" and health["status"] == "ok"


@needs_uvloop
def test_serve_runs_on_uvloop_by_default_and_the_env_var_chooses():
    line, health = _serve()
    assert "loop uvloop" in line and health["loop"] == "uvloop"
    _, health = _serve(env={loops.LOOP_ENV: "asyncio"})
    assert health["loop"] == "asyncio"
    _, health = _serve("--loop", "uvloop", env={loops.LOOP_ENV: "asyncio"})  # the flag wins
    assert health["loop"] == "uvloop"


def test_asking_for_a_missing_uvloop_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(loops, "uvloop_available", lambda: False)
    assert loops.default_loop() == "asyncio"
    assert cli.main(["serve", "--loop", "uvloop"]) == 2
    assert "uvloop is not installed" in capsys.readouterr().err


def test_an_unknown_loop_in_the_env_var_is_refused(monkeypatch, capsys):
    monkeypatch.setenv(loops.LOOP_ENV, "trio")
    assert cli.main(["serve"]) == 2
    assert "unknown event loop 'trio'" in capsys.readouterr().err


async def test_health_names_the_loop_the_suite_runs_on(mock):
    status, body = await mock.call("GET", "/__mock/health", key=None)
    assert status == 200
    assert body["loop"] == os.environ.get("AVATAR_MOCK_TEST_LOOP", "asyncio")
