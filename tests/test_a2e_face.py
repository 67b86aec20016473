"""A2E face swap images and previews, and the detail?_id= form of a face swap task."""

from __future__ import annotations

import pytest

from tests.test_a2e import FACESWAP, HEX24, ISO_MS, assert_refusal, coins, data_of, download, walk

IMG_ADD = "/api/v1/userFaceSwapImage/add"
IMG_RECORDS = "/api/v1/userFaceSwapImage/records"
IMG = "/api/v1/userFaceSwapImage/{}"
PREVIEW_ADD = "/api/v1/userFaceSwapPreview/add"
PREVIEW_STATUS = "/api/v1/userFaceSwapPreview/status"
FS_ADD = "/api/v1/userFaceSwapTask/add"
FS = "/api/v1/userFaceSwapTask/{}"
FS_DETAIL = "/api/v1/userFaceSwapTask/detail"
PREVIEW = {"face_url": "https://example.com/face.jpg", "video_url": "https://example.com/f.png"}


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def add_face(mock, url, key="sk-test"):
    return data_of(*await mock.call("POST", IMG_ADD, key=key, json={"face_url": url}))


# --- face images -------------------------------------------------------------------------


async def test_adding_a_face_answers_the_whole_list_newest_first(api):
    first = await add_face(api, "https://example.com/a.jpg")
    assert len(first) == 1
    face = first[0]
    assert set(face) == {"face_url", "_id", "user_id", "createdAt", "updatedAt"}
    assert HEX24.match(face["_id"]) and HEX24.match(face["user_id"])
    assert ISO_MS.match(face["createdAt"])
    api.advance(1)
    both = await add_face(api, "https://example.com/b.jpg")
    assert [f["face_url"] for f in both] == ["https://example.com/b.jpg", face["face_url"]]
    assert both[1] == face and both[0]["user_id"] == face["user_id"]
    other = await add_face(api, "https://example.com/c.jpg", key="sk-other")
    assert len(other) == 1 and other[0]["user_id"] != face["user_id"]


async def test_face_records_are_a_bare_array_or_a_page_when_asked(api):
    for n in range(3):
        await add_face(api, f"https://example.com/{n}.jpg")
        api.advance(1)
    everything = data_of(*await api.call("GET", IMG_RECORDS))
    assert [f["face_url"][-5:] for f in everything] == ["2.jpg", "1.jpg", "0.jpg"]
    page = data_of(*await api.call("GET", IMG_RECORDS, params={"pageNum": 2, "pageSize": 2}))
    assert page == {"rows": everything[2:], "count": 3}


async def test_deleting_a_face(api):
    face = (await add_face(api, "https://example.com/a.jpg"))[0]
    assert data_of(*await api.call("DELETE", IMG.format(face["_id"]))) == {}
    assert data_of(*await api.call("GET", IMG_RECORDS)) == []
    assert_refusal(*await api.call("DELETE", IMG.format(face["_id"])), 404, 404)


async def test_face_images_refuse_bad_input_foreign_ids_and_missing_tokens(api):
    assert_refusal(*await api.call("POST", IMG_ADD, json={}), 400, 400)
    assert_refusal(*await api.call("GET", IMG_RECORDS, params={"pageNum": 0}), 400, 400)
    assert_refusal(*await api.call("GET", IMG_RECORDS, key=None), 401, 401)
    assert_refusal(*await api.call("POST", IMG_ADD, json={"face_url": "u"}, key=None), 401, 401)
    theirs = (await add_face(api, "https://example.com/a.jpg", key="sk-other"))[0]
    assert_refusal(*await api.call("DELETE", IMG.format(theirs["_id"])), 404, 404)
    assert_refusal(*await api.call("DELETE", IMG.format(theirs["_id"]), key=None), 401, 401)


# --- previews ----------------------------------------------------------------------------


async def test_preview_walks_to_completed_with_an_image_result(api):
    created = data_of(*await api.call("POST", PREVIEW_ADD, json=PREVIEW))
    fields = {"video_url", "face_url", "current_status", "result_url", "error_code"}
    assert set(created) == fields | {"faild_message", "_id", "user_id"}
    assert created["current_status"] == "initialized" and created["error_code"] is None

    async def status():
        rows = data_of(*await api.call("GET", PREVIEW_STATUS, params={"_id": created["_id"]}))
        assert len(rows) == 1
        return rows[0]

    seen, reads = await walk(api, status, ("completed", "failed"))
    assert seen == ["initialized", "processing", "completed"]
    done = reads[-1]
    assert done["error_code"] == "0" and done["faild_message"] is None
    assert (await download(api, done["result_url"]))[1] == "image/png"
    again = data_of(*await api.call("POST", PREVIEW_ADD, json=PREVIEW))
    everything = data_of(*await api.call("GET", PREVIEW_STATUS))
    assert [p["_id"] for p in everything] == [again["_id"], done["_id"]]  # newest first
    assert everything[1] == done


async def test_failed_preview_speaks_face_swap_vocabulary(api):
    headers = {"X-Mock-Outcome": "failure"}
    created = data_of(*await api.call("POST", PREVIEW_ADD, json=PREVIEW, headers=headers))
    api.advance(10)
    failed = data_of(*await api.call("GET", PREVIEW_STATUS, params={"_id": created["_id"]}))[0]
    assert failed["current_status"] == "failed" and failed["result_url"] == ""
    assert failed["error_code"] == "1004" and failed["faild_message"] == "face not detected"


async def test_preview_status_is_a_filter_that_hides_other_keys_previews(api):
    assert data_of(*await api.call("GET", PREVIEW_STATUS)) == []  # none yet
    theirs = data_of(*await api.call("POST", PREVIEW_ADD, key="sk-other", json=PREVIEW))
    assert data_of(*await api.call("GET", PREVIEW_STATUS, params={"_id": theirs["_id"]})) == []
    assert data_of(*await api.call("GET", PREVIEW_STATUS)) == []
    assert_refusal(*await api.call("GET", PREVIEW_STATUS, key=None), 401, 401)
    assert_refusal(*await api.call("POST", PREVIEW_ADD, json={"video_url": "v"}), 400, 400)
    assert_refusal(*await api.call("POST", PREVIEW_ADD, json=PREVIEW, key=None), 401, 401)


async def test_preview_without_a_frame_gives_a_jpg_and_costs_what_the_scenario_says(make_mock):
    mock = await make_mock("providers: {a2e: {costs: {faceswap_preview: 4}}}", providers=("a2e",))
    created = data_of(*await mock.call("POST", PREVIEW_ADD, json={"face_url": "f"}))
    assert created["video_url"] == "" and await coins(mock) == 10000 - 4
    failing = await mock.call(
        "POST", PREVIEW_ADD, json={"face_url": "f"}, headers={"X-Mock-Outcome": "failure"}
    )
    data_of(*failing)
    assert await coins(mock) == 10000 - 8
    mock.advance(10)
    assert await coins(mock) == 10000 - 4
    done = data_of(*await mock.call("GET", PREVIEW_STATUS, params={"_id": created["_id"]}))[0]
    assert (await download(mock, done["result_url"]))[1] == "image/jpeg"


# --- face swap task: detail?_id= ---------------------------------------------------------


async def test_face_swap_detail_form_equals_the_id_form(api):
    task_id = data_of(*await api.call("POST", FS_ADD, json=FACESWAP))["_id"]
    for seconds in (0, 1, 30):
        api.advance(seconds)
        by_path = data_of(*await api.call("GET", FS.format(task_id)))
        assert data_of(*await api.call("GET", FS_DETAIL, params={"_id": task_id})) == by_path
    await api.call("DELETE", FS.format(task_id))
    assert_refusal(*await api.call("GET", FS_DETAIL, params={"_id": task_id}), 404, 404)
    assert_refusal(*await api.call("GET", FS_DETAIL), 400, 400)
    assert_refusal(*await api.call("GET", FS_DETAIL, params={"_id": task_id}, key=None), 401, 401)
