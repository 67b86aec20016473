"""Face swap previews: ``userFaceSwapPreview/add`` and ``/status`` (catalog §7.4, §7.5).

A preview swaps the face into one frame (D8's example ``video_url`` is an image). It walks
``initialized -> processing -> completed`` (or ``failed``) like a face swap task [inf §14], in
the face swap vocabulary: ``error_code`` (``"0"`` on success) and ``faild_message`` (sic).
``add`` answers ``{video_url, face_url, current_status, result_url, error_code,
faild_message, _id, user_id}`` (D8).

Choices where the catalog is silent, each [guess]:

- ``status`` answers an array, as ``userFaceSwapTask/status`` does (C11 parses an object or an
  array): the caller's previews newest first (the newest 100); ``?_id=`` narrows it to that
  preview, or ``[]`` when the id is unknown or another key's (a filter, not a lookup).
- ``result_url`` is an image on the mock (png for a png input, else jpg), or an mp4 when
  ``video_url`` is a video; ``video_url`` is ``""`` when not sent.
- ``error_code``/``faild_message`` are ``null`` while running (as face swap tasks).
- it costs ``costs.faceswap_preview`` coins (0 by default), refunded on failure.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import PREVIEW
from mockserver.providers.a2e.models import TaskRecord, preview_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import keep_record, new_id, status_tasks
from mockserver.submit import submit_from


@billing.prices("userFaceSwapPreview/add")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "faceswap_preview")}


@handles("addFaceSwapPreview")
async def add_face_swap_preview(ctx: RequestContext) -> dict[str, Any]:
    coins = price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, coins)
    task = submit_from(ctx, PREVIEW, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, keep_record(ctx, task, TaskRecord(coins)), "faceswap_preview")
    return ok(ctx, preview_row(task, ctx))


@handles("getFaceSwapPreviewStatus")
async def get_face_swap_preview_status(ctx: RequestContext) -> dict[str, Any]:
    tasks = status_tasks(ctx, PREVIEW)
    return ok(ctx, [preview_row(task, ctx) for task in tasks])
