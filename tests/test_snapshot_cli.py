"""``avatar-mock state export FILE`` / ``state import FILE`` against a real server process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from mockserver.cli import main
from tests.serve_processes import free_port, wait_ready
from tests.test_cli_serve import _get

KEY = {"Authorization": "Bearer sk-cli", "Content-Type": "application/json"}
BODY = {"template_id": "female_manga_mood", "output_count": 4, "src_file_url": "https://e.x/a.jpg"}


def _send(url: str, method: str, body: object = None, headers: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())


@pytest.fixture
def server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--speed", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_export_then_import_through_the_cli(server, tmp_path, capsys):
    task_id = _send(f"{server}/s2s/v2.0/task/ai-avatar", "POST", BODY, KEY)["data"]["task_id"]
    _send(f"{server}/__mock/clock/advance", "POST", {"seconds": 1})
    status = f"{server}/s2s/v2.0/task/ai-avatar/{task_id}"
    before = _get(status, KEY)
    file = tmp_path / "state.json"

    assert main(["state", "export", str(file), "--url", server]) == 0
    assert "1 tasks, 1 tenants" in capsys.readouterr().out
    _send(f"{server}/__mock/reset", "POST")
    _send(f"{server}/__mock/clock/advance", "POST", {"seconds": 500})
    assert _get(status, KEY)[1]["error_code"] == "InvalidTaskId"  # gone, as reset promises

    assert main(["state", "import", str(file), "--url", server]) == 0
    assert "imported 1 tasks, 1 tenants" in capsys.readouterr().out
    assert _get(status, KEY) == before


def test_a_bad_file_is_refused_before_it_is_sent(server, tmp_path, capsys):
    file = tmp_path / "old.json"
    file.write_text(json.dumps({"format": "avatar-mock-state", "version": 0}))
    assert main(["state", "import", str(file), "--url", server]) == 1
    err = capsys.readouterr().err
    assert "version 0" in err and "export it again" in err
    file.write_text("{not json")
    assert main(["state", "import", str(file), "--url", server]) == 1
    assert "old.json" in capsys.readouterr().err


def test_no_server_is_exit_2_with_what_to_do(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["state", "export", str(tmp_path / "x.json"), "--url", url]) == 2
    assert "avatar-mock serve" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
