"""Everything the mock keeps is bounded: retention evicts tasks with what belongs to them, caps
refuse in each provider's words, and the rings, windows and idle tenants stay small.

Every test runs on the frozen virtual clock; eviction is driven the way the server drives it
(a submit, or one tick of the housekeeping loop called directly), never by sleeping.
"""

from __future__ import annotations

import pytest

AVATAR = "/s2s/v2.0/task/ai-avatar"
AVATAR_BODY = {
    "template_id": "female_manga_mood",
    "output_count": 4,
    "src_file_url": "https://e.x/a.jpg",
}
RELAY = "/avatar/generation"
RELAY_BODY = {"avatar_url": "https://e.x/face.jpg", "audio_url": "https://e.x/hello.mp3"}
I2V = "/api/v1/userImage2Video"
I2V_BODY = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "speaking"}
DAY = 86400


async def youcam_task(mock, key="sk-test", headers=None) -> str:
    status, body = await mock.call("POST", AVATAR, key=key, json=AVATAR_BODY, headers=headers or {})
    assert status == 200, body
    return body["data"]["task_id"]


async def relay_task(mock, key="sk-test", **extra) -> str:
    status, body = await mock.call("POST", RELAY, key=key, json={**RELAY_BODY, **extra})
    assert status == 200, body
    return body["data"]


async def a2e_task(mock, key="sk_test") -> str:
    status, body = await mock.call("POST", f"{I2V}/start", key=key, json=I2V_BODY)
    assert status == 200 and body["code"] == 0, body
    return body["data"]["_id"]


async def live_tasks(mock) -> int:
    status, health = await mock.call("GET", "/__mock/health", key=None)
    assert status == 200
    return health["tasks"]


async def tenant(mock, key):
    return await mock.call("GET", f"/__mock/tenants/{key}", key=None)


# --- retention --------------------------------------------------------------------------


async def test_youcam_tasks_past_24_hours_are_evicted_by_the_next_submit(mock):
    old = [await youcam_task(mock) for _ in range(3)]
    mock.advance(DAY + 1)
    await youcam_task(mock)
    assert await live_tasks(mock) == 1  # the three old ones are gone, not only hidden
    for task_id in old:
        status, body = await mock.call("GET", f"{AVATAR}/{task_id}")
        assert (status, body["error_code"]) == (400, "InvalidTaskId")


async def test_a_task_within_its_retention_stays(mock):
    task_id = await youcam_task(mock)
    mock.advance(DAY - 1)
    await youcam_task(mock)
    status, body = await mock.call("GET", f"{AVATAR}/{task_id}")
    assert status == 200 and body["data"]["task_status"] == "success"
    assert await live_tasks(mock) == 2


async def test_a2e_and_relay_follow_the_scenario_retention(make_mock):
    mock = await make_mock(
        "providers:\n"
        "  a2e: {settings: {task_retention: 60}}\n"
        "  relay: {settings: {task_retention: 60}}\n"
    )
    a2e_id = await a2e_task(mock)
    relay_id = await relay_task(mock)
    mock.advance(59)
    status, body = await mock.call("GET", f"{I2V}/{a2e_id}", key="sk_test")
    assert status == 200 and body["code"] == 0
    mock.advance(2)  # past retention, before anything evicted them: already gone
    status, body = await mock.call("GET", f"{I2V}/{a2e_id}", key="sk_test")
    assert (status, body["code"], body["msg"]) == (404, 404, "Record not found")
    status, body = await mock.call(
        "GET", f"{I2V}/allRecords", key="sk_test", params={"pageNum": "1", "pageSize": "10"}
    )
    assert status == 200 and body["data"] == {"rows": [], "count": 0}
    status, body = await mock.call("GET", f"/avatar/task/{relay_id}")
    assert (status, body["code"]) == (400, "task_not_exist")
    mock.state.retention.tick()
    assert await live_tasks(mock) == 0


async def test_the_default_retention_of_a2e_and_relay_is_documented_and_finite(mock):
    settings = {name: mock.state.scenario.providers[name].settings for name in ("a2e", "relay")}
    assert settings["a2e"]["task_retention"] == 7 * DAY
    assert settings["relay"]["task_retention"] == 90 * DAY
    await a2e_task(mock)
    await relay_task(mock)
    mock.advance(90 * DAY + 1)
    mock.state.retention.tick()
    assert await live_tasks(mock) == 0


async def test_the_tick_evicts_in_bounded_batches(mock, monkeypatch):
    from mockserver import retention

    monkeypatch.setattr(retention, "SWEEP_BATCH", 2)
    for _ in range(5):
        await youcam_task(mock)
    mock.advance(DAY + 1)
    assert [mock.state.retention.tick() for _ in range(4)] == [2, 2, 1, 0]
    assert await live_tasks(mock) == 0


async def test_eviction_takes_the_webhook_records_of_the_task(make_mock):
    mock = await make_mock(
        "providers: {youcam: {settings: {webhooks: [{url: 'http://127.0.0.1:9/hook', "
        "secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']}]}}}\n"
    )
    await youcam_task(mock)
    engine = mock.state.webhooks
    assert len(engine.deliveries) == 1 and len(engine._by_task) == 1
    mock.advance(DAY + 1)
    mock.state.retention.tick()
    assert engine.deliveries == {} and engine._by_task == {}


async def test_a_task_evicted_before_it_ended_releases_its_reserved_units(mock):
    await youcam_task(mock, headers={"X-Mock-Outcome": "stuck"})  # never ends
    _, before = await tenant(mock, "sk-test")
    assert before["reserved"] == {"units": 1.0}
    mock.advance(DAY + 1)
    mock.state.retention.tick()
    _, after = await tenant(mock, "sk-test")
    assert after["reserved"] == {} and after["balances"]["units"] == 100  # never charged
    assert mock.state.accounts.existing("sk-test")._pending == []


async def test_a_charge_that_fell_due_before_eviction_still_applies(mock):
    await youcam_task(mock)  # succeeds within seconds; nobody reads the balance
    mock.advance(DAY + 1)
    mock.state.retention.tick()
    _, after = await tenant(mock, "sk-test")
    assert after["balances"]["units"] == 99 and after["reserved"] == {}


# --- caps on live tasks -------------------------------------------------------------------


async def test_live_tasks_per_tenant_are_capped_in_each_providers_words(make_mock):
    mock = await make_mock("limits: {max_tasks_per_tenant: 2}\n")
    for _ in range(2):
        await youcam_task(mock)
    status, body = await mock.call("POST", AVATAR, json=AVATAR_BODY)
    assert (status, body) == (429, {"status": 429, "error": "Too many requests"})
    # a tenant's cap counts across providers: relay and A2E refuse the same key too
    status, body = await mock.call("POST", RELAY, json=RELAY_BODY)
    assert status == 429 and body["error"]["type"] == "new_api_error"
    assert "2 live tasks" in body["error"]["message"]
    status, body = await mock.call("POST", f"{I2V}/start", json=I2V_BODY)
    assert status == 429 and body["code"] == 429 and body["msg"].startswith("Too many tasks")
    assert body["data"] is None and body["trace_id"]
    # nothing of the refused requests is kept or charged
    assert await live_tasks(mock) == 2
    _, held = await tenant(mock, "sk-test")
    assert held["balances"]["quota"] == 1000 and held["balances"]["coins"] == 10000
    # another key is not held back, and the tenant gets room back as its tasks are evicted
    await youcam_task(mock, key="sk-other")
    mock.advance(DAY + 1)
    await youcam_task(mock)


async def test_live_tasks_in_all_are_capped(make_mock):
    mock = await make_mock("limits: {max_tasks: 2}\n")
    await youcam_task(mock, key="sk-a")
    await relay_task(mock, key="sk-b")
    status, body = await mock.call("POST", f"{I2V}/start", key="sk_c", json=I2V_BODY)
    assert status == 429 and "the server holds 2 live tasks" in body["msg"]


async def test_a2e_records_count_against_the_cap(make_mock):
    mock = await make_mock("limits: {max_tasks_per_tenant: 1}\n")
    back = {"img_url": "https://e.x/back.png"}
    status, body = await mock.call("POST", "/api/v1/custom_back/add", key="sk_a", json=back)
    assert status == 200 and body["code"] == 0, body
    status, body = await mock.call("POST", "/api/v1/custom_back/add", key="sk_a", json=back)
    assert status == 429 and body["code"] == 429


# --- tenants --------------------------------------------------------------------------------


async def test_new_keys_past_the_tenant_cap_are_refused(make_mock):
    mock = await make_mock("limits: {max_tenants: 2}\n")
    await relay_task(mock, key="sk-a")
    await relay_task(mock, key="sk-b")
    status, body = await mock.call("POST", RELAY, key="sk-c", json=RELAY_BODY)
    assert status == 429 and body["error"]["message"] == "too many API keys in use"
    status, body = await mock.call("GET", "/s2s/v1.0/client/credit", key="sk-c")
    assert (status, body) == (429, {"status": 429, "error": "Too many requests"})
    await relay_task(mock, key="sk-a")  # known keys go on
    assert len(mock.state.accounts) == 2


async def test_a_fresh_tenant_unused_for_a_day_is_forgotten_and_nothing_else(mock):
    await mock.call("GET", "/avatar/voice", key="sk-fresh", params={"language": "en"})
    status, body = await mock.call("GET", "/api/v1/user/remainingCoins", key="sk_fresh")
    assert status == 200 and body["code"] == 0
    await relay_task(mock, key="sk-charged")  # a charge: this tenant is worth keeping
    status, _ = await mock.call(
        "PUT", "/__mock/tenants/sk-set", key=None, json={"balances": {"units": 5}}
    )
    assert status == 200
    keys = {t.key for t in mock.state.accounts.all()}
    assert {"sk_fresh", "sk-charged", "sk-set"} <= keys
    mock.state.retention.tick()
    mock.advance(DAY - 1)
    mock.state.retention.tick()
    assert "sk_fresh" in {t.key for t in mock.state.accounts.all()}  # not idle long enough
    mock.advance(2)
    mock.state.retention.tick()
    keys = {t.key for t in mock.state.accounts.all()}
    assert "sk_fresh" not in keys and {"sk-charged", "sk-set"} <= keys
    _, set_tenant = await tenant(mock, "sk-set")
    assert set_tenant["balances"]["units"] == 5
    status, body = await mock.call("GET", "/api/v1/user/remainingCoins", key="sk_fresh")
    assert status == 200 and body["data"]["coins"] == 10000  # the same tenant it would get


async def test_a_tenant_with_youcam_lots_is_kept(mock):
    status, _ = await mock.call("GET", "/s2s/v1.0/client/credit", key="sk-lots")
    assert status == 200
    mock.advance(2 * DAY)
    mock.state.retention.tick()
    assert mock.state.accounts.existing("sk-lots") is not None


# --- rings and windows ----------------------------------------------------------------------


async def test_balance_history_is_a_ring_and_the_youcam_lots_stay_in_step(make_mock):
    mock = await make_mock("limits: {history_per_tenant: 3}\n")
    for _ in range(5):
        await relay_task(mock)
    _, held = await tenant(mock, "sk-test")
    assert len(held["history"]) == 3 and held["balances"]["quota"] == 995
    for _ in range(5):  # five YouCam charges settle at once, past the ring's size
        await youcam_task(mock)
    mock.advance(60)
    status, body = await mock.call("GET", "/s2s/v1.0/client/credit")
    assert status == 200
    assert sum(lot["amount_dec"] for lot in body["results"]) == 95
    _, held = await tenant(mock, "sk-test")
    assert held["balances"]["units"] == 95


async def test_a2e_history_rows_keep_their_ids_as_the_ring_turns(make_mock):
    mock = await make_mock("limits: {history_per_tenant: 2}\n")
    query = {"pageNum": "1", "pageSize": "10"}
    await a2e_task(mock)
    _, first = await mock.call(
        "GET", "/api/v1/transactionRecord/creditsHistory", key="sk_test", params=query
    )
    (row,) = first["data"]["rows"]
    for _ in range(3):
        await a2e_task(mock)
    _, later = await mock.call(
        "GET", "/api/v1/transactionRecord/creditsHistory", key="sk_test", params=query
    )
    assert later["data"]["count"] == 2
    assert row["_id"] not in {r["_id"] for r in later["data"]["rows"]}  # dropped, not renamed
    assert len({r["_id"] for r in later["data"]["rows"]}) == 2


async def test_closed_rate_limit_windows_are_dropped(make_mock):
    mock = await make_mock(
        "providers: {youcam: {rate_limits: [{per: key, limit: 5, window: 60}]}}\n"
    )
    for i in range(20):
        await mock.call("GET", f"{AVATAR}/missing", key=f"sk-{i}")
    assert len(mock.state.windows) == 20
    mock.advance(59)
    mock.state.retention.tick()
    assert len(mock.state.windows) == 20
    mock.advance(1)
    mock.state.retention.tick()
    assert len(mock.state.windows) == 0
    status, _ = await mock.call("GET", f"{AVATAR}/missing", key="sk-0")
    assert status == 400  # a fresh window admits it


async def test_violations_are_a_ring(make_mock):
    mock = await make_mock("limits: {violations_kept: 2}\n")
    for i in range(5):
        mock.state.violations.append({"operation_id": f"op{i}", "status": 200, "problem": "x"})
    status, body = await mock.call("GET", "/__mock/violations", key=None)
    assert status == 200 and [v["operation_id"] for v in body["violations"]] == ["op3", "op4"]
    mock.state.violations.clear()  # they were made up: the fixture must not fail on them


async def test_queued_presets_are_capped(make_mock):
    mock = await make_mock("limits: {presets_kept: 2}\n")
    preset = {"outcome": "failure", "count": 1}
    for _ in range(2):
        status, _ = await mock.call("POST", "/__mock/presets", key=None, json=preset)
        assert status == 201
    status, body = await mock.call("POST", "/__mock/presets", key=None, json=preset)
    assert status == 409 and body["status"] == 409 and "2 presets" in body["error"]


@pytest.mark.parametrize(
    "limits",
    [
        "{max_tasks: 0}",
        "{max_tenants: -1}",
        "{tenant_idle_ttl: -1}",
        "{history_per_tenant: 0}",
        "{violations_kept: 1.5}",
    ],
)
async def test_bad_limits_are_refused(limits):
    from mockserver.scenario import ScenarioError, parse_text

    with pytest.raises(ScenarioError) as err:
        parse_text(f"limits: {limits}\n")
    assert "limits." in str(err.value)


async def test_eviction_takes_the_uploads_the_task_named(make_mock):
    """A task past its retention goes with the files it named; a file no task names stays."""
    mock = await make_mock(
        "providers: {youcam: {rate_limits: [], settings: {task_retention: 100}}}"
    )
    spec = {"content_type": "image/jpeg", "file_name": "f.jpg", "file_size": 4}
    files = []
    for _ in range(2):
        _, answer = await mock.call("POST", "/s2s/v2.0/file/ai-avatar", json={"files": [spec]})
        file = answer["data"]["files"][0]
        put = await mock.client.put(
            mock.local(file["requests"][0]["url"]),
            data=b"\xff\xd8\xff\xe0",
            headers=file["requests"][0]["headers"],
        )
        assert put.status == 200
        files.append(file["file_id"])
    body = {"template_id": "female_manga_mood", "output_count": 4, "src_file_id": files[0]}
    status, _ = await mock.call("POST", "/s2s/v2.0/task/ai-avatar", json=body)
    assert status == 200
    mock.advance(101)
    mock.state.retention.sweep(mock.clock.now(), 100)
    now = mock.clock.now()
    assert mock.state.uploads.get("youcam", "sk-test", files[0], now) is None
    assert mock.state.uploads.get("youcam", "sk-test", files[1], now) is not None
    assert mock.state.uploads.holds("sk-test")
