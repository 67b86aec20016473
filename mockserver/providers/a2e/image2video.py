"""Image to video: ``userImage2Video/start``, ``/{_id}`` (GET, DELETE), ``/allRecords``.

Catalog §9 and seed 003. A task goes ``sent -> pending -> completed``, or ends ``failed`` with
``failed_message`` and ``failed_code`` (strings, ``""`` until then). It costs
``costs.image2video_per_5s`` coins per 5 seconds of ``video_time`` (5, 10, 15 or 20; default
5), charged at submit and refunded on failure. A2E's documented misspelling ``negative_prmpt``
is accepted beside ``negative_prompt`` and shown back as ``negative_prompt``.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext, View
from mockserver.families import FamilySpec, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    iso_ms,
    result_link,
)
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.task_endpoints import coins_rule
from mockserver.tasks import Task

IMAGE2VIDEO = provider.family(
    TaskFamily(
        provider="a2e",
        name="image2video",
        states=("sent", "pending"),
        success="completed",
        failure="failed",
    )
)
DEFAULT_VIDEO_TIME = 5
VIDEO_TIMES = (5, 10, 15, 20)
DEFAULT_FAILED_MESSAGE = "Video generation failed"


def coins_for(ctx: RequestContext, video_time: int, model_version: str = "a2e") -> int | float:
    """``costs.image2video_per_5s``, or ``image2video_per_5s:<model_version>`` where the
    scenario prices that version apart (a2e-v2 "costs more per second"; a2e-v2-flash "uses
    a2e pricing") [doc]; an omitted version is a2e, the default of every role but Ultra."""
    base = billing.cost_of(ctx, "image2video_per_5s", 100)
    per_5s = billing.cost_of(ctx, f"image2video_per_5s:{model_version}", base)
    coins = per_5s * video_time / 5
    return int(coins) if coins.is_integer() else coins


def row(task: Task, ctx: View) -> dict[str, Any]:
    """One task as start, ``/{_id}`` and ``allRecords`` show it (seed 003)."""
    status = task.state(ctx.now)
    params = task.params
    failure = (task.timeline.failure or {}) if status == "failed" else None
    return {
        "_id": task.id,
        "name": params["name"],
        "image_url": params["image_url"],
        "prompt": params["prompt"],
        "negative_prompt": params.get("negative_prompt", params.get("negative_prmpt", "")),
        "current_status": status,
        "coins": (task.extra or {}).get("coins", 0),
        "createdAt": iso_ms(task.created_at),
        "failed_message": (
            str(failure.get("failed_message") or DEFAULT_FAILED_MESSAGE)
            if failure is not None
            else ""
        ),
        "failed_code": str(failure.get("failed_code") or "") if failure is not None else "",
        "result_url": result_link(ctx, task) if status == "completed" else "",
    }


@billing.prices("userImage2Video/start")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    video_time = body.get("video_time", DEFAULT_VIDEO_TIME)
    if video_time not in VIDEO_TIMES:
        raise bad_request(f"video_time must be one of {', '.join(map(str, VIDEO_TIMES))}")
    return {billing.COINS: coins_for(ctx, video_time, str(body.get("model_version", "a2e")))}


provider.declare(
    FamilySpec(
        family=IMAGE2VIDEO,
        render=row,
        price=coins_rule(price),
        submit="postApiV1UserImage2VideoStart",
        status=(Status("getApiV1UserImage2VideoId"),),
        list_all="getApiV1UserImage2VideoAllRecords",
        delete=Status("deleteApiV1UserImage2VideoId"),
    )
)
