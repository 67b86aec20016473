"""TTS previews: what ``video/send_tts`` spoke, as ``tts/preview/list`` and
``DELETE tts/preview/{id}`` show it (the reference's TTS and Voice Clone section).

The list is the caller's previews "created during the last 24 hours", not deleted, newest
first, paged ``current``/``pageSize`` (default 20, at most 100) as ``{current, total,
success, data}``. A delete is soft: the record leaves the list, its audio stays served until
its own expiry. Each preview counts as a record of the caller (the caps on live records
apply), and is kept 24 hours.

Choices where the reference is silent, each [guess]: a row is ``{_id, msg, tts_id,
user_voice_id, audio_url, createdAt}`` (the voice field not used is ``""``); a delete of an
unknown, foreign or deleted id is the 404 of any unknown record.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import Timeline
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.models import iso_ms
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    find_or_refuse,
    mark_deleted,
    new_id,
    newest_first,
    record_family,
)
from mockserver.submit import admit
from mockserver.tasks import Task

PREVIEW = record_family("tts_preview")
WINDOW = 24 * 3600  # "created during the last 24 hours"
DEFAULT_PAGE_SIZE = 20


def keep(ctx: RequestContext, body: dict[str, Any], audio_url: str) -> Task:
    """Remember one ``send_tts`` answer for 24 hours (refused, before any charge, at the caps)."""
    admit(ctx)
    task = Task(
        id=new_id(ctx)(),
        provider=PREVIEW.provider,
        family=PREVIEW,
        tenant=ctx.key,
        seq=ctx.state.next_seq(PREVIEW.provider),
        created_at=ctx.now,
        timeline=Timeline((PREVIEW.success,), (ctx.now,), None),
        params={
            "msg": body["msg"],
            "tts_id": body.get("tts_id") or "",
            "user_voice_id": body.get("user_voice_id") or "",
            "audio_url": audio_url,
        },
    )
    return ctx.state.store.add(task, WINDOW)


def row(task: Task) -> dict[str, Any]:
    return {"_id": task.id, **task.params, "createdAt": iso_ms(task.created_at)}


@handles("getApiV1TtsPreviewList")
async def list_tts_previews(ctx: RequestContext) -> dict[str, Any]:
    page = ctx.params.get("current", 1)
    size = ctx.params.get("pageSize", DEFAULT_PAGE_SIZE)
    since = ctx.now - WINDOW
    recent = [t for t in newest_first(ctx, PREVIEW) if t.created_at >= since]
    rows = [row(t) for t in islice(recent, (page - 1) * size, page * size)]
    return ok(ctx, {"current": page, "total": len(recent), "success": True, "data": rows})


@handles("deleteApiV1TtsPreviewId")
async def delete_tts_preview(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, find_or_refuse(ctx, PREVIEW, ctx.params["id"]))
    return deleted(ctx)
