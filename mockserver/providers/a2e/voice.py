"""TTS and voice clone: ``anchor/voice_list``, ``anchor/language_list``, ``userVoice/*``,
``video/send_tts`` (catalog §3, §12.4); the clone family is declared in families.py.

A cloned voice walks ``sent -> processing -> completed`` (or ``failed``) in about a minute
(D5). ``completedRecord`` lists the completed ones and ``processingRecord`` the unfinished
ones, both as bare arrays, newest first; a failed voice is in neither list and is read by id
only. [guess] A completed voice works as ``user_voice_id`` in ``send_tts`` by its ``_id`` (what
clients use) or its ``speaker_id`` (what D4 says); ``country`` and ``region`` are then
required (D4). ``send_tts`` answers ``data`` = the URL of an mp3 on the mock, kept 7 days
(the ``7days-tos`` host of D17). [inf]

Choices where the catalog is silent, each [guess]:

- a voice record has D4's eight fields plus ``failed_message`` (``""`` unless failed);
  ``speaker_id`` is a 24-hex id of its own, fixed at submit.
- ``send_tts``: neither or both of ``tts_id`` / ``user_voice_id`` is a 400 (K1: missing both is
  a 400); more than 1,000 characters of ``msg`` is a 400 (K1: API users max 1,000); an unknown
  ``tts_id`` is a 400; an unknown, foreign or deleted ``user_voice_id`` is the 404 of any
  unknown record; a voice not yet completed is a 400.
- costs: ``costs.voice_clone`` coins per clone (charged at submit, refunded on failure) and
  ``costs.tts`` coins per ``send_tts`` call; both 0 by default, as A2E publishes no price.
- ``voice_list`` groups voices by gender (``{label, value, children: [{label, value, ttsRate}]}``)
  and leaves out an empty group; ``country``, ``region`` and ``voice_map_type`` filter.
  ``language_list`` ignores its ``lang`` (the language of the labels).
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import billing, tts_previews
from mockserver.providers.a2e.dialect import bad_request, not_found, ok
from mockserver.providers.a2e.families import VOICE
from mockserver.providers.a2e.models import speaker_id
from mockserver.providers.a2e.public_lists import (
    GENDER_LABELS,
    LANGUAGES,
    PUBLIC_VOICE_IDS,
    PUBLIC_VOICES,
)
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import find, hex24, newest_first
from mockserver.tasks import Task

TTS_MAX_CHARS = 1000  # K1: the schema allows 3000, API users get 1000
TTS_URL_TTL = 7 * 24 * 3600  # [inf] D17's 7days-tos host


def completed_voice(ctx: RequestContext, voice_id: str) -> Task:
    """The caller's voice by ``_id`` or ``speaker_id``, refused unless it is completed."""
    task = find(ctx, VOICE, voice_id)
    if task is None:
        task = next((t for t in newest_first(ctx, VOICE) if speaker_id(ctx, t) == voice_id), None)
    if task is None:
        raise not_found()
    status = task.state(ctx.now)
    if status != VOICE.success:
        raise bad_request(f"user_voice_id {voice_id} is {status}, not a completed voice")
    return task


@billing.quotes("video/send_tts")
def tts_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "tts")}


@handles("postApiV1VideoSendTts")
async def send_tts(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    tts_id, user_voice_id = body.get("tts_id"), body.get("user_voice_id")
    if bool(tts_id) == bool(user_voice_id):
        raise bad_request("send exactly one of tts_id and user_voice_id")
    if len(body["msg"]) > TTS_MAX_CHARS:
        raise bad_request(f"msg is over {TTS_MAX_CHARS} characters")
    if tts_id:
        if tts_id not in PUBLIC_VOICE_IDS:
            raise bad_request(f"unknown tts_id {tts_id}")
    else:
        missing = [f for f in ("country", "region") if not body.get(f)]
        if missing:
            raise bad_request(f"{' and '.join(missing)} required with user_voice_id")
        completed_voice(ctx, str(user_voice_id))  # truthy here: exactly one was sent
    cost = tts_quote(ctx, body)[billing.COINS]
    billing.require(ctx, cost)
    name = f"{hex24(ctx)}.mp3"
    url = ctx.state.links.url(ctx.origin, "result.mp3", name, ctx.now + TTS_URL_TTL)
    tts_previews.keep(ctx, body, url)  # tts/preview/list shows it for 24 hours
    billing.pay(ctx, cost, "tts")
    return ok(ctx, url)


def _public_voices(filters: dict[str, Any]) -> list[dict[str, Any]]:
    country, region = filters.get("country"), filters.get("region")
    map_type = filters.get("voice_map_type")
    groups: dict[str, list[dict[str, Any]]] = {}
    for voice in PUBLIC_VOICES:
        lang_country, _, lang_region = voice["language"].partition("-")
        if (country and country != lang_country) or (region and region != lang_region):
            continue
        if map_type and map_type != voice["language"]:
            continue
        child = {"label": voice["name"], "value": voice["tts_id"], "ttsRate": voice["ttsRate"]}
        groups.setdefault(voice["gender"], []).append(child)
    return [
        {"label": GENDER_LABELS[gender], "value": gender, "children": children}
        for gender, children in groups.items()
    ]


@handles("getApiV1AnchorVoiceList")
async def list_public_voices(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, _public_voices(ctx.params))


@handles("postApiV1AnchorVoiceList")
async def list_public_voices_by_post(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, _public_voices(ctx.body))


@handles("listLanguages")
async def list_languages(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dict(lang) for lang in LANGUAGES])


@handles("postApiV1AnchorLanguageList")
async def list_languages_by_post(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [dict(lang) for lang in LANGUAGES])
