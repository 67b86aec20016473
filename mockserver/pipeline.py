"""One operation's way through the mock: chaos -> auth -> rate limit -> validate -> handler
-> check -> chaos -> journal.

Every refusal is raised as an :class:`ApiError` and rendered by the provider's dialect, so a
client only ever sees the provider's own envelope; a defect in the mock becomes the
provider's 500, never a traceback.
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

from mockserver.auth import bearer_key
from mockserver.chaos import ChaosError, Effect, lenient_json
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.jsonio import JsonError, loads_object, printable
from mockserver.params import ParamsError, ParamsReader, params_reader
from mockserver.registry import Handler, Provider
from mockserver.spec import Operation
from mockserver.state import MockState
from mockserver.validation import body_error, response_problem

log = logging.getLogger("avatar_mock")
JSON = "application/json"
DROPS = ("reset", "empty")  # chaos effects that end the connection without an answer


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the slower, general path
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _rate_limit(ctx: RequestContext) -> None:
    wait = ctx.state.windows.admit(
        ctx.config.rate_limits, ctx.provider.name, ctx.key, ctx.client_ip, ctx.now
    )
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
        shown = printable(request.content_type)  # a header may hold undecodable bytes
        raise ctx.error("invalid_json", f"Content-Type {shown} is not JSON")
    try:  # from bytes, never through aiohttp's charset lookup (charset=foo was a 500)
        return loads_object(raw, charset=request.charset)
    except JsonError as exc:  # NaN, a lone surrogate, deep nesting, not UTF-8, not JSON
        raise ctx.error("invalid_json", str(exc)) from None


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
    """End the connection with no answer: RST for a reset, FIN for an empty reply (the
    journal shows status 0)."""
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


async def _chaos_before(ctx: RequestContext, has_body: bool) -> Effect | None:
    """Apply the delay chaos decided and return its effect on the answer, if any."""
    chaos = ctx.state.chaos
    ctx.key = bearer_key(ctx.request) or ""  # provisional, for chaos matching
    body = None
    if has_body and chaos.needs_body:
        try:
            body = lenient_json(await ctx.request.read())
        except web.HTTPRequestEntityTooLarge:
            body = None
    decision = chaos.decide(ctx, body)
    if decision is None:
        return None
    for source in decision.sources:
        ctx.chose(source)
    if decision.delay:
        await asyncio.sleep(decision.delay)
    return decision.effect


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
    if kind in DROPS:
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


def _journaled(
    ctx: RequestContext, response: web.StreamResponse, started: float, effect: Effect | None
) -> web.StreamResponse:
    """Record the answer in the journal (status 0 when chaos dropped the connection)."""
    request = ctx.request
    dropped = effect is not None and effect.type in DROPS
    ctx.state.journal.add(
        ctx.now,
        request.method,
        request.raw_path,
        0 if dropped else response.status,
        ctx.provider.name,
        ctx.operation.operation_id,
        ctx.key or None,
        request.remote,
        time.perf_counter() - started,
        ctx.chaos,
    )
    return response


def make_endpoint(state: MockState, provider: Provider, op: Operation, handler: Handler):
    """The aiohttp handler for one spec operation.

    Every poll a client makes comes through here, so the common case stays short: what an
    operation reads is decided once, chaos is consulted only when something may act, and the
    journal entry is a tuple of values already at hand.
    """
    dialect = provider.dialect
    authenticate = provider.authenticate
    headers_hook = provider.response_headers
    # What the operation reads, worked out on its first request: resolving every operation's
    # schemas at start-up would delay the first answer for operations never called.
    read_params: ParamsReader | None = None
    has_body = False
    ready = False

    async def endpoint(request: web.Request) -> web.StreamResponse:
        nonlocal read_params, has_body, ready
        started = time.perf_counter()
        ctx = RequestContext(request, state, provider, op, state.clock.now())
        effect: Effect | None = None
        try:
            if not ready:
                read_params, has_body, ready = params_reader(op), op.body_schema is not None, True
            headers: dict[str, str] | None = None
            try:
                if state.chaos.may_act(request.headers):
                    effect = await _chaos_before(ctx, has_body)
                    if effect is not None and not effect.after:
                        if effect.type in DROPS:
                            response = await _deliver(request, 0, b"", {}, effect)
                            return _journaled(ctx, response, started, effect)
                        raise _fault_error(ctx, effect)
                ctx.key = authenticate(ctx)
                if ctx.config.rate_limits:
                    _rate_limit(ctx)
                if read_params is not None:
                    ctx.params = read_params(request)
                if has_body:
                    ctx.body = await _read_body(ctx)
                    problem = body_error(op, ctx.body)
                    if problem:
                        raise ctx.error(*problem)
                payload = await handler(ctx)
                status = 200
                if effect is not None and effect.type in ("status", "rate_limit"):
                    raise _fault_error(ctx, effect)  # the work is done, the answer is lost
            except (ParamsError, ChaosError) as err:
                fault = ctx.error("invalid_params", str(err))
                status, payload = fault.status, dialect.render(fault, ctx.trace_id)
            except ApiError as err:
                status, payload = err.status, dialect.render(err, ctx.trace_id)
                headers = err.headers or None
            if state.options.strict and effect is None:
                status, payload = _check_response(ctx, status, payload)
            if headers_hook is not None:
                hooked = headers_hook(ctx)
                headers = hooked if headers is None else {**hooked, **headers}
            if effect is None or effect.type in ("status", "rate_limit"):
                response = web.Response(
                    body=_dumps(payload), status=status, content_type=JSON, headers=headers
                )
            else:
                response = await _deliver(request, status, _dumps(payload), headers or {}, effect)
        except Exception:  # a defect in the mock: the provider's 500, never a traceback
            log.exception("unexpected error answering %s %s", request.method, request.path)
            err = dialect.pipeline_error("internal", "internal error")
            response = web.json_response(dialect.render(err, ctx.trace_id), status=err.status)
        return _journaled(ctx, response, started, effect)

    endpoint.__name__ = f"{provider.name}_{op.operation_id}"
    return endpoint
