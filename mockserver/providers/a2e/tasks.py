"""The caller's A2E tasks and records in the task store: ids, lookups, lists, pages, deletes.

A key never sees another key's task: unknown, another key's, deleted, or of another family
all look the same (the not-found refusal). Lists are newest first, in A2E's two pagination
styles: ``pageNum``/``pageSize`` -> ``{rows, count}`` and ``current``/``pageSize`` ->
``{current, total, success, data}`` (catalog §1, §15).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from itertools import islice
from typing import Any

from mockserver.context import RequestContext
from mockserver.families import Render, Row
from mockserver.ids import hex_id
from mockserver.lifecycle import TaskFamily, Timeline
from mockserver.providers.a2e.dialect import bad_request, not_found
from mockserver.providers.a2e.models import TaskRecord, TaskRecords
from mockserver.submit import admit, keep
from mockserver.tasks import Task

PROVIDER = "a2e"
DEFAULT_PAGE_SIZE = 10  # [guess] when a client leaves pageSize out
STATUS_LIMIT = 100  # [guess] a bare /status shows the newest 100, not an unbounded list
IN_PROCESSING = "Task in processing"  # a delete its family's rule refuses (400)
DeleteRule = Mapping[str, Collection[str]]  # {refuse: [states], refund: [states]}


def new_id(ctx: RequestContext) -> Callable[[], str]:
    """A Mongo-style 24-hex ``_id`` drawn from the seeded A2E id stream."""
    rng = ctx.state.id_rng(PROVIDER)
    return lambda: hex_id(rng, 24)


def hex24(ctx: RequestContext) -> str:
    """One fresh 24-hex id (for names and ids that are not a task's)."""
    return new_id(ctx)()


def find(ctx: RequestContext, family: TaskFamily, task_id: str) -> Task | None:
    """The caller's task of ``family``, or None."""
    task = ctx.state.store.get(PROVIDER, ctx.key, task_id, ctx.now)
    return task if task is not None and task.family is family else None


def find_or_refuse(ctx: RequestContext, family: TaskFamily, task_id: str) -> Task:
    """The caller's task of ``family``, or the not-found refusal (as ``find``, one call less
    on a poll's path)."""
    task = ctx.state.store.get(PROVIDER, ctx.key, task_id, ctx.now)
    if task is None or task.family is not family:
        raise not_found()
    return task


def newest_first(ctx: RequestContext, family: TaskFamily) -> Iterable[Task]:
    return ctx.state.store.newest_first(PROVIDER, ctx.key, family.name, ctx.now)


def count(ctx: RequestContext, family: TaskFamily) -> int:
    return ctx.state.store.count(PROVIDER, ctx.key, family.name, ctx.now)


def unfinished(ctx: RequestContext, family: TaskFamily) -> list[Task]:
    """The caller's tasks of ``family`` not yet ended, newest first (``processingRecord``)."""
    now = ctx.now
    return [t for t in newest_first(ctx, family) if not t.is_done(now)]


def succeeded(ctx: RequestContext, family: TaskFamily) -> list[Task]:
    """The caller's tasks of ``family`` that completed, newest first."""
    now, success = ctx.now, family.success
    return [t for t in newest_first(ctx, family) if t.state(now) == success]


def status_tasks(ctx: RequestContext, family: TaskFamily, id_field: str = "_id") -> list[Task]:
    """What a face-swap style ``/status`` lists: the ``?_id=`` task alone (``[]`` when unknown
    or foreign), else the tenant's newest tasks of the family."""
    wanted = ctx.params.get(id_field)
    if wanted is not None:
        task = find(ctx, family, wanted)
        return [task] if task is not None else []
    return list(islice(newest_first(ctx, family), STATUS_LIMIT))


def batch(ctx: RequestContext, family: TaskFamily, wanted: Iterable[Any]) -> list[Task]:
    """The caller's tasks of ``family`` among ``wanted`` ids, in the order asked; unknown,
    foreign and deleted ids are left out. [guess]"""
    found = (find(ctx, family, str(i)) for i in wanted)
    return [t for t in found if t is not None]


def _page(ctx: RequestContext, family: TaskFamily, page: int, size: int) -> Iterable[Task]:
    start = (page - 1) * size
    return islice(newest_first(ctx, family), start, start + size)


def rows_page(
    ctx: RequestContext, family: TaskFamily, render: Render, paging: Mapping[str, Any]
) -> Row:
    """Pagination style A: ``pageNum&pageSize`` -> ``{rows, count}``, newest first."""
    page = paging.get("pageNum", 1)
    size = paging.get("pageSize", DEFAULT_PAGE_SIZE)
    rows = [render(task, ctx) for task in _page(ctx, family, page, size)]
    return {"rows": rows, "count": count(ctx, family)}


def current_page(
    ctx: RequestContext, family: TaskFamily, render: Render, paging: Mapping[str, Any]
) -> Row:
    """Pagination style B: ``current&pageSize`` -> ``{current, total, success, data}``."""
    page = paging.get("current", 1)
    size = paging.get("pageSize", DEFAULT_PAGE_SIZE)
    rows = [render(task, ctx) for task in _page(ctx, family, page, size)]
    return {"current": page, "total": count(ctx, family), "success": True, "data": rows}


def record_family(name: str) -> TaskFamily:
    """A family of plain records (backgrounds, face images, sub-users): no lifecycle, no chaos.

    Kept in the task store for its tenant scoping, newest-first lists and deletes; not
    registered with the provider, so the control API does not offer to force one.
    """
    return TaskFamily(provider=PROVIDER, name=name, states=(), success="ready", failure="gone")


def store_record(ctx: RequestContext, family: TaskFamily, params: dict[str, Any]) -> Task:
    """Keep a plain record for the caller, ready at once (admitted and retained like a task)."""
    state = ctx.state
    admit(ctx)
    task = Task(
        id=new_id(ctx)(),
        provider=PROVIDER,
        family=family,
        tenant=ctx.key,
        seq=state.next_seq(PROVIDER),
        created_at=ctx.now,
        timeline=Timeline((family.success,), (ctx.now,), None),
        params=params,
    )
    return keep(ctx, task)


def keep_record(ctx: RequestContext, task: Task, record: TaskRecord) -> TaskRecord:
    """Keep what ``task`` holds beside its params (its charge, a drawn id) until it goes;
    again after a change in place, so a state backend writes it with the task."""
    ctx.state.store.changed(task)
    return TaskRecords.of(ctx.state).put(task, record)


def mark_deleted(ctx: RequestContext, task: Task, *, refund: bool = False) -> None:
    """Forget a task or record with what eviction takes but its uploads (an A2E upload is
    its own resource). A refund that fell due by now still applies; one still pending
    lapses (its task's end is never seen) unless ``refund`` applies it now."""
    ctx.state.delete_task(task, ctx.now, refund=refund)


def delete_by_rule(ctx: RequestContext, task: Task, rule: DeleteRule | None) -> None:
    """Delete ``task`` as its family's ``rule`` says for the state it is in now: refused
    (400 "Task in processing") in a ``refuse`` state, its coins given back at once in a
    ``refund`` state, else a plain delete. No rule: any state deletes, unrefunded.

    The reference documents two: image-to-video deletes only ``initialized``, ``completed``
    and ``failed`` tasks and refunds ``initialized`` ones; head swap refuses ``sent``,
    ``pending`` and ``processing``, refunds ``initialized``, and deletes ``completed`` or
    ``failed`` without a refund (a failed one got its coins back when it failed)."""
    status = task.state(ctx.now)
    rule = rule or {}
    if status in rule.get("refuse", ()):
        raise bad_request(IN_PROCESSING)
    mark_deleted(ctx, task, refund=status in rule.get("refund", ()))
