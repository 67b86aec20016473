"""Webhooks of A2E's model families, as the 2026 reference documents them.

``webhook_url`` (HTTPS, up to 2048 characters) gets one POST when the task ends, event
``task.completed`` or ``task.failed``, with ``webhook_token`` (up to 256) in the
``X-A2e-Webhook-Token`` header; "best-effort delivery, single attempt, no retries" [doc], so
a delivery has no retry schedule. The reference names no body: the mock sends
``{event, task_id, data: <the detail row>}`` [guess]. Tasks of the families served before
(image-to-video) keep the planner of ``webhooks``, whose shape clients already rely on.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.context import TaskView
from mockserver.providers.a2e import model_families, webhooks
from mockserver.state import MockState
from mockserver.tasks import Task
from mockserver.webhooks import Delivery

TOKEN_HEADER = "X-A2e-Webhook-Token"
EVENTS = {True: "task.completed", False: "task.failed"}


class ModelWebhooks:
    def __init__(self, others: webhooks.A2EWebhooks) -> None:
        self.others = others

    def plan(self, state: MockState, task: Task, origin: str) -> list[Delivery]:
        spec = model_families.FAMILIES.get(task.family.name)
        if spec is None:
            return self.others.plan(state, task, origin)
        url = task.params.get("webhook_url")
        if not url or math.isinf(task.timeline.ends_at):
            return []
        token = task.params.get("webhook_token")
        event = EVENTS[task.timeline.succeeded]

        def render(due: float) -> dict[str, Any]:
            view = TaskView.of(state, "a2e", task.tenant, due, origin, state.webhooks.trace_id())
            return {"event": event, "task_id": task.id, "data": spec.render(task, view)}

        def sign(message_id: str, timestamp: int, body: bytes) -> tuple[dict[str, str], None]:
            return ({TOKEN_HEADER: str(token)} if token else {}), None

        return [
            Delivery(
                id=state.webhooks.next_id(),
                provider="a2e",
                tenant=task.tenant,
                target=url,
                due=task.timeline.ends_at,
                render=render,
                message_id=task.id,
                sign=sign,
                task=task,
                expect_state=task.timeline.final_state,
                retry_schedule=(),
            )
        ]


PLANNER: ModelWebhooks = ModelWebhooks(webhooks.PLANNER)
