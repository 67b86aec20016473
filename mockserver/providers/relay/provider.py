"""The relay's Provider: every slot it fills, named here.

new-api style gateway in front of DreamFace talking avatars (``/avatar/...``); catalog
shared/research/avatar-relay-api.md. The gateway checks the Bearer key, puts its request id
on every answer and sends the unsigned ``notify_hook``; the task families are declared in
:mod:`mockserver.providers.relay.families` and bound by the generic handlers.
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.providers.relay import handlers, webhooks
from mockserver.providers.relay.dialect import RelayDialect, unauthorized
from mockserver.providers.relay.openai_dialect import OpenAIDialect
from mockserver.registry import Provider, register_provider


def authenticate(ctx: RequestContext) -> str:
    key = bearer_key(ctx.request)
    if key is None or not ctx.state.accounts.known(key):
        raise unauthorized(ctx.settings.get("unauthorized_style"), ctx.request_id)
    return key


def response_headers(ctx: RequestContext) -> dict[str, str]:
    """new-api puts its request id on every answer (middleware/request-id.go) [CODE R2]."""
    return {"X-Oneapi-Request-Id": ctx.request_id}


RELAY = RelayDialect()

provider = register_provider(
    Provider(
        name="relay",
        path_prefixes=("/avatar/", "/v1/video/", "/v1/videos", "/suno/", "/kling/"),
        dialect=RELAY,
        # the OpenAI-compatible video routes (x-dialect: openai) refuse in OpenAI's envelope
        dialects={"openai": OpenAIDialect(RELAY)},
        authenticate=authenticate,
        response_headers=response_headers,
        webhooks=webhooks.PLANNER,
        extra_routes=None,
        stores=(),  # the relay keeps nothing beside its tasks and the quota
        configure=None,  # nothing derived from the config: settings are read where used
        bind_family=handlers.bind_family,
        on_refused=None,
    )
)
