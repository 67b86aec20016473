"""Kling through the relay (/kling/v1/videos/text2video|image2video and their GET): Kling's
envelope and task_status words over new-api's task lifecycle, on the virtual clock."""

from __future__ import annotations

import pytest

TEXT = "/kling/v1/videos/text2video"
IMAGE = "/kling/v1/videos/image2video"
PROMPT = {"model_name": "kling-v1", "prompt": "A cat playing piano", "duration": "5"}
PICTURE = {"image": "https://example.com/cat.jpg", "duration": "10"}
DONE = 60
TASK_NOT_EXIST = {"code": "task_not_exist", "message": "task_not_exist", "data": None}


async def submit(mock, path=TEXT, body=PROMPT, key="sk-test", headers=None):
    status, answer = await mock.call("POST", path, key=key, json=body, headers=headers or {})
    assert status == 200, answer
    assert (answer["code"], answer["message"]) == (0, "SUCCEED") and answer["request_id"]
    assert answer["data"]["task_status"] == "submitted"
    return answer["data"]["task_id"]


async def poll(mock, task_id, path=TEXT, key="sk-test"):
    status, answer = await mock.call("GET", f"{path}/{task_id}", key=key)
    assert status == 200, answer
    assert answer["code"] == 0
    return answer["data"]


async def test_text2video_goes_submitted_processing_succeed_with_a_real_mp4(mock):
    task_id = await submit(mock)
    seen = []
    for _ in range(DONE * 4):
        data = await poll(mock, task_id)
        if not seen or seen[-1] != data["task_status"]:
            seen.append(data["task_status"])
        mock.advance(0.25)
    assert seen == ["submitted", "processing", "succeed"]
    assert data["created_at"] == 1_750_000_000_000 and data["updated_at"] > data["created_at"]
    (video,) = data["task_result"]["videos"]
    assert video["duration"] == "5"
    status, mp4 = await mock.call("GET", mock.local(video["url"]), key=None)
    assert status == 200 and mp4[4:8] == b"ftyp"


async def test_image2video_fails_with_its_message_and_is_refunded(mock):
    task_id = await submit(mock, IMAGE, PICTURE, headers={"X-Mock-Outcome": "failure"})
    mock.advance(DONE)
    data = await poll(mock, task_id, IMAGE)
    assert data["task_status"] == "failed" and data["task_status_msg"]
    assert "task_result" not in data
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["quota"] == 1000


async def test_a_task_is_found_only_on_its_own_route_and_by_its_own_key(mock):
    task_id = await submit(mock)
    for path, key in ((IMAGE, "sk-test"), (TEXT, "sk-other")):
        status, body = await mock.call("GET", f"{path}/{task_id}", key=key)
        assert status == 400 and body == TASK_NOT_EXIST


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (TEXT, {"model_name": "kling-v1"}),  # no prompt
        (IMAGE, {"prompt": "no image"}),
        (TEXT, {**PROMPT, "duration": 5}),  # Kling's duration is a string
        (TEXT, {**PROMPT, "mode": "turbo"}),
    ],
)
async def test_bad_input_is_invalid_request_and_costs_nothing(mock, path, body):
    status, answer = await mock.call("POST", path, json=body)
    assert status == 400 and answer["code"] == "invalid_request", answer
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["quota"] == 1000
