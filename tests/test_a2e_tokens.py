"""A2E login and API tokens: a token acts for its account until it is deleted."""

from __future__ import annotations

import pytest

from tests.test_a2e import HEX24, VIDEO, assert_refusal, data_of

LOGIN = "/api/login/account"
LOGIN_V1 = "/api/v1/login/account"
GENERATE_TOKEN = "/api/v1/token/generate"
LIST = "/api/v1/token/list"
DELETE = "/api/v1/token/delete"
COINS = "/api/v1/user/remainingCoins"
GENERATE = "/api/v1/video/generate"
AWS_LIST = "/api/v1/video/awsList"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def login(mock, path=LOGIN, **body):
    creds = body or {"username": "sk-test", "password": "pw"}
    return data_of(*await mock.call("POST", path, key=None, json=creds))


@pytest.mark.parametrize("path", [LOGIN, LOGIN_V1])
async def test_login_needs_no_bearer_and_its_token_acts_for_the_account(api, path):
    data_of(*await api.call("POST", GENERATE, json=VIDEO))  # sk-test spends 10 coins
    answer = await login(api, path)
    assert HEX24.match(answer["_id"]) and answer["token"].startswith("sk_")
    balances = data_of(*await api.call("GET", COINS, key=answer["token"]))
    assert balances["coins"] == 10000 - 10
    assert data_of(*await api.call("GET", AWS_LIST, key=answer["token"]))["total"] == 1
    by_email = await login(api, path, email="sk-test", password="pw")
    assert by_email["token"] != answer["token"]


async def test_login_refuses_bad_bodies_and_unlisted_accounts(make_mock):
    mock = await make_mock("auth: {mode: listed, tenants: {sk_known: {}}}", providers=("a2e",))
    assert_refusal(*await mock.call("POST", LOGIN, key=None, json={"password": "x"}), 400, 400)
    assert_refusal(*await mock.call("POST", LOGIN, key=None, json={"username": "a"}), 400, 400)
    unknown = {"username": "stranger", "password": "x"}
    assert_refusal(*await mock.call("POST", LOGIN_V1, key=None, json=unknown), 401, 401)
    data_of(
        *await mock.call("POST", LOGIN, key=None, json={"username": "sk_known", "password": "x"})
    )


async def test_generated_tokens_share_the_account_and_are_listed_masked(api):
    login_token = (await login(api))["token"]
    made = data_of(*await api.call("POST", GENERATE_TOKEN, key=login_token, json={"alias": "ci"}))
    assert HEX24.match(made["_id"]) and made["token"].startswith("sk_")
    data_of(*await api.call("POST", GENERATE, key=made["token"], json=VIDEO))
    assert data_of(*await api.call("GET", COINS))["coins"] == 10000 - 10
    listed = data_of(*await api.call("GET", LIST))
    assert [t["alias"] for t in listed] == ["ci", "login"]
    assert listed[0]["_id"] == made["_id"] and made["token"] not in str(listed)
    assert listed[0]["token"].startswith(made["token"][:7]) and listed[0]["token"].endswith(
        made["token"][-4:]
    )
    assert data_of(*await api.call("GET", LIST, key="sk-other")) == []


async def test_a_deleted_token_no_longer_authenticates(api):
    made = data_of(*await api.call("POST", GENERATE_TOKEN, json={"alias": "temp"}))
    data_of(*await api.call("GET", COINS, key=made["token"]))
    assert data_of(*await api.call("POST", DELETE, json={"_id": made["_id"]})) == {}
    assert_refusal(*await api.call("GET", COINS, key=made["token"]), 401, 401)
    assert_refusal(*await api.call("POST", DELETE, json={"_id": made["_id"]}), 404, 404)
    assert data_of(*await api.call("GET", LIST)) == []
    data_of(*await api.call("GET", COINS))  # the account's own key still works


async def test_token_endpoints_refuse_bad_input_foreign_ids_and_missing_tokens(api):
    assert_refusal(*await api.call("POST", GENERATE_TOKEN, json={}), 400, 400)
    assert_refusal(*await api.call("POST", DELETE, json={}), 400, 400)
    theirs = data_of(*await api.call("POST", GENERATE_TOKEN, key="sk-other", json={"alias": "x"}))
    assert_refusal(*await api.call("POST", DELETE, json={"_id": theirs["_id"]}), 404, 404)
    data_of(*await api.call("GET", COINS, key=theirs["token"]))
    assert_refusal(*await api.call("GET", LIST, key=None), 401, 401)
    assert_refusal(*await api.call("POST", GENERATE_TOKEN, key=None, json={"alias": "x"}), 401, 401)
    assert_refusal(*await api.call("POST", DELETE, key=None, json={"_id": "x"}), 401, 401)
