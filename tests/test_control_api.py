"""The control plane under /__mock/: clock, reset, tasks, force, tenants, journal, access."""

from __future__ import annotations

import pytest

from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS, poll, run

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)


async def test_health_and_clock(mock):
    status, body = await mock.call("GET", "/__mock/health", key=None)
    assert status == 200 and body["status"] == "ok" and "youcam" in body["providers"]
    _, clock = await mock.call("GET", "/__mock/clock", key=None)
    assert clock["mode"] == "virtual" and clock["speed"] == 0.0
    status, after = await mock.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 90})
    assert status == 200 and after["now"] == clock["now"] + 90


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}])
async def test_clock_advance_refusals(mock, body):
    status, answer = await mock.call("POST", "/__mock/clock/advance", key=None, json=body)
    assert status == 400 and "error" in answer


async def test_clock_speed(mock):
    status, body = await mock.call("PUT", "/__mock/clock", key=None, json={"speed": 10})
    assert status == 200 and body["speed"] == 10
    status, _ = await mock.call("PUT", "/__mock/clock", key=None, json={"speed": -2})
    assert status == 400


async def test_advancing_the_clock_over_http_finishes_a_task(mock):
    task_id = await run(mock)
    await mock.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 30})
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "success"


async def test_inspect_and_filter_tasks(mock):
    a = await run(mock, key="sk-a")
    await run(mock, key="sk-b")
    _, listed = await mock.call("GET", "/__mock/tasks?tenant=sk-a", key=None)
    assert [t["id"] for t in listed["tasks"]] == [a]
    _, running = await mock.call("GET", "/__mock/tasks?state=running", key=None)
    assert running["count"] == 2
    status, one = await mock.call("GET", f"/__mock/tasks/{a}", key=None)
    assert status == 200 and one["state"] == "running" and one["timeline"][0]["state"] == "running"
    assert (await mock.call("GET", "/__mock/tasks/nope", key=None))[0] == 404


async def test_force_outcome_failure_with_fields(mock):
    task_id = await run(mock)
    status, forced = await mock.call(
        "POST",
        f"/__mock/tasks/{task_id}/force",
        key=None,
        json={"outcome": "failure", "failure": {"error": "error_pose", "error_message": "pose"}},
    )
    assert status == 200 and forced["state"] == "error"
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "error" and body["data"]["error"] == "error_pose"


async def test_force_success_charges_at_the_forced_moment(mock):
    task_id = await run(mock, output_count=8)
    await mock.call("POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "success"})
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["units"] == 100 - 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"state": "running", "outcome": "success"},
        {"outcome": "maybe"},
        {"state": "nonsense"},
        {"outcome": "failure", "failure": "text"},
    ],
)
async def test_force_refusals(mock, body):
    task_id = await run(mock)
    status, answer = await mock.call("POST", f"/__mock/tasks/{task_id}/force", key=None, json=body)
    assert status == 400 and "error" in answer


async def test_a_finished_task_cannot_be_forced(mock):
    task_id = await run(mock)
    mock.advance(30)
    status, body = await mock.call(
        "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "failure"}
    )
    assert status == 409 and "success" in body["error"]
    _, polled = await poll(mock, task_id)
    assert polled["data"]["task_status"] == "success"


async def test_set_tenant_balance(mock):
    status, tenant = await mock.call(
        "PUT", "/__mock/tenants/sk-rich", key=None, json={"balances": {"units": 1000}}
    )
    assert status == 200 and tenant["balances"]["units"] == 1000
    status, _ = await mock.call("PUT", "/__mock/tenants/x", key=None, json={"balances": {"u": "1"}})
    assert status == 400


async def test_reset_forgets_tasks_tenants_and_journal(mock):
    task_id = await run(mock)
    await mock.call("PUT", "/__mock/tenants/sk-test", key=None, json={"balances": {"units": 1}})
    await mock.call("POST", "/__mock/reset", key=None)
    status, body = await poll(mock, task_id)
    assert status == 400 and body["error_code"] == "InvalidTaskId"
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["units"] == 100
    _, journal = await mock.call("GET", "/__mock/journal", key=None)
    assert [e["operation_id"] for e in journal["entries"]] == ["getAiAvatarTask"]


async def test_ids_repeat_after_reset(mock):
    first = await run(mock)
    await mock.call("POST", "/__mock/reset", key=None)
    assert await run(mock) == first


async def test_journal_records_and_filters(mock):
    task_id = await run(mock)
    await poll(mock, task_id)
    await mock.call("GET", "/s2s/v2.0/nowhere")
    await mock.call("POST", RUN, key=None, json=GOOD)
    _, journal = await mock.call("GET", "/__mock/journal", key=None)
    entries = journal["entries"]
    assert [e["status"] for e in entries] == [200, 200, 404, 401]
    first = entries[0]
    assert first["method"] == "POST" and first["path"] == RUN and first["tenant"] == "sk-test"
    assert first["operation_id"] == "runAiAvatarTask" and first["duration_ms"] >= 0
    assert entries[2]["operation_id"] is None  # no route matched
    assert entries[3]["tenant"] is None  # refused before a tenant was known
    _, polls = await mock.call("GET", "/__mock/journal?operation=getAiAvatarTask", key=None)
    assert [e["path"] for e in polls["entries"]] == [STATUS.format(task_id)]
    _, gets = await mock.call("GET", "/__mock/journal?method=get&limit=1", key=None)
    assert gets["count"] == 1 and gets["entries"][0]["path"] == "/s2s/v2.0/nowhere"
    await mock.call("DELETE", "/__mock/journal", key=None)
    _, empty = await mock.call("GET", "/__mock/journal", key=None)
    assert empty["count"] == 0


async def test_journal_is_bounded(make_mock):
    mock = await make_mock("journal: {size: 3}")
    for _ in range(5):
        await mock.call("GET", "/s2s/v2.0/task/template/ai-avatar")
    _, journal = await mock.call("GET", "/__mock/journal", key=None)
    assert journal["count"] == 3 and journal["entries"][-1]["seq"] == 5


async def test_control_api_demands_a_token_off_loopback(make_mock):
    mock = await make_mock(bind_host="0.0.0.0", admin_token="s3cret")
    status, body = await mock.call("GET", "/__mock/health", key=None)
    assert status == 401 and "admin token" in body["error"]
    status, _ = await mock.call("GET", "/__mock/health", key="wrong")
    assert status == 401
    status, _ = await mock.call("GET", "/__mock/health", key="s3cret")
    assert status == 200
    # provider paths are unaffected
    assert (await mock.call("GET", "/s2s/v2.0/task/template/ai-avatar"))[0] == 200


async def test_control_api_can_be_opened_explicitly(make_mock):
    mock = await make_mock(bind_host="0.0.0.0", admin_open=True)
    assert (await mock.call("GET", "/__mock/health", key=None))[0] == 200


async def test_unknown_control_path_is_json(mock):
    status, body = await mock.call("GET", "/__mock/nothing", key=None)
    assert status == 404 and body["status"] == 404


async def test_a_record_without_a_lifecycle_cannot_be_forced(mock):
    status, added = await mock.call(
        "POST", "/api/v1/custom_back/add", json={"img_url": "https://e.x/bg.png"}
    )
    assert status == 200, added
    back_id = added["data"]["_id"]
    status, body = await mock.call(
        "POST", f"/__mock/tasks/{back_id}/force", key=None, json={"outcome": "failure"}
    )
    assert status == 409 and "no lifecycle" in body["error"]


async def test_an_unknown_control_call_answers_json_404_and_a_wrong_method_405(mock):
    status, body = await mock.call("GET", "/__mock/no-such-call")
    assert status == 404 and body == {"error": "Not Found", "status": 404}
    status, body = await mock.call("DELETE", "/__mock/clock")
    assert status == 405 and body == {"error": "Method Not Allowed", "status": 405}
