"""A2E account and accounting: exchangeDiamond, user/add, tos/transferToStorage,
transactionRecord/creditsHistory and generation/quote; balances after every charging call."""

from __future__ import annotations

import pytest

from tests.test_a2e import (
    FACESWAP,
    HEX24,
    IMAGE2VIDEO,
    ISO_MS,
    VIDEO,
    assert_refusal,
    data_of,
    download,
)

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

COINS = "/api/v1/user/remainingCoins"
EXCHANGE = "/api/v1/user/exchangeDiamond"
ADD_USER = "/api/v1/user/add"
STORAGE = "/api/v1/tos/transferToStorage"
HISTORY = "/api/v1/transactionRecord/creditsHistory"
QUOTE = "/api/v1/generation/quote"
GENERATE = "/api/v1/video/generate"
I2V_START = "/api/v1/userImage2Video/start"
FS_ADD = "/api/v1/userFaceSwapTask/add"
START_TWIN = "/api/v1/userVideoTwin/startTraining"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def balances(mock, key="sk-test"):
    return data_of(*await mock.call("GET", COINS, key=key))


async def history(mock, key="sk-test", **params):
    return data_of(*await mock.call("GET", HISTORY, key=key, params=params))


# --- exchangeDiamond ---------------------------------------------------------------------


async def test_exchange_diamond_converts_coins_at_the_scenario_rate(api):
    answer = data_of(*await api.call("POST", EXCHANGE, json={"diamonds": 3}))
    assert answer == {"coins": 10000 - 300, "diamonds": 13}
    assert await balances(api) == answer


async def test_exchange_diamond_refuses_too_few_coins_and_bad_amounts(make_mock):
    mock = await make_mock(
        "balances: {coins: 150}\nproviders: {a2e: {costs: {diamond_coins: 50}}}",
        providers=("a2e",),
    )
    data_of(*await mock.call("POST", EXCHANGE, json={"diamonds": 2}))
    assert await balances(mock) == {"coins": 50, "diamonds": 12}
    msg = assert_refusal(*await mock.call("POST", EXCHANGE, json={"diamonds": 2}), 200, 1002)
    assert "coins" in msg
    for bad in ({}, {"diamonds": 0}, {"diamonds": 1.5}, {"diamonds": "1"}):
        assert_refusal(*await mock.call("POST", EXCHANGE, json=bad), 400, 400)
    assert_refusal(*await mock.call("POST", EXCHANGE, json={"diamonds": 1}, key=None), 401, 401)
    assert await balances(mock) == {"coins": 50, "diamonds": 12}


# --- user/add ----------------------------------------------------------------------------


async def test_add_user_answers_the_user_without_its_password(api):
    body = {"username": "alice", "password": "s3cret", "email": "a@example.com"}
    user = data_of(*await api.call("POST", ADD_USER, json=body))
    assert set(user) == {"_id", "username", "email", "createdAt"}
    assert HEX24.match(user["_id"]) and ISO_MS.match(user["createdAt"])
    assert user["username"] == "alice" and user["email"] == "a@example.com"
    assert_refusal(*await api.call("POST", ADD_USER, json=body), 400, 400)  # taken
    data_of(*await api.call("POST", ADD_USER, key="sk-other", json=body))  # another account


async def test_add_user_refuses_bad_input(api):
    assert_refusal(*await api.call("POST", ADD_USER, json={"password": "x"}), 400, 400)
    assert_refusal(*await api.call("POST", ADD_USER, json={"username": ""}), 400, 400)
    assert_refusal(*await api.call("POST", ADD_USER, json={"username": "b"}, key=None), 401, 401)


# --- tos/transferToStorage ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "ctype"),
    [
        ("https://example.com/a/clip.MP4?sig=1", "video/mp4"),
        ("https://example.com/voice.mp3", "audio/mpeg"),
        ("https://example.com/face.png", "image/png"),
        ("https://example.com/face.jpeg", "image/jpeg"),
        ("https://example.com/no-suffix", "video/mp4"),
    ],
)
async def test_transfer_to_storage_answers_a_stable_url_on_the_mock(api, source, ctype):
    url = data_of(*await api.call("POST", STORAGE, json={"url": source}))["url"]
    api.advance(365 * 24 * 3600)
    status, content_type, payload = await download(api, url)
    assert status == 200 and content_type == ctype and payload


async def test_transfer_of_a_mock_link_copies_its_bytes_and_an_expired_one_fails(api):
    video_id = data_of(*await api.call("POST", GENERATE, json=VIDEO))["_id"]
    api.advance(30)
    rows = data_of(*await api.call("POST", "/api/v1/video/awsResult", json={"_id": video_id}))
    source = rows[0]["result_bg_url"]
    copy = data_of(*await api.call("POST", STORAGE, json={"url": source}))["url"]
    assert (await download(api, copy))[2] == (await download(api, source))[2]
    api.advance(4 * 24 * 3600)  # past result_url_ttl: the source link is dead
    assert_refusal(*await api.call("POST", STORAGE, json={"url": source}), 400, 400)
    assert (await download(api, copy))[0] == 200


async def test_transfer_to_storage_refuses_bad_input(api):
    assert_refusal(*await api.call("POST", STORAGE, json={}), 400, 400)
    assert_refusal(*await api.call("POST", STORAGE, json={"url": "u"}, key=None), 401, 401)


# --- creditsHistory ----------------------------------------------------------------------


async def test_credits_history_records_every_charge_and_refund_and_agrees_with_balance(api):
    await api.call("POST", GENERATE, json=VIDEO)  # -10
    api.advance(1)
    await api.call("POST", GENERATE, json=VIDEO, headers={"X-Mock-Outcome": "failure"})  # -10
    api.advance(1)
    await api.call("POST", EXCHANGE, json={"diamonds": 1})  # -100 coins, +1 diamond
    image = {"name": "pic", "image_url": "https://example.com/p.png"}
    await api.call("POST", START_TWIN, json=image)  # -1 diamond
    page = await history(api)
    assert [(r["currency"], r["amount"]) for r in page["rows"]] == [
        ("diamonds", -1), ("diamonds", 1), ("coins", -100), ("coins", -10), ("coins", -10),
    ]  # fmt: skip
    assert page["count"] == 5
    api.advance(60)  # the failed video is refunded when it fails
    page = await history(api)
    assert page["count"] == 6
    newest = max(page["rows"], key=lambda r: r["createdAt"])
    assert newest["amount"] == 10 and newest["reason"] == "video refund"
    assert newest["task_id"] is not None
    now = await balances(api)
    for currency in ("coins", "diamonds"):
        rows = [r for r in page["rows"] if r["currency"] == currency]
        latest = max(rows, key=lambda r: r["createdAt"])
        assert latest["balance"] == now[currency]
    assert now == {"coins": 10000 - 110, "diamonds": 10}
    assert all(HEX24.match(r["_id"]) and ISO_MS.match(r["createdAt"]) for r in page["rows"])
    again = await history(api)
    assert again == page  # ids are stable


async def test_credits_history_pages_filters_and_stays_private(api):
    for _ in range(3):
        await api.call("POST", GENERATE, json=VIDEO)
        api.advance(3600)
    await api.call("POST", GENERATE, json=VIDEO, headers={"X-Mock-Outcome": "failure"})
    api.advance(60)
    everything = await history(api)
    assert everything["count"] == 5
    first = await history(api, pageNum=1, pageSize=2)
    second = await history(api, pageNum=2, pageSize=2)
    assert first["rows"] + second["rows"] == everything["rows"][:4]
    spent = await history(api, is_consumption="true")
    assert spent["count"] == 4 and all(r["amount"] < 0 for r in spent["rows"])
    refunds = await history(api, is_consumption="0")
    assert refunds["count"] == 1 and refunds["rows"][0]["amount"] == 10
    day = everything["rows"][-1]["createdAt"][:10]
    assert (await history(api, startDate=day, endDate=day))["count"] >= 1
    later = everything["rows"][0]["createdAt"]
    assert (await history(api, startDate=later))["count"] == 1
    assert (await history(api, endDate="2000-01-01"))["count"] == 0
    assert (await history(api, key="sk-other"))["count"] == 0


async def test_credits_history_refuses_bad_filters(api):
    assert_refusal(*await api.call("GET", HISTORY, params={"startDate": "yesterday"}), 400, 400)
    assert_refusal(*await api.call("GET", HISTORY, params={"is_consumption": "maybe"}), 400, 400)
    assert_refusal(*await api.call("GET", HISTORY, params={"pageNum": "0"}), 400, 400)
    assert_refusal(*await api.call("GET", HISTORY, key=None), 401, 401)


# --- generation/quote --------------------------------------------------------------------


async def test_quote_prices_like_the_charge_and_charges_nothing(api):
    cases = [
        ("video/generate", VIDEO, 10, 0),
        ("/api/v1/userImage2Video/start", {**IMAGE2VIDEO, "video_time": 15}, 300, 0),
        ("/userFaceSwapTask/add", FACESWAP, 10, 0),
        ("userVideoTwin/startTraining", {"name": "p", "image_url": "https://e.com/p.png"}, 0, 1),
        ("userVideoTwin/startTraining", {"name": "v", "video_url": "https://e.com/v.mp4"}, 0, 0),
        ("userVideoTwin/continueTranining", {"_id": "x"}, 0, 1),
        ("user/exchangeDiamond", {"diamonds": 2}, 200, 0),
        ("userVoice/training", {}, 0, 0),
    ]
    for endpoint, request, coins, diamonds in cases:
        body = {"endpoint": endpoint, "requestBody": request}
        quote = data_of(*await api.call("POST", QUOTE, json=body))
        assert (quote["coins"], quote["diamonds"]) == (coins, diamonds), endpoint
        assert quote["endpoint"] == endpoint.removeprefix("/api/v1/").lstrip("/")
    assert await balances(api) == {"coins": 10000, "diamonds": 10}
    assert (await history(api))["count"] == 0
    status, body = await api.call("POST", I2V_START, json={**IMAGE2VIDEO, "video_time": 15})
    assert data_of(status, body)["coins"] == 300
    assert (await balances(api))["coins"] == 10000 - 300


async def test_quote_takes_a_leading_post_and_says_only_pricing_was_checked(api):
    body = {"endpoint": "POST /api/v1/userImage2Video/start", "requestBody": IMAGE2VIDEO}
    quote = data_of(*await api.call("POST", QUOTE, json=body))
    assert quote["endpoint"] == "userImage2Video/start" and quote["coins"] > 0
    assert quote["generationRequestValidated"] is False


async def test_quote_follows_the_scenario_costs(make_mock):
    mock = await make_mock("providers: {a2e: {costs: {faceswap: 7}}}", providers=("a2e",))
    body = {"endpoint": "userFaceSwapTask/add", "requestBody": FACESWAP}
    assert data_of(*await mock.call("POST", QUOTE, json=body))["coins"] == 7
    data_of(*await mock.call("POST", FS_ADD, json=FACESWAP))
    assert (await balances(mock))["coins"] == 10000 - 7


async def test_quote_refuses_unknown_endpoints_and_bad_bodies(api):
    for body in (
        {"endpoint": "video/awsList"},
        {"endpoint": "nothing/here", "requestBody": {}},
        {"endpoint": "userImage2Video/start", "requestBody": {"video_time": 7}},
        {"requestBody": {}},
        {"endpoint": "video/generate", "requestBody": []},
    ):
        assert_refusal(*await api.call("POST", QUOTE, json=body), 400, 400)
    assert_refusal(*await api.call("POST", QUOTE, json={"endpoint": "x"}, key=None), 401, 401)
