"""Ids a replica hands out on a state store (a real sqlite file, a real Redis server) name one
thing across the fleet and across restarts: webhook delivery ids, preset ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from mockserver.delivery_store import INDEX
from mockserver.scenario import parse_text
from tests.conftest import Mock, start_mock
from tests.test_cas import _blind_once
from tests.test_state_persist import GOOD, RELAY, SECRET
from tests.test_webhooks import youcam_hooks
from tests.test_webhooks_relay_a2e import I2V
from tests.test_youcam_ai_avatar import run
from tests.webhook_receiver import Receiver, start_receiver

ADVANCE = {"seconds": 600, "deliver": True}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await start_receiver()
    yield r
    await r.server.close()


async def _open(store_url: str):  # type: ignore[no-untyped-def]
    return await start_mock(parse_text("{}"), state=store_url, secret=SECRET)


async def _submit(mock: Mock, receiver: Receiver) -> str:
    status, made = await mock.call("POST", RELAY, json={**GOOD, "notify_hook": receiver.url()})
    assert status == 200, made
    return str(made["data"])


async def _redeliver(mock: Mock, delivery_id: str) -> tuple[int, list[str]]:
    """Redeliver through ``mock``: the status, and the task ids the attempts sent."""
    status, body = await mock.call("POST", f"/__mock/webhooks/{delivery_id}/redeliver", key=None)
    if status != 200:
        return status, []
    return status, [json.loads(a["body"])["task_id"] for a in body["attempts"]]


async def test_a_delivery_id_names_one_delivery_on_every_replica(
    store_url: str, receiver: Receiver
) -> None:
    (a, client_a), (b, client_b) = await _open(store_url), await _open(store_url)
    try:
        first = await _submit(a, receiver)
        assert (await a.call("POST", "/__mock/clock/advance", key=None, json=ADVANCE))[0] == 200
        (sent,) = (await a.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        status, again = await _redeliver(a, sent["delivery_id"])
        assert (status, again) == (200, [first])
        second = await _submit(b, receiver)  # B plans its own task's delivery
        listed = (await a.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        ids = [x["delivery_id"] for x in listed]
        assert len(set(ids)) == 2  # the delivery, and its redelivery's copy
        # asked of B, A's ids never send B's task: the kept delivery is the same one there
        # (every replica plans it, under one id); A's copy is A's own, unknown to B
        assert await _redeliver(b, ids[0]) == (200, [first])
        assert await _redeliver(b, ids[1]) == (404, [])
        assert second not in [json.loads(r.body)["task_id"] for r in receiver.received]
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_restarted_mock_gives_no_delivery_id_of_its_earlier_run(
    store_url: str, receiver: Receiver
) -> None:
    earlier, client = await _open(store_url)
    try:
        first = await _submit(earlier, receiver)
        await earlier.call("POST", "/__mock/clock/advance", key=None, json=ADVANCE)
        (sent,) = (await earlier.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        assert (await _redeliver(earlier, sent["delivery_id"]))[0] == 200
        attempts = (await earlier.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        ids = [x["delivery_id"] for x in attempts]
    finally:
        await client.close()
    later, client = await _open(store_url)
    try:
        await _submit(later, receiver)
        # the kept delivery keeps its id through the restart; the copy was the earlier run's
        assert await _redeliver(later, ids[0]) == (200, [first])
        assert await _redeliver(later, ids[1]) == (404, [])
    finally:
        await client.close()


async def test_memory_numbers_deliveries_as_the_seed_does(receiver: Receiver) -> None:
    mock, client = await start_mock(parse_text("{}"), state="memory")
    try:
        await _submit(mock, receiver)
        await mock.call("POST", "/__mock/clock/advance", key=None, json=ADVANCE)
        (sent,) = (await mock.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        assert sent["delivery_id"] == "dlv_000001"
        status, body = await mock.call("POST", "/__mock/webhooks/dlv_000001/redeliver", key=None)
        assert status == 200 and body["delivery_id"] == "dlv_000002"
    finally:
        await client.close()


# --- presets: one-shot across the fleet through a claim keyed by the preset's id ----------

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"
OUTAGE = {"effect": {"type": "status", "status": 503}}  # count 1


async def _queue(mock: Mock) -> int:
    status, preset = await mock.call("POST", "/__mock/presets", key=None, json=OUTAGE)
    assert status == 201, preset
    return int(preset["id"])


async def test_a_preset_queued_after_another_was_used_up_elsewhere_fires(
    store_url: str,
) -> None:
    (a, client_a), (b, client_b) = await _open(store_url), await _open(store_url)
    try:
        used = await _queue(a)
        assert (await a.call("GET", TEMPLATES))[0] == 503  # used up through A
        fresh = await _queue(b)  # B never saw A's preset queued
        assert fresh != used
        assert (await b.call("GET", TEMPLATES))[0] == 503  # its claim is its own
        assert (await a.call("GET", TEMPLATES))[0] == 200
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_restarted_mock_gives_no_used_up_presets_id(store_url: str) -> None:
    earlier, client = await _open(store_url)
    try:
        used = await _queue(earlier)
        assert (await earlier.call("GET", TEMPLATES))[0] == 503
    finally:
        await client.close()
    later, client = await _open(store_url)
    try:
        assert await _queue(later) != used
        assert (await later.call("GET", TEMPLATES))[0] == 503
    finally:
        await client.close()


async def test_a_replaced_scenario_gives_no_queued_presets_id() -> None:
    mock, client = await start_mock(parse_text("{}"), state="memory")
    try:
        first = await _queue(mock)
        status, _ = await mock.call("PUT", "/__mock/scenario", key=None, json={})
        assert status == 200
        second = await _queue(mock)
        _, listed = await mock.call("GET", "/__mock/presets", key=None)
        assert [p["id"] for p in listed["presets"]] == [first, second] == [1, 2]
    finally:
        await client.close()


async def test_presets_queued_at_once_through_two_replicas_take_two_ids(
    store_url: str,
) -> None:
    (a, client_a), (b, client_b) = await _open(store_url), await _open(store_url)
    try:
        for _ in range(5):
            got = await asyncio.gather(_queue(a), _queue(b))
            assert got[0] != got[1]
        _, listed = await a.call("GET", "/__mock/presets", key=None)
        ids = [p["id"] for p in listed["presets"]]
        assert len(ids) == len(set(ids)) == 10
    finally:
        await client_a.close()
        await client_b.close()


# --- a task deleted through its provider's API takes its delivery records with it ---------


async def _youcam_task(mock: Mock, receiver: Receiver) -> tuple[str, str, dict]:
    task_id = await run(mock)
    return task_id, "/s2s/v2.0/task/delete", {"json": {"task_id": task_id}}


async def _a2e_task(mock: Mock, receiver: Receiver) -> tuple[str, str, dict]:
    status, started = await mock.call(
        "POST", "/api/v1/userImage2Video/start", json={**I2V, "webhook_url": receiver.url()}
    )
    assert status == 200, started
    task_id = started["data"]["_id"]
    return task_id, f"/api/v1/userImage2Video/{task_id}", {}


@pytest.mark.parametrize(
    ("start", "method"), [(_youcam_task, "POST"), (_a2e_task, "DELETE")], ids=["youcam", "a2e"]
)
async def test_a_task_deleted_through_the_api_leaves_no_delivery_record(
    store_url: str, receiver: Receiver, start, method: str
) -> None:
    scenario = parse_text(youcam_hooks(receiver.url()))
    (a, client_a) = await start_mock(scenario, state=store_url, secret=SECRET)
    (b, client_b) = await start_mock(scenario, state=store_url, secret=SECRET)
    try:
        task_id, path, body = await start(a, receiver)
        assert (await a.call("POST", "/__mock/clock/advance", key=None, json=ADVANCE))[0] == 200
        (sent,) = (await a.call("GET", "/__mock/webhooks", key=None))[1]["attempts"]
        assert await _records(a, task_id)  # kept while the task is
        await b.call("GET", "/__mock/clock", key=None)  # B plans it too
        status, answer = await a.call(method, path, **body)
        assert status == 200, answer
        assert await _records(a, task_id) == []  # read from the store itself
        await b.call("GET", "/__mock/clock", key=None)  # B reads the task gone
        assert await _records(b, task_id) == []
        for mock in (a, b):  # nor does a replica keep the delivery to redeliver
            assert await _redeliver(mock, sent["delivery_id"]) == (404, [])
    finally:
        await client_a.close()
        await client_b.close()


async def _records(mock: Mock, task_id: str) -> list[str]:
    """The keys of the store's delivery records of ``task_id`` (its index, read directly)."""
    backend = mock.state.persist.backend  # type: ignore[union-attr]
    page = await backend.newest(INDEX, limit=10_000)  # type: ignore[union-attr]
    return [r.key for r in page.records if task_id in r.key]


async def test_a_delete_answered_again_after_a_conflict_leaves_no_delivery_record(
    store_url: str, receiver: Receiver
) -> None:
    """A's delete is refused by the store (B charged the tenant behind A's back), read back
    and answered again: the records still go with the delete that stands."""
    (a, client_a), (b, client_b) = await _open(store_url), await _open(store_url)
    try:
        task_id, path, _ = await _a2e_task(a, receiver)
        await a.call("POST", "/__mock/clock/advance", key=None, json=ADVANCE)
        assert await _records(a, task_id)
        await _a2e_task(b, receiver)  # the tenant's balance moves through B
        _blind_once(a)
        status, answer = await a.call("DELETE", path)
        assert status == 200, answer
        assert await _records(a, task_id) == []
        assert (await b.call("GET", path))[0] == 404
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_queue_kept_before_it_carried_its_last_id_is_read(store_url: str) -> None:
    earlier, client = await _open(store_url)
    try:  # the queue as a store written before kept it: a bare list of presets
        kept = [{"id": 7, "count": 1, "remaining": 1, "raw": OUTAGE}]
        backend = earlier.state.persist.backend  # type: ignore[union-attr]
        await backend.put("store:PresetQueue", json.dumps(kept).encode())  # type: ignore[union-attr]
    finally:
        await client.close()
    later, client = await _open(store_url)
    try:
        _, listed = await later.call("GET", "/__mock/presets", key=None)
        assert [p["id"] for p in listed["presets"]] == [7]
        assert await _queue(later) == 8
        assert [(await later.call("GET", TEMPLATES))[0] for _ in range(3)] == [503, 503, 200]
    finally:
        await client.close()
