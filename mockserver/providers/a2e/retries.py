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

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import avatar, billing, caption, provider
from mockserver.providers.a2e.common import lookup, ok
from mockserver.providers.a2e.dialect import bad_request
from mockserver.submit import submit_from
from mockserver.tasks import Task


def failed_task(ctx: RequestContext, family: TaskFamily, task_id: str) -> Task:
    """The caller's task of ``family`` if it failed; else the not-found or a 400."""
    task = lookup(ctx, family, task_id)
    status = task.state(ctx.now)
    if status != family.failure:
        raise bad_request(f"task {task_id} is {status}: only a failed task can be retried")
    return task


def rerun(ctx: RequestContext, old: Task) -> Task:
    """``old`` planned again under its own id, replacing it (the caller charges it)."""
    task = submit_from(ctx, old.family, dict(old.params), lambda: old.id)
    task.extra = {k: v for k, v in (old.extra or {}).items() if k != "deleted_at"}
    return task


@provider.handles("postApiV1UserCaptionRemovalRetry")
async def retry_caption_removal(ctx: RequestContext) -> dict[str, Any]:
    old = failed_task(ctx, caption.CAPTION, ctx.body["_id"])
    coins = caption.price(ctx, dict(old.params))[billing.COINS]
    billing.require(ctx, coins)
    task = rerun(ctx, old)
    task.extra = {**(task.extra or {}), "coins": coins}
    billing.charge(ctx, task, coins, caption.CAPTION.name)
    return ok(ctx, caption.row(task, ctx))


@provider.handles("postApiV1UserVideoTwinRetry")
async def retry_video_twin(ctx: RequestContext) -> dict[str, Any]:
    old = failed_task(ctx, avatar.TWIN, ctx.body["_id"])
    diamonds = avatar.training_price(ctx, dict(old.params))[billing.DIAMONDS]
    billing.require(ctx, diamonds, billing.DIAMONDS)
    task = rerun(ctx, old)
    billing.charge(ctx, task, diamonds, "avatar_image", billing.DIAMONDS)
    return ok(ctx, avatar.record(ctx, task))
