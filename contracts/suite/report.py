"""The suite's verdict per operation: a table for people, JSON for CI.

Each test names its check (``auth``, ``params``, ``unknown-id``, ``answer``, ``lifecycle``)
and the operations it exercises in ``user_properties``; this plugin gathers the outcomes and
prints one row per operation. JUnit XML needs nothing from here: pass pytest's ``--junitxml``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

CHECKS = ("auth", "params", "unknown-id", "answer", "lifecycle")
MARK = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}


def _detail(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300]
    return str(report.longrepr or "")[:300]


class ContractReport:
    def __init__(self, config: pytest.Config, provider: str, meta: dict[str, Any]) -> None:
        self.config = config
        self.provider = provider
        self.meta = meta
        self.operations: dict[str, dict[str, Any]] = {}
        self.results: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.outcomes: dict[str, str] = {}  # test id -> outcome, each test once

    def add_operation(self, operation_id: str, method: str, path: str) -> None:
        self.operations[operation_id] = {"method": method, "path": path}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = {str(k): str(v) for k, v in report.user_properties}
        check, ops = props.get("check"), props.get("operations")
        if not check or not ops:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = report.outcome
            entry = {"test": report.nodeid.split("::", 1)[-1], "outcome": outcome}
            self.outcomes[entry["test"]] = outcome
            if outcome != "passed":
                entry["detail"] = _detail(report)
            for op in ops.split(","):
                self.results[op][check].append(entry)

    def cell(self, operation_id: str, check: str) -> str:
        entries = self.results.get(operation_id, {}).get(check, [])
        if not entries:
            return "-"
        outcomes = {e["outcome"] for e in entries}
        if "failed" in outcomes:
            return "FAIL"
        return "ok" if "passed" in outcomes else "skip"

    def as_json(self, exitstatus: int) -> dict[str, Any]:
        operations = {}
        totals = {"passed": 0, "failed": 0, "skipped": 0}
        for outcome in self.outcomes.values():
            totals[outcome] = totals.get(outcome, 0) + 1
        for op_id, where in self.operations.items():
            checks = {}
            for check in CHECKS:
                entries = self.results.get(op_id, {}).get(check, [])
                checks[check] = {"verdict": self.cell(op_id, check), "tests": entries}
            operations[op_id] = {**where, "checks": checks}
        return {
            "provider": self.provider,
            **self.meta,
            "green": exitstatus == 0,
            "totals": totals,
            "operations": operations,
        }

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        tr = terminalreporter
        tr.section(f"avatar-mock contract: {self.provider} ({self.meta.get('target')})")
        width = max((len(op) for op in self.operations), default=9)
        tr.write_line(f"{'operation':<{width}}  " + "  ".join(f"{c:<10}" for c in CHECKS))
        for op_id in self.operations:
            cells = "  ".join(f"{self.cell(op_id, c):<10}" for c in CHECKS)
            tr.write_line(f"{op_id:<{width}}  {cells}")
        failed: dict[str, str] = {}
        for op_id in self.operations:
            for check in CHECKS:
                for e in self.results.get(op_id, {}).get(check, []):
                    if e["outcome"] == "failed":
                        failed.setdefault(e["test"], f"{op_id} {check}: {e.get('detail', '')}")
        for test, what in failed.items():
            tr.write_line(f"FAIL {what}  [{test}]")

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        path = self.config.getoption("report_json")
        if path:
            Path(path).write_text(json.dumps(self.as_json(int(exitstatus)), indent=2))
