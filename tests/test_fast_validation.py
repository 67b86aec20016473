"""The compiled fast path (fastjsonschema) agrees with jsonschema on every request schema.

The server trusts the fast path's "valid" to skip jsonschema on the hot path, so the two must
never disagree; hypothesis looks for an instance where they do.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.registry import providers
from mockserver.spec import fast_check, load_operations

OPERATIONS = [op for name in sorted(providers()) for op in load_operations(name)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 300)
    | st.sampled_from([0.0, 1.0, 2.5, -1.5, 1e12])
    | st.text(max_size=8)
    | st.sampled_from(["", "en", "zh", "cn", "GENERAL", "FLF2V", "female_manga_mood", "x" * 30])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def instances(schema):
    names = list(schema.get("properties", {})) or ["x"]
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names) + 1)


def pairs():
    """Each distinct schema once: table-driven operations share many identical schemas."""
    seen: set[str] = set()
    for op in OPERATIONS:
        for kind, validator, fast in (
            ("body", op.body_validator, op.body_is_valid),
            ("query", op.query_validator, op.query_is_valid),
        ):
            if validator is None:
                continue
            key = json.dumps(validator.schema, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            yield pytest.param(validator, fast, id=f"{op.operation_id}-{kind}")


@pytest.mark.parametrize(("validator", "fast"), list(pairs()))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fast_path_agrees_with_jsonschema(validator, fast, data):
    if fast is None:
        return  # this schema is checked by jsonschema alone
    instance = data.draw(instances(validator.schema))
    assert fast(instance) == validator.is_valid(instance), instance


def test_schemas_using_2020_12_only_keywords_get_no_fast_path():
    assert fast_check({"type": "object", "dependentRequired": {"a": ["b"]}}) is None
    assert fast_check({"type": "array", "prefixItems": [{"type": "string"}]}) is None
    assert fast_check({"type": "array", "items": [{"type": "string"}]}) is None
    assert (
        fast_check({"type": "object", "properties": {"a": {"unevaluatedProperties": False}}})
        is None
    )
    assert fast_check({"type": "object", "properties": {"a": {"type": "string"}}}) is not None


def test_fast_path_does_not_fill_defaults():
    check = fast_check({"type": "object", "properties": {"n": {"type": "integer", "default": 5}}})
    body: dict = {}
    assert check(body) and body == {}
