"""Avatar videos: ``video/generate``, ``video/awsResult`` (POST, answers an array), ``awsList``,
``video/{_id}`` (DELETE), ``awsList`` by POST too (the older docs' form, paging in the body),
declared in families.py (the row: models.video_row); here the two helpers
``video/lang_classify`` and ``video/auto-public-pool``.

Catalog §4.1, §4.2, §4.4 and seed 002. A video walks ``init -> start -> pending -> process ->
copy -> success``; a failing one fails while rendering (``process -> fail``) with the reason
in ``msg``. ``process`` is 0 until rendering starts, climbs 0..99 through ``process`` and is
100 at ``copy`` and ``success``; a failed row keeps the value it reached (99). [guess]
``result`` is ``""`` until ``success``, then an mp4 on the mock. ``diff_s`` is the whole seconds
since ``createdAt`` and ``current_date`` the server's clock (UTC+8), as the D2 example shows. [inf]

``custom_back_id`` must name one of the caller's ``custom_back`` backgrounds (else a 400)
and shows in the row as ``custom_backs_id`` (``null`` without one). [inf §6; the 400 is a guess]

Choices where the catalog is silent, each [guess]:

- ``DELETE video/{_id}`` works in any state; a running video is cancelled (gone from every
  view at once) and, like every record deleted before it ended, keeps its coins charged.
- ``lang_classify`` answers a language code by the script of ``msg``: kana ``ja-JP``, hangul
  ``ko-KR``, other CJK ``zh-CN``, Arabic ``ar-SA``, Cyrillic ``ru-RU``, anything else ``en-US``.
- ``auto-public-pool`` answers the switch back (C3's shape); the mock has no dedicated lines,
  so nothing else depends on it.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.routes import handles

_SCRIPTS = (  # (first code point, last code point, language), checked in order
    (0x3040, 0x30FF, "ja-JP"),
    (0xAC00, 0xD7AF, "ko-KR"),
    (0x4E00, 0x9FFF, "zh-CN"),
    (0x0600, 0x06FF, "ar-SA"),
    (0x0400, 0x04FF, "ru-RU"),
)


def classify(text: str) -> str:
    for low, high, language in _SCRIPTS:
        if any(low <= ord(ch) <= high for ch in text):
            return language
    return "en-US"


@handles("classifyLanguage")
async def classify_language(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, classify(ctx.body["msg"]))


@handles("setAutoPublicPool")
async def set_auto_public_pool(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, {"isAutoToPublicPool": ctx.body["isAutoToPublicPool"]})
