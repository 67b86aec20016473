"""``allProcessing`` of AI dubbing and caption removal (the reference's names beside the
seeds' ``processingRecord``): the caller's tasks not yet ended, newest first, a bare array,
each row as the family's detail shows it. [guess: the same answer as ``processingRecord``]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import caption, dubbing, provider
from mockserver.providers.a2e.common import ok, unfinished


@provider.handles("getApiV1UserDubbingAllProcessing")
async def dubbing_all_processing(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dubbing.row(t, ctx) for t in unfinished(ctx, dubbing.DUBBING)])


@provider.handles("getApiV1UserCaptionRemovalAllProcessing")
async def caption_all_processing(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [caption.row(t, ctx) for t in unfinished(ctx, caption.CAPTION)])
