"""The reference clients (contracts/clients) as report-card adapters: the full-marks baseline.

A valid submit body comes from the contract (its example, or an instance of its schema); a
YouCam ``template_id`` is the feature's first listed template.
"""

from __future__ import annotations

from typing import Any

from ..clients.a2e import A2EClient
from ..clients.base import PollingClient
from ..clients.relay import RelayClient
from ..clients.webhook_verify import (
    WebhookVerificationError,
    YouCamWebhookVerifier,
)
from ..clients.youcam import YouCamClient
from ..suite.operation_catalog import operation_catalog
from ..suite.payloads import flatten, instance
from .model import ClientFactory, Harness

CLIENTS: dict[str, type[PollingClient]] = {
    "youcam": YouCamClient,
    "relay": RelayClient,
    "a2e": A2EClient,
}


class ReferenceAdapter:
    """Submit one valid task and wait for it with the provider's reference client."""

    def __init__(self, harness: Harness, body: dict[str, Any] | None = None) -> None:
        self.harness = harness
        self.body = body
        self.client = CLIENTS[harness.provider](
            harness.base_url, harness.api_key, sleep=harness.sleep
        )
        self.family = next(
            f for f in operation_catalog(harness.provider).families if f.name == harness.family
        )
        secret = harness.webhook_secret
        self.verifier = YouCamWebhookVerifier(secret) if secret else None

    async def _body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        cat = operation_catalog(self.harness.provider)
        submit = self.family.submit
        example = cat.request_example(submit)
        if example is not None:
            return example
        hints: dict[str, Any] = {}
        wants_template = "template_id" in flatten(submit.body_schema or {}).get("properties", {})
        if isinstance(self.client, YouCamClient) and wants_template:
            async for template in self.client.templates(self.family.client_name):
                hints["template_id"] = template["id"]
                break
        return instance(submit.body_schema, hints=hints)

    async def submit(self) -> str:
        body = await self._body()
        if isinstance(self.client, RelayClient):
            return await self.client.submit(body)
        return await self.client.submit(self.family.client_name, body)  # type: ignore[attr-defined]

    async def wait(self, task_id: str) -> Any:
        where: dict[str, str] = {}
        if isinstance(self.client, YouCamClient):
            where = {"feature": self.family.client_name}
        elif isinstance(self.client, A2EClient):
            where = {"family": self.family.client_name}
        return await self.client.wait(task_id, **where)

    async def receive_webhook(self, body: bytes, headers: Any) -> bool:
        """The endpoint a careful application runs: verify, then acknowledge (once)."""
        if self.verifier is None:
            return False
        try:
            self.verifier.verify(body, headers)
        except WebhookVerificationError:
            return False
        return True  # a duplicate is acknowledged too; Notification.duplicate says skip it

    async def close(self) -> None:
        await self.client.close()


def reference_client(body: dict[str, Any] | None = None) -> ClientFactory:
    """A factory the report card takes: the reference client, optionally with a fixed body."""

    def factory(harness: Harness) -> ReferenceAdapter:
        return ReferenceAdapter(harness, body)

    factory.__name__ = "reference client"
    return factory
