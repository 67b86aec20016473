"""Avatar videos: ``video/generate``, ``video/awsResult`` (POST, answers an array), ``awsList``.

Catalog §4.1, §4.2, §4.4 and seed 002. A video walks ``init -> start -> pending -> process ->
copy -> success``; a failing one fails while rendering (``process -> fail``) with the reason
in ``msg``. ``process`` is 0 until rendering starts, climbs 0..99 through ``process`` and is
100 at ``copy`` and ``success``; a failed row keeps the value it reached (99). [guess]
``result`` is ``""`` until ``success``, then an mp4 on the mock. ``diff_s`` is the whole seconds
since ``createdAt`` and ``current_date`` the server's clock (UTC+8), as the D2 example shows. [inf]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    current_page,
    iso_ms,
    lookup,
    new_id,
    ok,
    result_link,
    server_date,
)
from mockserver.submit import submit
from mockserver.tasks import Task

VIDEO = provider.family(
    TaskFamily(
        provider="a2e",
        name="video",
        states=("init", "start", "pending", "process", "copy"),
        success="success",
        failure="fail",
        fails_after="process",
    )
)
PROCESS_REACHED_AT_FAIL = 99  # [guess] a render that fails keeps the progress it had
DEFAULT_FAIL_MSG = "algorithm error"


def _process(task: Task, status: str, now: float) -> int:
    if status in ("copy", "success"):
        return 100
    if status == "process":
        return min(int(task.timeline.fraction_through(now) * 100), 99)
    if status == "fail" and "process" in task.timeline.states:
        return PROCESS_REACHED_AT_FAIL
    return 0


def row(ctx: RequestContext, task: Task) -> dict[str, Any]:
    """One video as ``awsResult`` and ``awsList`` show it (the 17 fields of catalog §4.4)."""
    now = ctx.now
    status = task.state(now)
    params = task.params
    succeeded = status == "success"
    failure = task.timeline.failure if status == "fail" else None
    return {
        "_id": task.id,
        "msg": (str((failure or {}).get("msg") or DEFAULT_FAIL_MSG)) if status == "fail" else "",
        "result": result_link(ctx, task) if succeeded else "",
        "process": _process(task, status, now),
        "status": status,
        "anchor_type": str(int(params["anchor_type"])),
        "web_bg_width": params.get("web_bg_width", 0),
        "web_bg_height": params.get("web_bg_height", 0),
        "color": params.get("color", ""),
        "result_people_url": (
            result_link(ctx, task, "result.mp4", f"{task.id}_people.mp4") if succeeded else ""
        ),
        "result_bg_url": (
            result_link(ctx, task, "result.jpg", f"{task.id}_bg.jpg") if succeeded else ""
        ),
        "anchor_id": params["anchor_id"],
        "replace_bg_id": params.get("back_id", ""),
        "custom_backs_id": None,
        "createdAt": iso_ms(task.created_at),
        "diff_s": max(int(now - task.created_at), 0),
        "current_date": server_date(now),
    }


@provider.handles("generateVideo")
async def generate_video(ctx: RequestContext) -> dict[str, Any]:
    cost = billing.cost_of(ctx, "video")
    billing.require(ctx, cost)
    task = submit(ctx, VIDEO, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, cost, "video")
    return ok(ctx, row(ctx, task))


@provider.handles("getVideoResult")
async def get_video_result(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, VIDEO, ctx.body["_id"])
    return ok(ctx, [row(ctx, task)])


@provider.handles("listVideos")
async def list_videos(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, current_page(ctx, VIDEO, row))
