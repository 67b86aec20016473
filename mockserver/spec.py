"""Read a provider's OpenAPI document into operations the server can route and validate.

The document is the single source of truth: every ``paths`` entry becomes an
:class:`Operation` with its request and response schemas dereferenced and its validators
compiled on first use (see Operation).

jsonschema is imported only when a validator is first built: the hot path answers "valid"
from compiled fastjsonschema checks (fast_check), and importing jsonschema with its
referencing and format machinery costs ~50 ms of start-up.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver import yamlio
from mockserver.flatcheck import flat_check
from mockserver.numbers import NumberError, parse_integer, parse_number
from mockserver.resources import spec_path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class SpecError(Exception):
    """The OpenAPI document cannot be served as it is."""


@dataclass
class Param:
    """One declared parameter of an operation, its schema resolved."""

    name: str
    location: str  # "query" | "path" | "header"
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    """One operation of a provider's document: routed at start-up, resolved on first use."""

    provider: str
    operation_id: str
    method: str  # upper case
    path: str  # OpenAPI template, e.g. /s2s/v2.0/task/ai-avatar/{task_id}
    raw: dict[str, Any] = field(repr=False)  # the operation as written, $refs unresolved
    shared_params: list[Any] = field(repr=False)  # the path item's own parameters
    document: dict[str, Any] = field(repr=False)

    # What follows is resolved ($refs inlined) and compiled on first use, not at start-up:
    # a contract of a few hundred operations would otherwise cost seconds before the first
    # answer, for operations a session may never call.

    def _resolved(self, node: Any) -> Any:
        return _resolve(node, self.document)

    @cached_property
    def params(self) -> list[Param]:
        return [
            Param(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
            for p in self._resolved([*self.shared_params, *self.raw.get("parameters", [])])
        ]

    @cached_property
    def _body(self) -> dict[str, Any]:
        return self._resolved(self.raw.get("requestBody") or {})

    @cached_property
    def body_schema(self) -> dict[str, Any] | None:
        return _json_schema(self._body.get("content"))

    @cached_property
    def takes_body(self) -> bool:
        """A JSON or a form body (a form-only operation has no ``body_schema``)."""
        return self.body_schema is not None or self.form_schema is not None

    @cached_property
    def body_required(self) -> bool:
        return bool(self._body.get("required"))

    @cached_property
    def body_integers(self) -> tuple[str, ...]:
        """Top-level body fields declared ``integer``: JSON Schema counts ``2.0`` as one, and
        the body arrives as a float, which ``islice`` or ``range`` in a handler refuses."""
        props = (self.body_schema or {}).get("properties") or {}
        return tuple(
            name for name, schema in props.items()
            if isinstance(schema, dict) and schema.get("type") == "integer"
        )  # fmt: skip

    @cached_property
    def responses(self) -> dict[int, dict[str, Any] | None]:
        return {
            int(code): _json_schema(resp.get("content"))
            for code, resp in self._resolved(self.raw.get("responses") or {}).items()
            if str(code).isdigit()
        }

    @cached_property
    def extensions(self) -> dict[str, Any]:
        return {k: self._resolved(v) for k, v in self.raw.items() if k.startswith("x-")}

    @cached_property
    def dialect(self) -> str | None:
        """The named dialect the operation refuses in (``x-dialect``), if not its provider's."""
        name = self.raw.get("x-dialect")
        return None if name is None else str(name)

    @cached_property
    def form_schema(self) -> dict[str, Any] | None:
        """The ``multipart/form-data`` body schema, where the operation takes a form too."""
        content = self._body.get("content") or {}
        media = content.get("multipart/form-data")
        return None if media is None else media.get("schema")

    @cached_property
    def form_validator(self) -> Draft202012Validator | None:
        return None if self.form_schema is None else _validator(self.form_schema)

    @cached_property
    def form_is_valid(self) -> Callable[[Any], bool] | None:
        return None if self.form_schema is None else fast_check(self.form_schema)

    @property
    def query_params(self) -> list[Param]:
        return [p for p in self.params if p.location in ("query", "path")]

    @cached_property
    def query_schema(self) -> dict[str, Any] | None:
        query = self.query_params
        if not query:
            return None
        return {
            "type": "object",
            "properties": {p.name: p.schema for p in query},
            "required": [p.name for p in query if p.required],
        }

    @cached_property
    def body_validator(self) -> Draft202012Validator | None:
        return None if self.body_schema is None else _validator(self.body_schema)

    @cached_property
    def query_validator(self) -> Draft202012Validator | None:
        schema = self.query_schema
        return None if schema is None else _validator(schema)

    @cached_property
    def body_is_valid(self) -> Callable[[Any], bool] | None:
        """The compiled fast path (see value_check), or None."""
        return None if self.body_schema is None else value_check(self.body_schema)

    @cached_property
    def query_is_valid(self) -> Callable[[Any], bool] | None:
        schema = self.query_schema
        return None if schema is None else value_check(schema)

    @cached_property
    def response_validators(self) -> dict[int, Draft202012Validator]:
        return {
            status: _validator(schema)
            for status, schema in self.responses.items()
            if schema is not None
        }


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A jsonschema validator, which explains refusals; imported here, on first need only."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


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


SOURCE_HASH = yamlio.SOURCE_HASH


def rendering_path(provider: str) -> Path:
    """The JSON rendering of a provider's YAML document (see render_json)."""
    return yamlio.rendering_path(spec_path(provider))


def render_json(provider: str) -> str:
    """The YAML document as JSON, stamped with the hash of the YAML it came from.

    JSON loads fifty times faster than YAML, which keeps start-up short; the stamp makes
    sure a stale rendering is never used (load_document falls back to the YAML).
    """
    return yamlio.render_json(spec_path(provider))


@cache
def load_document(provider: str) -> dict[str, Any]:
    path: Path = spec_path(provider)
    if not path.exists():
        raise SpecError(f"no OpenAPI document for provider {provider!r} at {path}")
    return yamlio.load_yaml_file(path)


def load_operations(provider: str) -> list[Operation]:
    """Every operation of the provider's document, read once per process; each operation
    compiles its validators on first use."""
    return list(_compiled_operations(provider))


@cache
def _compiled_operations(provider: str) -> tuple[Operation, ...]:
    doc = load_document(provider)
    operations: list[Operation] = []
    seen: set[str] = set()
    for path, item in (doc.get("paths") or {}).items():
        if "$ref" in item:
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
            operations.append(Operation(provider, op_id, method.upper(), path, raw, shared, doc))
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
    import fastjsonschema  # on an operation's first request, not at start-up (ten modules)

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


def value_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """The yes/no check for a JSON body or coerced parameters: written out for a plain schema
    (mockserver.flatcheck, a few comparisons), else fastjsonschema's. Forms keep fast_check:
    their values are not only the JSON types flat_check assumes."""
    return flat_check(schema) or fast_check(schema)


def coerce_params(op: Operation, raw: dict[str, str]) -> dict[str, Any]:
    """Query and path strings converted to the types their schemas declare.

    Numbers are read by mockserver.numbers: plain ASCII decimals only, never ``nan``, ``inf``,
    ``1e309`` or ``1_000`` (which ``float()`` and ``int()`` take). A value that does not
    convert stays a string, so validation reports it as a wrong type, naming the parameter.
    """
    out: dict[str, Any] = {}
    for p in op.query_params:
        if p.name not in raw:
            continue
        value: Any = raw[p.name]
        kind = p.schema.get("type")
        with contextlib.suppress(NumberError):  # unconvertible: validation names the type
            if kind == "integer":
                value = parse_integer(value, p.name)
            elif kind == "number":
                value = parse_number(value, p.name)
        if kind == "boolean" and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        out[p.name] = value
    return out
