"""The trainings a completed video twin can get after its first: ``continueTraining`` (the
personalized lip-sync model of ``continueTranining``, sic, spelled right by the reference),
``eyeContact`` (eye contact enhancement), and ``trainingRecords``, both kinds in every state.

Choices where the reference is silent, each [guess]:

- ``continueTraining`` is ``continueTranining``: same body ``{_id}``, refusals, diamonds and
  answer (the twin). The reference's "resumes a paused twin" has no pause to resume in the
  mock, whose twins never pause.
- ``eyeContact`` takes ``{_id}`` of a completed twin (without one: the caller's newest
  completed twin; none is a 400); a twin with an enhancement running or done is a 400, one
  that failed may try again. It costs ``costs.eye_contact`` coins (0 by default: A2E
  publishes no price), charged at start and refunded on failure, and runs as the scenario's
  ``eye_contact`` family. It answers its training record.
- a training record is ``{_id, type: lip_sync | eye_contact, name (the twin's),
  user_video_twin_id, current_status, failed_message, createdAt, updatedAt}``; those of a
  removed twin are gone with it. ``trainingRecords`` is a bare array, newest first.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import avatar, billing, provider
from mockserver.providers.a2e.common import (
    PROVIDER,
    iso_ms,
    new_id,
    newest_first,
    ok,
    updated_at,
)
from mockserver.providers.a2e.dialect import bad_request
from mockserver.submit import submit_from
from mockserver.tasks import Task

EYE_CONTACT = provider.family(
    TaskFamily(
        provider="a2e",
        name="eye_contact",
        states=("processing",),
        success="completed",
        failure="failed",
    )
)
KINDS = {"lipsync": "lip_sync", EYE_CONTACT.name: "eye_contact"}  # family -> record type
DEFAULT_FAILED_MESSAGE = "training failed"


@provider.handles("postApiV1UserVideoTwinContinueTraining")
async def continue_training(ctx: RequestContext) -> dict[str, Any]:
    return await avatar.continue_video_twin_training(ctx)


def training_row(ctx: RequestContext, task: Task) -> dict[str, Any]:
    twin = (task.extra or {})["twin"]
    status = task.state(ctx.now)
    failure = (task.timeline.failure or {}) if status == task.family.failure else None
    return {
        "_id": task.id,
        "type": KINDS[task.family.name],
        "name": twin.params["name"],
        "user_video_twin_id": twin.id,
        "current_status": status,
        "failed_message": (
            str(failure.get("failed_message") or DEFAULT_FAILED_MESSAGE)
            if failure is not None
            else ""
        ),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


def _trainings(ctx: RequestContext, family: TaskFamily) -> list[Task]:
    """The caller's trainings of ``family`` whose twin is still there."""
    store, now = ctx.state.store, ctx.now
    return [
        t
        for t in newest_first(ctx, family)
        if store.get(PROVIDER, ctx.key, (t.extra or {})["twin"].id, now) is not None
    ]


@provider.handles("getApiV1UserVideoTwinTrainingRecords")
async def list_twin_trainings(ctx: RequestContext) -> dict[str, Any]:
    tasks = _trainings(ctx, avatar.LIPSYNC) + _trainings(ctx, EYE_CONTACT)
    tasks.sort(key=lambda t: t.seq, reverse=True)
    return ok(ctx, [training_row(ctx, t) for t in tasks])


@billing.prices("userVideoTwin/eyeContact")
def eye_contact_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "eye_contact")}


def _twin_to_enhance(ctx: RequestContext) -> Task:
    twin_id = ctx.body.get("_id")
    if twin_id:
        return avatar.completed_twin(ctx, twin_id)
    twins = avatar.completed_twins(ctx)
    if not twins:
        raise bad_request("no completed video twin to enhance")
    return twins[0]


@provider.handles("postApiV1UserVideoTwinEyeContact")
async def start_eye_contact(ctx: RequestContext) -> dict[str, Any]:
    twin = _twin_to_enhance(ctx)
    for earlier in _trainings(ctx, EYE_CONTACT):
        status = earlier.state(ctx.now)
        if earlier.extra and earlier.extra["twin"] is twin and status != EYE_CONTACT.failure:
            raise bad_request(f"video twin {twin.id} already has eye contact ({status})")
    coins = eye_contact_price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, coins)
    task = submit_from(ctx, EYE_CONTACT, {"_id": twin.id}, new_id(ctx))
    task.extra = {"twin": twin}
    billing.charge(ctx, task, coins, EYE_CONTACT.name)
    return ok(ctx, training_row(ctx, task))
