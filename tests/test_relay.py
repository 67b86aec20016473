"""Avatar relay (/avatar/...): the seed 001 flow end to end, quota, voices and every refusal."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

SUBMIT = "/avatar/generation"
TASK = "/avatar/task/{}"
VOICES = "/avatar/voice"
GOOD = {"avatar_url": "https://example.com/avatar.jpg", "audio_url": "https://example.com/a.mp3"}
NINA = {  # the use_voice example of the relay's own documentation
    "voice_engine_id": "nina",
    "audio_id": "b92d7e1c40d0447eb563a13ec92d9042",
    "language": "en",
    "text": "Hello, world!",
}
TASK_KEYS = [
    "task_id",
    "notify_hook",
    "action",
    "status",
    "fail_reason",
    "submit_time",
    "start_time",
    "finish_time",
    "progress",
    "data",
]
# Every key of the documented SUCCESS example's inner record (seed 001).
WORK_KEYS = {
    "animate_id",
    "animate_params_str",
    "create_time",
    "example_image_url",
    "ext",
    "file_type",
    "id",
    "music_title",
    "no_wm_work_video_path",
    "picture_path_list",
    "play_types",
    "primary_play_type",
    "share_magic_text",
    "singer",
    "template_create_time",
    "template_id",
    "tmp_online_enable",
    "user_image_url",
    "video_aspect_ratio",
    "vip_enable",
    "web_work_status",
    "webp_aspect_ratio",
    "wm_work_video_path",
    "work_name",
    "work_video_path",
    "work_webp_path",
}
TASK_NOT_EXIST = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
DONE = 30  # seconds: longer than the default scenario's whole timeline (at most 6 s)


async def submit(mock, key="sk-test", headers=None, **overrides):
    body = {**GOOD, **overrides}
    status, answer = await mock.call("POST", SUBMIT, key=key, json=body, headers=headers or {})
    assert status == 200, answer
    return answer["data"]


async def task(mock, task_id, key="sk-test"):
    status, body = await mock.call("GET", TASK.format(task_id), key=key)
    assert status == 200, body
    assert body["code"] == "success" and body["message"] == ""
    return body["data"]


async def quota(mock, key="sk-test"):
    status, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    assert status == 200
    return tenant["balances"]["quota"]


def timeline(mock, task_id):
    return mock.state.store.get_any("relay", task_id).timeline


# --- submit and lifecycle --------------------------------------------------------------


async def test_submit_answers_the_bare_task_id(mock):
    status, body = await mock.call("POST", SUBMIT, json=GOOD)
    assert status == 200
    assert set(body) == {"code", "message", "data"}
    assert body["code"] == "success" and body["message"] == ""
    assert re.fullmatch(r"[0-9a-f]{32}", body["data"])
    assert await submit(mock) != body["data"]


async def test_task_walks_the_documented_states_in_order_to_success(mock):
    task_id = await submit(mock)
    seen = []
    for _ in range(int(DONE / 0.25)):
        status = (await task(mock, task_id))["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        mock.advance(0.25)
    assert seen == ["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS"]


async def test_times_and_progress_follow_the_relay_rules(mock):
    task_id = await submit(mock)
    plan = timeline(mock, task_id)
    started, ended = plan.entered_at("IN_PROGRESS"), plan.ends_at
    first = await task(mock, task_id)
    assert first["submit_time"] == 1_750_000_000  # Unix seconds, an int
    assert (first["start_time"], first["finish_time"], first["progress"]) == (0, 0, "0%")

    mock.advance(started - 1_750_000_000 - 0.01)  # just before IN_PROGRESS
    queued = await task(mock, task_id)
    assert queued["status"] == "QUEUED" and queued["start_time"] == 0 and queued["progress"] == "0%"

    progress = []
    mock.advance(0.01)
    while mock.clock.now() < ended:
        running = await task(mock, task_id)
        assert running["status"] == "IN_PROGRESS"
        assert running["start_time"] == int(started) and running["finish_time"] == 0
        progress.append(int(running["progress"].rstrip("%")))
        mock.advance(0.3)
    assert progress == sorted(progress) and progress[0] < progress[-1] < 100

    done = await task(mock, task_id)
    assert done["status"] == "SUCCESS" and done["progress"] == "100%"
    assert done["start_time"] == int(started) and done["finish_time"] == int(ended)
    assert all(isinstance(done[k], int) for k in ("submit_time", "start_time", "finish_time"))


async def test_success_is_terminal_and_the_record_stable(mock):
    task_id = await submit(mock)
    mock.advance(DONE)
    first = await task(mock, task_id)
    mock.advance(86400 * 30)
    later = await task(mock, task_id)
    assert later["status"] == "SUCCESS" and later == first


async def test_task_keys_come_in_the_relay_order(mock):
    task_id = await submit(mock)
    resp = await mock.client.get(TASK.format(task_id), headers=mock.auth())
    assert list(json.loads(await resp.text())["data"]) == TASK_KEYS
    mock.advance(DONE)
    resp = await mock.client.get(TASK.format(task_id), headers=mock.auth())
    data = json.loads(await resp.text())["data"]
    assert list(data) == TASK_KEYS
    assert set(data["data"]) == WORK_KEYS


async def test_success_record_is_shaped_like_the_documented_example(mock):
    task_id = await submit(mock, avatar_url="https://example.com/me.mp4")
    mock.advance(DONE)
    t = await task(mock, task_id)
    assert t["action"] == "avatar-generate" and t["fail_reason"] == "" and t["notify_hook"] == ""
    work = t["data"]
    assert work["animate_id"] == task_id
    assert work["template_id"] == "6606889f54e4e700070db4b1"
    assert work["singer"] == "DreamFace" and work["file_type"] == "VIDEO"
    assert work["web_work_status"] == 200 and work["primary_play_type"] == "ANIMATE"
    assert work["ext"]["animate_channel"] == "dynamic"
    assert work["ext"]["sing_title"] == work["work_name"] == "1750000000000.mp3"
    # The work id is an ObjectId minted when DreamFace got the task, as create_time says (ms).
    handed_over = timeline(mock, task_id).entered_at("SUBMITTED")
    assert work["create_time"] == int(handed_over * 1000)
    assert re.fullmatch(r"[0-9a-f]{24}", work["id"])
    assert int(work["id"][:8], 16) == int(handed_over)
    (pt,) = json.loads(work["animate_params_str"])["pt_infos"]
    assert pt["audio_url"].startswith("server%2Faudio%2Fmain%2F") and pt["audio_url"].endswith(
        ".mp3"
    )
    assert pt["video_url"].startswith("server%2Fcommon%2Fmain%2F") and pt["video_url"].endswith(
        ".mp4"
    )
    assert pt["voice_engine_id"] is None and pt["context"] is None


@pytest.mark.parametrize(
    ("no_watermark", "expected"),
    [(True, "no_wm_work_video_path"), (False, "wm_work_video_path"), (None, "wm_work_video_path")],
)
async def test_work_video_path_follows_the_watermark_choice(mock, no_watermark, expected):
    extra = {} if no_watermark is None else {"no_watermark": no_watermark}
    task_id = await submit(mock, **extra)
    mock.advance(DONE)
    work = (await task(mock, task_id))["data"]
    assert work["wm_work_video_path"] != work["no_wm_work_video_path"]
    assert work["work_video_path"] == work[expected]


async def test_result_urls_download_real_files_and_do_not_expire_by_default(mock):
    task_id = await submit(mock)
    mock.advance(DONE)
    work = (await task(mock, task_id))["data"]
    mock.advance(86400 * 365)
    video = await mock.client.get(mock.local(work["work_video_path"]))
    assert video.status == 200 and video.content_type == "video/mp4"
    assert (await video.read())[4:8] == b"ftyp"
    preview = await mock.client.get(mock.local(work["work_webp_path"]))
    assert preview.status == 200 and preview.content_type == "image/webp"
    head = await preview.read()
    assert head[:4] == b"RIFF" and head[8:12] == b"WEBP"


async def test_result_url_ttl_runs_from_the_end_of_the_task(make_mock):
    mock = await make_mock("providers: {relay: {settings: {result_url_ttl: 60}}}")
    task_id = await submit(mock)
    ended = timeline(mock, task_id).ends_at
    mock.advance(DONE)
    url = (await task(mock, task_id))["data"]["work_video_path"]
    mock.advance(ended + 59 - mock.clock.now())
    assert (await mock.client.get(mock.local(url))).status == 200
    mock.advance(2)
    assert (await mock.client.get(mock.local(url))).status == 403


async def test_notify_hook_is_echoed(mock):
    task_id = await submit(mock, notify_hook="https://client.example/hook")
    assert (await task(mock, task_id))["notify_hook"] == "https://client.example/hook"


# --- failure ---------------------------------------------------------------------------


async def test_forced_failure_is_http_200_with_fail_reason(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure:time out"})
    mock.advance(DONE)
    t = await task(mock, task_id)
    assert t["status"] == "FAILURE" and t["fail_reason"] == "time out"
    assert t["progress"] == "100%" and t["data"] is None
    assert t["finish_time"] == int(timeline(mock, task_id).ends_at)


async def test_task_fails_only_at_its_end(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure"})
    mock.advance(2.5)
    t = await task(mock, task_id)
    assert t["status"] == "IN_PROGRESS" and t["fail_reason"] == ""
    mock.advance(DONE)
    t = await task(mock, task_id)
    assert t["status"] == "FAILURE" and t["fail_reason"]  # drawn from the scenario's failures


async def test_scenario_failure_rate_draws_configured_fail_reasons(make_mock):
    mock = await make_mock(
        """
providers:
  relay:
    families:
      avatar:
        failure_rate: 1
        failures: [{fail_reason: "upstream rejected the picture"}]
"""
    )
    task_id = await submit(mock)
    mock.advance(DONE)
    t = await task(mock, task_id)
    assert t["status"] == "FAILURE" and t["fail_reason"] == "upstream rejected the picture"
    assert t["start_time"] > 0 and t["data"] is None


async def test_magic_avatar_url_fails_with_no_face(mock):
    task_id = await submit(mock, avatar_url="https://example.com/fail-no-face.jpg")
    mock.advance(DONE)
    t = await task(mock, task_id)
    assert t["status"] == "FAILURE" and t["fail_reason"] == "no face detected in the avatar image"


async def test_stuck_task_stays_in_progress(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "stuck"})
    mock.advance(3600)
    t = await task(mock, task_id)
    assert t["status"] == "IN_PROGRESS" and t["finish_time"] == 0 and t["progress"] != "100%"


# --- quota -----------------------------------------------------------------------------


async def test_quota_is_taken_at_submit_and_kept_on_success(mock):
    assert await quota(mock) == 1000
    task_id = await submit(mock)
    assert await quota(mock) == 999
    mock.advance(DONE)
    assert (await task(mock, task_id))["status"] == "SUCCESS"
    assert await quota(mock) == 999


async def test_quota_is_given_back_when_the_task_fails(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure"})
    assert await quota(mock) == 999
    mock.advance(timeline(mock, task_id).ends_at - mock.clock.now() - 0.1)
    assert await quota(mock) == 999  # still running: nothing given back yet
    mock.advance(0.2)
    assert await quota(mock) == 1000


async def test_short_quota_is_403_quota_not_enough(make_mock):
    mock = await make_mock("auth: {tenants: {sk-poor: {quota: 1}}}")
    first = await submit(mock, key="sk-poor", headers={"X-Mock-Outcome": "failure"})
    status, body = await mock.call("POST", SUBMIT, key="sk-poor", json=GOOD)
    assert status == 403
    assert body == {"code": "quota_not_enough", "message": "user quota is not enough", "data": None}
    mock.advance(DONE)
    assert (await task(mock, first, key="sk-poor"))["status"] == "FAILURE"
    await submit(mock, key="sk-poor")  # the refund pays for the next one


async def test_refused_request_costs_nothing(mock):
    status, _ = await mock.call("POST", SUBMIT, json={"avatar_url": "https://e.x/a.jpg"})
    assert status == 400
    assert await quota(mock) == 1000


async def test_cost_comes_from_the_scenario(make_mock):
    mock = await make_mock("providers: {relay: {costs: {avatar: 25}}}")
    await submit(mock)
    assert await quota(mock) == 975


# --- tenants ---------------------------------------------------------------------------


async def test_another_keys_task_does_not_exist(mock):
    task_id = await submit(mock, key="sk-alice")
    status, body = await mock.call("GET", TASK.format(task_id), key="sk-bob")
    assert status == 400 and body == TASK_NOT_EXIST
    assert (await task(mock, task_id, key="sk-alice"))["task_id"] == task_id


@pytest.mark.parametrize("task_id", ["0" * 32, "not-a-task", "57b9ba07db5e4ed5bf18ebb4179a826d"])
async def test_unknown_task_id_is_task_not_exist(mock, task_id):
    status, body = await mock.call("GET", TASK.format(task_id))
    assert status == 400 and body == TASK_NOT_EXIST


# --- voices ----------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "listed"), [("en", "en"), ("zh", "zh"), ("cn", "zh")])
async def test_voices_by_language(mock, language, listed):
    status, body = await mock.call("GET", VOICES, params={"language": language})
    assert status == 200 and body["code"] == "success" and body["message"] == ""
    voices = body["data"]["audio_list"]
    assert len(voices) == 6 and {v["language"] for v in voices} == {listed}
    for v in voices:
        assert list(v) == [
            "audio_id",
            "audio_url",
            "labels",
            "language",
            "name",
            "vip_enable",
            "voice_engine_id",
            "type",
        ]
        assert re.fullmatch(r"[0-9a-f]{32}", v["audio_id"])
        assert re.fullmatch(r"server/ranker/main/[0-9a-f]{32}\.wav", v["audio_url"])
        assert v["labels"][0] in ("Female", "Male") and v["name"]
    assert len({v["audio_id"] for v in voices}) == 6


async def test_voices_without_language_lists_both(mock):
    status, body = await mock.call("GET", VOICES)
    assert status == 200
    assert {v["language"] for v in body["data"]["audio_list"]} == {"en", "zh"}
    assert len(body["data"]["audio_list"]) == 12


async def test_documented_example_voice_is_listed(mock):
    _, body = await mock.call("GET", VOICES, params={"language": "zh"})
    yue_hua = next(v for v in body["data"]["audio_list"] if v["name"] == "Yue Hua")
    assert yue_hua["audio_id"] == "cffcff22110049a487aa4fa7a382e3dc"
    assert yue_hua["labels"] == ["Female"] and yue_hua["vip_enable"] is False


@pytest.mark.parametrize("language", ["fr", "EN", ""])
async def test_bad_voice_language_is_invalid_request(mock, language):
    status, body = await mock.call("GET", VOICES, params={"language": language})
    assert status == 400
    assert body["code"] == "invalid_request" and "language" in body["message"]
    assert body["data"] is None


async def test_every_listed_voice_can_be_used(mock):
    _, body = await mock.call("GET", VOICES)
    for v in body["data"]["audio_list"]:
        use = {k: v[k] for k in ("voice_engine_id", "audio_id", "language")}
        await submit(mock, audio_url=None, use_voice={**use, "text": "hi"})


async def test_use_voice_from_the_docs_reaches_the_work_record(mock):
    task_id = await submit(mock, audio_url=None, use_voice=NINA)
    mock.advance(DONE)
    work = (await task(mock, task_id))["data"]
    (pt,) = json.loads(work["animate_params_str"])["pt_infos"]
    assert (pt["voice_engine_id"], pt["audio_id"]) == ("nina", NINA["audio_id"])
    assert pt["context"] == "Hello, world!" and pt["lan"] == "en" and pt["audio_url"] is None
    assert work["work_name"] == "Hello, world!"


async def test_create_voice_accepts_cn_as_zh(mock):
    voice = {"audio_url": "https://e.x/sample.wav", "language": "cn", "text": "你好"}
    task_id = await submit(mock, audio_url="", create_voice=voice)
    mock.advance(DONE)
    (pt,) = json.loads((await task(mock, task_id))["data"]["animate_params_str"])["pt_infos"]
    assert pt["lan"] == "zh" and pt["context"] == "你好" and pt["audio_url"].endswith(".wav")


@pytest.mark.parametrize(
    "voice",
    [
        {**NINA, "audio_id": "ffffffffffffffffffffffffffffffff"},
        {**NINA, "voice_engine_id": "nobody"},
        {**NINA, "voice_engine_id": "prompt_97f7a53122124635be47b3a773c061e6"},  # Ethan's
    ],
    ids=["unknown-audio-id", "unknown-engine", "mismatched-pair"],
)
async def test_unknown_voice_is_invalid_request(mock, voice):
    status, body = await mock.call(
        "POST", SUBMIT, json={"avatar_url": GOOD["avatar_url"], "use_voice": voice}
    )
    assert status == 400 and body["code"] == "invalid_request" and body["data"] is None
    assert "GET /avatar/voice" in body["message"]


# --- lenient where Go is lenient -------------------------------------------------------


async def test_unknown_fields_and_null_sources_are_ignored(mock):
    body = {
        "avatar_url": GOOD["avatar_url"],
        "audio_url": None,
        "create_voice": None,
        "use_voice": NINA,
        "no_watermark": None,
        "notify_hook": None,
        "model": "avatar",
        "extra": {"anything": [1, 2]},
    }
    status, answer = await mock.call("POST", SUBMIT, json=body)
    assert status == 200, answer
    t = await task(mock, answer["data"])
    assert t["notify_hook"] == ""


# --- bad input -------------------------------------------------------------------------


def raw(data: bytes, content_type: str = "application/json") -> dict:
    return {"data": data, "headers": {"Content-Type": content_type}}


BAD_BODIES = {
    "malformed-json": (raw(b'{"avatar_url": '), "not valid JSON"),
    "wrong-content-type": (raw(b"avatar_url=x", "application/x-www-form-urlencoded"), "JSON"),
    "empty-body": (raw(b""), "body is required"),
    "json-array": (raw(b"[1, 2]"), "JSON object"),
    "avatar-url-not-string": ({"json": {**GOOD, "avatar_url": 5}}, "avatar_url"),
    "avatar-url-empty": ({"json": {**GOOD, "avatar_url": ""}}, "avatar_url"),
    "no-watermark-not-bool": ({"json": {**GOOD, "no_watermark": "yes"}}, "no_watermark"),
    "audio-url-not-string": ({"json": {**GOOD, "audio_url": 5}}, "audio_url"),
    "create-voice-not-object": (
        {"json": {"avatar_url": "https://e.x/a.jpg", "create_voice": "clone me"}},
        "create_voice",
    ),
    "missing-avatar-url": ({"json": {"audio_url": GOOD["audio_url"]}}, "avatar_url is required"),
    "no-voice-source": ({"json": {"avatar_url": "https://e.x/a.jpg"}}, "exactly one of"),
    "two-voice-sources": ({"json": {**GOOD, "use_voice": NINA}}, "exactly one of"),
    "three-voice-sources": (
        {
            "json": {
                **GOOD,
                "use_voice": NINA,
                "create_voice": {"audio_url": "https://e.x/s.wav", "language": "en", "text": "x"},
            }
        },
        "exactly one of",
    ),
    "create-voice-missing-text": (
        {
            "json": {
                "avatar_url": "https://e.x/a.jpg",
                "create_voice": {"audio_url": "https://e.x/s.wav", "language": "en"},
            }
        },
        "create_voice.text is required",
    ),
    "use-voice-bad-language": (
        {"json": {"avatar_url": "https://e.x/a.jpg", "use_voice": {**NINA, "language": "fr"}}},
        "use_voice.language",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_bad_submit_is_invalid_request(mock, case):
    kwargs, hint = BAD_BODIES[case]
    status, body = await mock.call("POST", SUBMIT, **kwargs)
    assert status == 400, body
    assert set(body) == {"code", "message", "data"}
    assert body["code"] == "invalid_request" and body["data"] is None
    assert hint in body["message"]


async def test_oversized_body_is_413_in_the_relay_dialect(mock):
    big = json.dumps({**GOOD, "padding": "x" * (1024 * 1024)}).encode()
    status, body = await mock.call("POST", SUBMIT, **raw(big))
    assert status == 413
    assert body["code"] == "read_request_body_failed" and body["data"] is None
    assert await quota(mock) == 1000


async def test_unknown_path_and_wrong_method_speak_the_relay_dialect(mock):
    status, body = await mock.call("GET", "/avatar/tasks")
    assert status == 404
    assert body == {"code": "not_found", "message": "404 page not found", "data": None}
    status, body = await mock.call("DELETE", VOICES)
    assert status == 405 and body["code"] == "method_not_allowed" and body["data"] is None


# --- auth and limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "sk-test", "Bearer ", "Basic c2stdGVzdA==", "Bearer <sk-test>"]
)
async def test_bad_key_is_the_gateways_401(mock, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    resp = await mock.client.get(TASK.format("0" * 32), headers=headers)
    assert resp.status == 401
    request_id = resp.headers["X-Oneapi-Request-Id"]
    assert await resp.json() == {
        "error": {
            "message": f"invalid token (request id: {request_id})",
            "type": "new_api_error",
            "code": "",
        }
    }


async def test_unlisted_key_is_401_when_keys_are_listed(make_mock):
    mock = await make_mock("auth: {mode: listed, tenants: {sk-known: {quota: 5}}}")
    status, body = await mock.call("POST", SUBMIT, key="sk-stranger", json=GOOD)
    assert status == 401 and body["error"]["type"] == "new_api_error"
    assert (await mock.call("POST", SUBMIT, key="sk-known", json=GOOD))[0] == 200


async def test_suno_api_style_401(make_mock):
    mock = await make_mock("providers: {relay: {settings: {unauthorized_style: suno-api}}}")
    for method, path in [("POST", SUBMIT), ("GET", TASK.format("0" * 32)), ("GET", VOICES)]:
        kwargs = {"json": GOOD} if method == "POST" else {}
        status, body = await mock.call(method, path, key=None, **kwargs)
        assert status == 401
        assert body == {
            "code": "invalid_request",
            "message": "unauthorized secret token",
            "data": None,
        }


async def test_scenario_rate_limit_is_the_gateways_429(make_mock):
    mock = await make_mock("providers: {relay: {rate_limits: [{per: key, limit: 2, window: 60}]}}")
    for _ in range(2):
        assert (await mock.call("GET", VOICES))[0] == 200
    status, body = await mock.call("GET", VOICES)
    assert status == 429
    assert body["error"]["type"] == "new_api_error" and "rate limit" in body["error"]["message"]
    assert (await mock.call("GET", VOICES, key="sk-other"))[0] == 200
    mock.advance(60)
    assert (await mock.call("GET", VOICES))[0] == 200
