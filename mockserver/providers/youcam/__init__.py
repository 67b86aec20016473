"""YouCam (Perfect Corp) server-to-server API: ``/s2s/v1.0``, ``/s2s/v2.0``, ``/s2s/v2.1``.

Catalog: shared/research/youcam-s2s-api.md. Envelope ``{"status": 200, "data": {...}}``;
task states ``running -> success | error``; units charged on success only; a running task not
polled within the polling window is gone (``InvalidTaskId``).
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.youcam.dialect import UNAUTHORIZED_MESSAGE, YouCamDialect
from mockserver.registry import Provider, register_provider


def authenticate(ctx: RequestContext) -> str:
    key = bearer_key(ctx.request)
    if key is None or not ctx.state.accounts.known(key):
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
    )
)

from mockserver.providers.youcam import files, tasks, templates  # noqa: E402, F401  (register handlers)

provider.extra_routes = files.setup_upload_route
