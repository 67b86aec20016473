"""Face swap images: ``userFaceSwapImage/add``, ``/records``, ``/{_id}`` (DELETE) (catalog
§7.1-7.3): the faces a caller keeps for face swap.

``add {face_url}`` answers the caller's whole face list, newest first, each ``{face_url, _id,
user_id, createdAt, updatedAt}`` (D7). ``records`` answers the same list as a bare array
(C3), or ``{rows, count}`` when ``pageNum`` is sent (C14 reads ``.data.rows // .data``).

Choices where the catalog is silent, each [guess]: ``user_id`` is one 24-hex id per API key;
adding is free; deleting an unknown, foreign or deleted face is the 404 of any unknown record.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.families import FACE_IMAGE
from mockserver.providers.a2e.models import face_image_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    DEFAULT_PAGE_SIZE,
    find_or_refuse,
    mark_deleted,
    newest_first,
    store_record,
)


def faces(ctx: RequestContext) -> list[dict[str, Any]]:
    return [face_image_row(t, ctx) for t in newest_first(ctx, FACE_IMAGE)]


@handles("postApiV1UserFaceSwapImageAdd")
async def add_face_swap_image(ctx: RequestContext) -> dict[str, Any]:
    store_record(ctx, FACE_IMAGE, {"face_url": ctx.body["face_url"]})
    return ok(ctx, faces(ctx))


@handles("getApiV1UserFaceSwapImageRecords")
async def list_face_swap_images(ctx: RequestContext) -> dict[str, Any]:
    everything = faces(ctx)
    if "pageNum" not in ctx.params:
        return ok(ctx, everything)
    page = ctx.params["pageNum"]
    size = ctx.params.get("pageSize", DEFAULT_PAGE_SIZE)
    return ok(ctx, {"rows": everything[(page - 1) * size : page * size], "count": len(everything)})


@handles("deleteApiV1UserFaceSwapImageId")
async def delete_face_swap_image(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, find_or_refuse(ctx, FACE_IMAGE, ctx.params["_id"]))
    return deleted(ctx)
