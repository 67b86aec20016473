"""create_app(): the spec-driven aiohttp application.

route -> [chaos -> auth -> rate limit -> validate -> handler -> check -> chaos -> journal]
The bracketed part is pipeline.make_endpoint, one per spec operation. There is no middleware
anywhere, not even in the control API's sub-application (a single one would make aiohttp wrap
every request of the root app too): every request is journaled by what answers it (an
operation, the fallback route for unknown paths, the media and upload routes), which keeps
the poll path as short as the bare-aiohttp floor allows.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from aiohttp import web

from mockserver import admin, journal, media_routes
from mockserver.clock import RealClock, VirtualClock
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.keys import PROVIDERS_KEY, ROUTES_KEY, STATE_KEY
from mockserver.pipeline import make_endpoint
from mockserver.registry import Provider, bind, providers
from mockserver.scenario import Scenario
from mockserver.scenario import load as load_scenario
from mockserver.spec import load_operations
from mockserver.state import MockState, ServerOptions

log = logging.getLogger("avatar_mock")

_HTTP_KIND = {404: "no_route", 405: "method_not_allowed", 413: "too_large"}


def _provider_for(request: web.Request, enabled: list[Provider]) -> Provider | None:
    for provider in enabled:
        if provider.owns(request.path):
            return provider
    return None


def _refusal(request: web.Request, status: int, detail: str) -> web.Response:
    """An HTTP-level refusal (no route, bad method, too large) in the right dialect."""
    enabled: list[Provider] = request.app[PROVIDERS_KEY]
    provider = _provider_for(request, enabled)
    if provider is None:
        return web.json_response({"error": detail, "status": status}, status=status)
    err: ApiError = provider.dialect.pipeline_error(_HTTP_KIND.get(status, "internal"), detail)
    state = request.app[STATE_KEY]
    # No operation matched, but the provider's conventions hold all the same: its trace id,
    # its headers (YouCam's x-request-id on every answer).
    ctx = RequestContext(request, state, provider, None, state.clock.now())
    headers = provider.response_headers(ctx) if provider.response_headers else None
    return web.json_response(
        provider.dialect.render(err, ctx.trace_id), status=err.status, headers=headers
    )


def _template_regex(path: str) -> re.Pattern[str]:
    """``/a/{id}/b`` -> ``^/a/[^/]+/b$``."""
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def make_fallback(routes: list[dict[str, Any]]):
    """The last route: a path no operation serves gets the provider's 404, or 405 when the
    path exists with other methods. Journaled like any other answer."""
    templates: list[re.Pattern[str]] = []  # compiled on the first miss, not at start-up

    async def fallback(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        if not templates:
            templates.extend(_template_regex(r["path"]) for r in routes)
        allowed = any(pattern.match(request.path) for pattern in templates)
        response = _refusal(request, 405 if allowed else 404, "no such operation")
        if not request.path.startswith(admin.PREFIX):
            journal.record_unmatched(request, response.status, started)
        return response

    return fallback


def create_app(
    scenario: Scenario | None = None,
    clock: RealClock | VirtualClock | None = None,
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
    for provider in enabled:
        bound = bind(provider, load_operations(provider.name))
        # Static paths first, so /allRecords is never taken for an {_id}.
        bound.sort(key=lambda pair: "{" in pair[0].path)
        for op, handler in bound:
            app.router.add_route(op.method, op.path, make_endpoint(state, provider, op, handler))
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
    app.on_startup.append(state.webhooks.start)
    app.on_startup.append(state.retention.start)
    app.on_cleanup.append(state.webhooks.stop)
    app.on_cleanup.append(state.retention.stop)
    admin.setup(app)
    media_routes.setup(app)
    # last: nothing else matched ([\s\S], not ".", so a path with a decoded newline lands here too)
    app.router.add_route("*", "/{tail:[\\s\\S]*}", make_fallback(routes))
    return app
