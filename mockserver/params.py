"""Query and path parameters, read the way each operation declares them.

Built once per operation (on its first request, so start-up stays lazy): which names to read,
from where, and how to convert and check them. A poll of ``/task/{id}`` then costs a dict
copy, not a walk over the spec and a schema check the route has already made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from mockserver.spec import Operation, coerce_params
from mockserver.validation import params_error

ParamsReader = Callable[[web.Request], dict[str, Any]]
# What aiohttp's route already guarantees of a ``{name}`` segment: a string of one or more
# characters. A path parameter declared no stricter than this needs no check.
ROUTE_ENFORCED = ({"type": "string"}, {"type": "string", "minLength": 1})


class ParamsError(ValueError):
    """A parameter breaks its schema; the message is the client-facing reason."""


def params_reader(op: Operation) -> ParamsReader | None:
    """The reader for ``op``'s parameters, or None when it declares none."""
    if op.query_schema is None:
        return None
    declared = op.query_params
    if all(p.location == "path" and p.schema in ROUTE_ENFORCED for p in declared):
        # The common case (a status poll): strings from the path that the route has already
        # checked as far as the schema asks; nothing to convert, nothing to validate.
        names = tuple(p.name for p in declared)
        if len(names) == 1:  # a status poll's one id: no comprehension to run per request
            (name,) = names

            def read_one(request: web.Request) -> dict[str, Any]:
                return {name: request.match_info[name]}

            return read_one

        def read_route(request: web.Request) -> dict[str, Any]:
            match = request.match_info
            return {name: match[name] for name in names}

        return read_route

    is_valid = op.query_is_valid

    def read(request: web.Request) -> dict[str, Any]:
        params = coerce_params(op, {**request.query, **request.match_info})
        if is_valid is not None and is_valid(params):
            return params
        reason = params_error(op, params)  # jsonschema explains, or finds nothing wrong
        if reason:
            raise ParamsError(reason)
        return params

    return read
