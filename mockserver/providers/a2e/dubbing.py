"""AI dubbing: ``userDubbing/startDubbing``, ``allRecords``, ``processingRecord``, ``{_id}``
(GET, DELETE) and ``detail?_id=`` (catalog §8).

A dubbing walks ``initialized -> processing -> completed`` (or ``failed`` with
``failed_message``/``failed_code``) [inf §8: clients wait for completed/failed (C10); the
working states follow C15]. ``result_url`` is an mp4 on the mock once completed (a dubbed
video; an audio source gets an mp3 [guess]). It costs ``costs.dubbing`` coins (0 by default:
A2E publishes no price), charged at submit and refunded on failure.

Choices where the catalog is silent, each [guess]: a row is ``{_id, name, source_url,
source_lang, target_lang, num_speakers, drop_background_audio, current_status, result_url,
failed_message, failed_code, coins, createdAt, updatedAt}``; ``source_lang`` defaults to
``auto``, ``num_speakers`` to 1, ``drop_background_audio`` to false.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from mockserver.context import RequestContext, View
from mockserver.families import FamilySpec, Lookup, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, provider
from mockserver.providers.a2e.common import (
    iso_ms,
    outcome_fields,
    updated_at,
)
from mockserver.providers.a2e.task_endpoints import coins_rule
from mockserver.tasks import Task

DUBBING = provider.family(
    TaskFamily(
        provider="a2e",
        name="dubbing",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
DEFAULT_FAILED_MESSAGE = "dubbing failed"
AUDIO_SUFFIXES = {".mp3": "result.mp3", ".wav": "result.wav", ".m4a": "result.mp3"}


def row(task: Task, ctx: View) -> dict[str, Any]:
    params = task.params
    suffix = PurePosixPath(params["source_url"].split("?", 1)[0]).suffix.lower()
    fixture = AUDIO_SUFFIXES.get(suffix, "result.mp4")
    return {
        "_id": task.id,
        "name": params.get("name", ""),
        "source_url": params["source_url"],
        "source_lang": params.get("source_lang", "auto"),
        "target_lang": params["target_lang"],
        "num_speakers": params.get("num_speakers", 1),
        "drop_background_audio": params.get("drop_background_audio", False),
        **outcome_fields(ctx, task, DEFAULT_FAILED_MESSAGE, fixture),
        "coins": (task.extra or {}).get("coins", 0),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


@billing.prices("userDubbing/startDubbing")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "dubbing")}


provider.declare(
    FamilySpec(
        family=DUBBING,
        render=row,
        price=coins_rule(price),
        submit="postApiV1UserDubbingStartDubbing",
        status=(
            Status("getApiV1UserDubbingId"),
            Status("getDubbingDetail", Lookup.QUERY),
        ),
        list_all="getApiV1UserDubbingAllRecords",
        delete=Status("deleteApiV1UserDubbingId"),
        processing="listProcessingDubbing",
    )
)
