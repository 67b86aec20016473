"""The report card's webhook scenario: does the client's receiver reject forgeries?

Only YouCam signs its webhooks (Standard Webhooks), so only YouCam clients are graded here.
The card runs a loopback receiver that hands every delivery to the adapter's
``receive_webhook(body, headers) -> bool`` and answers 204 (accepted) or 400 (refused). The
client's task produces a genuine delivery (sent twice: a receiver must acknowledge a duplicate
too); then the card sends three forgeries made from it: a wrong signature, a body other than
the one signed, and a correctly signed but stale timestamp. Full marks: the genuine delivery
accepted, every forgery refused.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"avatar-mock report card secret!!").decode()
STALE_SECONDS = 3600


@dataclass
class Attempt:
    kind: str  # genuine | duplicate | bad_signature | tampered_body | stale_timestamp
    body: bytes
    headers: dict[str, str]
    accepted: bool | None = None
    error: str | None = None


@dataclass
class Receiver:
    """A loopback endpoint; ``client`` is the adapter of the scenario being played."""

    runner: web.AppRunner | None = None
    url: str = ""
    client: Any = None
    deliveries: list[Attempt] = field(default_factory=list)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/webhooks/youcam", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/webhooks/youcam"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        kind = headers.pop("X-Card-Attempt", "genuine")  # the client never sees the label
        if kind == "genuine" and any(d.kind == "genuine" for d in self.deliveries):
            kind = "duplicate"
        delivery = Attempt(kind, body, headers)
        self.deliveries.append(delivery)
        try:
            delivery.accepted = bool(await self.client.receive_webhook(body, headers))
        except Exception as exc:  # refusing by raising is refusing
            delivery.accepted, delivery.error = False, f"{type(exc).__name__}: {exc}"
        return web.Response(status=204 if delivery.accepted else 400)


def overlay(url: str) -> dict[str, Any]:
    """The scenario document: an endpoint for every tenant, each delivery sent twice."""
    return {
        "providers": {"youcam": {"settings": {"webhooks": [{"url": url, "secrets": [SECRET]}]}}},
        "webhooks": {"retry_schedule": [], "chaos": [{"effect": "duplicate"}]},
    }


def forgeries(genuine: Attempt) -> list[tuple[str, bytes, dict[str, str]]]:
    headers = {k.lower(): v for k, v in genuine.headers.items()}
    message_id = headers["webhook-id"]
    signature = headers["webhook-signature"]
    stale = int(time.time()) - STALE_SECONDS
    base = {"Content-Type": "application/json", "webhook-id": message_id}
    tampered = genuine.body.replace(b'"success"', b'"error"', 1)
    if tampered == genuine.body:
        tampered = genuine.body.replace(b'"error"', b'"success"', 1)
    return [
        (
            "bad_signature",
            genuine.body,
            {
                **base,
                "webhook-timestamp": headers["webhook-timestamp"],
                "webhook-signature": "v1," + base64.b64encode(b"\0" * 32).decode(),
            },
        ),
        (
            "tampered_body",
            tampered,
            {
                **base,
                "webhook-timestamp": headers["webhook-timestamp"],
                "webhook-signature": signature,
            },
        ),
        (
            "stale_timestamp",
            genuine.body,
            {
                **base,
                "webhook-timestamp": str(stale),
                "webhook-signature": sign(message_id, stale, genuine.body),
            },
        ),
    ]


def sign(message_id: str, timestamp: int, body: bytes) -> str:
    """A genuine signature with the card's secret, by the reference library (Standard Webhooks
    signs the body as text; a YouCam body is JSON, so UTF-8)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return Webhook(SECRET).sign(message_id, moment, body.decode())


async def send_forgeries(receiver: Receiver) -> None:
    genuine = next((d for d in receiver.deliveries if d.kind == "genuine"), None)
    if genuine is None:
        return
    async with aiohttp.ClientSession() as session:
        for kind, body, headers in forgeries(genuine):
            async with session.post(
                receiver.url, data=body, headers={**headers, "X-Card-Attempt": kind}
            ) as resp:
                await resp.read()
    await asyncio.sleep(0)
