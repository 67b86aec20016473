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
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    image_fixture,
    looks_like_image,
    new_id,
    ok,
    result_link,
    status_tasks,
    user_id,
)
from mockserver.submit import submit_from
from mockserver.tasks import Task

PREVIEW = provider.family(
    TaskFamily(
        provider="a2e",
        name="faceswap_preview",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
DEFAULT_FAILED_MESSAGE = "face swap preview failed"


def row(ctx: RequestContext, task: Task) -> dict[str, Any]:
    status = task.state(ctx.now)
    video_url = task.params.get("video_url", "")
    fixture = image_fixture(video_url) if looks_like_image(video_url) or not video_url else None
    error_code: str | None = None
    message: str | None = None
    if status == PREVIEW.success:
        error_code = "0"
    elif status == PREVIEW.failure:
        failure = task.timeline.failure or {}
        error_code = str(failure.get("error_code") or "1")
        message = str(failure.get("faild_message") or DEFAULT_FAILED_MESSAGE)
    done = status == PREVIEW.success
    return {
        "video_url": video_url,
        "face_url": task.params["face_url"],
        "current_status": status,
        "result_url": result_link(ctx, task, fixture or "result.mp4") if done else "",
        "error_code": error_code,
        "faild_message": message,
        "_id": task.id,
        "user_id": user_id(task.tenant),
    }


@billing.prices("userFaceSwapPreview/add")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "faceswap_preview")}


@provider.handles("postApiV1UserFaceSwapPreviewAdd")
async def add_face_swap_preview(ctx: RequestContext) -> dict[str, Any]:
    coins = price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, coins)
    task = submit_from(ctx, PREVIEW, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, coins, "faceswap_preview")
    return ok(ctx, row(ctx, task))


@provider.handles("getApiV1UserFaceSwapPreviewStatus")
async def get_face_swap_preview_status(ctx: RequestContext) -> dict[str, Any]:
    tasks = status_tasks(ctx, PREVIEW)
    return ok(ctx, [row(ctx, task) for task in tasks])
