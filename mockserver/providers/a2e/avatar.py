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
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.catalog import PUBLIC_AVATARS
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import LIPSYNC, TWIN
from mockserver.providers.a2e.models import (
    LipSyncRecord,
    TwinRecord,
    custom_anchor,
    lipsync_row,
    lipsync_twin,
    public_anchor,
    twin_record,
)
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    keep_record,
    lookup,
    mark_deleted,
    new_id,
    newest_first,
    rows_page,
    succeeded,
    unfinished,
)
from mockserver.providers.a2e.voice import start_voice_clone
from mockserver.submit import submit_from
from mockserver.tasks import Task


def completed_twin(ctx: RequestContext, twin_id: str) -> Task:
    twin = lookup(ctx, TWIN, twin_id)
    status = twin.state(ctx.now)
    if status != TWIN.success:
        raise bad_request(f"avatar {twin_id} is {status}, not completed")
    return twin


def _characters(ctx: RequestContext, kind: Any, twin_id: Any) -> list[dict[str, Any]]:
    kind = None if kind in (None, "") else str(kind)
    rows: list[dict[str, Any]] = []
    if kind in (None, "custom", "1") or twin_id:
        rows += [
            custom_anchor(t, ctx) for t in succeeded(ctx, TWIN) if not twin_id or t.id == twin_id
        ]
    if kind in (None, "default", "0") and not twin_id:
        rows += [public_anchor(a, ctx) for a in PUBLIC_AVATARS]
    return rows


def _lipsyncs_of(ctx: RequestContext, twin: Task) -> list[Task]:
    return [t for t in newest_first(ctx, LIPSYNC) if lipsync_twin(ctx, t) is twin]


@billing.prices("userVideoTwin/startTraining")
def training_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    diamonds = 0.0
    if body.get("image_url") and not body.get("video_url"):
        diamonds = billing.cost_of(ctx, "avatar_image_diamonds", 1)
    return {billing.DIAMONDS: diamonds}


@billing.prices("userVideoTwin/continueTranining")
def continue_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.DIAMONDS: billing.cost_of(ctx, "continue_training_diamonds", 1)}


@handles("startVideoTwinTraining")
async def start_video_twin_training(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    diamonds = training_price(ctx, body)[billing.DIAMONDS]
    billing.require(ctx, diamonds, billing.DIAMONDS)
    make_id = new_id(ctx)
    task = submit_from(ctx, TWIN, dict(body), make_id)
    record = keep_record(ctx, task, TwinRecord(amount=diamonds, anchor_id=make_id()))
    billing.charge(ctx, task, record, "avatar_image", billing.DIAMONDS)
    return ok(ctx, twin_record(task, ctx))


@handles("getVideoTwin")
async def get_video_twin(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, twin_record(lookup(ctx, TWIN, ctx.params["_id"]), ctx))


@handles("listVideoTwins")
async def list_video_twins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, TWIN, twin_record, ctx.params))


@handles("listVideoTwinRecords")
async def list_video_twin_records(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, TWIN, twin_record, ctx.params))


@handles("listProcessingVideoTwins")
async def list_processing_video_twins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [twin_record(t, ctx) for t in unfinished(ctx, TWIN)])


@handles("continueVideoTwinTraining")
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
    record = keep_record(ctx, task, LipSyncRecord(amount=diamonds, twin=twin))
    billing.charge(ctx, task, record, "continue_training", billing.DIAMONDS)
    return ok(ctx, twin_record(twin, ctx))


@handles("listLipSyncModels")
async def list_lip_sync_models(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [lipsync_row(t, ctx) for t in succeeded(ctx, LIPSYNC)])


@handles("removeVideoTwin")
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


@handles("addVideoTwinVoiceClone")
async def add_video_twin_voice_clone(ctx: RequestContext) -> dict[str, Any]:
    return await _clone_voice(ctx)


@handles("cloneVideoTwinVoice")
async def clone_video_twin_voice(ctx: RequestContext) -> dict[str, Any]:
    return await _clone_voice(ctx)


@handles("listCharacters")
async def list_characters(ctx: RequestContext) -> dict[str, Any]:
    params = ctx.params
    return ok(ctx, _characters(ctx, params.get("type"), params.get("user_video_twin_id")))


@handles("listCharactersByPost")
async def list_characters_by_post(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    return ok(ctx, _characters(ctx, body.get("type"), body.get("user_video_twin_id")))
