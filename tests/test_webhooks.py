"""Webhooks: scheduled on the clock, signed (Standard Webhooks), retried, journaled, broken."""

from __future__ import annotations

import asyncio
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.test_youcam_ai_avatar import RUN, poll, run
from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW_SECRET = "whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldCBrZXk="


@pytest.fixture
async def receiver():
    r = await start_receiver()
    yield r
    if r.gate is not None:
        r.gate.set()
    await r.server.close()


def youcam_hooks(url: str, *extra: str, secrets: str = f"[{SECRET}]") -> str:
    return (
        "providers:\n  youcam:\n    settings:\n"
        f"      webhooks: [{{url: '{url}', secrets: {secrets}}}]\n" + "".join(extra)
    )


async def deliver(mock, seconds: float = 0.0) -> None:
    mock.advance(seconds)
    await mock.state.webhooks.flush()


async def test_task_end_is_notified_and_verifies_with_standardwebhooks(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url()))
    task_id = await run(mock)
    await deliver(mock, 2)
    assert receiver.received == []  # still running: nothing yet
    await deliver(mock, 30)
    (hit,) = receiver.received
    body = json.loads(hit.body)
    ends_at = int(mock.state.store.get("youcam", "sk-test", task_id).timeline.ends_at)
    assert body == {"created_at": ends_at, "data": {"task_id": task_id, "task_status": "success"}}
    assert hit.headers["webhook-id"] == f"msg_{task_id}:{ends_at}"
    assert hit.headers["Content-Type"] == "application/json"
    verified = Webhook(SECRET).verify(hit.body, hit.headers)  # the PyPI reference verifier
    assert verified["data"]["task_id"] == task_id
    # then the receiver fetches the result with the task id, as the docs say
    _, status = await poll(mock, task_id)
    assert status["data"]["task_status"] == "success"


async def test_error_ends_are_notified_too(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url()))
    await run(mock, headers={"X-Mock-Outcome": "failure"})
    await deliver(mock, 30)
    assert json.loads(receiver.received[0].body)["data"]["task_status"] == "error"


async def test_secret_rotation_sends_both_signatures(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url(), secrets=f"[{SECRET}, '{NEW_SECRET}']"))
    await run(mock)
    await deliver(mock, 30)
    (hit,) = receiver.received
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(hit.body, hit.headers)
    Webhook(NEW_SECRET).verify(hit.body, hit.headers)


@pytest.mark.parametrize("effect", ["bad_signature", "stale_timestamp", "tampered_body"])
async def test_forged_deliveries_are_rejected_by_the_reference_verifier(
    make_mock, receiver, effect
):
    mock = await make_mock(
        youcam_hooks(receiver.url(), f"webhooks: {{chaos: [{{effect: {effect}}}]}}\n")
    )
    await run(mock)
    await deliver(mock, 30)
    (hit,) = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(hit.body, hit.headers)
    (attempt,) = (await mock.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
    assert attempt["chaos"] == [effect]


async def test_failed_attempts_are_retried_with_fresh_timestamp_and_signature(make_mock, receiver):
    receiver.statuses = [500, 503]
    mock = await make_mock(
        youcam_hooks(receiver.url(), "webhooks: {retry_schedule: [5, 30], timestamp_clock: mock}\n")
    )
    await run(mock)
    await deliver(mock, 30)
    assert len(receiver.received) == 1
    await deliver(mock, 4)
    assert len(receiver.received) == 1  # the first retry is due 5 s after the failure
    await deliver(mock, 1)
    assert len(receiver.received) == 2
    await deliver(mock, 30)
    assert len(receiver.received) == 3
    await deliver(mock, 3600)
    assert len(receiver.received) == 3  # delivered: no more attempts
    ids = {r.headers["webhook-id"] for r in receiver.received}
    stamps = [r.headers["webhook-timestamp"] for r in receiver.received]
    signatures = {r.headers["webhook-signature"] for r in receiver.received}
    assert len(ids) == 1 and len(set(stamps)) == 3 and len(signatures) == 3
    _, journal = await mock.call("GET", "/__mock/webhooks", key=None)
    assert [a["status"] for a in journal["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in journal["attempts"]] == [1, 2, 3]


async def test_retries_stop_after_the_schedule(make_mock, receiver):
    receiver.statuses = [500] * 10
    mock = await make_mock(youcam_hooks(receiver.url(), "webhooks: {retry_schedule: [1, 1]}\n"))
    await run(mock)
    for _ in range(5):
        await deliver(mock, 30)
    assert len(receiver.received) == 3  # one try and two retries


async def test_an_unreachable_or_slow_receiver_times_out(make_mock, receiver):
    receiver.gate = asyncio.Event()  # never answers
    mock = await make_mock(
        youcam_hooks(receiver.url(), "webhooks: {timeout: 0.05, retry_schedule: []}\n")
    )
    await run(mock)
    await deliver(mock, 30)
    (attempt,) = (await mock.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
    assert attempt["error"] == "timeout" and attempt["status"] is None


async def test_delivery_never_blocks_request_handling(make_mock, receiver):
    receiver.gate = asyncio.Event()
    mock = await make_mock(youcam_hooks(receiver.url()))
    task_id = await run(mock)
    mock.advance(30)
    mock.state.webhooks.wake()  # the background loop starts the delivery
    for _ in range(100):
        if receiver.received:
            break
        await asyncio.sleep(0.01)
    assert len(receiver.received) == 1  # the receiver holds the request open ...
    status, body = await poll(mock, task_id)  # ... and the mock still answers
    assert status == 200 and body["data"]["task_status"] == "success"
    receiver.gate.set()


async def test_due_deliveries_go_out_in_order(make_mock, receiver):
    mock = await make_mock(
        youcam_hooks(
            receiver.url(),
            "    families: {ai-avatar: {states: {running: {min: 1, max: 20}}}}\n",
            "    rate_limits: []\n",  # six submits at one instant: not a rate-limit test
            "webhooks: {concurrency: 1}\n",
        )
    )
    ids = [await run(mock) for _ in range(6)]
    await deliver(mock, 60)
    ends = {i: mock.state.store.get("youcam", "sk-test", i).timeline.ends_at for i in ids}
    got = [json.loads(r.body)["data"]["task_id"] for r in receiver.received]
    assert got == sorted(ids, key=ends.__getitem__)


@pytest.mark.parametrize(("effect", "expected"), [("duplicate", 2), ("drop", 0)])
async def test_duplicate_and_drop(make_mock, receiver, effect, expected):
    mock = await make_mock(
        youcam_hooks(receiver.url(), f"webhooks: {{chaos: [{{effect: {effect}}}]}}\n")
    )
    await run(mock)
    await deliver(mock, 30)
    assert len(receiver.received) == expected
    if effect == "duplicate":
        assert receiver.received[0].body == receiver.received[1].body
        assert (
            receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
        )


async def test_delay_and_reorder(make_mock, receiver):
    mock = await make_mock(
        youcam_hooks(
            receiver.url(),
            "    families: {ai-avatar: {states: {running: 10}}}\n",
            "webhooks: {concurrency: 1, chaos: [{effect: delay, seconds: 120}]}\n",
        )
    )
    await run(mock)
    await deliver(mock, 30)
    assert receiver.received == []
    await deliver(mock, 120)
    assert len(receiver.received) == 1


async def test_reorder_swaps_neighbours(make_mock, receiver):
    mock = await make_mock(
        youcam_hooks(
            receiver.url(),
            "    families: {ai-avatar: {states: {running: {min: 1, max: 20}}}}\n",
            "webhooks: {concurrency: 1, chaos: [{effect: reorder}]}\n",
        )
    )
    ids = [await run(mock) for _ in range(2)]
    await deliver(mock, 60)
    ends = {i: mock.state.store.get("youcam", "sk-test", i).timeline.ends_at for i in ids}
    got = [json.loads(r.body)["data"]["task_id"] for r in receiver.received]
    assert got == sorted(ids, key=ends.__getitem__, reverse=True)


async def test_chaos_draws_repeat_with_the_seed(make_mock, receiver):
    text = youcam_hooks(
        receiver.url(),
        "    rate_limits: []\n",  # twelve submits at one instant: not a rate-limit test
        "webhooks: {chaos: [{effect: drop, probability: 0.5}]}\nseed: 4\n",
    )
    outcomes = []
    for _ in range(2):
        mock = await make_mock(text)
        for _ in range(12):
            await run(mock)
        await deliver(mock, 30)
        _, journal = await mock.call("GET", "/__mock/webhooks", key=None)
        # per delivery, not in the order attempts happen to complete
        outcomes.append({a["delivery_id"]: a["chaos"] for a in journal["attempts"]})
    drawn = list(outcomes[0].values())
    assert outcomes[0] == outcomes[1] and len(drawn) == 12
    assert [["drop"]] * 12 != drawn != [None] * 12


async def test_redeliver(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url()))
    await run(mock)
    await deliver(mock, 30)
    (attempt,) = (await mock.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
    status, again = await mock.call(
        "POST", f"/__mock/webhooks/{attempt['delivery_id']}/redeliver", key=None
    )
    assert status == 200 and again["attempts"][0]["status"] == 200
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert receiver.received[1].headers["webhook-id"] == attempt["message_id"]
    Webhook(SECRET).verify(receiver.received[1].body, receiver.received[1].headers)
    assert (await mock.call("POST", "/__mock/webhooks/nope/redeliver", key=None))[0] == 404


async def test_forcing_a_task_changes_what_is_notified(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url()))
    task_id = await run(mock)
    await mock.call("POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "failure"})
    await deliver(mock, 60)
    (hit,) = receiver.received
    assert json.loads(hit.body)["data"]["task_status"] == "error"


async def test_endpoints_per_tenant(make_mock, receiver):
    mock = await make_mock(
        "providers:\n  youcam:\n    settings:\n"
        f"      webhooks: [{{url: '{receiver.url('/alice')}', secrets: [{SECRET}],"
        " tenant: sk-alice}]\n"
    )
    await run(mock, key="sk-alice")
    await run(mock, key="sk-bob")
    await deliver(mock, 30)
    assert [r.path for r in receiver.received] == ["/alice"]


async def test_advance_over_http_can_deliver_before_answering(make_mock, receiver):
    mock = await make_mock(youcam_hooks(receiver.url()))
    await run(mock)
    status, _ = await mock.call(
        "POST", "/__mock/clock/advance", key=None, json={"seconds": 30, "deliver": True}
    )
    assert status == 200 and len(receiver.received) == 1


async def test_no_endpoint_no_delivery(mock):
    await mock.call(
        "POST",
        RUN,
        json={"template_id": "female_manga_mood", "output_count": 1, "src_file_url": "u"},
    )
    await deliver(mock, 30)
    _, journal = await mock.call("GET", "/__mock/webhooks", key=None)
    assert journal["count"] == 0


async def test_a_tenant_notified_by_webhook_need_not_poll(make_mock, receiver):
    mock = await make_mock(
        youcam_hooks(receiver.url(), "    families: {ai-avatar: {states: {running: 300}}}\n")
    )
    task_id = await run(mock)
    await deliver(mock, 400)  # never polled while running: no expiry for a notified tenant
    assert len(receiver.received) == 1
    status, body = await poll(mock, task_id)
    assert status == 200 and body["data"]["task_status"] == "success"
