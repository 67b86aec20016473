"""Webhook deliveries on a state backend: what is due outlives a ``kill -9``, what was sent is
not sent again, and two replicas on one store send each delivery once (a lease each)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from mockserver.scenario import parse_text
from tests.conftest import start_mock
from tests.serve_processes import SECRET, on_store
from tests.test_state_persist import GOOD, RELAY
from tests.test_webhooks import SECRET as HOOK_SECRET
from tests.test_webhooks import youcam_hooks
from tests.test_youcam_ai_avatar import run
from tests.webhook_receiver import Receiver, start_receiver

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

EVERY = "providers: {relay: {settings: {notify_mode: every}}}\n"


@pytest.fixture
async def receiver() -> object:
    r = await start_receiver()
    yield r
    await r.server.close()


# --- a real process killed with SIGKILL, a receiver on loopback ----------------------------


class _Hits:
    """A loopback receiver in a thread of its own (the test itself blocks on urllib)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        hits = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hits.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int) -> list[dict]:
        end = time.monotonic() + 10
        while len(self.bodies) < n and time.monotonic() < end:
            time.sleep(0.01)  # waiting for a real socket, not for mock time
        return self.bodies

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hits() -> Iterator[_Hits]:
    h = _Hits()
    yield h
    h.close()


def test_a_delivery_due_after_a_kill_9_is_sent_by_the_restarted_mock_and_only_once(
    tmp_path: Path, hits: _Hits
) -> None:
    url = f"sqlite:{tmp_path / 'state.db'}"
    served = on_store(url)
    try:
        status, made = served.call("POST", RELAY, {**GOOD, "notify_hook": hits.url})
        assert status == 200, made
        task_id = made["data"]
    finally:
        served.kill()  # before the task ends: the delivery is not due yet
    assert hits.bodies == []
    served = on_store(url)
    try:
        served.call("POST", "/__mock/clock/advance", {"seconds": 600, "deliver": True})
        (body,) = hits.wait_for(1)
        assert body["task_id"] == task_id and body["status"] == "SUCCESS"
    finally:
        served.kill()
    served = on_store(url)
    try:  # the restarted mock knows it was sent: nothing is pending, nothing goes again
        served.call("POST", "/__mock/clock/advance", {"seconds": 600, "deliver": True})
        status, journal = served.call("GET", "/__mock/webhooks")
        assert status == 200 and journal["pending"] == 0 and journal["attempts"] == []
        assert len(hits.bodies) == 1
    finally:
        served.stop()


# --- two replicas on one store --------------------------------------------------------------


async def _replicas(store_url: str, scenario: str):  # type: ignore[no-untyped-def]
    a = await start_mock(parse_text(scenario), state=store_url, secret=SECRET)
    b = await start_mock(parse_text(scenario), state=store_url, secret=SECRET)
    return a, b


async def _settled(*mocks) -> None:  # type: ignore[no-untyped-def]
    """Until no replica has a delivery left to look at (one whose lease another held is
    looked at again a second later)."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        pending = [(await m.call("GET", "/__mock/webhooks", key=None))[1] for m in mocks]
        if all(p["pending"] == 0 for p in pending):
            return
        await asyncio.sleep(0.05)  # real time: a lease is on the wall clock
    raise AssertionError(f"deliveries still pending: {pending}")


async def test_two_replicas_send_a_youcam_delivery_once_signed(
    store_url: str, receiver: Receiver
) -> None:
    (a, client_a), (b, client_b) = await _replicas(store_url, youcam_hooks(receiver.url()))
    try:
        task_id = await run(a)  # created through A
        advance = {"seconds": 60, "deliver": True}  # B sends what fell due before it answers
        status, _ = await b.call("POST", "/__mock/clock/advance", key=None, json=advance)
        assert status == 200  # advanced through B
        assert len(receiver.received) == 1  # sent by B, which did not plan it
        for mock in (a, b):  # both flushing
            assert (await mock.call("POST", "/__mock/webhooks/flush", key=None))[0] == 200
        await _settled(a, b)
        (hit,) = receiver.received
        verified = Webhook(HOOK_SECRET).verify(hit.body, hit.headers)  # signed as today
        assert verified["data"] == {"task_id": task_id, "task_status": "success"}
        made = [(await m.call("GET", "/__mock/webhooks", key=None))[1] for m in (a, b)]
        assert sum(len(j["attempts"]) for j in made) == 1
        for mock in (a, b):  # a lease guards a delivery's record: no version is kept for it
            versions = mock.state.persist._versions  # type: ignore[union-attr]
            assert not [k for k in versions if k.startswith("webhook:")]
    finally:
        await client_a.close()
        await client_b.close()


async def test_two_replicas_flushing_at_once_send_each_change_once(
    store_url: str, receiver: Receiver
) -> None:
    """Every change of each task notified (relay ``notify_mode: every``), both replicas
    flushing at the same moment: the lease decides who sends, the other finds it sent."""
    (a, client_a), (b, client_b) = await _replicas(store_url, EVERY)
    try:
        ids = []
        for mock in (a, b, a):
            status, made = await mock.call(
                "POST", RELAY, json={**GOOD, "notify_hook": receiver.url()}
            )
            assert status == 200, made
            ids.append(made["data"])
        await a.call("GET", "/__mock/clock", key=None)  # A reads what B planned
        status, _ = await b.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 600})
        assert status == 200
        await asyncio.gather(
            *(m.call("POST", "/__mock/webhooks/flush", key=None) for m in (a, b, a, b))
        )
        await _settled(a, b)
        sent = [json.loads(r.body) for r in receiver.received]
        for task_id in ids:  # each change once, in the order the task went through them
            _, task = await b.call("GET", f"/__mock/tasks/{task_id}", key=None)
            went = [step["state"] for step in task["timeline"]][1:]
            assert [s["status"] for s in sent if s["task_id"] == task_id] == went
        assert len(sent) == 3 * 4
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_delivery_forced_through_one_replica_is_planned_by_the_other(
    store_url: str, receiver: Receiver
) -> None:
    (a, client_a), (b, client_b) = await _replicas(store_url, youcam_hooks(receiver.url()))
    try:
        task_id = await run(a)
        status, _ = await b.call(
            "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "failure"}
        )
        assert status == 200
        await a.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 60})
        for mock in (a, b):
            await mock.call("POST", "/__mock/webhooks/flush", key=None)
        await _settled(a, b)
        (hit,) = receiver.received
        assert json.loads(hit.body)["data"] == {"task_id": task_id, "task_status": "error"}
    finally:
        await client_a.close()
        await client_b.close()
