"""Build contracts/youcam/openapi.yaml (and its JSON rendering) from base.yaml and the table.

    python -m contracts.youcam.build_spec          # write openapi.yaml and openapi.json
    python -m contracts.youcam.build_spec --check  # exit 1 if the committed file is stale

Every row of contracts/youcam/features.yaml becomes its run and status operations,
its template list and pre-process pair where the row has them, and its file endpoint (on the
row's own path version: v2.1 rows upload to /s2s/v2.1/file/{slug}), with the row's request
schema, result shape and example. Each run answer carries OpenAPI links to its status GET and
to task/delete, so stateful tools follow the task ids. The run operation carries its row as
written (``x-feature``; the table's defaults once, as ``x-feature-defaults``): the server reads
the rows back out of the document and binds its generic handlers from them, so the contract
is its only source and spec and handlers cannot drift apart; tests/test_youcam_spec.py fails
when the committed document differs from what this script produces. contracts/youcam/coverage.py
writes the coverage page from the same rows.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

from ..rendering import load_yaml, render_json, rendering_path
from .table import (
    DEFAULTS,
    PRE_RESULTS,
    ROW,
    Feature,
    example_body,
    parse_row,
    read_table,
    request_schema,
    results_schema,
)

HERE = Path(__file__).parent
BASE = HERE / "base.yaml"
OUT = HERE / "openapi.yaml"
COMPONENTS = "#/components/"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{COMPONENTS}{kind}/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(with_body: bool, bad_request: str = "BadRequest") -> dict[str, Any]:
    out = {"400": _ref("responses", bad_request), "401": _ref("responses", "Unauthorized")}
    if with_body:
        out["413"] = _ref("responses", "PayloadTooLarge")
    out["429"] = _ref("responses", "TooManyRequests")
    out["500"] = _ref("responses", "InternalError")
    return out


def status_schema(results: dict[str, Any]) -> dict[str, Any]:
    """A status answer: task_status, error (an engine code or null), results or null."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["status", "data"],
        "properties": {
            "status": {"const": 200},
            "data": {
                "type": "object",
                "additionalProperties": False,
                "required": ["task_status", "error", "results"],
                "properties": {
                    "task_status": {"enum": ["running", "success", "error"]},
                    "error": {
                        "description": "The engine code when task_status is error, else null.",
                        "oneOf": [{"type": "null"}, _ref("schemas", "EngineErrorCode")],
                    },
                    "error_message": {"type": "string"},
                    "polling_interval": {
                        "type": "integer",
                        "description": "Milliseconds to the next poll (when the scenario says).",
                    },
                    "results": {"oneOf": [{"type": "null"}, results]},
                },
                "allOf": [_ref("schemas", "TaskStatusRules")],
            },
        },
    }


def _status_op(op_id: str, summary: str, status_ref: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "parameters": [
                {
                    "name": "task_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
            ],
            "responses": {
                "200": _json(
                    _ref("schemas", status_ref),
                    "Always 200 for a live task id, engine failures included.",
                ),
                "400": _ref("responses", "InvalidTaskId"),
                "401": _ref("responses", "Unauthorized"),
                "429": _ref("responses", "TooManyRequests"),
                "500": _ref("responses", "TaskTimeout"),
            },
        }
    }


TASK_ID = "$response.body#/data/task_id"


def _accepted(status_op: str, *, deletable: bool) -> dict[str, Any]:
    """TaskAccepted, with OpenAPI links to what takes the new task_id: its status GET and, for
    a run endpoint, task/delete (a detection task cannot be deleted). YouCam lists no tasks.
    Links let stateful tools (schemathesis) poll and delete the tasks they create."""
    links: dict[str, Any] = {
        "GetTaskStatus": {
            "operationId": status_op,
            "parameters": {"path.task_id": TASK_ID},
            "description": "Poll the task this call created.",
        }
    }
    if deletable:
        links["DeleteTask"] = {
            "operationId": "deleteTask",
            "requestBody": {"task_id": TASK_ID},
            "description": "Delete the task once it is finished.",
        }
    return {**copy.deepcopy(BASE_DOC()["components"]["responses"]["TaskAccepted"]), "links": links}


def _run_op(
    f: Feature,
    op_id: str,
    summary: str,
    schema: str,
    example: Any,
    accepted: dict[str, Any],
    row: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "x-evidence": f.evidence,
    }
    if row is not None:
        op[ROW] = row
    if f.guess:
        op["x-guess"] = list(f.guess)
    media: dict[str, Any] = {"schema": _ref("schemas", schema)}
    if example is not None:
        media["example"] = example
    op["requestBody"] = {"required": True, "content": {"application/json": media}}
    op["responses"] = {
        "200": accepted,
        **_errors(True, "RunRefused"),
    }
    return {"post": op}


def _cost_note(f: Feature) -> str:
    cost = f.cost
    unit = cost.get("unit", "result_image")
    variant = cost.get("variant")
    if cost.get("tiers") and variant:
        return "units by tier: " + ", ".join(
            f"{t['label']} {t['amount']} {variant['base_label']} / {t['variant_amount']} "
            f"{variant['label']}"
            for t in cost["tiers"]
        )
    if cost.get("tiers"):
        return "units by tier: " + ", ".join(f"{t['label']} {t['amount']}" for t in cost["tiers"])
    by = cost.get("by")
    if by and "present" in by:
        return f"{by['present']} unit(s) with {by['param']}, {by['absent']} without"
    if by:
        per = ", ".join(f"{k}: {v}" for k, v in by["amounts"].items())
        return f"units per {unit} by {by['param']} ({per})"
    per = cost.get("proc_unit", 1)
    return f"{cost['amount']} unit(s) per {'' if per == 1 else f'{per} '}{unit}"


def _file_op(f: Feature) -> dict[str, Any]:
    spec = {
        "type": "object",
        "additionalProperties": False,
        "required": ["content_type", "file_name", "file_size"],
        "properties": {
            "content_type": {"type": "string", "enum": list(f.upload_types)},
            "file_name": {"type": "string", "minLength": 1, "maxLength": 1024},
            "file_size": {"type": "integer", "minimum": 1, "maximum": f.upload_limit},
        },
    }
    body = {
        "type": "object",
        "additionalProperties": False,
        "required": ["files"],
        "properties": {"files": {"type": "array", "minItems": 1, "maxItems": 10, "items": spec}},
    }
    limit = f.upload_limit // (1024 * 1024)
    return {
        "post": {
            "operationId": f.file_op,
            "summary": (
                f"Reserve upload slots for {f.title} "
                f"({', '.join(f.upload_types)}; up to {limit} MB)."
            ),
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {"200": _ref("responses", "CreateFileOk"), **_errors(True)},
        }
    }


def _templates_op(f: Feature) -> dict[str, Any]:
    pattern = (f.templates or {}).get("pattern")
    if pattern:
        schema = copy.deepcopy(BASE_DOC()["components"]["schemas"]["TemplateList"])
        item = schema["properties"]["data"]["properties"]["templates"]["items"]
        item["properties"]["id"] = {"type": "string", "pattern": pattern}
        ok = _json(schema, "A page of templates; next_token is null on the last page.")
    else:
        ok = _ref("responses", "TemplatesOk")
    return {
        "get": {
            "operationId": f.templates_op,
            "summary": f"List predefined {f.title} templates, paged.",
            "parameters": [
                {
                    "name": "page_size",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 20},
                },
                {
                    "name": "starting_token",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": ok,
                "400": _ref("responses", "BadRequest"),
                "401": _ref("responses", "Unauthorized"),
                "429": _ref("responses", "TooManyRequests"),
                "500": _ref("responses", "InternalError"),
            },
        }
    }


_BASE: dict[str, Any] = {}


def BASE_DOC() -> dict[str, Any]:
    if not _BASE:
        _BASE.update(load_yaml(BASE.read_text(encoding="utf-8")))
    return _BASE


def build() -> dict[str, Any]:
    """The whole document, as a dict."""
    doc = copy.deepcopy(BASE_DOC())
    table = read_table()
    doc[DEFAULTS] = table["defaults"]
    paths: dict[str, Any] = doc["paths"]
    schemas: dict[str, Any] = doc["components"]["schemas"]
    codes: dict[str, None] = {}
    pre_request = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "src_file_url": {"type": "string", "minLength": 1},
            "src_file_id": {"type": "string", "minLength": 1},
        },
        "description": "exactly one of src_file_url or src_file_id",
        "oneOf": [
            {"required": ["src_file_url"], "not": {"required": ["src_file_id"]}},
            {"required": ["src_file_id"], "not": {"required": ["src_file_url"]}},
        ],
    }
    schemas["PreProcessRequest"] = pre_request
    for raw in table["features"]:
        f = parse_row(raw, table["defaults"], Feature)
        if f.run_path in paths:  # the server reads the rows back in path order
            raise ValueError(f"{f.key}: {f.run_path} is in base.yaml or on two rows")
        codes.update(dict.fromkeys(f.engine_errors))
        name = f.camel
        schemas[f"{name}Request"] = request_schema(f)
        schemas[f"{name}Results"] = results_schema(f)
        schemas[f"{name}Status"] = status_schema(_ref("schemas", f"{name}Results"))
        run = f"Run {f.title} ({f.engine}); {_cost_note(f)}, charged on success only."
        paths[f.run_path] = _run_op(
            f,
            f.run_op,
            run,
            f"{name}Request",
            example_body(f),
            _accepted(f.status_op, deletable=True),
            raw,
        )
        paths[f.status_path] = _status_op(
            f.status_op,
            f"{f.title} task status; results ({f.result_kind}) on success.",
            f"{name}Status",
        )
        if f.templates:
            paths[f.templates_path] = _templates_op(f)
        if f.pre_process:
            schemas[f"{name}PreProcessStatus"] = status_schema(PRE_RESULTS[f.pre_process])
            paths[f.pre_path] = _run_op(
                f,
                f.pre_run_op,
                f"Detect {f.title} targets; use a result's index as `index` in the task.",
                "PreProcessRequest",
                {"src_file_url": "https://example.com/selfie.jpg"},
                _accepted(f.pre_status_op, deletable=False),
            )
            paths[f.pre_path + "/{task_id}"] = _status_op(
                f.pre_status_op, f"{f.title} detection task status.", f"{name}PreProcessStatus"
            )
        paths[f.file_path] = _file_op(f)
    schemas["EngineErrorCode"] = {"enum": list(codes)}
    return doc


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style, with short all-scalar mappings and lists kept on one line."""

    def ignore_aliases(self, data: Any) -> bool:
        """Every value written out in full, never as an &anchor: the document then reads the
        same whether the feature table was parsed from YAML (where its anchors make rows share
        objects) or from its JSON rendering (where they do not)."""
        return True


def _small(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, dict | list) for v in items) and len(str(value)) <= 80


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=_small(data))


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_small(data))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def render(doc: dict[str, Any] | None = None) -> str:
    return yaml.dump(
        build() if doc is None else doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=110,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if openapi.yaml is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if load_yaml(current) != load_yaml(text):
            print(
                "contracts/youcam/openapi.yaml is stale: run python -m contracts.youcam.build_spec"
            )
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text.splitlines())} lines)")
    rendering_path(OUT).write_text(render_json(OUT), encoding="utf-8")
    print(f"wrote {rendering_path(OUT)} (the fast-loading rendering)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
