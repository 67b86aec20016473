"""``GET /avatar/voice?language=en|zh``: DreamFace's default voices, for ``use_voice``.

The list lives in data/voices.json: six voices per language. The documented example voice
("Yue Hua", zh) and the documented ``use_voice`` example (``nina`` /
``b92d7e1c40d0447eb563a13ec92d9042``, en) are in it, so the docs' own requests work; the rest
are realistic stand-ins. ``language`` is optional (the docs mark it so): without it, every voice.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.relay.provider import provider

DATA = Path(__file__).parent / "data"
LANGUAGE_ALIASES = {"cn": "zh"}


def normalize_language(language: str) -> str:
    return LANGUAGE_ALIASES.get(language, language)


@cache
def catalog() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((DATA / "voices.json").read_text(encoding="utf-8")))


@cache
def _by_pair() -> dict[tuple[str, str], dict[str, Any]]:
    return {(v["audio_id"], v["voice_engine_id"]): v for v in catalog()}


def find_voice(audio_id: str, voice_engine_id: str) -> dict[str, Any] | None:
    """The listed voice with this audio_id and voice_engine_id, or None."""
    return _by_pair().get((audio_id, voice_engine_id))


@provider.handles("listAvatarVoices")
async def list_voices(ctx: RequestContext) -> dict[str, Any]:
    language = ctx.params.get("language")
    voices = catalog()
    if language:
        wanted = normalize_language(language)
        voices = tuple(v for v in voices if v["language"] == wanted)
    return {"code": "success", "message": "", "data": {"audio_list": [dict(v) for v in voices]}}
