"""A2E ("AI Avatar API", https://video.a2e.ai): the ``/api/v1/...`` endpoints.

Catalog: shared/research/a2e-api.md; contract: contracts/a2e/openapi.yaml. One module per
endpoint family (``video``, ``image2video``, ``faceswap``, ``user``); the envelope, ids,
timestamps, lists and links live in ``common``, coins in ``billing``, refusals in ``dialect``
(whose docstring lists every choice made where the catalog is silent).
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import A2EDialect, unauthorized
from mockserver.registry import Provider, register_provider

DEFAULT_AUTH_ERROR_STATUS = 401


def authenticate(ctx: RequestContext) -> str:
    """Read ``Authorization: Bearer <token>``; refuse with the scenario's auth_error_status."""
    key = bearer_key(ctx.request)
    if key is None or not ctx.state.accounts.known(key):
        raise unauthorized(int(ctx.settings.get("auth_error_status", DEFAULT_AUTH_ERROR_STATUS)))
    return key


provider = register_provider(
    Provider(
        name="a2e",
        path_prefixes=("/api/",),
        dialect=A2EDialect(),
        authenticate=authenticate,
    )
)

from mockserver.providers.a2e import faceswap, image2video, user, video  # noqa: E402, F401  (register handlers)
