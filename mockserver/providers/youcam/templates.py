"""``GET /s2s/v2.0/task/template/ai-avatar``: a realistic template catalog, paged.

The live catalog held 71 templates with ``male_`` / ``female_`` ids, not every style in both
genders (``male_manga_mood`` is refused as InvalidTemplate). Paging uses ``page_size`` (1..20,
default 20), ``starting_token`` and ``next_token`` (null on the last page); tokens are base64
of the offset, like the ``"MjA"`` in the feature-cost example.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.youcam import provider
from mockserver.providers.youcam.dialect import invalid_parameters

DATA = Path(__file__).parent / "data"


@cache
def catalog(feature: str) -> tuple[dict[str, str], ...]:
    path = DATA / f"{feature.replace('-', '_')}_templates.json"
    return tuple(json.loads(path.read_text(encoding="utf-8")))


@cache
def template_ids(feature: str) -> frozenset[str]:
    return frozenset(t["id"] for t in catalog(feature))


def encode_token(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    if token in (None, "", "null"):
        return 0
    try:
        offset = int(base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_parameters("starting_token is not a token this API issued") from exc
    if offset < 0:
        raise invalid_parameters("starting_token is not a token this API issued")
    return offset


def page(
    items: tuple[Any, ...], ctx: RequestContext, default_size: int = 20
) -> tuple[list, str | None]:
    size = ctx.params.get("page_size", default_size)
    offset = decode_token(ctx.params.get("starting_token"))
    chunk = list(items[offset : offset + size])
    following = offset + size
    return chunk, (encode_token(following) if following < len(items) else None)


@provider.handles("listAiAvatarTemplates")
async def list_ai_avatar_templates(ctx: RequestContext) -> dict[str, Any]:
    chunk, next_token = page(catalog("ai-avatar"), ctx)
    links = ctx.state.links
    templates = [
        {
            "id": t["id"],
            "thumb": links.url(ctx.origin, "result.jpg", f"{t['id']}.jpg", None),
            "title": t["title"],
            "category_name": t["category_name"],
        }
        for t in chunk
    ]
    return {"status": 200, "data": {"templates": templates, "next_token": next_token}}
