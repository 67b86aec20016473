"""Custom backgrounds: ``custom_back/allBackground``, ``custom_back/add``, ``custom_back/del``
(catalog §6), all POST as A2E has them (C3).

A background's ``_id`` is what ``video/generate`` takes as ``custom_back_id`` [inf]; the
video row then shows it as ``custom_backs_id``. Choices where the catalog is silent, each
[guess]: a row is ``{_id, img_url, createdAt}``; ``allBackground`` is a bare array, newest
first, and takes an empty body (C3 sends an empty ``text/plain`` one) or ``{}``; adding is free;
``del`` of an unknown, foreign or deleted ``_id`` is the 404 of any unknown record.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import provider
from mockserver.providers.a2e.common import (
    PROVIDER,
    deleted,
    iso_ms,
    lookup,
    mark_deleted,
    newest_first,
    ok,
    record_family,
    store_record,
)
from mockserver.providers.a2e.dialect import bad_request
from mockserver.tasks import Task

BACKGROUND = record_family("background")


def row(task: Task) -> dict[str, Any]:
    return {"_id": task.id, "img_url": task.params["img_url"], "createdAt": iso_ms(task.created_at)}


def require_background(ctx: RequestContext, back_id: str) -> None:
    """Refuse a ``custom_back_id`` that is not one of the caller's backgrounds. [guess: 400]"""
    task = ctx.state.store.get(PROVIDER, ctx.key, back_id, ctx.now)
    if task is None or task.family is not BACKGROUND:
        raise bad_request(f"unknown custom_back_id {back_id}")


@provider.handles("postApiV1CustomBackAllBackground")
async def list_custom_backgrounds(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [row(t) for t in newest_first(ctx, BACKGROUND)])


@provider.handles("postApiV1CustomBackAdd")
async def add_custom_background(ctx: RequestContext) -> dict[str, Any]:
    task = store_record(ctx, BACKGROUND, {"img_url": ctx.body["img_url"]})
    return ok(ctx, row(task))


@provider.handles("postApiV1CustomBackDel")
async def delete_custom_background(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, lookup(ctx, BACKGROUND, ctx.body["_id"]))
    return deleted(ctx)
