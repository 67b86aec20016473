"""A2E's fixed lists: public TTS voices, languages and avatars (the mock's stand-ins for A2E's).

The real lists hold 400+ voices; these few are enough to drive a client. Ids of the first two
voices are ones seen in client code (catalog §3.1); the rest are 24-hex ids in the same style.
A voice's ``language`` is the ``voice_map_type`` (``en-US``) whose halves are the ``country``
(``en``) and ``region`` (``US``) that ``voice_list`` filters by and ``send_tts`` takes. [guess]
"""

from __future__ import annotations

from typing import Any

_VOICES = (  # tts_id, name, gender, language
    ("6625ebd4613f49985c349f95", "Ava", "female", "en-US"),
    ("63a549c1ad2a27fe43d9669a", "Andrew", "male", "en-US"),
    ("6625ebd4613f49985c349fa1", "Sonia", "female", "en-GB"),
    ("6625ebd4613f49985c349fa2", "Ryan", "male", "en-GB"),
    ("6625ebd4613f49985c349fb3", "Xiaoxiao", "female", "zh-CN"),
    ("6625ebd4613f49985c349fb4", "Yunxi", "male", "zh-CN"),
    ("6625ebd4613f49985c349fc5", "Elvira", "female", "es-ES"),
    ("6625ebd4613f49985c349fd6", "Nanami", "female", "ja-JP"),
)
PUBLIC_VOICES: tuple[dict[str, Any], ...] = tuple(
    {"tts_id": i, "name": n, "gender": g, "language": lang, "ttsRate": 1}
    for i, n, g, lang in _VOICES
)
PUBLIC_VOICE_IDS = frozenset(v["tts_id"] for v in PUBLIC_VOICES)
GENDER_LABELS = {"female": "Female", "male": "Male"}

LANGUAGES: tuple[dict[str, str], ...] = (
    {"label": "English (US)", "value": "en-US"},
    {"label": "English (UK)", "value": "en-GB"},
    {"label": "Chinese (Mandarin)", "value": "zh-CN"},
    {"label": "Spanish (Spain)", "value": "es-ES"},
    {"label": "Japanese", "value": "ja-JP"},
)

# Public ("default", anchor_type 0) avatars for ``anchor/character_list``:
# the mock's stand-ins, 24-hex like every A2E id. [guess]
_AVATARS = (  # _id, name, gender
    ("63de16f26c6193fa4ca7a486", "Lily", "female"),
    ("63de16f26c6193fa4ca7a487", "Noah", "male"),
    ("63de16f26c6193fa4ca7a488", "Mia", "female"),
    ("63de16f26c6193fa4ca7a489", "Ethan", "male"),
)
PUBLIC_AVATARS: tuple[dict[str, Any], ...] = tuple(
    {"_id": i, "name": n, "gender": g} for i, n, g in _AVATARS
)
