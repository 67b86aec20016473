"""Chaos effects as registered classes, and chaos numbers the mock can use.

A fault is one class registered by its key (mockserver/effects.py); the scenario schema lists
exactly the registered keys. Every number a chaos header, rule, preset or webhook-chaos rule
gives is read by mockserver/numbers.py: a NaN, an infinity or an out-of-range value is a 400
naming the header or field, never a sleep that never ends.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import ClassVar

import pytest
from aiohttp import web

from mockserver.effects import EFFECTS, Effect
from mockserver.resources import contracts_dir
from mockserver.scenario import ScenarioError, parse_text
from tests.test_chaos import TEMPLATES, rules

A2E_LIST = "/api/v1/anchor/character_list"
RELAY_VOICES = "/avatar/voice"


def _schema_effect() -> dict:
    schema = json.loads((contracts_dir() / "scenario.schema.json").read_text())
    return schema["$defs"]["effect"]


# --- the registry ----------------------------------------------------------------------


def test_the_schema_lists_exactly_the_registered_effects_and_their_fields():
    effect = _schema_effect()
    assert effect["properties"]["type"]["enum"] == list(EFFECTS)
    for key, cls in EFFECTS.items():
        missing = set(cls.field_names()) - set(effect["properties"])
        assert not missing, f"{key}: fields the schema does not know: {missing}"
        assert set(cls.phases) <= set(effect["properties"]["phase"]["enum"])


def test_a_second_effect_under_a_taken_key_is_refused():
    with pytest.raises(TypeError, match="'status' is registered twice"):

        @dataclass(frozen=True)
        class AnotherStatus(Effect, key="status"):
            pass

    assert EFFECTS["status"].__name__ == "Status"


@pytest.fixture
def teapot():
    """A throw-away fault: one class, nothing else edited."""

    @dataclass(frozen=True)
    class Teapot(Effect, key="test_teapot"):
        header_field: ClassVar[str | None] = None

        async def act(self, request, dialect):
            return web.Response(status=418, text="short and stout")

    yield Teapot
    del EFFECTS["test_teapot"]


async def test_adding_a_fault_is_one_class(mock, teapot):
    resp = await mock.client.get(TEMPLATES, headers={**mock.auth(), "X-Mock-Fault": "test_teapot"})
    assert resp.status == 418 and await resp.text() == "short and stout"
    preset = mock.state.chaos.add_preset({"effect": {"type": "test_teapot"}, "count": 1})
    assert preset.effect is not None
    assert (await mock.call("GET", TEMPLATES))[0] == 418
    assert (await mock.call("GET", TEMPLATES))[0] == 200  # the preset was used up


@pytest.mark.parametrize("value", ["truncate;phase=before", "latency=1;phase=after", "dribble=3"])
async def test_a_phase_or_value_an_effect_does_not_take_is_refused(mock, value):
    status, body = await mock.call("GET", TEMPLATES, headers={"X-Mock-Fault": value})
    assert status == 400 and body["error_code"] == "InvalidParameters"
    assert "X-Mock-Fault" in body["error"]


# --- numbers in headers ------------------------------------------------------------------


BAD_HEADERS = [
    ("X-Mock-Delay", "nan"),
    ("X-Mock-Delay", "inf"),
    ("X-Mock-Delay", "1e309"),
    ("X-Mock-Delay", "-1"),
    ("X-Mock-Delay", "601"),
    ("X-Mock-Fault", "latency=nan"),
    ("X-Mock-Fault", "latency=1e308"),
    ("X-Mock-Fault", "truncate=nan"),
    ("X-Mock-Fault", "truncate=1.5"),
    ("X-Mock-Fault", "rate_limit=inf"),
    ("X-Mock-Fault", "rate_limit=-3"),
    ("X-Mock-Fault", "status=1e309"),
    ("X-Mock-Fault", "gateway=404"),
    ("X-Mock-Fault", "gateway_timeout=nan"),
]


@pytest.mark.parametrize(("header", "value"), BAD_HEADERS)
async def test_unusable_chaos_numbers_get_the_providers_400_naming_the_header(mock, header, value):
    headers = {header: value}
    status, body = await asyncio.wait_for(mock.call("GET", TEMPLATES, headers=headers), 5)
    assert status == 400 and body["error_code"] == "InvalidParameters", body
    assert header in body["error"]
    status, body = await asyncio.wait_for(mock.call("GET", A2E_LIST, headers=headers), 5)
    assert status == 400 and body["code"] == 400 and header in body["msg"]
    status, body = await asyncio.wait_for(mock.call("GET", RELAY_VOICES, headers=headers), 5)
    assert status == 400 and body["code"] == "invalid_request" and header in body["message"]


async def test_nan_delays_do_not_stall_anyone_else(make_mock):
    """Twenty NaN delays once broke every timer of the server, for every tenant."""
    mock = await make_mock(
        rules("{match: {tenant: sk-slow}, effect: {type: latency, latency: {fixed: 0.01}}}")
    )
    for _ in range(20):
        status, _ = await asyncio.wait_for(
            mock.call("GET", TEMPLATES, key="sk-a", headers={"X-Mock-Delay": "nan"}), 5
        )
        assert status == 400
    delayed = mock.call("GET", TEMPLATES, key="sk-b", headers={"X-Mock-Delay": "0.01"})
    assert (await asyncio.wait_for(delayed, 5))[0] == 200
    assert (await asyncio.wait_for(mock.call("GET", TEMPLATES, key="sk-slow"), 5))[0] == 200


# --- numbers in scenarios, presets and webhook chaos ---------------------------------------


BAD_RULES = [
    ("{effect: {type: latency, latency: {fixed: .nan}}}", "chaos.rules.0.effect.latency.fixed"),
    ("{effect: {type: latency, latency: {uniform: [0, .inf]}}}", "chaos.rules.0.effect.latency"),
    (
        "{effect: {type: latency, latency: {lognormal: {median: .nan, sigma: 1}}}}",
        "chaos.rules.0.effect.latency",
    ),
    ("{effect: {type: rate_limit, retry_after: .nan}}", "chaos.rules.0.effect.retry_after"),
    ("{effect: {type: truncate, fraction: .nan}}", "chaos.rules.0.effect.fraction"),
    ("{effect: {type: dribble, interval: .nan}}", "chaos.rules.0.effect.interval"),
    ("{effect: {type: gateway_timeout, seconds: .nan}}", "chaos.rules.0.effect.seconds"),
    ("{effect: {type: status}, probability: .nan}", "chaos.rules.0.probability"),
    ("{effect: {type: status}, during: {from: .nan}}", "chaos.rules.0.during.from"),
    ("{effect: {type: truncate, phase: before}}", "chaos.rules.0.effect.phase"),
]


@pytest.mark.parametrize(("rule", "field"), BAD_RULES)
async def test_a_scenario_with_unusable_chaos_numbers_is_refused_naming_the_field(
    mock, rule, field
):
    with pytest.raises(ScenarioError) as caught:
        parse_text(rules(rule))
    assert any(field in problem for problem in caught.value.problems), caught.value.problems
    resp = await mock.client.put("/__mock/scenario", data=rules(rule))
    assert resp.status == 400
    body = await resp.json()
    assert any(field in p for p in body["problems"])
    _, view = await mock.call("GET", "/__mock/scenario", key=None)
    assert view["rules"] == []  # the scenario in force did not change


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("webhooks: {chaos: [{effect: delay, seconds: .nan}]}", "webhooks.chaos.0.seconds"),
        ("webhooks: {chaos: [{effect: drop, probability: .nan}]}", "webhooks.chaos.0.probability"),
    ],
)
def test_webhook_chaos_numbers_are_checked(text, field):
    with pytest.raises(ScenarioError) as caught:
        parse_text(text)
    assert any(field in problem for problem in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"effect": {"type": "latency", "latency": {"fixed": NaN}}}', "effect.latency.fixed"),
        ('{"effect": {"type": "rate_limit", "retry_after": NaN}}', "effect.retry_after"),
        ('{"effect": {"type": "truncate", "fraction": 1e308}}', "fraction"),
        ('{"effect": {"type": "status"}, "count": 1e308}', "count"),
    ],
)
async def test_a_preset_with_unusable_numbers_is_refused_and_nothing_is_queued(mock, body, field):
    resp = await mock.client.post(
        "/__mock/presets", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400, await resp.text()
    answer = await resp.json()
    assert answer["status"] == 400
    if "NaN" not in body:  # a NaN may also be refused earlier, by a stricter JSON reader
        assert field in json.dumps(answer["problems"])
    _, listed = await mock.call("GET", "/__mock/presets", key=None)
    assert listed["presets"] == []
    assert (await mock.call("GET", TEMPLATES))[0] == 200
