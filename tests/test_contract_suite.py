"""`avatar-mock contract` against a real `avatar-mock serve` process: what CI relies on.

One server process serves all three providers; the suite runs once per provider, as CI would,
and must be green with a JSON verdict for every operation of the contract. It must also go red
when the server drifts from the contract, and never start a paid task on a "real" target
without --allow-spend.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver.registry import providers
from mockserver.resources import contracts_dir, spec_path
from mockserver.spec import load_operations
from tests.serve_processes import free_port, wait_ready

_SCRIPT = Path(sys.executable).with_name("avatar-mock")  # the installed console script
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "mockserver"]
ALL = ("youcam", "relay", "a2e")


def _available(provider: str) -> bool:
    return spec_path(provider).exists() and provider in providers()


def _needs(provider: str) -> None:
    if not _available(provider):
        pytest.skip(f"the {provider} provider package or contract is not there yet")


def _spawn(*args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


DRIFT = (
    "chaos:\n  rules:\n"
    "    - {name: drift, match: {operation: listAiAvatarTemplates},"
    " effect: {type: status, status: 418}}\n"
)


def _contract(provider: str, base: str, out: Path, *extra: str) -> list[str]:
    """`avatar-mock contract` for one provider; JSON and JUnit go beside ``out``."""
    return [
        *CLI,
        "contract",
        "--provider",
        provider,
        "--base-url",
        base,
        "--report-json",
        str(out.with_suffix(".json")),
        "--junit-xml",
        str(out.with_suffix(".xml")),
        *extra,
    ]


def _plain_pytest(provider: str, base: str, out: Path) -> list[str]:
    """The suite as plain pytest, with the same options."""
    suite = contracts_dir() / "suite"
    return [
        *[sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider"],
        *["-p", "no:hypothesispytest", "--provider", provider, "--base-url", base],
        *["--api-key", "sk-plain", "--report-json", str(out.with_suffix(".json"))],
    ]


@dataclass
class Run:
    returncode: int
    output: str
    report: dict[str, Any]
    junit: str
    base: str


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every run this module checks, started at once (CI time matters): a green run per
    provider, a run against a server that drifts from the contract, a "real" target without
    --allow-spend, and the suite as plain pytest."""
    tmp = tmp_path_factory.mktemp("contract")
    drift_file = tmp / "drift.yaml"
    drift_file.write_text(DRIFT)
    (good, base), (bad, drift_base) = _spawn(), _spawn("--config", str(drift_file))
    wait_ready(good, base)
    wait_ready(bad, drift_base)
    plans = {p: _contract(p, base, tmp / p) for p in ALL if _available(p)}
    if _available("youcam"):
        # Only what these two runs are about, so CI does not check YouCam three times over.
        drift = ["--", "-k", "AiAvatar or ai-avatar"]
        plans["drift"] = _contract("youcam", drift_base, tmp / "drift", *drift)
        real = ["--target", "real", "--api-key", "sk-careful", "--", "-k", "AiAvatar or ai-avatar"]
        plans["real"] = _contract("youcam", base, tmp / "real", *real)
    if _available("relay"):
        plans["plain"] = _plain_pytest("relay", base, tmp / "plain")
    try:
        procs = {
            name: subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp
            )
            for name, cmd in plans.items()
        }
        done = {}
        for name, proc in procs.items():
            output, _ = proc.communicate(timeout=120)
            out = tmp / name
            report = out.with_suffix(".json")
            junit = out.with_suffix(".xml")
            done[name] = Run(
                proc.returncode,
                output,
                json.loads(report.read_text()) if report.exists() else {},
                junit.read_text() if junit.exists() else "",
                drift_base if name == "drift" else base,
            )
        yield done
    finally:
        _stop(good)
        _stop(bad)


def _run(runs: dict[str, Run], name: str, provider: str) -> Run:
    _needs(provider)
    return runs[name]


@pytest.mark.parametrize("provider", ALL)
def test_suite_is_green_against_the_mock(runs: dict[str, Run], provider: str) -> None:
    run = _run(runs, provider, provider)
    assert run.returncode == 0, run.output
    report = run.report
    assert report["green"] and report["target"] == "mock"
    assert report["totals"]["failed"] == 0 and report["totals"]["passed"] > 0
    documented = {op.operation_id for op in load_operations(provider)}
    assert set(report["operations"]) == documented
    for op_id, verdict in report["operations"].items():
        checked = [c for c in verdict["checks"].values() if c["verdict"] == "ok"]
        assert checked, f"{provider}.{op_id} was not checked at all"
    assert f"avatar-mock contract: {provider} (mock)" in run.output  # the per-operation table
    assert "<testsuite" in run.junit


def test_suite_goes_red_when_the_server_breaks_the_contract(runs: dict[str, Run]) -> None:
    run = _run(runs, "drift", "youcam")
    assert run.returncode == 1, run.output
    assert not run.report["green"]
    answer = run.report["operations"]["listAiAvatarTemplates"]["checks"]["answer"]
    assert answer["verdict"] == "FAIL"
    assert "418" in answer["tests"][0]["detail"]
    assert "FAIL listAiAvatarTemplates answer" in run.output


def test_real_target_never_spends_without_allow_spend(runs: dict[str, Run]) -> None:
    run = _run(runs, "real", "youcam")
    assert run.returncode == 0, run.output
    assert run.report["target"] == "real"
    lifecycle = run.report["operations"]["runAiAvatarTask"]["checks"]["lifecycle"]
    assert lifecycle["verdict"] == "skip"
    assert "--allow-spend" in lifecycle["tests"][0]["detail"]
    url = f"{run.base}/__mock/journal?tenant=sk-careful&operation=runAiAvatarTask"
    with urllib.request.urlopen(url, timeout=5) as resp:
        submits = json.loads(resp.read())["entries"]
    assert submits and all(e["status"] >= 400 for e in submits), "a task was started"


def test_suite_runs_as_plain_pytest_with_the_same_options(runs: dict[str, Run]) -> None:
    run = _run(runs, "plain", "relay")
    assert run.returncode == 0, run.output
    assert run.report["green"] and run.report["provider"] == "relay"
