"""What a submit body means: the params each relay task family keeps from it.

A reader takes the validated body (the spec has checked its shape) and returns the task's
params, or refuses with the relay's ``invalid_request`` for what a schema cannot say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.providers.relay.dialect import invalid_request
from mockserver.providers.relay.voices import find_voice, normalize_language

SOURCES = ("audio_url", "create_voice", "use_voice")


def _source(body: Mapping[str, Any]) -> str:
    """Which voice source the body names (the schema has made sure it is exactly one).

    Go's JSON decoding treats null as absent, and the relay an empty ``audio_url`` as none.
    """
    if isinstance(body.get("audio_url"), str) and body["audio_url"]:
        return "audio_url"
    if isinstance(body.get("create_voice"), dict):
        return "create_voice"
    return "use_voice"


def avatar_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /avatar/generation``: the avatar, the voice source and the notify hook."""
    source = _source(body)
    params: dict[str, Any] = {
        "avatar_url": body["avatar_url"],
        "source": source,
        "no_watermark": bool(body.get("no_watermark")),
        "notify_hook": body.get("notify_hook") or "",
    }
    if source == "audio_url":
        params["audio_url"] = body["audio_url"]
        return params
    voice = body[source]
    params["language"] = normalize_language(voice["language"])
    params["text"] = voice["text"]
    if source == "create_voice":
        params["audio_url"] = voice["audio_url"]
        return params
    if find_voice(voice["audio_id"], voice["voice_engine_id"]) is None:
        raise invalid_request(
            f"use_voice: no voice with audio_id {voice['audio_id']} and voice_engine_id "
            f"{voice['voice_engine_id']}; pick one from GET /avatar/voice"
        )
    params["audio_id"] = voice["audio_id"]
    params["voice_engine_id"] = voice["voice_engine_id"]
    return params


def generation_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v1/video/generations``: model and prompt; size and duration with defaults."""
    return {
        "model": body["model"],
        "prompt": body.get("prompt") or "",
        "image": body.get("image") or "",
        "size": body.get("size") or "1280x720",
        "duration": int(body.get("duration") or 5),
        "notify_hook": body.get("notify_hook") or "",
    }


def suno_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /suno/submit/{action}``: the action from the path (MUSIC, LYRICS) and the song."""
    return {
        "action": str(body["action"]).upper(),
        "prompt": body.get("prompt") or body.get("gpt_description_prompt") or "",
        "title": body.get("title") or "",
        "tags": body.get("tags") or "",
        "mv": body.get("mv") or "chirp-v3-5",
        "notify_hook": body.get("notify_hook") or "",
    }


def kling_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """Kling's text2video / image2video body; ``callback_url`` is the task's notify hook."""
    return {
        "model_name": body.get("model_name") or "kling-v1",
        "prompt": body.get("prompt") or "",
        "image": body.get("image") or "",
        "mode": body.get("mode") or "std",
        "duration": str(body.get("duration") or "5"),
        "notify_hook": body.get("callback_url") or "",
    }
