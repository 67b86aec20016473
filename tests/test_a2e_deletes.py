"""A2E's deletes by task state, as the reference documents them, through the HTTP API on
every state backend: image-to-video deletes only ``initialized``/``completed``/``failed``
tasks (400 "Task in processing" otherwise); head swap refunds a deleted ``initialized`` task
at once, refuses ``sent``/``pending``/``processing``, and deletes ``completed``/``failed``
without a refund. The balance is read where A2E shows it (``user/remainingCoins``,
``transactionRecord/creditsHistory``) and on the control API. Virtual clock throughout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import Mock
from tests.test_a2e_models import FAMILIES
from tests.test_state_persist import SECRET

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

API = "/api/v1"
I2V = f"{API}/userImage2Video"
I2V_BODY = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "speaking"}
HEAD_SWAP = next(f for f in FAMILIES if f.name == "head_swap")
HISTORY = f"{API}/transactionRecord/creditsHistory"
STEP = 0.25  # virtual seconds between polls while walking a task to a state
DONE = 600  # virtual seconds: past every default timeline
REFUSED = (400, "Bad Request: Task in processing")


async def coins(mock: Mock) -> float:
    """The balance as A2E shows it, checked against the control API's."""
    status, body = await mock.call("GET", f"{API}/user/remainingCoins")
    assert status == 200, body
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["coins"] == body["data"]["coins"]
    return float(body["data"]["coins"])


async def history(mock: Mock, task_id: str) -> list[dict[str, Any]]:
    """The task's rows of ``creditsHistory``, oldest first, without their row ids."""
    status, body = await mock.call("GET", HISTORY, params={"pageSize": 100})
    assert status == 200, body
    rows = [r for r in body["data"]["rows"] if r["task_id"] == task_id]
    return [{k: v for k, v in r.items() if k not in ("_id", "balance")} for r in rows[::-1]]


async def start(mock: Mock, path: str, body: dict[str, Any], outcome: str = "") -> str:
    headers = {"X-Mock-Outcome": outcome} if outcome else {}
    status, made = await mock.call("POST", path, json=body, headers=headers)
    assert status == 200 and made["code"] == 0, made
    return str(made["data"]["_id"])


async def walk_to(mock: Mock, detail: str, state: str) -> None:
    """Advance the clock until the task's detail shows ``state``."""
    for _ in range(int(DONE / STEP)):
        status, body = await mock.call("GET", detail)
        assert status == 200, body
        if body["data"]["current_status"] == state:
            return
        mock.advance(STEP)
    raise AssertionError(f"{detail} never reached {state}")


def head_swap(task_id: str = "") -> str:
    return HEAD_SWAP.path("delete", task_id)


async def start_head_swap(mock: Mock, outcome: str = "") -> str:
    return await start(mock, HEAD_SWAP.op.path, HEAD_SWAP.body, outcome)


@pytest.mark.parametrize("state", ["sent", "pending"])
async def test_an_image2video_task_in_processing_is_not_deleted(mock: Mock, state: str) -> None:
    before = await coins(mock)
    task_id = await start(mock, f"{I2V}/start", I2V_BODY)
    await walk_to(mock, f"{I2V}/{task_id}", state)
    status, body = await mock.call("DELETE", f"{I2V}/{task_id}")
    assert (status, body["msg"]) == REFUSED
    assert (await mock.call("GET", f"{I2V}/{task_id}"))[0] == 200
    mock.advance(DONE)
    status, done = await mock.call("GET", f"{I2V}/{task_id}")
    assert done["data"]["current_status"] == "completed"
    assert await coins(mock) == before - done["data"]["coins"]


@pytest.mark.parametrize(("outcome", "refunded"), [("success", False), ("failure", True)])
async def test_an_ended_image2video_task_is_deleted_without_a_refund_of_its_own(
    mock: Mock, outcome: str, refunded: bool
) -> None:
    """Completed keeps its charge; failed got its coins back when it failed, once."""
    before = await coins(mock)
    task_id = await start(mock, f"{I2V}/start", I2V_BODY, outcome)
    mock.advance(DONE)
    status, body = await mock.call("DELETE", f"{I2V}/{task_id}")
    assert (status, body["code"]) == (200, 0)
    assert (await mock.call("GET", f"{I2V}/{task_id}"))[0] == 404
    rows = await history(mock, task_id)
    assert [r["reason"] for r in rows] == ["image2video"] + ["image2video refund"] * refunded
    assert await coins(mock) == before + (0 if refunded else rows[0]["amount"])


async def test_an_initialized_head_swap_deleted_is_refunded_as_a_failure_is(mock: Mock) -> None:
    before = await coins(mock)
    failed = await start_head_swap(mock, "failure")
    mock.advance(DONE)
    task_id = await start_head_swap(mock)
    _, shown = await mock.call("GET", HEAD_SWAP.path("detail", task_id))
    assert shown["data"]["current_status"] == "initialized"
    assert (await mock.call("DELETE", head_swap(task_id)))[0] == 200
    assert await coins(mock) == before  # at once, not when the task would have ended
    charge, refund = await history(mock, task_id)
    assert refund["amount"] == -charge["amount"] > 0
    what = ("currency", "amount", "reason")
    failure_refund = (await history(mock, failed))[1]
    assert {k: refund[k] for k in what} == {k: failure_refund[k] for k in what}
    mock.advance(DONE)
    assert await coins(mock) == before  # and only once
    assert len(await history(mock, task_id)) == 2


@pytest.mark.parametrize("state", ["sent", "processing"])
async def test_a_head_swap_sent_or_processing_is_not_deleted(mock: Mock, state: str) -> None:
    before = await coins(mock)
    task_id = await start_head_swap(mock)
    await walk_to(mock, HEAD_SWAP.path("detail", task_id), state)
    status, body = await mock.call("DELETE", head_swap(task_id))
    assert (status, body["msg"]) == REFUSED
    mock.advance(DONE)
    assert (await mock.call("GET", HEAD_SWAP.path("detail", task_id)))[0] == 200
    assert await coins(mock) < before  # charged, not refunded


@pytest.mark.parametrize(("outcome", "refunded"), [("success", False), ("failure", True)])
async def test_an_ended_head_swap_is_deleted_without_a_refund_of_its_own(
    mock: Mock, outcome: str, refunded: bool
) -> None:
    before = await coins(mock)
    task_id = await start_head_swap(mock, outcome)
    mock.advance(DONE)
    assert (await mock.call("DELETE", head_swap(task_id)))[0] == 200
    rows = await history(mock, task_id)
    assert [r["reason"] for r in rows] == ["head_swap"] + ["head_swap refund"] * refunded
    assert await coins(mock) == before + (0 if refunded else rows[0]["amount"])


async def test_a_peer_replica_sees_the_refund_of_a_delete_made_elsewhere(
    make_mock: Callable[..., Awaitable[Mock]], store_url: str
) -> None:
    """B read the task running; A deletes it initialized; B shows the coins back, once."""
    a = await make_mock(state=store_url, secret=SECRET)
    b = await make_mock(state=store_url, secret=SECRET)
    before = await coins(b)
    task_id = await start_head_swap(a)
    assert (await b.call("GET", HEAD_SWAP.path("detail", task_id)))[0] == 200
    assert await coins(b) < before
    assert (await a.call("DELETE", head_swap(task_id)))[0] == 200
    assert await coins(b) == before
    b.advance(DONE)
    assert await coins(b) == before and len(await history(b, task_id)) == 2
