"""The relay's ``notify_hook``: an unsigned POST of the task object (midjourney-proxy lineage).

Nothing in the relay's own docs describes delivery; the family convention is a POST of the
same object the family's status route returns (``GET /avatar/task/{id}``'s ``data``),
``Content-Type: application/json``, no signature, no retries, on every change
(midjourney-proxy, Crazyrouter) or on completion (same-family Suno docs).
``settings.notify_mode`` picks ``terminal`` (default) or ``every``; ``notify_wrap`` sends the
object ``bare`` (default) or in ``{code, message, data}``; ``notify_retries`` adds retries.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.context import TaskView
from mockserver.registry import providers
from mockserver.state import MockState
from mockserver.tasks import Task
from mockserver.webhooks import Delivery


class RelayWebhooks:
    def plan(self, state: MockState, task: Task, origin: str) -> list[Delivery]:
        hook = task.params.get("notify_hook")
        if not hook:
            return []
        settings = state.scenario.providers["relay"].settings
        timeline = task.timeline
        changes = [
            (s, t) for s, t in zip(timeline.states, timeline.times, strict=True) if math.isfinite(t)
        ]
        if changes and changes[0][0] not in task.family.terminal:
            # where the task starts is not a change; an end at once (forced at the moment of
            # its submit, say) is
            changes = changes[1:]
        if settings.get("notify_mode", "terminal") == "terminal":
            changes = [c for c in changes if c[0] in task.family.terminal]
        wrapped = settings.get("notify_wrap", "bare") == "envelope"
        retries = tuple(settings.get("notify_retries") or ())

        def render(due: float) -> dict[str, Any]:
            view = TaskView.of(state, "relay", task.tenant, due, origin, "")
            # the object the family's own status route shows (registry: no import cycle)
            obj = providers()["relay"].family_specs[task.family.name].render(task, view)
            return {"code": "success", "message": "", "data": obj} if wrapped else obj

        return [
            Delivery(
                id=state.webhooks.next_id(),
                provider="relay",
                tenant=task.tenant,
                target=hook,
                due=at,
                render=render,
                message_id=f"{task.id}:{name}",
                task=task,
                expect_state=name,
                retry_schedule=retries,
            )
            for name, at in changes
        ]


PLANNER: RelayWebhooks = RelayWebhooks()
