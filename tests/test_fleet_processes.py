"""Counted across the fleet, with two real ``avatar-mock serve`` processes on one store (a
sqlite file, a Redis server) and a client speaking HTTP to each, as behind a balancer: what
tests/test_fleet.py asserts of two apps in one process, here with nothing shared but the store.

One pair per module and backend (a process takes ~0.4 s to its first answer, measured): each
test keeps to its own keys, so what one test counts is not another's. Time moves only through
the control API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import SHARED, state_url
from tests.serve_processes import Served, on_store
from tests.test_state_persist import GOOD, RELAY, RELAY_TASK

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"
TOO_MANY = {"status": 429, "error": "Too many requests"}  # YouCam's own 429
VOICES = "/avatar/voice?language=en"
LIMIT = 2  # YouCam calls per key a minute, the fleet's
SCENARIO = f"""
providers:
  youcam: {{rate_limits: [{{per: key, limit: {LIMIT}, window: 60}}]}}
chaos:
  rules:
    - {{name: down-once, effect: {{type: status, status: 503}}, times: 1,
       match: {{tenant: sk-chaos}}}}
    - {{name: down-once-at-once, effect: {{type: status, status: 503}}, times: 1,
       match: {{tenant: sk-chaos-burst}}}}
"""
JOURNAL_S = 5.0  # a replica sends its journal entries within ~20 ms of its answer


@pytest.fixture(scope="module", params=SHARED)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, ...]]:
    """Replicas A and B, two processes on one fresh store, with the scenario above."""
    config: Path = tmp_path_factory.mktemp("fleet") / "scenario.yaml"
    config.write_text(SCENARIO)
    store = state_url(request.param)
    with ExitStack() as stack:
        replicas = []
        for _ in range(2):
            replica = on_store(store, "--config", str(config))
            stack.callback(replica.stop)
            replicas.append(replica)
        yield tuple(replicas)


def _at_once(*calls: tuple[Served, str, str]) -> list[int]:
    """The statuses of requests sent together, each through its replica."""
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = pool.map(lambda c: c[0].call("GET", c[1], key=c[2])[0], calls)
        return list(answers)


def test_a_rate_limit_admits_its_n_through_both_processes(pair: tuple[Served, Served]) -> None:
    a, b = pair
    statuses = [mock.call("GET", TEMPLATES, key="sk-limit")[0] for mock in (a, b, a, b)]
    assert statuses == [200, 200, 429, 429]
    assert a.call("GET", TEMPLATES, key="sk-limit") == (429, TOO_MANY)  # in YouCam's words
    # sent at once through both: the fleet still lets its LIMIT through, no more
    burst = [(mock, TEMPLATES, "sk-burst") for mock in (a, b) * 4]
    assert sorted(_at_once(*burst)) == [200] * LIMIT + [429] * (len(burst) - LIMIT)
    # the window is closed by the fleet's clock: advanced through B, A admits again
    assert b.call("POST", "/__mock/clock/advance", {"seconds": 60}, key=None)[0] == 200
    statuses = [mock.call("GET", TEMPLATES, key="sk-limit")[0] for mock in (a, b, a)]
    assert statuses == [200, 200, 429]


def test_a_times_1_chaos_rule_fires_once_across_both_processes(
    pair: tuple[Served, Served],
) -> None:
    a, b = pair
    statuses = [mock.call("GET", VOICES, key="sk-chaos")[0] for mock in (b, a, b, a)]
    assert statuses == [503, 200, 200, 200]
    burst = [(mock, VOICES, "sk-chaos-burst") for mock in (a, b) * 4]
    assert sorted(_at_once(*burst)) == [200] * (len(burst) - 1) + [503]


def test_a_one_shot_preset_queued_through_a_is_used_once_by_either(
    pair: tuple[Served, Served],
) -> None:
    a, b = pair
    for tenant, first in (("sk-preset-b", b), ("sk-preset-a", a)):
        preset = {
            "effect": {"type": "status", "status": 503},
            "count": 1,
            "match": {"tenant": tenant},
        }
        assert a.call("POST", "/__mock/presets", preset, key=None)[0] == 201
        _, listed = b.call("GET", "/__mock/presets", key=None)
        assert [p["remaining"] for p in listed["presets"]] == [1]  # queued for the fleet
        other = a if first is b else b
        statuses = [mock.call("GET", VOICES, key=tenant)[0] for mock in (first, other, first)]
        assert statuses == [503, 200, 200]
    # one matching call reaching both at once: one of them uses it
    preset = {"effect": {"type": "status", "status": 503}, "count": 1, "match": {"tenant": "sk-r"}}
    assert a.call("POST", "/__mock/presets", preset, key=None)[0] == 201
    assert sorted(_at_once((a, VOICES, "sk-r"), (b, VOICES, "sk-r"))) == [200, 503]
    for mock in (a, b):
        assert mock.call("GET", "/__mock/presets", key=None)[1]["presets"] == []


def test_a_clock_advance_through_a_moves_a_task_on_b(pair: tuple[Served, Served]) -> None:
    a, b = pair
    status, made = b.call("POST", RELAY, GOOD, key="sk-clock")
    assert status == 200, made
    task = RELAY_TASK.format(made["data"])
    before = b.call("GET", task, key="sk-clock")[1]["data"]["status"]
    assert before != "SUCCESS"
    _, moved = a.call("POST", "/__mock/clock/advance", {"seconds": 600}, key=None)
    assert b.call("GET", "/__mock/clock", key=None)[1]["now"] == moved["now"]
    assert b.call("GET", task, key="sk-clock")[1]["data"]["status"] == "SUCCESS"


def _journal(mock: Served, tenant: str) -> list[dict]:
    return list(mock.call("GET", f"/__mock/journal?tenant={tenant}", key=None)[1]["entries"])


def test_the_journal_on_b_lists_the_requests_a_answered(pair: tuple[Served, Served]) -> None:
    a, b = pair
    assert a.call("GET", VOICES, key="sk-journal-a")[0] == 200
    assert a.call("GET", RELAY_TASK.format("no-such-task"), key="sk-journal-a")[0] == 400
    assert b.call("GET", VOICES, key="sk-journal-b")[0] == 200
    want = [("/avatar/voice", 200), ("/avatar/task/no-such-task", 400)]
    end = time.monotonic() + JOURNAL_S
    while len(seen := _journal(b, "sk-journal-a")) < len(want) and time.monotonic() < end:
        time.sleep(0.02)  # A sends its entries just after its answers: waiting for A, bounded
    assert [(e["path"], e["status"]) for e in seen] == want
    (own,) = _journal(b, "sk-journal-b")  # B's own answer, beside A's
    assert {e["replica"] for e in seen} != {own["replica"]}  # each names who answered it
    assert _journal(a, "sk-journal-a") == seen  # the same entries through either
    assert b.call("DELETE", "/__mock/journal", key=None)[0] == 200  # cleared through B ...
    assert _journal(a, "sk-journal-a") == []  # ... for A too
