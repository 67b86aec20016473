"""YouCam's v1 access tokens and unit lots are the fleet's: two replicas on one store answer
alike, and a restart keeps them (each one a record of its store, like the result files)."""

from __future__ import annotations

from typing import Any

from mockserver.providers.youcam.stores import FileStore, TokenStore, UnitStore
from mockserver.scenario import parse_text
from tests.conftest import replicas, start_mock
from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS
from tests.test_youcam_result_files import NO_LIMITS, advance
from tests.test_youcam_units import CREDIT, history, lots, succeed
from tests.test_youcam_v1_auth import token

TTL = 7200  # the default token_ttl: two hours on the clock


async def test_a_v1_token_issued_through_one_replica_works_through_the_other(
    store_url: str,
) -> None:
    async with replicas(store_url, parse_text(NO_LIMITS)) as (a, b):
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
    async with replicas(store_url, parse_text(NO_LIMITS)) as (a, b):
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


WINDOWED = (
    "providers: {youcam: {rate_limits: [], settings: {polling_window: 10},"
    " families: {ai-avatar: {states: {running: 300}}}}}"
)


async def test_the_polling_window_is_the_fleets(store_url: str) -> None:
    """A task polled only through A stays live through B; one left unpolled past the window
    is lost on both, and its window outlives a restart. A poll is written only while the
    window could still lose the task."""
    async with replicas(store_url, parse_text(WINDOWED)) as (a, b):
        status, answer = await a.call("POST", RUN, json=GOOD)
        assert status == 200, answer
        task = STATUS.format(answer["data"]["task_id"])
        for _ in range(3):  # through A only, every 8 s: B never saw a poll
            await advance(a, 8)
            assert (await a.call("GET", task))[0] == 200
        status, answer = await b.call("GET", task)  # 24 s on, 8 s after A's last poll
        assert (status, answer["data"]["task_status"]) == (200, "running")
        await advance(b, 11)  # unpolled past the window: lost, on both
        for mock in (b, a):
            status, answer = await mock.call("GET", task)
            assert (status, answer["error_code"]) == (400, "InvalidTaskId")
    again, client = await start_mock(parse_text(WINDOWED), state=store_url)
    try:
        status, answer = await again.call("GET", task)
        assert (status, answer["error_code"]) == (400, "InvalidTaskId")
    finally:
        await client.close()


async def test_a_poll_that_cannot_change_the_outcome_writes_nothing(store_url: str) -> None:
    """Polled inside a window that then outlasts the task, it can no longer be lost: the
    later polls leave the window's record as it was (no write per poll)."""
    scenario = WINDOWED.replace("running: 300", "running: 60").replace("window: 10", "window: 40")
    async with replicas(store_url, parse_text(scenario)) as (a, b):
        status, answer = await a.call("POST", RUN, json=GOOD)
        assert status == 200, answer
        task_id = answer["data"]["task_id"]
        made = a.state.store.get_any("youcam", task_id)
        assert made is not None and 60 <= made.timeline.ends_at - made.created_at < 65
        assert a.state.persist is not None and a.state.persist.backend is not None
        backend = a.state.persist.backend
        assert (await backend.newest("records:PollStore", limit=10)).total == 0  # a submit
        await advance(a, 25)  # the window (40 s from creation) could still lose it: written
        assert (await a.call("GET", STATUS.format(task_id)))[0] == 200
        written = await backend.newest("records:PollStore", limit=10)
        assert [r.key for r in written.records] == [f"record:PollStore:{task_id}"]
        version = written.records[0].version
        for mock in (a, b, a):  # 65 s from the last written poll: past the task's end
            await advance(mock, 5)
            assert (await mock.call("GET", STATUS.format(task_id)))[0] == 200
        assert (await backend.newest("records:PollStore", limit=10)).records[0].version == version
        await advance(b, 40)  # done: a success on both, never lost
        for mock in (a, b):
            status, answer = await mock.call("GET", STATUS.format(task_id))
            assert (status, answer["data"]["task_status"]) == (200, "success")
