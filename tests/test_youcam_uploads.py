"""YouCam files across features: per-feature file endpoints, what a task makes of the file ids
it names (never uploaded, too large, wrong kind), retention, and dst_id chaining."""

from __future__ import annotations

import pytest

from mockserver.providers.youcam.features import by_key, example_body, features
from tests.test_youcam_features import poll, run

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 96
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 84


async def upload(mock, data=JPEG, ctype="image/jpeg", path="/s2s/v2.0/file", key="sk-test") -> str:
    spec = {"content_type": ctype, "file_name": "f", "file_size": len(data)}
    status, answer = await mock.call("POST", path, key=key, json={"files": [spec]})
    assert status == 200, answer
    slot = answer["data"]["files"][0]
    request = slot["requests"][0]
    resp = await mock.client.put(mock.local(request["url"]), data=data, headers=request["headers"])
    assert resp.status == 200
    return slot["file_id"]


async def outcome(mock, key, body, wait=10, api_key="sk-test"):
    feature = by_key()[key]
    task_id = await run(mock, feature, body, key=api_key)
    mock.advance(wait)
    status, answer = await poll(mock, feature, task_id, key=api_key)
    assert status == 200, answer
    return answer["data"]


def with_file(key, **files):
    """The feature's example body with these file ids instead of the matching URLs."""
    urls = {f.replace("_file_id", "_file_url") for f in files}
    body = {k: v for k, v in example_body(by_key()[key]).items() if k not in urls}
    return {**body, **files}


@pytest.mark.parametrize("feature", features(), ids=lambda f: f.key)
async def test_every_feature_has_a_file_endpoint_for_its_kinds(mock, feature):
    for ctype in feature.upload_types:
        mock.advance(1)  # paced under the documented 5 requests per second
        spec = {"content_type": ctype, "file_name": "f", "file_size": 1000}
        status, answer = await mock.call("POST", feature.file_path, json={"files": [spec]})
        assert status == 200, answer
    foreign = "image/webp" if feature.src_kind == "video" else "video/mp4"
    if foreign not in feature.upload_types:
        spec = {"content_type": foreign, "file_name": "f", "file_size": 1000}
        status, answer = await mock.call("POST", feature.file_path, json={"files": [spec]})
        assert (status, answer["error_code"]) == (400, "InvalidParameters")
    too_big = {
        "content_type": feature.upload_types[0],
        "file_name": "f",
        "file_size": feature.upload_limit + 1,
    }
    status, answer = await mock.call("POST", feature.file_path, json={"files": [too_big]})
    assert (status, answer["error_code"]) == (400, "InvalidParameters")


async def test_uploaded_files_work_for_images_videos_and_reference_lists(mock):
    image, video = await upload(mock), await upload(mock, MP4, "video/mp4")
    assert (await outcome(mock, "sod", with_file("sod", src_file_id=image)))[
        "task_status"
    ] == "success"
    assert (await outcome(mock, "video-sr", with_file("video-sr", src_file_id=video)))[
        "task_status"
    ] == "success"
    body = with_file("face-swap-vid", src_file_id=video, ref_file_id=image)
    assert (await outcome(mock, "face-swap-vid", body))["task_status"] == "success"
    body = with_file("face-swap", src_file_id=image, ref_file_ids=[image, image])
    assert (await outcome(mock, "face-swap", body))["task_status"] == "success"


@pytest.mark.parametrize(
    ("key", "field", "expected"),
    [
        ("sod", "src_file_id", "error_decode_image"),  # a video where an image is read
        ("generative-fill", "msk_file_id", "error_decode_mask"),
    ],
)
async def test_wrong_kind_of_file_ends_the_task_in_error(mock, key, field, expected):
    video = await upload(mock, MP4, "video/mp4")
    image = await upload(mock)
    body = with_file(key, **{"src_file_id": image, field: video})
    data = await outcome(mock, key, body)
    assert (data["task_status"], data["error"]) == ("error", expected)


async def test_an_image_given_to_a_video_feature_cannot_be_decoded(mock):
    image = await upload(mock)
    data = await outcome(mock, "obj-rem-vid", with_file("obj-rem-vid", src_file_id=image))
    assert (data["task_status"], data["error"]) == ("error", "error_decode_video")


async def test_a_file_over_the_feature_limit_is_exceed_max_filesize(mock):
    big = await upload(mock, b"\x00" * (10 * 1024 * 1024 + 1), "video/mp4")
    data = await outcome(mock, "enhance", with_file("enhance", src_file_id=big))
    assert (data["task_status"], data["error"]) == ("error", "exceed_max_filesize")


async def test_a_file_never_uploaded_or_expired_ends_in_the_configured_error(mock):
    _, answer = await mock.call(
        "POST",
        "/s2s/v2.0/file/2d-vto/ring",
        json={"files": [{"content_type": "image/png", "file_name": "r.png", "file_size": 10}]},
    )
    slot = answer["data"]["files"][0]["file_id"]  # the PUT never happens
    data = await outcome(mock, "2d-vto/ring", with_file("2d-vto/ring", src_file_id="nope"))
    assert data["error"] == "unknown_internal_error"
    image = await upload(mock)
    body = with_file("face-swap", src_file_id=image, ref_file_ids=[image, slot])
    assert (await outcome(mock, "face-swap", body))["error"] == "unknown_internal_error"
    mock.advance(31 * 86400)  # files are kept 30 days
    data = await outcome(mock, "sod", with_file("sod", src_file_id=image))
    assert data["error"] == "unknown_internal_error"


async def test_a_result_dst_id_chains_into_the_next_task_of_the_same_tenant(mock):
    image = await upload(mock)
    data = await outcome(mock, "sod", with_file("sod", src_file_id=image))
    dst = data["results"]["dst_id"]
    assert (await outcome(mock, "enhance", with_file("enhance", src_file_id=dst)))[
        "task_status"
    ] == "success"
    other = await outcome(
        mock, "enhance", with_file("enhance", src_file_id=dst), api_key="sk-other"
    )
    assert other["task_status"] == "error"


async def test_missing_upload_refused_at_submit_for_any_feature(make_mock):
    mock = await make_mock("providers: {youcam: {settings: {missing_upload: reject}}}")
    body = with_file("hat", src_file_id="nope", ref_file_url="https://e.x/hat.jpg")
    status, answer = await mock.call("POST", by_key()["hat"].run_path, json=body)
    assert (status, answer["error_code"]) == (400, "InvalidParameters")
