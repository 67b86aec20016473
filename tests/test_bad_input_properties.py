"""Property: whatever a client sends, every operation answers in its provider's documented shape.

Hypothesis throws arbitrary JSON bodies, ids and query strings at every operation of every
provider. The server must never answer 5xx, and (strict mode) every answer must validate
against the operation's documented response for that status.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.registry import providers
from mockserver.spec import load_operations
from tests.conftest import start_mock

OPERATIONS = [op for name in sorted(providers()) for op in load_operations(name)]


def _table_generated(op) -> bool:
    """YouCam's ~70 AI features share one generic handler per role (features.yaml): each of
    their operations gets fewer examples, so all are still covered and the module stays fast.
    The hand-written ones, and the seed flow (AI Avatar), keep the full count."""
    return (
        op.provider == "youcam"
        and op.path.startswith(("/s2s/v2.0/task/", "/s2s/v2.1/task/", "/s2s/v2.0/file/"))
        and "ai-avatar" not in op.path
        and op.operation_id != "deleteTask"
    )


FULL = [op for op in OPERATIONS if not _table_generated(op)]
SHARED = [op for op in OPERATIONS if _table_generated(op)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)


def _body_for(op):
    """Mostly objects that use the operation's own field names, sometimes anything at all."""
    names = list((op.body_schema or {}).get("properties", {})) or ["x"]
    shaped = st.dictionaries(st.sampled_from(names), json_values, max_size=len(names) + 1)
    return st.one_of(shaped, json_values)


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def server(loop):
    mock, client = loop.run_until_complete(start_mock())
    yield mock
    loop.run_until_complete(client.close())


def _ids(op):
    return f"{op.provider}.{op.operation_id}"


@pytest.mark.parametrize("op", FULL, ids=_ids)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_input_gets_a_documented_answer(loop, server, op, data):
    _check(loop, server, op, data)


@pytest.mark.parametrize("op", SHARED, ids=_ids)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_input_to_a_table_feature_gets_a_documented_answer(loop, server, op, data):
    _check(loop, server, op, data)


def _check(loop, server, op, data):
    path = re.sub(
        r"\{[^}]+\}",
        lambda _: quote(data.draw(st.text(min_size=1, max_size=30)), safe=""),
        op.path,
    )
    query = data.draw(
        st.dictionaries(
            st.sampled_from([p.name for p in op.params if p.location == "query"] or ["q"]),
            st.text(max_size=10),
            max_size=3,
        )
    )
    kwargs = {"params": query, "headers": {"Authorization": "Bearer sk-fuzz"}}
    if op.body_schema is not None:
        raw = json.dumps(data.draw(_body_for(op)))
        kwargs["data"] = raw.encode()
        kwargs["headers"]["Content-Type"] = "application/json"

    async def call():
        resp = await server.client.request(op.method, path, **kwargs)
        return resp.status, await resp.read()

    status, body = loop.run_until_complete(call())
    assert status < 500, (op.operation_id, status, body[:300])
    json.loads(body)  # always JSON, never an HTML page or a traceback
    assert not server.state.violations, server.state.violations


# --- the classes of input no reader may let through (issue #12) -------------------------
#
# Every operation with a body gets one that holds a number that is not finite, a lone
# surrogate, nesting past any provider's, or a charset other than UTF-8; every operation with
# a query or a path parameter gets non-numbers where numbers go and invalid UTF-8 where text
# goes. Each must be refused in the provider's envelope (never 5xx) and change nothing: no
# task, no side-store entry, no balance or history entry of the tenant that sent it.

POISON_KEY = "sk-poison"
NOT_FINITE = st.sampled_from(
    [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-1e400", b"1" + b"0" * 400, b"nan"]
)
SURROGATES = st.sampled_from([b'"\\udc00"', b'"\\ud800"', b'"x\\udfffy"', b'"\\ud800\\ud800"'])
TOO_DEEP = st.integers(min_value=65, max_value=3000).map(lambda n: b"[" * n + b"]" * n)
ODD_CHARSETS = st.sampled_from(
    ["foo", "latin-1", "utf-16", "utf-32", "cp1252", "x" * 200, "iso-8859-1"]
)
BAD_NUMBERS = st.sampled_from(
    ["nan", "NaN", "inf", "-Infinity", "1e309", "1e308", "1_000", "\u0663", "9" * 40, "-1", "0x1"]
)
BAD_UTF8 = st.sampled_from(["%ED%B0%80", "%FF", "%C3%28", "%F4%90%80%80", "%C0%AF", "%E2%82"])
BODY_OPS = [op for op in OPERATIONS if op.body_schema is not None]
QUERY_OPS = [
    op for op in OPERATIONS if "{" in op.path or any(p.location == "query" for p in op.params)
]


@pytest.fixture(scope="module")
def poison_server(loop):
    """A server with no rate limits (a 429 would hide what the body does) and a tenant that
    already exists, so what a tenant's first request makes is not taken for the poison's."""
    from mockserver.scenario import parse_text

    scenario = parse_text(
        "providers: {youcam: {rate_limits: []}, relay: {rate_limits: []}, a2e: {rate_limits: []}}"
    )
    mock, client = loop.run_until_complete(start_mock(scenario))

    async def warm():
        for path in ("/s2s/v1.0/client/credit", "/api/v1/user/remainingCoins"):
            resp = await client.get(path, headers={"Authorization": f"Bearer {POISON_KEY}"})
            assert resp.status == 200

    loop.run_until_complete(warm())
    yield mock
    loop.run_until_complete(client.close())


def _names(op) -> list[str]:
    return list((op.body_schema or {}).get("properties", {})) or ["x"]


@st.composite
def poisoned_body(draw, names: list[str]) -> bytes:
    """A JSON object text with one poisoned member among ordinary ones, at any depth."""
    poisoned = draw(st.sampled_from(names))
    fields = draw(st.dictionaries(st.sampled_from(names), json_values, max_size=3))
    fields.pop(poisoned, None)  # a later duplicate would replace the poison (the last wins)
    parts = [json.dumps(k).encode() + b": " + json.dumps(v).encode() for k, v in fields.items()]
    if draw(st.booleans()):
        bad = draw(st.one_of(NOT_FINITE, SURROGATES, TOO_DEEP))
        for _ in range(draw(st.integers(0, 3))):
            bad = draw(st.sampled_from([b"[%s]", b'{"k": %s}', b'[1, {"a": %s}]'])) % bad
        member = json.dumps(poisoned).encode() + b": " + bad
    else:  # the surrogate in a key
        member = draw(SURROGATES) + b": " + json.dumps(draw(json_values)).encode()
    parts.insert(draw(st.integers(0, len(parts))), member)
    return b"{" + b", ".join(parts) + b"}"


def footprint(state) -> tuple:
    tenant = state.accounts.existing(POISON_KEY)
    stores = state.stores.sizes()
    return len(state.store), stores, dict(tenant.balances), len(tenant.history)


def is_refusal(provider: str, status: int, body) -> bool:
    """The provider's own refusal envelope (errors.py dialects)."""
    if not isinstance(body, dict):
        return False
    if provider == "a2e":
        return isinstance(body.get("code"), int) and body["code"] != 0 and "msg" in body
    if provider == "youcam":
        return body.get("status") == status and isinstance(body.get("error"), str)
    gateway = isinstance(body.get("error"), dict)  # new-api's own 401/429
    return gateway or (body.get("code") not in (None, "success") and "message" in body)


def _send(loop, server, method, url, **kwargs):
    async def call():
        resp = await server.client.request(method, url, **kwargs)
        return resp.status, await resp.read()

    return loop.run_until_complete(call())


def _concrete_path(op, segment: str = "poison-id") -> str:
    return re.sub(r"\{[^}]+\}", segment, op.path)


def _poisoned_body_check(loop, server, op, data):
    state = server.state
    before = footprint(state)
    headers = {"Authorization": f"Bearer {POISON_KEY}", "Content-Type": "application/json"}
    if data.draw(st.integers(0, 3)) == 0:  # a fine-looking body in a charset JSON is not in
        raw = json.dumps(data.draw(_body_for(op))).encode()
        headers["Content-Type"] = f"application/json; charset={data.draw(ODD_CHARSETS)}"
    else:
        raw = data.draw(poisoned_body(_names(op)))
    status, body = _send(loop, server, op.method, _concrete_path(op), data=raw, headers=headers)
    answer = json.loads(body)
    assert 400 <= status < 500, (op.operation_id, status, body[:300])
    assert is_refusal(op.provider, status, answer), (op.operation_id, answer)
    assert footprint(state) == before, op.operation_id
    assert not state.violations, state.violations


@pytest.mark.parametrize("op", [op for op in BODY_OPS if not _table_generated(op)], ids=_ids)
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_body_is_refused_and_leaves_nothing(loop, poison_server, op, data):
    _poisoned_body_check(loop, poison_server, op, data)


@pytest.mark.parametrize("op", [op for op in BODY_OPS if _table_generated(op)], ids=_ids)
@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_body_to_a_table_feature_is_refused(loop, poison_server, op, data):
    _poisoned_body_check(loop, poison_server, op, data)


def _poisoned_query_check(loop, server, op, data):
    from yarl import URL

    state = server.state
    before = footprint(state)
    path = re.sub(r"\{[^}]+\}", lambda _: data.draw(BAD_UTF8 | st.just("poison-id")), op.path)
    query = []
    numeric = False
    for p in op.params:
        if p.location != "query" or not data.draw(st.booleans()):
            continue
        if p.schema.get("type") in ("integer", "number"):
            numeric = True
            query.append(f"{p.name}={quote(data.draw(BAD_NUMBERS), safe='')}")
        else:
            query.append(f"{p.name}={data.draw(BAD_UTF8)}")
    url = URL(path + ("?" + "&".join(query) if query else ""), encoded=True)
    headers = {"Authorization": f"Bearer {POISON_KEY}"}
    kwargs = {"headers": headers}
    if op.body_schema is not None:  # a body that is fine as JSON: the query is the poison
        kwargs["data"] = json.dumps(data.draw(_body_for(op))).encode()
        headers["Content-Type"] = "application/json"
    status, body = _send(loop, server, op.method, url, **kwargs)
    answer = json.loads(body)  # always JSON, and JSON a strict reader takes
    assert status < 500, (op.operation_id, status, body[:300])
    if numeric:
        assert 400 <= status < 500 and is_refusal(op.provider, status, answer), (url, answer)
    if status >= 400:
        assert is_refusal(op.provider, status, answer), (op.operation_id, answer)
        assert footprint(state) == before, op.operation_id
    assert not state.violations, state.violations


@pytest.mark.parametrize("op", [op for op in QUERY_OPS if not _table_generated(op)], ids=_ids)
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_query_or_path_gets_a_documented_refusal(loop, poison_server, op, data):
    _poisoned_query_check(loop, poison_server, op, data)


@pytest.mark.parametrize("op", [op for op in QUERY_OPS if _table_generated(op)], ids=_ids)
@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_query_to_a_table_feature_gets_a_refusal(loop, poison_server, op, data):
    _poisoned_query_check(loop, poison_server, op, data)


# --- the control API -------------------------------------------------------------------

CONTROL_BODIES = [
    ("POST", "/__mock/clock/advance", ["seconds", "deliver"]),
    ("PUT", "/__mock/clock", ["speed"]),
    ("PUT", "/__mock/tenants/sk-control", ["balances", "units", "coins"]),
    ("POST", "/__mock/presets", ["outcome", "effect", "count", "match", "failure"]),
    ("PUT", "/__mock/scenario", ["seed", "balances", "journal", "providers"]),
    ("POST", "/__mock/tasks/no-such-task/force", ["outcome", "state", "failure"]),
]


def control_footprint(state) -> tuple:
    return (
        state.clock.now(),
        state.clock.speed,
        {t.key: dict(t.balances) for t in state.accounts.all()},
        len(state.chaos.presets),
        id(state.scenario),
        len(state.store),
    )


@pytest.mark.parametrize(("method", "path", "names"), CONTROL_BODIES, ids=lambda v: str(v))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_control_body_is_refused_and_changes_nothing(
    loop, poison_server, method, path, names, data
):
    state = poison_server.state
    before = control_footprint(state)
    headers = {"Content-Type": "application/json"}
    if data.draw(st.integers(0, 3)) == 0:
        body = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=3))
        raw = json.dumps(body).encode()
        headers["Content-Type"] = f"application/json; charset={data.draw(ODD_CHARSETS)}"
    else:
        raw = data.draw(poisoned_body(names))
    status, body = _send(loop, poison_server, method, path, data=raw, headers=headers)
    answer = json.loads(body)
    assert status in (400, 404), (path, status, answer)  # 404: force names no task
    assert answer["status"] == status and isinstance(answer["error"], str), answer
    assert control_footprint(state) == before, path


CONTROL_QUERIES = {
    "/__mock/tasks": ["provider", "tenant", "family", "state"],
    "/__mock/journal": ["limit", "method", "path", "tenant", "operation", "provider"],
    "/__mock/webhooks": ["provider", "tenant", "task_id", "delivery_id", "target"],
    "/__mock/tasks/{}": ["provider"],
    "/__mock/tenants/{}": [],
    "/__mock/openapi/{}": ["format"],
}


@pytest.mark.parametrize("path", list(CONTROL_QUERIES))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_poisoned_control_query_gets_json(loop, poison_server, path, data):
    from yarl import URL

    state = poison_server.state
    before = control_footprint(state)
    names = CONTROL_QUERIES[path]
    query = [
        f"{name}={data.draw(BAD_UTF8 | BAD_NUMBERS.map(lambda t: quote(t, safe='')))}"
        for name in names
        if data.draw(st.booleans())
    ]
    target = path.format(data.draw(BAD_UTF8)) + ("?" + "&".join(query) if query else "")
    status, body = _send(loop, poison_server, "GET", URL(target, encoded=True))
    answer = json.loads(body)
    assert status < 500, (target, status, answer)
    if status >= 400:
        assert answer["status"] == status and isinstance(answer["error"], str), answer
    if "limit=" in target:  # no drawn value is a plain whole number
        assert status == 400 and "limit" in answer["error"], (target, answer)
    assert control_footprint(state) == before, target
