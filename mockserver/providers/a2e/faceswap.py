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
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.families import FACESWAP
from mockserver.providers.a2e.models import (
    TaskRecord,
    faceswap_added,
    faceswap_record,
    faceswap_status,
)
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    keep_record,
    lookup,
    mark_deleted,
    new_id,
    rows_page,
    status_tasks,
)
from mockserver.submit import submit_from


@billing.prices("userFaceSwapTask/add")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "faceswap")}


@handles("addFaceSwapTask")
async def add_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    cost = price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, cost)
    task = submit_from(ctx, FACESWAP, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, keep_record(ctx, task, TaskRecord(cost)), "faceswap")
    return ok(ctx, faceswap_added(task, ctx))


@handles("getFaceSwapTaskStatus")
async def get_face_swap_task_status(ctx: RequestContext) -> dict[str, Any]:
    tasks = status_tasks(ctx, FACESWAP)
    return ok(ctx, [faceswap_status(task, ctx) for task in tasks])


@handles("listFaceSwapTasks")
async def list_face_swap_tasks(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, FACESWAP, faceswap_record, ctx.params))


@handles("getFaceSwapTask")
async def get_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, faceswap_record(lookup(ctx, FACESWAP, ctx.params["_id"]), ctx))


@handles("getFaceSwapTaskDetail")
async def get_face_swap_task_detail(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, faceswap_record(lookup(ctx, FACESWAP, ctx.params["_id"]), ctx))


@handles("deleteFaceSwapTask")
async def delete_face_swap_task(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, lookup(ctx, FACESWAP, ctx.params["_id"]))
    return deleted(ctx)
