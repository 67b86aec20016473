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

from mockserver.context import RequestContext, View
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, models
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import LIPSYNC, LIPSYNC_SPEC, TWIN, completed_twin
from mockserver.providers.a2e.models import EyeContactRecord, TrainingRecord, iso_ms, updated_at
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.task_endpoints import start
from mockserver.providers.a2e.tasks import PROVIDER, keep_record, new_id, newest_first, succeeded
from mockserver.submit import submit_from
from mockserver.tasks import Task

# A family without a FamilySpec (its operations are this module's): provider.py registers it.
EYE_CONTACT = TaskFamily(
    provider="a2e",
    name="eye_contact",
    states=("processing",),
    success="completed",
    failure="failed",
)
KINDS = {"lipsync": "lip_sync", EYE_CONTACT.name: "eye_contact"}  # family -> record type
DEFAULT_FAILED_MESSAGE = "training failed"


@handles("postApiV1UserVideoTwinContinueTraining")
async def continue_training(ctx: RequestContext) -> dict[str, Any]:
    """``continueTranining`` under the reference's spelling: the same start, the same answer."""
    task = start(ctx, LIPSYNC_SPEC, LIPSYNC_SPEC.options["params"](ctx))
    return ok(ctx, models.trained_twin(task, ctx))


def twin_of(view: View, task: Task) -> Task | None:
    """The custom avatar a training is for (None for a task made before a reset)."""
    record = models.record_of(view, task, TrainingRecord)
    return None if record is None else record.twin


def training_row(ctx: View, task: Task) -> dict[str, Any]:
    twin = twin_of(ctx, task)
    assert twin is not None  # _trainings keeps only the trainings of a twin still there
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
    twins = ((t, twin_of(ctx, t)) for t in newest_first(ctx, family))
    return [
        t
        for t, twin in twins
        if twin is not None and store.get(PROVIDER, ctx.key, twin.id, now) is not None
    ]


@handles("getApiV1UserVideoTwinTrainingRecords")
async def list_twin_trainings(ctx: RequestContext) -> dict[str, Any]:
    tasks = _trainings(ctx, LIPSYNC) + _trainings(ctx, EYE_CONTACT)
    tasks.sort(key=lambda t: t.seq, reverse=True)
    return ok(ctx, [training_row(ctx, t) for t in tasks])


@billing.quotes("userVideoTwin/eyeContact")
def eye_contact_price(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "eye_contact")}


def _twin_to_enhance(ctx: RequestContext) -> Task:
    twin_id = ctx.body.get("_id")
    if twin_id:
        return completed_twin(ctx, twin_id)
    twins = succeeded(ctx, TWIN)
    if not twins:
        raise bad_request("no completed video twin to enhance")
    return twins[0]


@handles("postApiV1UserVideoTwinEyeContact")
async def start_eye_contact(ctx: RequestContext) -> dict[str, Any]:
    twin = _twin_to_enhance(ctx)
    for earlier in _trainings(ctx, EYE_CONTACT):
        status = earlier.state(ctx.now)
        if twin_of(ctx, earlier) is twin and status != EYE_CONTACT.failure:
            raise bad_request(f"video twin {twin.id} already has eye contact ({status})")
    coins = eye_contact_price(ctx, ctx.body)[billing.COINS]
    billing.require(ctx, coins)
    task = submit_from(ctx, EYE_CONTACT, {"_id": twin.id}, new_id(ctx))
    record = keep_record(ctx, task, EyeContactRecord(amount=coins, twin=twin))
    billing.charge(ctx, task, record, EYE_CONTACT.name)
    return ok(ctx, training_row(ctx, task))
