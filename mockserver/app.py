"""create_app(): the spec-driven aiohttp application.

route -> [chaos -> auth -> rate limit -> validate -> handler -> check -> chaos -> journal]
The bracketed part is pipeline.make_endpoint, one per spec operation; the mock's own routes
(media, uploads, the fallback for unknown paths) consult chaos through chaos.with_chaos.
There is no middleware anywhere, not even in the control API's sub-application (a single one
would make aiohttp wrap every request of the root app too): every request is journaled by
what answers it (an operation, the fallback route for unknown paths, the media and upload
routes), which keeps the poll path as short as the bare-aiohttp floor allows. The one
exception is a state backend other than memory (``--state``): then one middleware reads what
other replicas changed before each request (:func:`_persist`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mockserver import admin, journal, media_routes
from mockserver.backends import Conflict
from mockserver.cas import ATTEMPT, RUNS, Attempt, backoff, keep_body, replayable
from mockserver.chaos import UNROUTED, with_chaos
from mockserver.clock import Clock, VirtualClock
from mockserver.context import RequestContext
from mockserver.errors import ApiError, ControlDialect
from mockserver.keys import OPERATIONS_KEY, PROVIDERS_KEY, ROUTES_KEY, STATE_KEY
from mockserver.lazyroutes import RouteAdder
from mockserver.pipeline import json_answer, make_endpoint
from mockserver.registry import Provider, bind, providers
from mockserver.scenario import Scenario
from mockserver.scenario import load as load_scenario
from mockserver.spec import Operation, load_operations
from mockserver.state import MockState, ServerOptions
from mockserver.stateurl import MEMORY

if TYPE_CHECKING:
    from mockserver.fleet import Endpoints

log = logging.getLogger("avatar_mock")

CONTROL = ControlDialect()


def _provider_for(request: web.Request, enabled: list[Provider]) -> Provider | None:
    for provider in enabled:
        if provider.owns(request.path):
            return provider
    return None


def _answer(
    request: web.Request, provider: Provider | None, err: ApiError, op: Operation | None = None
) -> web.Response:
    """A refusal outside any operation, in the dialect of the provider whose path it is (the
    mock's own ``{"error", "status"}`` elsewhere), serialised as every other answer."""
    headers = dict(err.headers)
    if provider is None:
        return json_answer(err.status, CONTROL.render(err, ""), headers or None)
    state = request.app[STATE_KEY]
    # No operation matched, but the provider's conventions hold all the same: its trace id,
    # its headers (YouCam's x-request-id on every answer).
    # No operation matched (a 405 names one served at the path): the provider's hooks read none.
    now = state.clock.now()
    ctx = RequestContext(request, state, provider, op, now)  # type: ignore[arg-type]
    if provider.response_headers is not None:
        headers = {**provider.response_headers(ctx), **headers}
    return json_answer(err.status, ctx.dialect.render(err, ctx.trace_id), headers or None)


async def _allowed_methods(
    request: web.Request, fallback: web.AbstractResource | None
) -> tuple[set[str], Operation | None]:
    """The methods some other route serves at this path (empty: no route has the path), and
    an operation served there (whose dialect a 405 speaks)."""
    allowed: set[str] = set()
    served = request.app[OPERATIONS_KEY]
    op = None
    for resource in request.app.router.resources():
        if resource is not fallback:
            methods = (await resource.resolve(request))[1]
            allowed |= methods
            if methods and op is None:
                op = served.get(resource)
    return allowed, op


def make_fallback():
    """The last route: a path no route serves gets the provider's 404, or 405 with ``Allow``
    when the path exists with other methods. Chaos reaches it as ``mock:unrouted`` (a 429
    storm limits the whole host); journaled like any other answer."""

    async def fallback(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        allowed, op = await _allowed_methods(request, request.match_info.route.resource)
        provider = _provider_for(request, request.app[PROVIDERS_KEY])
        dialect = provider.dialect_for(op) if provider is not None else CONTROL
        if allowed:
            err = dialect.pipeline_error("method_not_allowed", "no such operation")
            err.headers = {**err.headers, "Allow": ", ".join(sorted(allowed))}
        else:
            err = dialect.pipeline_error("no_route", "no such operation")

        async def refuse() -> web.StreamResponse:
            return _answer(request, provider, err, op)

        control = request.path.startswith(admin.PREFIX)  # the control plane takes no chaos
        if not control and request.app[STATE_KEY].chaos.may_act(request.headers):
            response = await with_chaos(
                request,
                refuse,
                operation=UNROUTED,
                provider=provider.name if provider is not None else None,
                dialect=dialect,
                answer=lambda fault: _answer(request, provider, fault, op),
            )
        else:
            response = await refuse()
        if not control:
            journal.record_unmatched(request, response.status, started)
        return response

    return fallback


def _persist(app: web.Application, state: MockState, url: str, endpoints: Endpoints) -> None:
    """On a state backend: load it before serving, pull what other replicas changed before
    each request (counting its rate-limit windows in the same read: mockserver.fleet), write
    each answer's changes before the answer leaves, flush and close at the end. Memory adds
    nothing to any request (no middleware, no signal), and imports neither the backends nor
    the fleet (~8 ms of start-up)."""
    if url == MEMORY:
        return
    from mockserver.fleet import Fleet
    from mockserver.persist import persistence_for

    persist = persistence_for(state, url)
    if persist is None:
        return
    state.persist = persist
    fleet = Fleet(state, persist, endpoints)

    def unavailable(doing: str, detail: str = "") -> web.Response:
        err = {"error": f"the state store {persist.url} cannot be {doing}{detail}", "status": 503}
        return json_answer(503, err, {"Retry-After": "1"})

    async def once(request: web.Request, handler: Any, counted: Any, attempt: Attempt) -> Any:
        """One attempt: its answer and whether it stands, or the 503 a failed write gets."""
        token = ATTEMPT.set(attempt)
        try:
            try:  # written before the answer leaves (a streamed one: on_response_prepare)
                response = await fleet.answer(request, handler, counted)
            except Conflict:  # a streamed answer's write was refused: nothing was sent
                return None, False
            try:
                return response, await persist.committed(attempt)
            except Exception:  # not kept, so not acknowledged
                return unavailable("written", "; what this request changed is not kept"), True
        finally:
            ATTEMPT.reset(token)

    @web.middleware
    async def pull(request: web.Request, handler: Any) -> web.StreamResponse:
        attempt = Attempt(persist.done())
        try:
            counted = await fleet.pull(request)  # what other replicas changed, before this
            if request.body_exists:
                await keep_body(request)  # a rerun reads it again
        except Exception:  # the store went away: say so, never answer from a stale copy
            log.exception("state: cannot read %s", persist.url)
            return unavailable("read")
        try:
            response, stands = await once(request, handler, counted, attempt)
            run = 1
            while not stands and run < RUNS and replayable(request):
                await backoff(run)  # another replica's write came first: again, on its state
                attempt = Attempt(persist.done())
                try:
                    await persist.pull()
                except Exception:
                    log.exception("state: cannot read %s", persist.url)
                    return unavailable("read")
                response, stands = await once(request, handler, counted, attempt)
                run += 1
        finally:
            await fleet.settled(counted, attempt.held)
        if not stands:
            return unavailable("written", ": other replicas kept changing what it read")
        return response  # type: ignore[no-any-return]

    app.middlewares.append(pull)
    app.on_startup.append(persist.start)
    app.on_response_prepare.append(persist.flush)
    app.on_cleanup.append(fleet.journal.drain)  # what waits for the fleet's journal, first
    app.on_cleanup.append(persist.stop)


def create_app(
    scenario: Scenario | None = None,
    clock: Clock | None = None,
    options: ServerOptions | None = None,
) -> web.Application:
    """The mock as an aiohttp application; routes come from the providers' OpenAPI documents."""
    scenario = scenario or load_scenario()
    options = options or ServerOptions()
    state = MockState(clock or VirtualClock(speed=1.0), scenario, options)
    app = web.Application(client_max_size=scenario.max_body_bytes)
    app[STATE_KEY] = state
    registered = providers()
    names = options.providers or tuple(registered)
    unknown = sorted(set(names) - set(registered))
    if unknown:
        raise ValueError(
            f"unknown provider(s): {', '.join(unknown)}; known: {', '.join(registered)}"
        )
    enabled = [registered[name] for name in names]
    app[PROVIDERS_KEY] = enabled
    routes: list[dict[str, Any]] = []
    served: dict[web.AbstractResource, Operation] = {}
    endpoints: Endpoints = {}
    for provider in enabled:
        bound = bind(provider, load_operations(provider.name))
        # Static paths first, so /allRecords is never taken for an {_id}.
        bound.sort(key=lambda pair: "{" in pair[0].path)
        adder = RouteAdder(app.router)  # templated paths compile their regex on first match
        for op, handler in bound:
            route = adder.add(op.method, op.path, make_endpoint(state, provider, op, handler))
            endpoints[route] = (provider, op)
            served.setdefault(route.resource, op)  # type: ignore[arg-type]
            routes.append(
                {
                    "provider": provider.name,
                    "method": op.method,
                    "path": op.path,
                    "operation_id": op.operation_id,
                }
            )
        if provider.extra_routes is not None:
            provider.extra_routes(app)
    app[ROUTES_KEY] = routes
    app[OPERATIONS_KEY] = served
    _persist(app, state, options.state, endpoints)
    app.on_startup.append(state.webhooks.start)
    app.on_startup.append(state.retention.start)
    app.on_cleanup.append(state.webhooks.stop)
    app.on_cleanup.append(state.uploads.close)  # spooled upload files
    app.on_cleanup.append(state.retention.stop)
    admin.setup(app)
    media_routes.setup(app)
    # last: nothing else matched ([\s\S], not ".", so a path with a decoded newline lands here too)
    app.router.add_route("*", "/{tail:[\\s\\S]*}", make_fallback())
    return app
