"""``GET /s2s/{version}/task/template/{feature}``: each feature's template catalog, paged.

The AI Avatar catalog is the one observed live (71 templates with ``male_`` / ``female_`` ids,
not every style in both genders, so ``male_manga_mood`` is refused as InvalidTemplate); the
others are generated from their row in features.yaml. Paging uses ``page_size`` (1..20,
default 20), ``starting_token`` and ``next_token`` (null on the last page); tokens are base64
of the offset, like the ``"MjA"`` in the feature-cost example.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.youcam.dialect import invalid_parameters
from mockserver.providers.youcam.features import Feature, catalog, features, template_ids
from mockserver.providers.youcam.routes import handles

__all__ = ["catalog", "decode_token", "encode_token", "page", "template_ids"]


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
    items: tuple[Any, ...] | list[Any], ctx: RequestContext, default_size: int = 20
) -> tuple[list, str | None]:
    size = ctx.params.get("page_size", default_size)
    offset = decode_token(ctx.params.get("starting_token"))
    chunk = list(items[offset : offset + size])
    following = offset + size
    return chunk, (encode_token(following) if following < len(items) else None)


def list_handler(feature: Feature):
    key = feature.key

    async def list_templates(ctx: RequestContext) -> dict[str, Any]:
        chunk, next_token = page(catalog(key), ctx)
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

    list_templates.__name__ = f"list_{key}_templates"
    return list_templates


for _feature in features():
    if _feature.templates:
        handles(_feature.templates_op)(list_handler(_feature))
