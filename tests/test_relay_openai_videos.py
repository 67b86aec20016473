"""OpenAI's video object on the relay (/v1/videos), on the virtual clock: every state, content
and its expiry, remix links, list and delete, tenant isolation, the relay's quota and gate,
and OpenAI's error envelope on these routes only."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.webhook_receiver import start_receiver

VIDEOS = "/v1/videos"
VIDEO = "/v1/videos/{}"
GOOD = {"model": "sora-2", "prompt": "A calico cat playing a piano", "seconds": "8"}
DONE = 60  # seconds: longer than the default timeline (at most 4.5 s)
ERROR_KEYS = {"message", "type", "param", "code"}


async def create(mock, key="sk-test", headers=None, **overrides):
    body = {**GOOD, **overrides}
    status, video = await mock.call("POST", VIDEOS, key=key, json=body, headers=headers or {})
    assert status == 200, video
    assert video["object"] == "video" and video["status"] == "queued"
    return video


async def read(mock, video_id, key="sk-test"):
    status, video = await mock.call("GET", VIDEO.format(video_id), key=key)
    assert status == 200, video
    return video


async def quota(mock, key="sk-test"):
    status, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    assert status == 200
    return tenant["balances"]["quota"]


def openai_error(body, code=None):
    """OpenAI's envelope: exactly the four keys."""
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


async def test_a_job_goes_queued_in_progress_completed_and_serves_a_real_mp4(mock):
    video = await create(mock)
    assert video["id"].startswith("video_") and len(video["id"]) == 54
    assert video["progress"] == 0 and video["completed_at"] is None
    assert (video["size"], video["seconds"], video["model"]) == ("720x1280", "8", "sora-2")
    assert video["remixed_from_video_id"] is None and video["error"] is None
    seen, progress = [], []
    for _ in range(DONE * 4):
        body = await read(mock, video["id"])
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        progress.append(body["progress"])
        mock.advance(0.25)
    assert seen == ["queued", "in_progress", "completed"]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for p in progress)
    assert body["completed_at"] >= body["created_at"]
    assert body["expires_at"] == body["completed_at"] + 3600
    status, mp4 = await mock.call("GET", VIDEO.format(video["id"]) + "/content")
    assert status == 200 and mp4[4:8] == b"ftyp"


async def test_content_variants_have_their_types(mock):
    video = await create(mock)
    mock.advance(DONE)
    url = VIDEO.format(video["id"]) + "/content"
    resp = await mock.client.get(url, params={"variant": "thumbnail"}, headers=mock.auth())
    assert resp.status == 200 and resp.content_type == "image/webp"
    resp = await mock.client.get(url, headers=mock.auth())
    assert resp.status == 200 and resp.content_type == "video/mp4"


async def test_content_before_completion_is_refused_and_stops_after_expires_at(mock):
    video = await create(mock)
    url = VIDEO.format(video["id"]) + "/content"
    status, body = await mock.call("GET", url)
    assert status == 409 and openai_error(body, "video_not_ready")["param"] == "video_id"
    mock.advance(DONE)
    done = await read(mock, video["id"])
    assert (await mock.call("GET", url))[0] == 200
    mock.advance(done["expires_at"] - done["completed_at"] - DONE + 60)  # just past expires_at
    status, body = await mock.call("GET", url)
    assert status == 410
    openai_error(body, "video_expired")
    assert (await read(mock, video["id"]))["status"] == "completed"  # the object stays


async def test_the_content_ttl_is_a_setting(make_mock):
    mock = await make_mock("providers: {relay: {settings: {openai_video_ttl: null}}}")
    video = await create(mock)
    mock.advance(30 * 86400)
    assert (await read(mock, video["id"]))["expires_at"] is None
    assert (await mock.call("GET", VIDEO.format(video["id"]) + "/content"))[0] == 200


async def test_a_failed_job_says_why_has_no_content_and_gives_the_quota_back(mock):
    video = await create(mock, headers={"X-Mock-Outcome": "failure:moderation_blocked"})
    assert await quota(mock) == 999
    mock.advance(DONE)
    body = await read(mock, video["id"])
    assert body["status"] == "failed" and body["expires_at"] is None
    assert body["error"]["code"] == "moderation_blocked"
    assert "moderation" in body["error"]["message"]
    assert body["completed_at"] is not None
    assert (await mock.call("GET", VIDEO.format(video["id"]) + "/content"))[0] == 409
    assert await quota(mock) == 1000


async def test_with_refund_failed_off_a_failed_job_stays_charged(make_mock):
    mock = await make_mock("providers: {relay: {settings: {refund_failed: false}}}")
    video = await create(mock, headers={"X-Mock-Outcome": "failure"})
    mock.advance(DONE)
    assert (await read(mock, video["id"]))["status"] == "failed"
    assert await quota(mock) == 999  # new-api #2050


async def test_a_job_can_be_left_stuck_in_progress(make_mock):
    mock = await make_mock(
        "providers: {relay: {families: {openai_video: {stuck: {state: in_progress, rate: 1}}}}}"
    )
    video = await create(mock)
    mock.advance(3600)
    body = await read(mock, video["id"])
    assert body["status"] == "in_progress" and body["progress"] < 100
    assert await quota(mock) == 999


async def test_a_remix_links_to_its_source_and_keeps_its_shape(mock):
    source = await create(mock, size="1280x720")
    url = VIDEO.format(source["id"]) + "/remix"
    status, body = await mock.call("POST", url, json={"prompt": "now in the rain"})
    assert status == 409 and openai_error(body, "video_not_ready")  # not completed yet
    mock.advance(DONE)
    status, remix = await mock.call("POST", url, json={"prompt": "now in the rain"})
    assert status == 200, remix
    assert remix["remixed_from_video_id"] == source["id"] and remix["id"] != source["id"]
    assert (remix["status"], remix["size"], remix["seconds"]) == ("queued", "1280x720", "8")
    assert remix["prompt"] == "now in the rain"
    assert await quota(mock) == 998  # a remix is charged like a new video
    mock.advance(DONE)
    assert (await read(mock, remix["id"]))["remixed_from_video_id"] == source["id"]


async def test_the_list_pages_newest_first_and_agrees_with_the_detail(mock):
    ids = []
    for n in range(3):
        ids.append((await create(mock, prompt=f"take {n}"))["id"])
        mock.advance(1)
    status, page = await mock.call("GET", VIDEOS, params={"limit": 2})
    assert status == 200 and page["object"] == "list"
    assert [v["id"] for v in page["data"]] == [ids[2], ids[1]] and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == (ids[2], ids[1])
    status, rest = await mock.call("GET", VIDEOS, params={"after": ids[1]})
    assert [v["id"] for v in rest["data"]] == [ids[0]] and rest["has_more"] is False
    status, asc = await mock.call("GET", VIDEOS, params={"order": "asc"})
    assert [v["id"] for v in asc["data"]] == ids
    for row in asc["data"]:
        assert row == await read(mock, row["id"])


async def test_delete_forgets_a_finished_job_and_refuses_a_running_one(mock):
    video = await create(mock)
    status, body = await mock.call("DELETE", VIDEO.format(video["id"]))
    assert status == 409 and openai_error(body, "video_not_ready")
    mock.advance(DONE)
    status, body = await mock.call("DELETE", VIDEO.format(video["id"]))
    assert status == 200 and body == {"id": video["id"], "object": "video.deleted", "deleted": True}
    status, body = await mock.call("GET", VIDEO.format(video["id"]))
    assert status == 404 and openai_error(body, "video_not_found")
    assert (await mock.call("GET", VIDEO.format(video["id"]) + "/content"))[0] == 404
    assert (await mock.call("GET", VIDEOS))[1]["data"] == []


async def test_another_keys_video_is_not_found_anywhere(mock):
    video = await create(mock, key="sk-alice")
    mock.advance(DONE)
    for method, tail, kw in (
        ("GET", "", {}),
        ("GET", "/content", {}),
        ("POST", "/remix", {"json": {"prompt": "mine now"}}),
        ("DELETE", "", {}),
    ):
        status, body = await mock.call(method, VIDEO.format(video["id"]) + tail, key="sk-bob", **kw)
        assert status == 404, (method, tail, body)
        assert openai_error(body, "video_not_found")["type"] == "invalid_request_error"
    assert (await mock.call("GET", VIDEOS, key="sk-bob"))[1]["data"] == []
    assert (await read(mock, video["id"], key="sk-alice"))["status"] == "completed"


async def test_a_video_generation_task_is_not_a_video(mock):
    status, body = await mock.call(
        "POST", "/v1/video/generations", json={"model": "kling-v1", "prompt": "x"}
    )
    assert status == 200
    status, answer = await mock.call("GET", VIDEO.format(body["task_id"]))
    assert status == 404 and openai_error(answer, "video_not_found")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({**GOOD, "seconds": 8}, "seconds"),
        ({**GOOD, "seconds": "5"}, "seconds"),
        ({**GOOD, "size": "big"}, "size"),
        ({**GOOD, "size": "1792x1024"}, "size"),  # sora-2-pro only
        ({**GOOD, "input_reference": {}}, "input_reference"),
    ],
)
async def test_bad_input_is_openais_400_naming_the_field_and_costs_nothing(mock, body, param):
    status, answer = await mock.call("POST", VIDEOS, json=body)
    assert status == 400
    error = openai_error(answer)
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert await quota(mock) == 1000


async def test_a_pro_size_is_fine_for_sora_2_pro(mock):
    video = await create(mock, model="sora-2-pro", size="1792x1024")
    assert video["size"] == "1792x1024"


async def test_not_json_and_bad_query_are_openais_400(mock):
    status, body = await mock.call(
        "POST", VIDEOS, data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and openai_error(body)["type"] == "invalid_request_error"
    status, body = await mock.call("GET", VIDEOS, params={"limit": "101"})
    assert status == 400 and openai_error(body)["param"] == "limit"
    status, body = await mock.call("GET", VIDEOS, params={"after": "video_nope"})
    assert status == 400 and openai_error(body)["param"] == "after"


async def test_a_multipart_create_takes_a_reference_file(mock):
    form = aiohttp.FormData()
    form.add_field("prompt", "the cat, animated")
    form.add_field("model", "sora-2")
    form.add_field("size", "1280x720")
    form.add_field("input_reference", b"\x89PNG\r\n", filename="cat.png", content_type="image/png")
    status, video = await mock.call("POST", VIDEOS, data=form)
    assert status == 200, video
    assert (video["size"], video["seconds"], video["prompt"]) == (
        "1280x720",
        "4",
        "the cat, animated",
    )
    task = mock.state.store.get("relay", "sk-test", video["id"])
    assert task.params["input_reference"] == "file:cat.png"


async def test_a_bad_multipart_create_is_openais_400(mock):
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("prompt", "x")
    form.add_field("seconds", "7")
    status, body = await mock.call("POST", VIDEOS, data=form)
    assert status == 400 and openai_error(body)["param"] == "seconds"
    status, body = await mock.call(
        "POST", VIDEOS, data=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
    )
    assert status == 400 and openai_error(body)


async def test_auth_quota_and_gate_are_the_relays_in_openais_envelope(make_mock):
    mock = await make_mock(
        "auth: {tenants: {sk-poor: {quota: 0}}}\n"
        "providers: {relay: {settings: {token_concurrency_limit: 1}}}"
    )
    status, body = await mock.call("GET", VIDEOS, key=None)
    error = openai_error(body)
    assert status == 401 and error["type"] == "new_api_error"
    assert error["message"].startswith("invalid token (request id: ")
    status, body = await mock.call("POST", VIDEOS, key="sk-poor", json=GOOD)
    assert status == 403 and openai_error(body, "quota_not_enough")
    avatar = {"avatar_url": "https://e.x/a.jpg", "audio_url": "https://e.x/a.mp3"}
    assert (await mock.call("POST", "/avatar/generation", json=avatar))[0] == 200
    status, body = await mock.call("POST", VIDEOS, json=GOOD)  # the gate counts every family
    assert status == 429
    error = openai_error(body, "token_concurrency_limit_reached")
    assert error["type"] == "new_api_error"
    mock.advance(DONE)
    await create(mock)


async def test_the_rest_of_the_relay_keeps_new_apis_envelope(mock):
    status, body = await mock.call("GET", "/v1/video/generations/nope")
    assert status == 400
    assert body == {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    status, body = await mock.call("POST", "/v1/video/generations", json={})
    assert status == 400 and body["code"] == "invalid_request" and body["data"] is None


async def test_a_wrong_method_on_a_video_route_is_openais_405(mock):
    status, body = await mock.call("PUT", VIDEO.format("video_x"))
    assert status == 405 and openai_error(body)
    status, body = await mock.call("PUT", "/v1/video/generations")
    assert status == 405 and body["code"] == "method_not_allowed"


async def test_an_injected_fault_on_a_video_route_is_in_openais_envelope(mock):
    headers = {"X-Mock-Fault": "status=503"}
    status, body = await mock.call("GET", VIDEOS, headers=headers)
    assert status == 503 and openai_error(body)["type"] == "server_error"


async def test_the_notify_hook_gets_the_video_object_when_it_ends(mock):
    receiver = await start_receiver()
    try:
        video = await create(mock, notify_hook=receiver.url())
        mock.advance(DONE)
        await mock.state.webhooks.flush()
        (hit,) = receiver.received
        assert json.loads(hit.body) == await read(mock, video["id"])
    finally:
        await receiver.server.close()


async def test_a_multipart_part_header_that_is_not_one_is_a_400(mock):
    boundary = "b0undary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\x7f\x19"\r\n\r\nx\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, body = await mock.call("POST", VIDEOS, data=raw, headers=headers)
    assert status == 400 and openai_error(body)["type"] == "invalid_request_error"


async def test_chaos_spoils_the_content_as_it_spoils_json(mock):
    video = await create(mock)
    mock.advance(DONE)
    url = VIDEO.format(video["id"]) + "/content"
    whole = (await mock.call("GET", url))[1]
    resp = await mock.client.get(url, headers={**mock.auth(), "X-Mock-Fault": "truncate=0.5"})
    assert resp.status == 200 and resp.content_type == "video/mp4"
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()  # a short read: fewer bytes than Content-Length
    assert len(whole) > 100
