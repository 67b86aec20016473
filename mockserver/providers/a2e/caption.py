"""Caption removal: ``userCaptionRemoval/start``, ``allRecords``, ``processingRecord``,
``{_id}`` (GET, DELETE) and ``detail?_id=`` (catalog §10).

A task walks ``initialized -> processing -> completed`` (or ``failed``) [inf §10; completed and
failed are terminal in C1]; ``result_url`` is the cleaned mp4 on the mock. The input is
``source_url`` (C1) or ``video_url`` (C13/C14 and one JS client): both are accepted and the row
shows it as ``source_url``. It costs ``costs.caption_removal`` coins (0 by default: A2E
publishes no price), charged at submit and refunded on failure.

Choices where the catalog is silent, each [guess]: a row is ``{_id, name, source_url,
current_status, result_url, failed_message, failed_code, coins, createdAt, updatedAt}``.
"""

from __future__ import annotations

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

CAPTION = provider.family(
    TaskFamily(
        provider="a2e",
        name="caption_removal",
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    )
)
DEFAULT_FAILED_MESSAGE = "caption removal failed"


def row(task: Task, ctx: View) -> dict[str, Any]:
    params = task.params
    return {
        "_id": task.id,
        "name": params.get("name", ""),
        "source_url": params.get("source_url") or params["video_url"],
        **outcome_fields(ctx, task, DEFAULT_FAILED_MESSAGE),
        "coins": (task.extra or {}).get("coins", 0),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, ctx.now)),
    }


@billing.prices("userCaptionRemoval/start")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Price:
    return {billing.COINS: billing.cost_of(ctx, "caption_removal")}


provider.declare(
    FamilySpec(
        family=CAPTION,
        render=row,
        price=coins_rule(price),
        submit="postApiV1UserCaptionRemovalStart",
        status=(
            Status("getApiV1UserCaptionRemovalId"),
            Status("getCaptionRemovalDetail", Lookup.QUERY),
        ),
        list_all="getApiV1UserCaptionRemovalAllRecords",
        batch="postApiV1UserCaptionRemovalBatchDetail",
        delete=Status("deleteApiV1UserCaptionRemovalId"),
        processing="listProcessingCaptionRemoval",
    )
)
