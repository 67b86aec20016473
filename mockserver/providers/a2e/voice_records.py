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
from mockserver.providers.a2e import provider, voice
from mockserver.providers.a2e.catalog import PUBLIC_VOICES
from mockserver.providers.a2e.common import lookup, newest_first, ok


@provider.handles("getApiV1UserVoiceTrainingRecord")
async def list_voice_trainings(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [voice.record(ctx, t) for t in newest_first(ctx, voice.VOICE)])


@provider.handles("putApiV1UserVoiceId")
async def rename_user_voice(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, voice.VOICE, ctx.params["_id"])
    task.params = {**task.params, "name": ctx.body["name"]}
    return ok(ctx, voice.record(ctx, task))


@provider.handles("postApiV1AnchorTtsList")
async def list_tts_presets(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dict(v) for v in PUBLIC_VOICES])
