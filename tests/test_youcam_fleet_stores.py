"""YouCam's v1 access tokens and unit lots are the fleet's: two replicas on one store answer
alike, and a restart keeps them (each one a record of its store, like the result files)."""

from __future__ import annotations

from mockserver.providers.youcam.stores import TokenStore
from mockserver.scenario import parse_text
from tests.conftest import start_mock
from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS
from tests.test_youcam_result_files import NO_LIMITS, advance
from tests.test_youcam_units import CREDIT
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
