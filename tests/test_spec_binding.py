"""Spec first: every operation has a handler, every handler an operation, every answer a schema."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from mockserver.cli import main
from mockserver.errors import ApiError
from mockserver.registry import BindError, Provider, bind, providers
from mockserver.spec import load_document, load_operations

PROVIDERS = sorted(providers())


@pytest.mark.parametrize("name", PROVIDERS)
def test_document_is_valid_openapi_31(name):
    doc = load_document(name)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_operation_documents_its_success_and_errors(name):
    for op in load_operations(name):
        assert 200 in op.responses, op.operation_id
        assert any(code >= 400 for code in op.responses), op.operation_id
        assert 401 in op.responses, f"{op.operation_id} documents no 401"
        for code, schema in op.responses.items():
            if schema is None and code == 200 and _files_only(op):
                continue  # a download (/v1/videos/{id}/content) documents its file types
            assert schema is not None, f"{op.operation_id} {code} has no JSON schema"
        if op.body_schema is not None:
            assert 413 in op.responses, f"{op.operation_id} takes a body but documents no 413"


def _files_only(op) -> bool:
    """The 200 answer is a file: every media type it lists is a binary, none JSON."""
    content = op._resolved(op.raw["responses"]["200"]).get("content") or {}
    return bool(content) and all(
        "json" not in media and (spec.get("schema") or {}).get("format") == "binary"
        for media, spec in content.items()
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_handlers_and_operations_match_one_to_one(name):
    provider = providers()[name]
    pairs = bind(provider, load_operations(name))
    assert {op.operation_id for op, _ in pairs} == set(provider.handlers)


class _Dialect:
    def pipeline_error(self, kind, detail=""):
        return ApiError(400, kind, detail)

    def render(self, error, trace_id):
        return {}


def _fake_provider(*handler_ids: str) -> Provider:
    provider = Provider("fake", ("/fake/",), _Dialect(), authenticate=lambda ctx: "k")
    for op_id in handler_ids:
        provider.handles(op_id)(lambda ctx: None)
    return provider


def test_start_up_fails_when_an_operation_has_no_handler():
    ops = load_operations("youcam")
    provider = _fake_provider(*[op.operation_id for op in ops][1:])
    with pytest.raises(BindError, match=f"operations with no handler: {ops[0].operation_id}"):
        bind(provider, ops)


def test_start_up_fails_when_a_handler_names_no_operation():
    ops = load_operations("youcam")
    provider = _fake_provider(*[op.operation_id for op in ops], "ghostOperation")
    with pytest.raises(BindError, match="handlers naming no operation: ghostOperation"):
        bind(provider, ops)


def test_start_up_fails_when_an_operation_speaks_an_unknown_dialect():
    ops = load_operations("relay")
    speaking = [op for op in ops if op.dialect == "openai"]
    assert speaking  # the /v1/videos routes
    provider = _fake_provider(*[op.operation_id for op in ops])
    with pytest.raises(BindError, match=r"speaking no known dialect: createVideo \(openai\)"):
        bind(provider, ops)
    provider.dialects = {"openai": _Dialect()}
    assert len(bind(provider, ops)) == len(ops)
    assert provider.dialect_for(speaking[0]) is provider.dialects["openai"]
    assert provider.dialect_for(None) is provider.dialect


def test_a_handler_cannot_be_registered_twice():
    provider = _fake_provider("x")
    with pytest.raises(BindError):
        provider.handles("x")(lambda ctx: None)


def test_openapi_command_prints_the_document(capsys):
    assert main(["openapi", "youcam"]) == 0
    assert capsys.readouterr().out.startswith("openapi: 3.1")
    assert main(["openapi", "nobody"]) == 2


async def test_openapi_is_served(mock):
    resp = await mock.client.get("/__mock/openapi/youcam")
    assert resp.status == 200 and (await resp.text()).startswith("openapi: 3.1")
    status, doc = await mock.call("GET", "/__mock/openapi/youcam?format=json", key=None)
    assert status == 200 and doc["info"]["title"]
    status, _ = await mock.call("GET", "/__mock/openapi/nobody", key=None)
    assert status == 404


def test_routes_are_registered_from_the_spec(capsys):
    assert main(["routes", "--provider", "youcam"]) == 0
    out = capsys.readouterr().out
    for op in load_operations("youcam"):
        assert f"{op.path}  ({op.operation_id})" in out


def test_discovery_finds_every_provider_even_after_one_was_imported_directly():
    import subprocess
    import sys

    code = (
        "import mockserver.providers.youcam.webhooks\n"
        "from mockserver.registry import providers\n"
        "print(sorted(providers()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['a2e', 'relay', 'youcam']"


@pytest.mark.parametrize("name", PROVIDERS)
def test_json_rendering_is_in_step_with_the_yaml(name):
    from mockserver.spec import render_json, rendering_path

    path = rendering_path(name)
    assert path.exists() and path.read_text(encoding="utf-8") == render_json(name), (
        f"{path.name} is stale: run python contracts/render_json.py"
    )


def test_a_stale_rendering_is_never_used(tmp_path, monkeypatch):
    import shutil

    from mockserver import spec

    for name in ("openapi.yaml", "openapi.json"):
        shutil.copy(spec.spec_path("relay").parent / name, tmp_path / name)
    monkeypatch.setattr(spec, "spec_path", lambda provider: tmp_path / "openapi.yaml")
    spec.load_document.cache_clear()
    try:
        text = (tmp_path / "openapi.yaml").read_text()
        (tmp_path / "openapi.yaml").write_text(text.replace("openapi: 3.1.0", "openapi: 3.1.1"))
        assert spec.load_document("relay")["openapi"] == "3.1.1"  # the YAML, not the JSON
    finally:
        spec.load_document.cache_clear()


@pytest.mark.parametrize("provider", ["a2e", "youcam", "relay"])
def test_every_path_parameter_is_its_templates_placeholder(provider):
    """Families name their id field from the path template (no parameter is resolved at
    start-up): the template and the declared path parameters must agree, one to one."""
    import re

    from mockserver.spec import load_operations

    for op in load_operations(provider):
        declared = sorted(p.name for p in op.params if p.location == "path")
        assert sorted(re.findall(r"\{([^{}]+)\}", op.path)) == declared, op.operation_id
