"""A2E ("AI Avatar API", https://video.a2e.ai): the ``/api/v1/...`` endpoints.

Catalog: shared/research/a2e-api.md; contract: contracts/a2e/openapi.yaml; what is served of
the catalog: contracts/a2e/COVERAGE.md (``python contracts/a2e/coverage.py``). One module per
endpoint family: ``tokens`` (§2), ``voice`` (§3), ``video`` (§4), ``avatar`` (§4.3, §4.5,
§5), ``background`` (§6), ``faceswap``/``faceimage``/``facepreview`` (§7), ``dubbing`` (§8),
``image2video`` (§9), ``caption`` (§10), ``streaming`` (§11), ``user``/``storage`` (§12),
``talking``/``r2``/``accounting`` (§13). The envelope, ids, timestamps, lists, records and
links live in ``common``, coins, diamonds and prices in ``billing``, fixed lists in
``catalog``, refusals in ``dialect``; each module's docstring lists the choices it makes where
the catalog is silent, tagged [guess] or [inf].
"""

from __future__ import annotations

from mockserver.auth import bearer_key
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.a2e.dialect import A2EDialect, unauthorized
from mockserver.registry import Provider, register_provider

DEFAULT_AUTH_ERROR_STATUS = 401


def authenticate(ctx: RequestContext) -> str:
    """Read ``Authorization: Bearer <token>``; refuse with the scenario's auth_error_status.

    A token the mock issued (``login/account``, ``token/generate``) acts for its tenant until
    it is deleted; a deleted one is refused. Logging in needs no bearer.
    """
    if ctx.operation.operation_id in tokens.PUBLIC_OPERATIONS:
        return ""
    key = bearer_key(ctx.request)
    if key is None or tokens.was_deleted(ctx.state, key):
        raise _refusal(ctx)
    tenant = tokens.tenant_of(ctx.state, key)
    if tenant is not None:
        return tenant
    if not ctx.state.accounts.known(key):
        raise _refusal(ctx)
    return key


def _refusal(ctx: RequestContext) -> ApiError:
    return unauthorized(int(ctx.settings.get("auth_error_status", DEFAULT_AUTH_ERROR_STATUS)))


provider = register_provider(
    Provider(
        name="a2e",
        path_prefixes=("/api/",),
        dialect=A2EDialect(),
        authenticate=authenticate,
    )
)

from mockserver.providers.a2e import task_endpoints  # noqa: E402

provider.bind_family = task_endpoints.bind

from mockserver.providers.a2e import (  # noqa: E402, F401  (register handlers)
    accounting,
    avatar,
    avatar_videos,
    background,
    background_lists,
    batch_details,
    caption,
    custom_avatars,
    dubbing,
    faceimage,
    facepreview,
    faceswap,
    image2video,
    model_families,
    model_webhooks,
    processing_lists,
    r2,
    r2_upload,
    retries,
    storage,
    streaming,
    talking,
    tokens,
    tts_previews,
    twin_sources,
    twin_trainings,
    user,
    video,
    voice,
    voice_records,
    webhooks,
)

provider.extra_routes = r2.setup_bucket_routes
provider.webhooks = model_webhooks.PLANNER
