"""Read a provider's OpenAPI document into operations the server can route and validate.

The document is the single source of truth: every ``paths`` entry becomes an
:class:`Operation` with its request and response schemas dereferenced and its validators
compiled once, here, at start-up.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from mockserver.resources import spec_path
from mockserver.yamlio import load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class SpecError(Exception):
    """The OpenAPI document cannot be served as it is."""


@dataclass
class Param:
    name: str
    location: str  # "query" | "path" | "header"
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    provider: str
    operation_id: str
    method: str  # upper case
    path: str  # OpenAPI template, e.g. /s2s/v2.0/task/ai-avatar/{task_id}
    params: list[Param]
    body_schema: dict[str, Any] | None
    body_required: bool
    responses: dict[int, dict[str, Any] | None]
    body_validator: Draft202012Validator | None = None
    query_validator: Draft202012Validator | None = None
    body_is_valid: Callable[[Any], bool] | None = None  # compiled fast path, see fast_check
    query_is_valid: Callable[[Any], bool] | None = None
    response_validators: dict[int, Draft202012Validator] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def query_params(self) -> list[Param]:
        return [p for p in self.params if p.location in ("query", "path")]


def _resolve(node: Any, root: dict[str, Any], trail: tuple[str, ...] = ()) -> Any:
    """Inline every local ``$ref`` so each schema stands alone (no recursive refs allowed)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise SpecError(f"only local $ref is supported, got {ref!r}")
            if ref in trail:
                raise SpecError(f"recursive $ref {ref!r}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = _resolve(copy.deepcopy(target), root, (*trail, ref))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(merged, dict):
                merged = {**merged, **_resolve(siblings, root, trail)}
            return merged
        return {k: _resolve(v, root, trail) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root, trail) for v in node]
    return node


def _json_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    if not content:
        return None
    for media_type, media in content.items():
        if "json" in media_type:
            return media.get("schema")
    return None


@cache
def load_document(provider: str) -> dict[str, Any]:
    path: Path = spec_path(provider)
    if not path.exists():
        raise SpecError(f"no OpenAPI document for provider {provider!r} at {path}")
    return load_yaml(path.read_text(encoding="utf-8"))


def load_operations(provider: str) -> list[Operation]:
    """Every operation of the provider's document, validators compiled once per process
    (the document is read once too): a contract of a few hundred operations would otherwise
    cost every new app a second of compiling."""
    return list(_compiled_operations(provider))


@cache
def _compiled_operations(provider: str) -> tuple[Operation, ...]:
    doc = load_document(provider)
    operations: list[Operation] = []
    seen: set[str] = set()
    for path, item in (doc.get("paths") or {}).items():
        item = _resolve(item, doc)
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            op_id = raw.get("operationId")
            if not op_id:
                raise SpecError(f"{provider}: {method.upper()} {path} has no operationId")
            if op_id in seen:
                raise SpecError(f"{provider}: operationId {op_id!r} is used twice")
            seen.add(op_id)
            params = [
                Param(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
                for p in [*shared, *raw.get("parameters", [])]
            ]
            body = raw.get("requestBody") or {}
            responses = {
                int(code): _json_schema(resp.get("content"))
                for code, resp in (raw.get("responses") or {}).items()
                if str(code).isdigit()
            }
            op = Operation(
                provider=provider,
                operation_id=op_id,
                method=method.upper(),
                path=path,
                params=params,
                body_schema=_json_schema(body.get("content")),
                body_required=bool(body.get("required")),
                responses=responses,
                extensions={k: v for k, v in raw.items() if k.startswith("x-")},
            )
            _compile(op)
            operations.append(op)
    return tuple(operations)


# Keywords that mean the same in draft-07 (what fastjsonschema implements) and in 2020-12
# (what OpenAPI 3.1 uses). A schema with any other keyword is checked by jsonschema alone.
_SAME_IN_BOTH = frozenset(
    (
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "patternProperties",
        "propertyNames",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "format",
        "description",
        "title",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "items",
    )
)
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("oneOf", "anyOf", "allOf")
_SCHEMA_VALUES = ("additionalProperties", "items", "not", "if", "then", "else", "propertyNames")


def _keywords(schema: Any) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        yield key
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for sub in value.values():
                yield from _keywords(sub)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for sub in value:
                yield from _keywords(sub)
        elif key in _SCHEMA_VALUES:
            if key == "items" and isinstance(value, list):
                yield "items[]"  # tuple form: prefixItems in 2020-12
            yield from _keywords(value)


def fast_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A compiled yes/no check for ``schema`` (fastjsonschema), or None where it may differ.

    Only the answer "valid" is trusted from it; a refusal is always explained by jsonschema,
    so both agree on every message. Defaults are not filled in and formats are not checked,
    as jsonschema does not check them either.
    """
    if not set(_keywords(schema)) <= _SAME_IN_BOTH:
        return None
    try:
        validate = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None

    def is_valid(instance: Any) -> bool:
        try:
            validate(instance)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return is_valid


def _compile(op: Operation) -> None:
    if op.body_schema is not None:
        op.body_validator = Draft202012Validator(op.body_schema)
        op.body_is_valid = fast_check(op.body_schema)
    query = op.query_params
    if query:
        schema = {
            "type": "object",
            "properties": {p.name: p.schema for p in query},
            "required": [p.name for p in query if p.required],
        }
        op.query_validator = Draft202012Validator(schema)
        op.query_is_valid = fast_check(schema)
    for status, schema in op.responses.items():
        if schema is not None:
            op.response_validators[status] = Draft202012Validator(schema)


def coerce_params(op: Operation, raw: dict[str, str]) -> dict[str, Any]:
    """Query and path strings converted to the types their schemas declare.

    A value that does not convert stays a string, so validation reports it as a wrong type.
    """
    out: dict[str, Any] = {}
    for p in op.query_params:
        if p.name not in raw:
            continue
        value: Any = raw[p.name]
        kind = p.schema.get("type")
        try:
            if kind == "integer":
                value = int(value)
            elif kind == "number":
                value = float(value)
            elif kind == "boolean" and value.lower() in ("true", "false"):
                value = value.lower() == "true"
        except ValueError:
            pass
        out[p.name] = value
    return out
