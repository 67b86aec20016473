"""``allProcessing`` of AI dubbing and caption removal (the reference's names beside the
seeds' ``processingRecord``): the caller's tasks not yet ended, newest first, a bare array,
each row as the family's detail shows it. [guess: the same answer as ``processingRecord``]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import CAPTION, DUBBING
from mockserver.providers.a2e.models import caption_row, dubbing_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import unfinished


@handles("getApiV1UserDubbingAllProcessing")
async def dubbing_all_processing(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dubbing_row(t, ctx) for t in unfinished(ctx, DUBBING)])


@handles("getApiV1UserCaptionRemovalAllProcessing")
async def caption_all_processing(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [caption_row(t, ctx) for t in unfinished(ctx, CAPTION)])
