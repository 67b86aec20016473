"""A loopback webhook receiver for tests: records every request, answers as told."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""


@dataclass
class Receiver:
    server: TestServer
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    gate: asyncio.Event | None = None  # when set up, requests wait for it

    def url(self, path: str = "/hook") -> str:
        return str(self.server.make_url(path))


async def start_receiver() -> Receiver:
    app = web.Application()
    receiver: Receiver

    async def handle(request: web.Request) -> web.Response:
        receiver.received.append(
            Received(
                request.path, dict(request.headers), await request.read(), request.query_string
            )
        )
        if receiver.gate is not None:
            await receiver.gate.wait()
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        return web.Response(status=status, text="ok")

    app.router.add_post("/{tail:.*}", handle)
    server = TestServer(app)
    await server.start_server()
    receiver = Receiver(server)
    return receiver
