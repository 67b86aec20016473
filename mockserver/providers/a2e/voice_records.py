"""The reference's voice operations beside the seeds' ones: ``userVoice/trainingRecord``
(every clone, newest first by ``createdAt``), ``PUT userVoice/{_id}`` (rename) and
``anchor/tts_list`` (the system voices).

``trainingRecord`` is a bare array of the caller's voices in every state, each as
``userVoice/{_id}`` shows it. [guess: bare array, as ``completedRecord``] The reference spells
one status ``pendding``; the mock's clones walk ``sent -> processing`` and never show it.

A rename changes ``name`` alone ("no training inputs or status fields are changed") and
answers the voice as stored; ``updatedAt`` stays the moment the state last changed. [guess]
``tts_list`` gives ``voice_list``'s public voices ungrouped: ``{tts_id, name, gender,
language, ttsRate}``. [guess]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import VOICE
from mockserver.providers.a2e.models import voice_row
from mockserver.providers.a2e.public_lists import PUBLIC_VOICES
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import find_or_refuse, newest_first


@handles("getApiV1UserVoiceTrainingRecord")
async def list_voice_trainings(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [voice_row(t, ctx) for t in newest_first(ctx, VOICE)])


@handles("putApiV1UserVoiceId")
async def rename_user_voice(ctx: RequestContext) -> dict[str, Any]:
    task = find_or_refuse(ctx, VOICE, ctx.params["_id"])
    task.params = {**task.params, "name": ctx.body["name"]}
    return ok(ctx, voice_row(task, ctx))


@handles("postApiV1AnchorTtsList")
async def list_tts_presets(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dict(v) for v in PUBLIC_VOICES])
