"""A bad day that looks like a real one: refusals in the provider's words, faults across the
whole host (unknown paths, downloads, uploads), answers lost after the work, broken
connections, gateway pages, and presets a well-behaved client survives."""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import aiohttp
import orjson
import pytest
from mockserver.contracts.clients.youcam import YouCamClient

from mockserver.resources import fixtures_dir
from mockserver.spec import load_operations
from mockserver.yamlio import load_yaml_file
from tests.test_a2e import VIDEO
from tests.test_chaos import TEMPLATES, rules
from tests.test_youcam_ai_avatar import GOOD, RUN, poll, run

A2E_LIST = "/api/v1/anchor/character_list"
A2E_GENERATE = "/api/v1/video/generate"
A2E_VIDEO = {**VIDEO, "title": "t"}
RELAY_VOICES = "/avatar/voice"


def preset(name: str) -> dict:
    return load_yaml_file(fixtures_dir() / "scenarios" / f"{name}.yaml")


async def coins(mock, key="sk-test") -> float:
    _, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    return tenant["balances"]["coins"]


# --- C: refusals in the provider's words ---------------------------------------------------


async def test_a_per_key_429_says_when_to_come_back_where_the_provider_does(make_mock):
    mock = await make_mock(
        "providers:\n"
        "  a2e: {rate_limits: [{per: key, limit: 1, window: 60}]}\n"
        "  relay: {rate_limits: [{per: key, limit: 1, window: 60}]}\n"
        "  youcam: {rate_limits: [{per: key, limit: 1, window: 60}]}\n"
    )
    for path in (A2E_LIST, RELAY_VOICES, TEMPLATES):
        assert (await mock.call("GET", path))[0] == 200
    mock.advance(20.5)
    resp = await mock.client.get(A2E_LIST, headers=mock.auth())
    body = await resp.json()
    assert resp.status == 429 and resp.headers["Retry-After"] == "40"  # rounded up
    assert body["code"] == 429 and body["msg"] == "Too many requests, retry after 40 s"
    resp = await mock.client.get(RELAY_VOICES, headers=mock.auth())
    assert resp.status == 429 and resp.headers["Retry-After"] == "40"
    assert (await resp.json())["error"]["message"] == "rate limit exceeded, retry after 40 s"
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())  # YouCam documents none
    assert resp.status == 429 and "Retry-After" not in resp.headers
    assert await resp.json() == {"status": 429, "error": "Too many requests"}


async def test_the_retry_after_header_is_a_scenario_setting(make_mock):
    mock = await make_mock(
        "providers: {a2e: {rate_limits: [{per: key, limit: 1, window: 60}],"
        " settings: {rate_limit_retry_after: false}},"
        " youcam: {rate_limits: [{per: key, limit: 1, window: 60}],"
        " settings: {rate_limit_retry_after: true}}}"
    )
    for path in (A2E_LIST, TEMPLATES):
        await mock.call("GET", path)
    resp = await mock.client.get(A2E_LIST, headers=mock.auth())
    assert resp.status == 429 and "Retry-After" not in resp.headers
    assert (await resp.json())["msg"] == "Too many requests"
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())
    assert resp.status == 429 and resp.headers["Retry-After"] == "60"


async def test_the_rate_limited_preset_keeps_its_promise_of_retry_after(make_mock):
    mock = await make_mock(json.dumps(preset("rate-limited")))
    for _ in range(30):  # the preset's A2E limit: 30 per 60 s per key
        assert (await mock.call("GET", A2E_LIST))[0] == 200
    refused = await mock.client.get(A2E_LIST, headers=mock.auth())
    assert refused.status == 429 and refused.headers["Retry-After"] == "60"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_an_injected_5xx_has_a_body_that_agrees_with_its_status(mock, status):
    fault = {"X-Mock-Fault": f"status={status}"}
    code, body = await mock.call("GET", A2E_LIST, headers=fault)
    assert code == status and body["code"] == status and body["data"] is None
    assert (
        body["msg"]
        == {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }[status]
    )
    code, body = await mock.call("GET", TEMPLATES, headers=fault)
    assert code == status and body["status"] == status
    code, body = await mock.call("GET", RELAY_VOICES, headers=fault)
    assert code == status and body["code"] == "internal_error"


async def test_unmatched_paths_and_methods_are_serialised_like_every_other_answer(mock):
    ok = await mock.client.get(A2E_LIST, headers=mock.auth())
    for method, path, status in [
        ("GET", "/api/v1/no/such/thing", 404),
        ("DELETE", A2E_LIST, 405),
        ("GET", "/s2s/v2.0/nothing", 404),
        ("PUT", TEMPLATES, 405),
        ("GET", "/avatar/nothing", 404),
    ]:
        resp = await mock.client.request(method, path, headers=mock.auth())
        raw = await resp.read()
        assert resp.status == status
        assert resp.headers["Content-Type"] == ok.headers["Content-Type"]
        assert raw == orjson.dumps(orjson.loads(raw))  # compact, as the operations answer
    body = orjson.loads(raw)
    assert body == {"code": "not_found", "message": "404 page not found", "data": None}


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


async def test_every_405_carries_allow_with_the_methods_the_path_serves(mock):
    operations = [op for p in ("youcam", "relay", "a2e") for op in load_operations(p)]
    templates = [(_template(op.path), op.method) for op in operations]
    paths = {re.sub(r"\{[^}]+\}", "x1", op.path) for op in operations}
    checked = 0
    for path in sorted(paths):
        served = {method for pattern, method in templates if pattern.match(path)}
        for method in {"GET", "POST", "DELETE"} - served:
            resp = await mock.client.request(method, path, headers=mock.auth())
            assert resp.status == 405, (method, path)
            assert resp.headers["Allow"] == ", ".join(sorted(served)), (method, path)
            checked += 1
    assert checked >= len(operations) * 0.9
    resp = await mock.client.delete("/__mock/health")
    assert resp.status == 405 and "GET" in resp.headers["Allow"].split(", ")
    resp = await mock.client.post("/__media/token/file.jpg")
    assert resp.status == 405 and "GET" in resp.headers["Allow"].split(", ")


# --- D: lost answers, broken connections, gateways -------------------------------------


def _without_waits(scenario: dict) -> dict:
    """A preset's rules minus those that wait real seconds (latency, gateway timeouts)."""
    kept = [
        r
        for r in scenario["chaos"]["rules"]
        if r["effect"]["type"] not in ("latency", "gateway_timeout")
    ]
    return {**scenario, "chaos": {**scenario["chaos"], "rules": kept}}


async def test_the_flaky_preset_loses_submit_answers_after_the_task_is_made_and_charged(
    make_mock,
):
    flaky = _without_waits(preset("flaky"))
    mock = await make_mock(json.dumps({**flaky, "seed": 5}))
    answered = Counter()
    for _ in range(150):
        try:
            resp = await mock.client.post(A2E_GENERATE, json=A2E_VIDEO, headers=mock.auth())
            raw = await resp.read()
            ok = resp.status == 200 and orjson.loads(raw)["code"] == 0
            answered["ok" if ok else resp.status] += 1
        except (aiohttp.ClientError, ValueError):
            answered["broken"] += 1
    tasks = len(mock.state.store)
    entries = mock.state.journal.query(operation="postApiV1VideoGenerate")
    lost = [
        e
        for e in entries
        if {"rule:lost-after-submit", "rule:reset-after-submit"} & set(e["chaos"] or ())
    ]
    assert {e["status"] for e in lost} <= {503, 0} and len(lost) >= 3, answered
    assert tasks == answered["ok"] + len(lost)  # each lost answer still made its task ...
    assert await coins(mock) == 10000 - 10 * tasks  # ... and was charged for it


async def test_a_gateway_page_is_html_from_the_balancer_not_the_provider(mock):
    resp = await mock.client.get(TEMPLATES, headers={**mock.auth(), "X-Mock-Fault": "gateway"})
    page = await resp.text()
    assert resp.status == 502 and resp.content_type == "text/html"
    assert "<title>502 Bad Gateway</title>" in page and resp.headers["Server"] == "nginx"
    resp = await mock.client.get(A2E_LIST, headers={**mock.auth(), "X-Mock-Fault": "gateway=503"})
    assert resp.status == 503 and "Service Temporarily Unavailable" in await resp.text()


async def test_a_gateway_timeout_waits_then_answers_504_and_after_the_work_the_task_exists(
    mock,
):
    started = time.monotonic()
    resp = await mock.client.post(
        RUN,
        json=GOOD,
        headers={**mock.auth(), "X-Mock-Fault": "gateway_timeout=0.05;phase=after"},
    )
    assert time.monotonic() - started >= 0.05
    assert resp.status == 504 and resp.content_type == "text/html"
    assert "504 Gateway Time-out" in await resp.text()
    assert len(mock.state.store) == 1  # the provider did the work behind the balancer
    resp = await mock.client.post(
        RUN, json=GOOD, headers={**mock.auth(), "X-Mock-Fault": "gateway_timeout=0"}
    )
    assert resp.status == 504 and len(mock.state.store) == 1  # before the work: no task


async def result_url(mock) -> str:
    task_id = await run(mock)
    mock.advance(10)
    _, body = await poll(mock, task_id)
    return mock.local(body["data"]["results"]["output"][0]["url"])


async def test_result_downloads_take_faults_in_s3s_words(make_mock):
    mock = await make_mock(
        rules(
            "{name: cdn-down, match: {operation: 'mock:media'}, times: 1,"
            " effect: {type: status, status: 503}}"
        )
    )
    url = await result_url(mock)
    resp = await mock.client.get(url)
    assert resp.status == 503 and resp.content_type == "application/xml"
    assert "<Code>ServiceUnavailable</Code>" in await resp.text()
    resp = await mock.client.get(url)
    assert resp.status == 200 and (await resp.read())[:3] == b"\xff\xd8\xff"
    entries = mock.state.journal.query(path=url.split("?")[0])
    assert [e["status"] for e in entries] == [503, 200]


async def test_a_truncated_download_is_a_short_read(make_mock):
    mock = await make_mock(rules("{match: {path: '/__media/*'}, effect: {type: truncate}}"))
    resp = await mock.client.get(await result_url(mock))
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()


async def test_a_presigned_youcam_upload_can_be_reset_and_keeps_nothing(make_mock):
    mock = await make_mock(
        rules("{match: {operation: 'mock:upload'}, times: 1, effect: {type: reset}}")
    )
    spec = {"content_type": "image/jpeg", "file_name": "f.jpg", "file_size": 4}
    _, answer = await mock.call("POST", "/s2s/v2.0/file", json={"files": [spec]})
    request = answer["data"]["files"][0]["requests"][0]
    with pytest.raises(aiohttp.ClientError):
        put = await mock.client.put(
            mock.local(request["url"]), data=b"\xff\xd8\xff\xe0", headers=request["headers"]
        )
        await put.read()
    file_id = answer["data"]["files"][0]["file_id"]
    upload = mock.state.uploads.get("youcam", "sk-test", file_id, mock.clock.now())
    assert upload is None or not upload.stored  # the bytes never landed
    put = await mock.client.put(
        mock.local(request["url"]), data=b"\xff\xd8\xff\xe0", headers=request["headers"]
    )
    upload = mock.state.uploads.get("youcam", "sk-test", file_id, mock.clock.now())
    assert put.status == 200 and upload is not None and upload.path is not None
    assert upload.path.read_bytes() == b"\xff\xd8\xff\xe0"


async def test_a2e_bucket_faults_come_from_presets_and_headers(mock):
    _, answer = await mock.call("POST", "/api/v1/r2/get_upload_presigned_url", json={"key": "k"})
    url = mock.local(answer["data"]["uploadUrl"])
    status, _ = await mock.call(
        "POST",
        "/__mock/presets",
        key=None,
        json={"match": {"operation": "mock:a2e-r2"}, "effect": {"type": "status", "status": 500}},
    )
    assert status == 201
    resp = await mock.client.put(url, data=b"x", headers={"Content-Type": "image/png"})
    assert resp.status == 500 and "<Code>InternalError</Code>" in await resp.text()
    resp = await mock.client.put(
        url, data=b"x", headers={"Content-Type": "image/png", "X-Mock-Fault": "gateway=502"}
    )
    assert resp.status == 502 and resp.content_type == "text/html"
    resp = await mock.client.put(url, data=b"x", headers={"Content-Type": "image/png"})
    assert resp.status == 200


async def test_a_429_storm_limits_the_whole_host(make_mock):
    mock = await make_mock(json.dumps(preset("rate-limited")))
    url = await result_url(mock)
    mock.advance(30)
    resp = await mock.client.get("/s2s/v2.0/no-such-route", headers=mock.auth())
    assert resp.status == 429 and "Retry-After" not in resp.headers
    assert await resp.json() == {"status": 429, "error": "Too many requests"}
    resp = await mock.client.get("/api/v1/no-such-route", headers=mock.auth())
    assert resp.status == 429 and resp.headers["Retry-After"] == "30"
    assert (await resp.json())["msg"] == "Too many requests, retry after 30 s"
    resp = await mock.client.get("/no-such-route")
    assert resp.status == 429 and (await resp.json())["status"] == 429
    resp = await mock.client.get(url)
    assert resp.status == 429 and "<Code>SlowDown</Code>" in await resp.text()
    mock.advance(30)
    assert (await mock.client.get("/api/v1/no-such-route")).status == 404
    assert (await mock.client.get(url)).status == 200


# --- D: the rate-limited preset is survivable ---------------------------------------------


def test_the_rate_limited_storm_is_shorter_than_youcams_polling_window():
    window = preset("default")["providers"]["youcam"]["settings"]["polling_window"]
    for rule in preset("rate-limited")["chaos"]["rules"]:
        during = rule["during"]
        assert during["to"] - during["from"] < window, rule["name"]


async def test_a_well_behaved_client_survives_the_rate_limited_preset(make_mock):
    scenario = preset("rate-limited")
    scenario["providers"]["youcam"]["families"] = {"ai-avatar": {"states": {"running": 100}}}
    mock = await make_mock(json.dumps(scenario))
    mock.advance(25)

    async def sleep(seconds: float) -> None:
        mock.advance(seconds)

    base = str(mock.client.make_url("")).rstrip("/")
    async with YouCamClient(base, "sk-test", sleep=sleep) as client:
        task_id = await client.submit("ai-avatar", GOOD)
        result = await client.wait(task_id, feature="ai-avatar")
    assert result.succeeded and result.state == "success"
    refused = [
        e for e in mock.state.journal.query(operation="getAiAvatarTask") if e["status"] == 429
    ]
    assert refused  # it really polled through the storm


@pytest.mark.parametrize(("counts", "state"), [(True, "running"), (False, None)])
async def test_whether_a_refused_poll_counts_for_the_window_is_a_setting(make_mock, counts, state):
    youcam = {
        "settings": {"polling_window": 60, "refused_poll_counts": counts},
        "families": {"ai-avatar": {"states": {"running": 300}}},
    }
    storm = {"match": {"operation": "get*"}, "effect": {"type": "rate_limit"}}
    storm["during"] = {"from": 10, "to": 90}
    mock = await make_mock(
        json.dumps({"providers": {"youcam": youcam}, "chaos": {"rules": [storm]}})
    )
    task_id = await run(mock)
    for _ in range(18):  # a poll every 5 s, every one refused from 10 s to 90 s
        mock.advance(5)
        await poll(mock, task_id)
    status, body = await poll(mock, task_id)
    if state is None:
        assert status == 400 and body["error_code"] == "InvalidTaskId"
    else:
        assert status == 200 and body["data"]["task_status"] == state


async def test_a_refused_poll_never_revives_a_lost_task(make_mock):
    mock = await make_mock(
        "providers: {youcam: {settings: {polling_window: 10},"
        " families: {ai-avatar: {states: {running: 300}}}}}\n"
        + rules(
            "{match: {operation: get*}, effect: {type: status, status: 503}, during: {from: 20}}"
        )
    )
    task_id = await run(mock)
    mock.advance(25)  # the window passed unpolled: lost
    assert (await poll(mock, task_id))[0] == 503  # refused; it must not count now
    mock.state.chaos.rules.clear()
    status, body = await poll(mock, task_id)
    assert status == 400 and body["error_code"] == "InvalidTaskId"


async def test_the_rate_limited_storm_no_longer_loses_running_tasks(make_mock):
    """On main before this change, every task running when the 60 s storm began came back
    InvalidTaskId however well the client polled."""
    scenario = preset("rate-limited")
    scenario["providers"]["youcam"]["rate_limits"] = []
    scenario["providers"]["youcam"]["families"] = {"ai-avatar": {"states": {"running": 120}}}
    mock = await make_mock(json.dumps(scenario))
    mock.advance(28)
    task_id = await run(mock)
    statuses = []
    for _ in range(61):  # a poll every 2 s, through the storm, until the task's end
        mock.advance(2)
        statuses.append((await poll(mock, task_id))[0])
    assert statuses.count(429) >= 10
    status, body = await poll(mock, task_id)
    assert status == 200 and body["data"]["task_status"] == "success", body


async def test_an_injected_429_status_speaks_the_providers_own_429(mock):
    fault = {"X-Mock-Fault": "status=429"}
    assert await mock.call("GET", TEMPLATES, headers=fault) == (
        429,
        {"status": 429, "error": "Too many requests"},
    )
    status, body = await mock.call("GET", A2E_LIST, headers=fault)
    assert status == 429 and (body["code"], body["msg"]) == (429, "Too many requests")


async def test_the_control_plane_takes_no_chaos(make_mock):
    mock = await make_mock(rules("{effect: {type: status, status: 503}}"))
    assert (await mock.call("GET", "/__mock/health", key=None))[0] == 200
    assert (await mock.call("GET", "/__mock", key=None))[0] == 404
    assert (await mock.call("GET", "/no-such-path", key=None))[0] == 503  # the host's, though
