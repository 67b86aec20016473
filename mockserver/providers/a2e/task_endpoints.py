"""A2E's one generic set of task-family handlers, bound to each declared FamilySpec.

Every A2E task family has a start (the price checked, charged at submit, refunded on
failure), lists, detail reads by ``/{_id}``, ``?_id=`` or a body ``_id``, and a delete. Only
the rows each family renders, its price and a few wordings differ, so a family is a
``FamilySpec`` (:mod:`.families`) and :func:`bind`, the provider's ``bind_family``, binds
these handlers to the operationIds it names.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.families import FamilySpec, Lookup, Row, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.models import TaskRecord
from mockserver.providers.a2e.tasks import (
    batch,
    keep_record,
    lookup,
    mark_deleted,
    new_id,
    rows_page,
    unfinished,
)
from mockserver.registry import Provider
from mockserver.submit import submit_from
from mockserver.tasks import Task


def start_task(ctx: RequestContext, family: TaskFamily, coins: float) -> Task:
    """Check the balance, plan the task, charge it (refunded if it fails)."""
    billing.require(ctx, coins)
    task = submit_from(ctx, family, dict(ctx.body), new_id(ctx))
    billing.charge(ctx, task, keep_record(ctx, task, TaskRecord(coins)), family.name)
    return task


def bind(target: Provider, spec: FamilySpec) -> None:
    """A2E's one generic set of family handlers, bound to the operationIds ``spec`` names."""
    family = spec.family
    render = spec.render

    def find(ctx: RequestContext, how: Status) -> Task:
        source = ctx.body if how.lookup is Lookup.BODY else ctx.params
        return lookup(ctx, family, source[how.id_field])

    async def start_handler(ctx: RequestContext) -> dict[str, Any]:
        task = start_task(ctx, family, spec.cost(ctx, ctx.body))
        return ok(ctx, render(task, ctx))

    target.handles(spec.submit)(start_handler)
    if spec.list_all is not None:

        async def list_handler(ctx: RequestContext) -> dict[str, Any]:
            return ok(ctx, rows_page(ctx, family, render, ctx.params))

        target.handles(spec.list_all)(list_handler)
    if spec.processing is not None:

        async def processing_handler(ctx: RequestContext) -> dict[str, Any]:
            return ok(ctx, [render(t, ctx) for t in unfinished(ctx, family)])

        target.handles(spec.processing)(processing_handler)
    if spec.batch is not None:

        async def batch_handler(ctx: RequestContext) -> dict[str, Any]:
            wanted = ctx.body.get("_ids") or []
            rows: list[Row] = [render(t, ctx) for t in batch(ctx, family, wanted)]
            return ok(ctx, rows)

        target.handles(spec.batch)(batch_handler)
    for how in spec.status:

        async def get_handler(ctx: RequestContext, how: Status = how) -> dict[str, Any]:
            return ok(ctx, render(find(ctx, how), ctx))

        target.handles(how.operation_id)(get_handler)
    if spec.delete is not None:
        gone = spec.delete

        async def delete_handler(ctx: RequestContext) -> dict[str, Any]:
            mark_deleted(ctx, find(ctx, gone))
            return deleted(ctx)

        target.handles(gone.operation_id)(delete_handler)
