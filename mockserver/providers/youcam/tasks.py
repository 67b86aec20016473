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
from collections.abc import Callable
from typing import Any

from mockserver.accounts import Settlement
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.ids import urlsafe_id
from mockserver.lifecycle import TaskFamily
from mockserver.providers.youcam import results, units
from mockserver.providers.youcam.checks import CHECKS
from mockserver.providers.youcam.dialect import credit_insufficiency, invalid_task_id
from mockserver.providers.youcam.families import FAMILIES
from mockserver.providers.youcam.features import Feature, by_key, features, template_ids, units_for
from mockserver.providers.youcam.files import file_problem
from mockserver.providers.youcam.routes import handles
from mockserver.providers.youcam.stores import PollStore
from mockserver.providers.youcam.webhooks import has_webhooks
from mockserver.submit import submit_from
from mockserver.tasks import Task

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
) -> Task:
    """The tenant's live task, or InvalidTaskId (unknown, foreign, past its retention,
    expired, or a task of another feature read through this feature's status path). A task
    past ``task_retention`` is gone the moment it passes; ``mockserver.retention`` evicts it."""
    task = ctx.state.store.get("youcam", ctx.key, task_id, ctx.now)
    if task is None or (family is not None and task.family.name != family):
        raise invalid_task_id()
    if feature is None:
        feature = by_key().get(task.family.name.removesuffix("/pre-process"))
    window = polling_window(ctx, feature)
    polls = PollStore.of(ctx.state)
    if polls.expired_at(task) is None and window is not None:
        deadline = polls.last_polled_at(task) + window
        if ctx.now > deadline and task.timeline.ends_at > deadline:
            polls.expire(task, deadline)
    if polls.expired_at(task) is not None:
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


def task_cost(ctx: RequestContext, feature: Feature, body: dict[str, Any]) -> float:
    """Units the task costs on success; ``costs.<slug>`` in the scenario overrides proc_unit."""
    override = ctx.config.costs.get(feature.key)
    return units_for(feature, body, float(override) if override else None)


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


def run_handler(feature: Feature):
    family = FAMILIES[feature.key]
    checks = [CHECKS[name] for name in feature.checks]

    async def run_task(ctx: RequestContext) -> dict[str, Any]:
        for check in checks:
            check(ctx.body)
        _check_template(ctx, feature)
        task = _submit(ctx, feature, family, task_cost(ctx, feature, ctx.body))
        return {"status": 200, "data": {"task_id": task.id}}

    run_task.__name__ = f"run_{feature.key}"
    return run_task


def pre_run_handler(feature: Feature):
    """Detection tasks cost nothing [GUESS: no unit line for them in any unit table]."""
    family = FAMILIES[feature.pre_key]

    async def run_pre_process(ctx: RequestContext) -> dict[str, Any]:
        task = _submit(ctx, feature, family, 0)
        return {"status": 200, "data": {"task_id": task.id}}

    run_pre_process.__name__ = f"run_{feature.key}_pre_process"
    return run_pre_process


def _status(
    ctx: RequestContext, task: Task, build: Callable[..., dict[str, Any]], arg: Any
) -> dict[str, Any]:
    """The status answer; ``build(ctx, arg, task)`` makes the results of a success."""
    now = ctx.now
    timeline = task.timeline
    if now < timeline.ends_at:
        PollStore.of(ctx.state).polled(task, now)
    status = timeline.state_at(now)
    data: dict[str, Any] = {"task_status": status, "error": None, "results": None}
    if status == "success":
        data["results"] = build(ctx, arg, task)
    elif status == "error":
        failure = timeline.failure or {}
        data["error"] = failure.get("error", "unknown_internal_error")
        data["error_message"] = failure.get("error_message", "")
    interval = ctx.config.settings.get("polling_interval_ms")
    if interval is not None:
        data["polling_interval"] = interval
    return {"status": 200, "data": data}


def status_handler(feature: Feature):
    key = feature.key

    async def get_task(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, ctx.params["task_id"], key, feature)
        return _status(ctx, task, results.build, feature)

    get_task.__name__ = f"get_{key}"
    return get_task


def pre_status_handler(feature: Feature):
    key = feature.pre_key
    kind = feature.pre_process or "boxes"

    async def get_pre_process(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, ctx.params["task_id"], key, feature)
        return _status(ctx, task, results.pre_process, kind)

    get_pre_process.__name__ = f"get_{feature.key}_pre_process"
    return get_pre_process


for _feature in features():
    handles(_feature.run_op)(run_handler(_feature))
    handles(_feature.status_op)(status_handler(_feature))
    if _feature.pre_process:
        handles(_feature.pre_run_op)(pre_run_handler(_feature))
        handles(_feature.pre_status_op)(pre_status_handler(_feature))


@handles("deleteTask")
async def delete_task(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, ctx.body["task_id"])
    if task.family.name.endswith("/pre-process"):
        # [GUESS] a detection task id is not a run-endpoint id
        raise ApiError(400, "OperationNotSupport", "Only tasks of a run endpoint can be deleted")
    if not task.is_done(ctx.now):
        raise ApiError(400, "OperationInvalid", "The task is not finished and cannot be deleted")
    ctx.state.store.remove(task)
    PollStore.of(ctx.state).drop_task(task)
    return {"status": 200}
