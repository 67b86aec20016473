"""YouCam (Perfect Corp) server-to-server API: ``/s2s/v1.0``, ``/s2s/v2.0``, ``/s2s/v2.1``.

Catalog: shared/research/youcam-s2s-api.md. Envelope ``{"status": 200, "data": {...}}``;
task states ``running -> success | error``; units charged on success only; a running task not
polled within the polling window is gone (``InvalidTaskId``). Every AI feature is a row of
features.yaml; the handlers here are generic and bound per row.

A Bearer is an API key, or an access token from v1 ``client/auth`` while it lasts; a token
acts for the v1 client's own tenant, which no Bearer string can name (clientauth.py), so a
client_id given as a Bearer is only ever an API key of that spelling. The v1 endpoints speak
of access tokens (401 InvalidAccessToken), the v2 ones of API keys (401 InvalidApiKey); an
expired access token is InvalidAccessToken everywhere.
"""

from __future__ import annotations

from functools import cache

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.youcam.dialect import UNAUTHORIZED_MESSAGE, YouCamDialect
from mockserver.providers.youcam.stores import STORES
from mockserver.registry import Provider, register_provider
from mockserver.spec import load_document


@cache
def public_operations() -> frozenset[str]:
    """Operations the spec marks ``security: []`` (v1 client/auth)."""
    out = set()
    for item in (load_document("youcam").get("paths") or {}).values():
        for op in item.values():
            if isinstance(op, dict) and op.get("security") == []:
                out.add(op["operationId"])
    return frozenset(out)


def authenticate(ctx: RequestContext) -> str:
    # clientauth is this package's submodule, imported at the bottom of this file (it needs
    # ``provider``); a function-level import here would cost every request.
    if ctx.operation.operation_id in public_operations():
        return ""
    key = bearer_key(ctx.request)
    if key is not None:
        tenant = clientauth.token_tenant(ctx.state, key, ctx.now)
        if tenant is not None:
            return tenant
    if key is None or not ctx.state.accounts.known(key):
        if ctx.operation.path.startswith("/s2s/v1.0/"):
            raise ApiError(401, "InvalidAccessToken", "Unauthorized")
        message = ctx.settings.get("unauthorized_message") or UNAUTHORIZED_MESSAGE
        raise ApiError(401, "InvalidApiKey", message)
    return key


def response_headers(ctx: RequestContext) -> dict[str, str]:
    """Every YouCam answer carries a snowflake-like ``x-request-id``; no rate-limit headers."""
    return {"x-request-id": ctx.request_id}


provider = register_provider(
    Provider(
        name="youcam",
        path_prefixes=("/s2s/",),
        dialect=YouCamDialect(),
        authenticate=authenticate,
        response_headers=response_headers,
        stores=STORES,
    )
)

from mockserver.providers.youcam import (  # noqa: E402, F401  (register handlers)
    clientauth,
    files,
    tasks,
    templates,
    units,
    webhooks,
)

provider.extra_routes = files.setup_upload_route
provider.on_refused = tasks.touch_polled
# shim: removed when youcam converts (slots filled after the fact, in provider.py then)
provider.webhooks = webhooks.PLANNER
provider.configure = tasks.ensure_families
