"""A2E streaming avatar sessions: coins held for the duration, a live channel of the caller
for qa context, ask and speak, leave refunds the unused time, expiry, and host capacity."""

from __future__ import annotations

import pytest

from tests.test_a2e import assert_refusal, coins, data_of

B = "/api/v1/streaming-avatar"
AVATAR = "63de16f26c6193fa4ca7a486"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def open_session(mock, key="sk-test", seconds=300):
    body = {"avatar_id": AVATAR, "expire_seconds": seconds}
    return data_of(*await mock.call("POST", f"{B}/agora-token", key=key, json=body))


async def test_all_avatars_lists_the_streaming_avatars(api):
    avatars = data_of(*await api.call("GET", f"{B}/all_avatars"))
    assert AVATAR in {a["_id"] for a in avatars}
    assert_refusal(*await api.call("GET", f"{B}/all_avatars", key=None), 401, 401)


async def test_token_answers_the_agora_parameters_and_holds_coins_for_the_duration(api):
    session = await open_session(api, seconds=150)  # 3 started minutes at 10 coins
    assert set(session) == {"appId", "channel", "token", "uid"}
    assert len(session["appId"]) == 32 and session["token"] and session["uid"] > 0
    assert await coins(api) == 10000 - 30
    other = await open_session(api)
    assert other["channel"] != session["channel"] and other["appId"] == session["appId"]
    assert await coins(api) == 10000 - 30 - 50


async def test_qa_context_ask_and_speak_on_a_live_channel(api):
    channel = (await open_session(api))["channel"]
    get = await api.call("GET", f"{B}/get-qa-context", params={"channel": channel})
    assert data_of(*get) == {"text": ""}
    text = "We sell umbrellas. " * 10
    body = {"channel": channel, "text": text}
    assert data_of(*await api.call("POST", f"{B}/set-qa-context", json=body)) == {}
    get = await api.call("GET", f"{B}/get-qa-context", params={"channel": channel})
    assert data_of(*get) == {"text": text}
    for verb in ("ask", "speak"):
        answer = await api.call("POST", f"{B}/{verb}", json={"channel": channel, "text": "hi"})
        assert data_of(*answer) == {}


async def test_qa_context_is_at_most_5000_characters(api):
    channel = (await open_session(api))["channel"]
    ok_body = {"channel": channel, "text": "x" * 5000}
    data_of(*await api.call("POST", f"{B}/set-qa-context", json=ok_body))
    too_long = {"channel": channel, "text": "x" * 5001}
    assert_refusal(*await api.call("POST", f"{B}/set-qa-context", json=too_long), 400, 400)


async def test_a_channel_of_another_tenant_or_unknown_is_refused(api):
    channel = (await open_session(api, key="sk-other"))["channel"]
    for verb in ("set-qa-context", "ask", "speak"):
        body = {"channel": channel, "text": "hi"}
        assert_refusal(*await api.call("POST", f"{B}/{verb}", json=body), 404, 404)
    assert_refusal(*await api.call("POST", f"{B}/leave", json={"channel": channel}), 404, 404)
    get = await api.call("GET", f"{B}/get-qa-context", params={"channel": "nope"})
    assert_refusal(*get, 404, 404)
    assert_refusal(*await api.call("POST", f"{B}/ask", json={"channel": channel}), 400, 400)
    for verb in ("set-qa-context", "ask", "speak", "leave"):
        body = {"channel": channel, "text": "hi"}
        assert_refusal(*await api.call("POST", f"{B}/{verb}", key=None, json=body), 401, 401)


async def test_leave_ends_the_session_and_refunds_whole_unused_minutes(api):
    channel = (await open_session(api, seconds=600))["channel"]  # 100 coins
    api.advance(130)  # 470 s unused: 7 whole minutes
    assert data_of(*await api.call("POST", f"{B}/leave", json={"channel": channel})) == {}
    assert await coins(api) == 10000 - 100 + 70
    assert_refusal(
        *await api.call("POST", f"{B}/ask", json={"channel": channel, "text": "x"}), 404, 404
    )
    assert_refusal(*await api.call("POST", f"{B}/leave", json={"channel": channel}), 404, 404)
    assert await coins(api) == 10000 - 30


async def test_an_expired_session_is_gone_and_not_refunded(api):
    channel = (await open_session(api, seconds=60))["channel"]
    api.advance(59)
    data_of(*await api.call("POST", f"{B}/speak", json={"channel": channel, "text": "x"}))
    api.advance(1)
    assert_refusal(
        *await api.call("POST", f"{B}/speak", json={"channel": channel, "text": "x"}), 404, 404
    )
    assert_refusal(*await api.call("POST", f"{B}/leave", json={"channel": channel}), 404, 404)
    assert await coins(api) == 10000 - 10


async def test_capacity_answers_1001_hosts_are_occupied_until_a_host_frees_up(make_mock):
    mock = await make_mock(
        "providers: {a2e: {settings: {streaming_capacity: 2}}}", providers=("a2e",)
    )
    first = await open_session(mock)
    await open_session(mock, key="sk-other", seconds=60)
    status, body = await mock.call("POST", f"{B}/agora-token", json={"avatar_id": AVATAR})
    assert "hosts are occupied" in assert_refusal(status, body, 200, 1001)
    assert await coins(mock) == 10000 - 50  # the refused one cost nothing
    await mock.call("POST", f"{B}/leave", json={"channel": first["channel"]})
    await open_session(mock)
    mock.advance(60)  # sk-other's session expires
    await open_session(mock)


async def test_token_refuses_bad_input_and_too_few_coins(make_mock):
    mock = await make_mock("balances: {coins: 40}", providers=("a2e",))
    for bad in ({}, {"avatar_id": "f" * 24}, {"avatar_id": AVATAR, "expire_seconds": 5}):
        assert_refusal(*await mock.call("POST", f"{B}/agora-token", json=bad), 400, 400)
    body = {"avatar_id": AVATAR, "expire_seconds": 300}
    assert_refusal(*await mock.call("POST", f"{B}/agora-token", json=body), 200, 1002)
    assert await coins(mock) == 40
    assert_refusal(*await mock.call("POST", f"{B}/agora-token", key=None, json=body), 401, 401)
    get = await mock.call("GET", f"{B}/get-qa-context", key=None, params={"channel": "c"})
    assert_refusal(*get, 401, 401)
