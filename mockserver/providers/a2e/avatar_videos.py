"""The reference's Generate Avatar Videos operations beside ``video/generate``:
``anchor/list`` (the avatars a video can use) and ``video/detail?video_id=`` (one video).

``anchor/list`` gives the caller's own avatars (completed video twins, newest first) and,
with ``web_type`` ``a2e`` or ``tyzn``, the default system avatars after them ("Use a2e or
tyzn to include default system avatars alongside user-specific avatars"). Rows are
``character_list``'s. [guess] ``video/detail`` is the row ``awsResult`` shows, not in an
array; an unknown, foreign or deleted id is the 404 of any unknown record. [guess]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import avatar, provider, video
from mockserver.providers.a2e.catalog import PUBLIC_AVATARS
from mockserver.providers.a2e.common import lookup, ok

SYSTEM_WEB_TYPES = frozenset({"a2e", "tyzn"})


@provider.handles("postApiV1AnchorList")
async def list_anchors(ctx: RequestContext) -> dict[str, Any]:
    rows = [avatar.custom_anchor(ctx, t) for t in avatar.completed_twins(ctx)]
    if ctx.body.get("web_type") in SYSTEM_WEB_TYPES:
        rows += [avatar.public_anchor(ctx, a) for a in PUBLIC_AVATARS]
    return ok(ctx, rows)


@provider.handles("getApiV1VideoDetail")
async def get_video_detail(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, video.row(ctx, lookup(ctx, video.VIDEO, ctx.params["video_id"])))
