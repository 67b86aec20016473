"""A YouCam result file (a success's ``dst_id``) is the fleet's: chained through any replica on
the store and after a restart, only by its own key, and gone (with its record) 30 days on."""

from __future__ import annotations

from typing import Any

from mockserver.providers.youcam.features import by_key
from mockserver.providers.youcam.stores import FileStore
from mockserver.scenario import parse_text
from tests.conftest import Mock, replicas, start_mock
from tests.test_youcam_features import poll, run
from tests.test_youcam_uploads import upload, with_file

DAY = 86400
NO_LIMITS = "providers: {youcam: {rate_limits: []}}"


async def advance(mock: Mock, seconds: float) -> None:
    """The fleet's clock, moved through ``mock`` (every replica reads it)."""
    status, _ = await mock.call(
        "POST", "/__mock/clock/advance", key=None, json={"seconds": seconds}
    )
    assert status == 200


async def outcome(mock: Mock, key: str, body: dict[str, Any], api_key: str = "sk-test") -> Any:
    """The status ``data`` of a ``key`` task submitted through ``mock``, once it is done."""
    feature = by_key()[key]
    task_id = await run(mock, feature, body, key=api_key)
    await advance(mock, 10)
    status, answer = await poll(mock, feature, task_id, key=api_key)
    assert status == 200, answer
    return answer["data"]


async def result_file(mock: Mock) -> str:
    """A ``dst_id`` the mock made: a sod task's result, polled through ``mock``."""
    image = await upload(mock)
    data = await outcome(mock, "sod", with_file("sod", src_file_id=image))
    assert data["task_status"] == "success", data
    return str(data["results"]["dst_id"])


def chained(dst: str) -> dict[str, Any]:
    return with_file("enhance", src_file_id=dst)


async def test_a_result_file_made_through_one_replica_chains_through_the_other(
    store_url: str,
) -> None:
    async with replicas(store_url, parse_text(NO_LIMITS)) as (a, b):
        dst = await result_file(a)
        through_a = await outcome(a, "enhance", chained(dst))
        through_b = await outcome(b, "enhance", chained(dst))
        assert through_a["task_status"] == through_b["task_status"] == "success"
        assert through_a["error"] is through_b["error"] is None
        # the key's own file only, on either replica: another key's task never reads it
        for mock in (a, b):
            other = await outcome(mock, "enhance", chained(dst), api_key="sk-other")
            assert (other["task_status"], other["error"]) == ("error", "unknown_internal_error")


async def test_a_result_file_outlives_a_restart_on_its_store(store_url: str) -> None:
    a, client_a = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        dst = await result_file(a)
    finally:
        await client_a.close()
    again, client = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        assert len(FileStore.of(again.state)) == 1
        assert (await outcome(again, "enhance", chained(dst)))["task_status"] == "success"
    finally:
        await client.close()


async def test_a_deleted_tasks_result_file_is_gone_from_every_replica(store_url: str) -> None:
    async with replicas(store_url, parse_text(NO_LIMITS)) as (a, b):
        image = await upload(a)
        feature = by_key()["sod"]
        task_id = await run(a, feature, with_file("sod", src_file_id=image))
        await advance(a, 10)
        dst = (await poll(a, feature, task_id))[1]["data"]["results"]["dst_id"]
        status, _ = await b.call("POST", "/s2s/v2.0/task/delete", json={"task_id": task_id})
        assert status == 200
        data = await outcome(a, "enhance", chained(dst))
        assert (data["task_status"], data["error"]) == ("error", "unknown_internal_error")
        assert len(FileStore.of(a.state)) == 0


async def test_a_result_file_expires_30_days_on_and_leaves_nothing(mock: Mock) -> None:
    dst = await result_file(mock)
    files = FileStore.of(mock.state)
    await advance(mock, 30 * DAY - 60)  # the task is long evicted (24 h); its file lives on
    assert (await outcome(mock, "enhance", chained(dst)))["task_status"] == "success"
    await advance(mock, 60)
    never = await outcome(mock, "enhance", chained("never-uploaded"))
    expired = await outcome(mock, "enhance", chained(dst))
    assert (expired["task_status"], expired["error"]) == ("error", "unknown_internal_error")
    assert expired["error_message"] == never["error_message"]  # as YouCam answers an unknown id
    # the record goes, too, unasked: the housekeeping tick evicts it
    for _ in range(3):
        dst = await result_file(mock)
    assert len(files) == 3
    await advance(mock, 30 * DAY)
    mock.state.retention.tick()
    assert len(files) == 0


async def test_a_result_file_lives_as_long_as_the_scenario_keeps_files(make_mock: Any) -> None:
    mock = await make_mock(
        "providers: {youcam: {rate_limits: [], settings: {file_retention: 3600}}}"
    )
    dst = await result_file(mock)
    await advance(mock, 3600)
    mock.state.retention.tick()
    assert len(FileStore.of(mock.state)) == 0
    data = await outcome(mock, "enhance", chained(dst))
    assert (data["task_status"], data["error"]) == ("error", "unknown_internal_error")


async def test_each_result_file_is_one_record_of_the_store_and_goes_with_it(
    store_url: str,
) -> None:
    """A new file writes its own record, not the whole store again; expired, the record goes
    from the store too (written with the next answer), so the store stays bounded as well."""
    a, client = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        assert a.state.persist is not None and a.state.persist.backend is not None
        backend = a.state.persist.backend
        made = [await result_file(a) for _ in range(2)]
        page = await backend.newest("records:FileStore", limit=10)
        assert sorted(r.key for r in page.records) == sorted(f"record:FileStore:{f}" for f in made)
        await advance(a, 30 * DAY)
        a.state.retention.tick()
        assert (await a.call("GET", "/__mock/health", key=None))[0] == 200
        assert (await backend.newest("records:FileStore", limit=10)).total == 0
    finally:
        await client.close()
