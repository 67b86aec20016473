"""One operation's way through the mock: auth -> rate limit -> validate -> handler -> check.

The outer journal/error middleware (app.py) wraps this. Every refusal is raised as an
:class:`ApiError` and rendered by the provider's dialect, so a client only ever sees the
provider's own envelope.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from aiohttp import web

from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.keys import CTX_KEY, STATE_KEY
from mockserver.registry import Handler, Provider
from mockserver.spec import Operation, coerce_params
from mockserver.validation import body_error, params_error, response_problem

log = logging.getLogger("avatar_mock")


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _rate_limit(ctx: RequestContext) -> None:
    rules = ctx.config.rate_limits
    if not rules:
        return
    windows = ctx.state.windows
    provider = ctx.provider.name
    for rule in rules:
        subject = ctx.key if rule.per == "key" else ctx.client_ip
        wait = windows.hit(f"{provider}:{rule.per}:{subject}", rule.limit, ctx.now)
        if wait is not None:
            raise ctx.error("rate_limited", f"{wait:.0f}")


async def _read_body(ctx: RequestContext) -> dict[str, Any]:
    op = ctx.operation
    request = ctx.request
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ctx.error(
            "too_large", f"request body over {ctx.state.scenario.max_body_bytes} bytes"
        ) from exc
    if not raw.strip():
        if op.body_required:
            raise ctx.error("invalid_params", "a JSON request body is required")
        return {}
    if "json" not in request.content_type and request.content_type not in (
        "application/octet-stream",
        "text/plain",
    ):
        raise ctx.error("invalid_json", f"Content-Type {request.content_type} is not JSON")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ctx.error("invalid_json", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ctx.error("invalid_json", "the request body must be a JSON object")
    return body


def _check_response(ctx: RequestContext, status: int, payload: Any) -> tuple[int, Any]:
    problem = response_problem(ctx.operation, status, payload)
    if problem is None:
        return status, payload
    op = ctx.operation
    ctx.state.violations.append(
        {"operation_id": op.operation_id, "status": status, "problem": problem, "body": payload}
    )
    log.error("response violates %s/%s: %s", op.provider, op.operation_id, problem)
    err = ctx.error("internal", f"response violates the contract: {problem}")
    return err.status, ctx.provider.dialect.render(err, ctx.trace_id)


def make_endpoint(provider: Provider, op: Operation, handler: Handler):
    """The aiohttp handler for one spec operation."""
    dialect = provider.dialect
    has_body = op.body_schema is not None
    headers_hook = provider.response_headers

    async def endpoint(request: web.Request) -> web.Response:
        state = request.app[STATE_KEY]
        rng = state.id_rng("request")
        now = state.clock.now()
        ctx = RequestContext(
            request,
            state,
            provider,
            op,
            now,
            request_id=str((int(now * 1000) << 22) | rng.getrandbits(22)),
            trace_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        request[CTX_KEY] = ctx
        extra_headers: dict[str, str] = {}
        try:
            ctx.key = provider.authenticate(ctx)
            _rate_limit(ctx)
            if op.query_validator is not None:
                raw = {**request.query, **request.match_info}
                ctx.params = coerce_params(op, raw)
                reason = params_error(op, ctx.params)
                if reason:
                    raise ctx.error("invalid_params", reason)
            if has_body:
                ctx.body = await _read_body(ctx)
                problem = body_error(op, ctx.body)
                if problem:
                    raise ctx.error(*problem)
            payload = await handler(ctx)
            status = 200
        except ApiError as err:
            status, payload = err.status, dialect.render(err, ctx.trace_id)
            extra_headers = err.headers
        if state.options.strict:
            status, payload = _check_response(ctx, status, payload)
        if headers_hook is not None:
            extra_headers = {**headers_hook(ctx), **extra_headers}
        return web.Response(
            text=_dumps(payload),
            status=status,
            content_type="application/json",
            headers=extra_headers,
        )

    endpoint.__name__ = f"{provider.name}_{op.operation_id}"
    return endpoint
