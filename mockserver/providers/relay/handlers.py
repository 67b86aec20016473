"""The relay's one generic set of task handlers, bound to each declared FamilySpec.

new-api's task relay works the same way for every family: submit takes the family's quota
(``spec.price``, currency ``quota``) up front and gives it back when the task ends in
failure; a status call finds the caller's task by id (another key's id is not found, as
new-api answers both alike) and shows it through the family's renderer. What differs per
family is in the spec's ``options``:

- ``params``: body and path parameters -> task params (:mod:`.bodies`), required;
- ``new_id``: rng -> a new task id (default: the spec's ``new_id`` style);
- ``accepted``: (task, view) -> the submit answer (default: the envelope with the id as data);
- ``found``: (row or rows, view) -> the status or batch answer (default: in the envelope);
- ``short``: the refusal when quota cannot pay (default: ``quota_not_enough``);
- ``missing``: task id -> the refusal for an unknown id (default: ``task_not_exist``);
- ``operations``: operationId -> handler factory ``(spec) -> Handler``, for what a family
  serves beside submit, status and batch (the video object's list, content, remix, delete).

Two scenario settings reach every family: ``token_concurrency_limit`` (new-api's
TokenConcurrencyGate: a key with that many unfinished tasks, of any relay family, is refused
a new one; null: no cap) and ``refund_failed`` (false: a failed task stays charged, as
new-api #2050 reports for /v1/videos).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mockserver.accounts import Settlement
from mockserver.families import FamilySpec, IdStyle, Lookup, Row, Status
from mockserver.ids import hex_id, uuid4
from mockserver.providers.relay.dialect import (
    quota_not_enough,
    task_not_exist,
    token_concurrency_limit,
)
from mockserver.submit import submit_from

if TYPE_CHECKING:
    from mockserver.context import RequestContext, View
    from mockserver.errors import ApiError
    from mockserver.registry import Handler, Provider
    from mockserver.tasks import Task

QUOTA = "quota"


def envelope(data: Any) -> Row:
    """new-api's task envelope around an answer."""
    return {"code": "success", "message": "", "data": data}


def _accepted(task: Task, view: View) -> Row:
    return envelope(task.id)


def _found(row: Row, view: View) -> Row:
    return envelope(row)


def _new_id(style: IdStyle, rng: random.Random) -> Callable[[], str]:
    if style is IdStyle.UUID4:
        return lambda: uuid4(rng.getrandbits(128))
    return lambda: hex_id(rng, 24 if style is IdStyle.HEX24 else 32)


def _refund_if_failed(task: Task, ended_at: float) -> bool:
    return not task.timeline.succeeded


def running_tasks(ctx: RequestContext) -> int:
    """The caller's unfinished tasks, every relay family together."""
    store, now = ctx.state.store, ctx.now
    return sum(
        1
        for name in ctx.provider.task_families
        for task in store.newest_first("relay", ctx.key, name, now)
        if not task.is_done(now)
    )


def gate(ctx: RequestContext) -> None:
    """Refuse a new task past the key's concurrency cap."""
    limit = ctx.settings.get("token_concurrency_limit")
    if limit and running_tasks(ctx) >= int(limit):
        raise token_concurrency_limit(ctx.request_id)


Reader = Callable[["RequestContext", dict[str, Any]], dict[str, Any]]


def submit_handler(spec: FamilySpec, read: Reader | None = None) -> Handler:
    """Submit a task of ``spec``: ``read(ctx, params and body)`` gives its params (default:
    the spec's ``params`` reader, which needs only the body)."""
    if read is None:
        body_only: Callable[[dict[str, Any]], dict[str, Any]] = spec.options["params"]
        read = lambda ctx, body: body_only(body)  # noqa: E731
    reader: Reader = read
    accepted: Callable[[Task, View], Row] = spec.options.get("accepted", _accepted)
    short: Callable[[], ApiError] = spec.options.get("short", quota_not_enough)
    minted: Callable[[random.Random], str] | None = spec.options.get("new_id")

    async def handle(ctx: RequestContext) -> Row:
        gate(ctx)  # new-api's gate is middleware: it answers before the body is read
        params = reader(ctx, {**ctx.params, **ctx.body})
        cost = float(spec.cost(ctx, ctx.body))
        tenant = ctx.tenant
        accounts = ctx.state.accounts
        if cost > 0 and tenant.available(QUOTA, ctx.now, accounts.next_seq) < cost:
            raise short()
        rng = ctx.state.id_rng("relay")
        new_id = _new_id(spec.new_id, rng) if minted is None else (lambda: minted(rng))
        task = submit_from(ctx, spec.family, params, new_id)
        if cost > 0:
            tenant.apply(QUOTA, -cost, ctx.now, spec.name, task.id)
        if cost > 0 and ctx.settings.get("refund_failed", True):
            refund = Settlement(
                task, QUOTA, cost, f"{spec.name} refund (task failed)", _refund_if_failed
            )
            tenant.schedule(refund, accounts.next_seq)
        return accepted(task, ctx)

    return handle


def find(ctx: RequestContext, spec: FamilySpec, task_id: str) -> Task:
    """The caller's task of this family, or the family's not-found refusal."""
    task = ctx.state.store.get("relay", ctx.key, task_id, ctx.now)
    if task is None or task.family.name != spec.name:
        missing: Callable[[str], ApiError] = spec.options.get("missing", _not_exist)
        raise missing(task_id)
    return task


def _not_exist(task_id: str) -> ApiError:
    return task_not_exist()


def status_handler(spec: FamilySpec, status: Status) -> Handler:
    found: Callable[[Row, View], Row] = spec.options.get("found", _found)
    render, name, id_field = spec.render, spec.name, status.id_field
    missing: Callable[[str], ApiError] = spec.options.get("missing", _not_exist)
    from_body = status.lookup is Lookup.BODY  # decided here, not on every poll

    async def handle(ctx: RequestContext) -> Row:
        task_id = str((ctx.body if from_body else ctx.params).get(id_field, ""))
        task = ctx.state.store.get("relay", ctx.key, task_id, ctx.now)
        if task is None or task.family.name != name:
            raise missing(task_id)
        return found(render(task, ctx), ctx)

    return handle


def batch_handler(spec: FamilySpec) -> Handler:
    """``{"ids": [...]}``: the caller's tasks among them, in the order asked; ids that are
    unknown or another key's are left out (Suno-API's fetch)."""
    found: Callable[[Any, View], Row] = spec.options.get("found", _found)

    async def handle(ctx: RequestContext) -> Row:
        store, rows = ctx.state.store, []
        for task_id in dict.fromkeys(ctx.body.get("ids") or ()):
            task = store.get("relay", ctx.key, str(task_id), ctx.now)
            if task is not None and task.family.name == spec.name:
                rows.append(spec.render(task, ctx))
        return found(rows, ctx)

    return handle


def bind_family(provider: Provider, spec: FamilySpec) -> None:
    """Register the submit, status and batch handlers a relay family declares."""
    provider.handles(spec.submit)(submit_handler(spec))
    for status in spec.status:
        provider.handles(status.operation_id)(status_handler(spec, status))
    if spec.batch is not None:
        provider.handles(spec.batch)(batch_handler(spec))
    factories: Mapping[str, Callable[[FamilySpec], Handler]] = spec.options.get("operations", {})
    for operation_id, factory in factories.items():
        provider.handles(operation_id)(factory(spec))
