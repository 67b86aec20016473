"""Avatar videos: ``video/generate``, ``video/awsResult`` (POST, answers an array), ``awsList``,
``video/{_id}`` (DELETE), ``awsList`` by POST too (the older docs' form, paging in the body), and
the two helpers ``video/lang_classify`` and
``video/auto-public-pool``.

Catalog §4.1, §4.2, §4.4 and seed 002. A video walks ``init -> start -> pending -> process ->
copy -> success``; a failing one fails while rendering (``process -> fail``) with the reason
in ``msg``. ``process`` is 0 until rendering starts, climbs 0..99 through ``process`` and is
100 at ``copy`` and ``success``; a failed row keeps the value it reached (99). [guess]
``result`` is ``""`` until ``success``, then an mp4 on the mock. ``diff_s`` is the whole seconds
since ``createdAt`` and ``current_date`` the server's clock (UTC+8), as the D2 example shows. [inf]

``custom_back_id`` must name one of the caller's ``custom_back`` backgrounds (else a 400)
and shows in the row as ``custom_backs_id`` (``null`` without one). [inf §6; the 400 is a guess]

Choices where the catalog is silent, each [guess]:

- ``DELETE video/{_id}`` works in any state; a running video is cancelled (gone from every
  view at once) and, like every record deleted before it ended, keeps its coins charged.
- ``lang_classify`` answers a language code by the script of ``msg``: kana ``ja-JP``, hangul
  ``ko-KR``, other CJK ``zh-CN``, Arabic ``ar-SA``, Cyrillic ``ru-RU``, anything else ``en-US``.
- ``auto-public-pool`` answers the switch back (C3's shape); the mock has no dedicated lines,
  so nothing else depends on it.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.background import require_background
from mockserver.providers.a2e.common import (
    current_page,
    deleted,
    iso_ms,
    lookup,
    mark_deleted,
    new_id,
    ok,
    result_link,
    server_date,
)
from mockserver.submit import submit_from
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
        "custom_backs_id": params.get("custom_back_id") or None,
        "createdAt": iso_ms(task.created_at),
        "diff_s": max(int(now - task.created_at), 0),
        "current_date": server_date(now),
    }


@billing.prices("video/generate")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "video")}


@provider.handles("postApiV1VideoGenerate")
async def generate_video(ctx: RequestContext) -> dict[str, Any]:
    custom_back_id = ctx.body.get("custom_back_id")
    if custom_back_id:
        require_background(ctx, custom_back_id)
    cost = price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, cost)
    task = submit_from(ctx, VIDEO, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, cost, "video")
    return ok(ctx, row(ctx, task))


@provider.handles("getVideoResult")
async def get_video_result(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, VIDEO, ctx.body["_id"])
    return ok(ctx, [row(ctx, task)])


@provider.handles("listVideos")
async def list_videos(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, current_page(ctx, VIDEO, row))


@provider.handles("listVideosByPost")
async def list_videos_by_post(ctx: RequestContext) -> dict[str, Any]:
    ctx.params = {k: ctx.body[k] for k in ("current", "pageSize") if k in ctx.body}
    return ok(ctx, current_page(ctx, VIDEO, row))


@provider.handles("deleteVideo")
async def delete_video(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, lookup(ctx, VIDEO, ctx.params["_id"]))
    return deleted(ctx)


_SCRIPTS = (  # (first code point, last code point, language), checked in order
    (0x3040, 0x30FF, "ja-JP"),
    (0xAC00, 0xD7AF, "ko-KR"),
    (0x4E00, 0x9FFF, "zh-CN"),
    (0x0600, 0x06FF, "ar-SA"),
    (0x0400, 0x04FF, "ru-RU"),
)


def classify(text: str) -> str:
    for low, high, language in _SCRIPTS:
        if any(low <= ord(ch) <= high for ch in text):
            return language
    return "en-US"


@provider.handles("classifyLanguage")
async def classify_language(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, classify(ctx.body["msg"]))


@provider.handles("setAutoPublicPool")
async def set_auto_public_pool(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, {"isAutoToPublicPool": ctx.body["isAutoToPublicPool"]})
