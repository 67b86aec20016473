"""The endpoints A2E's newer task families share, registered once per family.

Dubbing, caption removal, talking video and talking photo each have a start (coins checked,
charged at submit, refunded on failure), a ``pageNum``/``pageSize`` list, an optional
``processingRecord``, a detail by ``/{_id}`` and by ``detail?_id=``, and a delete. Only the
row each family renders and its price differ, so a family module declares those and calls
:func:`register`; the handlers are bound to the family's operationIds here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    Render,
    deleted,
    lookup,
    mark_deleted,
    new_id,
    ok,
    rows_page,
    unfinished,
)
from mockserver.submit import submit_from
from mockserver.tasks import Task

Price = Callable[[RequestContext, dict[str, Any]], billing.Price]


def start_task(ctx: RequestContext, family: TaskFamily, coins: float) -> Task:
    """Check the balance, plan the task, charge it (refunded if it fails)."""
    billing.require(ctx, coins)
    task = submit_from(ctx, family, dict(ctx.body), new_id(ctx))
    task.extra = {"coins": coins}
    billing.charge(ctx, task, coins, family.name)
    return task


def register(
    family: TaskFamily,
    row: Render,
    price: Price,
    *,
    start: str,
    list_all: str,
    get: tuple[str, ...],
    delete: str,
    processing: str | None = None,
) -> None:
    """Bind the family's shared endpoints to these operationIds."""

    async def start_handler(ctx: RequestContext) -> dict[str, Any]:
        task = start_task(ctx, family, price(ctx, ctx.body)[billing.COINS])
        return ok(ctx, row(ctx, task))

    async def list_handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, rows_page(ctx, family, row))

    async def processing_handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, [row(ctx, t) for t in unfinished(ctx, family)])

    async def get_handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, row(ctx, lookup(ctx, family, ctx.params["_id"])))

    async def delete_handler(ctx: RequestContext) -> dict[str, Any]:
        mark_deleted(ctx, lookup(ctx, family, ctx.params["_id"]))
        return deleted(ctx)

    provider.handles(start)(start_handler)
    provider.handles(list_all)(list_handler)
    provider.handles(delete)(delete_handler)
    for operation_id in get:
        provider.handles(operation_id)(get_handler)
    if processing is not None:
        provider.handles(processing)(processing_handler)
