"""``batchDetail`` for the families whose handlers are written by hand: face swap tasks and
video twins (the reference's Face Swap and Video Twin sections).

``{ids: [...]}`` answers the caller's records among ``ids`` as a bare array, each as its
detail (``/{_id}``) shows it, in the order asked; unknown, foreign and deleted ids are left out
rather than refused, so one stale id does not cost a client the rest. [guess] At most 200 ids,
the limit the reference states for its other families. [guess]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import avatar, faceswap, provider
from mockserver.providers.a2e.common import ok
from mockserver.providers.a2e.task_endpoints import batch


@provider.handles("postApiV1UserFaceSwapTaskBatchDetail")
async def face_swap_batch_detail(ctx: RequestContext) -> dict[str, Any]:
    tasks = batch(ctx, faceswap.FACESWAP, ctx.body["ids"])
    return ok(ctx, [faceswap.record(ctx, t) for t in tasks])


@provider.handles("postApiV1UserVideoTwinBatchDetail")
async def video_twin_batch_detail(ctx: RequestContext) -> dict[str, Any]:
    tasks = batch(ctx, avatar.TWIN, ctx.body["ids"])
    return ok(ctx, [avatar.record(ctx, t) for t in tasks])
