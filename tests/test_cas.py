"""Compare-and-set across replicas: two apps (each its own MockState) on one store, a real
sqlite file or a real Redis server, answering for one tenant and one task at the same time.
A write resting on a record another replica moved first is refused, read back and run again,
so no charge is lost and no force or delete is overwritten silently."""

from __future__ import annotations

import asyncio

from tests.conftest import start_mock
from tests.serve_processes import SECRET, call, on_store
from tests.test_state_persist import GOOD, RELAY, RELAY_TASK

VIDEOS = "/v1/videos"
VIDEO = "/v1/videos/{}"
SORA = {"model": "sora-2", "prompt": "A calico cat playing a piano", "seconds": "8"}
N = 6  # submits through each replica, all at once
RETRIES = 5  # a client's tries of one submit (on a loaded machine conflicts can repeat)


async def _pair(store_url: str):  # type: ignore[no-untyped-def]
    a, client_a = await start_mock(state=store_url, secret=SECRET)
    b, client_b = await start_mock(state=store_url, secret=SECRET)
    return a, b, (client_a, client_b)


async def _submit(mock) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """A submit as a client makes it: a 503 (a write the store kept refusing, which is not
    charged) is sent again, as its Retry-After asks."""
    for _ in range(RETRIES):
        status, body = await mock.call("POST", RELAY, json=GOOD)
        if status != 503:
            break
    return status, body


def _submit_to(base: str) -> tuple[int, dict]:
    for _ in range(RETRIES):
        status, body = call(base, "POST", RELAY, GOOD)
        if status != 503:
            break
    return status, body


def _charges(tenant: dict) -> list[dict]:
    return [h for h in tenant["history"] if h["amount"] < 0]


async def test_concurrent_submits_through_two_replicas_are_each_charged_once(
    store_url: str,
) -> None:
    a, b, clients = await _pair(store_url)
    try:
        _, start = await a.call("GET", "/__mock/tenants/sk-test", key=None)
        answers = await asyncio.gather(*(_submit(m) for _ in range(N) for m in (a, b)))
        assert all(status == 200 for status, _ in answers), answers
        ids = [body["data"] for _, body in answers]
        assert len(set(ids)) == 2 * N  # no two replicas hand out one id
        for mock in (a, b):
            _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
            charges = _charges(tenant)
            assert sorted(h["task_id"] for h in charges) == sorted(ids)  # each once
            price, currency = -charges[0]["amount"], charges[0]["currency"]
            assert tenant["balances"][currency] == start["balances"][currency] - 2 * N * price
        # every task is there on both, in the state the store holds
        for task_id in ids:
            status_a = (await a.call("GET", RELAY_TASK.format(task_id)))[1]["data"]["status"]
            status_b = (await b.call("GET", RELAY_TASK.format(task_id)))[1]["data"]["status"]
            assert status_a == status_b
        assert len(a.state.store) == len(b.state.store) == 2 * N
    finally:
        for client in clients:
            await client.close()


async def test_concurrent_forces_of_one_task_leave_both_replicas_on_the_winner(
    store_url: str,
) -> None:
    a, b, clients = await _pair(store_url)
    try:
        _, made = await a.call("POST", RELAY, json=GOOD)
        task_id = made["data"]
        await b.call("GET", RELAY_TASK.format(task_id))  # both hold the task
        force = f"/__mock/tasks/{task_id}/force"
        (sa, fa), (sb, fb) = await asyncio.gather(
            a.call("POST", force, key=None, json={"outcome": "failure"}),
            b.call("POST", force, key=None, json={"outcome": "success"}),
        )
        # one force is written; the other, run again on it, finds the task ended
        assert sorted([sa, sb]) == [200, 409], (fa, fb)
        won = "FAILURE" if sa == 200 else "SUCCESS"
        seen = {
            (await m.call("GET", RELAY_TASK.format(task_id)))[1]["data"]["status"] for m in (a, b)
        }
        assert seen == {won}, (seen, fa, fb)
        backend = a.state.persist.backend  # type: ignore[union-attr]
        assert backend is not None
        stored = await backend.get(f"task:relay:{task_id}")
        assert stored is not None and stored.version == 2  # made, then the one force written
        # the refund a failure gives is applied once, on both
        for mock in (a, b):
            _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
            refunds = [h for h in tenant["history"] if h["amount"] > 0]
            assert len(refunds) == (1 if seen == {"FAILURE"} else 0), tenant["history"]
    finally:
        for client in clients:
            await client.close()


def _blind_once(mock) -> None:  # type: ignore[no-untyped-def]
    """The replica's next read before a request brings no change notices: it answers from
    what it holds, as one does when another replica's write lands just after that read."""
    persist = mock.state.persist
    assert persist is not None
    pull = persist.pull

    async def blind(*args, **kwargs):  # type: ignore[no-untyped-def]
        persist.pull = pull
        seen = persist._seen
        persist._seen = 10**12  # no notice is above this
        try:
            return await pull(*args, **kwargs)
        finally:
            persist._seen = seen  # the next read brings them

    persist.pull = blind


async def test_a_video_deleted_through_one_replica_is_gone_on_both(store_url: str) -> None:
    a, b, clients = await _pair(store_url)
    try:
        ids = [(await a.call("POST", VIDEOS, json=SORA))[1]["id"] for _ in range(2)]
        await a.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 60})
        for video_id in ids:
            assert (await b.call("GET", VIDEO.format(video_id)))[1]["status"] == "completed"
        status, body = await b.call("DELETE", VIDEO.format(ids[0]))
        assert status == 200 and body["deleted"] is True, body
        # A deletes it too before it has read B's delete: the store refuses A's write, A
        # reads the task back (gone) and answers the delete again: not found, deleted once
        _blind_once(a)
        status, body = await a.call("DELETE", VIDEO.format(ids[0]))
        assert status == 404 and body["error"]["code"] == "video_not_found", body
        gone = [await m.call("GET", VIDEO.format(ids[0])) for m in (a, b)]
        assert gone[0] == gone[1] and gone[0][0] == 404, gone
        assert gone[0][1]["error"]["code"] == "video_not_found"
        listed = [[v["id"] for v in (await m.call("GET", VIDEOS))[1]["data"]] for m in (a, b)]
        assert listed == [[ids[1]], [ids[1]]]
    finally:
        for client in clients:
            await client.close()


async def test_a_lost_attempt_is_undone_run_again_and_journaled_once(store_url: str) -> None:
    """B charges the tenant behind A's back (A has not read it yet): A's submit is refused
    by the store, read back, run again on B's balance and journaled once."""
    a, b, clients = await _pair(store_url)
    try:
        await a.call("POST", RELAY, json=GOOD)
        await a.call("DELETE", "/__mock/journal", key=None)
        _, made_b = await b.call("POST", RELAY, json=GOOD)
        _blind_once(a)
        hooked = {**GOOD, "notify_hook": "http://127.0.0.1:9/hook"}
        status, made_a = await a.call("POST", RELAY, json=hooked)
        assert status == 200, made_a
        # what the lost attempt planned for the task it made (and lost) is not sent
        planned = {d.task.id for d in a.state.webhooks.deliveries.values() if d.task}
        assert planned == {made_a["data"]}, planned
        for mock in (a, b):
            _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
            charged = [h["task_id"] for h in _charges(tenant)]
            assert len(charged) == 3 and {made_a["data"], made_b["data"]} <= set(charged)
        assert len(a.state.store) == len(b.state.store) == 3  # the lost attempt's task is gone
        _, journal = await a.call("GET", "/__mock/journal", key=None)
        mine = a.state.journal.replica  # type: ignore[attr-defined]
        submits = [e for e in journal["entries"] if e["path"] == RELAY and e["replica"] == mine]
        assert len(submits) == 1, [
            (e["replica"], e["seq"], e["status"]) for e in journal["entries"]
        ]
    finally:
        for client in clients:
            await client.close()


def test_two_processes_submitting_for_one_tenant_charge_each_once(store_url: str) -> None:
    """Two ``serve`` processes on one store, submits through both at once: the balance is
    the start less every price, once each."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = on_store(store_url), on_store(store_url)
    base_a, base_b = a.base, b.base
    try:
        start = call(base_a, "GET", "/__mock/tenants/sk-test")[1]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(_submit_to, [base_a, base_b] * N))
        assert all(status == 200 for status, _ in answers), answers
        ids = {body["data"] for _, body in answers}
        assert len(ids) == 2 * N
        for base in (base_a, base_b):
            tenant = call(base, "GET", "/__mock/tenants/sk-test")[1]
            charges = _charges(tenant)
            assert {h["task_id"] for h in charges} == ids and len(charges) == 2 * N
            price, currency = -charges[0]["amount"], charges[0]["currency"]
            assert tenant["balances"][currency] == start["balances"][currency] - 2 * N * price
    finally:
        for served in (a, b):
            served.stop()


async def test_replicas_opening_one_store_at_once_draw_distinct_ids(store_url: str) -> None:
    """Each opening of a store takes a generation of its own (compare-and-set), which its
    ids are drawn from: two replicas started together, and a restart, never repeat an id;
    the first opening draws what the seed alone draws."""
    (a, client_a), (b, client_b) = await asyncio.gather(
        start_mock(state=store_url, secret=SECRET), start_mock(state=store_url, secret=SECRET)
    )
    alone, client_alone = await start_mock(secret=SECRET, state="memory")
    try:
        salts = sorted([a.state.id_salt, b.state.id_salt])
        assert salts == ["", ":1"]
        first = [(await m.call("POST", RELAY, json=GOOD))[1]["data"] for m in (a, b, alone)]
        assert first[0] != first[1]
        assert first[2] in first[:2]  # the seed reproduces one replica's run
    finally:
        for client in (client_a, client_b, client_alone):
            await client.close()
    again, client = await start_mock(state=store_url, secret=SECRET)
    try:
        assert again.state.id_salt == ":2"
        assert (await again.call("POST", RELAY, json=GOOD))[1]["data"] not in first
    finally:
        await client.close()


async def test_a_times_1_fault_of_a_lost_attempt_fires_in_the_rerun(store_url: str) -> None:
    """A ``times: 1`` fault acting after the work: the attempt that used the fleet's claim
    loses its write to another replica and is run again. The rerun is what the client gets,
    so it carries the fault (it used to find the claim spent and answer 200, so the fault
    reached no client); the fleet counts it once."""
    from mockserver.scenario import parse_text

    once = parse_text(
        "chaos: {rules: [{name: late-504, times: 1, match: {body: {audio_url: x:fail}},"
        " effect: {type: gateway_timeout, seconds: 0, phase: after}}]}"
    )
    a, client_a = await start_mock(once, state=store_url, secret=SECRET)
    b, client_b = await start_mock(once, state=store_url, secret=SECRET)
    faulty = {**GOOD, "audio_url": "x:fail"}
    try:
        assert (await a.call("POST", RELAY, json=GOOD))[0] == 200  # A holds the tenant
        assert (await b.call("POST", RELAY, json=GOOD))[0] == 200  # B charges it behind A
        _blind_once(a)
        status, body = await a.call("POST", RELAY, json=faulty)
        assert status == 504, body
        assert (await b.call("POST", RELAY, json=faulty))[0] == 200  # used once by the fleet
        assert (await a.call("POST", RELAY, json=faulty))[0] == 200
    finally:
        for client in (client_a, client_b):
            await client.close()
