"""YouCam's v1 access tokens and unit lots are the fleet's: two replicas on one store answer
alike, and a restart keeps them (each one a record of its store, like the result files)."""

from __future__ import annotations

from typing import Any

from mockserver.providers.youcam.stores import FileStore, TokenStore, UnitStore
from mockserver.scenario import parse_text
from tests.conftest import start_mock
from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS
from tests.test_youcam_result_files import NO_LIMITS, advance
from tests.test_youcam_units import CREDIT, history, lots, succeed
from tests.test_youcam_v1_auth import token

TTL = 7200  # the default token_ttl: two hours on the clock


async def test_a_v1_token_issued_through_one_replica_works_through_the_other(
    store_url: str,
) -> None:
    a, client_a = await start_mock(parse_text(NO_LIMITS), state=store_url)
    b, client_b = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        access = await token(a)
        other = await token(b, client_id="sk-other")
        status, answer = await a.call("POST", RUN, key=access, json=GOOD)
        assert status == 200, answer
        task = STATUS.format(answer["data"]["task_id"])
        # through B the token acts for its client too (not as a key of its own)
        assert (await b.call("GET", task, key=access))[0] == 200
        # each token is its own client's: the other client's never reads the task
        for mock in (a, b):
            assert (await mock.call("GET", task, key=other))[0] == 400
        # expired on the fleet's clock: refused on both, in YouCam's words
        await advance(b, TTL + 1)
        for mock in (a, b):
            status, answer = await mock.call("GET", CREDIT, key=access)
            assert (status, answer["error_code"]) == (401, "InvalidAccessToken")
    finally:
        await client_a.close()
        await client_b.close()


async def test_a_v1_token_outlives_a_restart_until_it_expires(
    store_url: str,
) -> None:
    a, client_a = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        access = await token(a)
        status, answer = await a.call("POST", RUN, key=access, json=GOOD)
        assert status == 200, answer
    finally:
        await client_a.close()
    again, client = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        assert len(TokenStore.of(again.state)) == 1
        task = STATUS.format(answer["data"]["task_id"])
        assert (await again.call("GET", task, key=access))[0] == 200  # still its client's
        await advance(again, TTL)
        status, answer = await again.call("GET", CREDIT, key=access)
        assert (status, answer["error_code"]) == (401, "InvalidAccessToken")
    finally:
        await client.close()


async def test_unit_lots_read_and_spent_through_either_replica_are_the_same(
    store_url: str,
) -> None:
    a, client_a = await start_mock(parse_text(NO_LIMITS), state=store_url)
    b, client_b = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        first = await lots(a)  # drawn through A: ids and expiry dates
        assert await lots(b) == first
        await succeed(b, "sod")  # spent through B
        spent = await lots(b)
        assert spent != first and await lots(a) == spent
        seen = [await history(mock) for mock in (a, b)]
        assert seen[0] == seen[1] and seen[0][0]["action"] == "api_background_removal"
        # another key's lots are its own, on either replica
        assert [lot["id"] for lot in await lots(a, key="sk-other")] != [f["id"] for f in first]
        assert await lots(b, key="sk-other") == await lots(a, key="sk-other")
    finally:
        await client_a.close()
        await client_b.close()
    again, client = await start_mock(parse_text(NO_LIMITS), state=store_url)
    try:
        assert len(UnitStore.of(again.state)) == 2
        assert await lots(again) == spent
    finally:
        await client.close()


async def test_with_the_memory_backend_the_stores_note_no_changes(make_mock: Any) -> None:
    """Nobody writes the notes there: kept, they would grow with every token ever issued."""
    mock = await make_mock(NO_LIMITS)
    await token(mock)
    await succeed(mock, "sod")
    await lots(mock)
    for store in (TokenStore, UnitStore, FileStore):
        assert len(store.of(mock.state)) >= 1 and not store.of(mock.state).changed
