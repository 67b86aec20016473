"""A2E on the declared core: every task family is a FamilySpec, and what A2E keeps beside its
tasks lives in typed stores that a reset, a delete and an eviction empty."""

from __future__ import annotations

from mockserver.providers.a2e.models import TaskRecords
from mockserver.providers.a2e.stores import ApiTokens, StreamingSessions
from mockserver.registry import providers
from tests.test_a2e import I2V, data_of, start_i2v

STREAM_TOKEN = "/api/v1/streaming-avatar/agora-token"
AVATAR_ID = "63de16f26c6193fa4ca7a486"  # a public avatar (public_lists.PUBLIC_AVATARS)


def test_every_a2e_task_family_the_control_api_forces_is_declared():
    a2e = providers()["a2e"]
    assert set(a2e.task_families) == set(a2e.family_specs)
    for spec in a2e.family_specs.values():
        assert all(op in a2e.handlers for op in spec.operation_ids()), spec.name


async def test_a_reset_empties_every_a2e_store(mock):
    data_of(*await mock.call("POST", "/api/v1/token/generate", json={"alias": "ci"}))
    data_of(*await mock.call("POST", STREAM_TOKEN, json={"avatar_id": AVATAR_ID}))
    await start_i2v(mock)
    state = mock.state
    stores = (ApiTokens, StreamingSessions, TaskRecords)
    assert all(len(store.of(state)) == 1 for store in stores)
    assert (await mock.call("POST", "/__mock/reset", key=None))[0] == 200
    assert all(len(store.of(state)) == 0 for store in stores)


async def test_a_deleted_task_takes_its_record_with_it(mock):
    task_id = (await start_i2v(mock))["_id"]
    assert len(TaskRecords.of(mock.state)) == 1
    mock.advance(600)  # ended: a running image-to-video task is not deleted
    assert (await mock.call("DELETE", I2V.format(task_id)))[0] == 200
    assert len(TaskRecords.of(mock.state)) == 0


async def test_an_evicted_task_takes_its_record_with_it(make_mock):
    mock = await make_mock("providers: {a2e: {settings: {task_retention: 60}}}")
    task_id = (await start_i2v(mock))["_id"]
    mock.advance(61)
    assert (await mock.call("GET", I2V.format(task_id)))[0] == 404
    mock.state.retention.sweep(mock.state.clock.now(), 10)
    assert len(TaskRecords.of(mock.state)) == 0
