"""Query and path parameters, read the way each operation declares them.

Built once per operation (on its first request, so start-up stays lazy): which names to read,
from where, and how to convert them. A poll of ``/task/{id}`` then costs a dict copy and one
compiled check, not a walk over the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from mockserver.spec import Operation, coerce_params, fast_check
from mockserver.validation import params_error

ParamsReader = Callable[[web.Request], dict[str, Any]]


class ParamsError(ValueError):
    """A parameter breaks its schema; the message is the client-facing reason."""


def params_reader(op: Operation) -> ParamsReader | None:
    """The reader for ``op``'s parameters, or None when it declares none."""
    if op.query_schema is None:
        return None
    declared = op.query_params
    is_valid = op.query_is_valid

    def explain(params: dict[str, Any]) -> dict[str, Any]:
        reason = params_error(op, params)
        if reason:
            raise ParamsError(reason)
        return params

    if all(p.location == "path" and p.schema.get("type") == "string" for p in declared):
        # The common case (a status poll): strings from the path, nothing to convert, every
        # one present; checking each value against its own schema is the object's check.
        checks = tuple((p.name, fast_check(p.schema)) for p in declared)
        if all(check is not None for _, check in checks):

            def read_path(request: web.Request) -> dict[str, Any]:
                match = request.match_info
                params = {}
                for name, check in checks:
                    value = params[name] = match[name]
                    if not check(value):
                        return explain({n: match[n] for n, _ in checks})
                return params

            return read_path

    def read(request: web.Request) -> dict[str, Any]:
        params = coerce_params(op, {**request.query, **request.match_info})
        if is_valid is not None and is_valid(params):
            return params
        return explain(params)

    return read
