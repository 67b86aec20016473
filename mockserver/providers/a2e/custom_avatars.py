"""Custom avatars: ``custom_avatar/add``, ``list``, ``del``, ``all_tags`` and ``PUT
custom_avatar/{_id}`` (the reference's Create Avatars section), a library of the caller's
avatar media with tags.

The reference names no field of any of them ("the submitted avatar media and metadata"), so
every field is a guess [guess]:

- a record is ``{_id, name, gender, video_url, image_url, tags, createdAt, updatedAt}``; ``add``
  needs ``video_url`` or ``image_url`` and takes ``name`` (default ``""``), ``gender`` and
  ``tags`` (up to 20, each 1-50 characters; repeats are dropped, order kept);
- ``list`` pages ``{pageNum, pageSize}`` in the body as ``{rows, count}``, newest first, and
  ``tag`` keeps the avatars carrying it;
- ``del`` takes ``{_id}``; ``PUT`` changes ``name``, ``gender`` and ``tags`` where sent (the
  rest keep their values) and moves ``updatedAt``; both answer the 404 of any unknown record
  for an unknown, foreign or deleted id;
- ``all_tags`` is the distinct tags of the caller's avatars, sorted;
- a custom avatar is a library entry: it is not an anchor for ``video/generate`` (that is a
  video twin), and adding one is free.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from mockserver.context import RequestContext, View
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.models import EditedRecord, iso_ms, record_of
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    DEFAULT_PAGE_SIZE,
    find_or_refuse,
    keep_record,
    mark_deleted,
    newest_first,
    record_family,
    store_record,
)
from mockserver.tasks import Task

CUSTOM_AVATAR = record_family("custom_avatar")
MEDIA_FIELDS = ("name", "gender", "video_url", "image_url")
EDITABLE = ("name", "gender", "tags")


def _tags(raw: list[str]) -> list[str]:
    return list(dict.fromkeys(raw))


def row(task: Task, view: View) -> dict[str, Any]:
    params = task.params
    edited = record_of(view, task, EditedRecord)
    return {
        "_id": task.id,
        "name": params.get("name", ""),
        "gender": params.get("gender", ""),
        "video_url": params.get("video_url", ""),
        "image_url": params.get("image_url", ""),
        "tags": list(params.get("tags", [])),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(task.created_at if edited is None else edited.updated_at),
    }


@handles("postApiV1CustomAvatarAdd")
async def add_custom_avatar(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    params: dict[str, Any] = {f: body[f] for f in MEDIA_FIELDS if f in body}
    params["tags"] = _tags(body.get("tags", []))
    return ok(ctx, row(store_record(ctx, CUSTOM_AVATAR, params), ctx))


@handles("postApiV1CustomAvatarList")
async def list_custom_avatars(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    page, size = body.get("pageNum", 1), body.get("pageSize", DEFAULT_PAGE_SIZE)
    tag = body.get("tag")
    found = [t for t in newest_first(ctx, CUSTOM_AVATAR) if tag is None or tag in t.params["tags"]]
    rows = [row(t, ctx) for t in islice(found, (page - 1) * size, page * size)]
    return ok(ctx, {"rows": rows, "count": len(found)})


@handles("postApiV1CustomAvatarDel")
async def delete_custom_avatar(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, find_or_refuse(ctx, CUSTOM_AVATAR, ctx.body["_id"]))
    return deleted(ctx)


@handles("getApiV1CustomAvatarAllTags")
async def list_custom_avatar_tags(ctx: RequestContext) -> dict[str, Any]:
    tags = {tag for t in newest_first(ctx, CUSTOM_AVATAR) for tag in t.params["tags"]}
    return ok(ctx, sorted(tags))


@handles("putApiV1CustomAvatarId")
async def update_custom_avatar(ctx: RequestContext) -> dict[str, Any]:
    task = find_or_refuse(ctx, CUSTOM_AVATAR, ctx.params["_id"])
    changes = {f: ctx.body[f] for f in EDITABLE if f in ctx.body}
    if "tags" in changes:
        changes["tags"] = _tags(changes["tags"])
    task.params = {**task.params, **changes}
    keep_record(ctx, task, EditedRecord(updated_at=ctx.now))
    return ok(ctx, row(task, ctx))
