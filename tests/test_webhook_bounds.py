"""Webhook bounds: a receiver that never answers holds its own slots and no others, an attempt's
timeout runs from when it is sent, and the queue and the records kept are bounded.

Real receivers on loopback: one that accepts connections and never answers, one that answers.
The only real waiting is the (small) attempt timeout of the silent one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import pytest

from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

# A real-time timeout: long enough that a healthy local receiver answers within it on a
# loaded 2-core machine (at 0.3 s one of eight good deliveries timed out there, once).
TIMEOUT = 0.8
GENERATION = {"avatar_url": "https://e.x/face.jpg", "audio_url": "https://e.x/hi.mp3"}
STATES = "{NOT_START: 1, SUBMITTED: 1, QUEUED: 1, IN_PROGRESS: 1}"


def scenario(webhooks: str, relay_settings: str = "{}") -> str:
    """Relay tasks that end 4 s after submit, and the webhook engine's settings."""
    return (
        f"providers: {{relay: {{settings: {relay_settings}, "
        f"families: {{avatar: {{states: {STATES}}}}}}}}}\n"
        f"webhooks: {webhooks}\n"
    )


@dataclass
class Silent:
    """Accepts connections, reads whatever comes, never answers."""

    server: asyncio.Server
    open: set[asyncio.StreamWriter] = field(default_factory=set)
    peak: int = 0
    accepted: int = 0

    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/hook"


async def start_silent() -> Silent:
    silent: Silent

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.accepted += 1
        silent.open.add(writer)
        silent.peak = max(silent.peak, len(silent.open))
        try:
            while await reader.read(65536):  # until the client gives up and closes
                pass
        finally:
            silent.open.discard(writer)
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    silent = Silent(server)
    return silent


@pytest.fixture
async def silent():
    s = await start_silent()
    yield s
    s.server.close()
    for writer in list(s.open):
        writer.close()


@pytest.fixture
async def receiver():
    r = await start_receiver()
    yield r
    await r.server.close()


async def submit(mock, hook: str) -> str:
    status, body = await mock.call(
        "POST", "/avatar/generation", json={**GENERATION, "notify_hook": hook}
    )
    assert status == 200, body
    return body["data"]


def attempts_to(mock, url: str) -> list[dict]:
    return [a for a in mock.state.webhooks.attempts if a["target"] == url]


async def test_a_receiver_that_never_answers_delays_only_its_own_deliveries(
    make_mock, silent, receiver
):
    mock = await make_mock(scenario(f"{{timeout: {TIMEOUT}, concurrency: 8, per_target: 2}}"))
    for _ in range(8):  # due first, and as many as there are slots in all
        await submit(mock, silent.url())
    for _ in range(8):
        await submit(mock, receiver.url())
    mock.advance(10)
    await mock.state.webhooks.flush()
    good = attempts_to(mock, receiver.url())
    assert len(receiver.received) == 8
    assert [a["status"] for a in good] == [200] * 8 and all(a["error"] is None for a in good)
    hung = attempts_to(mock, silent.url())
    assert [a["error"] for a in hung] == ["timeout"] * 8
    # each attempt's clock started when it was sent, not while it waited for a slot
    assert all(TIMEOUT * 1000 * 0.9 <= a["latency_ms"] < TIMEOUT * 1000 * 2.5 for a in hung)
    assert silent.peak == 2 and silent.accepted == 8  # its own slots, every one used, no more


async def test_a_full_queue_drops_new_deliveries_with_an_attempt_entry(make_mock, receiver, caplog):
    mock = await make_mock(scenario("{queue_size: 2}"))
    ids = [await submit(mock, receiver.url()) for _ in range(4)]
    with caplog.at_level(logging.WARNING, logger="avatar_mock"):
        mock.advance(10)
        await mock.state.webhooks.flush()
    assert len(receiver.received) == 2
    status, body = await mock.call("GET", "/__mock/webhooks", key=None)
    assert status == 200
    by_task = {a["task_id"]: a for a in body["attempts"]}
    assert {by_task[i]["status"] for i in ids[:2]} == {200}
    for task_id in ids[2:]:
        dropped = by_task[task_id]
        assert dropped["status"] is None and dropped["attempt"] == 0
        assert dropped["error"] == "dropped: the delivery queue is full (2 waiting)"
    assert body["pending"] == 0
    lines = [r for r in caplog.records if "delivery queue is full" in r.getMessage()]
    assert len(lines) == 1  # two drops, one log line


async def test_finished_deliveries_kept_are_bounded(make_mock, receiver):
    mock = await make_mock(scenario("{attempts_kept: 3}"))
    for _ in range(6):
        await submit(mock, receiver.url())
    mock.advance(10)
    await mock.state.webhooks.flush()
    engine = mock.state.webhooks
    assert len(receiver.received) == 6
    assert len(engine.attempts) == 3 and len(engine.deliveries) == 3
    assert sum(len(v) for v in engine._by_task.values()) == 3
    kept = {a["delivery_id"] for a in engine.attempts}
    assert set(engine.deliveries) == kept
    status, body = await mock.call("POST", "/__mock/webhooks/dlv_000001/redeliver", key=None)
    assert (status, body["error"]) == (404, "no such delivery")


async def test_failed_attempts_still_retry_on_schedule(make_mock, receiver):
    mock = await make_mock(scenario(f"{{timeout: {TIMEOUT}}}", "{notify_retries: [5]}"))
    receiver.statuses = [500]
    await submit(mock, receiver.url())
    mock.advance(10)
    await mock.state.webhooks.flush()
    mock.advance(5)
    await mock.state.webhooks.flush()
    assert [a["status"] for a in mock.state.webhooks.attempts] == [500, 200]
    assert mock.state.webhooks.pending() == 0
