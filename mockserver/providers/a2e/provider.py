"""The A2E Provider, every slot named: what A2E supplies to the core, in one place.

The handler modules register their special endpoints in :mod:`.routes` when imported here;
the task families are declarations (:mod:`.families`) bound by the one generic set of
handlers in :mod:`.task_endpoints`.
"""

from __future__ import annotations

from mockserver.families import FamilySpec
from mockserver.providers.a2e import (  # noqa: F401  (handler modules register in routes)
    accounting,
    auth,
    avatar,
    avatar_videos,
    background,
    background_lists,
    batch_details,
    custom_avatars,
    faceimage,
    families,
    model_families,
    model_webhooks,
    processing_lists,
    r2,
    r2_upload,
    retries,
    storage,
    streaming,
    task_endpoints,
    tokens,
    tts_previews,
    twin_sources,
    twin_trainings,
    user,
    video,
    voice,
    voice_records,
)
from mockserver.providers.a2e.dialect import A2EDialect
from mockserver.providers.a2e.routes import HANDLERS
from mockserver.providers.a2e.stores import STORES
from mockserver.registry import Provider, register_provider

provider = register_provider(
    Provider(
        name="a2e",
        path_prefixes=("/api/",),
        dialect=A2EDialect(),
        authenticate=auth.authenticate,
        response_headers=None,  # A2E puts nothing of its own on an answer
        # the model families' task.completed / task.failed, else image-to-video's webhook_url
        webhooks=model_webhooks.PLANNER,
        # the mock's stand-in for the R2 bucket that presigned uploads PUT to
        extra_routes=r2.setup_bucket_routes,
        # issued tokens, R2 credentials, streaming sessions, each task's record
        stores=STORES,
        configure=None,  # nothing derived from the config: settings and costs are read where used
        # one generic set of handlers per declared family (families.SPECS)
        bind_family=task_endpoints.bind,
        on_refused=None,
        handlers=HANDLERS,
    )
)

# The declared task families: a module of new families adds its SPECS here.
FAMILY_SPECS: tuple[FamilySpec, ...] = (*families.SPECS, *model_families.SPECS)
for _spec in FAMILY_SPECS:
    provider.declare(_spec)
