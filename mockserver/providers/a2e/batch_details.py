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
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import FACESWAP, TWIN
from mockserver.providers.a2e.models import faceswap_row, twin_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import batch


@handles("postApiV1UserFaceSwapTaskBatchDetail")
async def face_swap_batch_detail(ctx: RequestContext) -> dict[str, Any]:
    tasks = batch(ctx, FACESWAP, ctx.body["ids"])
    return ok(ctx, [faceswap_row(t, ctx) for t in tasks])


@handles("postApiV1UserVideoTwinBatchDetail")
async def video_twin_batch_detail(ctx: RequestContext) -> dict[str, Any]:
    tasks = batch(ctx, TWIN, ctx.body["ids"])
    return ok(ctx, [twin_row(t, ctx) for t in tasks])
