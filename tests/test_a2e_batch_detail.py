"""The reference's batch and processing reads on A2E's served task families, and caption
removal's retry.

``POST .../batchDetail {ids}`` answers the caller's records among ``ids`` as each one's
detail shows it at that instant; another key's ids, unknown ids and deleted ones are left out.
``allProcessing`` lists the unfinished tasks. A failed caption removal can be retried: it runs
again under its own ``_id`` and is charged again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.test_a2e import assert_refusal, coins, data_of


@dataclass(frozen=True)
class Batchable:
    name: str
    start: str  # POST path that creates a record
    body: dict[str, Any]
    detail: str  # GET path of one record, {} for the id
    batch: str
    done_after: float  # seconds until every record of the default scenario has ended


BATCHABLE = (
    Batchable(
        "face swap",
        "/api/v1/userFaceSwapTask/add",
        {"name": "s", "face_url": "https://e.com/f.jpg", "video_url": "https://e.com/v.mp4"},
        "/api/v1/userFaceSwapTask/{}",
        "/api/v1/userFaceSwapTask/batchDetail",
        10,
    ),
    Batchable(
        "talking photo",
        "/api/v1/talkingPhoto/start",
        {"name": "p", "image_url": "https://e.com/i.jpg", "audio_url": "https://e.com/a.mp3"},
        "/api/v1/talkingPhoto/{}",
        "/api/v1/talkingPhoto/batchDetail",
        60,
    ),
    Batchable(
        "talking video",
        "/api/v1/talkingVideo/start",
        {"name": "v", "video_url": "https://e.com/v.mp4", "audio_url": "https://e.com/a.mp3"},
        "/api/v1/talkingVideo/{}",
        "/api/v1/talkingVideo/batchDetail",
        60,
    ),
    Batchable(
        "caption removal",
        "/api/v1/userCaptionRemoval/start",
        {"name": "c", "source_url": "https://e.com/v.mp4"},
        "/api/v1/userCaptionRemoval/{}",
        "/api/v1/userCaptionRemoval/batchDetail",
        60,
    ),
    Batchable(
        "video twin",
        "/api/v1/userVideoTwin/startTraining",
        {"name": "me", "video_url": "https://e.com/me.mp4"},
        "/api/v1/userVideoTwin/{}",
        "/api/v1/userVideoTwin/batchDetail",
        200,
    ),
)
CAPTION = BATCHABLE[3]
RETRY = "/api/v1/userCaptionRemoval/retry"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def create(mock, fam: Batchable, key="sk-test", headers=None) -> str:
    status, body = await mock.call("POST", fam.start, key=key, json=fam.body, headers=headers or {})
    return data_of(status, body)["_id"]


async def detail(mock, fam: Batchable, task_id: str, key="sk-test") -> dict[str, Any]:
    return data_of(*await mock.call("GET", fam.detail.format(task_id), key=key))


async def batch(mock, fam: Batchable, ids, key="sk-test") -> list[dict[str, Any]]:
    return data_of(*await mock.call("POST", fam.batch, key=key, json={"ids": ids}))


@pytest.mark.parametrize("fam", BATCHABLE, ids=lambda f: f.name)
async def test_batch_detail_answers_the_callers_records_as_their_detail_shows_them(api, fam):
    first = await create(api, fam)
    theirs = await create(api, fam, key="sk-other")
    second = await create(api, fam, headers={"X-Mock-Outcome": "failure"})
    gone = await create(api, fam)
    await remove(api, fam, gone)
    for elapsed in (0, 3, fam.done_after):  # running, part way, ended
        api.advance(elapsed)
        rows = await batch(api, fam, [second, theirs, "nope", first, gone])
        assert [r["_id"] for r in rows] == [second, first]
        assert rows == [await detail(api, fam, second), await detail(api, fam, first)]
    assert {r["current_status"] for r in rows} == {"completed", "failed"}


async def remove(mock, fam: Batchable, task_id: str) -> None:
    if "VideoTwin" in fam.batch:  # a twin is removed by POST, not deleted
        answer = await mock.call("POST", "/api/v1/userVideoTwin/remove", json={"_id": task_id})
    else:
        answer = await mock.call("DELETE", fam.detail.format(task_id))
    data_of(*answer)


@pytest.mark.parametrize("fam", BATCHABLE, ids=lambda f: f.name)
async def test_batch_detail_of_no_ids_or_only_foreign_ones_is_an_empty_success(api, fam):
    theirs = await create(api, fam, key="sk-other")
    assert await batch(api, fam, []) == []
    assert await batch(api, fam, [theirs]) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": "a,b"}, {"ids": [1, 2]}, {"ids": ["x"] * 201}],
    ids=["no ids", "not a list", "not strings", "over 200"],
)
@pytest.mark.parametrize("fam", BATCHABLE, ids=lambda f: f.name)
async def test_batch_detail_refuses_a_bad_body_in_a2e_dialect(api, fam, body):
    status, answer = await api.call("POST", fam.batch, json=body)
    assert_refusal(status, answer, 400, 400)


@pytest.mark.parametrize(
    "base, fam",
    [("/api/v1/userDubbing", None), ("/api/v1/userCaptionRemoval", CAPTION)],
    ids=["dubbing", "caption removal"],
)
async def test_all_processing_lists_the_unfinished_tasks_as_detail_shows_them(api, base, fam):
    body = fam.body if fam else {"source_url": "https://e.com/v.mp4", "target_lang": "es"}
    start = f"{base}/start" if fam else f"{base}/startDubbing"
    early = data_of(*await api.call("POST", start, json=body))["_id"]
    api.advance(100)  # done
    late = data_of(*await api.call("POST", start, json=body))["_id"]
    await api.call("POST", start, key="sk-other", json=body)
    rows = data_of(*await api.call("GET", f"{base}/allProcessing"))
    assert [r["_id"] for r in rows] == [late]
    assert rows[0] == data_of(*await api.call("GET", f"{base}/{late}"))
    assert data_of(*await api.call("GET", f"{base}/{early}"))["current_status"] == "completed"
    api.advance(100)
    assert data_of(*await api.call("GET", f"{base}/allProcessing")) == []


async def test_a_failed_caption_removal_retried_runs_again_under_its_id_and_is_charged_again(
    make_mock,
):
    mock = await make_mock("providers: {a2e: {costs: {caption_removal: 7}}}", providers=("a2e",))
    before = await coins(mock)
    task_id = await create(mock, CAPTION, headers={"X-Mock-Outcome": "failure"})
    mock.advance(60)
    failed = await detail(mock, CAPTION, task_id)
    assert failed["current_status"] == "failed" and failed["failed_message"]
    assert await coins(mock) == before  # the failure refunded it
    again = data_of(*await mock.call("POST", RETRY, json={"_id": task_id}))
    assert again["_id"] == task_id and again["current_status"] == "initialized"
    assert again["failed_message"] == "" and again["coins"] == 7
    assert again == await detail(mock, CAPTION, task_id)
    assert await coins(mock) == before - 7
    rows = data_of(*await mock.call("GET", "/api/v1/userCaptionRemoval/allRecords"))["rows"]
    assert [r["_id"] for r in rows] == [task_id]  # one record, not two
    mock.advance(60)
    assert (await detail(mock, CAPTION, task_id))["current_status"] == "completed"
    assert await coins(mock) == before - 7


async def test_only_a_failed_caption_removal_of_the_caller_can_be_retried(api):
    task_id = await create(api, CAPTION)
    status, body = await api.call("POST", RETRY, json={"_id": task_id})
    assert "only a failed task" in assert_refusal(status, body, 400, 400)
    api.advance(60)
    status, body = await api.call("POST", RETRY, json={"_id": task_id})  # completed
    assert_refusal(status, body, 400, 400)
    theirs = await create(api, CAPTION, key="sk-other", headers={"X-Mock-Outcome": "failure"})
    api.advance(60)
    status, body = await api.call("POST", RETRY, json={"_id": theirs})
    assert_refusal(status, body, 404, 404)
    status, body = await api.call("POST", RETRY, json={})
    assert_refusal(status, body, 400, 400)
