"""AI Avatar tasks: run, poll, delete; units; the polling window and retention.

A task is ``running`` until its planned end, then ``success`` or ``error``. Engine failures
are HTTP 200 with ``task_status: "error"``. A running task not polled within the polling
window expires: every later GET answers 400 InvalidTaskId, even if processing finished, and
its units are still charged when the scenario says so.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.accounts import Settlement
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.ids import urlsafe_id
from mockserver.lifecycle import TaskFamily
from mockserver.providers.youcam import provider
from mockserver.providers.youcam.dialect import (
    credit_insufficiency,
    invalid_parameters,
    invalid_task_id,
)
from mockserver.providers.youcam.files import uploaded_file
from mockserver.providers.youcam.templates import template_ids
from mockserver.providers.youcam.webhooks import has_webhooks
from mockserver.submit import submit
from mockserver.tasks import Task

AI_AVATAR = provider.family(
    TaskFamily(
        provider="youcam", name="ai-avatar", states=("running",), success="success", failure="error"
    )
)
UNITS = "units"


def _expired(task: Task, polling_window: float | None) -> bool:
    """Lost to the polling window: still running when ``window`` passed without a poll."""
    if task.expired_at is not None:
        return True
    if polling_window is None:
        return False
    deadline = task.last_polled_at + polling_window
    return task.timeline.ends_at > deadline


def _charge_rule(polling_window: float | None, charge_expired: bool):
    def applies(task: Task, ended_at: float) -> bool:
        if not task.timeline.succeeded:
            return False
        return charge_expired or not _expired(task, polling_window)

    return applies


def polling_window(ctx: RequestContext) -> float | None:
    """The polling window, or None for a tenant notified by webhook: the docs ask for polling
    only "if webhooks are not supported ... or your integration cannot use webhooks"."""
    if has_webhooks(ctx.state, ctx.key):
        return None
    return ctx.settings.get("polling_window")


def lookup(ctx: RequestContext, task_id: str) -> Task:
    """The tenant's live task, or InvalidTaskId (unknown, foreign, too old, or expired)."""
    task = ctx.state.store.get("youcam", ctx.key, task_id)
    if task is None:
        raise invalid_task_id()
    retention = ctx.settings.get("task_retention")
    if retention is not None and ctx.now - task.created_at > retention:
        ctx.state.store.remove(task)
        raise invalid_task_id()
    window = polling_window(ctx)
    if task.expired_at is None and window is not None:
        deadline = task.last_polled_at + window
        if ctx.now > deadline and task.timeline.ends_at > deadline:
            task.expired_at = deadline
    if task.expired_at is not None:
        raise invalid_task_id()
    return task


def cost_units(output_count: int, outputs_per_unit: float) -> int:
    return math.ceil(output_count / outputs_per_unit)


@provider.handles("runAiAvatarTask")
async def run_ai_avatar(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    if body["template_id"] not in template_ids("ai-avatar"):
        raise ApiError(
            400,
            ctx.settings.get("unknown_template_code", "InvalidTemplate"),
            f"Invalid template id: {body['template_id']}",
        )
    cost = cost_units(body["output_count"], ctx.config.costs.get("ai-avatar", 4))
    tenant = ctx.tenant
    accounts = ctx.state.accounts
    available = tenant.available(UNITS, ctx.now, accounts.next_seq)
    if available < cost:
        raise credit_insufficiency(cost, available)
    outcome = failure = None
    if "src_file_id" in body and uploaded_file(ctx, body["src_file_id"]) is None:
        if ctx.settings.get("missing_upload") == "reject":
            raise invalid_parameters("src_file_id: no uploaded file with this id")
        outcome = "failure"
        failure = {
            "error": ctx.settings.get("missing_upload_error", "unknown_internal_error"),
            "error_message": "The source file was never uploaded.",
        }
    rng = ctx.state.id_rng("youcam")
    task = submit(
        ctx, AI_AVATAR, dict(body), lambda: urlsafe_id(rng, 64), outcome=outcome, failure=failure
    )
    window = polling_window(ctx)
    charge = _charge_rule(window, bool(ctx.settings.get("charge_expired_tasks", True)))
    tenant.schedule(Settlement(task, UNITS, -cost, "ai-avatar", charge), accounts.next_seq)
    return {"status": 200, "data": {"task_id": task.id}}


def _results(ctx: RequestContext, task: Task) -> dict[str, Any]:
    ttl = ctx.settings.get("result_url_ttl")
    expires = None if ttl is None else ctx.now + ttl
    links = ctx.state.links
    return {
        "output": [
            {"url": links.url(ctx.origin, "result.jpg", f"{task.id[:16]}_{i}.jpg", expires)}
            for i in range(task.params["output_count"])
        ]
    }


@provider.handles("getAiAvatarTask")
async def get_ai_avatar(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, ctx.params["task_id"])
    now = ctx.now
    if now < task.timeline.ends_at:
        task.last_polled_at = now
    status = task.state(now)
    data: dict[str, Any] = {"task_status": status, "error": None, "results": None}
    if status == "success":
        data["results"] = _results(ctx, task)
    elif status == "error":
        failure = task.timeline.failure or {}
        data["error"] = failure.get("error", "unknown_internal_error")
        data["error_message"] = failure.get("error_message", "")
    interval = ctx.settings.get("polling_interval_ms")
    if interval is not None:
        data["polling_interval"] = interval
    return {"status": 200, "data": data}


@provider.handles("deleteTask")
async def delete_task(ctx: RequestContext) -> dict[str, Any]:
    task = lookup(ctx, ctx.body["task_id"])
    if not task.is_done(ctx.now):
        raise ApiError(400, "OperationInvalid", "The task is not finished and cannot be deleted")
    ctx.state.store.remove(task)
    return {"status": 200}
