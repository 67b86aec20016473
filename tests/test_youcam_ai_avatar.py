"""YouCam AI Avatar: the seed flow end to end, every documented error, units and expiry."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

RUN = "/s2s/v2.0/task/ai-avatar"
STATUS = "/s2s/v2.0/task/ai-avatar/{}"
DELETE = "/s2s/v2.0/task/delete"
TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"
GOOD = {"template_id": "female_manga_mood", "output_count": 5, "src_file_url": "https://e.x/me.jpg"}


async def run(mock, key="sk-test", headers=None, **overrides):
    body = {**GOOD, **overrides}
    status, answer = await mock.call("POST", RUN, key=key, json=body, headers=headers or {})
    assert status == 200, answer
    return answer["data"]["task_id"]


async def poll(mock, task_id, key="sk-test"):
    return await mock.call("GET", STATUS.format(task_id), key=key)


async def units(mock, key="sk-test"):
    status, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    assert status == 200
    return tenant["balances"]["units"]


# --- lifecycle -------------------------------------------------------------------------


async def test_task_runs_then_succeeds_with_one_url_per_image(mock):
    task_id = await run(mock, output_count=7)
    status, body = await poll(mock, task_id)
    assert status == 200
    assert body == {
        "status": 200,
        "data": {"task_status": "running", "error": None, "results": None},
    }
    mock.advance(10)
    status, body = await poll(mock, task_id)
    data = body["data"]
    assert data["task_status"] == "success" and data["error"] is None
    urls = [o["url"] for o in data["results"]["output"]]
    assert len(urls) == 7 and len(set(urls)) == 7
    resp = await mock.client.get(mock.local(urls[0]))
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert (await resp.read())[:3] == b"\xff\xd8\xff"  # a real JPEG


async def test_success_is_terminal(mock):
    task_id = await run(mock)
    for seconds in (10, 600, 3600):
        mock.advance(seconds)
        _, body = await poll(mock, task_id)
        assert body["data"]["task_status"] == "success"


async def test_result_urls_expire_after_two_hours_and_are_reissued(mock):
    task_id = await run(mock)
    mock.advance(10)
    _, first = await poll(mock, task_id)
    url = first["data"]["results"]["output"][0]["url"]
    mock.advance(7199)
    assert (await mock.client.get(mock.local(url))).status == 200
    mock.advance(2)
    expired = await mock.client.get(mock.local(url))
    assert expired.status == 403
    assert b"<Code>AccessDenied</Code>" in await expired.read()
    _, again = await poll(mock, task_id)
    fresh = again["data"]["results"]["output"][0]["url"]
    assert fresh != url and (await mock.client.get(mock.local(fresh))).status == 200


async def test_forged_media_link_is_refused(mock):
    task_id = await run(mock)
    mock.advance(10)
    _, body = await poll(mock, task_id)
    url = body["data"]["results"]["output"][0]["url"]
    token = url.split("/__media/")[1].split("/")[0]
    payload, _ = token.split(".")
    forged = url.replace(token, f"{payload}.AAAAAAAAAAAAAAAA")
    assert (await mock.client.get(mock.local(forged))).status == 403


async def test_engine_failure_is_http_200_with_error_code(mock):
    task_id = await run(mock, headers={"X-Mock-Outcome": "failure:error_no_face"})
    mock.advance(10)
    status, body = await poll(mock, task_id)
    assert status == 200
    data = body["data"]
    assert data["task_status"] == "error"
    assert data["error"] == "error_no_face" and data["error_message"]
    assert data["results"] is None


async def test_scenario_failure_rate_draws_configured_engine_errors(make_mock):
    mock = await make_mock(
        """
providers:
  youcam:
    families:
      ai-avatar:
        failure_rate: 1.0
        failures: [{error: error_pose, error_message: bad pose}]
"""
    )
    task_id = await run(mock)
    mock.advance(10)
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "error" and body["data"]["error"] == "error_pose"


async def test_each_post_makes_a_new_task(mock):
    assert await run(mock) != await run(mock)


async def test_same_seed_same_ids_and_timelines(make_mock):
    ids, ends = [], []
    for _ in range(2):
        mock = await make_mock("seed: 7")
        task_id = await run(mock)
        ids.append(task_id)
        ends.append(mock.state.store.get("youcam", "sk-test", task_id).timeline.ends_at)
    assert ids[0] == ids[1] and ends[0] == ends[1]


# --- units -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 4, 5, 200])
async def test_units_charged_on_success_only(mock, count):
    before = await units(mock)
    task_id = await run(mock, output_count=count)
    assert await units(mock) == before  # nothing until the task ends
    mock.advance(10)
    await poll(mock, task_id)
    assert await units(mock) == before - math.ceil(count / 4)


async def test_failed_task_costs_nothing(mock):
    before = await units(mock)
    await run(mock, headers={"X-Mock-Outcome": "failure"})
    mock.advance(10)
    assert await units(mock) == before


async def test_credit_insufficiency_counts_running_tasks(mock):
    await mock.call("PUT", "/__mock/tenants/poor", key=None, json={"balances": {"units": 3}})
    await run(mock, key="poor", output_count=8)  # reserves 2 of 3
    status, body = await mock.call("POST", RUN, key="poor", json={**GOOD, "output_count": 8})
    assert status == 400
    assert body["error_code"] == "CreditInsufficiency" and body["status"] == 400


# --- polling window, retention ---------------------------------------------------------


async def test_unpolled_running_task_expires_even_if_it_finished(make_mock):
    mock = await make_mock("providers: {youcam: {families: {ai-avatar: {states: {running: 120}}}}}")
    before = await units(mock)
    task_id = await run(mock)
    mock.advance(61)  # the 60 s window passes while the task is still running
    mock.advance(200)  # ... and it finishes
    status, body = await poll(mock, task_id)
    assert status == 400
    assert body == {"status": 400, "error": "Invalid task ID", "error_code": "InvalidTaskId"}
    assert (await poll(mock, task_id))[0] == 400  # gone for good
    assert await units(mock) == before - 2  # "the consumed units may still be charged"


async def test_expired_task_not_charged_when_scenario_says_so(make_mock):
    mock = await make_mock(
        """
providers:
  youcam:
    settings: {charge_expired_tasks: false}
    families: {ai-avatar: {states: {running: 120}}}
"""
    )
    before = await units(mock)
    await run(mock)
    mock.advance(300)
    assert await units(mock) == before


async def test_polling_within_the_window_keeps_a_long_task_alive(make_mock):
    mock = await make_mock("providers: {youcam: {families: {ai-avatar: {states: {running: 300}}}}}")
    task_id = await run(mock)
    for _ in range(6):
        mock.advance(55)
        status, body = await poll(mock, task_id)
        assert status == 200, body
    mock.advance(60)
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "success"


async def test_finished_task_does_not_need_polling(mock):
    task_id = await run(mock)
    mock.advance(3600)  # finished after a few seconds, never polled: results stay
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "success"


async def test_task_ids_are_queryable_for_24_hours(mock):
    task_id = await run(mock)
    mock.advance(24 * 3600 - 1)
    assert (await poll(mock, task_id))[0] == 200
    mock.advance(2)
    status, body = await poll(mock, task_id)
    assert status == 400 and body["error_code"] == "InvalidTaskId"


# --- delete ----------------------------------------------------------------------------


async def test_delete_only_finished_tasks(mock):
    task_id = await run(mock)
    status, body = await mock.call("POST", DELETE, json={"task_id": task_id})
    assert status == 400 and body["error_code"] == "OperationInvalid"
    mock.advance(10)
    status, body = await mock.call("POST", DELETE, json={"task_id": task_id})
    assert (status, body) == (200, {"status": 200})
    status, body = await poll(mock, task_id)
    assert status == 400 and body["error_code"] == "InvalidTaskId"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "InvalidParameters"),
        ({"task_id": "nope"}, "InvalidTaskId"),
        ({"task_id": 5}, "InvalidParameters"),
        ({"task_id": "x", "force": True}, "BadRequest"),
    ],
)
async def test_delete_refusals(mock, body, code):
    status, answer = await mock.call("POST", DELETE, json=body)
    assert status == 400 and answer["error_code"] == code


# --- tenants ---------------------------------------------------------------------------


async def test_another_key_cannot_see_or_delete_a_task(mock):
    task_id = await run(mock, key="sk-alice")
    mock.advance(10)
    status, body = await poll(mock, task_id, key="sk-bob")
    assert status == 400 and body["error_code"] == "InvalidTaskId"
    status, body = await mock.call("POST", DELETE, key="sk-bob", json={"task_id": task_id})
    assert status == 400 and body["error_code"] == "InvalidTaskId"
    assert (await poll(mock, task_id, key="sk-alice"))[0] == 200


async def test_listed_keys_only(make_mock):
    mock = await make_mock("auth: {mode: listed, tenants: {sk-known: {units: 5}}}")
    assert (await mock.call("GET", TEMPLATES, key="sk-known"))[0] == 200
    status, body = await mock.call("GET", TEMPLATES, key="sk-stranger")
    assert status == 401 and body["error_code"] == "InvalidApiKey"
    assert await units(mock, "sk-known") == 5


# --- request validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"template_id": "female_manga_mood", "output_count": 0, "src_file_url": "u"},
        {"template_id": "female_manga_mood", "output_count": 201, "src_file_url": "u"},
        {"template_id": "female_manga_mood", "output_count": "5", "src_file_url": "u"},
        {"template_id": "female_manga_mood", "output_count": 2.5, "src_file_url": "u"},
        {"output_count": 5, "src_file_url": "u"},
        {"template_id": "female_manga_mood", "src_file_url": "u"},
        {"template_id": "female_manga_mood", "output_count": 5},
        {
            "template_id": "female_manga_mood",
            "output_count": 5,
            "src_file_url": "u",
            "src_file_id": "f",
        },
        {"template_id": 7, "output_count": 5, "src_file_url": "u"},
    ],
)
async def test_invalid_parameters(mock, body):
    status, answer = await mock.call("POST", RUN, json=body)
    assert status == 400
    assert answer["status"] == 400 and answer["error_code"] == "InvalidParameters"
    assert len(mock.state.store) == 0


async def test_unexpected_parameter_is_bad_request(mock):
    status, body = await mock.call("POST", RUN, json={**GOOD, "style": "x"})
    assert status == 400 and body["error_code"] == "BadRequest" and "style" in body["error"]


async def test_unknown_template_is_invalid_template(mock):
    status, body = await mock.call("POST", RUN, json={**GOOD, "template_id": "male_manga_mood"})
    assert status == 400 and body["error_code"] == "InvalidTemplate"


async def test_unknown_template_code_is_configurable(make_mock):
    mock = await make_mock("providers: {youcam: {settings: {unknown_template_code: InvalidStyle}}}")
    status, body = await mock.call("POST", RUN, json={**GOOD, "template_id": "nope"})
    assert status == 400 and body["error_code"] == "InvalidStyle"


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("template_id=x", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
async def test_malformed_bodies(mock, data, ctype):
    status, body = await mock.call(
        "POST", RUN, data=data.encode("latin-1"), headers={"Content-Type": ctype}
    )
    assert status == 400 and body["error_code"] == "InvalidParameters"


async def test_empty_body(mock):
    status, body = await mock.call("POST", RUN, data=b"")
    assert status == 400 and body["error_code"] == "InvalidParameters"


async def test_oversized_body_is_413_in_youcam_shape(mock):
    big = {**GOOD, "src_file_url": "https://e.x/" + "a" * (2 * 1024 * 1024)}
    status, body = await mock.call("POST", RUN, json=big)
    assert status == 413
    assert body["status"] == 413 and set(body) <= {"status", "error", "error_code"}


async def test_url_encoded_task_id(mock):
    task_id = await run(mock)
    encoded = "".join(f"%{ord(c):02X}" for c in task_id[:5]) + task_id[5:]
    status, body = await mock.call("GET", STATUS.format(encoded))
    assert status == 200 and body["data"]["task_status"] == "running"


# --- auth, rate limit, headers ---------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "sk-test",
        "Token sk-test",
        "Bearer <sk-test>",
        "Bearer  sk-test",
        "bearer sk-test",
    ],
)
async def test_missing_or_malformed_key_is_401(mock, header):
    headers = {} if header is None else {"Authorization": header}
    status, body = await mock.call("POST", RUN, key=None, json=GOOD, headers=headers)
    assert status == 401
    assert body == {
        "status": 401,
        "error": "This API key is not recognized.",
        "error_code": "InvalidApiKey",
    }


async def test_rate_limit_250_per_300s_then_recovers(mock):
    for i in range(250):
        if i % 5 == 0:
            mock.advance(1)  # 5 a second: the per-second limit is never met
        status, _ = await mock.call("GET", TEMPLATES + "?page_size=1")
        assert status == 200
    mock.advance(1)
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())
    assert resp.status == 429
    assert await resp.json() == {"status": 429, "error": "Too many requests"}
    assert "Retry-After" not in resp.headers
    assert not any(h.lower().startswith(("ratelimit", "x-ratelimit")) for h in resp.headers)
    # another key from the same IP is limited too: 250 per IP
    assert (await mock.call("GET", TEMPLATES, key="sk-other"))[0] == 429
    mock.advance(250)  # 300 s after the window opened
    assert (await mock.call("GET", TEMPLATES))[0] == 200


async def test_every_answer_has_a_request_id(mock):
    ok = await mock.client.get(TEMPLATES, headers=mock.auth())
    refused = await mock.client.get(TEMPLATES)
    for resp in (ok, refused):
        assert resp.headers["x-request-id"].isdigit()
    assert ok.headers["x-request-id"] != refused.headers["x-request-id"]


async def test_route_level_refusals_carry_a_request_id_too(mock):
    for method, path in (("GET", "/s2s/v2.0/nowhere"), ("DELETE", RUN)):
        resp = await mock.client.request(method, path, headers=mock.auth())
        assert resp.status in (404, 405) and resp.headers["x-request-id"].isdigit()


async def test_unknown_path_under_s2s_answers_in_youcam_shape(mock):
    status, body = await mock.call("GET", "/s2s/v2.0/task/unknown-feature/x")
    assert status == 404 and body["status"] == 404 and "error" in body
    status, body = await mock.call("DELETE", RUN)
    assert status == 405 and body["status"] == 405
