"""Talking video and talking photo: ``talkingVideo/*`` and ``talkingPhoto/*`` (catalog §13):
start, ``allRecords``, ``{_id}`` (GET, DELETE) for each.

Both walk ``initialized -> processing -> completed`` (or ``failed`` with ``failed_message``/
``failed_code``) (D17: a new task is ``initialized``; §14); ``result_url`` is an mp4 on the
mock once completed. A talking video costs ``costs.talking_video`` coins (13, D17's example),
a talking photo ``costs.talking_photo`` (0 by default: no price seen); charged at submit and
refunded on failure. The task shows ``coins`` and a ``cover_url`` (D17).

Choices where the catalog is silent, each [guess]: ``cover_url`` is a jpg on the mock from the
start (the first frame of the input); a row echoes the start fields (``duration`` 0 and
prompts ``""`` when not sent); ``duration`` of a talking photo is 1-10 s (C1).
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext, View
from mockserver.families import FamilySpec, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    iso_ms,
    outcome_fields,
    updated_at,
)
from mockserver.providers.a2e.task_endpoints import coins_rule
from mockserver.tasks import Task

TALKING_VIDEO = provider.family(
    TaskFamily(
        provider="a2e",
        name="talking_video",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
TALKING_PHOTO = provider.family(
    TaskFamily(
        provider="a2e",
        name="talking_photo",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
DEFAULT_FAILED_MESSAGE = "generation failed"


def _row(ctx: View, task: Task, source: str) -> dict[str, Any]:
    params = task.params
    return {
        "_id": task.id,
        "name": params["name"],
        source: params[source],
        "audio_url": params["audio_url"],
        "duration": params.get("duration", 0),
        "prompt": params.get("prompt", ""),
        "negative_prompt": params.get("negative_prompt", ""),
        **outcome_fields(ctx, task, DEFAULT_FAILED_MESSAGE),
        "cover_url": ctx.links.url(ctx.origin, "result.jpg", f"{task.id}_cover.jpg", None),
        "coins": (task.extra or {}).get("coins", 0),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


def video_row(task: Task, ctx: View) -> dict[str, Any]:
    return _row(ctx, task, "video_url")


def photo_row(task: Task, ctx: View) -> dict[str, Any]:
    return _row(ctx, task, "image_url")


@billing.prices("talkingVideo/start")
def video_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "talking_video", 13)}


@billing.prices("talkingPhoto/start")
def photo_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "talking_photo")}


provider.declare(
    FamilySpec(
        family=TALKING_VIDEO,
        render=video_row,
        price=coins_rule(video_price),
        submit="postApiV1TalkingVideoStart",
        status=(Status("getApiV1TalkingVideoId"),),
        list_all="getApiV1TalkingVideoAllRecords",
        batch="postApiV1TalkingVideoBatchDetail",
        delete=Status("deleteApiV1TalkingVideoId"),
    )
)
provider.declare(
    FamilySpec(
        family=TALKING_PHOTO,
        render=photo_row,
        price=coins_rule(photo_price),
        submit="postApiV1TalkingPhotoStart",
        status=(Status("getApiV1TalkingPhotoId"),),
        list_all="getApiV1TalkingPhotoAllRecords",
        batch="postApiV1TalkingPhotoBatchDetail",
        delete=Status("deleteApiV1TalkingPhotoId"),
    )
)
