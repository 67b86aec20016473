"""YouCam file slots, the PUT upload to the mock, and the template catalog."""

from __future__ import annotations

import pytest

from tests.test_youcam_ai_avatar import GOOD, RUN, poll

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 96
FROM_FILE = {k: v for k, v in GOOD.items() if k != "src_file_url"}


async def create_slot(mock, path="/s2s/v2.0/file/ai-avatar", size=None, ctype="image/jpeg"):
    size = len(JPEG) if size is None else size
    status, body = await mock.call(
        "POST",
        path,
        json={"files": [{"content_type": ctype, "file_name": "me.jpg", "file_size": size}]},
    )
    assert status == 200, body
    return body["data"]["files"][0]


@pytest.mark.parametrize("path", ["/s2s/v2.0/file", "/s2s/v2.0/file/ai-avatar"])
async def test_file_slot_points_at_the_mock(mock, path):
    slot = await create_slot(mock, path)
    assert slot["file_name"] == "me.jpg" and slot["content_type"] == "image/jpeg"
    request = slot["requests"][0]
    assert request["method"] == "PUT"
    assert request["headers"] == {"Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}
    resp = await mock.client.put(mock.local(request["url"]), data=JPEG, headers=request["headers"])
    assert resp.status == 200


async def test_put_must_match_the_signed_headers(mock):
    slot = await create_slot(mock)
    url = mock.local(slot["requests"][0]["url"])
    wrong_type = await mock.client.put(url, data=JPEG, headers={"Content-Type": "image/png"})
    assert wrong_type.status == 403 and b"SignatureDoesNotMatch" in await wrong_type.read()
    short = await mock.client.put(url, data=JPEG[:10], headers={"Content-Type": "image/jpeg"})
    assert short.status == 400
    unknown = await mock.client.put(
        "/__upload/nope", data=JPEG, headers={"Content-Type": "image/jpeg"}
    )
    assert unknown.status == 403


async def test_task_on_uploaded_file_succeeds(mock):
    slot = await create_slot(mock)
    request = slot["requests"][0]
    await mock.client.put(mock.local(request["url"]), data=JPEG, headers=request["headers"])
    body = {**FROM_FILE, "src_file_id": slot["file_id"]}
    status, answer = await mock.call("POST", RUN, json=body)
    assert status == 200
    mock.advance(10)
    _, result = await poll(mock, answer["data"]["task_id"])
    assert result["data"]["task_status"] == "success"


async def test_task_on_file_never_uploaded_ends_in_error(mock):
    slot = await create_slot(mock)  # the PUT never happens
    body = {**FROM_FILE, "src_file_id": slot["file_id"]}
    status, answer = await mock.call("POST", RUN, json=body)
    assert status == 200
    mock.advance(10)
    _, result = await poll(mock, answer["data"]["task_id"])
    assert result["data"]["task_status"] == "error"
    assert result["data"]["error"] == "unknown_internal_error"


async def test_another_tenants_file_counts_as_never_uploaded(mock):
    slot = await create_slot(mock)
    request = slot["requests"][0]
    await mock.client.put(mock.local(request["url"]), data=JPEG, headers=request["headers"])
    body = {**FROM_FILE, "src_file_id": slot["file_id"]}
    _, answer = await mock.call("POST", RUN, key="sk-other", json=body)
    mock.advance(10)
    _, result = await poll(mock, answer["data"]["task_id"], key="sk-other")
    assert result["data"]["task_status"] == "error"


async def test_missing_upload_can_be_refused_at_submit(make_mock):
    mock = await make_mock("providers: {youcam: {settings: {missing_upload: reject}}}")
    body = {**FROM_FILE, "src_file_id": "nope"}
    status, answer = await mock.call("POST", RUN, json=body)
    assert status == 400 and answer["error_code"] == "InvalidParameters"


@pytest.mark.parametrize(
    ("path", "spec"),
    [
        (
            "/s2s/v2.0/file/ai-avatar",
            {"content_type": "video/mp4", "file_name": "a.mp4", "file_size": 10},
        ),
        (
            "/s2s/v2.0/file/ai-avatar",
            {"content_type": "image/png", "file_name": "a.png", "file_size": 11 * 2**20},
        ),
        (
            "/s2s/v2.0/file",
            {"content_type": "image/png", "file_name": "a.png", "file_size": 11 * 2**20},
        ),
        (
            "/s2s/v2.0/file",
            {"content_type": "video/mp4", "file_name": "a.mp4", "file_size": 101 * 2**20},
        ),
        ("/s2s/v2.0/file", {"content_type": "image/png", "file_name": "a.png"}),
        ("/s2s/v2.0/file", {"content_type": "text/plain", "file_name": "a.txt", "file_size": 3}),
        ("/s2s/v2.0/file", {"content_type": "image/png", "file_name": "a.png", "file_size": -1}),
    ],
)
async def test_file_slot_refusals(mock, path, spec):
    status, body = await mock.call("POST", path, json={"files": [spec]})
    assert status == 400 and body["error_code"] == "InvalidParameters"


async def test_video_up_to_100_mb_is_accepted_by_the_universal_endpoint(mock):
    await create_slot(mock, "/s2s/v2.0/file", size=100 * 2**20, ctype="video/mp4")


async def test_template_catalog_pages_to_the_end(mock):
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": "20", **({"starting_token": token} if token else {})}
        status, body = await mock.call("GET", TEMPLATES, params=params)
        assert status == 200
        pages += 1
        seen += [t["id"] for t in body["data"]["templates"]]
        token = body["data"]["next_token"]
        if token is None:
            break
    assert pages == 4 and len(seen) == 71 == len(set(seen))
    assert all(t.startswith(("male_", "female_")) for t in seen)
    assert "female_manga_mood" in seen and "male_manga_mood" not in seen


async def test_template_thumbs_are_real_images(mock):
    _, body = await mock.call("GET", TEMPLATES, params={"page_size": "1"})
    thumb = body["data"]["templates"][0]["thumb"]
    resp = await mock.client.get(mock.local(thumb))
    assert resp.status == 200 and resp.content_type == "image/jpeg"


async def test_default_page_size_is_20(mock):
    _, body = await mock.call("GET", TEMPLATES)
    assert len(body["data"]["templates"]) == 20


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "0"},
        {"page_size": "21"},
        {"page_size": "x"},
        {"starting_token": "%%%"},
        {"starting_token": "LTE"},
    ],
)
async def test_template_paging_refusals(mock, params):
    status, body = await mock.call("GET", TEMPLATES, params=params)
    assert status == 400 and body["error_code"] == "InvalidParameters"
