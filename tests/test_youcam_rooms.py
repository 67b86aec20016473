"""YouCam on the declared core: its polling window lives in its own store, its families are
FamilySpecs bound by one generic handler set, and its renderers read a View, not a request."""

from __future__ import annotations

from mockserver.families import Lookup
from mockserver.providers.youcam.features import by_key, example_body, features
from mockserver.providers.youcam.results import renderer
from mockserver.providers.youcam.stores import FileStore, PollStore
from mockserver.registry import providers
from tests.test_youcam_ai_avatar import poll, run
from tests.test_youcam_features import run as run_feature

WINDOW = (
    "providers: {youcam: {settings: {polling_window: 10},"
    " families: {ai-avatar: {states: {running: 300}}}}}"
)


async def test_the_control_api_shows_when_a_youcam_task_was_last_polled(make_mock):
    mock = await make_mock(WINDOW)
    task_id = await run(mock)
    created = mock.state.store.find(task_id).created_at
    status, seen = await mock.call("GET", f"/__mock/tasks/{task_id}", key=None)
    assert status == 200 and seen["last_polled_at"] == created and seen["expired_at"] is None
    mock.advance(5)
    await poll(mock, task_id)
    _, seen = await mock.call("GET", f"/__mock/tasks/{task_id}", key=None)
    assert seen["last_polled_at"] == created + 5


async def test_a_task_lost_to_its_window_shows_when_it_was_lost(make_mock):
    mock = await make_mock(WINDOW)
    task_id = await run(mock)
    created = mock.state.store.find(task_id).created_at
    mock.advance(25)
    status, body = await poll(mock, task_id)
    assert status == 400 and body["error_code"] == "InvalidTaskId"
    _, seen = await mock.call("GET", f"/__mock/tasks/{task_id}", key=None)
    assert seen["expired_at"] == created + 10


async def test_a_reset_forgets_the_polling_windows(make_mock):
    mock = await make_mock(WINDOW)
    task_id = await run(mock)
    mock.advance(5)
    await poll(mock, task_id)
    assert len(PollStore.of(mock.state)) == 1
    await mock.call("POST", "/__mock/reset", key=None)
    assert len(PollStore.of(mock.state)) == 0


def test_every_feature_row_is_a_declared_family_with_its_own_run_and_status():
    youcam = providers()["youcam"]
    for feature in features():
        spec = youcam.family_specs[feature.key]
        assert spec.submit == feature.run_op
        assert [s.operation_id for s in spec.status] == [feature.status_op]
        assert spec.status[0].lookup is Lookup.PATH
        assert youcam.handlers[feature.run_op] is not youcam.handlers[feature.status_op]
        if feature.pre_process:
            pre = youcam.family_specs[feature.pre_key]
            assert pre.price == 0 and pre.submit == feature.pre_run_op


async def test_rendering_a_result_keeps_no_file_the_status_read_does(make_mock):
    """The renderer only names the result's dst_id; the status read makes it a file."""
    feature = next(f for f in features() if f.result.get("dst_id"))
    mock = await make_mock(
        f"providers: {{youcam: {{families: {{{feature.key}:"
        " {states: {running: 1}, failure_rate: 0}}}}"
    )
    task_id = await run_feature(mock, feature, example_body(feature), key="sk-test")
    mock.advance(5)
    task = mock.state.store.find(task_id)

    class View:
        now = mock.state.clock.now()
        origin = "http://mock.test"
        settings = mock.state.scenario.providers["youcam"].settings
        links = mock.state.links
        trace_id = "t"
        key = "sk-test"
        seed = 0

    row = renderer(by_key()[feature.key])(task, View())
    assert row["task_status"] == "success" and row["results"]["dst_id"]
    assert len(FileStore.of(mock.state)) == 0
    status, body = await mock.call("GET", feature.status_path.replace("{task_id}", task_id))
    assert status == 200 and body["data"]["results"]["dst_id"] == row["results"]["dst_id"]
    assert row["results"]["dst_id"] in FileStore.of(mock.state).files
