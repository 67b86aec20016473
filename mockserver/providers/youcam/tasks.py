"""Every YouCam AI task: run, poll, pre-process, delete; units; the polling window and retention.

One generic run handler and one status handler are bound to each row of features.yaml (and a
pair more for rows with a ``pre-process`` detection task), so a feature is a row, not code.
A task is ``running`` until its planned end, then ``success`` or ``error``. Engine failures
are HTTP 200 with ``task_status: "error"``. A running task not polled within the polling
window expires: every later GET answers 400 InvalidTaskId, even if processing finished, and
its units are still charged when the scenario says so. Each POST makes a new task.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mockserver.accounts import Settlement
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.families import FamilySpec
from mockserver.ids import urlsafe_id
from mockserver.lifecycle import TaskFamily
from mockserver.providers.youcam import results, units
from mockserver.providers.youcam.checks import CHECKS
from mockserver.providers.youcam.dialect import credit_insufficiency, invalid_task_id
from mockserver.providers.youcam.features import Feature, by_key, template_ids
from mockserver.providers.youcam.files import file_problem
from mockserver.providers.youcam.routes import handles
from mockserver.providers.youcam.stores import PollStore
from mockserver.providers.youcam.webhooks import has_webhooks
from mockserver.submit import submit_from
from mockserver.tasks import Task

if TYPE_CHECKING:
    from mockserver.registry import Provider

UNITS = "units"


def _expired(polls: PollStore, task: Task, polling_window: float | None) -> bool:
    """Lost to the polling window: still running when ``window`` passed without a poll."""
    if polls.expired_at(task) is not None:
        return True
    if polling_window is None:
        return False
    deadline = polls.last_polled_at(task) + polling_window
    return task.timeline.ends_at > deadline


def _charge_rule(polls: PollStore, polling_window: float | None, charge_expired: bool):
    def applies(task: Task, ended_at: float) -> bool:
        if not task.timeline.succeeded:
            return False
        return charge_expired or not _expired(polls, task, polling_window)

    return applies


def polling_window(ctx: RequestContext, feature: Feature | None = None) -> float | None:
    """The polling window, or None for a tenant notified by webhook: the docs ask for polling
    only "if webhooks are not supported ... or your integration cannot use webhooks". Skin
    analysis keeps its results 24 hours with no short-interval polling (its page says so)."""
    if feature is not None and not feature.polling_window:
        return None
    window = ctx.config.settings.get("polling_window")
    if window is None or has_webhooks(ctx.state, ctx.key):
        return None
    return window


def lookup(
    ctx: RequestContext,
    task_id: str,
    family: str | None = None,
    feature: Feature | None = None,
    poll: bool = False,
) -> Task:
    """The tenant's live task, or InvalidTaskId (unknown, foreign, past its retention,
    expired, or a task of another feature read through this feature's status path). A task
    past ``task_retention`` is gone the moment it passes; ``mockserver.retention`` evicts it.
    With ``poll`` (a status poll), a running task found counts as polled now."""
    task = ctx.state.store.get("youcam", ctx.key, task_id, ctx.now)
    if task is None or (family is not None and task.family.name != family):
        raise invalid_task_id()
    if feature is None:
        feature = by_key().get(task.family.name.removesuffix("/pre-process"))
    if PollStore.of(ctx.state).lost(task, ctx.now, polling_window(ctx, feature), poll):
        raise invalid_task_id()
    return task


def touch_polled(ctx: RequestContext) -> None:
    """A poll refused before it was served (a 429, an injected fault) still counts for the
    polling window unless ``refused_poll_counts`` is false: whether the real API counts it is
    undocumented [guess]. A task already lost stays lost."""
    task_id = ctx.request.match_info.get("task_id")
    if task_id is None or not ctx.settings.get("refused_poll_counts", True):
        return
    task = ctx.state.store.get("youcam", ctx.key, task_id)
    if task is None:
        return
    try:
        lookup(ctx, task_id, task.family.name)
    except ApiError:
        return
    if ctx.now < task.timeline.ends_at:
        PollStore.of(ctx.state).polled(task, ctx.now)


def cost_units(output_count: int, outputs_per_unit: float) -> int:
    return math.ceil(output_count / outputs_per_unit)


def _template_used(feature: Feature, body: dict[str, Any]) -> bool:
    """Whether the body's template_id is read at all: bg-replace ignores it unless
    ``type`` is ``template`` (its default is ``prompt``), so only then is it checked."""
    gate = feature.template_gate
    if gate is None:
        return True
    return body.get(gate["param"], gate["default"]) == gate["value"]


def _check_template(ctx: RequestContext, feature: Feature) -> None:
    template_id = ctx.body.get("template_id")
    if template_id is None or not feature.templates or not _template_used(feature, ctx.body):
        return
    if template_id not in template_ids(feature.key):
        raise ApiError(
            400,
            ctx.settings.get("unknown_template_code", "InvalidTemplate"),
            f"Invalid template id: {template_id}",
        )


def _submit(ctx: RequestContext, feature: Feature, family: TaskFamily, cost: float) -> Task:
    tenant = ctx.tenant
    accounts = ctx.state.accounts
    if cost:
        units.sync(ctx)  # lots that expired are gone before we count what is available
        available = tenant.available(UNITS, ctx.now, accounts.next_seq)
        if available < cost:
            raise credit_insufficiency(cost, available)
    failure = file_problem(ctx, feature)
    rng = ctx.state.id_rng("youcam")
    task = submit_from(
        ctx,
        family,
        dict(ctx.body),
        lambda: urlsafe_id(rng, 64),
        outcome="failure" if failure else None,
        failure=failure,
    )
    if cost:
        window = polling_window(ctx, feature)
        polls = PollStore.of(ctx.state)
        charge = _charge_rule(polls, window, bool(ctx.settings.get("charge_expired_tasks", True)))
        tenant.schedule(Settlement(task, UNITS, -cost, feature.action, charge), accounts.next_seq)
    return task


def _handler_stem(spec: FamilySpec) -> str:
    key = spec.options["feature"].key
    return f"{key}_pre_process" if spec.options.get("pre_process") else key


def run_handler(spec: FamilySpec):
    feature: Feature = spec.options["feature"]
    family = spec.family
    checks = [] if spec.options.get("pre_process") else [CHECKS[n] for n in feature.checks]

    async def run_task(ctx: RequestContext) -> dict[str, Any]:
        for check in checks:
            check(ctx.body)
        if not spec.options.get("pre_process"):
            _check_template(ctx, feature)
        task = _submit(ctx, feature, family, spec.cost(ctx, ctx.body))
        return {"status": 200, "data": {"task_id": task.id}}

    run_task.__name__ = f"run_{_handler_stem(spec)}"
    return run_task


def status_handler(spec: FamilySpec):
    """The status answer: the spec's pure row, and the result's ``dst_id`` file kept."""
    feature: Feature = spec.options["feature"]
    name = spec.name
    (status,) = spec.status

    async def get_task(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, ctx.params[status.id_field], name, feature, poll=True)
        data = spec.render(task, ctx)
        if data["task_status"] == "success" and not spec.options.get("pre_process"):
            results.keep_result_file(ctx, feature, task)
        return {"status": 200, "data": data}

    get_task.__name__ = f"get_{_handler_stem(spec)}"
    return get_task


def bind(provider: Provider, spec: FamilySpec) -> None:
    """YouCam's one generic set of task handlers, bound to a declared family."""
    provider.handles(spec.submit)(run_handler(spec))
    provider.handles(spec.status[0].operation_id)(status_handler(spec))


@handles("deleteTask")
async def delete_task(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, ctx.body["task_id"])
    if task.family.name.endswith("/pre-process"):
        # [GUESS] a detection task id is not a run-endpoint id
        raise ApiError(400, "OperationNotSupport", "Only tasks of a run endpoint can be deleted")
    if not task.is_done(ctx.now):
        raise ApiError(400, "OperationInvalid", "The task is not finished and cannot be deleted")
    ctx.state.delete_task(task, ctx.now)
    return {"status": 200}
