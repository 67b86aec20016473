"""Relay notify_hook and A2E webhook_url: unsigned task objects, shapes per the scenario."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

GENERATION = {"avatar_url": "https://e.x/face.jpg", "audio_url": "https://e.x/hi.mp3"}
I2V = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "speaking"}


@pytest.fixture
async def receiver():
    r = await start_receiver()
    yield r
    await r.server.close()


async def deliver(mock, seconds: float) -> None:
    mock.advance(seconds)
    await mock.state.webhooks.flush()


async def submit_relay(mock, url, headers=None):
    status, body = await mock.call(
        "POST", "/avatar/generation", json={**GENERATION, "notify_hook": url}, headers=headers or {}
    )
    assert status == 200, body
    return body["data"]


async def test_relay_hook_gets_the_task_object_on_completion(mock, receiver):
    task_id = await submit_relay(mock, receiver.url())
    await deliver(mock, 60)
    (hit,) = receiver.received
    body = json.loads(hit.body)
    _, polled = await mock.call("GET", f"/avatar/task/{task_id}")
    assert body == polled["data"]  # the same object the query answers, keys in order
    assert list(body)[:3] == ["task_id", "notify_hook", "action"]
    assert body["status"] == "SUCCESS" and body["notify_hook"] == receiver.url()
    assert "webhook-signature" not in hit.headers and "Authorization" not in hit.headers


async def test_relay_hook_fires_for_a_task_forced_to_its_end_at_once(mock, receiver):
    """Forced at the moment of its submit, the task's timeline is its end alone: that end is
    still a change the hook announces (it used to be taken for the starting state)."""
    task_id = await submit_relay(mock, receiver.url())
    status, _ = await mock.call(
        "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "failure"}
    )
    assert status == 200
    await deliver(mock, 1)
    (hit,) = receiver.received
    _, polled = await mock.call("GET", f"/avatar/task/{task_id}")
    assert json.loads(hit.body) == polled["data"] and polled["data"]["status"] == "FAILURE"


async def test_relay_hook_after_a_force_links_to_the_mock(make_mock, receiver):
    """A change planned by a force, after hooks were sent, links to the mock as a poll does
    (it used to take the receiver's URL for the mock's origin)."""
    mock = await make_mock("providers: {relay: {settings: {notify_mode: every}}}")
    task_id = await submit_relay(mock, receiver.url())
    await deliver(mock, 1)
    assert receiver.received
    status, _ = await mock.call(
        "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "success"}
    )
    assert status == 200
    await deliver(mock, 1)
    last = json.loads(receiver.received[-1].body)
    _, polled = await mock.call("GET", f"/avatar/task/{task_id}")
    assert polled["data"]["status"] == "SUCCESS" and last == polled["data"]


async def test_relay_every_change_wrapped(make_mock, receiver):
    mock = await make_mock(
        "providers: {relay: {settings: {notify_mode: every, notify_wrap: envelope}}}"
    )
    await submit_relay(mock, receiver.url(), {"X-Mock-Outcome": "failure"})
    await deliver(mock, 60)
    bodies = [json.loads(r.body) for r in receiver.received]
    assert all(b["code"] == "success" and b["message"] == "" for b in bodies)
    assert [b["data"]["status"] for b in bodies] == [
        "SUBMITTED",
        "QUEUED",
        "IN_PROGRESS",
        "FAILURE",
    ]
    assert bodies[-1]["data"]["fail_reason"]


async def test_relay_hook_is_not_retried_by_default(mock, receiver):
    receiver.statuses = [500]
    await submit_relay(mock, receiver.url())
    for _ in range(3):
        await deliver(mock, 600)
    assert len(receiver.received) == 1


async def test_relay_without_hook_sends_nothing(mock, receiver):
    await mock.call("POST", "/avatar/generation", json=GENERATION)
    await deliver(mock, 60)
    assert receiver.received == []


async def test_a2e_image2video_webhook_envelope_and_bearer_token(mock, receiver):
    status, started = await mock.call(
        "POST",
        "/api/v1/userImage2Video/start",
        json={**I2V, "webhook_url": receiver.url(), "webhook_token": "tok-1"},
    )
    assert status == 200
    await deliver(mock, 60)
    (hit,) = receiver.received
    body = json.loads(hit.body)
    assert hit.headers["Authorization"] == "Bearer tok-1"
    assert body["code"] == 0 and body["trace_id"]
    assert body["data"]["_id"] == started["data"]["_id"]
    assert body["data"]["current_status"] == "completed" and body["data"]["result_url"]


@pytest.mark.parametrize(("token_in", "where"), [("body", "body"), ("query", "query")])
async def test_a2e_webhook_shape_and_token_place_are_configurable(
    make_mock, receiver, token_in, where
):
    mock = await make_mock(
        f"providers: {{a2e: {{settings: {{webhook_shape: row, webhook_token_in: {token_in}}}}}}}"
    )
    await mock.call(
        "POST",
        "/api/v1/userImage2Video/start",
        json={**I2V, "webhook_url": receiver.url(), "webhook_token": "tok-2"},
        headers={"X-Mock-Outcome": "failure"},
    )
    await deliver(mock, 60)
    (hit,) = receiver.received
    body = json.loads(hit.body)
    assert body["current_status"] == "failed" and body["failed_message"]  # the bare row
    if where == "body":
        assert body["webhook_token"] == "tok-2"
    else:
        assert hit.query == "token=tok-2" and "webhook_token" not in body
    assert "Authorization" not in hit.headers


async def test_one_tasks_notifications_go_one_at_a_time(make_mock, aiohttp_server):
    """Four changes falling due in one jump are sent in turn: while the receiver is still
    answering the first, the next is not on the wire (it could overtake a slow answer)."""
    from aiohttp import web

    seen: list[str] = []
    holding = overlapped = False

    async def handle(request: web.Request) -> web.Response:
        nonlocal holding, overlapped
        seen.append(json.loads(await request.read())["data"]["status"])
        overlapped = overlapped or holding
        if len(seen) == 1:  # a slow receiver: the only real wait in this test
            holding = True
            await asyncio.sleep(0.3)
            holding = False
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = await aiohttp_server(app)
    mock = await make_mock(
        "providers: {relay: {settings: {notify_mode: every, notify_wrap: envelope}}}"
    )
    await submit_relay(mock, str(server.make_url("/hook")), {"X-Mock-Outcome": "failure"})
    await deliver(mock, 60)
    assert not overlapped
    assert seen == ["SUBMITTED", "QUEUED", "IN_PROGRESS", "FAILURE"]


async def test_different_tasks_still_notify_at_once_each_in_order(make_mock, aiohttp_server):
    """Taking a task's notifications in turn does not take the target's in turn: three tasks'
    changes, falling due in one jump, fill both of the target's slots (never more), no task
    has two on the wire, and each task's arrive in order."""
    from aiohttp import web

    seen: dict[str, list[str]] = {}
    on_wire: dict[str, int] = {}  # task id -> its attempts the receiver is answering
    peak = 0
    overlapped = False
    pair = asyncio.Event()  # two attempts on the wire together

    async def handle(request: web.Request) -> web.Response:
        nonlocal peak, overlapped
        data = json.loads(await request.read())["data"]
        task, first = data["task_id"], not seen
        seen.setdefault(task, []).append(data["status"])
        overlapped = overlapped or task in on_wire
        on_wire[task] = on_wire.get(task, 0) + 1
        peak = max(peak, sum(on_wire.values()))
        if peak >= 2:
            pair.set()
        if first:  # held until another task's attempt arrives (waits only if none does)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pair.wait(), 5)
        on_wire[task] -= 1
        if not on_wire[task]:
            del on_wire[task]
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = await aiohttp_server(app)
    mock = await make_mock(
        "providers: {relay: {settings: {notify_mode: every, notify_wrap: envelope}}}\n"
        "webhooks: {per_target: 2}\n"
    )
    hook = str(server.make_url("/hook"))
    tasks = [await submit_relay(mock, hook, {"X-Mock-Outcome": "success"}) for _ in range(3)]
    await deliver(mock, 60)
    assert peak == 2 and not overlapped
    assert seen == {t: ["SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS"] for t in tasks}


@pytest.mark.parametrize(
    ("submit", "body", "status"),
    [
        ("/v1/video/generations", {"model": "kling-v1", "prompt": "p"}, "/v1/video/generations/{}"),
        ("/kling/v1/videos/text2video", {"prompt": "p"}, "/kling/v1/videos/text2video/{}"),
        ("/suno/submit/music", {"prompt": "p"}, "/suno/fetch/{}"),
    ],
)
async def test_every_relay_task_route_notifies_with_the_object_its_status_route_shows(
    mock, receiver, submit, body, status
):
    hook = "callback_url" if submit.startswith("/kling/") else "notify_hook"
    code, answer = await mock.call("POST", submit, json={**body, hook: receiver.url()})
    assert code == 200, answer
    data = answer.get("data")
    task_id = answer.get("task_id") or (data["task_id"] if isinstance(data, dict) else data)
    await deliver(mock, 60)
    (hit,) = receiver.received
    _, polled = await mock.call("GET", status.format(task_id))
    shown = polled["data"] if "data" in polled and "task_id" not in polled else polled
    assert json.loads(hit.body) == shown
