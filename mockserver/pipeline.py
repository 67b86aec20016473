"""One operation's way through the mock: chaos -> auth -> rate limit -> validate -> handler
-> check -> chaos -> journal.

Every refusal is raised as an :class:`ApiError` and rendered by the provider's dialect, so a
client only ever sees the provider's own envelope; a defect in the mock becomes the
provider's 500, never a traceback. A chaos effect (:mod:`mockserver.effects`) acts through
its own methods: before the work (``act`` instead of the handler), after it (``act`` instead
of the answer: the task exists, the client hears otherwise) and on the way out (``send``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import Any

import orjson
from aiohttp import web

from mockserver.auth import bearer_key
from mockserver.chaos import ChaosError, Spot, lenient_json
from mockserver.context import RequestContext
from mockserver.effects import Effect
from mockserver.errors import ApiError
from mockserver.jsonio import JsonError, loads_object, printable
from mockserver.params import ParamsError, ParamsReader, params_reader
from mockserver.registry import Handler, Provider
from mockserver.spec import Operation
from mockserver.state import MockState
from mockserver.validation import body_error, response_problem

log = logging.getLogger("avatar_mock")
JSON = "application/json"


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the slower, general path
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer, serialised as every answer of the mock is (compact, UTF-8)."""
    return web.Response(body=_dumps(payload), status=status, content_type=JSON, headers=headers)


def _rate_limit(ctx: RequestContext) -> None:
    wait = ctx.state.windows.admit(
        ctx.config.rate_limits, ctx.provider.name, ctx.key, ctx.client_ip, ctx.now
    )
    if wait is None:
        return
    if ctx.provider.on_refused is not None:
        ctx.provider.on_refused(ctx)
    seconds = str(math.ceil(wait))
    # The dialect words the wait its way (A2E, relay: in the message and Retry-After; YouCam:
    # neither); the scenario setting rate_limit_retry_after turns the header on or off.
    choice = ctx.settings.get("rate_limit_retry_after")
    err = ctx.error("rate_limited", "" if choice is False else seconds)
    if choice is True:
        err.headers = {**err.headers, "Retry-After": seconds}
    raise err


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


async def _chaos_before(ctx: RequestContext, has_body: bool) -> Effect | None:
    """Wait the delay chaos decided and return the effect it chose, if any."""
    chaos = ctx.state.chaos
    ctx.key = bearer_key(ctx.request) or ""  # provisional, for chaos matching
    body = None
    if has_body and chaos.needs_body:
        try:
            body = lenient_json(await ctx.request.read())
        except web.HTTPRequestEntityTooLarge:
            body = None
    decision = chaos.decide(Spot.of(ctx), body)
    if decision is None:
        return None
    for source in decision.sources:
        ctx.chose(source)
    if decision.delay:
        await asyncio.sleep(decision.delay)
    return decision.effect


def _journaled(
    ctx: RequestContext, response: web.StreamResponse, started: float
) -> web.StreamResponse:
    """Record the answer in the journal (status 0 when chaos dropped the connection)."""
    request = ctx.request
    ctx.state.journal.add(
        ctx.now,
        request.method,
        request.raw_path,
        response.status,
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
                    if effect is not None and effect.before_work:
                        if provider.on_refused is not None:
                            provider.on_refused(ctx)
                        instead = await effect.act(request, dialect)  # the work is not done
                        if instead is not None:
                            return _journaled(ctx, instead, started)
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
                    for name in op.body_integers:  # 2.0 passed as an integer: make it one
                        if ctx.body.get(name).__class__ is float:
                            ctx.body[name] = int(ctx.body[name])
                payload = await handler(ctx)
                status = 200
                if effect is not None and not effect.before_work:
                    # the work is done (the task exists, is charged); the answer is lost
                    instead = await effect.act(request, dialect)
                    if instead is not None:
                        return _journaled(ctx, instead, started)
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
            if effect is None:
                response = web.Response(
                    body=_dumps(payload), status=status, content_type=JSON, headers=headers
                )
            else:
                out = {**(headers or {}), "Content-Type": JSON}
                response = await effect.send(request, status, _dumps(payload), out)
        except Exception:  # a defect in the mock: the provider's 500, never a traceback
            log.exception("unexpected error answering %s %s", request.method, request.path)
            err = dialect.pipeline_error("internal", "internal error")
            response = json_answer(err.status, dialect.render(err, ctx.trace_id))
        return _journaled(ctx, response, started)

    endpoint.__name__ = f"{provider.name}_{op.operation_id}"
    return endpoint
