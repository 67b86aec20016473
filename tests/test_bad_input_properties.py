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
