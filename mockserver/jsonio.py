"""Reading the JSON a client sends, in one place, strictly.

The standard library's ``json.loads`` accepts what no provider's parser does and what the mock
cannot answer with: ``NaN`` and ``Infinity`` literals, lone surrogates (``"\\udc00"``, which
no UTF-8 encoder can write back), and nesting deep enough to exhaust Python's recursion in
whatever walks the value next. orjson refuses the first two and is several times faster; the
depth is checked here, and only for bodies with enough brackets to be that deep, so a
submit-sized body pays nothing for it. A refusal names the field where it can: the standard
library parses the refused body a second time (only then) to find where the NaN or the
surrogate sits.

Bodies are decoded here too, from bytes: JSON is UTF-8 (RFC 8259 §8.1), so a ``charset`` other
than UTF-8 (or its subset US-ASCII) is refused instead of being looked up, which is how
aiohttp's ``request.json()`` turned ``charset=foo`` into a 500.

:func:`value_problems` checks a document that did not come through orjson (a YAML scenario):
the same rules, plus a bound on its size, since YAML aliases can make a small text a huge value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from mockserver.numbers import NumberError, read_number

MAX_DEPTH = 64  # provider bodies nest a handful of levels; anything near this is an attack
MAX_VALUES = 200_000  # values in a parsed YAML document, aliases counted each time they are used
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
NOT_FINITE = "the JSON holds a number that is not finite"
LONE_SURROGATE = "a string in the JSON is not valid Unicode (a lone surrogate)"

ValuePath = list[str | int]


class JsonError(ValueError):
    """The bytes are not JSON the mock accepts; ``str(err)`` is the client-facing reason."""


def loads(raw: bytes | str, *, charset: str | None = None) -> Any:
    """The JSON value in ``raw``, or JsonError. ``charset``: the one the Content-Type names."""
    if charset:
        check_charset(charset)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonError(_explained(raw, _reason(str(exc)))) from None
    # MAX_DEPTH levels take more brackets than a short body (a status read's) has bytes
    if len(raw) > MAX_DEPTH and _may_be_too_deep(raw) and _too_deep(value):
        raise JsonError(f"the JSON nests more than {MAX_DEPTH} levels deep")
    return value


def plain_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object in ``raw`` when nothing about it needs a closer look (what clients
    send: a short object orjson reads at once), else None for :func:`loads_object` to accept
    or refuse with its reason. One call where a status read's body would take three."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if value.__class__ is not dict:
        return None
    if len(raw) > MAX_DEPTH and _may_be_too_deep(raw) and _too_deep(value):
        return None
    return value  # type: ignore[no-any-return]


def loads_object(raw: bytes | str, *, charset: str | None = None) -> dict[str, Any]:
    """A JSON object, or JsonError (a list or a scalar is refused too)."""
    value = loads(raw, charset=charset)
    if not isinstance(value, dict):
        raise JsonError("the request body must be a JSON object")
    return value


def check_charset(charset: str | None) -> None:
    """JsonError unless ``charset`` (from a Content-Type; None or empty when it names none)
    is UTF-8."""
    if charset and charset.strip().lower() not in UTF8_CHARSETS:
        raise JsonError(f"charset {_quoted(charset)} is not supported: the body must be UTF-8")


def unencodable(text: str) -> bool:
    """True when no UTF-8 encoder can write ``text`` (it holds a lone surrogate)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class DocumentTooLarge(JsonError):
    """A parsed document too deep or too large to check; ``path`` is where that showed."""

    def __init__(self, path: ValuePath, reason: str) -> None:
        super().__init__(reason)
        self.path = path


def value_problems(value: Any) -> list[tuple[ValuePath, str]]:
    """``(path, reason)`` for each thing in ``value`` that JSON could not carry back.

    Non-finite or oversized numbers and unencodable strings (keys included), anywhere.
    Raises DocumentTooLarge for a document nested deeper than MAX_DEPTH or holding more than
    MAX_VALUES values (aliases counted each time), since walking further is what it would
    cost. Iterative, so no depth exhausts the interpreter's recursion.
    """
    problems: list[tuple[ValuePath, str]] = []
    stack: list[tuple[Any, ValuePath]] = [(value, [])]
    seen = 0
    while stack:
        node, path = stack.pop()
        seen += 1
        # Refused as a whole: named by where it starts, not by a path of a thousand steps.
        if seen > MAX_VALUES:
            raise DocumentTooLarge(path[:2], f"the document holds more than {MAX_VALUES} values")
        if len(path) > MAX_DEPTH:
            raise DocumentTooLarge(path[:2], f"the document nests more than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, child in reversed(node.items()):
                reason = _scalar_problem(key)
                if reason is not None:
                    problems.append(([*path, _shown_key(key)], f"the key {reason}"))
                stack.append((child, [*path, key]))
        elif isinstance(node, list):
            stack.extend((child, [*path, i]) for i, child in reversed(list(enumerate(node))))
        else:
            reason = _scalar_problem(node)
            if reason is not None:
                problems.append((path, reason))
    return problems


def dotted(path: ValuePath) -> str:
    """A path as refusals write it: ``providers.youcam.families.0``."""
    return ".".join(_shown_key(p) for p in path)


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return "is not valid Unicode (a lone surrogate)" if unencodable(value) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            read_number(value, "")
        except NumberError as err:
            return err.reason
    return None


def _shown_key(key: Any) -> str:
    return printable(str(key), 80)


def _too_deep(value: Any) -> bool:
    """True when containers nest more than MAX_DEPTH levels (level by level: no recursion)."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if type(node) is dict else node
            below.extend([c for c in children if type(c) is dict or type(c) is list])
        level = below
        depth += 1
    return False


def _may_be_too_deep(raw: bytes | str) -> bool:
    """False when ``raw`` has too few brackets to nest past MAX_DEPTH (a C-speed count that
    spares most bodies the walk; brackets inside strings only make it walk needlessly)."""
    if isinstance(raw, str):
        return raw.count("[") + raw.count("{") > MAX_DEPTH
    return raw.count(b"[") + raw.count(b"{") > MAX_DEPTH


def _reason(message: str) -> str:
    """orjson's message without its position suffix, in the words a client can act on."""
    head = message.split(": line ", 1)[0]
    if "not valid UTF-8" in head:
        return "the request body is not valid UTF-8"
    if "surrogate" in head:
        return LONE_SURROGATE
    if "recursion" in head or "depth" in head:
        return f"the JSON nests more than {MAX_DEPTH} levels deep"
    if "infinity" in head:
        return NOT_FINITE
    return "the request body is not valid JSON"


class _Refused:
    """Stands, in the second parse, where orjson met a value it refuses."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _explained(raw: bytes | str, reason: str) -> str:
    """Why orjson refused ``raw``, naming the field when the refusal sits in one value.

    The standard library reads what orjson refuses in a value (``NaN``, ``Infinity``,
    ``1e309``, a lone surrogate), so its parse, run only for a refused body, shows where.
    """

    def number(text: str) -> Any:
        value = float(text)
        return value if math.isfinite(value) else _Refused(text)

    def integer(text: str) -> Any:
        return _Refused(text) if len(text.lstrip("-")) > 308 else int(text)

    try:
        value = json.loads(raw, parse_constant=_Refused, parse_float=number, parse_int=integer)
    except (ValueError, RecursionError):  # not JSON to either parser: orjson's reason stands
        return reason
    found = _first_refused(value)
    if found is None:
        return reason
    path, what = found
    return f"{dotted(path)}: {what}" if path else what


def _first_refused(value: Any) -> tuple[ValuePath, str] | None:
    stack: list[tuple[Any, ValuePath]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Refused):
            return path, NOT_FINITE
        if isinstance(node, str) and unencodable(node):
            return path, LONE_SURROGATE
        if isinstance(node, dict):
            for key, child in reversed(node.items()):
                if unencodable(key):
                    return [*path, key], LONE_SURROGATE
                stack.append((child, [*path, key]))
        elif isinstance(node, list):
            stack.extend((child, [*path, i]) for i, child in reversed(list(enumerate(node))))
    return None


def printable(text: str, limit: int = 60) -> str:
    """``text`` as a refusal may quote it: lone surrogates escaped, cut at ``limit``."""
    if unencodable(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quoted(text: str) -> str:
    return printable(repr(text), 40)
