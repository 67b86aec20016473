"""The reference's video twin operations beside the seeds' ones: the two-step
``upload`` -> ``uploadStatus`` -> ``training``, ``userRecords``, ``continueTraining`` (the seeds'
``continueTranining``, spelled right), ``eyeContact`` and ``trainingRecords``, ``retry``, and
``anchor/list`` (the avatars a video can use).
"""

from __future__ import annotations

import pytest

from tests.test_a2e import assert_refusal, data_of
from tests.test_a2e_avatar import AVATAR, TRAINED, balances, start, twin

BASE = "/api/v1/userVideoTwin"
UPLOAD, STATUS, TRAINING = f"{BASE}/upload", f"{BASE}/uploadStatus", f"{BASE}/training"
USER_RECORDS, TRAININGS = f"{BASE}/userRecords", f"{BASE}/trainingRecords"
CONTINUE, EYE, RETRY = f"{BASE}/continueTraining", f"{BASE}/eyeContact", f"{BASE}/retry"
ANCHORS = "/api/v1/anchor/list"
LIPSYNC_HOURS = 7200  # the default scenario's lipsync family
EYE_SECONDS = 600  # and its eye_contact family


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def get(mock, path, key="sk-test"):
    return data_of(*await mock.call("GET", path, key=key))


async def post(mock, path, key="sk-test", **body):
    return data_of(*await mock.call("POST", path, key=key, json=body))


async def test_upload_then_training_makes_the_twin_start_training_would(api):
    assert await get(api, STATUS) is None
    upload = await post(api, UPLOAD, **AVATAR)
    assert upload["current_status"] == "completed" and upload["video_url"] == AVATAR["video_url"]
    assert await get(api, STATUS) == upload
    assert await get(api, STATUS, key="sk-other") is None  # the caller's uploads only
    made = await post(api, TRAINING)
    assert made == await twin(api, made["_id"])
    assert (made["name"], made["video_url"], made["current_status"]) == (
        "me",
        AVATAR["video_url"],
        "initialized",
    )
    assert await get(api, STATUS) is None  # used up
    status, body = await api.call("POST", TRAINING, json={})
    assert "upload" in assert_refusal(status, body, 400, 400)
    api.advance(TRAINED)
    assert (await twin(api, made["_id"]))["current_status"] == "completed"


async def test_training_an_image_upload_costs_the_diamonds_start_training_costs(api):
    before = (await balances(api))["diamonds"]
    await post(api, UPLOAD, image_url="https://e.com/me.jpg")
    made = await post(api, TRAINING)
    assert made["name"] == "video twin" and made["image_url"] == "https://e.com/me.jpg"
    assert (await balances(api))["diamonds"] == before - 1


async def test_upload_needs_a_video_or_an_image(api):
    for body in ({}, {"name": "x"}, {"video_url": ""}, {"gender": "other", "video_url": "u"}):
        status, answer = await api.call("POST", UPLOAD, json=body)
        assert_refusal(status, answer, 400, 400)


async def test_user_records_lists_every_twin_of_the_caller_newest_first(api):
    first = await start(api)
    failed = await start(api, headers={"X-Mock-Outcome": "failure"})
    await start(api, key="sk-other")
    api.advance(TRAINED)
    rows = await get(api, USER_RECORDS)
    assert [r["_id"] for r in rows] == [failed["_id"], first["_id"]]
    assert rows == [await twin(api, failed["_id"]), await twin(api, first["_id"])]
    assert {r["current_status"] for r in rows} == {"completed", "failed"}


async def test_continue_training_is_continue_tranining_spelled_right(api):
    made = await start(api)
    status, body = await api.call("POST", CONTINUE, json={"_id": made["_id"]})
    assert "not completed" in assert_refusal(status, body, 400, 400)
    api.advance(TRAINED)
    before = (await balances(api))["diamonds"]
    answer = await post(api, CONTINUE, _id=made["_id"])
    assert answer == await twin(api, made["_id"])
    assert (await balances(api))["diamonds"] == before - 1
    [record] = await get(api, TRAININGS)
    assert (record["type"], record["current_status"]) == ("lip_sync", "processing")
    assert record["user_video_twin_id"] == made["_id"] and record["name"] == "me"
    status, body = await api.call("POST", CONTINUE, json={"_id": made["_id"]})
    assert "already" in assert_refusal(status, body, 400, 400)
    api.advance(LIPSYNC_HOURS)
    [record] = await get(api, TRAININGS)
    assert record["current_status"] == "completed"
    assert await get(api, TRAININGS, key="sk-other") == []


async def test_eye_contact_enhances_a_completed_twin_once(api):
    older = await start(api)
    newer = await start(api)
    api.advance(TRAINED)
    record = await post(api, EYE)  # no _id: the newest completed twin
    assert (record["type"], record["current_status"]) == ("eye_contact", "processing")
    assert record["user_video_twin_id"] == newer["_id"]
    status, body = await api.call("POST", EYE, json={"_id": newer["_id"]})
    assert "already" in assert_refusal(status, body, 400, 400)
    other = await post(api, EYE, _id=older["_id"])
    await post(api, CONTINUE, _id=older["_id"])
    api.advance(EYE_SECONDS)
    rows = await get(api, TRAININGS)
    assert [(r["type"], r["current_status"]) for r in rows] == [
        ("lip_sync", "processing"),
        ("eye_contact", "completed"),
        ("eye_contact", "completed"),
    ]
    assert rows[1]["_id"] == other["_id"]
    await post(api, f"{BASE}/remove", _id=older["_id"])  # its trainings go with it
    assert [r["_id"] for r in await get(api, TRAININGS)] == [record["_id"]]


async def test_eye_contact_refuses_a_twin_not_completed_or_not_the_callers(api):
    status, body = await api.call("POST", EYE, json={})
    assert_refusal(status, body, 400, 400)  # no twin at all
    running = await start(api)
    status, body = await api.call("POST", EYE, json={"_id": running["_id"]})
    assert "not completed" in assert_refusal(status, body, 400, 400)
    theirs = await start(api, key="sk-other")
    api.advance(TRAINED)
    status, body = await api.call("POST", EYE, json={"_id": theirs["_id"]})
    assert_refusal(status, body, 404, 404)
    status, body = await api.call("POST", EYE, json={"_id": 5})
    assert_refusal(status, body, 400, 400)


async def test_a_failed_twin_retried_trains_again_under_its_id(api):
    running = await start(api)
    status, body = await api.call("POST", RETRY, json={"_id": running["_id"]})
    assert "only a failed task" in assert_refusal(status, body, 400, 400)
    made = await start(api, headers={"X-Mock-Outcome": "failure"})
    api.advance(TRAINED)
    assert (await twin(api, made["_id"]))["current_status"] == "failed"
    again = await post(api, RETRY, _id=made["_id"])
    assert again["_id"] == made["_id"] and again["current_status"] == "initialized"
    assert again == await twin(api, made["_id"])
    api.advance(TRAINED)
    assert (await twin(api, made["_id"]))["current_status"] == "completed"
    status, body = await api.call("POST", RETRY, key="sk-other", json={"_id": made["_id"]})
    assert_refusal(status, body, 404, 404)


async def test_anchor_list_gives_the_callers_avatars_and_with_web_type_the_system_ones(api):
    made = await start(api)
    await start(api, key="sk-other")
    assert await post(api, ANCHORS) == []  # nothing completed yet, no system avatars asked
    api.advance(TRAINED)
    mine = await post(api, ANCHORS)
    assert [(r["user_video_twin_id"], r["type"], r["anchor_type"]) for r in mine] == [
        (made["_id"], "custom", 1)
    ]
    for web_type in ("a2e", "tyzn"):
        rows = await post(api, ANCHORS, web_type=web_type)
        assert rows[0] == mine[0] and len(rows) > 1
        assert {r["type"] for r in rows[1:]} == {"default"}
    characters = data_of(*await api.call("GET", "/api/v1/anchor/character_list"))
    assert await post(api, ANCHORS, web_type="a2e") == characters
    status, body = await api.call("POST", ANCHORS, json={"web_type": "web"})
    assert_refusal(status, body, 400, 400)
