"""The pipeline's steps, each alone on a request that never touched a socket, and how an
operation's steps are composed.

The end-to-end behaviour (every provider, every fault) is covered by the provider and chaos
tests; these pin what each step does by itself, so a step can be changed or reordered and
the failure names the step.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from mockserver import pipeline
from mockserver.app import create_app
from mockserver.clock import ClockError, RealClock, VirtualClock
from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.journal import Entry, Journal
from mockserver.keys import STATE_KEY
from mockserver.params import ParamsError
from mockserver.registry import providers
from mockserver.scenario import parse_text
from mockserver.spec import Operation
from mockserver.state import MockState, ServerOptions
from tests.conftest import START

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

BODY = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
}


def operation(*, body: bool = False, path_param: bool = False, query: bool = False) -> Operation:
    """A one-operation spec of the test's own, in the a2e provider's name."""
    raw: dict[str, Any] = {
        "operationId": "stepsUnderTest",
        "responses": {
            "200": {
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": ["ok"]},
                    }
                }
            }
        },
    }
    params = []
    if path_param:
        params.append({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}})
    if query:
        params.append({"name": "n", "in": "query", "schema": {"type": "integer", "maximum": 9}})
    if params:
        raw["parameters"] = params
    if body:
        raw["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": BODY}},
        }
    return Operation("a2e", "stepsUnderTest", "POST", "/steps/{id}", raw, [], {})


def make_state(scenario: str | None = None, strict: bool = True) -> MockState:
    app = create_app(
        parse_text(scenario) if scenario else None,
        VirtualClock(start=START, speed=0.0),
        ServerOptions(strict=strict),
    )
    return app[STATE_KEY]


def make_request(
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    path: str = "/steps/7",
    match_info: dict[str, str] | None = None,
    client_max_size: int = 1024**2,
    whole: bool = True,
) -> web.Request:
    """A request whose body has arrived (``whole``), or arrives on the loop's next turn."""
    payload = StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_event_loop())
    if whole:
        payload.feed_data(body)
        payload.feed_eof()
    else:
        loop = asyncio.get_event_loop()
        loop.call_soon(payload.feed_data, body)
        loop.call_soon(payload.feed_eof)
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("10.0.0.1", 40000)
    return make_mocked_request(
        "POST",
        path,
        headers={"Authorization": "Bearer sk-steps", **(headers or {})},
        payload=payload,
        match_info=match_info if match_info is not None else {"id": "7"},
        transport=transport,
        client_max_size=client_max_size,
    )


def context(state: MockState, op: Operation, request: web.Request, name: str = "a2e"):
    return RequestContext(request, state, providers()[name], op, state.clock.now())


def a2e_envelope(reply: pipeline.Reply) -> tuple[int, Any]:
    status, payload, _ = reply
    return status, {k: v for k, v in payload.items() if k != "trace_id"}


# --- one step at a time --------------------------------------------------------------------------


async def test_authenticate_takes_the_callers_key_or_refuses_in_the_providers_words():
    state = make_state()
    steps = pipeline.compose(state, providers()["a2e"], operation(), _answers_ok)
    ctx = context(state, operation(), make_request())
    assert await pipeline.work(ctx, steps) == (200, {"ok": True}, None)
    assert ctx.key == "sk-steps"

    anonymous = context(state, operation(), make_request(headers={"Authorization": ""}))
    status, payload = a2e_envelope(await pipeline.work(anonymous, steps))
    assert status == 401 and payload["code"] == 401 and payload["data"] is None


async def test_limit_does_nothing_without_rules_and_refuses_past_them():
    free = context(make_state(), operation(), make_request())
    for _ in range(5):
        pipeline.limit(free)  # no rules in the default a2e scenario: never a refusal

    scenario = "providers: {a2e: {rate_limits: [{per: key, limit: 1, window: 60}]}}"
    state = make_state(scenario)
    first = context(state, operation(), make_request())
    first.key = "sk-steps"
    pipeline.limit(first)
    second = context(state, operation(), make_request())
    second.key = "sk-steps"
    with pytest.raises(ApiError) as refusal:
        pipeline.limit(second)
    status, payload, headers = pipeline.refused(second, refusal.value)
    assert (status, payload["code"]) == (429, 429)
    assert headers == {"Retry-After": "60"}  # A2E says how long, in the header and message
    assert "retry after 60 s" in payload["msg"]


async def test_reads_params_puts_the_checked_parameters_on_the_context():
    op = operation(path_param=True, query=True)
    state = make_state()
    steps = pipeline.compose(state, providers()["a2e"], op, _never_called)
    assert steps.params is not None
    assert steps.params(make_request(path="/steps/7?n=3")) == {"id": "7", "n": 3}

    too_big = context(state, op, make_request(path="/steps/7?n=12"))
    with pytest.raises(ParamsError):
        steps.params(too_big.request)
    status, payload = a2e_envelope(pipeline.refused(too_big, ParamsError("n: too big")))
    assert status == 400 and payload["msg"] == "Bad Request: n: too big"


async def test_read_body_checks_the_schema_and_makes_whole_floats_integers():
    op = operation(body=True)
    state = make_state()
    ctx = context(state, op, make_request(b'{"name": "a", "count": 2.0}', JSON_TYPE))
    await pipeline.body_reader(op)(ctx)
    assert ctx.body == {"name": "a", "count": 2} and type(ctx.body["count"]) is int


@pytest.mark.parametrize(
    ("raw", "headers", "message"),
    [
        (b"", {}, "Bad Request: a JSON request body is required"),
        (
            b" \r\n\t",
            {"Content-Type": "application/json"},
            "Bad Request: a JSON request body is required",
        ),
        (
            b'{"name": "a"}',
            {"Content-Type": "application/json; charset=latin-1"},
            "Bad Request: charset",
        ),
        (b'{"name": 1}', {"Content-Type": "application/json"}, "Bad Request: name"),
        (b'{"name": "a"}', {"Content-Type": "image/png"}, "Bad Request: Content-Type image/png"),
        (b'{"name": NaN}', {"Content-Type": "application/json"}, "Bad Request: "),
    ],
)
async def test_read_body_refuses_in_the_providers_words(raw, headers, message):
    op = operation(body=True)
    ctx = context(make_state(), op, make_request(raw, headers))
    with pytest.raises(ApiError) as refusal:
        await pipeline.body_reader(op)(ctx)
    status, payload = a2e_envelope(pipeline.refused(ctx, refusal.value))
    assert status == 400 and payload["msg"].startswith(message)


@pytest.mark.parametrize("whole", [True, False])
async def test_read_body_reads_a_body_whole_or_arriving_and_refuses_one_over_the_limit(whole):
    op = operation(body=True)
    raw = b'{"name": "' + b"a" * 40 + b'"}'
    ctx = context(make_state(), op, make_request(raw, JSON_TYPE, client_max_size=64, whole=whole))
    await pipeline.body_reader(op)(ctx)
    assert ctx.body == {"name": "a" * 40}

    over = raw.replace(b"a" * 40, b"a" * 60)
    ctx = context(make_state(), op, make_request(over, JSON_TYPE, client_max_size=64, whole=whole))
    with pytest.raises(ApiError) as refusal:
        await pipeline.body_reader(op)(ctx)
    status, payload = a2e_envelope(pipeline.refused(ctx, refusal.value))
    assert status == 413 and payload["code"] == 413 and "over" in payload["msg"]


async def test_read_body_reads_a_body_something_read_before_it():
    """Chaos reads the body first where a rule matches on it; the body step still has it."""
    op = operation(body=True)
    request = make_request(b'{"name": "a"}', JSON_TYPE)
    assert await request.read() == b'{"name": "a"}'
    ctx = context(make_state(), op, request)
    await pipeline.body_reader(op)(ctx)
    assert ctx.body == {"name": "a"}


async def test_check_response_turns_a_contract_breach_into_the_providers_500():
    state = make_state()
    ctx = context(state, operation(), make_request())
    good = (200, {"ok": True}, None)
    assert pipeline.check_response(ctx, good) is good
    assert not state.violations

    status, payload, headers = pipeline.check_response(ctx, (200, {"nope": 1}, {"X-A": "1"}))
    assert status == 500 and "violates the contract" in payload["msg"]
    assert headers == {"X-A": "1"}
    (violation,) = state.violations
    assert violation["operation_id"] == "stepsUnderTest" and violation["body"] == {"nope": 1}


async def test_provider_headers_go_on_every_answer_and_a_refusals_own_win():
    def hook(ctx: RequestContext) -> dict[str, str]:
        return {"X-Request-Id": "r1", "Retry-After": "1"}

    ctx = context(make_state(), operation(), make_request())
    plain = pipeline.provider_headers(ctx, hook, None)
    assert plain == {"X-Request-Id": "r1", "Retry-After": "1"}
    refusal = pipeline.provider_headers(ctx, hook, {"Retry-After": "30"})
    assert refusal == {"X-Request-Id": "r1", "Retry-After": "30"}


async def test_journal_records_what_answered_and_internal_error_is_the_providers_500():
    state = make_state()
    ctx = context(state, operation(), make_request(path="/steps/7?x=%20"))
    ctx.key = "sk-steps"
    ctx.chose("header:X-Mock-Fault")
    response = pipeline.internal_error(ctx)
    pipeline.journal(ctx, response, started=0.0)
    assert response.status == 500
    (entry,) = state.journal.entries()
    assert entry["status"] == 500 and entry["operation_id"] == "stepsUnderTest"
    assert (entry["tenant"], entry["ip"], entry["query"]) == ("sk-steps", "10.0.0.1", "x= ")
    assert entry["chaos"] == ["header:X-Mock-Fault"] and entry["at"] == START


# --- composition ---------------------------------------------------------------------------------


async def _never_called(ctx: RequestContext) -> Any:
    raise AssertionError("the handler ran")


async def _answers_ok(ctx: RequestContext) -> Any:
    return {"ok": True}


def test_a_bodyless_operation_without_parameters_has_no_body_or_params_step():
    steps = pipeline.compose(make_state(), providers()["a2e"], operation(), _never_called)
    assert steps.authenticate is providers()["a2e"].authenticate
    assert steps.checks == ()  # the default scenario sets no rate limit for a2e
    assert steps.params is None and steps.body is None
    assert steps.finish == (pipeline.check_response,)  # strict mode
    assert steps.headers is None  # a2e adds no headers of its own


def test_compose_takes_only_what_the_operation_the_provider_and_the_options_need():
    op = operation(body=True, path_param=True)
    lax = pipeline.compose(make_state(strict=False), providers()["relay"], op, _never_called)
    assert lax.authenticate is providers()["relay"].authenticate
    assert lax.checks == () and lax.params is not None
    assert lax.body is not None and lax.body.__name__ == "read_body"
    assert lax.finish == ()  # no response check outside strict mode
    assert lax.headers is providers()["relay"].response_headers


def test_the_rate_limit_step_is_composed_only_where_the_scenario_sets_limits():
    scenario = "providers: {relay: {rate_limits: [{per: ip, limit: 5, window: 1}]}}"
    state = make_state(scenario)
    limited = pipeline.compose(state, providers()["relay"], operation(), _never_called)
    free = pipeline.compose(state, providers()["a2e"], operation(), _never_called)
    assert limited.checks == (pipeline.limit,)
    assert free.checks == ()


async def test_a_refused_check_stops_the_work_before_the_handler():
    state = make_state()
    op = operation(body=True)
    steps = pipeline.compose(state, providers()["a2e"], op, _never_called)
    ctx = context(state, op, make_request(b'{"name": "a"}', {"Authorization": ""}))
    status, payload = a2e_envelope(await pipeline.work(ctx, steps))
    assert (status, payload["code"]) == (401, 401)
    assert ctx.body == {}  # refused at authenticate: the body was never read


async def test_a_defect_in_a_handler_is_the_providers_500_and_is_journaled():
    state = make_state()

    async def broken(ctx: RequestContext) -> Any:
        raise RuntimeError("a bug in the mock")

    endpoint = pipeline.make_endpoint(state, providers()["a2e"], operation(), broken)
    response = await endpoint(make_request())
    assert response.status == 500
    assert response.body is not None and b'"Internal Server Error: internal error"' in response.body
    (entry,) = state.journal.entries()
    assert (entry["status"], entry["tenant"]) == (500, "sk-steps")


async def test_a_replaced_scenario_limits_an_operation_already_composed(mock):
    """An operation is composed again under a new scenario: PUT /__mock/scenario adds (or
    drops) rate limits for operations that already answered under the old one."""
    path = "/api/v1/user/remainingCoins"
    for _ in range(3):
        assert (await mock.call("GET", path))[0] == 200
    scenario = "providers: {a2e: {rate_limits: [{per: key, limit: 1, window: 60}]}}"
    status, _ = await mock.call("PUT", "/__mock/scenario", key=None, data=scenario)
    assert status == 200
    assert (await mock.call("GET", path))[0] == 200
    status, body = await mock.call("GET", path)
    assert status == 429 and body["code"] == 429

    status, _ = await mock.call("PUT", "/__mock/scenario", key=None, data="name: unlimited")
    assert status == 200
    for _ in range(3):  # composed again without the limit: never refused
        assert (await mock.call("GET", path))[0] == 200


# --- the journal and the clock -----------------------------------------------------------------


def test_the_journal_numbers_entries_across_its_bound_and_a_clear():
    journal = Journal(size=2)
    for status in (200, 201, 202):
        journal.add(Entry(0.0, "GET", "/a", status, None, None, None, None, 0.0, None))
    assert [(e["seq"], e["status"]) for e in journal.entries()] == [(2, 201), (3, 202)]
    journal.clear()
    journal.add(Entry(0.0, "GET", "/a", 204, None, None, None, None, 0.0, None))
    assert [e["seq"] for e in journal.entries()] == [4]  # numbers are never reused


async def test_the_real_clock_refuses_a_speed_through_the_protocol():
    with pytest.raises(ClockError):
        RealClock().set_speed(2.0)
    client = TestClient(TestServer(create_app(None, RealClock(), ServerOptions())))
    await client.start_server()
    try:
        resp = await client.put("/__mock/clock", json={"speed": 2})
        assert resp.status == 409
        assert "start with --clock virtual" in (await resp.json())["error"]
    finally:
        await client.close()


JSON_TYPE = {"Content-Type": "application/json"}
