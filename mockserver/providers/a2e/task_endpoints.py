"""A2E's one generic set of task-family handlers, bound to each declared FamilySpec.

Every A2E task family has a start (the price checked, charged at submit, refunded on
failure), lists, detail reads by ``/{_id}``, ``?_id=`` or a body ``_id``, and often a delete.
What differs per family is declared (:mod:`.families`): the row, the price and the
operationIds on the spec itself, and in ``options`` what only A2E's binder reads:

- ``params``: ctx -> the task's params (default: the body); may refuse, e.g. an unknown
  ``custom_back_id``;
- ``record``: (ctx, task, amount) -> the task's :class:`~.models.TaskRecord` (default: the
  charge alone; a voice also draws its ``speaker_id``);
- ``currency`` (default coins) and ``reason`` (default the family's name) of the charge;
- ``accepted``: the start's answer (default: the row);
- ``views``: operationId -> what that status operation shows of the task, when it is not
  the row (awsResult's one-row array, face swap's five ``/status`` fields);
- ``paging``: ``list_all``'s pagination style (default :attr:`Paging.ROWS`), and ``lists``:
  more list operations (:class:`Listing`);
- ``completed``: an operation listing the completed tasks (a bare array);
- ``delete``: the delete's rule by state, ``{refuse: [states], refund: [states]}``
  (:func:`.tasks.delete_by_rule`; default: any state deletes, unrefunded).

A status of :attr:`~mockserver.families.Lookup.STATUS_LIST` answers an array: the ``?_id=``
task alone (``[]`` when unknown or another key's), else the newest of the family.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.context import RequestContext, View
from mockserver.families import FamilySpec, Lookup, Status
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import deleted, ok
from mockserver.providers.a2e.models import TaskRecord
from mockserver.providers.a2e.tasks import (
    batch,
    current_page,
    delete_by_rule,
    find_or_refuse,
    keep_record,
    new_id,
    rows_page,
    status_tasks,
    succeeded,
    unfinished,
)
from mockserver.registry import Handler, Provider
from mockserver.submit import submit_from
from mockserver.tasks import Task

Shows = Callable[[Task, View], Any]  # what an operation shows of one task


class Paging(enum.Enum):
    """A2E's two pagination styles (catalog §1, §15)."""

    ROWS = "rows"  # pageNum/pageSize -> {rows, count}
    CURRENT = "current"  # current/pageSize -> {current, total, success, data}


@dataclass(frozen=True)
class Listing:
    """A list operation: its pagination style and where it reads the page (query or body)."""

    operation_id: str
    paging: Paging = Paging.ROWS
    source: Lookup = Lookup.QUERY


def _body(ctx: RequestContext) -> dict[str, Any]:
    return dict(ctx.body)


def _charge_only(ctx: RequestContext, task: Task, amount: float) -> TaskRecord:
    return TaskRecord(amount)


def start(ctx: RequestContext, spec: FamilySpec, params: dict[str, Any]) -> Task:
    """Check the balance, plan the task, keep its record and charge it (refunded on failure)."""
    options = spec.options
    amount = spec.cost(ctx, params)
    currency: str = options.get("currency", billing.COINS)
    billing.require(ctx, amount, currency)
    task = submit_from(ctx, spec.family, params, new_id(ctx))
    make_record: Callable[[RequestContext, Task, float], TaskRecord]
    make_record = options.get("record", _charge_only)
    record = keep_record(ctx, task, make_record(ctx, task, amount))
    billing.charge(ctx, task, record, options.get("reason", spec.name), currency)
    return task


def _list_handler(spec: FamilySpec, listing: Listing) -> Handler:
    family, render = spec.family, spec.render
    page = rows_page if listing.paging is Paging.ROWS else current_page
    from_body = listing.source is Lookup.BODY

    async def handle(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, page(ctx, family, render, ctx.body if from_body else ctx.params))

    return handle


def _status_handler(spec: FamilySpec, how: Status) -> Handler:
    family = spec.family
    view: Shows = spec.options.get("views", {}).get(how.operation_id, spec.render)
    if how.lookup is Lookup.STATUS_LIST:

        async def listed(ctx: RequestContext) -> dict[str, Any]:
            return ok(ctx, [view(t, ctx) for t in status_tasks(ctx, family, how.id_field)])

        return listed
    from_body = how.lookup is Lookup.BODY

    async def found(ctx: RequestContext) -> dict[str, Any]:
        source = ctx.body if from_body else ctx.params
        return ok(ctx, view(find_or_refuse(ctx, family, source[how.id_field]), ctx))

    return found


def _rows_handler(spec: FamilySpec, tasks: Callable[[RequestContext], list[Task]]) -> Handler:
    render = spec.render

    async def handle(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, [render(t, ctx) for t in tasks(ctx)])

    return handle


def bind(target: Provider, spec: FamilySpec) -> None:
    """A2E's one generic set of family handlers, bound to the operationIds ``spec`` names."""
    family, options = spec.family, spec.options
    read: Callable[[RequestContext], dict[str, Any]] = options.get("params", _body)
    accepted: Shows = options.get("accepted", spec.render)

    async def start_handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, accepted(start(ctx, spec, read(ctx)), ctx))

    target.handles(spec.submit)(start_handler)
    lists: tuple[Listing, ...] = options.get("lists", ())
    if spec.list_all is not None:
        lists = (Listing(spec.list_all, options.get("paging", Paging.ROWS)), *lists)
    for listing in lists:
        target.handles(listing.operation_id)(_list_handler(spec, listing))
    if spec.processing is not None:
        target.handles(spec.processing)(_rows_handler(spec, lambda c: unfinished(c, family)))
    if "completed" in options:
        target.handles(options["completed"])(_rows_handler(spec, lambda c: succeeded(c, family)))
    if spec.batch is not None:
        wanted: Callable[[RequestContext], list[Task]]
        wanted = lambda c: batch(c, family, c.body.get("ids") or c.body.get("_ids") or [])  # noqa: E731
        target.handles(spec.batch)(_rows_handler(spec, wanted))
    for how in spec.status:
        target.handles(how.operation_id)(_status_handler(spec, how))
    if spec.delete is not None:
        gone, rule = spec.delete, options.get("delete")
        from_body = gone.lookup is Lookup.BODY

        async def delete_handler(ctx: RequestContext) -> dict[str, Any]:
            source = ctx.body if from_body else ctx.params
            delete_by_rule(ctx, find_or_refuse(ctx, family, source[gone.id_field]), rule)
            return deleted(ctx)

        target.handles(gone.operation_id)(delete_handler)
