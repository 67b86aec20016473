"""YouCam notifies by Standard Webhooks when a task ends in ``success`` or ``error``.

Headers ``webhook-id`` (``msg_<task_id>:<created_at>``, the same on every retry),
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 over
``id.timestamp.body``, keyed by the base64 part of a ``whsec_`` secret; during a rotation one
signature per secret, space-separated). The body is thin: ``{created_at, data: {task_id,
task_status}}``; the receiver fetches the result with the task id. Endpoints and secrets come
from ``providers.youcam.settings.webhooks`` (per tenant, or for every tenant).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from typing import Any

from mockserver.state import MockState
from mockserver.tasks import Task
from mockserver.webhooks import Delivery

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class StandardWebhooksSigner:
    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets

    def __call__(
        self, message_id: str, timestamp: int, body: bytes
    ) -> tuple[dict[str, str], str | None]:
        signature = " ".join(sign(s, message_id, timestamp, body) for s in self.secrets)
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
        return headers, signature


def _endpoints(state: MockState, tenant: str) -> list[dict[str, Any]]:
    endpoints = state.scenario.providers["youcam"].settings.get("webhooks") or []
    return [e for e in endpoints if e.get("tenant") in (None, tenant)]


def has_webhooks(state: MockState, tenant: str) -> bool:
    """A tenant with an endpoint is notified, so it need not poll (no polling-window expiry).

    Asked on every poll, so it builds no list."""
    endpoints = state.scenario.providers["youcam"].settings.get("webhooks") or ()
    return any(e.get("tenant") in (None, tenant) for e in endpoints)


class YouCamWebhooks:
    def plan(self, state: MockState, task: Task, origin: str) -> list[Delivery]:
        endpoints = _endpoints(state, task.tenant)
        ends_at = task.timeline.ends_at
        if not endpoints or math.isinf(ends_at):
            return []
        created_at = int(ends_at)
        final = task.timeline.final_state

        def render(due: float) -> dict[str, Any]:
            return {"created_at": created_at, "data": {"task_id": task.id, "task_status": final}}

        return [
            Delivery(
                id=state.webhooks.next_id(),
                provider="youcam",
                tenant=task.tenant,
                target=endpoint["url"],
                due=ends_at,
                render=render,
                message_id=f"msg_{task.id}:{created_at}",
                sign=StandardWebhooksSigner(list(endpoint["secrets"])),
                task=task,
                expect_state=final,
            )
            for endpoint in endpoints
        ]


PLANNER = YouCamWebhooks()
