"""new-api's generic video route (/v1/video/generations) on the relay, on the virtual clock;
and the relay-wide switches: the per-key concurrency gate, failed tasks that stay charged,
tasks stuck IN_PROGRESS."""

from __future__ import annotations

import pytest

SUBMIT = "/v1/video/generations"
TASK = "/v1/video/generations/{}"
GOOD = {"model": "kling-v1", "prompt": "A cat playing piano", "size": "1024x576", "duration": 5}
DONE = 60  # seconds: longer than the default video timeline (at most 10 s)
TASK_NOT_EXIST = {"code": "task_not_exist", "message": "task_not_exist", "data": None}


async def submit(mock, key="sk-test", headers=None, **overrides):
    body = {**GOOD, **overrides}
    status, answer = await mock.call("POST", SUBMIT, key=key, json=body, headers=headers or {})
    assert status == 200, answer
    assert answer["status"] == "queued"
    return answer["task_id"]


async def poll(mock, task_id, key="sk-test"):
    status, body = await mock.call("GET", TASK.format(task_id), key=key)
    assert status == 200, body
    return body


async def quota(mock, key="sk-test"):
    status, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    assert status == 200
    return tenant["balances"]["quota"]


async def test_a_task_goes_queued_processing_succeeded_with_a_real_mp4(mock):
    task_id = await submit(mock)
    seen = []
    for _ in range(DONE * 4):
        body = await poll(mock, task_id)
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        mock.advance(0.25)
    assert seen == ["queued", "processing", "succeeded"]
    assert body["error"] is None and body["format"] == "mp4"
    assert body["metadata"]["width"] == 1024 and body["metadata"]["height"] == 576
    assert body["metadata"]["duration"] == 5
    status, video = await mock.call("GET", mock.local(body["url"]), key=None)
    assert status == 200 and video[4:8] == b"ftyp"


async def test_a_failed_task_says_why_and_gives_the_quota_back(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure:upstream task failed"})
    assert await quota(mock) == 999
    mock.advance(DONE)
    body = await poll(mock, task_id)
    assert body["status"] == "failed" and body["url"] == ""
    assert body["error"] == {"code": 1, "message": "upstream task failed"}
    assert await quota(mock) == 1000


async def test_with_refund_failed_off_a_failed_task_stays_charged(make_mock):
    mock = await make_mock("providers: {relay: {settings: {refund_failed: false}}}")
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure"})
    mock.advance(DONE)
    assert (await poll(mock, task_id))["status"] == "failed"
    assert await quota(mock) == 999  # new-api #2050: billed, not refunded


async def test_a_task_can_be_left_stuck_in_progress_and_stays_charged(make_mock):
    mock = await make_mock(
        "providers: {relay: {families: {video: {stuck: {state: IN_PROGRESS, rate: 1}}}}}"
    )
    task_id = await submit(mock)
    mock.advance(3600)
    assert (await poll(mock, task_id))["status"] == "processing"
    assert await quota(mock) == 999


async def test_another_keys_task_is_task_not_exist(mock):
    task_id = await submit(mock, key="sk-alice")
    status, body = await mock.call("GET", TASK.format(task_id), key="sk-bob")
    assert status == 400 and body == TASK_NOT_EXIST
    assert (await poll(mock, task_id, key="sk-alice"))["task_id"] == task_id


async def test_an_avatar_task_id_is_not_a_video_generation(mock):
    status, body = await mock.call(
        "POST",
        "/avatar/generation",
        json={"avatar_url": "https://e.x/a.jpg", "audio_url": "https://e.x/a.mp3"},
    )
    assert status == 200
    status, answer = await mock.call("GET", TASK.format(body["data"]))
    assert status == 400 and answer == TASK_NOT_EXIST


@pytest.mark.parametrize(
    "body",
    [{}, {"prompt": "no model"}, {"model": ""}, {**GOOD, "size": "big"}, {**GOOD, "duration": 0}],
)
async def test_bad_input_is_invalid_request_and_costs_nothing(mock, body):
    status, answer = await mock.call("POST", SUBMIT, json=body)
    assert status == 400 and answer["code"] == "invalid_request" and answer["data"] is None
    assert await quota(mock) == 1000


async def test_short_quota_is_403(make_mock):
    mock = await make_mock("auth: {tenants: {sk-poor: {quota: 0}}}")
    status, body = await mock.call("POST", SUBMIT, key="sk-poor", json=GOOD)
    assert status == 403
    assert body == {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}


async def test_the_concurrency_gate_counts_every_relay_family_and_frees_on_completion(make_mock):
    mock = await make_mock("providers: {relay: {settings: {token_concurrency_limit: 2}}}")
    avatar = {"avatar_url": "https://e.x/a.jpg", "audio_url": "https://e.x/a.mp3"}
    assert (await mock.call("POST", "/avatar/generation", json=avatar))[0] == 200
    await submit(mock)
    status, body = await mock.call("POST", SUBMIT, json=GOOD)
    assert status == 429
    assert body["error"]["code"] == "token_concurrency_limit_reached"
    assert body["error"]["type"] == "new_api_error"
    assert body["error"]["message"].startswith("token_concurrency_limit_reached (request id: ")
    assert await quota(mock) == 998  # the refused task cost nothing
    await submit(mock, key="sk-other")  # the cap is per key
    mock.advance(DONE)
    await submit(mock)  # both finished: room again
