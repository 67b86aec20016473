"""Requests built from the JSON Schemas: one valid instance, and ways to get one wrong.

A documented example wins (``example``/``examples`` on the media type or the schema); else the
instance is derived from the schema: consts, enums, defaults, the first branch of a ``oneOf``,
minimal numbers and lengths, and URLs shaped by the field's name (an ``audio_url`` gets an
.mp3). ``hints`` fill fields whose valid values live elsewhere, such as a template id.
"""

from __future__ import annotations

import copy
import re
from typing import Any

SENTINEL_FIELD = "contract_suite_unexpected"


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key == "properties":
            out["properties"] = {**a.get("properties", {}), **value}
        elif key == "required":
            out["required"] = [
                *a.get("required", []),
                *[v for v in value if v not in a.get("required", [])],
            ]
        elif key not in ("oneOf", "anyOf", "allOf", "not"):
            out.setdefault(key, value)
    return out


def flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """allOf merged in, and the first oneOf/anyOf branch taken."""
    schema = dict(schema)
    for part in schema.pop("allOf", []):
        schema = _merge(schema, flatten(part))
    for key in ("oneOf", "anyOf"):
        branches = schema.pop(key, None)
        if branches:
            schema = _merge(schema, flatten(branches[0]))
    return schema


def media_url(name: str) -> str:
    lowered = name.lower()
    if "audio" in lowered or "voice" in lowered or lowered == "audiosrc":
        ext = "mp3"
    elif "video" in lowered:
        ext = "mp4"
    else:
        ext = "jpg"
    return f"https://example.com/contract-suite/{lowered or 'file'}.{ext}"


def instance(
    schema: dict[str, Any] | None, name: str = "", hints: dict[str, Any] | None = None
) -> Any:
    """A value the schema accepts (best effort for patterns it cannot invert)."""
    hints = hints or {}
    if name in hints:
        return copy.deepcopy(hints[name])
    schema = flatten(schema or {})
    for key in ("const", "default"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if schema.get("enum"):
        return copy.deepcopy(schema["enum"][0])
    for key in ("examples", "example"):
        if key in schema:
            value = schema[key]
            return copy.deepcopy(
                value[0] if key == "examples" and isinstance(value, list) else value
            )
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties", {})
        return {k: instance(props.get(k), k, hints) for k in schema.get("required", [])}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [instance(schema.get("items"), name, hints) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if schema.get("format") in ("uri", "url") or name.lower().endswith(("url", "urls", "src")):
        return media_url(name)
    return _string(schema, name)


def _number(schema: dict[str, Any], kind: str) -> int | float:
    if "minimum" in schema:
        low = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + 1
    else:
        low = 1
    high = schema.get("maximum")
    value = low if high is None else min(low, high)
    return int(value) if kind == "integer" else float(value)


def _string(schema: dict[str, Any], name: str) -> str:
    """A string of the right length; for a pattern, the first of a few usual shapes it takes
    (hex ids of 24, 32 or 64 characters, plain words)."""
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10_000))
    text = f"contract-suite-{name or 'value'}".ljust(low, "x")[:high]
    pattern = schema.get("pattern")
    if not pattern:
        return text
    for candidate in (text, *("0" * n for n in (24, 32, 64)), "contractsuite", "a" * max(low, 1)):
        if re.search(pattern, candidate) and low <= len(candidate) <= high:
            return candidate
    return text


def invalid_body(schema: dict[str, Any] | None) -> tuple[str, Any] | None:
    """``(why, body)``: a body the schema refuses, or None when nothing can be got wrong."""
    if not schema:
        return None
    flat = flatten(schema)
    if flat.get("required"):
        return "required fields missing", {}
    if flat.get("additionalProperties") is False:
        return "an unexpected field", {SENTINEL_FIELD: 1}
    for key, prop in flat.get("properties", {}).items():
        kind = flatten(prop).get("type")
        if kind in ("integer", "number", "boolean", "array", "object"):
            return f"{key} of the wrong type", {key: "not-a-" + str(kind)}
        if kind == "string":
            return f"{key} of the wrong type", {key: {"not": "a string"}}
    return None


def invalid_query(params: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """``(why, query)`` breaking the first query parameter that can be broken."""
    query = [p for p in params if p.location == "query"]
    for p in query:
        if p.required:
            return f"{p.name} missing", {
                q.name: instance(q.schema, q.name) for q in query if q is not p and q.required
            }
    for p in query:
        schema = flatten(p.schema)
        kind = schema.get("type")
        if "enum" in schema:
            return f"{p.name} not one of its values", {p.name: "contract-suite-not-a-value"}
        if kind in ("integer", "number"):
            if "minimum" in schema:
                return f"{p.name} below its minimum", {p.name: schema["minimum"] - 1}
            return f"{p.name} not a number", {p.name: "not-a-number"}
    return None
