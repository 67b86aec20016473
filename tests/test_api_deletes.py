"""A task deleted through its provider's API leaves nothing behind: a create/delete loop keeps
the mock's per-task structures (stores, the tenant's pending settlements, the deadline heap,
webhook records) where they were, in memory and on a state backend (a real sqlite file, a real
Redis server). Virtual clock throughout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mockserver.delivery_store import INDEX
from mockserver.persist import TASKS, TENANTS, UPLOADS
from tests.conftest import Mock
from tests.test_state_persist import SECRET
from tests.test_youcam_uploads import upload

LOOPS = 5
DONE = 600  # seconds: past every default timeline

SOD = "/s2s/v2.0/task/sod"  # background removal: its result is a file (dst_id)
YOUCAM_FILE = "/s2s/v2.0/file/sod"
I2V = "/api/v1/userImage2Video"
I2V_BODY = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "speaking"}
VIDEOS = "/v1/videos"
VIDEO_BODY = {"model": "sora-2", "prompt": "A calico cat playing a piano", "seconds": "8"}
HOOK = "https://hooks.invalid/receive"

Peek = Callable[[], Awaitable[object]] | None  # what a round does before its delete


async def _peek(peek: Peek) -> None:
    if peek is not None:
        await peek()


async def youcam_round(mock: Mock, peek: Peek = None) -> None:
    """Submit on an uploaded file, poll it running and done (a polling window, the result
    file), delete it."""
    file_id = await upload(mock, path=YOUCAM_FILE)
    status, made = await mock.call("POST", SOD, json={"src_file_id": file_id})
    assert status == 200, made
    task_id = made["data"]["task_id"]
    assert (await mock.call("GET", f"{SOD}/{task_id}"))[0] == 200
    mock.advance(DONE)
    status, done = await mock.call("GET", f"{SOD}/{task_id}")
    assert status == 200 and done["data"]["task_status"] == "success", done
    await _peek(peek)
    status, answer = await mock.call("POST", "/s2s/v2.0/task/delete", json={"task_id": task_id})
    assert (status, answer) == (200, {"status": 200})


async def a2e_round(mock: Mock, peek: Peek = None) -> None:
    """Start an image-to-video task with a webhook, let it finish, delete it."""
    status, made = await mock.call(
        "POST", f"{I2V}/start", key="sk_test", json={**I2V_BODY, "webhook_url": HOOK}
    )
    assert status == 200 and made["code"] == 0, made
    mock.advance(DONE)
    await _peek(peek)
    status, answer = await mock.call("DELETE", f"{I2V}/{made['data']['_id']}", key="sk_test")
    assert status == 200 and answer["code"] == 0, answer


async def relay_round(mock: Mock, peek: Peek = None) -> None:
    """Create a video job, let it finish, delete it."""
    status, video = await mock.call("POST", VIDEOS, json=VIDEO_BODY)
    assert status == 200, video
    mock.advance(DONE)
    await _peek(peek)
    status, answer = await mock.call("DELETE", f"{VIDEOS}/{video['id']}")
    assert status == 200 and answer["deleted"] is True, answer


Round = Callable[[Mock, Peek], Awaitable[None]]
ROUNDS: dict[str, Round] = {"youcam": youcam_round, "a2e": a2e_round, "relay": relay_round}


def held(mock: Mock) -> dict[str, Any]:
    """What the mock keeps per task or per tenant, counted."""
    state = mock.state
    store = state.store
    tenants = {key: state.accounts.existing(key) for key in ("sk-test", "sk_test")}
    return {
        "tasks": len(store),
        "lists": sum(len(ids) for ids in store._lists.values()),
        "per_tenant": dict(store._per_tenant),
        "deadlines": len(store._deadlines),
        "stores": state.stores.sizes(),
        "pending": {k: len(t._pending) for k, t in tenants.items() if t is not None},
        "reserved": {
            k: {c: v for c, v in t._reserved.items() if v}
            for k, t in tenants.items()
            if t is not None
        },
        "uploads": len(state.uploads._entries),
        "deliveries": len(state.webhooks.deliveries),
        "by_task": len(state.webhooks._by_task),
    }


async def _loop(mock: Mock, provider: str, times: int) -> None:
    for _ in range(times):
        await ROUNDS[provider](mock, None)


@pytest.mark.parametrize("provider", sorted(ROUNDS))
async def test_a_create_delete_loop_leaves_the_mock_as_it_was(mock: Mock, provider: str) -> None:
    await _loop(mock, provider, 1)  # first use makes what every key keeps (lots, a token)
    before = held(mock)
    await _loop(mock, provider, LOOPS)
    assert held(mock) == before


async def test_a_youcam_delete_takes_its_input_and_output_files(mock: Mock) -> None:
    """YouCam documents that task/delete removes the task's input and output files."""
    file_id = await upload(mock, path=YOUCAM_FILE)
    task_id = (await mock.call("POST", SOD, json={"src_file_id": file_id}))[1]["data"]["task_id"]
    mock.advance(DONE)
    await mock.call("GET", f"{SOD}/{task_id}")
    assert mock.state.stores.sizes().get("FileStore") == 1  # the result's dst_id
    await mock.call("POST", "/s2s/v2.0/task/delete", json={"task_id": task_id})
    assert mock.state.uploads.get("youcam", "sk-test", file_id, mock.clock.now()) is None
    assert "FileStore" not in mock.state.stores.sizes()


async def test_an_a2e_delete_keeps_the_uploads_the_task_named(mock: Mock) -> None:
    """An A2E upload is its own resource: deleting a task that named it leaves it."""
    url = await _a2e_object(mock)
    status, made = await mock.call(
        "POST", f"{I2V}/start", key="sk_test", json={**I2V_BODY, "image_url": url}
    )
    assert status == 200 and made["code"] == 0, made
    mock.advance(DONE)
    await mock.call("DELETE", f"{I2V}/{made['data']['_id']}", key="sk_test")
    assert mock.state.uploads.holds("sk_test")


async def _a2e_object(mock: Mock) -> str:
    status, answer = await mock.call(
        "POST", "/api/v1/r2/upload-presigned-url", key="sk_test", json={"key": "me/face.png"}
    )
    assert status == 200 and answer["code"] == 0, answer
    data = answer["data"]
    put = await mock.client.put(mock.local(data["uploadUrl"]), data=b"\x89PNG\r\n")
    assert put.status == 200, await put.text()
    return str(data["cdnUrl"])


async def _records(mock: Mock) -> dict[str, int]:
    backend = mock.state.persist.backend  # type: ignore[union-attr]
    out = {}
    for index in (TASKS, TENANTS, UPLOADS, INDEX):
        page = await backend.newest(index, limit=10_000)
        out[index] = len(page.records)
    return out


@pytest.mark.parametrize("provider", sorted(ROUNDS))
async def test_a_create_delete_loop_leaves_no_records_in_the_store(
    make_mock: Callable[..., Awaitable[Mock]], store_url: str, provider: str
) -> None:
    mock = await make_mock(state=store_url)
    await _loop(mock, provider, 1)
    await mock.state.persist.flush()  # type: ignore[union-attr]
    before = await _records(mock)
    await _loop(mock, provider, LOOPS)
    await mock.state.persist.flush()  # type: ignore[union-attr]
    assert await _records(mock) == before
    assert before[TASKS] == 0


@pytest.mark.parametrize("provider", sorted(ROUNDS))
async def test_a_peer_replica_keeps_nothing_of_a_task_deleted_elsewhere(
    make_mock: Callable[..., Awaitable[Mock]], store_url: str, provider: str
) -> None:
    """B reads every task A makes (so it holds its records) and then reads it gone."""
    a = await make_mock(state=store_url, secret=SECRET)
    b = await make_mock(state=store_url, secret=SECRET)

    async def b_reads() -> None:
        await b.call("GET", "/__mock/clock", key=None)  # any request pulls the store's changes

    async def b_holds_it() -> None:
        await b_reads()
        assert len(b.state.store) == 1

    await ROUNDS[provider](a, b_holds_it)
    await b_reads()
    before = held(b)
    for _ in range(LOOPS):
        await ROUNDS[provider](a, b_holds_it)
        await b_reads()
    assert held(b) == before
