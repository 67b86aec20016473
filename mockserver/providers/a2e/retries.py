"""``retry`` of caption removal and of video twins: a failed task runs again.

The reference documents no body ("which task is retried is not documented"), only that a
retry "answers like a new submission" and that a client keeps watching "the same or returned
task identifier". The mock's choices, each [guess]:

- the body is ``{_id}``; an unknown, foreign or deleted id is the 404 of any unknown record,
  and a task that has not failed is a 400 (only a failed task is eligible);
- the task runs again under the same ``_id``, from its first state, with the parameters it
  was started with: a new plan (outcome, timings, webhooks) as a new submission gets, and the
  record moves to the top of the lists (``createdAt`` is the retry's);
- it is charged again as a new submission (the failure refunded the first charge) and
  refunded again should it fail again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import CAPTION, TWIN, caption_quote, training_quote
from mockserver.providers.a2e.models import TaskRecord, caption_row, record_of, twin_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import find_or_refuse, keep_record
from mockserver.submit import submit_from
from mockserver.tasks import Task


def failed_task(ctx: RequestContext, family: TaskFamily, task_id: str) -> Task:
    """The caller's task of ``family`` if it failed; else the not-found or a 400."""
    task = find_or_refuse(ctx, family, task_id)
    status = task.state(ctx.now)
    if status != family.failure:
        raise bad_request(f"task {task_id} is {status}: only a failed task can be retried")
    return task


def rerun(ctx: RequestContext, old: Task, amount: float) -> tuple[Task, TaskRecord]:
    """``old`` planned again under its own id, replacing it, and its record (what it drew,
    an anchor id, kept) with the new charge; the caller charges it."""
    kept = record_of(ctx, old, TaskRecord) or TaskRecord()
    task = submit_from(ctx, old.family, dict(old.params), lambda: old.id)
    return task, keep_record(ctx, task, replace(kept, amount=amount))


@handles("postApiV1UserCaptionRemovalRetry")
async def retry_caption_removal(ctx: RequestContext) -> dict[str, Any]:
    old = failed_task(ctx, CAPTION, ctx.body["_id"])
    coins = caption_quote(ctx, dict(old.params))[billing.COINS]
    billing.require(ctx, coins)
    task, record = rerun(ctx, old, coins)
    billing.charge(ctx, task, record, CAPTION.name)
    return ok(ctx, caption_row(task, ctx))


@handles("postApiV1UserVideoTwinRetry")
async def retry_video_twin(ctx: RequestContext) -> dict[str, Any]:
    old = failed_task(ctx, TWIN, ctx.body["_id"])
    diamonds = training_quote(ctx, dict(old.params))[billing.DIAMONDS]
    billing.require(ctx, diamonds, billing.DIAMONDS)
    task, record = rerun(ctx, old, diamonds)
    billing.charge(ctx, task, record, "avatar_image", billing.DIAMONDS)
    return ok(ctx, twin_row(task, ctx))
