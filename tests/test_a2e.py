"""A2E: the seed flows (avatar video, image to video, face swap, coins) end to end.

Each test drives the mock the way an A2E client does and checks what such a client depends on:
the envelope, the state vocabularies in order, the result files, coins, lists that agree with
details, and A2E-shaped refusals for every bad input. Time only moves through the virtual clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

GENERATE = "/api/v1/video/generate"
AWS_RESULT = "/api/v1/video/awsResult"
AWS_LIST = "/api/v1/video/awsList"
I2V_START = "/api/v1/userImage2Video/start"
I2V_ALL = "/api/v1/userImage2Video/allRecords"
I2V = "/api/v1/userImage2Video/{}"
FS_ADD = "/api/v1/userFaceSwapTask/add"
FS_STATUS = "/api/v1/userFaceSwapTask/status"
FS_RECORDS = "/api/v1/userFaceSwapTask/records"
FS = "/api/v1/userFaceSwapTask/{}"
COINS = "/api/v1/user/remainingCoins"

VIDEO = {
    "anchor_id": "63de16f26c6193fa4ca7a486",
    "anchor_type": 0,
    "audioSrc": "https://example.com/speech.mp3",
}
IMAGE2VIDEO = {
    "name": "Test name",
    "image_url": "https://example.com/524f2258.png",
    "prompt": "the person is speaking. Looking at the camera.",
}
FACESWAP = {
    "name": "swap",
    "face_url": "https://example.com/face.jpg",
    "video_url": "https://example.com/clip.mp4",
}
START_COINS = 10000  # fixtures/scenarios/default.yaml balances

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

VIDEO_ROW_FIELDS = {
    "_id", "msg", "result", "process", "status", "anchor_type", "web_bg_width", "web_bg_height",
    "color", "result_people_url", "result_bg_url", "anchor_id", "replace_bg_id",
    "custom_backs_id", "createdAt", "diff_s", "current_date",
}  # fmt: skip
I2V_FIELDS = {
    "_id", "name", "image_url", "prompt", "negative_prompt", "current_status", "coins",
    "createdAt", "failed_message", "failed_code", "result_url",
}  # fmt: skip
FS_TASK_FIELDS = {
    "name", "video_url", "duration", "face_url", "current_status", "result_url", "error_code",
    "faild_message", "_id", "createdAt", "updatedAt",
}  # fmt: skip
FS_RECORD_FIELDS = FS_TASK_FIELDS | {"initialized_time", "processing_time", "completed_time"}
FS_STATUS_FIELDS = {"current_status", "result_url", "error_code", "faild_message", "_id"}


@pytest.fixture
async def api(make_mock):
    """The mock serving A2E alone (so this file does not depend on other providers' state)."""
    return await make_mock(None, providers=("a2e",))


async def a2e(make_mock, scenario: str):
    return await make_mock(scenario, providers=("a2e",))


def data_of(status, body):
    """The ``data`` of a success envelope, after checking the envelope itself."""
    assert status == 200, body
    assert body["code"] == 0, body
    assert set(body) == {"code", "data", "trace_id"}
    assert UUID.match(body["trace_id"])
    return body["data"]


def assert_refusal(status, body, http: int, code: int) -> str:
    """An A2E refusal: ``{code != 0, msg, data: null, trace_id}``; returns the msg."""
    assert status == http, body
    assert set(body) == {"code", "msg", "data", "trace_id"}, body
    assert body["code"] == code and body["data"] is None
    assert isinstance(body["msg"], str) and body["msg"]
    assert UUID.match(body["trace_id"])
    return body["msg"]


async def generate(mock, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", GENERATE, key=key, json={**VIDEO, **fields}, headers=headers or {}
    )
    return data_of(status, body)["_id"]


async def video_row(mock, video_id, key="sk-test"):
    rows = data_of(*await mock.call("POST", AWS_RESULT, key=key, json={"_id": video_id}))
    assert isinstance(rows, list) and len(rows) == 1
    return rows[0]


async def start_i2v(mock, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", I2V_START, key=key, json={**IMAGE2VIDEO, **fields}, headers=headers or {}
    )
    return data_of(status, body)


async def i2v(mock, task_id, key="sk-test"):
    return data_of(*await mock.call("GET", I2V.format(task_id), key=key))


async def add_faceswap(mock, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", FS_ADD, key=key, json={**FACESWAP, **fields}, headers=headers or {}
    )
    return data_of(status, body)


async def faceswap(mock, task_id, key="sk-test"):
    return data_of(*await mock.call("GET", FS.format(task_id), key=key))


async def coins(mock, key="sk-test"):
    return data_of(*await mock.call("GET", COINS, key=key))["coins"]


async def download(mock, url):
    resp = await mock.client.get(mock.local(url))
    return resp.status, resp.content_type, await resp.read()


async def walk(mock, read, terminal, step=0.1, limit=400):
    """Read a task every ``step`` seconds until it is terminal: (states in order, every read)."""
    seen: list[str] = []
    reads = []
    for _ in range(limit):
        current = await read()
        reads.append(current)
        state = current.get("status") or current.get("current_status")
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in terminal:
            return seen, reads
        mock.advance(step)
    raise AssertionError(f"never reached {terminal}: {seen}")


# --- avatar video ------------------------------------------------------------------------


async def test_video_walks_every_documented_state_in_order_then_succeeds(api):
    video_id = await generate(api)
    assert HEX24.match(video_id)
    seen, rows = await walk(api, lambda: video_row(api, video_id), ("success", "fail"))
    assert seen == ["init", "start", "pending", "process", "copy", "success"]
    before = [r for r in rows if r["status"] != "success"]
    assert all(r["result"] == "" and r["msg"] == "" for r in before)
    assert all(r["process"] == 0 for r in rows if r["status"] in ("init", "start", "pending"))
    rendering = [r["process"] for r in rows if r["status"] == "process"]
    assert rendering == sorted(rendering), "process never goes backwards"
    assert rendering[0] < 20 and 80 <= rendering[-1] <= 99 and len(set(rendering)) > 5
    assert all(r["process"] == 100 for r in rows if r["status"] in ("copy", "success"))


async def test_successful_video_result_is_a_real_mp4_served_by_the_mock(api):
    video_id = await generate(api)
    api.advance(30)
    row = await video_row(api, video_id)
    assert row["status"] == "success" and row["msg"] == ""
    status, ctype, payload = await download(api, row["result"])
    assert status == 200 and ctype == "video/mp4"
    assert payload[4:8] == b"ftyp"
    status, ctype, _ = await download(api, row["result_people_url"])
    assert status == 200 and ctype == "video/mp4"
    status, ctype, payload = await download(api, row["result_bg_url"])
    assert status == 200 and ctype == "image/jpeg" and payload[:3] == b"\xff\xd8\xff"


async def test_success_is_terminal(api):
    video_id = await generate(api)
    for seconds in (30, 3600, 86400):
        api.advance(seconds)
        assert (await video_row(api, video_id))["status"] == "success"


async def test_video_forced_to_fail_fails_while_rendering_with_the_scenario_reason(api):
    video_id = await generate(api, headers={"X-Mock-Outcome": "failure"})
    seen, rows = await walk(api, lambda: video_row(api, video_id), ("success", "fail"))
    assert seen == ["init", "start", "pending", "process", "fail"]
    failed = rows[-1]
    assert failed["msg"] == "algorithm error: no face detected in the anchor video"
    assert failed["result"] == "" and failed["result_people_url"] == ""
    assert 0 < failed["process"] < 100
    api.advance(3600)
    assert (await video_row(api, video_id))["status"] == "fail"


async def test_video_failure_header_can_name_the_message(api):
    video_id = await generate(api, headers={"X-Mock-Outcome": "failure:audio could not be read"})
    api.advance(30)
    row = await video_row(api, video_id)
    assert row["status"] == "fail" and row["msg"] == "audio could not be read"


async def test_success_header_beats_a_scenario_that_always_fails(make_mock):
    mock = await a2e(make_mock, "providers: {a2e: {families: {video: {failure_rate: 1}}}}")
    video_id = await generate(mock, headers={"X-Mock-Outcome": "success"})
    api_failing = await generate(mock)
    mock.advance(30)
    assert (await video_row(mock, video_id))["status"] == "success"
    assert (await video_row(mock, api_failing))["status"] == "fail"


async def test_aws_result_row_has_the_documented_fields_and_echoes_the_request(api):
    video_id = await generate(
        api,
        anchor_type="1",
        back_id="629067e435e495933464f034",
        color="#00ff00",
        web_bg_width=1919,
        web_bg_height=1080,
        title="hello",
        resolution=1080,
        isSkipRs=True,
    )
    row = await video_row(api, video_id)
    assert set(row) == VIDEO_ROW_FIELDS
    assert row["_id"] == video_id
    assert row["anchor_type"] == "1" and row["anchor_id"] == VIDEO["anchor_id"]
    assert row["replace_bg_id"] == "629067e435e495933464f034" and row["color"] == "#00ff00"
    assert (row["web_bg_width"], row["web_bg_height"]) == (1919, 1080)
    assert row["custom_backs_id"] is None
    assert ISO_MS.match(row["createdAt"])
    created = datetime.strptime(row["createdAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    api.advance(6644)
    later = await video_row(api, video_id)
    assert later["diff_s"] == 6644
    shown = (created + timedelta(hours=8, seconds=6644)).strftime("%Y-%m-%d %H:%M:%S")
    assert later["current_date"] == shown  # A2E's server clock runs on UTC+8


async def test_layout_fields_are_optional_and_default_to_zero(api):
    row = await video_row(api, await generate(api))
    assert (row["web_bg_width"], row["web_bg_height"], row["color"]) == (0, 0, "")
    assert row["anchor_type"] == "0" and row["replace_bg_id"] == ""


async def test_generate_answers_the_new_row(api):
    status, body = await api.call("POST", GENERATE, json=VIDEO)
    data = data_of(status, body)
    assert set(data) == VIDEO_ROW_FIELDS
    assert data["status"] == "init" and data["process"] == 0 and data["diff_s"] == 0
    assert data == await video_row(api, data["_id"])


async def test_aws_list_pages_newest_first_with_current_and_total(api):
    ids = []
    for _ in range(5):
        ids.append(await generate(api))
        api.advance(1)
    pages = []
    for current in (1, 2, 3, 4):
        status, body = await api.call("GET", AWS_LIST, params={"current": current, "pageSize": 2})
        page = data_of(status, body)
        assert set(page) == {"current", "total", "success", "data"}
        assert page["current"] == current and page["total"] == 5 and page["success"] is True
        pages.append([row["_id"] for row in page["data"]])
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]], []]
    everything = data_of(*await api.call("GET", AWS_LIST))
    assert everything["current"] == 1 and [r["_id"] for r in everything["data"]] == ids[::-1]


async def test_aws_list_rows_equal_aws_result_at_the_same_instant(api):
    ids = [await generate(api) for _ in range(3)]
    for seconds in (0.25, 1.0, 1.7, 2.4, 30):
        api.advance(seconds)
        listed = data_of(*await api.call("GET", AWS_LIST))["data"]
        for row in listed:
            assert row == await video_row(api, row["_id"])
        assert {r["_id"] for r in listed} == set(ids)


# --- coins -------------------------------------------------------------------------------


async def test_a_video_costs_its_coins_at_submit_and_keeps_them_on_success(api):
    assert data_of(*await api.call("GET", COINS)) == {"coins": START_COINS, "diamonds": 10}
    video_id = await generate(api)
    assert await coins(api) == START_COINS - 10
    api.advance(30)
    assert (await video_row(api, video_id))["status"] == "success"
    assert await coins(api) == START_COINS - 10


async def test_a_failed_video_refunds_its_coins_the_moment_it_fails(api):
    video_id = await generate(api, headers={"X-Mock-Outcome": "failure"})
    for _ in range(100):
        row = await video_row(api, video_id)
        balance = await coins(api)
        if row["status"] == "fail":
            assert balance == START_COINS
            break
        assert balance == START_COINS - 10, row["status"]
        api.advance(0.1)
    else:
        raise AssertionError("the video never failed")


async def test_remaining_coins_adds_up_every_charge_and_refund(api):
    await generate(api)  # 10
    await generate(api, headers={"X-Mock-Outcome": "failure"})  # 10, refunded
    await start_i2v(api, video_time=10)  # 200
    await start_i2v(api, headers={"X-Mock-Outcome": "failure"})  # 100, refunded
    await add_faceswap(api)  # 10
    await add_faceswap(api, headers={"X-Mock-Outcome": "failure"})  # 10, refunded
    assert await coins(api) == START_COINS - 340
    api.advance(60)
    assert await coins(api) == START_COINS - 220


async def test_insufficient_coins_is_refused_in_a2e_shape_and_creates_nothing(make_mock):
    mock = await a2e(make_mock, "balances: {coins: 15}")
    await generate(mock)
    assert await coins(mock) == 5
    status, body = await mock.call("POST", GENERATE, json=VIDEO)
    msg = assert_refusal(status, body, 200, 1002)
    assert "coins" in msg.lower()
    status, body = await mock.call("POST", I2V_START, json=IMAGE2VIDEO)
    assert_refusal(status, body, 200, 1002)
    status, body = await mock.call("POST", FS_ADD, json=FACESWAP)
    assert_refusal(status, body, 200, 1002)
    assert data_of(*await mock.call("GET", AWS_LIST))["total"] == 1
    assert data_of(*await mock.call("GET", I2V_ALL))["count"] == 0
    assert data_of(*await mock.call("GET", FS_STATUS)) == []
    assert await coins(mock) == 5


async def test_coins_come_back_after_a_refund_and_can_be_spent_again(make_mock):
    mock = await a2e(make_mock, "balances: {coins: 10}")
    await generate(mock, headers={"X-Mock-Outcome": "failure"})
    status, body = await mock.call("POST", GENERATE, json=VIDEO)
    assert_refusal(status, body, 200, 1002)
    mock.advance(30)
    assert await coins(mock) == 10
    await generate(mock)


async def test_costs_come_from_the_scenario(make_mock):
    mock = await a2e(
        make_mock,
        "providers: {a2e: {costs: {video: 3, image2video_per_5s: 7, faceswap: 4}}}",
    )
    await generate(mock)
    assert (await start_i2v(mock, video_time=15))["coins"] == 21
    await add_faceswap(mock)
    assert await coins(mock) == START_COINS - 28


# --- image to video ----------------------------------------------------------------------


async def test_image2video_start_answers_like_the_documented_example(api):
    data = await start_i2v(api, negative_prompt="six fingers")
    assert set(data) == I2V_FIELDS
    assert HEX24.match(data["_id"]) and ISO_MS.match(data["createdAt"])
    assert data["current_status"] == "sent" and data["coins"] == 100
    assert data["name"] == IMAGE2VIDEO["name"] and data["image_url"] == IMAGE2VIDEO["image_url"]
    assert data["prompt"] == IMAGE2VIDEO["prompt"] and data["negative_prompt"] == "six fingers"
    assert (data["failed_message"], data["failed_code"], data["result_url"]) == ("", "", "")
    assert await coins(api) == START_COINS - 100


@pytest.mark.parametrize(("video_time", "cost"), [(5, 100), (10, 200), (15, 300), (20, 400)])
async def test_image2video_costs_per_five_seconds(api, video_time, cost):
    data = await start_i2v(api, video_time=video_time)
    assert data["coins"] == cost
    assert await coins(api) == START_COINS - cost


async def test_image2video_walks_sent_pending_completed_with_a_real_video(api):
    task_id = (await start_i2v(api))["_id"]
    seen, reads = await walk(api, lambda: i2v(api, task_id), ("completed", "failed"), step=0.25)
    assert seen == ["sent", "pending", "completed"]
    assert all(r["result_url"] == "" for r in reads[:-1])
    done = reads[-1]
    assert done["failed_message"] == "" and done["failed_code"] == ""
    status, ctype, payload = await download(api, done["result_url"])
    assert status == 200 and ctype == "video/mp4" and payload[4:8] == b"ftyp"


async def test_image2video_failure_carries_failed_message_and_code_and_refunds(api):
    task_id = (await start_i2v(api, headers={"X-Mock-Outcome": "failure:1003"}))["_id"]
    seen, reads = await walk(api, lambda: i2v(api, task_id), ("completed", "failed"), step=0.25)
    assert seen == ["sent", "pending", "failed"]
    failed = reads[-1]
    assert failed["failed_code"] == "1003"
    assert failed["failed_message"] == "No face detected in the image"
    assert failed["result_url"] == ""
    assert await coins(api) == START_COINS


async def test_image2video_failure_with_an_unlisted_code_still_explains_itself(api):
    task_id = (await start_i2v(api, headers={"X-Mock-Outcome": "failure:2001"}))["_id"]
    api.advance(60)
    failed = await i2v(api, task_id)
    assert failed["current_status"] == "failed" and failed["failed_code"] == "2001"
    assert failed["failed_message"]


async def test_negative_prmpt_spelling_is_accepted_and_shown_as_negative_prompt(api):
    data = await start_i2v(api, negative_prmpt="bad hands")
    assert data["negative_prompt"] == "bad hands"
    assert (await i2v(api, data["_id"]))["negative_prompt"] == "bad hands"


async def test_flf2v_needs_an_end_image(api):
    status, body = await api.call("POST", I2V_START, json={**IMAGE2VIDEO, "model_type": "FLF2V"})
    assert "end_image_url" in assert_refusal(status, body, 400, 400)
    data = await start_i2v(api, model_type="FLF2V", end_image_url="https://example.com/end.png")
    assert data["current_status"] == "sent"


async def test_image2video_optional_fields_are_accepted(api):
    data = await start_i2v(
        api,
        model_type="GENERAL",
        video_time=20,
        number_of_images=8,
        extend_prompt=True,
        skip_face_enhance=False,
        model_version="a2e-v2-flash",
        webhook_url="https://example.com/hook",
        webhook_token="t",
        mask_face=True,
        minor_suspected_skip=False,
    )
    assert data["coins"] == 400


async def test_image2video_all_records_pages_newest_first_and_agrees_with_detail(api):
    ids = []
    for _ in range(12):
        api.advance(0.5)
        ids.append((await start_i2v(api))["_id"])
    first = data_of(*await api.call("GET", I2V_ALL))
    assert first["count"] == 12 and [r["_id"] for r in first["rows"]] == ids[::-1][:10]
    page = data_of(*await api.call("GET", I2V_ALL, params={"pageNum": 3, "pageSize": 5}))
    assert page["count"] == 12 and [r["_id"] for r in page["rows"]] == [ids[1], ids[0]]
    for row in first["rows"]:
        assert row == await i2v(api, row["_id"])
    assert {r["current_status"] for r in first["rows"]} == {"sent", "pending", "completed"}


async def test_deleting_an_image2video_record(api):
    keep = (await start_i2v(api))["_id"]
    gone = (await start_i2v(api))["_id"]
    api.advance(60)
    assert data_of(*await api.call("DELETE", I2V.format(gone))) == {}
    status, body = await api.call("GET", I2V.format(gone))
    assert_refusal(status, body, 404, 404)
    status, body = await api.call("DELETE", I2V.format(gone))
    assert_refusal(status, body, 404, 404)
    listed = data_of(*await api.call("GET", I2V_ALL))
    assert listed["count"] == 1 and [r["_id"] for r in listed["rows"]] == [keep]
    assert await coins(api) == START_COINS - 200  # deleting a finished task refunds nothing


async def test_deleting_a_running_task_forfeits_its_refund(api):
    """Where no rule says otherwise (face swap's delete documents none; image-to-video's
    refuses a running task, test_a2e_deletes.py)."""
    task_id = (await add_faceswap(api, headers={"X-Mock-Outcome": "failure"}))["_id"]
    charged = await coins(api)
    assert charged < START_COINS
    data_of(*await api.call("DELETE", FS.format(task_id)))
    api.advance(600)
    assert await coins(api) == charged


async def test_a_running_image2video_task_is_not_deleted(api):
    task_id = (await start_i2v(api))["_id"]
    status, body = await api.call("DELETE", I2V.format(task_id))
    assert assert_refusal(status, body, 400, 400) == "Bad Request: Task in processing"


# --- face swap ---------------------------------------------------------------------------


async def test_face_swap_add_answers_every_documented_field(api):
    data = await add_faceswap(api)
    assert set(data) == FS_TASK_FIELDS
    assert HEX24.match(data["_id"])
    assert data["current_status"] == "initialized"
    assert (data["result_url"], data["error_code"], data["faild_message"]) == ("", None, None)
    assert data["name"] == "swap" and data["face_url"] == FACESWAP["face_url"]
    assert data["video_url"] == FACESWAP["video_url"] and data["duration"] == 1
    assert ISO_MS.match(data["createdAt"]) and data["updatedAt"] == data["createdAt"]
    assert await coins(api) == START_COINS - 10


async def test_face_swap_walks_initialized_processing_completed_with_stage_times(api):
    task_id = (await add_faceswap(api))["_id"]
    seen, reads = await walk(api, lambda: faceswap(api, task_id), ("completed", "failed"))
    assert seen == ["initialized", "processing", "completed"]
    for record in reads:
        assert set(record) == FS_RECORD_FIELDS
        assert record["initialized_time"] == record["createdAt"]
        stage = record["current_status"]
        assert (record["processing_time"] is None) == (stage == "initialized")
        assert (record["completed_time"] is None) == (stage != "completed")
    done = reads[-1]
    assert done["error_code"] == "0" and done["faild_message"] is None
    assert done["createdAt"] < done["processing_time"] < done["completed_time"]
    assert done["updatedAt"] == done["completed_time"]
    status, ctype, payload = await download(api, done["result_url"])
    assert status == 200 and ctype == "video/mp4" and payload[4:8] == b"ftyp"


async def test_face_swap_failure_uses_error_code_and_faild_message(api):
    task_id = (await add_faceswap(api, headers={"X-Mock-Outcome": "failure"}))["_id"]
    seen, reads = await walk(api, lambda: faceswap(api, task_id), ("completed", "failed"))
    assert seen == ["initialized", "processing", "failed"]
    failed = reads[-1]
    assert failed["error_code"] == "1004" and failed["faild_message"] == "face not detected"
    assert failed["result_url"] == "" and failed["completed_time"] is not None
    assert "failed_message" not in failed  # face swap keeps its own spelling
    assert await coins(api) == START_COINS


async def test_face_swap_on_an_image_gives_an_image(api):
    task_id = (await add_faceswap(api, video_url="https://example.com/target.PNG"))["_id"]
    api.advance(30)
    done = await faceswap(api, task_id)
    assert done["duration"] == 0
    status, ctype, payload = await download(api, done["result_url"])
    assert status == 200 and ctype == "image/png" and payload[:4] == b"\x89PNG"


async def test_face_swap_status_lists_every_task_newest_first_and_filters_by_id(api):
    ids = []
    for _ in range(3):
        ids.append((await add_faceswap(api))["_id"])
        api.advance(1)
    listed = data_of(*await api.call("GET", FS_STATUS))
    assert [item["_id"] for item in listed] == ids[::-1]
    for item in listed:
        assert set(item) == FS_STATUS_FIELDS
        detail = await faceswap(api, item["_id"])
        assert item == {k: detail[k] for k in FS_STATUS_FIELDS}
    only = data_of(*await api.call("GET", FS_STATUS, params={"_id": ids[1]}))
    assert [item["_id"] for item in only] == [ids[1]]
    none = data_of(*await api.call("GET", FS_STATUS, params={"_id": "0" * 24}))
    assert none == []


async def test_face_swap_records_page_and_agree_with_detail(api):
    ids = []
    for _ in range(5):
        ids.append((await add_faceswap(api))["_id"])
        api.advance(0.7)
    page = data_of(*await api.call("GET", FS_RECORDS, params={"pageNum": 1, "pageSize": 3}))
    assert page["count"] == 5 and [r["_id"] for r in page["rows"]] == ids[::-1][:3]
    rest = data_of(*await api.call("GET", FS_RECORDS, params={"pageNum": "2", "pageSize": "3"}))
    assert [r["_id"] for r in rest["rows"]] == [ids[1], ids[0]]
    for row in page["rows"] + rest["rows"]:
        assert row == await faceswap(api, row["_id"])


@pytest.mark.parametrize("params", [{}, {"pageNum": 1}, {"pageSize": 10}])
async def test_face_swap_records_needs_page_num_and_page_size(api, params):
    status, body = await api.call("GET", FS_RECORDS, params=params)
    assert "is required" in assert_refusal(status, body, 400, 400)


async def test_deleting_a_face_swap_record(api):
    task_id = (await add_faceswap(api))["_id"]
    assert data_of(*await api.call("DELETE", FS.format(task_id))) == {}
    status, body = await api.call("GET", FS.format(task_id))
    assert_refusal(status, body, 404, 404)
    assert data_of(*await api.call("GET", FS_STATUS)) == []
    assert data_of(*await api.call("GET", FS_RECORDS, params={"pageNum": 1, "pageSize": 10})) == {
        "rows": [],
        "count": 0,
    }


async def test_scenario_failure_rate_fails_every_family_with_its_own_fields(make_mock):
    mock = await a2e(
        make_mock,
        """
providers:
  a2e:
    families:
      video: {failure_rate: 1}
      image2video: {failure_rate: 1}
      faceswap: {failure_rate: 1}
""",
    )
    video_id = await generate(mock)
    i2v_id = (await start_i2v(mock))["_id"]
    fs_id = (await add_faceswap(mock))["_id"]
    assert await coins(mock) == START_COINS - 120
    mock.advance(60)
    video = await video_row(mock, video_id)
    assert video["status"] == "fail" and video["msg"]
    image = await i2v(mock, i2v_id)
    assert image["current_status"] == "failed"
    assert (image["failed_code"], image["failed_message"]) == (
        "1003",
        "No face detected in the image",
    )
    swap = await faceswap(mock, fs_id)
    assert swap["current_status"] == "failed" and swap["error_code"] == "1004"
    assert await coins(mock) == START_COINS


async def test_scenario_durations_set_how_long_each_state_lasts(make_mock):
    mock = await a2e(
        make_mock,
        "providers: {a2e: {families: {faceswap: {states: {initialized: 10, processing: 20}}}}}",
    )
    task_id = (await add_faceswap(mock))["_id"]
    mock.advance(9.9)
    assert (await faceswap(mock, task_id))["current_status"] == "initialized"
    mock.advance(0.2)
    assert (await faceswap(mock, task_id))["current_status"] == "processing"
    mock.advance(19.8)
    assert (await faceswap(mock, task_id))["current_status"] == "processing"
    mock.advance(0.1)
    assert (await faceswap(mock, task_id))["current_status"] == "completed"


# --- result links ------------------------------------------------------------------------


async def test_result_urls_are_stable_and_expire_after_the_configured_time(make_mock):
    mock = await a2e(make_mock, "providers: {a2e: {settings: {result_url_ttl: 600}}}")
    task_id = (await start_i2v(mock))["_id"]
    mock.advance(30)
    url = (await i2v(mock, task_id))["result_url"]
    mock.advance(100)
    assert (await i2v(mock, task_id))["result_url"] == url  # a stored URL, not re-signed
    assert (await download(mock, url))[0] == 200
    mock.advance(600)
    status, _, payload = await download(mock, url)
    assert status == 403 and b"AccessDenied" in payload


async def test_default_result_urls_last_about_three_days(api):
    video_id = await generate(api)
    api.advance(30)
    url = (await video_row(api, video_id))["result"]
    api.advance(259200 - 60)
    assert (await download(api, url))[0] == 200
    api.advance(120)
    assert (await download(api, url))[0] == 403


# --- tenants -----------------------------------------------------------------------------


async def test_keys_never_see_each_others_tasks_or_coins(api):
    video_id = await generate(api, key="sk-alice")
    i2v_id = (await start_i2v(api, key="sk-alice"))["_id"]
    fs_id = (await add_faceswap(api, key="sk-alice"))["_id"]
    bob = "sk-bob"
    assert data_of(*await api.call("GET", AWS_LIST, key=bob))["total"] == 0
    assert data_of(*await api.call("GET", I2V_ALL, key=bob)) == {"rows": [], "count": 0}
    assert data_of(*await api.call("GET", FS_STATUS, key=bob)) == []
    assert data_of(*await api.call("GET", FS_STATUS, key=bob, params={"_id": fs_id})) == []
    records = await api.call("GET", FS_RECORDS, key=bob, params={"pageNum": 1, "pageSize": 5})
    assert data_of(*records)["count"] == 0
    assert await coins(api, key=bob) == START_COINS
    assert await coins(api, key="sk-alice") == START_COINS - 120
    status, body = await api.call("DELETE", I2V.format(i2v_id), key=bob)
    assert_refusal(status, body, 404, 404)
    assert (await video_row(api, video_id, key="sk-alice"))["_id"] == video_id
    assert (await i2v(api, i2v_id, key="sk-alice"))["_id"] == i2v_id


def _lookups(ids):
    video_id, i2v_id, fs_id = ids
    return [
        ("POST", AWS_RESULT, {"_id": video_id}),
        ("GET", I2V.format(i2v_id), None),
        ("DELETE", I2V.format(i2v_id), None),
        ("GET", FS.format(fs_id), None),
        ("DELETE", FS.format(fs_id), None),
    ]


async def test_unknown_and_foreign_ids_get_the_same_not_found(api):
    foreign = (
        await generate(api, key="sk-other"),
        (await start_i2v(api, key="sk-other"))["_id"],
        (await add_faceswap(api, key="sk-other"))["_id"],
    )
    unknown = ("5" * 24,) * 3
    not_hex = ("not-an-id",) * 3
    # an id of another family is as unknown as any other
    crossed = (foreign[1], foreign[2], foreign[0])
    own_crossed = (
        (await start_i2v(api))["_id"],
        await generate(api),
        await generate(api),
    )
    cases = [
        (foreign, "sk-test"),
        (unknown, "sk-test"),
        (not_hex, "sk-test"),
        (crossed, "sk-other"),
        (own_crossed, "sk-test"),
    ]
    answers = []
    for ids, key in cases:
        for method, path, body in _lookups(ids):
            status, answer = await api.call(method, path, key=key, json=body)
            assert_refusal(status, answer, 404, 404)
            answers.append({k: v for k, v in answer.items() if k != "trace_id"})
    assert all(a == answers[0] for a in answers)
    # none of those refusals touched the owner's records
    assert (await video_row(api, foreign[0], key="sk-other"))["_id"] == foreign[0]
    assert (await i2v(api, foreign[1], key="sk-other"))["_id"] == foreign[1]
    assert (await faceswap(api, foreign[2], key="sk-other"))["_id"] == foreign[2]


# --- bad input ---------------------------------------------------------------------------

POSTS = [
    (GENERATE, VIDEO),
    (AWS_RESULT, {"_id": "5" * 24}),
    (I2V_START, IMAGE2VIDEO),
    (FS_ADD, FACESWAP),
]


@pytest.mark.parametrize(("path", "good"), POSTS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"_id": ', b"[1, 2]", b'"text"', b"null", b"\xff\xfe"]
)
async def test_a_body_that_is_not_a_json_object_is_a_400(api, path, good, raw):
    status, body = await api.call(
        "POST", path, data=raw, headers={"Content-Type": "application/json"}
    )
    assert_refusal(status, body, 400, 400)


@pytest.mark.parametrize(("path", "good"), POSTS, ids=lambda v: v if isinstance(v, str) else "")
async def test_an_empty_body_is_a_400(api, path, good):
    status, body = await api.call(
        "POST", path, data=b"", headers={"Content-Type": "application/json"}
    )
    assert "required" in assert_refusal(status, body, 400, 400)


@pytest.mark.parametrize(("path", "good"), POSTS, ids=lambda v: v if isinstance(v, str) else "")
async def test_a_form_body_is_refused_as_not_json(api, path, good):
    status, body = await api.call("POST", path, data={k: str(v) for k, v in good.items()})
    assert "Content-Type" in assert_refusal(status, body, 400, 400)
    assert await coins(api) == START_COINS


@pytest.mark.parametrize(
    ("path", "good", "field"),
    [
        (GENERATE, VIDEO, "anchor_id"),
        (GENERATE, VIDEO, "anchor_type"),
        (GENERATE, VIDEO, "audioSrc"),
        (AWS_RESULT, {"_id": "5" * 24}, "_id"),
        (I2V_START, IMAGE2VIDEO, "name"),
        (I2V_START, IMAGE2VIDEO, "image_url"),
        (I2V_START, IMAGE2VIDEO, "prompt"),
        (FS_ADD, FACESWAP, "name"),
        (FS_ADD, FACESWAP, "face_url"),
        (FS_ADD, FACESWAP, "video_url"),
    ],
)
async def test_a_missing_required_field_is_named_in_a_400(api, path, good, field):
    body = {k: v for k, v in good.items() if k != field}
    status, answer = await api.call("POST", path, json=body)
    assert f"{field} is required" in assert_refusal(status, answer, 400, 400)
    assert await coins(api) == START_COINS


@pytest.mark.parametrize(
    ("path", "good", "field", "value"),
    [
        (GENERATE, VIDEO, "anchor_type", 2),
        (GENERATE, VIDEO, "anchor_type", "custom"),
        (GENERATE, VIDEO, "anchor_type", True),
        (GENERATE, VIDEO, "anchor_id", 42),
        (GENERATE, VIDEO, "audioSrc", ""),
        (GENERATE, VIDEO, "audioSrc", None),
        (GENERATE, VIDEO, "resolution", "1080"),
        (GENERATE, VIDEO, "web_bg_width", 12.5),
        (GENERATE, VIDEO, "isSkipRs", "yes"),
        (GENERATE, VIDEO, "isToPublicPool", 1),
        (AWS_RESULT, {"_id": "5" * 24}, "_id", 123),
        (AWS_RESULT, {"_id": "5" * 24}, "_id", ["x"]),
        (I2V_START, IMAGE2VIDEO, "video_time", 7),
        (I2V_START, IMAGE2VIDEO, "video_time", "5"),
        (I2V_START, IMAGE2VIDEO, "number_of_images", 0),
        (I2V_START, IMAGE2VIDEO, "number_of_images", 9),
        (I2V_START, IMAGE2VIDEO, "model_type", "general"),
        (I2V_START, IMAGE2VIDEO, "model_version", "a2e-v3"),
        (I2V_START, IMAGE2VIDEO, "extend_prompt", "true"),
        (I2V_START, IMAGE2VIDEO, "image_url", {"url": "x"}),
        (FS_ADD, FACESWAP, "face_url", None),
        (FS_ADD, FACESWAP, "name", ""),
        (FS_ADD, FACESWAP, "video_url", 3),
    ],
)
async def test_a_wrong_value_is_named_in_a_400_and_charges_nothing(api, path, good, field, value):
    status, answer = await api.call("POST", path, json={**good, field: value})
    assert field in assert_refusal(status, answer, 400, 400)
    assert await coins(api) == START_COINS
    assert data_of(*await api.call("GET", AWS_LIST))["total"] == 0


async def test_fields_a2e_does_not_document_are_ignored(api):
    video_id = await generate(api, some_future_field={"x": 1})
    assert (await video_row(api, video_id))["status"] == "init"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (AWS_LIST, {"current": 0}),
        (AWS_LIST, {"pageSize": "ten"}),
        (AWS_LIST, {"current": "1.5"}),
        (I2V_ALL, {"pageNum": -1}),
        (I2V_ALL, {"pageSize": 0}),
        (FS_RECORDS, {"pageNum": "x", "pageSize": 10}),
        (FS_RECORDS, {"pageNum": 1, "pageSize": 99999999999999999999}),
    ],
)
async def test_bad_paging_parameters_are_a_400(api, path, params):
    status, body = await api.call("GET", path, params=params)
    assert_refusal(status, body, 400, 400)


async def test_an_oversized_body_is_a_413_in_a2e_shape(api):
    big = {**VIDEO, "title": "a" * (1024 * 1024 + 1)}
    status, body = await api.call("POST", GENERATE, json=big)
    assert_refusal(status, body, 413, 413)
    assert await coins(api) == START_COINS


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic c2tfdGVzdA==", "bearer sk_x", "Bearer <sk_x>", "sk_x"],
)
async def test_a_missing_or_malformed_token_is_a2e_401(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    status, body = await api.call("GET", COINS, key=None, headers=headers)
    assert_refusal(status, body, 401, 401)


async def test_auth_is_checked_before_the_body(api):
    status, body = await api.call(
        "POST", GENERATE, key=None, data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_refusal(status, body, 401, 401)


@pytest.mark.parametrize("http", [200, 403])
async def test_the_auth_refusal_status_is_configurable(make_mock, http):
    mock = await a2e(make_mock, f"providers: {{a2e: {{settings: {{auth_error_status: {http}}}}}}}")
    for method, path in (("GET", COINS), ("POST", GENERATE), ("DELETE", I2V.format("x"))):
        status, body = await mock.call(method, path, key=None, json=VIDEO)
        assert_refusal(status, body, http, 401)


async def test_keys_outside_a_listed_scenario_are_refused(make_mock):
    mock = await a2e(make_mock, "auth: {mode: listed, tenants: {sk_known: {coins: 50}}}")
    assert await coins(mock, key="sk_known") == 50
    status, body = await mock.call("GET", COINS, key="sk_stranger")
    assert_refusal(status, body, 401, 401)


async def test_unknown_paths_and_methods_answer_in_a2e_shape(api):
    status, body = await api.call("GET", "/api/v1/video/nothing/here")  # video/{_id} is DELETE
    assert status == 404 and body["code"] == 404 and body["data"] is None and body["msg"]
    status, body = await api.call("GET", AWS_RESULT)
    assert status == 405 and body["code"] == 405 and body["data"] is None


async def test_every_answer_carries_its_own_trace_id(api):
    answers = [
        await api.call("GET", COINS),
        await api.call("GET", COINS),
        await api.call("POST", GENERATE, json={}),
        await api.call("GET", COINS, key=None),
        await api.call("GET", I2V.format("5" * 24)),
    ]
    traces = [body["trace_id"] for _, body in answers]
    assert all(UUID.match(t) for t in traces) and len(set(traces)) == len(traces)


async def test_same_seed_gives_the_same_ids(make_mock):
    runs = []
    for _ in range(2):
        mock = await a2e(make_mock, "seed: 11")
        runs.append((await generate(mock), (await start_i2v(mock))["_id"]))
    assert runs[0] == runs[1]


async def test_route_level_refusals_carry_a_fresh_trace_id(mock):
    first = await mock.call("GET", "/api/v1/no/such/path")
    second = await mock.call("GET", "/api/v1/no/such/path")
    assert first[0] == second[0] == 404
    assert first[1]["trace_id"] != second[1]["trace_id"]
