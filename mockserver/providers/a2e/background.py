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
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.families import BACKGROUND
from mockserver.providers.a2e.models import background_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import find_or_refuse, mark_deleted, newest_first, store_record


@handles("postApiV1CustomBackAllBackground")
async def list_custom_backgrounds(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [background_row(t, ctx) for t in newest_first(ctx, BACKGROUND)])


@handles("postApiV1CustomBackAdd")
async def add_custom_background(ctx: RequestContext) -> dict[str, Any]:
    task = store_record(ctx, BACKGROUND, {"img_url": ctx.body["img_url"]})
    return ok(ctx, background_row(task, ctx))


@handles("postApiV1CustomBackDel")
async def delete_custom_background(ctx: RequestContext) -> dict[str, Any]:
    mark_deleted(ctx, find_or_refuse(ctx, BACKGROUND, ctx.body["_id"]))
    return deleted(ctx)
