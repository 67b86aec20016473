"""Who an A2E request acts for: ``Authorization: Bearer <token>``, an API key or a token the
mock issued (``login/account``, ``token/generate``) until it is deleted.

A refusal answers with the scenario's ``auth_error_status`` (dialect.py); logging in needs no
bearer.
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.a2e.dialect import unauthorized
from mockserver.providers.a2e.stores import ApiTokens

DEFAULT_AUTH_ERROR_STATUS = 401
# the reference declares no bearer for randomBackground
PUBLIC_OPERATIONS = frozenset(
    {"loginAccount", "loginAccountV1", "postApiV1CustomBackRandomBackground"}
)


def refusal(ctx: RequestContext) -> ApiError:
    """The 401 (or the scenario's ``auth_error_status``) for a key that does not pass."""
    return unauthorized(int(ctx.settings.get("auth_error_status", DEFAULT_AUTH_ERROR_STATUS)))


def authenticate(ctx: RequestContext) -> str:
    """The tenant the bearer acts for; refused when missing, unknown or a deleted token."""
    if ctx.operation.operation_id in PUBLIC_OPERATIONS:
        return ""
    key = bearer_key(ctx.request)
    issued = ApiTokens.of(ctx.state)  # its sets read in place: two calls less per request
    if key is None or key in issued.deleted:
        raise refusal(ctx)
    token = issued.tokens.get(key)
    if token is not None:  # a token the mock issued acts for its tenant
        return token.tenant
    if not ctx.state.accounts.known(key):
        raise refusal(ctx)
    return key
