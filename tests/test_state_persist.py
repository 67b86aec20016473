"""The engine on a state backend: what ``--state`` keeps through a restart and a ``kill -9``,
and how start-up refuses a store it cannot use. One test body per behaviour, run against
each backend that outlives the process (sqlite, and redis where a server is to be had)."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

import pytest

from mockserver.backends import open_backend
from mockserver.cli import main
from mockserver.stores import Store
from tests.conftest import start_mock
from tests.serve_processes import SECRET, call, free_port, on_store

RELAY = "/avatar/generation"
RELAY_TASK = "/avatar/task/{}"
GOOD = {"avatar_url": "https://example.com/avatar.jpg", "audio_url": "https://example.com/a.mp3"}


async def _submit(mock, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        status, body = await mock.call("POST", RELAY, json=GOOD)
        assert status == 200, body
        ids.append(body["data"])
    return ids


async def _poll(mock, task_id: str) -> dict:
    status, body = await mock.call("GET", RELAY_TASK.format(task_id))
    assert status == 200, body
    data = body["data"]
    data.pop("data", None)  # the result record holds links with this run's port
    return data


async def test_tasks_balances_and_the_clock_outlive_a_restart(store_url: str) -> None:
    mock, client = await start_mock(state=store_url, secret=SECRET)
    try:
        ids = await _submit(mock, 3)
        status, _ = await mock.call(
            "POST", f"/__mock/tasks/{ids[1]}/force", key=None, json={"outcome": "failure"}
        )
        assert status == 200
        mock.advance(2.5)
        before = [await _poll(mock, i) for i in ids]
        _, tenant_before = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
        _, clock_before = await mock.call("GET", "/__mock/clock", key=None)
    finally:
        await client.close()

    again, client = await start_mock(state=store_url, secret=SECRET)
    try:
        _, clock_after = await again.call("GET", "/__mock/clock", key=None)
        assert clock_after["now"] == clock_before["now"]  # frozen clock: the same reading
        assert [await _poll(again, i) for i in ids] == before
        assert before[1]["status"] == "FAILURE"
        _, tenant_after = await again.call("GET", "/__mock/tenants/sk-test", key=None)
        assert tenant_after == tenant_before
        # the failed task's refund fell due when it was forced, and is not applied twice
        refunds = [h for h in tenant_after["history"] if h["amount"] > 0]
        assert len(refunds) == 1
        # a store opened again never hands out an id an earlier run did
        assert not set(await _submit(again, 3)) & set(ids)
        # and the restored task keeps its lifecycle: advancing the clock finishes it
        again.advance(60)
        assert (await _poll(again, ids[0]))["status"] == "SUCCESS"
    finally:
        await client.close()


async def test_a_clock_advanced_in_process_is_not_wound_back_by_the_store(store_url: str) -> None:
    """A replica's own clock write read back from the store must not undo a later advance."""
    mock, client = await start_mock(state=store_url)
    try:
        (task_id,) = await _submit(mock, 1)
        mock.advance(1)
        first = await _poll(mock, task_id)  # this answer writes the clock
        mock.advance(60)  # moved in-process, after that write
        assert (await _poll(mock, task_id))["status"] == "SUCCESS", first
        _, clock = await mock.call("GET", "/__mock/clock", key=None)
        assert clock["now"] == pytest.approx(mock.clock.now())
    finally:
        await client.close()


async def test_reset_empties_the_store(store_url: str) -> None:
    mock, client = await start_mock(state=store_url)
    try:
        ids = await _submit(mock, 2)
        status, _ = await mock.call("POST", "/__mock/reset", key=None)
        assert status == 200
    finally:
        await client.close()
    again, client = await start_mock(state=store_url)
    try:
        status, body = await again.call("GET", RELAY_TASK.format(ids[0]))
        assert body["code"] == "task_not_exist"
        _, tenants = await again.call("GET", "/__mock/tenants", key=None)
        assert tenants["tenants"] == []
    finally:
        await client.close()


async def test_a_removed_task_is_gone_from_the_store_too(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'state.db'}"
    mock, client = await start_mock(state=url)
    try:
        (task_id,) = await _submit(mock, 1)
        task = mock.state.store.get_any("relay", task_id)
        assert task is not None
        mock.state.store.remove(task)
        await mock.call("GET", "/__mock/health", key=None)  # any answer writes what changed
    finally:
        await client.close()
    backend = await open_backend(url)
    try:
        assert await backend.get(f"task:relay:{task_id}") is None
    finally:
        await backend.close()


async def test_two_replicas_on_one_store_agree(store_url: str) -> None:
    a, client_a = await start_mock(state=store_url, secret=SECRET)
    b, client_b = await start_mock(state=store_url, secret=SECRET)
    try:
        ids = await _submit(a, 2)
        assert [await _poll(b, i) for i in ids] == [await _poll(a, i) for i in ids]
        # one clock: an advance through one replica is what the other reads
        status, _ = await b.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 1})
        assert status == 200
        _, clock_a = await a.call("GET", "/__mock/clock", key=None)
        _, clock_b = await b.call("GET", "/__mock/clock", key=None)
        assert clock_a["now"] == clock_b["now"] == clock_b["now"]
        # forced through one, failed on both, refunded once
        status, _ = await b.call(
            "POST", f"/__mock/tasks/{ids[1]}/force", key=None, json={"outcome": "failure"}
        )
        assert status == 200
        assert (await _poll(a, ids[1]))["status"] == "FAILURE"
        _, tenant_a = await a.call("GET", "/__mock/tenants/sk-test", key=None)
        _, tenant_b = await b.call("GET", "/__mock/tenants/sk-test", key=None)
        assert tenant_a["balances"] == tenant_b["balances"]
        assert len([h for h in tenant_b["history"] if h["amount"] > 0]) == 1
        # a task created on the other replica is charged there, and here once too
        (third,) = await _submit(b, 1)
        assert (await _poll(a, third))["status"] == (await _poll(b, third))["status"]
        _, tenant_a = await a.call("GET", "/__mock/tenants/sk-test", key=None)
        assert len([h for h in tenant_a["history"] if h["amount"] < 0]) == 3
        # a reset through one empties the other
        await a.call("POST", "/__mock/reset", key=None)
        _, body = await b.call("GET", RELAY_TASK.format(ids[0]))
        assert body["code"] == "task_not_exist"
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_store_gone_mid_run_is_a_503_not_a_stale_answer(tmp_path: Path) -> None:
    mock, client = await start_mock(state=f"sqlite:{tmp_path / 'state.db'}")
    try:
        (task_id,) = await _submit(mock, 1)
        assert mock.state.persist is not None
        backend = mock.state.persist.backend
        assert backend is not None

        async def gone(since: int) -> None:
            raise OSError("disk unplugged")

        backend.changes = gone  # type: ignore[method-assign,assignment]
        status, body = await mock.call("GET", RELAY_TASK.format(task_id))
        assert status == 503 and "cannot be read" in body["error"]
    finally:
        await client.close()


async def test_a_write_the_store_refuses_is_a_503_and_not_kept(tmp_path: Path) -> None:
    """A submit whose changes cannot be written is not acknowledged (503, not a dropped
    connection), and the replica goes back to what the store holds: no task, no charge."""
    from mockserver.backends import BackendError

    mock, client = await start_mock(state=f"sqlite:{tmp_path / 'state.db'}")
    try:
        await _submit(mock, 1)
        _, before = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
        persist = mock.state.persist
        assert persist is not None and persist.backend is not None
        backend = persist.backend
        write = backend.write

        async def refused(changes: object) -> None:
            raise BackendError("disk full")

        backend.write = refused  # type: ignore[method-assign,assignment]
        status, body = await mock.call("POST", RELAY, json=GOOD)
        assert status == 503 and "cannot be written" in body["error"], body
        backend.write = write  # type: ignore[method-assign]
        _, after = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
        assert after["balances"] == before["balances"]
        assert len(mock.state.store) == 1  # the refused submit's task is not in the cache
    finally:
        await client.close()


class Notes(Store):
    """A provider store that opts in to a state backend (dump/load, dirty)."""

    def __init__(self) -> None:
        self.notes: dict[str, str] = {}

    def clear(self) -> None:
        self.notes.clear()

    def __len__(self) -> int:
        return len(self.notes)

    def dump(self) -> dict[str, str]:
        return self.notes

    def load(self, data: dict[str, str]) -> None:
        self.notes = dict(data)


async def test_a_provider_store_that_dumps_itself_is_shared(store_url: str) -> None:
    a, client_a = await start_mock(state=store_url)
    b, client_b = await start_mock(state=store_url)
    try:
        mine, theirs = Notes.of(a.state), Notes.of(b.state)
        mine.notes["file"] = "uploaded"
        mine.dirty = True
        await a.call("GET", "/__mock/health", key=None)  # written with the next answer
        assert theirs.notes == {}
        await b.call("GET", "/__mock/health", key=None)  # pulled before the next request
        assert theirs.notes == {"file": "uploaded"}
    finally:
        await client_a.close()
        await client_b.close()


# --- a real process on a real port, killed with SIGKILL --------------------------------------


def _put_file(base: str, data: bytes) -> str:
    """A YouCam file: its slot, then its bytes PUT to the signed URL (answered 200)."""
    spec = {"content_type": "image/jpeg", "file_name": "f.jpg", "file_size": len(data)}
    status, answer = call(base, "POST", "/s2s/v2.0/file/ai-avatar", {"files": [spec]})
    assert status == 200, answer
    slot = answer["data"]["files"][0]
    put = slot["requests"][0]
    request = urllib.request.Request(put["url"], data=data, method="PUT", headers=put["headers"])
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200
    return str(slot["file_id"])


def test_nothing_acknowledged_is_lost_to_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'state.db'}"
    served = on_store(url)
    base = served.base
    try:
        ids = [call(base, "POST", RELAY, GOOD)[1]["data"] for _ in range(20)]
        call(base, "POST", "/__mock/clock/advance", {"seconds": 3})
        _, clock = call(base, "GET", "/__mock/clock")
        states = [call(base, "GET", RELAY_TASK.format(i))[1]["data"]["status"] for i in ids]
        _, tenant = call(base, "GET", "/__mock/tenants/sk-test")
        file_id = _put_file(base, b"\xff\xd8\xff\xe0 a jpeg")
    finally:
        served.kill()
    served = on_store(url)
    base = served.base
    try:
        _, clock_after = call(base, "GET", "/__mock/clock")
        assert clock_after["now"] == clock["now"]
        after = [call(base, "GET", RELAY_TASK.format(i))[1]["data"]["status"] for i in ids]
        assert after == states
        assert call(base, "GET", "/__mock/tenants/sk-test")[1]["balances"] == tenant["balances"]
        # the file whose PUT was answered is there: a task on it is accepted and succeeds
        body = {"src_file_id": file_id, "template_id": "female_manga_mood", "output_count": 4}
        status, answer = call(base, "POST", "/s2s/v2.0/task/ai-avatar", body)
        assert status == 200, answer
        call(base, "POST", "/__mock/clock/advance", {"seconds": 60})
        task = f"/s2s/v2.0/task/ai-avatar/{answer['data']['task_id']}"
        assert call(base, "GET", task)[1]["data"]["task_status"] == "success"
    finally:
        served.stop()


def test_two_processes_on_one_store_agree(store_url: str) -> None:
    """Two ``serve`` processes on one store, as two replicas behind a balancer: a task made
    through one is polled, forced and reset through the other, one clock, charged once."""
    a, b = on_store(store_url), on_store(store_url)
    base_a, base_b = a.base, b.base
    try:
        status, made = call(base_a, "POST", RELAY, GOOD)
        assert status == 200, made
        task = RELAY_TASK.format(made["data"])
        assert (
            call(base_b, "GET", task)[1]["data"]["status"]
            == call(base_a, "GET", task)[1]["data"]["status"]
        )
        call(base_b, "POST", "/__mock/clock/advance", {"seconds": 2})
        assert (
            call(base_a, "GET", "/__mock/clock")[1]["now"]
            == (call(base_b, "GET", "/__mock/clock")[1]["now"])
        )
        force = f"/__mock/tasks/{made['data']}/force"
        assert call(base_b, "POST", force, {"outcome": "failure"})[0] == 200
        assert call(base_a, "GET", task)[1]["data"]["status"] == "FAILURE"
        tenant_a = call(base_a, "GET", "/__mock/tenants/sk-test")[1]
        tenant_b = call(base_b, "GET", "/__mock/tenants/sk-test")[1]
        assert tenant_a["balances"] == tenant_b["balances"]
        assert len([h for h in tenant_b["history"] if h["amount"] < 0]) == 1  # charged once
        assert len([h for h in tenant_a["history"] if h["amount"] > 0]) == 1  # refunded once
        # a reset through one empties the other
        assert call(base_b, "POST", "/__mock/reset")[0] == 200
        assert call(base_a, "GET", task)[1]["code"] == "task_not_exist"
    finally:
        for served in (a, b):
            served.stop()


# --- refusals at start-up ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:/no/such/directory/state.db", "cannot open the sqlite state store"),
        ("redis://127.0.0.1:{port}/0", "cannot reach the redis state store"),
        ("postgres://x", "unknown --state 'postgres://x'"),
        ("memory:extra", "unknown --state 'memory:extra'"),
    ],
)
def test_a_store_that_cannot_be_used_stops_start_up(
    url: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url.format(port=free_port())
    assert main(["serve", "--state", url, "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "avatar-mock: cannot start" in err and says in err


def test_a_store_with_another_schema_is_refused_saying_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:{tmp_path / 'state.db'}"

    async def stamp() -> None:
        backend = await open_backend(url)
        await backend.stamp_schema(b"99")
        await backend.close()

    asyncio.run(stamp())
    assert main(["serve", "--state", url, "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "schema version 99" in err and "upgrade avatar-mock" in err


async def test_an_a2e_task_keeps_its_record_through_a_restart_and_on_a_replica(
    store_url: str,
) -> None:
    """What A2E keeps beside a task (its charge, a rename, a lip-sync model's avatar) is
    written with the task: read back after a restart, and by another replica."""
    from tests.test_a2e_avatar import CONTINUE, LIPSYNC, trained
    from tests.test_a2e_models import ENDED, FAMILIES, shown, start

    fam = next(f for f in FAMILIES if f.has("update", "detail"))

    def kept(row: dict) -> tuple:
        return row["name"], row["coins"], row["current_status"]

    mock, client = await start_mock(state=store_url, secret=SECRET)
    replica, client_r = await start_mock(state=store_url, secret=SECRET)
    try:
        task = await start(mock, fam)
        status, _ = await mock.call("PUT", fam.path("update", task["_id"]), json={"name": "new"})
        assert status == 200
        done = await trained(mock, key="sk-b")
        status, _ = await mock.call("POST", CONTINUE, "sk-b", json={"_id": done["_id"]})
        assert status == 200
        mock.advance(ENDED)
        before = kept(await shown(mock, fam, task["_id"]))
        assert before[0] == "new"
        assert kept(await shown(replica, fam, task["_id"])) == before
    finally:
        await client.close()
        await client_r.close()
    again, client = await start_mock(state=store_url, secret=SECRET)
    try:
        assert kept(await shown(again, fam, task["_id"])) == before
        # the lip-sync model still names its avatar: a second training of it is refused
        status, body = await again.call("POST", CONTINUE, "sk-b", json={"_id": done["_id"]})
        assert status == 400 and "already has a lip-sync model" in body["msg"]
        again.advance(7300)
        _, models = await again.call("GET", LIPSYNC, "sk-b")
        assert [m["user_video_twin_id"] for m in models["data"]] == [done["_id"]]
    finally:
        await client.close()


async def test_an_upload_outlives_a_restart_and_is_read_by_a_replica(store_url: str) -> None:
    """A file the mock acknowledged (its bytes too) is in the store: after a restart, and
    on another replica, a task can use it; another key still cannot."""
    from tests.test_youcam_uploads import JPEG, upload

    avatar = "/s2s/v2.0/task/ai-avatar"
    mock, client = await start_mock(state=store_url, secret=SECRET)
    replica, client_r = await start_mock(state=store_url, secret=SECRET)
    try:
        file_id = await upload(mock, key="sk-a")
        body = {"src_file_id": file_id, "template_id": "female_manga_mood", "output_count": 4}
        status, answer = await replica.call("POST", avatar, "sk-a", json=body)
        assert status == 200, answer
        [seen] = replica.state.uploads.all()
        assert seen.path is not None and seen.path.read_bytes() == JPEG
    finally:
        await client.close()
        await client_r.close()
    again, client = await start_mock(state=store_url, secret=SECRET)
    try:
        [stored] = again.state.uploads.all()
        assert stored.path is not None and stored.path.read_bytes() == JPEG
        ended = {}
        for key in ("sk-a", "sk-b"):  # sk-b's use of it counts as never uploaded, as before
            status, answer = await again.call("POST", avatar, key, json=body)
            assert status == 200, answer
            ended[key] = answer["data"]["task_id"]
        again.advance(60)
        for key, wanted in (("sk-a", "success"), ("sk-b", "error")):
            _, result = await again.call("GET", f"{avatar}/{ended[key]}", key)
            assert result["data"]["task_status"] == wanted, (key, result)
    finally:
        await client.close()
