"""The endpoints A2E's newer task families share, registered once per family.

Dubbing, caption removal, talking video and talking photo each have a start (coins checked,
charged at submit, refunded on failure), a ``pageNum``/``pageSize`` list, an optional
``processingRecord``, a detail by ``/{_id}`` and by ``detail?_id=``, and a delete. Only the
row each family renders and its price differ, so a family module declares a ``FamilySpec``
(``provider.declare``) and :func:`bind`, the provider's ``bind_family``, binds these handlers
to the operationIds it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.context import RequestContext
from mockserver.families import FamilySpec, Lookup, PriceRule, Row, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.common import (
    PROVIDER,
    deleted,
    lookup,
    mark_deleted,
    new_id,
    ok,
    rows_page,
    unfinished,
)
from mockserver.registry import Provider
from mockserver.submit import submit_from
from mockserver.tasks import Task


def coins_rule(price: Callable[[RequestContext, dict[str, Any]], billing.Price]) -> PriceRule:
    """A2E's quoted price (``billing.Price``, a currency map) as the coins a submit charges."""
    return lambda ctx, body: price(ctx, dict(body))[billing.COINS]


def start_task(ctx: RequestContext, family: TaskFamily, coins: float) -> Task:
    """Check the balance, plan the task, charge it (refunded if it fails)."""
    billing.require(ctx, coins)
    task = submit_from(ctx, family, dict(ctx.body), new_id(ctx))
    task.extra = {"coins": coins}
    billing.charge(ctx, task, coins, family.name)
    return task


def bind(target: Provider, spec: FamilySpec) -> None:
    """A2E's one generic set of family handlers, bound to the operationIds ``spec`` names."""
    family = spec.family

    def row(ctx: RequestContext, task: Task) -> Row:
        return spec.render(task, ctx)

    def find(ctx: RequestContext, how: Status) -> Task:
        source = ctx.body if how.lookup is Lookup.BODY else ctx.params
        return lookup(ctx, family, source[how.id_field])

    async def start_handler(ctx: RequestContext) -> dict[str, Any]:
        task = start_task(ctx, family, spec.cost(ctx, ctx.body))
        return ok(ctx, row(ctx, task))

    target.handles(spec.submit)(start_handler)
    if spec.list_all is not None:

        async def list_handler(ctx: RequestContext) -> dict[str, Any]:
            return ok(ctx, rows_page(ctx, family, row))

        target.handles(spec.list_all)(list_handler)
    if spec.processing is not None:

        async def processing_handler(ctx: RequestContext) -> dict[str, Any]:
            return ok(ctx, [row(ctx, t) for t in unfinished(ctx, family)])

        target.handles(spec.processing)(processing_handler)
    if spec.batch is not None:

        async def batch_handler(ctx: RequestContext) -> dict[str, Any]:
            wanted = ctx.body.get("ids") or ctx.body.get("_ids") or []
            return ok(ctx, [row(ctx, t) for t in batch(ctx, family, wanted)])

        target.handles(spec.batch)(batch_handler)
    for how in spec.status:

        async def get_handler(ctx: RequestContext, how: Status = how) -> dict[str, Any]:
            return ok(ctx, row(ctx, find(ctx, how)))

        target.handles(how.operation_id)(get_handler)
    if spec.delete is not None:
        gone = spec.delete

        async def delete_handler(ctx: RequestContext) -> dict[str, Any]:
            mark_deleted(ctx, find(ctx, gone))
            return deleted(ctx)

        target.handles(gone.operation_id)(delete_handler)


def batch(ctx: RequestContext, family: TaskFamily, wanted: list[Any]) -> list[Task]:
    """The caller's tasks of ``family`` among ``wanted`` ids, in the order asked; unknown,
    foreign and deleted ids are left out. [guess]"""
    found = (ctx.state.store.get(PROVIDER, ctx.key, str(i), ctx.now) for i in wanted)
    return [t for t in found if t is not None and t.family is family]
