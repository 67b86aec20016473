"""`avatar-mock serve` / `python -m mockserver serve` as a real process on a real port."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.serve_processes import serve


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def served(request):
    process = serve(*getattr(request, "param", []))
    try:
        yield process.base
    finally:
        process.stop()


def test_serve_answers_with_the_builtin_default(served):
    status, health = _get(f"{served}/__mock/health")
    assert status == 200 and set(health["providers"]) >= {"youcam"}
    assert health["clock"]["mode"] == "virtual"
    status, body = _get(
        f"{served}/s2s/v2.0/task/template/ai-avatar?page_size=2",
        {"Authorization": "Bearer any-key"},
    )
    assert status == 200 and len(body["data"]["templates"]) == 2


@pytest.mark.parametrize("served", [["--provider", "youcam", "--clock", "real"]], indirect=True)
def test_serve_narrowed_to_one_provider(served):
    _, health = _get(f"{served}/__mock/health")
    assert health["providers"] == ["youcam"] and health["clock"]["mode"] == "real"
    status, _ = _get(f"{served}/avatar/voice?language=en", {"Authorization": "Bearer k"})
    assert status == 404


def test_serve_refuses_a_bad_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeed: 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--config", str(bad)],
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert b"seeed" in proc.stderr and b"line 1" in proc.stderr


def test_serve_refuses_an_unknown_provider():
    proc = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--provider", "nobody"],
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 2 and b"nobody" in proc.stderr
