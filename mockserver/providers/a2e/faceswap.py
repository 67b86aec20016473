"""Face swap tasks: ``userFaceSwapTask/add``, ``/status``, ``/records``, ``/{_id}`` (GET, DELETE)
and ``/detail?_id=`` (the same record; catalog §7.9 says to serve both forms).

Catalog §7.6-7.10 and seed 004. A task goes ``initialized -> processing -> completed``, or ends
``failed``. Face swap keeps its own failure vocabulary: ``error_code`` (a string, ``"0"`` on
success, ``null`` while running) and ``faild_message`` (sic; ``null`` unless it failed).
Records add ``initialized_time``, ``processing_time`` and ``completed_time``: each the moment
the task entered that stage, ``null`` before it; ``completed_time`` is also set when the task
fails. [guess for null-before and for failures]

``video_url`` may be a video or an image (catalog §7.6): an image input gives an image result.
``duration`` is the input's length in seconds; the mock cannot see the input, so it reports
the length of the clip it serves back (1 s), 0 for an image. [guess]

``/status`` lists the caller's tasks newest first (the newest 100 [guess]); ``?_id=`` narrows
it to that task, or to ``[]`` when the id is unknown or another key's. [guess]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    deleted,
    image_fixture,
    iso_ms,
    iso_or_none,
    looks_like_image,
    lookup,
    mark_deleted,
    new_id,
    ok,
    result_link,
    rows_page,
    status_tasks,
    updated_at,
)
from mockserver.submit import submit_from
from mockserver.tasks import Task

FACESWAP = provider.family(
    TaskFamily(
        provider="a2e",
        name="faceswap",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
SERVED_CLIP_SECONDS = 1  # fixtures/media/result.mp4 lasts 1.000 s
DEFAULT_FAILED_MESSAGE = "face swap failed"


def _status_fields(ctx: RequestContext, task: Task) -> dict[str, Any]:
    """The five fields ``/status`` shows; every other view starts from these."""
    status = task.state(ctx.now)
    video_url = task.params["video_url"]
    fixture = image_fixture(video_url) if looks_like_image(video_url) else "result.mp4"
    error_code: str | None = None
    message: str | None = None
    if status == "completed":
        error_code = "0"
    elif status == "failed":
        failure = task.timeline.failure or {}
        error_code = str(failure.get("error_code") or "1")
        message = str(failure.get("faild_message") or DEFAULT_FAILED_MESSAGE)
    return {
        "current_status": status,
        "result_url": result_link(ctx, task, fixture) if status == "completed" else "",
        "error_code": error_code,
        "faild_message": message,
        "_id": task.id,
    }


def task_view(ctx: RequestContext, task: Task) -> dict[str, Any]:
    """The task as ``add`` answers it (catalog §7.6)."""
    params = task.params
    fields = _status_fields(ctx, task)
    return {
        "name": params["name"],
        "video_url": params["video_url"],
        "duration": 0 if looks_like_image(params["video_url"]) else SERVED_CLIP_SECONDS,
        "face_url": params["face_url"],
        "current_status": fields["current_status"],
        "result_url": fields["result_url"],
        "error_code": fields["error_code"],
        "faild_message": fields["faild_message"],
        "_id": task.id,
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


def record(ctx: RequestContext, task: Task) -> dict[str, Any]:
    """The task as ``records`` and ``/{_id}`` show it: §7.6 plus the three stage times."""
    now = ctx.now
    timeline = task.timeline

    def entered(state: str) -> str | None:
        at = timeline.entered_at(state)
        return iso_or_none(at if at is not None and at <= now else None)

    ended = timeline.ends_at if timeline.is_done(now) else None
    return {
        **task_view(ctx, task),
        "initialized_time": entered("initialized"),
        "processing_time": entered("processing"),
        "completed_time": iso_or_none(ended),
    }


@billing.prices("userFaceSwapTask/add")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "faceswap")}


@provider.handles("postApiV1UserFaceSwapTaskAdd")
async def add_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    cost = price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, cost)
    task = submit_from(ctx, FACESWAP, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, cost, "faceswap")
    return ok(ctx, task_view(ctx, task))


@provider.handles("getApiV1UserFaceSwapTaskStatus")
async def get_face_swap_task_status(ctx: RequestContext) -> dict[str, Any]:
    tasks = status_tasks(ctx, FACESWAP)
    return ok(ctx, [_status_fields(ctx, task) for task in tasks])


@provider.handles("getApiV1UserFaceSwapTaskRecords")
async def list_face_swap_tasks(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, FACESWAP, record))


@provider.handles("getApiV1UserFaceSwapTaskId")
async def get_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, record(ctx, lookup(ctx, FACESWAP, ctx.params["_id"])))


@provider.handles("getFaceSwapTaskDetail")
async def get_face_swap_task_detail(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, record(ctx, lookup(ctx, FACESWAP, ctx.params["_id"])))


@provider.handles("deleteApiV1UserFaceSwapTaskId")
async def delete_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, lookup(ctx, FACESWAP, ctx.params["_id"]))
    return deleted(ctx)
