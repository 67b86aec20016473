"""A2E's issued tokens, R2 credentials and streaming sessions are the fleet's: two replicas on
one store answer alike, and a restart keeps them (each one a record of its store)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockserver.providers.a2e.stores import ApiTokens, R2Credentials, StreamingSessions
from tests.conftest import replicas, start_mock
from tests.test_a2e import assert_refusal, coins, data_of
from tests.test_a2e_r2_upload import presign
from tests.test_a2e_streaming import AVATAR, B
from tests.test_a2e_tokens import COINS, DELETE, GENERATE_TOKEN, LIST, login
from tests.test_youcam_result_files import advance

A2E = ("a2e",)
SECRET = "a2e-fleet-secret-0123456789"  # replicas that verify each other's URLs share one


def path_of(url: str) -> str:
    """A URL one replica handed out, as a path any replica's client can request."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def test_a_token_issued_through_one_replica_acts_for_its_account_through_the_other(
    store_url: str,
) -> None:
    async with replicas(store_url, providers=A2E, secret=SECRET) as (a, b):
        data_of(*await a.call("POST", f"{B}/agora-token", json={"avatar_id": AVATAR}))
        spent = await coins(a)  # sk-test's coins, spent below 10000
        login_token = (await login(a))["token"]
        made = data_of(*await a.call("POST", GENERATE_TOKEN, key=login_token, json={"alias": "ci"}))
        # through B both tokens are sk-test's: its coins and its token list
        for token in (login_token, made["token"]):
            assert data_of(*await b.call("GET", COINS, key=token))["coins"] == spent
        listed = data_of(*await b.call("GET", LIST, key=made["token"]))
        assert [t["alias"] for t in listed] == ["ci", "login"]
        # another account's token acts for that account only, on either replica
        theirs = (await login(b, username="sk-other", password="pw"))["token"]
        for mock in (a, b):
            assert data_of(*await mock.call("GET", COINS, key=theirs))["coins"] == 10000
            assert [t["alias"] for t in data_of(*await mock.call("GET", LIST, key=theirs))] == [
                "login"
            ]
            foreign = await mock.call("POST", DELETE, key=theirs, json={"_id": made["_id"]})
            assert_refusal(*foreign, 404, 404)
        # deleted through B: refused through A (not taken for a key of its own)
        data_of(*await b.call("POST", DELETE, key=login_token, json={"_id": made["_id"]}))
        for mock in (a, b):
            assert_refusal(*await mock.call("GET", COINS, key=made["token"]), 401, 401)
            assert [t["alias"] for t in data_of(*await mock.call("GET", LIST))] == ["login"]
    again, client = await start_mock(None, state=store_url, providers=A2E, secret=SECRET)
    try:  # a restart keeps the live token and the refusal of the deleted one
        assert data_of(*await again.call("GET", COINS, key=login_token))["coins"] == spent
        assert_refusal(*await again.call("GET", COINS, key=made["token"]), 401, 401)
    finally:
        await client.close()


async def test_an_upload_url_made_through_one_replica_takes_the_upload_through_the_other(
    store_url: str,
) -> None:
    async with replicas(store_url, providers=A2E, secret=SECRET) as (a, b):
        answer = await presign(a, contentType="image/png")
        resp = await b.client.put(
            path_of(answer["uploadUrl"]), data=b"\x89PNG", headers={"Content-Type": "image/png"}
        )
        assert resp.status == 200, await resp.text()
        for mock in (a, b):  # the object is sk-test's, public at its CDN URL on both
            got = await mock.client.get(path_of(answer["cdnUrl"]))
            assert got.status == 200 and await got.read() == b"\x89PNG"
    again, client = await start_mock(None, state=store_url, providers=A2E, secret=SECRET)
    try:
        resp = await again.client.put(
            path_of(answer["uploadUrl"]), data=b"again", headers={"Content-Type": "image/png"}
        )
        assert resp.status == 200, await resp.text()
    finally:
        await client.close()


async def test_a_streaming_session_started_through_one_replica_is_seen_and_ended_through_the_other(
    store_url: str,
) -> None:
    async with replicas(store_url, providers=A2E, secret=SECRET) as (a, b):
        body = {"avatar_id": AVATAR, "expire_seconds": 600}  # 100 coins held
        channel = data_of(*await a.call("POST", f"{B}/agora-token", json=body))["channel"]
        text = {"channel": channel, "text": "We sell umbrellas."}
        assert data_of(*await b.call("POST", f"{B}/set-qa-context", json=text)) == {}
        get = await a.call("GET", f"{B}/get-qa-context", params={"channel": channel})
        assert data_of(*get) == {"text": "We sell umbrellas."}
        # another tenant's channel is unknown to it on either replica
        for mock in (a, b):
            ask = {"channel": channel, "text": "hi"}
            assert_refusal(*await mock.call("POST", f"{B}/ask", key="sk-other", json=ask), 404, 404)
        await advance(a, 130)  # one clock: 470 s unused, 7 whole minutes refunded
        assert data_of(*await b.call("POST", f"{B}/leave", json={"channel": channel})) == {}
        assert await coins(a) == 10000 - 100 + 70
        for mock in (a, b):  # ended: gone on both
            ask = {"channel": channel, "text": "hi"}
            assert_refusal(*await mock.call("POST", f"{B}/ask", json=ask), 404, 404)


async def test_with_the_memory_backend_the_stores_note_no_changes(make_mock: Any) -> None:
    """Nobody writes the notes there: kept, they would grow with every token ever issued."""
    mock = await make_mock(None, providers=A2E)
    await login(mock)
    await presign(mock)
    data_of(*await mock.call("POST", f"{B}/agora-token", json={"avatar_id": AVATAR}))
    for store in (ApiTokens, R2Credentials, StreamingSessions):
        assert len(store.of(mock.state)) == 1 and not store.of(mock.state).changed
