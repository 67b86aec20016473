"""Who a YouCam request acts for, and the headers every answer carries.

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
from mockserver.providers.youcam.clientauth import token_tenant
from mockserver.providers.youcam.dialect import UNAUTHORIZED_MESSAGE
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
    if ctx.operation.operation_id in public_operations():
        return ""
    key = bearer_key(ctx.request)
    if key is not None:
        tenant = token_tenant(ctx.state, key, ctx.now)
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
