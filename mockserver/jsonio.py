"""Reading the JSON a client sends, in one place, strictly.

The standard library's ``json.loads`` accepts what no provider's parser does and what the mock
cannot answer with: ``NaN`` and ``Infinity`` literals, lone surrogates (``"\\udc00"``, which
no UTF-8 encoder can write back), and nesting deep enough to exhaust Python's recursion in
whatever walks the value next. orjson refuses the first two and is several times faster; the
depth is checked here, and only for bodies long enough to be that deep, so a poll-sized body
pays nothing for it.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64  # provider bodies nest a handful of levels; anything near this is an attack


class JsonError(ValueError):
    """The bytes are not JSON the mock accepts; ``str(err)`` is the client-facing reason."""


def loads(raw: bytes | str) -> Any:
    """The JSON value in ``raw``, or JsonError."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonError(_reason(str(exc))) from None
    if len(raw) > 2 * MAX_DEPTH and _too_deep(value):
        raise JsonError(f"the JSON nests more than {MAX_DEPTH} levels deep")
    return value


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """A JSON object, or JsonError (a list or a scalar is refused too)."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise JsonError("the request body must be a JSON object")
    return value


def _too_deep(value: Any) -> bool:
    """True when containers nest more than MAX_DEPTH levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


def _reason(message: str) -> str:
    """orjson's message without its position suffix, in the words a client can act on."""
    head = message.split(": line ", 1)[0]
    if "not valid UTF-8" in head:
        return "the request body is not valid UTF-8"
    if "surrogate" in head:
        return "a string in the JSON is not valid Unicode (a lone surrogate)"
    if "depth" in head:
        return f"the JSON nests more than {MAX_DEPTH} levels deep"
    if "infinity" in head or "NaN" in head:
        return "the JSON holds a number that is not finite"
    return "the request body is not valid JSON"
