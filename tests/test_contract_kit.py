"""The contract kit stands alone: nothing under contracts/ imports the server, and the suite's
oracle is its own (a bug in the server's validator cannot pass both strict mode and the suite)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mockserver.contracts.openapi import contract, load_operations

KIT = Path(__file__).resolve().parent.parent / "contracts"
MODULES = sorted(p for p in KIT.rglob("*.py") if "__pycache__" not in p.parts)
LOADERS = {"import_module", "__import__", "find_spec", "import_string"}


def _imported(source: str, folder: tuple[str, ...]) -> list[str]:
    """Every module a kit module in ``folder`` names: imports, relative ones resolved inside the
    installed package ``mockserver.contracts``, and string arguments of importlib loaders."""
    package = ["mockserver", "contracts", *folder]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
            else:  # as installed: a dot too many climbs out of the kit into mockserver
                base = package[: len(package) - node.level + 1]
                names.append(".".join([*base, *([node.module] if node.module else [])]))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in LOADERS:
                names += [a.value for a in node.args if isinstance(a, ast.Constant)]
    return [str(n) for n in names]


def _server(name: str) -> bool:
    return name == "mockserver" or (
        name.startswith("mockserver.") and not name.startswith("mockserver.contracts")
    )


@pytest.mark.parametrize(
    "line",
    [
        "import mockserver.spec",
        "from mockserver import spec",
        "from ... import spec",  # from contracts/suite/: mockserver.spec once installed
        "import importlib; importlib.import_module('mockserver.validation')",
    ],
)
def test_the_scan_sees_every_way_of_naming_the_server(line: str):
    assert any(_server(n) for n in _imported(line, ("suite",)))


def test_the_scan_lets_the_kit_import_itself():
    source = "from .. import openapi\nfrom .payloads import flatten\nimport jsonschema\n"
    assert not any(_server(n) for n in _imported(source, ("suite",)))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(KIT)))
def test_no_kit_module_imports_the_server(path: Path):
    names = _imported(path.read_text(encoding="utf-8"), path.relative_to(KIT).parent.parts)
    server = [n for n in names if _server(n)]
    assert not server, f"contracts/{path.relative_to(KIT)} imports {server}"


def test_every_kit_module_imports_without_the_server():
    """Run, not only read: every module of the kit imports with mockserver unimportable."""
    names = [
        ".".join(("contracts", *p.relative_to(KIT).with_suffix("").parts)).removesuffix(".__init__")
        for p in MODULES
    ]
    code = (
        "import importlib, sys\n"
        "sys.modules['mockserver'] = None\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('mockserver')))\n"
    )
    root = str(KIT.parent)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['mockserver']"  # only the blocker itself


def _status_op():
    return next(op for op in load_operations("youcam") if op.operation_id == "getAiAvatarTask")


def test_the_oracle_resolves_refs_through_the_whole_document():
    op = _status_op()
    good = {"status": 200, "data": {"task_status": "running", "error": None, "results": None}}
    assert op.answer_problem(200, good) is None
    bad = json.loads(json.dumps(good))
    bad["data"]["task_status"] = "pendding"  # the enum lives behind two $refs
    assert "pendding" in (op.answer_problem(200, bad) or "")
    wrong_code = {**good, "data": {**good["data"], "task_status": "error", "error": "oops"}}
    assert op.answer_problem(200, wrong_code) is not None  # EngineErrorCode, by $ref
    assert op.answer_problem(418, good) == "status 418 is not documented for getAiAvatarTask"


def test_the_oracle_does_not_lean_on_the_servers_validator(monkeypatch: pytest.MonkeyPatch):
    """A server validator that passes everything does not make the suite pass it too."""
    from mockserver import validation

    monkeypatch.setattr(validation, "response_problem", lambda *a, **k: None)
    bad = {"status": 200, "data": {"task_status": "done", "error": None, "results": None}}
    assert _status_op().answer_problem(200, bad) is not None


def test_requests_are_built_from_schemas_with_refs_inlined():
    """The suite builds bodies from inlined schemas: no $ref is left for payloads.py."""
    for op in contract("youcam").operations:
        assert "$ref" not in json.dumps(op.body_schema or {}), op.operation_id
