"""YouCam v1 ``POST /s2s/v1.0/client/auth``: an RSA PKCS#1 v1.5 id_token for an access token
that works as the Bearer on v1 and v2 endpoints for two hours on the mock clock. The id_token's
timestamp is the client's wall clock, checked against the wall clock."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from mockserver.resources import fixtures_dir
from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS

AUTH = "/s2s/v1.0/client/auth"
CREDIT = "/s2s/v1.0/client/credit"


def id_token(
    client_id: str, ms: int | None = None, key: str = "youcam_test", text: str | None = None
) -> str:
    """What a client sends: base64(RSA-PKCS#1-v1.5(client_id=...&timestamp=<ms>))."""
    pem = (fixtures_dir() / "keys" / f"{key}_public.pem").read_bytes()
    public = serialization.load_pem_public_key(pem)
    stamp = wall_ms() if ms is None else ms
    plain = text if text is not None else f"client_id={client_id}&timestamp={stamp}"
    return base64.b64encode(public.encrypt(plain.encode(), padding.PKCS1v15())).decode()


def wall_ms(offset_s: float = 0) -> int:
    """What a real client stamps its id_token with: its own clock, in epoch milliseconds."""
    return int((time.time() + offset_s) * 1000)


async def exchange(mock, client_id="sk-client", **kwargs):
    body = {"client_id": client_id, "id_token": id_token(client_id, **kwargs)}
    return await mock.call("POST", AUTH, key=None, json=body)


async def token(mock, client_id="sk-client") -> str:
    status, answer = await exchange(mock, client_id)
    assert status == 200, answer
    assert set(answer) == {"status", "result"} and answer["status"] == 200
    return answer["result"]["access_token"]


async def test_token_works_on_v2_and_v1_endpoints_as_the_client(mock):
    access = await token(mock)
    status, answer = await mock.call("POST", RUN, key=access, json=GOOD)
    assert status == 200
    task_id = answer["data"]["task_id"]
    assert (await mock.call("GET", STATUS.format(task_id), key=access))[0] == 200
    # the task belongs to the client's own tenant: its client_id as a Bearer is another tenant
    assert (await mock.call("GET", STATUS.format(task_id), key="sk-client"))[0] == 400
    status, answer = await mock.call("GET", CREDIT, key=access)
    assert status == 200 and answer["results"]


async def test_token_lasts_two_hours_on_the_clock_then_is_invalid(mock):
    access = await token(mock)
    mock.advance(7199)
    assert (await mock.call("GET", CREDIT, key=access))[0] == 200
    mock.advance(2)
    for method, path, body in (("GET", CREDIT, None), ("POST", RUN, GOOD)):
        status, answer = await mock.call(method, path, key=access, json=body)
        assert (status, answer["error_code"]) == (401, "InvalidAccessToken")
    assert (await mock.call("GET", CREDIT, key=await token(mock)))[0] == 200  # a fresh one works


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"ms": -600}, "InvalidAccessToken"),  # stale: ten minutes behind the wall clock
        ({"ms": 600}, "InvalidAccessToken"),  # from the future
        ({"seconds": True}, "InvalidAccessToken"),  # seconds, not milliseconds
        ({"key": "youcam_other"}, "InvalidAccessToken"),  # encrypted with the wrong key
        ({"text": "client_id=sk-someone-else&timestamp=0"}, "InvalidAccessToken"),
        ({"text": '{"client_id": "sk-client"}'}, "InvalidAccessToken"),  # JSON is not the format
    ],
)
async def test_bad_id_tokens_are_refused(mock, kwargs, code):
    if "ms" in kwargs:
        kwargs = {"ms": wall_ms(kwargs["ms"])}
    elif kwargs.pop("seconds", False):
        kwargs["ms"] = int(time.time())
    status, answer = await exchange(mock, **kwargs)
    assert (status, answer["error_code"], answer["status"]) == (401, code, 401)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"client_id": "sk-client", "id_token": "%%% not base64"}, 401, "InvalidAccessToken"),
        ({"client_id": "sk-client"}, 400, "InvalidParameters"),
        ({"id_token": "abc"}, 400, "InvalidParameters"),
        ({"client_id": 5, "id_token": "abc"}, 400, "InvalidParameters"),
    ],
)
async def test_malformed_requests(mock, body, status, code):
    got, answer = await mock.call("POST", AUTH, key=None, json=body)
    assert (got, answer["error_code"]) == (status, code)


async def test_unknown_client_is_refused_when_keys_are_listed(make_mock):
    mock = await make_mock("auth: {mode: listed, tenants: {sk-known: {units: 5}}}")
    assert (await exchange(mock, "sk-known"))[0] == 200
    status, answer = await exchange(mock, "sk-stranger")
    assert (status, answer["error_code"]) == (401, "InvalidApiKey")


async def test_the_scenario_names_each_clients_key_pair(make_mock):
    mock = await make_mock(
        "providers: {youcam: {settings: {v1_auth:"
        " {default_key: null, clients: {sk-a: youcam_other}}}}}"
    )
    assert (await exchange(mock, "sk-a", key="youcam_other"))[0] == 200
    assert (await exchange(mock, "sk-a"))[1]["error_code"] == "InvalidAccessToken"
    assert (await exchange(mock, "sk-b"))[1]["error_code"] == "InvalidApiKey"  # no key for it


async def test_token_lifetime_and_clock_tolerance_are_configurable(make_mock):
    mock = await make_mock(
        "providers: {youcam: {settings: {v1_auth: {token_ttl: 60, timestamp_tolerance: 5}}}}"
    )
    assert (await exchange(mock, ms=wall_ms(-6)))[0] == 401
    access = await token(mock)
    mock.advance(61)
    assert (await mock.call("GET", CREDIT, key=access))[0] == 401


async def test_v1_endpoints_without_a_valid_bearer_speak_of_access_tokens(mock):
    for headers in ({}, {"Authorization": "Bearer"}):
        resp = await mock.client.get(CREDIT, headers=headers)
        assert resp.status == 401
        assert await resp.json() == {
            "status": 401,
            "error": "Unauthorized",
            "error_code": "InvalidAccessToken",
        }
    # the API key itself is accepted on the credit endpoints too
    assert (await mock.call("GET", CREDIT, key="sk-test"))[0] == 200


async def test_the_id_token_is_checked_against_the_wall_clock_not_the_mock_clock(mock):
    """A real client stamps its id_token with its own clock; moving the mock clock (or running it
    at --speed) must not lock every v1 client out, and a reset must not be needed to mend it."""
    mock.advance(600)  # the virtual clock is now ten minutes ahead of the wall clock
    assert (await exchange(mock))[0] == 200
    status, answer = await exchange(mock, ms=int(mock.clock.now() * 1000))  # mock time: refused
    assert (status, answer["error_code"]) == (401, "InvalidAccessToken")
    mock.advance(86400 * 30)
    status, answer = await exchange(mock)
    assert status == 200, answer
    # the token it buys still expires on the mock clock
    access = answer["result"]["access_token"]
    mock.advance(7201)
    assert (await mock.call("GET", CREDIT, key=access))[0] == 401
