"""Verify YouCam (Standard Webhooks) notifications in your own receiver.

The signature check itself is the ``standardwebhooks`` package's (the reference
implementation); this adds what a YouCam receiver needs around it: several secrets during a
rotation, deduplication by ``webhook-id`` (the same on every retry), and the thin body parsed
into the task id and status you then fetch the result with. See WEBHOOKS.md for an example.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from standardwebhooks import Webhook, WebhookVerificationError

__all__ = ["Notification", "WebhookVerificationError", "YouCamWebhookVerifier"]


@dataclass(frozen=True)
class Notification:
    message_id: str
    task_id: str
    task_status: str  # "success" | "error"
    created_at: int
    duplicate: bool  # already seen: acknowledge it (2xx) and do nothing


class YouCamWebhookVerifier:
    """Checks signature and timestamp (±5 min), then remembers the ids it accepted."""

    def __init__(self, *secrets: str, remember: int = 10_000) -> None:
        if not secrets:
            raise ValueError("give at least one whsec_ secret")
        self._webhooks = [Webhook(secret) for secret in secrets]
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """The notification in ``body``, or WebhookVerificationError if it is forged or stale.

        Pass the raw body bytes: re-serialised JSON no longer matches the signature.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        payload = None
        error: WebhookVerificationError | None = None
        for webhook in self._webhooks:
            try:
                payload = webhook.verify(body, lowered)
                break
            except WebhookVerificationError as exc:
                error = exc
        if payload is None:
            raise error or WebhookVerificationError("no matching signature")
        try:
            data = payload["data"]
            task_id, status, created = data["task_id"], data["task_status"], payload["created_at"]
        except (KeyError, TypeError) as exc:
            raise WebhookVerificationError("not a YouCam task notification") from exc
        message_id = lowered["webhook-id"]
        duplicate = message_id in self._seen
        self._seen[message_id] = None
        self._seen.move_to_end(message_id)
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return Notification(message_id, task_id, status, int(created), duplicate)
