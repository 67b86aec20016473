"""Custom avatars and lip-sync models: ``userVideoTwin/*`` and ``anchor/character_list``
(catalog §4.3, §4.5, §5). Both task families are declared in families.py; here the endpoints
that are not a family's own: ``remove``, the voice clones and the character list.

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
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import TWIN, VOICE_SPEC, completed_twin, lipsyncs_of
from mockserver.providers.a2e.models import custom_anchor, public_anchor
from mockserver.providers.a2e.public_lists import PUBLIC_AVATARS
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.task_endpoints import start
from mockserver.providers.a2e.tasks import find_or_refuse, mark_deleted, succeeded


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


@handles("postApiV1UserVideoTwinRemove")
async def remove_video_twin(ctx: RequestContext) -> dict[str, Any]:
    twin = find_or_refuse(ctx, TWIN, ctx.body["_id"])
    for model in lipsyncs_of(ctx, twin):
        mark_deleted(ctx, model)
    mark_deleted(ctx, twin)
    return ok(ctx, {})


async def _clone_voice(ctx: RequestContext) -> dict[str, Any]:
    """A voice clone of a completed avatar's video, answered as ``userVoice/training`` is."""
    twin = completed_twin(ctx, ctx.body["_id"])
    params = {"name": twin.params["name"], "voice_urls": [twin.params.get("video_url") or ""]}
    if not params["voice_urls"][0]:
        raise bad_request(f"avatar {twin.id} was made from an image: it has no voice")
    return ok(ctx, VOICE_SPEC.render(start(ctx, VOICE_SPEC, params), ctx))


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
