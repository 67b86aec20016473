"""Chaos via config: fault rules, headers, magic values, presets, task chaos, hot reload."""

from __future__ import annotations

import contextlib
import json
import random

import aiohttp
import pytest

from mockserver.chaos import ChaosError, parse_fault_header
from mockserver.effects import effect_from_rule
from tests.test_youcam_ai_avatar import GOOD, RUN, STATUS, poll, run

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"


def rules(*items: str) -> str:
    return "chaos:\n  rules:\n" + "".join(f"    - {item}\n" for item in items)


async def journal(mock, **query):
    _, body = await mock.call("GET", "/__mock/journal", key=None, params=query)
    return body["entries"]


# --- fault effects ---------------------------------------------------------------------


async def test_status_rule_answers_in_the_provider_dialect(make_mock):
    mock = await make_mock(rules("{name: down, effect: {type: status, status: 503}}"))
    status, body = await mock.call("GET", TEMPLATES)
    assert status == 503 and body == {"status": 503, "error": "Service Unavailable"}
    (entry,) = await journal(mock)
    assert entry["status"] == 503 and entry["chaos"] == ["rule:down"]


async def test_status_rule_with_code_and_message(make_mock):
    mock = await make_mock(
        rules(
            "{effect: {type: status, status: 500, code: TaskTimeout,"
            " message: Task execution timed out}, match: {operation: get*Task}}"
        )
    )
    task_id = await run(mock)
    status, body = await poll(mock, task_id)
    assert status == 500
    assert body == {"status": 500, "error": "Task execution timed out", "error_code": "TaskTimeout"}


@pytest.mark.parametrize(("retry_after", "expected"), [(None, None), (30, "30")])
async def test_rate_limit_effect_with_and_without_retry_after(make_mock, retry_after, expected):
    value = "null" if retry_after is None else retry_after
    mock = await make_mock(rules(f"{{effect: {{type: rate_limit, retry_after: {value}}}}}"))
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())
    assert resp.status == 429
    assert await resp.json() == {"status": 429, "error": "Too many requests"}
    assert resp.headers.get("Retry-After") == expected


async def test_connection_reset(make_mock):
    mock = await make_mock(rules("{name: rst, effect: {type: reset}}"))
    with pytest.raises(aiohttp.ClientError):
        await mock.client.get(TEMPLATES, headers=mock.auth())
    (entry,) = await journal(mock)
    assert entry["status"] == 0 and entry["chaos"] == ["rule:rst"]


async def test_empty_reply(make_mock):
    mock = await make_mock(rules("{effect: {type: empty}}"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await mock.client.get(TEMPLATES, headers=mock.auth())


async def test_truncated_body_is_a_short_read(make_mock):
    """As on a broken connection: Content-Length promises the whole answer, half arrives, the
    connection ends, and a real client raises a payload error (not a complete, broken JSON)."""
    mock = await make_mock(rules("{effect: {type: truncate, fraction: 0.5}}"))
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())
    assert resp.status == 200
    promised = int(resp.headers["Content-Length"])
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    assert promised > 0
    head, _, body = (await raw_get(mock, TEMPLATES)).partition(b"\r\n\r\n")
    (length,) = [line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:")]
    assert 0 < len(body) < int(length.split(b":")[1])  # the server sent less than it promised
    with pytest.raises(ValueError):
        json.loads(body)


async def raw_get(mock, path: str) -> bytes:
    """Every byte the server sends for one GET, read until it closes the connection."""
    import asyncio

    reader, writer = await asyncio.open_connection(mock.client.host, mock.client.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n\r\n".encode()
    )
    data = await asyncio.wait_for(reader.read(-1), 5)
    writer.close()
    return data


async def test_malformed_body(make_mock):
    mock = await make_mock(rules("{effect: {type: malformed}}"))
    resp = await mock.client.get(TEMPLATES, headers=mock.auth())
    data = await resp.read()
    assert b"502 Bad Gateway" in data
    with pytest.raises(ValueError):
        json.loads(data)


async def test_dribbled_body_arrives_whole(make_mock):
    mock = await make_mock(rules("{effect: {type: dribble, chunk_bytes: 7, interval: 0}}"))
    resp = await mock.client.get(TEMPLATES + "?page_size=1", headers=mock.auth())
    body = await resp.json()
    assert resp.status == 200 and len(body["data"]["templates"]) == 1


async def test_status_after_the_work_loses_the_answer_not_the_task(make_mock):
    mock = await make_mock(
        rules(
            "{effect: {type: status, status: 502, phase: after},"
            " match: {operation: runAiAvatarTask}}"
        )
    )
    status, _ = await mock.call("POST", RUN, json=GOOD)
    assert status == 502
    _, tasks = await mock.call("GET", "/__mock/tasks", key=None)
    assert tasks["count"] == 1  # the provider did the work; the client never heard


def test_latency_draws_are_seeded():
    for spec in ({"uniform": [0.1, 0.9]}, {"lognormal": {"median": 0.5, "sigma": 1.0}}):
        effect = effect_from_rule({"type": "latency", "latency": spec})
        a = [effect.delay(random.Random("s")) for _ in range(3)]
        b = [effect.delay(random.Random("s")) for _ in range(3)]
        assert a == b and all(x > 0 for x in a)
    fixed = effect_from_rule({"type": "latency", "latency": {"fixed": 0.25}})
    assert fixed.delay(random.Random()) == 0.25


async def test_latency_rule_is_recorded(make_mock):
    mock = await make_mock(rules("{name: slow, effect: {type: latency, latency: {fixed: 0.01}}}"))
    assert (await mock.call("GET", TEMPLATES))[0] == 200
    (entry,) = await journal(mock)
    assert entry["chaos"] == ["rule:slow"] and entry["duration_ms"] >= 10


# --- when a rule fires -----------------------------------------------------------------


async def test_fail_the_first_n_then_succeed(make_mock):
    mock = await make_mock(rules("{effect: {type: status, status: 503}, times: 2}"))
    statuses = [(await mock.call("GET", TEMPLATES))[0] for _ in range(4)]
    assert statuses == [503, 503, 200, 200]


async def test_outage_window_on_the_clock(make_mock):
    mock = await make_mock(
        rules("{effect: {type: status, status: 503}, during: {from: 60, to: 120}}")
    )
    assert (await mock.call("GET", TEMPLATES))[0] == 200
    mock.advance(60)
    assert (await mock.call("GET", TEMPLATES))[0] == 503
    mock.advance(59)
    assert (await mock.call("GET", TEMPLATES))[0] == 503
    mock.advance(1)
    assert (await mock.call("GET", TEMPLATES))[0] == 200


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ("{tenant: sk-bad}", {"key": "sk-bad"}, {"key": "sk-good"}),
        ("{method: POST}", {"method": "POST"}, {"method": "GET"}),
        ("{operation: run*}", {"method": "POST"}, {"method": "GET"}),
        ("{path: /s2s/v2.0/task/ai-*}", {"method": "POST"}, {"method": "GET"}),
        (
            "{header: {X-Test: boom}}",
            {"headers": {"X-Test": "boom"}},
            {"headers": {"X-Test": "ok"}},
        ),
        (
            "{body: {output_count: 7}}",
            {"method": "POST", "count": 7},
            {"method": "POST", "count": 6},
        ),
        ("{provider: relay}", {"key": "none"}, {}),
    ],
)
async def test_rule_matching(make_mock, match, hit, miss):
    mock = await make_mock(rules(f"{{effect: {{type: status, status: 418}}, match: {match}}}"))

    async def send(method="GET", key="sk-test", headers=None, count=5):
        if method == "POST":
            return (
                await mock.call(
                    "POST",
                    RUN,
                    key=key,
                    json={**GOOD, "output_count": count},
                    headers=headers or {},
                )
            )[0]
        return (await mock.call("GET", TEMPLATES, key=key, headers=headers or {}))[0]

    if match != "{provider: relay}":
        assert await send(**hit) == 418
    assert await send(**miss) != 418


async def test_probability_draws_repeat_with_the_seed(make_mock):
    text = "seed: 11\n" + rules("{effect: {type: status, status: 503}, probability: 0.3}")
    runs = []
    for _ in range(2):
        mock = await make_mock(text)
        runs.append([(await mock.call("GET", TEMPLATES))[0] for _ in range(60)])
    assert runs[0] == runs[1]
    assert 5 < runs[0].count(503) < 35
    other = await make_mock(
        "seed: 12\n" + rules("{effect: {type: status, status: 503}, probability: 0.3}")
    )
    assert [(await other.call("GET", TEMPLATES))[0] for _ in range(60)] != runs[0]


# --- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("status=503", "status"),
        ("reset", "reset"),
        ("truncate=0.2", "truncate"),
        ("rate_limit=5", "rate_limit"),
        ("latency=1.5", "latency"),
        ("empty;phase=after", "empty"),
    ],
)
def test_fault_header_syntax(value, kind):
    assert parse_fault_header(value).type == kind


@pytest.mark.parametrize("value", ["status=200", "status=abc", "explode", "reset=1", "truncate=x"])
def test_bad_fault_header(value):
    with pytest.raises(ChaosError):
        parse_fault_header(value)


async def test_fault_header_beats_the_scenario(make_mock):
    mock = await make_mock(rules("{effect: {type: status, status: 503}}"))
    status, body = await mock.call("GET", TEMPLATES, headers={"X-Mock-Fault": "status=504"})
    assert status == 504 and body["status"] == 504
    (entry,) = await journal(mock)
    assert entry["chaos"] == ["header:X-Mock-Fault"]


async def test_unreadable_chaos_header_is_a_provider_error(mock):
    status, body = await mock.call("GET", TEMPLATES, headers={"X-Mock-Fault": "explode"})
    assert (
        status == 400
        and body["error_code"] == "InvalidParameters"
        and "X-Mock-Fault" in body["error"]
    )
    status, body = await mock.call("GET", TEMPLATES, headers={"X-Mock-Delay": "soon"})
    assert status == 400 and "X-Mock-Delay" in body["error"]


async def test_delay_header(mock):
    assert (await mock.call("GET", TEMPLATES, headers={"X-Mock-Delay": "0.01"}))[0] == 200
    (entry,) = await journal(mock)
    assert entry["chaos"] == ["header:X-Mock-Delay"] and entry["duration_ms"] >= 10


# --- choosing a task's outcome ---------------------------------------------------------


async def test_magic_value_in_the_payload(mock):
    task_id = await run(mock, src_file_url="https://cdn.example/fail-nsfw/me.jpg")
    mock.advance(30)
    _, body = await poll(mock, task_id)
    assert body["data"]["error"] == "error_nsfw_content_detected"
    entries = await journal(mock, operation="runAiAvatarTask")
    assert entries[0]["chaos"] == ["magic:youcam-nsfw"]


async def test_magic_stuck_task_never_finishes(mock):
    task_id = await run(mock, src_file_url="https://e.x/mock-stuck.jpg")
    for _ in range(3):
        mock.advance(50)
        _, body = await poll(mock, task_id)
        assert body["data"]["task_status"] == "running"


async def test_precedence_header_then_magic_then_preset_then_scenario(make_mock):
    mock = await make_mock("providers: {youcam: {families: {ai-avatar: {failure_rate: 1.0}}}}")

    async def ends(headers=None, url="https://e.x/a.jpg"):
        task_id = await run(mock, headers=headers, src_file_url=url)
        mock.advance(30)
        _, body = await poll(mock, task_id)
        return body["data"]["task_status"], body["data"]["error"]

    assert (await ends())[0] == "error"  # scenario: always fails
    await mock.call("POST", "/__mock/presets", key=None, json={"outcome": "success", "count": 2})
    assert await ends() == ("success", None)  # preset beats scenario
    assert (await ends(url="https://e.x/fail-no-face.jpg"))[1] == "error_no_face"  # magic > preset
    headers = {"X-Mock-Outcome": "success"}
    assert await ends(headers, url="https://e.x/fail-no-face.jpg") == (
        "success",
        None,
    )  # header wins
    assert await ends() == (
        "success",
        None,
    )  # magic and header left the preset unused: its last use
    assert (await ends())[0] == "error"


async def test_presets_are_listed_matched_and_cleared(mock):
    status, preset = await mock.call(
        "POST",
        "/__mock/presets",
        key=None,
        json={"match": {"tenant": "sk-b"}, "effect": {"type": "status", "status": 503}, "count": 2},
    )
    assert status == 201 and preset["remaining"] == 2
    assert (await mock.call("GET", TEMPLATES, key="sk-a"))[0] == 200
    assert (await mock.call("GET", TEMPLATES, key="sk-b"))[0] == 503
    _, listed = await mock.call("GET", "/__mock/presets", key=None)
    assert listed["presets"][0]["remaining"] == 1
    await mock.call("DELETE", "/__mock/presets", key=None)
    assert (await mock.call("GET", TEMPLATES, key="sk-b"))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"outcome": "maybe"},
        {"outcome": "success", "effect": {"type": "reset"}},
        {"effect": {"type": "explode"}},
        {"outcome": "failure", "count": 0},
    ],
)
async def test_invalid_presets_are_refused(mock, body):
    status, answer = await mock.call("POST", "/__mock/presets", key=None, json=body)
    assert status == 400 and answer["problems"]


# --- task chaos ------------------------------------------------------------------------


async def test_scenario_stuck_tasks(make_mock):
    mock = await make_mock(
        "providers: {youcam: {families: {ai-avatar: {stuck: {state: running, rate: 1.0}}}}}"
    )
    task_id = await run(mock)
    mock.advance(40)
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "running"


async def test_queue_pressure_makes_later_tasks_slower(make_mock):
    mock = await make_mock(
        "providers: {youcam: {families: {ai-avatar: {states: {running: 10},"
        " queue_pressure: {state: running, seconds_per_running_task: 5}}}}}"
    )
    ids = [await run(mock) for _ in range(3)]
    ends = [mock.state.store.get("youcam", "sk-test", i).timeline.ends_at for i in ids]
    start = mock.clock.now()
    assert [e - start for e in ends] == [10, 15, 20]


async def test_running_task_limit_per_tenant(make_mock):
    mock = await make_mock(
        "providers: {youcam: {families: {ai-avatar: {max_running_per_tenant: 2}}}}"
    )
    await run(mock)
    await run(mock)
    status, body = await mock.call("POST", RUN, json=GOOD)
    assert status == 429 and body == {"status": 429, "error": "Too many requests"}
    assert (await mock.call("POST", RUN, key="sk-other", json=GOOD))[0] == 200  # per tenant
    mock.advance(30)
    assert (await mock.call("POST", RUN, json=GOOD))[0] == 200


# --- hot reload ------------------------------------------------------------------------


async def test_put_scenario_keeps_tasks_tenants_and_journal(mock):
    task_id = await run(mock)
    resp = await mock.client.put(
        "/__mock/scenario",
        data="seed: 5\n"
        + rules("{name: new, effect: {type: status, status: 503}, match: {operation: list*}}"),
    )
    assert resp.status == 200
    view = await resp.json()
    assert view["scenario"]["seed"] == 5 and view["rules"][0]["name"] == "new"
    assert (await mock.call("GET", TEMPLATES))[0] == 503
    mock.advance(30)
    _, body = await poll(mock, task_id)
    assert body["data"]["task_status"] == "success"
    assert len(await journal(mock)) == 3  # submit, refused list, poll: nothing lost


async def test_invalid_scenario_is_refused_and_the_old_one_stays(mock):
    resp = await mock.client.put("/__mock/scenario", data="seed: 1\nprovidrs: {}\n")
    assert resp.status == 400
    body = await resp.json()
    assert "providrs" in body["problems"][0] and "line 2" in body["problems"][0]
    _, view = await mock.call("GET", "/__mock/scenario", key=None)
    assert view["scenario"]["name"] == "default"


async def test_watcher_reloads_a_changed_file(tmp_path, mock):
    import os

    from mockserver.watch import ScenarioWatcher

    path = tmp_path / "s.yaml"
    path.write_text("seed: 1\n")
    watcher = ScenarioWatcher(mock.client.server.app, path)
    assert watcher.check() is None
    path.write_text("seed: 1\n" + rules("{effect: {type: status, status: 503}}"))
    os.utime(path, ns=(1, 10**18))
    assert watcher.check() == "reloaded"
    assert (await mock.call("GET", TEMPLATES))[0] == 503
    path.write_text("seed: [broken\n")
    os.utime(path, ns=(1, 2 * 10**18))
    assert watcher.check() == "refused"
    assert (await mock.call("GET", TEMPLATES))[0] == 503  # the valid scenario stays


# --- reproducible ----------------------------------------------------------------------


async def test_same_seed_same_answers_over_hundreds_of_requests(make_mock):
    text = (
        "seed: 21\n"
        + rules(
            "{effect: {type: status, status: 503}, probability: 0.1}",
            "{effect: {type: truncate, fraction: 0.5}, probability: 0.05}",
        )
        + "providers: {youcam: {families: {ai-avatar:"
        " {failure_rate: 0.3, states: {running: {min: 1, max: 20}}}}}}\n"
    )

    async def session(mock):
        transcript, tasks = [], []
        for i in range(300):
            if i % 3 == 0:
                resp = await mock.client.post(RUN, json=GOOD, headers=mock.auth())
            elif tasks:
                resp = await mock.client.get(
                    STATUS.format(tasks[i % len(tasks)]), headers=mock.auth()
                )
            else:
                resp = await mock.client.get(TEMPLATES, headers=mock.auth())
            origin = str(mock.client.make_url("")).rstrip("/").encode()
            try:
                raw = (await resp.read()).replace(origin, b"ORIGIN")  # ports differ
            except aiohttp.ClientPayloadError:  # a truncated answer: the connection broke
                raw = b"<short read>"
            transcript.append((resp.status, raw))
            # only a submit that got through names a task; faults and polls do not
            with contextlib.suppress(ValueError, KeyError, TypeError):
                tasks.append(json.loads(raw)["data"]["task_id"])
            mock.advance(1)
        return transcript

    # signed links differ between processes unless they share a secret (mockserver/issuer.py)
    secret = "shared-by-both-replicas"
    first = await session(await make_mock(text, secret=secret))
    second = await session(await make_mock(text, secret=secret))
    assert first == second
    statuses = {s for s, _ in first}
    assert {200, 503} <= statuses
    third = await session(await make_mock(text.replace("seed: 21", "seed: 22")))
    assert third != first
