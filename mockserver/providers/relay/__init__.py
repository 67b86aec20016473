"""Avatar relay (new-api style gateway in front of DreamFace talking avatars): ``/avatar/...``.

Catalog: shared/research/avatar-relay-api.md; seed 001. Envelope
``{"code": "success", "message": "", "data": ...}``; task states
``NOT_START -> SUBMITTED -> QUEUED -> IN_PROGRESS -> SUCCESS | FAILURE``; quota taken at submit
and given back when a task fails.
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.providers.relay.dialect import RelayDialect, unauthorized
from mockserver.registry import Provider, register_provider


def authenticate(ctx: RequestContext) -> str:
    key = bearer_key(ctx.request)
    if key is None or not ctx.state.accounts.known(key):
        raise unauthorized(ctx.settings.get("unauthorized_style"), ctx.request_id)
    return key


def response_headers(ctx: RequestContext) -> dict[str, str]:
    """new-api puts its request id on every answer (middleware/request-id.go) [CODE R2]."""
    return {"X-Oneapi-Request-Id": ctx.request_id}


provider = register_provider(
    Provider(
        name="relay",
        path_prefixes=("/avatar/",),
        dialect=RelayDialect(),
        authenticate=authenticate,
        response_headers=response_headers,
    )
)

from mockserver.providers.relay import tasks, voices, webhooks  # noqa: E402, F401

provider.webhooks = webhooks.PLANNER  # shim: removed when relay converts (named in provider.py)
