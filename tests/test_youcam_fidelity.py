"""Clients written against Perfect Corp's published docs run unmodified: the v2.1 upload routes,
the optional fields the schemas list, bg-replace as documented, and the rows the feature-table
audit corrected against the provider's own OpenAPI bundles (contracts/youcam/COVERAGE.md)."""

from __future__ import annotations

import pytest

from mockserver.providers.youcam.features import by_key, catalog, example_body, features
from tests.test_youcam_features import poll, run, units
from tests.test_youcam_uploads import JPEG


async def upload_via(mock, path: str, data: bytes = JPEG) -> str:
    """The documented dance on ``path``: reserve a slot, then PUT the bytes to its URL."""
    spec = {"content_type": "image/jpg", "file_name": "me.jpg", "file_size": len(data)}
    status, answer = await mock.call("POST", path, json={"files": [spec]})
    assert status == 200, answer
    (slot,) = answer["data"]["files"]
    assert set(slot) == {"content_type", "file_name", "file_id", "requests"}
    (request,) = slot["requests"]
    assert request["method"] == "PUT"
    assert request["headers"] == {"Content-Type": "image/jpg", "Content-Length": str(len(data))}
    resp = await mock.client.put(mock.local(request["url"]), data=data, headers=request["headers"])
    assert resp.status == 200
    return slot["file_id"]


# --- v2.1 file routes --------------------------------------------------------------------


async def test_v21_skin_analysis_uploads_on_its_own_v21_file_route(mock):
    feature = by_key()["skin-analysis@v2.1"]
    file_id = await upload_via(mock, "/s2s/v2.1/file/skin-analysis")
    body = {"src_file_id": file_id, "dst_actions": ["wrinkle", "pore"], "format": "json"}
    task_id = await run(mock, feature, body)
    mock.advance(10)
    status, answer = await poll(mock, feature, task_id)
    assert status == 200 and answer["data"]["task_status"] == "success", answer
    assert [o["type"] for o in answer["data"]["results"]["output"]] == ["wrinkle", "pore"]


async def test_v21_hair_transfer_has_its_file_route_too(mock):
    feature = by_key()["hair-transfer@v2.1"]
    src = await upload_via(mock, "/s2s/v2.1/file/hair-transfer")
    mock.advance(1)
    ref = await upload_via(mock, "/s2s/v2.1/file/hair-transfer")
    task_id = await run(mock, feature, {"src_file_id": src, "ref_file_id": ref})
    mock.advance(10)
    assert (await poll(mock, feature, task_id))[1]["data"]["task_status"] == "success"


def test_every_task_route_has_a_file_route_on_its_own_version():
    from mockserver.spec import load_operations

    routes = {(op.method, op.path) for op in load_operations("youcam")}
    for feature in features():
        assert ("POST", feature.run_path) in routes
        assert ("POST", f"/s2s/{feature.version}/file/{feature.slug}") in routes, feature.key


# --- optional fields the docs list ---------------------------------------------------------


@pytest.mark.parametrize("version", ["v2.0", "v2.1"])
async def test_pf_camera_kit_is_accepted_on_both_skin_analysis_versions(mock, version):
    """Perfect Corp's own sample scripts send it; an unknown field is still BadRequest."""
    body = {
        "src_file_url": "https://example.com/selfie.jpg",
        "dst_actions": ["wrinkle", "pore", "texture", "acne"],
        "miniserver_args": {"enable_mask_overlay": False},
        "format": "json",
        "pf_camera_kit": False,
    }
    path = f"/s2s/{version}/task/skin-analysis"
    status, answer = await mock.call("POST", path, json=body)
    assert status == 200, answer
    status, answer = await mock.call("POST", path, json={**body, "pf_camera_kits": False})
    assert (status, answer["error_code"]) == (400, "BadRequest")


@pytest.mark.parametrize(
    ("key", "body"),
    [
        # text to video: the bundle's resolution values, ratio and prompt_extend
        (
            "text-to-video/youcam",
            {
                "prompt": "A kitten",
                "dst_duration": 8,
                "resolution": "720P",
                "ratio": "9:16",
                "prompt_extend": False,
            },
        ),
        # image to image: up to three sources as src_file_urls, and a free size
        (
            "image-to-image/youcam",
            {
                "src_file_urls": ["https://e.x/1.jpg", "https://e.x/2.jpg", "https://e.x/3.jpg"],
                "model": "youcam-image-v2",
                "prompt": "Make her wear the dress",
                "size": "1024*1536",
            },
        ),
        # hair transfer v2.1: hair_color with a template
        ("hair-transfer@v2.1", {"src_file_url": "https://e.x/me.jpg", "hair_color": "src"}),
        # face swap video: one reference and the duration
        (
            "face-swap-vid",
            {
                "src_file_url": "https://e.x/v.mp4",
                "ref_file_url": "https://e.x/f.jpg",
                "dst_duration": 12,
            },
        ),
        # face reshape: the docs' ready-to-send example payload, "source" included
        (
            "face-reshape",
            {
                "src_file_url": "https://e.x/me.jpg",
                "version": "1.0",
                "source": "yco",
                "features": {
                    "eye_size_left": 80,
                    "eye_size_right": 80,
                    "chin_reshape_left": 20,
                    "face_width": -30,
                    "nose_tip_width": 30,
                },
                "global": {"skin_smooth_strength": 50, "skin_smooth_color_intensity": 50},
            },
        ),
        # video object removal: a mask and its frame index
        (
            "obj-rem-vid",
            {
                "src_file_url": "https://e.x/v.mp4",
                "msk_file_url": "https://e.x/m.png",
                "frame_idx": 0,
            },
        ),
    ],
)
async def test_documented_bodies_are_accepted(mock, key, body):
    feature = by_key()[key]
    if key == "hair-transfer@v2.1":
        body = {**body, "template_id": catalog(key)[0]["id"]}
    task_id = await run(mock, feature, body)
    mock.advance(10)
    assert (await poll(mock, feature, task_id))[1]["data"]["task_status"] == "success"


@pytest.mark.parametrize(
    ("key", "drop"),
    [
        ("enhance", "scale"),
        ("obj-replace", "prompt"),
        ("obj-rem-vid", "frame_idx"),
        ("obj-rem-vid", "msk_file_url"),
        ("face-swap", "face_mapping"),
        ("video-sr", "dst_duration"),
        ("out-paint", "crop_input_height"),
        ("teeth-whiten", "effect"),
    ],
)
async def test_fields_the_docs_require_are_required(mock, key, drop):
    feature = by_key()[key]
    body = {k: v for k, v in example_body(feature).items() if k != drop}
    status, answer = await mock.call("POST", feature.run_path, json=body)
    assert (status, answer["error_code"]) == (400, "InvalidParameters"), answer
    assert drop in answer["error"]


@pytest.mark.parametrize(
    ("key", "body", "cost"),
    [
        ("headshot", {"output_count": 5}, 3),  # 1 unit for 2 images, rounded up
        ("ai-studio", {"output_count": 2}, 1),
        ("skin-analysis", {"dst_actions": ["hd_pore", "hd_wrinkle"]}, 12),  # HD: 12, not 9
        ("skin-analysis@v2.1", {"dst_actions": ["wrinkle"] * 9}, 14),  # 9~12 SD concerns
        ("face-swap-vid", {"dst_duration": 12}, 3),  # 1 unit per 5 seconds
        ("video-trans", {"dst_duration": 5}, 20),  # 4 units per second
        ("video-sr", {"dst_duration": 9}, 5),  # 1 unit per 2 seconds
        ("bg-replace", {}, 4),
        ("enhance", {"scale": 4}, 2),
        ("out-paint", {}, 2),
    ],
)
async def test_costs_follow_the_bundles(mock, key, body, cost):
    feature = by_key()[key]
    before = await units(mock)
    task_id = await run(mock, feature, {**example_body(feature), **body})
    mock.advance(10)
    assert (await poll(mock, feature, task_id))[1]["data"]["task_status"] == "success"
    assert await units(mock) == before - cost


@pytest.mark.parametrize("key", ["colorize", "colorize/color-correct"])
async def test_colorize_answers_four_versions(mock, key):
    feature = by_key()[key]
    task_id = await run(mock, feature)
    mock.advance(10)
    results = (await poll(mock, feature, task_id))[1]["data"]["results"]
    assert len({o["url"] for o in results["output"]}) == 4


# --- bg-replace as documented ------------------------------------------------------------

BG = "/s2s/v2.0/task/bg-replace"
SRC = {"src_file_url": "https://example.com/selfie.jpg"}


async def test_bg_replace_takes_the_documented_prompt_only_body(mock):
    feature = by_key()["bg-replace"]
    before = await units(mock)
    task_id = await run(mock, feature, {**SRC, "prompt": "A sunny beach with palm trees."})
    mock.advance(10)
    data = (await poll(mock, feature, task_id))[1]["data"]
    assert data["task_status"] == "success" and data["results"]["url"]
    assert await units(mock) == before - 4


async def test_bg_replace_templates_include_the_docs_example(mock):
    status, answer = await mock.call("GET", "/s2s/v2.0/task/template/bg-replace")
    assert status == 200
    assert "nature_cherryblossom" in [t["id"] for t in answer["data"]["templates"]]
    body = {**SRC, "type": "template", "template_id": "nature_cherryblossom"}
    assert (await mock.call("POST", BG, json=body))[0] == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "template", "template_id": "bg_001"}, 400, "InvalidTemplate"),
        ({"type": "template"}, 200, None),  # the default template
        ({"template_id": "not_read"}, 200, None),  # type prompt (the default) ignores it
        ({"type": "prompt", "template_id": "not_read", "prompt": "x"}, 200, None),
        ({"type": "collage"}, 400, "InvalidParameters"),
        ({"ref_file_url": "https://e.x/bg.jpg"}, 400, "BadRequest"),  # no reference file
        ({"prompt": 5}, 400, "InvalidParameters"),
    ],
)
async def test_bg_replace_type_decides_what_is_read(mock, body, status, code):
    got, answer = await mock.call("POST", BG, json={**SRC, **body})
    assert got == status, answer
    if code:
        assert answer["error_code"] == code
