"""Custom avatars and lip-sync models: ``userVideoTwin/*`` and ``anchor/character_list``
(catalog §4.3, §4.5, §5).

A custom avatar (a "video twin") walks ``initialized -> processing -> completed`` (or
``failed`` with ``failed_message``) [inf §14]; when it completes it gets an ``anchor_id`` and a
``preview_result_url`` (C1 treats a non-empty ``anchor_id`` as done), and
``character_list?type=custom`` lists it as an avatar with ``anchor_type`` 1, usable in
``video/generate``. Video mode is free; image mode costs ``costs.avatar_image_diamonds``
diamonds (D6: 1), charged at submit and refunded on failure.

``continueTranining`` (sic, C20) trains a personalized lip-sync model for a completed avatar:
``costs.continue_training_diamonds`` diamonds (D6: 1), about two hours on the clock (D6; the
scenario's ``lipsync`` family), refunded on failure. ``lipSyncModels`` lists the finished ones.

Choices where the catalog is silent, each [guess]:

- the avatar record: ``_id, name, gender, video_url, image_url, current_status, anchor_id,
  preview_result_url, failed_message, createdAt, updatedAt``; ``anchor_id`` and
  ``preview_result_url`` are ``""`` until completed.
- ``allRecords`` and ``records`` (both served, C13/C14) page with ``pageNum``/``pageSize`` as
  ``{rows, count}``; ``processingRecord`` is a bare array of the unfinished ones.
- ``continueTranining`` refuses (400) an avatar that is not completed or that already has a
  lip-sync model trained or training; ``lipSyncModels`` rows are ``{_id, name,
  user_video_twin_id, anchor_id, current_status, createdAt}`` for finished trainings only.
- ``remove`` forgets the avatar, its anchor and its lip-sync models; a pending refund lapses.
- ``addVoiceClone`` and ``cloneVoice`` (both served) clone the voice of a completed avatar's
  video: a voice-clone task named after the avatar, answered as ``userVoice/training`` answers,
  costing ``costs.voice_clone``; an avatar not completed is a 400.
- ``character_list``: ``type`` ``default``/``0`` gives the public avatars, ``custom``/``1`` the
  caller's completed ones (newest first), no type both (custom first);
  ``user_video_twin_id`` narrows to that avatar's anchor. A row is ``{_id, name, gender, type,
  anchor_type, video_cover, base_video}`` plus ``user_video_twin_id`` for a custom one.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.catalog import PUBLIC_AVATARS
from mockserver.providers.a2e.common import (
    iso_ms,
    lookup,
    mark_deleted,
    new_id,
    newest_first,
    ok,
    result_link,
    rows_page,
    updated_at,
)
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.voice import start_voice_clone
from mockserver.submit import submit_from
from mockserver.tasks import Task

TWIN = provider.family(
    TaskFamily(
        provider="a2e",
        name="avatar",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
LIPSYNC = provider.family(
    TaskFamily(
        provider="a2e",
        name="lipsync",
        states=("processing",),
        success="completed",
        failure="failed",
    )
)
DEFAULT_FAILED_MESSAGE = "avatar training failed"
PUBLIC_COVER = "result.jpg"


def _extra(task: Task) -> dict[str, Any]:
    return task.extra or {}


def record(ctx: RequestContext, task: Task) -> dict[str, Any]:
    status = task.state(ctx.now)
    params = task.params
    done = status == TWIN.success
    failure = (task.timeline.failure or {}) if status == TWIN.failure else None
    return {
        "_id": task.id,
        "name": params["name"],
        "gender": params.get("gender", ""),
        "video_url": params.get("video_url", ""),
        "image_url": params.get("image_url", ""),
        "current_status": status,
        "anchor_id": _extra(task)["anchor_id"] if done else "",
        "preview_result_url": result_link(ctx, task) if done else "",
        "failed_message": (
            str(failure.get("failed_message") or DEFAULT_FAILED_MESSAGE)
            if failure is not None
            else ""
        ),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


def completed_twin(ctx: RequestContext, twin_id: str) -> Task:
    twin = lookup(ctx, TWIN, twin_id)
    status = twin.state(ctx.now)
    if status != TWIN.success:
        raise bad_request(f"avatar {twin_id} is {status}, not completed")
    return twin


def completed_twins(ctx: RequestContext) -> list[Task]:
    now = ctx.now
    return [t for t in newest_first(ctx, TWIN) if t.state(now) == TWIN.success]


def custom_anchor(ctx: RequestContext, task: Task) -> dict[str, Any]:
    """A completed avatar as ``character_list`` shows it."""
    return {
        "_id": _extra(task)["anchor_id"],
        "name": task.params["name"],
        "gender": task.params.get("gender", ""),
        "type": "custom",
        "anchor_type": 1,
        "user_video_twin_id": task.id,
        "video_cover": result_link(ctx, task, "result.jpg", f"{task.id}_cover.jpg"),
        "base_video": result_link(ctx, task),
    }


def public_anchor(ctx: RequestContext, avatar: dict[str, Any]) -> dict[str, Any]:
    links = ctx.state.links
    return {
        **avatar,
        "type": "default",
        "anchor_type": 0,
        "video_cover": links.url(ctx.origin, PUBLIC_COVER, f"{avatar['_id']}_cover.jpg", None),
        "base_video": links.url(ctx.origin, "result.mp4", f"{avatar['_id']}.mp4", None),
    }


def _characters(ctx: RequestContext, kind: Any, twin_id: Any) -> list[dict[str, Any]]:
    kind = None if kind in (None, "") else str(kind)
    rows: list[dict[str, Any]] = []
    if kind in (None, "custom", "1") or twin_id:
        rows += [
            custom_anchor(ctx, t) for t in completed_twins(ctx) if not twin_id or t.id == twin_id
        ]
    if kind in (None, "default", "0") and not twin_id:
        rows += [public_anchor(ctx, a) for a in PUBLIC_AVATARS]
    return rows


def lipsync_row(ctx: RequestContext, task: Task) -> dict[str, Any]:
    twin = _extra(task)["twin"]
    return {
        "_id": task.id,
        "name": twin.params["name"],
        "user_video_twin_id": twin.id,
        "anchor_id": _extra(twin)["anchor_id"],
        "current_status": task.state(ctx.now),
        "createdAt": iso_ms(task.created_at),
    }


def _lipsyncs_of(ctx: RequestContext, twin: Task) -> list[Task]:
    return [t for t in newest_first(ctx, LIPSYNC) if _extra(t)["twin"] is twin]


@billing.prices("userVideoTwin/startTraining")
def training_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    diamonds = 0.0
    if body.get("image_url") and not body.get("video_url"):
        diamonds = billing.cost_of(ctx, "avatar_image_diamonds", 1)
    return {billing.DIAMONDS: diamonds}


@billing.prices("userVideoTwin/continueTranining")
def continue_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.DIAMONDS: billing.cost_of(ctx, "continue_training_diamonds", 1)}


@provider.handles("postApiV1UserVideoTwinStartTraining")
async def start_video_twin_training(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    diamonds = training_price(ctx, body)[billing.DIAMONDS]
    billing.require(ctx, diamonds, billing.DIAMONDS)
    make_id = new_id(ctx)
    task = submit_from(ctx, TWIN, dict(body), make_id)
    task.extra = {"anchor_id": make_id()}
    billing.charge(ctx, task, diamonds, "avatar_image", billing.DIAMONDS)
    return ok(ctx, record(ctx, task))


@provider.handles("getApiV1UserVideoTwinId")
async def get_video_twin(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, record(ctx, lookup(ctx, TWIN, ctx.params["_id"])))


@provider.handles("listVideoTwins")
async def list_video_twins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, TWIN, record))


@provider.handles("getApiV1UserVideoTwinRecords")
async def list_video_twin_records(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, TWIN, record))


@provider.handles("listProcessingVideoTwins")
async def list_processing_video_twins(ctx: RequestContext) -> dict[str, Any]:
    now = ctx.now
    return ok(ctx, [record(ctx, t) for t in newest_first(ctx, TWIN) if not t.is_done(now)])


@provider.handles("continueVideoTwinTraining")
async def continue_video_twin_training(ctx: RequestContext) -> dict[str, Any]:
    twin = completed_twin(ctx, ctx.body["_id"])
    now = ctx.now
    for earlier in _lipsyncs_of(ctx, twin):
        status = earlier.state(now)
        if status != LIPSYNC.failure:
            raise bad_request(f"avatar {twin.id} already has a lip-sync model ({status})")
    diamonds = continue_price(ctx, ctx.body)[billing.DIAMONDS]
    billing.require(ctx, diamonds, billing.DIAMONDS)
    task = submit_from(ctx, LIPSYNC, {"_id": twin.id}, new_id(ctx))
    task.extra = {"twin": twin}
    billing.charge(ctx, task, diamonds, "continue_training", billing.DIAMONDS)
    return ok(ctx, record(ctx, twin))


@provider.handles("listLipSyncModels")
async def list_lip_sync_models(ctx: RequestContext) -> dict[str, Any]:
    now = ctx.now
    rows = [
        lipsync_row(ctx, t) for t in newest_first(ctx, LIPSYNC) if t.state(now) == LIPSYNC.success
    ]
    return ok(ctx, rows)


@provider.handles("postApiV1UserVideoTwinRemove")
async def remove_video_twin(ctx: RequestContext) -> dict[str, Any]:
    twin = lookup(ctx, TWIN, ctx.body["_id"])
    for model in _lipsyncs_of(ctx, twin):
        mark_deleted(ctx, model)
    mark_deleted(ctx, twin)
    return ok(ctx, {})


async def _clone_voice(ctx: RequestContext) -> dict[str, Any]:
    twin = completed_twin(ctx, ctx.body["_id"])
    params = {"name": twin.params["name"], "voice_urls": [twin.params.get("video_url") or ""]}
    if not params["voice_urls"][0]:
        raise bad_request(f"avatar {twin.id} was made from an image: it has no voice")
    return start_voice_clone(ctx, params)


@provider.handles("addVideoTwinVoiceClone")
async def add_video_twin_voice_clone(ctx: RequestContext) -> dict[str, Any]:
    return await _clone_voice(ctx)


@provider.handles("cloneVideoTwinVoice")
async def clone_video_twin_voice(ctx: RequestContext) -> dict[str, Any]:
    return await _clone_voice(ctx)


@provider.handles("listCharacters")
async def list_characters(ctx: RequestContext) -> dict[str, Any]:
    params = ctx.params
    return ok(ctx, _characters(ctx, params.get("type"), params.get("user_video_twin_id")))


@provider.handles("listCharactersByPost")
async def list_characters_by_post(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    return ok(ctx, _characters(ctx, body.get("type"), body.get("user_video_twin_id")))
