"""Counted across the fleet: two replicas (two apps, each with its own MockState) on one store,
a real sqlite file or a real Redis server, let through what one replica would."""

from __future__ import annotations

from mockserver.scenario import parse_text
from tests.conftest import start_mock

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"
TOO_MANY = {"status": 429, "error": "Too many requests"}  # YouCam's own 429
TWO_A_MINUTE = "providers: {youcam: {rate_limits: [{per: key, limit: 2, window: 60}]}}"


async def _replicas(store_url: str, scenario: str):  # type: ignore[no-untyped-def]
    a, client_a = await start_mock(parse_text(scenario), state=store_url)
    b, client_b = await start_mock(parse_text(scenario), state=store_url)
    return a, b, (client_a, client_b)


async def test_a_limit_of_two_a_minute_admits_two_through_two_replicas(store_url: str) -> None:
    a, b, clients = await _replicas(store_url, TWO_A_MINUTE)
    try:
        assert (await a.call("GET", TEMPLATES))[0] == 200
        assert (await b.call("GET", TEMPLATES))[0] == 200
        # the window is the fleet's: both replicas refuse the third, in YouCam's words
        assert await a.call("GET", TEMPLATES) == (429, TOO_MANY)
        assert await b.call("GET", TEMPLATES) == (429, TOO_MANY)
        # another key has its own window, on either replica
        assert (await a.call("GET", TEMPLATES, key="sk-other"))[0] == 200
        assert (await b.call("GET", TEMPLATES, key="sk-other"))[0] == 200
        # the fleet's clock closes the window: advanced through B, A admits again
        status, _ = await b.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 60})
        assert status == 200
        assert (await a.call("GET", TEMPLATES))[0] == 200
        assert (await b.call("GET", TEMPLATES))[0] == 200
        assert await a.call("GET", TEMPLATES) == (429, TOO_MANY)
    finally:
        for client in clients:
            await client.close()


async def test_a_refused_caller_uses_up_no_window(store_url: str) -> None:
    a, b, clients = await _replicas(store_url, TWO_A_MINUTE.replace("key", "ip"))
    try:
        for _ in range(3):  # no key: YouCam's 401, counted in no window (not the address's)
            assert (await a.call("GET", TEMPLATES, key=None))[0] == 401
        assert (await a.call("GET", TEMPLATES))[0] == 200
        assert (await b.call("GET", TEMPLATES))[0] == 200
        assert (await a.call("GET", TEMPLATES))[0] == 429
    finally:
        for client in clients:
            await client.close()


async def test_a_reset_through_one_replica_reopens_the_fleets_windows(store_url: str) -> None:
    a, b, clients = await _replicas(store_url, TWO_A_MINUTE)
    try:
        for mock in (a, b):
            assert (await mock.call("GET", TEMPLATES))[0] == 200
        assert (await b.call("GET", TEMPLATES))[0] == 429
        assert (await a.call("POST", "/__mock/reset", key=None))[0] == 200
        assert (await b.call("GET", TEMPLATES))[0] == 200
    finally:
        for client in clients:
            await client.close()


def _rules(*items: str) -> str:
    return "chaos: {rules: [" + ", ".join(items) + "]}"


async def test_a_times_1_chaos_rule_fires_once_across_the_fleet(store_url: str) -> None:
    down_once = "{name: down, effect: {type: status, status: 503}, times: 1}"
    a, b, clients = await _replicas(store_url, _rules(down_once))
    try:
        statuses = [(await mock.call("GET", TEMPLATES))[0] for mock in (a, b, a, b)]
        assert statuses == [503, 200, 200, 200]
        # a reset through one replica lets it fire once more, on either
        assert (await a.call("POST", "/__mock/reset", key=None))[0] == 200
        statuses = [(await mock.call("GET", TEMPLATES))[0] for mock in (b, a, b)]
        assert statuses == [503, 200, 200]
    finally:
        for client in clients:
            await client.close()


async def test_a_claim_a_rule_did_not_use_is_given_back(store_url: str) -> None:
    """A rule that matches on the body cannot be told before the read: a request whose body
    does not match claims, and gives the claim back, so the next match fires anywhere."""
    on_body = (
        "{name: bad-voice, effect: {type: status, status: 503}, times: 1,"
        " match: {body: {voice: bad}}}"
    )
    a, b, clients = await _replicas(store_url, _rules(on_body))
    path = "/s2s/v2.0/task/ai-avatar"
    try:
        status, _ = await a.call("POST", path, json={"voice": "good"})
        assert status != 503
        status, _ = await b.call("POST", path, json={"voice": "bad"})
        assert status == 503
        status, _ = await a.call("POST", path, json={"voice": "bad"})
        assert status != 503
    finally:
        for client in clients:
            await client.close()


async def test_a_preset_queued_through_one_replica_is_used_once_by_the_fleet(
    store_url: str,
) -> None:
    a, b, clients = await _replicas(store_url, "{}")
    outage = {"effect": {"type": "status", "status": 503}, "count": 2}
    try:
        status, _ = await a.call("POST", "/__mock/presets", key=None, json=outage)
        assert status == 201
        _, listed = await b.call("GET", "/__mock/presets", key=None)
        assert [p["remaining"] for p in listed["presets"]] == [2]
        assert (await b.call("GET", TEMPLATES))[0] == 503
        _, listed = await a.call("GET", "/__mock/presets", key=None)
        assert [p["remaining"] for p in listed["presets"]] == [1]
        assert (await a.call("GET", TEMPLATES))[0] == 503
        statuses = [(await mock.call("GET", TEMPLATES))[0] for mock in (b, a)]
        assert statuses == [200, 200]  # two uses across the fleet, then none
        for mock in (a, b):
            _, listed = await mock.call("GET", "/__mock/presets", key=None)
            assert listed["presets"] == []
    finally:
        for client in clients:
            await client.close()


async def test_the_journal_on_one_replica_lists_the_fleets_requests(store_url: str) -> None:
    a, b, clients = await _replicas(store_url, "{}")
    try:
        assert (await a.call("GET", TEMPLATES))[0] == 200
        assert (await b.call("GET", TEMPLATES, key="sk-b"))[0] == 200
        assert (await b.call("GET", "/s2s/v2.0/nowhere", key="sk-b"))[0] == 404
        await b.state.journal.drain()  # B sends its entries once each answer is out
        _, body = await a.call("GET", "/__mock/journal", key=None)
        seen = [(e["path"], e["status"], e["tenant"]) for e in body["entries"]]
        assert sorted(seen, key=str) == sorted(
            [
                (TEMPLATES, 200, "sk-test"),
                (TEMPLATES, 200, "sk-b"),
                ("/s2s/v2.0/nowhere", 404, None),
            ],
            key=str,
        )
        assert seen.index((TEMPLATES, 200, "sk-b")) < seen.index(("/s2s/v2.0/nowhere", 404, None))
        by_replica = {e["tenant"]: e["replica"] for e in body["entries"]}
        assert by_replica["sk-test"] != by_replica["sk-b"]  # each names who answered it
        assert len({e["seq"] for e in body["entries"]}) == 3
        # the same entries through either replica, filters as on one
        _, on_b = await b.call("GET", "/__mock/journal", key=None, params={"tenant": "sk-b"})
        assert [e["path"] for e in on_b["entries"]] == [TEMPLATES]
        # cleared through one, empty on both at once; a replica that stops sends what it holds
        assert (await b.call("DELETE", "/__mock/journal", key=None))[0] == 200
        for mock in (a, b):
            _, body = await mock.call("GET", "/__mock/journal", key=None)
            assert body["entries"] == []
        assert (await b.call("GET", TEMPLATES, key="sk-b"))[0] == 200
        await clients[1].close()
        _, body = await a.call("GET", "/__mock/journal", key=None)
        assert [(e["path"], e["tenant"]) for e in body["entries"]] == [(TEMPLATES, "sk-b")]
    finally:
        for client in clients:
            await client.close()


async def test_a_times_rule_in_a_during_window_fires_once_when_another_replica_opens_it(
    store_url: str,
) -> None:
    later = "{name: later, effect: {type: status, status: 503}, times: 1, during: {from: 60}}"
    a, b, clients = await _replicas(store_url, _rules(later))
    try:
        assert (await a.call("GET", TEMPLATES))[0] == 200
        status, _ = await b.call("POST", "/__mock/clock/advance", key=None, json={"seconds": 60})
        assert status == 200
        statuses = [(await mock.call("GET", TEMPLATES))[0] for mock in (a, b, a)]
        assert statuses == [503, 200, 200]
    finally:
        for client in clients:
            await client.close()
