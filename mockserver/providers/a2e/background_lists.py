"""The reference's two background lists beside ``allBackground``: ``custom_back/list`` (the
caller's backgrounds, paged) and ``custom_back/randomBackground`` (a stock one, no token).

``list`` pages ``{pageNum, pageSize}`` from the body (both optional; the reference documents
no body) as ``{rows, count}``, newest first, rows as ``allBackground``'s. [guess]
``randomBackground`` "does not declare bearer authentication": it answers anyone, with one of
the mock's stock backgrounds ``{_id, img_url}`` (an image on the mock), drawn from a seeded
stream of its own so a run repeats and anonymous calls never shift the ids tenants get.
[guess: the fields and the stock]
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import ok
from mockserver.providers.a2e.families import BACKGROUND
from mockserver.providers.a2e.models import background_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import PROVIDER, rows_page

RANDOM_STREAM = f"{PROVIDER}:randomBackground"  # a seeded stream apart from the ids
STOCK_BACKGROUNDS = (  # 24-hex ids in A2E's style; the image is the mock's jpg fixture
    "65f1a0c2e4b0a1b2c3d4e5f1",
    "65f1a0c2e4b0a1b2c3d4e5f2",
    "65f1a0c2e4b0a1b2c3d4e5f3",
    "65f1a0c2e4b0a1b2c3d4e5f4",
)


@handles("postApiV1CustomBackList")
async def list_custom_backgrounds_paged(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, rows_page(ctx, BACKGROUND, background_row, ctx.body))


@handles("postApiV1CustomBackRandomBackground")
async def random_background(ctx: RequestContext) -> dict[str, Any]:
    back_id = ctx.state.id_rng(RANDOM_STREAM).choice(STOCK_BACKGROUNDS)
    img_url = ctx.state.links.url(ctx.origin, "result.jpg", f"{back_id}.jpg", None)
    return ok(ctx, {"_id": back_id, "img_url": img_url})
