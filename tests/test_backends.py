"""The state interface, one test body per behaviour, run against memory, sqlite and redis.

Two clients on one store stand for two replicas: a second connection to the same sqlite file
or Redis database (for memory, a second view of the same dicts). Times are plain numbers
handed to each call: windows and leases follow the caller's clock, so no test waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import orjson
import pytest

from mockserver.backends import (
    SCHEMA_VERSION,
    Backend,
    BackendError,
    BackendUnavailable,
    ClockState,
    Conflict,
    CounterOp,
    SchemaError,
    Write,
    open_backend,
)
from mockserver.backends.base import REQUESTS
from mockserver.backends.memory import MemoryBackend, MemoryStore
from mockserver.backends.redispipe import pack
from tests.redis_server import SKIP_REASON, redis_server, with_prefix
from tests.serve_processes import free_port

NOW = 1_750_000_000.0
Connect = Callable[[], Awaitable[Backend]]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def connect(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str | None
) -> AsyncIterator[Connect]:
    """Opens clients on one fresh store of the parametrised kind."""
    kind = request.param
    if kind == "redis" and redis_url is None:
        pytest.skip(SKIP_REASON)
    shared = MemoryStore()
    url = {
        "sqlite": f"sqlite:{tmp_path / 'state.db'}",
        # a prefix of its own: tests on one server (and xdist workers) never see each other
        "redis": with_prefix(str(redis_url), f"t{uuid.uuid4().hex}:"),
    }.get(kind, "memory")
    opened: list[Backend] = []

    async def new_client() -> Backend:
        if kind == "memory":
            client: Backend = MemoryBackend(shared)
            await client.open()
        else:
            client = await open_backend(url)
        opened.append(client)
        return client

    yield new_client
    first = opened[0] if opened else None
    if first is not None and kind == "redis":
        await first.clear()
    for client in opened:
        await client.close()


def doc(**fields: object) -> bytes:
    return orjson.dumps(fields)


async def test_a_record_changes_only_from_the_version_it_was_read_at(connect: Connect) -> None:
    db = await connect()
    assert await db.put("task:1", doc(state="queued"), version=0) == 1
    assert await db.put("task:1", doc(state="again"), version=0) is None  # exists already
    assert await db.put("task:1", doc(state="running"), version=1) == 2
    assert await db.put("task:1", doc(state="stale"), version=1) is None
    got = await db.get("task:1")
    assert got is not None and (got.version, orjson.loads(got.value)) == (2, {"state": "running"})
    assert await db.put("task:1", doc(state="forced")) == 3  # no version: unconditional
    assert await db.delete("task:1", version=2) is False
    assert await db.delete("task:1", version=3) is True
    assert await db.get("task:1") is None
    assert await db.get_many(["task:1", "nope"]) == [None, None]


async def test_two_replicas_moving_one_task_at_once_one_wins(connect: Connect) -> None:
    a, b = await connect(), await connect()
    await a.put("task:1", doc(state="queued"), version=0)
    seen_a, seen_b = await a.get("task:1"), await b.get("task:1")
    assert seen_a is not None and seen_b is not None and seen_a.version == seen_b.version == 1
    results = await asyncio.gather(
        a.put("task:1", doc(state="done", by="a"), version=1),
        b.put("task:1", doc(state="failed", by="b"), version=1),
    )
    assert sorted(results, key=str) == [2, None]
    winner = "a" if results[0] == 2 else "b"
    final = await b.get("task:1")
    assert final is not None and orjson.loads(final.value)["by"] == winner


async def test_compare_and_set_retries_lose_no_update_across_replicas(connect: Connect) -> None:
    a, b = await connect(), await connect()
    await a.put("balance", doc(n=0), version=0)

    async def add_one(db: Backend) -> None:
        while True:
            rec = await db.get("balance")
            assert rec is not None
            n = orjson.loads(rec.value)["n"]
            if await db.put("balance", doc(n=n + 1), version=rec.version) is not None:
                return

    await asyncio.gather(*(add_one(db) for db in (a, b) for _ in range(20)))
    rec = await a.get("balance")
    assert rec is not None and orjson.loads(rec.value) == {"n": 40} and rec.version == 41


async def test_a_write_with_a_stale_version_changes_nothing(connect: Connect) -> None:
    """A request's changes are compare-and-set as one: one record moved by another replica
    and none of them is applied, nor its notice; the conflict names the record that moved."""
    a, b = await connect(), await connect()
    first = Write(
        puts=[("task:1", doc(state="queued"), ("tasks",)), ("tenant:k", doc(n=100), ())],
        expect={"task:1": 0, "tenant:k": 0},
        notice=b'{"n": 1}',
        keep=10,
    )
    assert await a.write(first) == {"task:1": 1, "tenant:k": 1}
    assert [e for _, e in await b.journal()] == [b'{"n": 1}']
    # B charges the tenant first (at version 1)
    charged = Write(puts=[("tenant:k", doc(n=90), ())], expect={"tenant:k": 1})
    assert await b.write(charged) == {"tenant:k": 2}
    # A, still at version 1, charges it too, makes a task and deletes the first: refused whole
    stale = Write(
        puts=[("tenant:k", doc(n=90), ()), ("task:2", doc(state="queued"), ("tasks",))],
        deletes=["task:1"],
        meta=[("engine", b"stale")],
        expect={"tenant:k": 1, "task:2": 0, "task:1": 1},
        notice=b'{"n": 2}',
        keep=10,
    )
    with pytest.raises(Conflict) as refused:
        await a.write(stale)
    assert refused.value.keys == ["tenant:k"]
    tenant, made, kept = await b.get_many(["tenant:k", "task:2", "task:1"])
    assert tenant is not None and orjson.loads(tenant.value) == {"n": 90}
    assert tenant.version == 2
    assert made is None and kept is not None and kept.version == 1
    assert await b.get_meta("engine") is None
    assert [r.key for r in (await b.newest("tasks", limit=5)).records] == ["task:1"]
    assert [e for _, e in await b.journal()] == [b'{"n": 1}']
    # "must not exist" is checked too; at the right versions the same change set applies
    with pytest.raises(Conflict):
        await a.write(Write(puts=[("task:1", doc(state="x"), ())], expect={"task:1": 0}))
    stale.expect["tenant:k"] = 2
    assert await a.write(stale) == {"tenant:k": 3, "task:2": 1, "task:1": 0}
    assert await b.get("task:1") is None
    assert [e for _, e in await b.journal()] == [b'{"n": 1}', b'{"n": 2}']


async def test_concurrent_compare_and_set_writes_apply_one(connect: Connect) -> None:
    a, b = await connect(), await connect()
    await a.write(Write(puts=[("tenant:k", doc(n=100), ())], expect={"tenant:k": 0}))
    results = await asyncio.gather(
        a.write(Write(puts=[("tenant:k", doc(n=90, by="a"), ())], expect={"tenant:k": 1})),
        b.write(Write(puts=[("tenant:k", doc(n=90, by="b"), ())], expect={"tenant:k": 1})),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"]
    final = await a.get("tenant:k")
    assert final is not None and final.version == 2


async def test_indexes_list_newest_first_within_a_bound(connect: Connect) -> None:
    a, b = await connect(), await connect()
    for i in range(5):
        db = a if i % 2 else b
        await db.put(f"task:{i}", doc(i=i), version=0, indexes=["tenant:t1", f"kind:{i % 2}"])
    page = await b.newest("tenant:t1", limit=2)
    assert page.total == 5 and [r.key for r in page.records] == ["task:4", "task:3"]
    page = await a.newest("tenant:t1", limit=2, offset=3)
    assert [r.key for r in page.records] == ["task:1", "task:0"]
    assert [r.key for r in (await a.newest("kind:1", limit=10)).records] == ["task:3", "task:1"]
    # an update keeps its place; a delete leaves every index it was in
    await a.put("task:1", doc(i=1, state="done"), version=1, indexes=["tenant:t1"])
    assert [r.key for r in (await b.newest("tenant:t1", limit=10)).records] == [
        "task:4",
        "task:3",
        "task:2",
        "task:1",
        "task:0",
    ]
    await b.delete("task:3")
    assert (await a.newest("tenant:t1", limit=10)).total == 4
    assert [r.key for r in (await a.newest("kind:1", limit=10)).records] == ["task:1"]
    assert (await a.newest("tenant:nobody", limit=10)).total == 0


async def test_a_window_is_counted_across_replicas_and_recovers_on_the_clock(
    connect: Connect,
) -> None:
    a, b = await connect(), await connect()
    op = CounterOp("rl:key1", window=60.0, limit=5)
    counts = await asyncio.gather(*(db.count(op, now=NOW) for db in (a, b) for _ in range(10)))
    assert sum(c.admitted for c in counts) == 5  # five in the fleet, not five per replica
    refused = await b.count(op, now=NOW + 59.0)
    assert not refused.admitted and refused.value == 5 and refused.retry_after(NOW + 59.0) == 1.0
    again = await a.count(op, now=NOW + 60.0)
    assert again.admitted and again.value == 1 and again.resets_at == NOW + 120.0


async def test_sequences_and_times_counters_are_fleet_wide(connect: Connect) -> None:
    a, b = await connect(), await connect()
    ids = await asyncio.gather(*(db.count(CounterOp("seq:a2e"), now=NOW) for db in (a, b) * 15))
    assert sorted(c.value for c in ids) == list(range(1, 31))
    assert all(c.resets_at == float("inf") for c in ids)
    times = CounterOp("chaos:rule0", limit=3)
    fired = await asyncio.gather(*(db.count(times, now=NOW) for db in (a, b) * 5))
    assert sum(c.admitted for c in fired) == 3


async def test_one_poll_reads_clock_and_records_counts_and_journals(connect: Connect) -> None:
    a, b = await connect(), await connect()
    await a.write_clock(ClockState(NOW, 0.0, 0.0))
    await a.put("task:1", doc(state="queued"), version=0)
    rules = [CounterOp("rl:s", window=1.0, limit=2), CounterOp("rl:m", window=60.0, limit=100)]
    first = await b.poll(["task:1", "task:2"], now=NOW, counters=rules, journal=[b"e1"], keep=10)
    assert first.clock == ClockState(NOW, 0.0, 0.0) and first.clock_version == 1
    assert first.records[1] is None
    assert first.records[0] is not None and first.records[0].version == 1
    assert first.admitted and [c.value for c in first.counts] == [1, 1]
    await a.poll(["task:1"], now=NOW, counters=rules)
    third = await b.poll(["task:1"], now=NOW, counters=rules, journal=[b"e2", b"e3"], keep=10)
    # the per-second window refuses, and the per-minute one is not counted for it
    assert not third.admitted and len(third.counts) == 1 and third.counts[0].resets_at == NOW + 1
    assert (await a.count(CounterOp("rl:m", window=60.0, limit=100), now=NOW)).value == 3
    assert [e for _, e in await a.journal()] == [b"e1", b"e2", b"e3"]


async def test_the_clock_is_one_for_the_fleet(connect: Connect) -> None:
    a, b = await connect(), await connect()
    assert await a.read_clock() == (None, 0)
    await a.write_clock(ClockState(NOW, 1000.0, 0.0))
    await asyncio.gather(
        a.advance_clock(30.0, wall=1001.0), b.advance_clock(12.0, wall=1001.0)
    )  # both advances count
    state, _ = await b.read_clock()
    assert state is not None and state.now(wall=5000.0) == NOW + 42.0
    running = ClockState(NOW, 1000.0, 2.0)
    assert running.now(1010.0) == NOW + 20.0
    assert running.advanced(5.0, 1010.0).now(1011.0) == NOW + 27.0


async def test_a_lease_has_one_holder_until_it_expires(connect: Connect) -> None:
    a, b = await connect(), await connect()
    won = await asyncio.gather(
        a.acquire("delivery:7", "replica-a", now=NOW, ttl=30.0),
        b.acquire("delivery:7", "replica-b", now=NOW, ttl=30.0),
    )
    assert sorted(won) == [False, True]
    holder, other = ("replica-a", "replica-b") if won[0] else ("replica-b", "replica-a")
    assert await a.acquire("delivery:7", holder, now=NOW + 20.0, ttl=30.0)  # renewed to +50
    assert not await b.acquire("delivery:7", other, now=NOW + 49.0, ttl=30.0)
    assert await b.acquire("delivery:7", other, now=NOW + 50.0, ttl=30.0)  # expired: taken over
    assert not await a.release("delivery:7", holder)  # no longer the holder's to give up
    assert await a.release("delivery:7", other)
    assert await a.acquire("delivery:7", holder, now=NOW + 51.0, ttl=30.0)


async def test_the_journal_keeps_the_newest_entries_numbered_across_replicas(
    connect: Connect,
) -> None:
    a, b = await connect(), await connect()
    for i in range(15):
        await a.append([f"a{i}".encode()], keep=10)
        await b.append([f"b{i}".encode()], keep=10)
    kept = await b.journal()
    assert len(kept) == 10
    assert [s for s, _ in kept] == list(range(21, 31))
    assert [e for _, e in kept][-2:] == [b"a14", b"b14"]
    assert [e for _, e in await a.journal(since=28)] == [b"a14", b"b14"]
    assert await a.append([b"x", b"y"], keep=3) == 32
    assert [e for _, e in await a.journal()] == [b"b14", b"x", b"y"]
    await a.clear()
    assert await a.journal() == []
    assert await b.append([b"after"], keep=3) == 33  # numbers are never reused


async def test_the_requests_log_is_apart_from_the_notices_each_request_reads(
    connect: Connect,
) -> None:
    """The fleet journal's entries go to a log of their own: the read before each request
    (``changes``) and the notices' journal never carry them; clear empties it too."""
    a, b = await connect(), await connect()
    await a.append([b"notice"], keep=10)
    for i in range(5):
        await b.append([f"r{i}".encode()], keep=3, log=REQUESTS)
    assert [e for _, e in await a.journal()] == [b"notice"]
    assert [e for _, e in (await a.changes(0)).notices] == [b"notice"]
    assert [e for _, e in await a.journal(log=REQUESTS)] == [b"r2", b"r3", b"r4"]
    await a.clear()
    assert await b.journal(log=REQUESTS) == []
    await b.append([b"again"], keep=3, log=REQUESTS)
    assert [e for _, e in await a.journal(log=REQUESTS)] == [b"again"]


async def test_the_read_before_each_request_sees_every_change_committed_before_it(
    connect: Connect,
) -> None:
    """``changes`` is asked before every request and answers cheaply while nothing moved; a
    notice, a clock move or a fleet journal append by another replica (or this one) in
    between is always seen by the next read."""
    a, b = await connect(), await connect()
    await a.write_clock(ClockState(NOW, 0.0, 0.0))
    first = await a.changes(0)
    since = first.notices[-1][0] if first.notices else 0
    for _ in range(3):  # nothing moved: the same clock, no notices
        quiet = await a.changes(since)
        assert (quiet.clock, quiet.clock_version, quiet.notices) == (
            first.clock,
            first.clock_version,
            [],
        )
    seq = await b.append([b"b wrote"], keep=10)
    assert (await a.changes(since)).notices == [(seq, b"b wrote")]
    assert (await a.changes(seq)).notices == []
    assert [e for _, e in (await a.changes(since)).notices] == [b"b wrote"]  # asked again
    await b.write_clock(ClockState(NOW + 60.0, 0.0, 0.0))
    moved = await a.changes(seq)
    assert moved.clock == ClockState(NOW + 60.0, 0.0, 0.0)
    assert moved.clock_version > first.clock_version
    await b.append([b"a request"], keep=10, log=REQUESTS)  # commits, names nothing to read
    assert (await a.changes(seq)).notices == []
    mine = await a.append([b"a wrote"], keep=10)
    assert (await a.changes(seq)).notices == [(mine, b"a wrote")]
    counted = await a.changes(mine, now=NOW, counters=[CounterOp("rl:x", window=1.0, limit=1)])
    assert [c.value for c in counted.counts] == [1]


async def test_sweep_drops_what_expired_and_clear_keeps_schema_and_clock(
    connect: Connect,
) -> None:
    a, b = await connect(), await connect()
    await a.write_clock(ClockState(NOW, 0.0, 0.0))
    await a.count(CounterOp("rl:1", window=10.0, limit=1), now=NOW)
    await a.count(CounterOp("rl:2", window=100.0, limit=1), now=NOW)
    await a.count(CounterOp("seq"), now=NOW)
    await a.acquire("lease:1", "a", now=NOW, ttl=5.0)
    assert await b.sweep(now=NOW + 10.0, budget=100) == 2  # rl:1 and lease:1
    assert (
        await b.count(CounterOp("rl:2", window=100.0, limit=1), now=NOW + 10.0)
    ).admitted is False
    assert await b.acquire("lease:1", "b", now=NOW + 10.0, ttl=5.0)
    assert (await b.count(CounterOp("seq"), now=NOW + 1e9)).value == 2  # never expires
    await a.put("task:1", doc(), version=0, indexes=["t"])
    await b.clear()
    assert await a.get("task:1") is None and (await a.newest("t", limit=5)).total == 0
    assert (await a.count(CounterOp("seq"), now=NOW)).value == 1
    state, _ = await a.read_clock()
    assert state == ClockState(NOW, 0.0, 0.0)
    await connect()  # the schema stamp is still there: a new client opens


@pytest.mark.parametrize(
    ("stamp", "says"),
    [
        (str(SCHEMA_VERSION + 98).encode(), f"schema version {SCHEMA_VERSION + 98}"),
        (b"zebra", "unreadable schema stamp"),
    ],
)
async def test_a_store_with_a_schema_it_cannot_read_is_refused(
    connect: Connect, stamp: bytes, says: str
) -> None:
    db = await connect()
    await db.stamp_schema(stamp)
    with pytest.raises(SchemaError, match=says) as refused:
        await connect()
    assert "--state" in str(refused.value)  # it says what to do


async def test_an_unreachable_redis_is_an_error_never_memory() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # bound and released: nothing listens
    with pytest.raises(BackendUnavailable, match=f"cannot reach the redis state store at {url}"):
        await open_backend(url)


async def test_state_urls_no_backend_reads_are_refused(tmp_path: Path) -> None:
    for url in ("memcached://x", "memory:extra", "sqlite:", f"sqlite:{tmp_path}/x?fast=1"):
        with pytest.raises(BackendError, match="state"):
            await open_backend(url)
    with pytest.raises(BackendUnavailable, match="cannot open the sqlite state store"):
        await open_backend(f"sqlite:{tmp_path}/missing-dir/state.db")
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_bytes(b"x" * 4096)
    with pytest.raises(BackendUnavailable, match="cannot open the sqlite state store"):
        await open_backend(f"sqlite:{not_a_db}")


async def test_a_redis_poll_is_one_round_trip(redis_url: str | None) -> None:
    if redis_url is None:
        pytest.skip(SKIP_REASON)
    url = with_prefix(redis_url, f"t{uuid.uuid4().hex}:")
    db = await open_backend(url)
    probe = await open_backend(url)
    try:
        await db.put("task:1", doc(state="queued"), version=0)
        rules = [CounterOp("rl:s", window=1.0, limit=50), CounterOp("rl:m", window=60.0)]
        await db.poll(["task:1"], now=NOW, counters=rules, journal=[b"warm"], keep=5)

        async def evalsha_calls() -> int:
            stats = await probe.client.info("commandstats")  # type: ignore[attr-defined]
            return int(stats["cmdstat_evalsha"]["calls"])

        sent: list[object] = []
        client = db.client  # type: ignore[attr-defined]
        send = client.execute_command

        async def counting(*args: object, **kwargs: object) -> object:
            sent.append(args[0])
            return await send(*args, **kwargs)

        def no_pipeline(*args: object, **kwargs: object) -> None:
            raise AssertionError("a poll must not pipeline several commands")

        before = await evalsha_calls()
        client.execute_command, client.pipeline = counting, no_pipeline
        await db.poll(["task:1"], now=NOW, counters=rules, journal=[b"entry"], keep=5)
        client.execute_command, client.pipeline = send, type(client).pipeline.__get__(client)
        assert sent == ["EVALSHA"]  # one request, one answer
        assert await evalsha_calls() - before == 1
    finally:
        await db.clear()
        await db.close()
        await probe.close()


async def test_the_redis_read_before_each_request_is_one_round_trip(
    redis_url: str | None,
) -> None:
    """Quiet, after another replica wrote, with counters: one script call reaches Redis per
    read and nothing else is sent; many reads at once share the connection and each gets
    its own answer."""
    if redis_url is None:
        pytest.skip(SKIP_REASON)
    url = with_prefix(redis_url, f"t{uuid.uuid4().hex}:")
    db, other, probe = await open_backend(url), await open_backend(url), await open_backend(url)
    client = db.client  # type: ignore[attr-defined]
    try:
        await other.write_clock(ClockState(NOW, 0.0, 0.0))
        first = await db.changes(0)

        async def evalsha_calls() -> int:
            stats = await probe.client.info("commandstats")  # type: ignore[attr-defined]
            return int(stats["cmdstat_evalsha"]["calls"])

        def nothing_else(*args: object, **kwargs: object) -> None:
            raise AssertionError("the read sends one script call and nothing else")

        async def trips(read: Awaitable[object]) -> int:
            before = await evalsha_calls()
            client.execute_command = client.pipeline = nothing_else
            try:
                await read
            finally:
                del client.execute_command, client.pipeline
            return await evalsha_calls() - before

        assert await trips(db.changes(0)) == 1  # nothing moved
        seq = await other.append([b"moved"], keep=10)
        assert await trips(db.changes(0)) == 1
        rl = [CounterOp("rl:one", window=1.0, limit=5)]
        assert await trips(db.changes(seq, now=NOW, counters=rl)) == 1
        reads = await asyncio.gather(*(db.changes(seq - 1 + i % 2) for i in range(50)))
        assert [len(r.notices) for r in reads] == [1 - i % 2 for i in range(50)]
        assert {r.clock_version for r in reads} == {first.clock_version}
    finally:
        await db.clear()
        for backend in (db, other, probe):
            await backend.close()


async def test_the_redis_read_survives_a_dropped_connection_and_lost_scripts(
    redis_url: str | None,
) -> None:
    """A connection the server dropped is opened again by the next read; scripts the server
    forgot (a restart, ``SCRIPT FLUSH``) are loaded again: the read answers as before."""
    if redis_url is None:
        pytest.skip(SKIP_REASON)
    url = with_prefix(redis_url, f"t{uuid.uuid4().hex}:")
    db, other = await open_backend(url), await open_backend(url)
    try:
        await other.write_clock(ClockState(NOW, 0.0, 0.0))
        await db.changes(0)
        pipe = db._pipe  # type: ignore[attr-defined]  # the read's own connection
        pipe_id = await pipe.call(pack("CLIENT", "ID"))
        await other.client.client_kill_filter(_id=pipe_id)  # type: ignore[attr-defined]
        # a read under way when it dropped fails (503); whether this one was is a race
        with contextlib.suppress(BackendUnavailable):
            await db.changes(0)
        seq = await other.append([b"after"], keep=10)
        assert (await db.changes(0)).notices == [(seq, b"after")]
        await other.client.script_flush()  # type: ignore[attr-defined]
        again = await other.append([b"flushed"], keep=10)
        assert (await db.changes(seq)).notices == [(again, b"flushed")]
    finally:
        await db.clear()
        await db.close()
        await other.close()


# A writer that prints each key once its put has returned (acknowledged), then goes on.
WRITER = """
import asyncio, hashlib, sys
from mockserver.backends import CounterOp, open_backend

async def main(url):
    db = await open_backend(url)
    i = 0
    while True:
        body = (f"{i}:" + "x" * (i % 700)).encode()
        value = hashlib.sha256(body).hexdigest().encode() + b"|" + body
        assert await db.put(f"task:{i}", value, version=0, indexes=["tenant:a", f"kind:{i % 3}"])
        await db.count(CounterOp("seq"), now=0.0)
        print(i, flush=True)
        i += 1

asyncio.run(main(sys.argv[1]))
"""


async def test_sqlite_keeps_every_acknowledged_write_through_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'state.db'}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        url,
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    acked: list[int] = []
    while len(acked) < 300:
        line = await proc.stdout.readline()
        assert line, "the writer stopped before it was killed"
        acked.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)  # mid-write, most likely: it never pauses
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL

    db = await open_backend(url)
    try:
        records = await db.get_many([f"task:{i}" for i in range(len(acked) + 1000)])
        present = [r for r in records if r is not None]
        assert all(records[i] is not None for i in acked)  # nothing acknowledged is lost
        for rec in present:  # and nothing is half-written
            digest, _, body = rec.value.partition(b"|")
            assert hashlib.sha256(body).hexdigest().encode() == digest
        assert (await db.newest("tenant:a", limit=10_000)).total == len(present)
        per_kind = [(await db.newest(f"kind:{k}", limit=10_000)).total for k in range(3)]
        assert sum(per_kind) == len(present)
        assert (await db.count(CounterOp("seq"), now=0.0)).value - 1 >= len(acked)
    finally:
        await db.close()


async def test_sqlite_writes_sharing_a_commit_fail_alone(tmp_path: Path) -> None:
    db = await open_backend(f"sqlite:{tmp_path / 'state.db'}")
    try:
        bad: object = {"not": "bytes"}
        results = await asyncio.gather(
            db.put("a", b"1", version=0, indexes=["t"]),
            db.put("b", bad, version=0, indexes=["t"]),  # type: ignore[arg-type]
            db.put("c", b"3", version=0, indexes=["t"]),
            db.put("a", b"again", version=0),  # sees the first put of its own batch
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 1 and results[3] is None
        assert isinstance(results[1], Exception)
        assert [r.key for r in (await db.newest("t", limit=5)).records] == ["c", "a"]
        assert await db.get("b") is None
    finally:
        await db.close()
