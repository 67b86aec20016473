"""A2E's ``webhook_url`` / ``webhook_token`` on image-to-video (the newer spec fields).

The spec names the two fields and nothing else [doc via K1], so the shape is configurable:
``settings.webhook_shape`` sends ``envelope`` (default: ``{code: 0, data: <row>, trace_id}``,
what ``GET /userImage2Video/{_id}`` answers) or the bare ``row``; ``webhook_token_in`` puts the
token in ``Authorization: Bearer`` (default), a ``webhook_token`` body field, or ``?token=``.
Sent once, when the task ends (completed or failed). [guess]
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from mockserver.context import TaskView
from mockserver.providers.a2e.models import image2video_row
from mockserver.state import MockState
from mockserver.tasks import Task
from mockserver.webhooks import Delivery


class A2EWebhooks:
    def plan(self, state: MockState, task: Task, origin: str) -> list[Delivery]:
        url = task.params.get("webhook_url")
        if not url or task.family.name != "image2video" or math.isinf(task.timeline.ends_at):
            return []
        settings = state.scenario.providers["a2e"].settings
        token = task.params.get("webhook_token")
        token_in = settings.get("webhook_token_in", "header")
        shape = settings.get("webhook_shape", "envelope")
        if token and token_in == "query":
            url = f"{url}{'&' if '?' in url else '?'}{urlencode({'token': token})}"

        def render(due: float) -> dict[str, Any]:
            trace_id = state.webhooks.trace_id()
            view = TaskView.of(state, "a2e", task.tenant, due, origin, trace_id)
            data = image2video_row(task, view)
            body = {"code": 0, "data": data, "trace_id": trace_id} if shape == "envelope" else data
            if token and token_in == "body":
                body = {**body, "webhook_token": token}
            return body

        def sign(message_id: str, timestamp: int, body: bytes) -> tuple[dict[str, str], None]:
            if token and token_in == "header":
                return {"Authorization": f"Bearer {token}"}, None
            return {}, None

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
            )
        ]


PLANNER: A2EWebhooks = A2EWebhooks()
