"""One operation's way through the mock: auth -> rate limit -> validate -> handler -> check.

The outer journal/error middleware (app.py) wraps this. Every refusal is raised as an
:class:`ApiError` and rendered by the provider's dialect, so a client only ever sees the
provider's own envelope.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

from mockserver import journal
from mockserver.auth import bearer_key
from mockserver.chaos import ChaosError, Decision, Effect, lenient_json
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.keys import CTX_KEY, DROPPED_KEY, STATE_KEY
from mockserver.registry import Handler, Provider
from mockserver.spec import Operation, coerce_params
from mockserver.validation import body_error, params_error, response_problem

log = logging.getLogger("avatar_mock")


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the slower, general path
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


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


def _drop_connection(request: web.Request, reset: bool) -> None:
    """End the connection with no answer: RST for a reset, FIN for an empty reply."""
    request[DROPPED_KEY] = True
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _decide_faults(ctx: RequestContext, has_body: bool) -> Decision | None:
    chaos = ctx.state.chaos
    body = None
    if has_body and chaos.needs_body:
        try:
            body = lenient_json(await ctx.request.read())
        except web.HTTPRequestEntityTooLarge:
            body = None
    return chaos.decide(ctx, body)


def _fault_error(ctx: RequestContext, effect: Effect) -> ApiError:
    if effect.type == "rate_limit":
        err = ctx.error("rate_limited")
        if effect.retry_after is not None:
            err.headers = {**err.headers, "Retry-After": f"{effect.retry_after:g}"}
        return err
    err = ctx.error("internal", effect.message or "")
    err.status = effect.status
    if effect.message:
        err.message = effect.message
    elif effect.status != 500:
        err.message = HTTPStatus(effect.status).phrase
    if effect.code is not None:
        err.code = effect.code
    return err


async def _deliver(
    request: web.Request, status: int, data: bytes, headers: dict[str, str], effect: Effect | None
) -> web.StreamResponse:
    """Send the answer, spoiled the way ``effect`` says (truncated, malformed, dribbled)."""
    if effect is None:
        return web.Response(
            body=data, status=status, content_type="application/json", headers=headers
        )
    kind = effect.type
    if kind in ("reset", "empty"):
        _drop_connection(request, reset=kind == "reset")
        return web.Response(status=status)
    if kind == "truncate":
        data = data[: int(len(data) * effect.fraction)]
    elif kind == "malformed":
        data = data[: max(len(data) // 2, 1)] + b"<html><body>502 Bad Gateway</body></html>"
    if kind != "dribble":
        return web.Response(
            body=data, status=status, content_type="application/json", headers=headers
        )
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = "application/json"
    response.content_length = len(data)
    await response.prepare(request)
    for i in range(0, len(data), effect.chunk_bytes):
        await response.write(data[i : i + effect.chunk_bytes])
        await asyncio.sleep(effect.interval)
    await response.write_eof()
    return response


def make_endpoint(provider: Provider, op: Operation, handler: Handler):
    """The aiohttp handler for one spec operation."""
    dialect = provider.dialect
    has_body = op.body_schema is not None
    headers_hook = provider.response_headers

    async def endpoint(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await answer(request)
        except Exception:  # a defect in the mock: the provider's 500, never a traceback
            log.exception("unexpected error answering %s %s", request.method, request.path)
            ctx = request.get(CTX_KEY)
            trace_id = ctx.trace_id if ctx is not None else ""
            err = dialect.pipeline_error("internal", "internal error")
            response = web.json_response(dialect.render(err, trace_id), status=err.status)
        journal.record(request, response.status, started)
        return response

    async def answer(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        ctx = RequestContext(request, state, provider, op, state.clock.now())
        request[CTX_KEY] = ctx
        extra_headers: dict[str, str] = {}
        effect: Effect | None = None
        try:
            decision = None
            if state.chaos.may_act(request.headers):
                ctx.key = bearer_key(request) or ""  # provisional, for chaos matching
                decision = await _decide_faults(ctx, has_body)
            if decision is not None:
                for source in decision.sources:
                    ctx.chose(source)
                if decision.delay:
                    await asyncio.sleep(decision.delay)
                effect = decision.effect
                if effect is not None and not effect.after:
                    if effect.type in ("reset", "empty"):
                        return await _deliver(request, 0, b"", {}, effect)
                    raise _fault_error(ctx, effect)
            ctx.key = provider.authenticate(ctx)
            _rate_limit(ctx)
            if op.query_schema is not None:
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
            if effect is not None and effect.type in ("status", "rate_limit"):
                raise _fault_error(ctx, effect)  # the work is done, the answer is lost
        except ChaosError as err:
            fault = ctx.error("invalid_params", str(err))
            status, payload = fault.status, dialect.render(fault, ctx.trace_id)
        except ApiError as err:
            status, payload = err.status, dialect.render(err, ctx.trace_id)
            extra_headers = err.headers
        if state.options.strict and effect is None:
            status, payload = _check_response(ctx, status, payload)
        if headers_hook is not None:
            extra_headers = {**headers_hook(ctx), **extra_headers}
        spoil = (
            effect if effect is not None and effect.type not in ("status", "rate_limit") else None
        )
        return await _deliver(request, status, _dumps(payload), extra_headers, spoil)

    endpoint.__name__ = f"{provider.name}_{op.operation_id}"
    return endpoint
