"""A yes/no check written out as Python for the plain schemas most request bodies declare.

A status read's body is ``{"_id": "..."}``: fastjsonschema's generic code for it builds two
sets and raises and catches to say "no". :func:`flat_check` writes one short function per
schema instead (class checks, ``len``, comparisons, one ``return``), for schemas built only from
keywords it knows; anything else returns None and the caller keeps fastjsonschema.

Only its "valid" is trusted, as fastjsonschema's is (a refusal is always explained by
jsonschema), so where in doubt it says no: a type is an exact class (values are what orjson or
:func:`~mockserver.spec.coerce_params` make: dict, list, str, int, float, bool, None), an
``enum`` only of strings or of integers. It reads the 2020-12 meaning of each keyword it
accepts, the one jsonschema applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# What a keyword says nothing about validity with (annotations; formats are not asserted).
_ANNOTATIONS = frozenset(
    ("description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly")
)
_ANNOTATIONS_AND_FORMAT = _ANNOTATIONS | {"format"}
_TYPES = {
    "string": "{v}.__class__ is str",
    "integer": "({v}.__class__ is int or ({v}.__class__ is float and {v}.is_integer()))",
    "number": "({v}.__class__ is int or {v}.__class__ is float)",
    "boolean": "{v}.__class__ is bool",
    "null": "{v} is None",
    "array": "{v}.__class__ is list",
    "object": "{v}.__class__ is dict",
}
# Keywords by the type they constrain: an instance of another type passes them.
_BY_TYPE = {
    "string": frozenset(("minLength", "maxLength", "pattern")),
    "number": frozenset(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")),
    "array": frozenset(("minItems", "maxItems", "items")),
    "object": frozenset(
        ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
    ),
}
_KNOWN = _ANNOTATIONS_AND_FORMAT.union({"type", "enum"}, *_BY_TYPE.values())
_COMPARE = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}
_MISSING = object()  # what ``dict.get`` answers for an absent property


class _Unsupported(Exception):
    """The schema holds something this writer does not check exactly."""


def flat_check(schema: Any) -> Callable[[Any], bool] | None:
    """A function answering whether a value is valid under ``schema``, or None where the
    schema holds a keyword (or a form of one) this module does not write out."""
    writer = _Writer()
    try:
        body = writer.block(schema, "data", 1)
    except _Unsupported:
        return None
    source = "def is_valid(data):\n" + "".join(body) + "    return True\n"
    namespace: dict[str, Any] = dict(writer.constants)
    exec(compile(source, "<flat_check>", "exec"), namespace)  # our own source, from the schema
    check: Callable[[Any], bool] = namespace["is_valid"]
    return check


class _Writer:
    """Lines of Python that ``return False`` when a variable breaks a schema."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {"MISSING": _MISSING}
        self._names = 0

    def _name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def _constant(self, value: Any) -> str:
        name = self._name("K")
        self.constants[name] = value
        return name

    def block(self, schema: Any, v: str, depth: int) -> list[str]:
        if schema is True or schema == {}:
            return []
        if not isinstance(schema, dict) or not set(schema) <= _KNOWN:
            raise _Unsupported
        pad = "    " * depth
        lines: list[str] = []
        kind = schema.get("type")
        kinds = [kind] if isinstance(kind, str) else kind
        if kinds is not None:
            if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(_TYPES):
                raise _Unsupported
            test = " or ".join(_TYPES[k].format(v=v) for k in kinds)
            lines.append(f"{pad}if not ({test}):\n{pad}    return False\n")
        if "enum" in schema:
            lines += self._enum(schema["enum"], v, pad)
        for group, keywords in _BY_TYPE.items():
            present = keywords & set(schema)
            if not present:
                continue
            own = [group] if group != "number" else ["number", "integer"]
            if kinds is not None and len(kinds) == 1 and kinds[0] in own:
                inner, inner_pad = depth, pad  # the type is checked above
            elif kinds is not None and not set(kinds) & set(own):
                continue  # no instance of the type passes the type check above
            else:  # the keywords apply only to instances of their type
                guard = _TYPES["number" if group == "number" else group].format(v=v)
                lines.append(f"{pad}if {guard}:\n")
                inner, inner_pad = depth + 1, pad + "    "
            write = getattr(self, f"_{group}")
            lines += write(schema, v, inner, inner_pad) or [f"{inner_pad}pass\n"]
        return lines

    def _enum(self, values: Any, v: str, pad: str) -> list[str]:
        # Only strings, or only integers: Python's ``in`` takes True for 1, jsonschema does not.
        if not isinstance(values, list) or not values:
            raise _Unsupported
        if all(x.__class__ is str for x in values):
            test = f"{v}.__class__ is str and {v} in {self._constant(frozenset(values))}"
        elif all(x.__class__ is int for x in values):  # 1.0 is 1 to jsonschema, True is not
            test = f"{_TYPES['integer'].format(v=v)} and {v} in {self._constant(frozenset(values))}"
        else:
            raise _Unsupported
        return [f"{pad}if not ({test}):\n{pad}    return False\n"]

    def _string(self, schema: dict[str, Any], v: str, depth: int, pad: str) -> list[str]:
        lines = []
        for keyword, op in (("minLength", "<"), ("maxLength", ">")):
            if keyword in schema:
                bound = _count(schema[keyword])
                lines.append(f"{pad}if len({v}) {op} {bound}:\n{pad}    return False\n")
        if "pattern" in schema:
            pattern = schema["pattern"]
            if not isinstance(pattern, str):
                raise _Unsupported
            try:
                search = re.compile(pattern).search  # jsonschema's own: re.search
            except re.error as exc:
                raise _Unsupported from exc
            name = self._constant(search)
            lines.append(f"{pad}if {name}({v}) is None:\n{pad}    return False\n")
        return lines

    def _number(self, schema: dict[str, Any], v: str, depth: int, pad: str) -> list[str]:
        lines = []
        for keyword, op in _COMPARE.items():
            if keyword in schema:
                bound = schema[keyword]
                if bound.__class__ not in (int, float):  # draft-04's boolean exclusives
                    raise _Unsupported
                name = self._constant(bound)
                lines.append(f"{pad}if {v} {op} {name}:\n{pad}    return False\n")
        return lines

    def _array(self, schema: dict[str, Any], v: str, depth: int, pad: str) -> list[str]:
        lines = []
        for keyword, op in (("minItems", "<"), ("maxItems", ">")):
            if keyword in schema:
                bound = _count(schema[keyword])
                lines.append(f"{pad}if len({v}) {op} {bound}:\n{pad}    return False\n")
        if "items" in schema:
            item = self._name("x")
            body = self.block(schema["items"], item, depth + 1)
            if body:
                lines.append(f"{pad}for {item} in {v}:\n")
                lines += body
        return lines

    def _object(self, schema: dict[str, Any], v: str, depth: int, pad: str) -> list[str]:
        lines = []
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        if not isinstance(properties, dict) or not isinstance(required, list):
            raise _Unsupported
        if not all(isinstance(k, str) for k in [*properties, *required]) or extra not in (
            True,
            False,
        ):
            raise _Unsupported
        for keyword, op in (("minProperties", "<"), ("maxProperties", ">")):
            if keyword in schema:
                bound = _count(schema[keyword])
                lines.append(f"{pad}if len({v}) {op} {bound}:\n{pad}    return False\n")
        if extra is False:
            allowed = self._constant(frozenset(properties))
            lines.append(f"{pad}if not {v}.keys() <= {allowed}:\n{pad}    return False\n")
        for name in required:
            if name not in properties:
                lines.append(f"{pad}if {name!r} not in {v}:\n{pad}    return False\n")
        for name, sub in properties.items():
            value = self._name("p")
            if name in required:  # checked at this level: no ``if`` around it
                lines.append(f"{pad}{value} = {v}.get({name!r}, MISSING)\n")
                lines.append(f"{pad}if {value} is MISSING:\n{pad}    return False\n")
                lines += self.block(sub, value, depth)
                continue
            body = self.block(sub, value, depth + 1)
            if body:
                lines.append(f"{pad}{value} = {v}.get({name!r}, MISSING)\n")
                lines.append(f"{pad}if {value} is not MISSING:\n")
                lines += body
        return lines


def _count(bound: Any) -> int:
    """A length bound as the schema writes it (a non-negative integer), or _Unsupported."""
    if bound.__class__ is not int or bound < 0:
        raise _Unsupported
    return int(bound)
