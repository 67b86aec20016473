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
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import TWIN, VIDEO
from mockserver.providers.a2e.models import custom_anchor, public_anchor, video_row
from mockserver.providers.a2e.public_lists import PUBLIC_AVATARS
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import find_or_refuse, succeeded

SYSTEM_WEB_TYPES = frozenset({"a2e", "tyzn"})


@handles("postApiV1AnchorList")
async def list_anchors(ctx: RequestContext) -> dict[str, Any]:
    rows = [custom_anchor(t, ctx) for t in succeeded(ctx, TWIN)]
    if ctx.body.get("web_type") in SYSTEM_WEB_TYPES:
        rows += [public_anchor(a, ctx) for a in PUBLIC_AVATARS]
    return ok(ctx, rows)


@handles("getApiV1VideoDetail")
async def get_video_detail(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, video_row(find_or_refuse(ctx, VIDEO, ctx.params["video_id"]), ctx))
