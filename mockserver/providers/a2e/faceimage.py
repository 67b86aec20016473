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
from mockserver.providers.a2e import provider
from mockserver.providers.a2e.common import (
    DEFAULT_PAGE_SIZE,
    deleted,
    iso_ms,
    lookup,
    mark_deleted,
    newest_first,
    ok,
    record_family,
    store_record,
    user_id,
)
from mockserver.tasks import Task

FACE_IMAGE = record_family("face_image")


def row(ctx: RequestContext, task: Task) -> dict[str, Any]:
    stamp = iso_ms(task.created_at)
    return {
        "face_url": task.params["face_url"],
        "_id": task.id,
        "user_id": user_id(task.tenant),
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def faces(ctx: RequestContext) -> list[dict[str, Any]]:
    return [row(ctx, t) for t in newest_first(ctx, FACE_IMAGE)]


@provider.handles("postApiV1UserFaceSwapImageAdd")
async def add_face_swap_image(ctx: RequestContext) -> dict[str, Any]:
    store_record(ctx, FACE_IMAGE, {"face_url": ctx.body["face_url"]})
    return ok(ctx, faces(ctx))


@provider.handles("getApiV1UserFaceSwapImageRecords")
async def list_face_swap_images(ctx: RequestContext) -> dict[str, Any]:
    everything = faces(ctx)
    if "pageNum" not in ctx.params:
        return ok(ctx, everything)
    page = ctx.params["pageNum"]
    size = ctx.params.get("pageSize", DEFAULT_PAGE_SIZE)
    return ok(ctx, {"rows": everything[(page - 1) * size : page * size], "count": len(everything)})


@provider.handles("deleteApiV1UserFaceSwapImageId")
async def delete_face_swap_image(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, lookup(ctx, FACE_IMAGE, ctx.params["_id"]))
    return deleted(ctx)
