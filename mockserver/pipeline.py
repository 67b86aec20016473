"""One operation's way through the mock, as steps of one job each, composed per operation.

    chaos before -> authenticate -> limit -> read params -> read body -> handler
                 -> check response -> provider headers -> chaos after -> journal

Each step is a small function that can be called alone on a :class:`RequestContext`. A step
before the work refuses by raising an :class:`ApiError` (or a ``ParamsError``), which
:func:`refused` renders in the provider's dialect, so a client only ever sees the provider's
own envelope; a defect in the mock becomes the provider's 500 (:func:`internal_error`), never
a traceback. :func:`compose` picks, once per operation and scenario, only the steps it needs
(no body step for a bodyless operation, no rate-limit step while the scenario sets no limit for
the provider, no response check outside strict mode, no header step for a provider without
headers). ``PUT /__mock/scenario`` replaces the scenario under a running app, so an operation
is composed again on its first request under a new one; fault rules are read per request.

Chaos (:mod:`mockserver.effects`) acts through its own methods: before the work (``act``
instead of the handler), after it (``act`` instead of the answer: the task exists, the client
hears otherwise) and on the way out (``send``). There is no aiohttp middleware: every step is
a plain call on the request's own path, which keeps a poll as short as the floor allows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import hdrs, web

from mockserver.auth import bearer_key
from mockserver.binary import Binary
from mockserver.chaos import ChaosError, Spot, lenient_json
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.forms import read_form
from mockserver.jsonio import JsonError, loads_object, plain_object, printable
from mockserver.params import ParamsError, ParamsReader, params_reader
from mockserver.registry import Handler, Provider
from mockserver.scenario import Scenario
from mockserver.spec import Operation
from mockserver.state import MockState
from mockserver.validation import body_error, response_problem

if TYPE_CHECKING:
    from mockserver.effects import Effect  # imported with the first fault (chaos)

log = logging.getLogger("avatar_mock")
JSON = "application/json"
CONTENT_TYPE = hdrs.CONTENT_TYPE
FORM = "multipart/form-data"

Headers = dict[str, str] | None
Reply = tuple[int, Any, Headers]  # status, payload, extra headers
HeadersHook = Callable[[RequestContext], dict[str, str]]  # the provider's, on every answer
Authenticate = Callable[[RequestContext], str]  # the provider's: the caller's key, or refuses
Check = Callable[[RequestContext], None]  # a step before the work; refuses by raising
BodyStep = Callable[[RequestContext], Awaitable[None]]
Finish = Callable[[RequestContext, Reply], Reply]  # a step between the work and the wire
# What a step may raise to refuse; a defect (anything else) is the provider's 500.
REFUSALS = (ApiError, ParamsError, ChaosError)


def _dumps(payload: Any) -> bytes:
    if payload.__class__ is Binary:
        return payload.body  # type: ignore[no-any-return]
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the slower, general path
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer, serialised as every answer of the mock is (compact, UTF-8)."""
    return web.Response(body=_dumps(payload), status=status, content_type=JSON, headers=headers)


# --- the steps, in the order a request meets them ---------------------------------------------


async def chaos_before(ctx: RequestContext, has_body: bool) -> Effect | None:
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


def limit(ctx: RequestContext) -> None:
    """The scenario's request windows (composed only while the scenario sets some)."""
    rules = ctx.config.rate_limits
    if not rules:
        return
    wait = ctx.state.windows.admit(rules, ctx.provider.name, ctx.key, ctx.client_ip, ctx.now)
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


def body_reader(op: Operation) -> BodyStep:
    """The step that reads ``op``'s JSON body and checks it against the schema (compiled
    once, on the operation's first request); ``2.0`` for an integer field becomes ``2``
    (JSON Schema counts it as one, ``range`` in a handler would not).

    A body that arrived whole with its headers (a status read's does) is taken from the
    stream at once: ``request.read()`` waits on it in a loop, chunk by chunk, for the same
    bytes, and costs a status read more than its parse and check together. Read so, it is
    gone from the stream: later steps use ``ctx.body``, never ``request.read()``. Over the
    app's ``client_max_size`` it is refused as ``request.read()`` refuses it."""
    is_valid, integers = op.body_is_valid, op.body_integers

    async def read_body(ctx: RequestContext) -> None:
        request = ctx.request
        payload = request.content
        try:
            if payload.is_eof() and not payload.at_eof():  # it came whole, and is unread
                raw = payload.read_nowait()
                if len(raw) > request.client_max_size:
                    raise web.HTTPRequestEntityTooLarge(request.client_max_size, len(raw))
            else:  # still arriving, compressed, or read before (by chaos): aiohttp's read
                raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            limit = ctx.state.scenario.max_body_bytes
            raise ctx.error("too_large", f"request body over {limit} bytes") from exc
        body = None
        if request.headers.get(CONTENT_TYPE) == JSON:  # what clients send: no charset
            body = plain_object(raw)
        if body is None:  # anything else is looked at closely: accepted or refused
            body = _json_object(ctx, raw)
        ctx.body = body
        if is_valid is None or not is_valid(body):  # jsonschema explains, or finds it fine
            problem = body_error(op, body)
            if problem:
                raise ctx.error(*problem)
        if integers:
            for name in integers:
                if body.get(name).__class__ is float:
                    body[name] = int(body[name])

    if op.form_schema is None:
        return read_body

    async def read_form_or_body(ctx: RequestContext) -> None:
        """A multipart form where the operation takes one, else the JSON body."""
        if ctx.request.content_type != FORM:
            return await read_body(ctx)
        ctx.body = body = await read_form(ctx)
        problem = body_error(op, body, form=True)
        if problem:
            raise ctx.error(*problem)
        return None

    return read_form_or_body


def _json_object(ctx: RequestContext, raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or the provider's refusal (a plain call: the body is read
    by then, so no second coroutine per request)."""
    request = ctx.request
    if not raw or raw.isspace():  # no copy of the body, as raw.strip() would make
        if ctx.operation.body_required:
            raise ctx.error("invalid_params", "a JSON request body is required")
        return {}
    charset = None
    if request.headers.get(hdrs.CONTENT_TYPE) != JSON:  # what clients send: nothing to parse
        content_type, charset = request.content_type, request.charset
        if "json" not in content_type and content_type not in (
            "application/octet-stream",
            "text/plain",
        ):
            shown = printable(content_type)  # a header may hold undecodable bytes
            raise ctx.error("invalid_json", f"Content-Type {shown} is not JSON")
    try:  # from bytes, never through aiohttp's charset lookup (charset=foo was a 500)
        return loads_object(raw, charset=charset)
    except JsonError as exc:  # NaN, a lone surrogate, deep nesting, not UTF-8, not JSON
        raise ctx.error("invalid_json", str(exc)) from None


def refused(ctx: RequestContext, err: Exception) -> Reply:
    """A refusal as the provider words it: an ApiError as raised (with its headers), a bad
    parameter or chaos header as the provider's invalid-parameters answer."""
    if not isinstance(err, ApiError):
        err = ctx.error("invalid_params", str(err))
        return err.status, ctx.dialect.render(err, ctx.trace_id), None
    return err.status, ctx.dialect.render(err, ctx.trace_id), err.headers or None


def check_response(ctx: RequestContext, reply: Reply) -> Reply:
    """Strict mode: an answer that breaks the operation's schema is recorded and becomes
    the provider's 500, so a test sees the mock's own defect."""
    status, payload, headers = reply
    problem = response_problem(ctx.operation, status, payload)
    if problem is None:
        return reply
    op = ctx.operation
    ctx.state.violations.append(
        {"operation_id": op.operation_id, "status": status, "problem": problem, "body": payload}
    )
    log.error("response violates %s/%s: %s", op.provider, op.operation_id, problem)
    err = ctx.error("internal", f"response violates the contract: {problem}")
    return err.status, ctx.dialect.render(err, ctx.trace_id), headers


def provider_headers(ctx: RequestContext, hook: HeadersHook, headers: Headers) -> Headers:
    """The provider's own headers (YouCam's x-request-id), which go on every answer it gives,
    with the reply's ``headers``; a refusal's own (Retry-After) win."""
    hooked = hook(ctx)
    return hooked if headers is None else {**hooked, **headers}


def answer(ctx: RequestContext, reply: Reply, steps: Steps) -> web.Response:
    """The reply, finished by the operation's steps and headed by its provider, as JSON."""
    for step in steps.finish:
        reply = step(ctx, reply)
    status, payload, headers = reply
    if steps.headers is not None:
        headers = provider_headers(ctx, steps.headers, headers)
    if payload.__class__ is Binary:
        return _binary_response(status, payload, headers)
    return web.Response(body=_dumps(payload), status=status, content_type=JSON, headers=headers)


def _binary_response(status: int, payload: Binary, headers: Headers) -> web.Response:
    """Bytes a handler returned as they are (a video's content), with their own type."""
    extra = {**payload.headers, **(headers or {})}
    return web.Response(
        body=payload.body, status=status, content_type=payload.content_type, headers=extra
    )


async def spoil(
    ctx: RequestContext, effect: Effect, reply: Reply, steps: Steps
) -> web.StreamResponse:
    """The reply, headed by its provider (not checked: chaos broke it on purpose), sent the
    way ``effect`` sends it (truncated, malformed, dribbled...): the bytes carry the
    Content-Type, never a Content-Length."""
    status, payload, headers = reply
    if steps.headers is not None:
        headers = provider_headers(ctx, steps.headers, headers)
    kind = payload.content_type if payload.__class__ is Binary else JSON
    out = {**(headers or {}), "Content-Type": kind}
    return await effect.send(ctx.request, status, _dumps(payload), out)


def journal(ctx: RequestContext, response: web.StreamResponse, started: float) -> None:
    """Record the answer in the journal (status 0 when chaos dropped the connection), as the
    plain tuple the journal keeps (:class:`~mockserver.journal.Entry`'s fields, in order)."""
    request = ctx.request
    ctx.state.journal.add(
        (
            ctx.now,
            ctx.operation.method,  # the route answers this method only: no request.method
            request.raw_path,
            response.status,
            ctx.provider.name,
            ctx.operation.operation_id,
            ctx.key or None,
            request.remote,
            time.perf_counter() - started,
            ctx.chaos,
        )
    )


def internal_error(ctx: RequestContext) -> web.Response:
    """A defect in the mock: logged, and answered as the provider's 500."""
    request = ctx.request
    log.exception("unexpected error answering %s %s", request.method, request.path)
    err = ctx.dialect.pipeline_error("internal", "internal error")
    return json_answer(err.status, ctx.dialect.render(err, ctx.trace_id))


# --- composition --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Steps:
    """What one operation runs, in order; only the steps it needs."""

    authenticate: Authenticate  # the provider's own: its return value is the caller's key
    checks: tuple[Check, ...]  # after authenticating: the rate limit, when the scenario has one
    params: ParamsReader | None  # None: the operation declares no parameters
    body: BodyStep | None  # None: the operation takes no body
    handler: Handler
    finish: tuple[Finish, ...]  # on a plain answer: check the response (strict mode)
    headers: HeadersHook | None  # the provider's own headers, on every answer it gives


def compose(state: MockState, provider: Provider, op: Operation, handler: Handler) -> Steps:
    """The steps of ``op``, worked out from its spec, the provider, the server's options and
    the scenario in force (which only ``PUT /__mock/scenario`` changes: see :class:`_Composed`)."""
    checks: tuple[Check, ...] = ()
    if state.scenario.providers[provider.name].rate_limits:
        checks = (limit,)
    return Steps(
        provider.authenticate,
        checks,
        params_reader(op),
        body_reader(op) if op.takes_body else None,
        handler,
        (check_response,) if state.options.strict else (),
        provider.response_headers,
    )


async def work(ctx: RequestContext, steps: Steps) -> Reply:
    """The checks, the body and the handler: the operation's reply, or its refusal."""
    try:
        ctx.key = steps.authenticate(ctx)
        for check in steps.checks:
            check(ctx)
        if steps.params is not None:
            ctx.params = steps.params(ctx.request)
        if steps.body is not None:
            await steps.body(ctx)
        return 200, await steps.handler(ctx), None
    except REFUSALS as err:
        return refused(ctx, err)


async def _act_first(
    ctx: RequestContext, effect: Effect, steps: Steps
) -> Reply | web.StreamResponse:
    """An effect before the work: the provider hears of the refusal, the effect answers in
    place of the work (a refusal, a dropped connection) or lets the work go on."""
    if ctx.provider.on_refused is not None:
        ctx.provider.on_refused(ctx)
    try:
        instead = await effect.act(ctx.request, ctx.dialect)
    except REFUSALS as err:
        return refused(ctx, err)
    return instead if instead is not None else await work(ctx, steps)


async def _act_after(
    ctx: RequestContext, effect: Effect, steps: Steps
) -> Reply | web.StreamResponse:
    """An effect after the work: the task exists and is charged, then the effect answers in
    place of its answer (or lets it go out, to spoil it on the way)."""
    instead: web.StreamResponse | None = None

    async def handler_then_act(ctx: RequestContext) -> Any:
        nonlocal instead
        payload = await steps.handler(ctx)
        instead = await effect.act(ctx.request, ctx.dialect)
        return payload

    reply = await work(ctx, dataclasses.replace(steps, handler=handler_then_act))
    return reply if instead is None else instead


async def with_chaos(ctx: RequestContext, steps: Steps) -> web.StreamResponse:
    """The operation when chaos may act: the effect it chooses acts before the work or after
    it and sends the answer; no effect, and the operation runs as it would without chaos."""
    try:
        effect = await chaos_before(ctx, steps.body is not None)
    except ChaosError as err:  # a chaos header the mock cannot use
        return answer(ctx, refused(ctx, err), steps)
    if effect is None:
        return answer(ctx, await work(ctx, steps), steps)
    act = _act_first if effect.before_work else _act_after
    outcome = await act(ctx, effect, steps)
    if isinstance(outcome, web.StreamResponse):
        return outcome
    return await spoil(ctx, effect, outcome, steps)


class _Composed:
    """An operation's steps, composed on its first request under each scenario.

    Composing at start-up would resolve every operation's schemas (and compile their checks)
    before the first answer, for operations a session may never call. A replaced scenario
    (``PUT /__mock/scenario``) may add or drop rate limits, so the steps are composed again on
    the first request under it; every other request reads two slots and compares one.
    """

    __slots__ = ("_parts", "scenario", "steps")

    def __init__(self, state: MockState, provider: Provider, op: Operation, handler: Handler):
        self._parts = (state, provider, op, handler)
        self.scenario: Scenario | None = None
        self.steps: Steps | None = None

    def compose(self, scenario: Scenario) -> Steps:
        self.steps = steps = compose(*self._parts)
        self.scenario = scenario
        return steps


def make_endpoint(
    state: MockState, provider: Provider, op: Operation, handler: Handler
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler for one spec operation: its composed steps, the 500 guard and the
    journal. Every poll comes through here, so the common case (no chaos) is :func:`work`
    and :func:`answer` written out in place: one coroutine besides the handler's own."""
    composed = _Composed(state, provider, op, handler)
    perf_counter, dumps = time.perf_counter, orjson.dumps

    async def endpoint(request: web.Request) -> web.StreamResponse:
        started = perf_counter()
        ctx = RequestContext(request, state, provider, op, state.clock.now())
        response: web.StreamResponse
        try:
            steps = composed.steps
            if steps is None or composed.scenario is not state.scenario:
                steps = composed.compose(state.scenario)
            if state.chaos.may_act(request.headers):
                response = await with_chaos(ctx, steps)
            else:
                try:  # work(ctx, steps), in place
                    ctx.key = steps.authenticate(ctx)
                    for check in steps.checks:
                        check(ctx)
                    if steps.params is not None:
                        ctx.params = steps.params(request)
                    if steps.body is not None:
                        await steps.body(ctx)
                    reply: Reply = 200, await steps.handler(ctx), None
                except REFUSALS as err:
                    reply = refused(ctx, err)
                for finish in steps.finish:  # answer(ctx, reply, steps), in place
                    reply = finish(ctx, reply)
                status, payload, headers = reply
                if steps.headers is not None:
                    hooked = steps.headers(ctx)
                    headers = hooked if headers is None else {**hooked, **headers}
                if payload.__class__ is Binary:  # orjson would write a dataclass as JSON
                    response = _binary_response(status, payload, headers)
                else:
                    try:
                        body = dumps(payload)
                    except orjson.JSONEncodeError:
                        body = _dumps(payload)
                    response = web.Response(
                        body=body, status=status, content_type=JSON, headers=headers
                    )
        except Exception:  # a defect in the mock: the provider's 500, never a traceback
            response = internal_error(ctx)
        journal(ctx, response, started)
        return response

    endpoint.__name__ = f"{provider.name}_{op.operation_id}"
    return endpoint
