"""The written-out check (mockserver.flatcheck) answers as jsonschema does, keyword by keyword,
at each keyword's edges; what it cannot write out exactly it leaves to fastjsonschema."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from mockserver.flatcheck import flat_check
from mockserver.spec import load_operations

CASES = [
    (
        {
            "type": "object",
            "required": ["_id"],
            "properties": {"_id": {"type": "string", "minLength": 1}},
        },
        [
            {"_id": "a"},
            {"_id": ""},
            {},
            {"_id": 1},
            {"_id": None},
            {"_id": "a", "x": 1},
            [],
            "a",
            None,
        ],
    ),
    (
        {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 3}}},
        [
            {},
            {"n": 1},
            {"n": 3},
            {"n": 0},
            {"n": 4},
            {"n": 2.0},
            {"n": 2.5},
            {"n": True},
            {"n": "2"},
        ],
    ),
    (
        {
            "type": "object",
            "properties": {"x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
        },
        [{"x": 0}, {"x": 0.5}, {"x": 1}, {"x": 1.0}, {"x": False}, {"x": 0.0001}],
    ),
    (
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["a"],
            "properties": {"a": {}, "b": {"type": "boolean"}},
        },
        [{"a": 1}, {"a": None, "b": True}, {"a": 1, "b": 0}, {"a": 1, "c": 1}, {"b": True}],
    ),
    (
        {
            "type": "object",
            "properties": {"lang": {"type": "string", "enum": ["en", "zh"]}, "k": {"enum": [1, 2]}},
        },
        [
            {"lang": "en"},
            {"lang": "fr"},
            {"lang": 1},
            {"k": 1},
            {"k": 1.0},
            {"k": True},
            {"k": "1"},
            {"k": 3},
        ],
    ),
    (
        {
            "type": "object",
            "properties": {
                "ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {"type": "string", "maxLength": 2},
                }
            },
        },
        [
            {"ids": ["a"]},
            {"ids": []},
            {"ids": ["a", "b", "c"]},
            {"ids": ["abc"]},
            {"ids": [1]},
            {"ids": "a"},
        ],
    ),
    (
        {
            "type": "object",
            "properties": {"v": {"type": ["string", "null"], "minLength": 2, "pattern": "^v[0-9]"}},
        },
        [{"v": None}, {"v": "v1"}, {"v": "v"}, {"v": "x1"}, {"v": "xv1"}, {"v": 1}],
    ),
    (
        {
            "properties": {"n": {"minimum": 5, "minLength": 2}},
            "minProperties": 1,
            "maxProperties": 2,
        },
        [
            {},
            {"n": 5},
            {"n": 4},
            {"n": "ab"},
            {"n": "a"},
            {"n": None},
            {"a": 1, "b": 2, "c": 3},
            "a",
            3,
        ],
    ),
    (
        {
            "type": "object",
            "properties": {
                "o": {"type": "object", "required": ["k"], "properties": {"k": {"type": "integer"}}}
            },
        },
        [{"o": {"k": 1}}, {"o": {}}, {"o": {"k": "1"}}, {"o": []}, {}],
    ),
]


@pytest.mark.parametrize(("schema", "instances"), CASES)
def test_written_out_check_agrees_with_jsonschema(schema, instances):
    check = flat_check(schema)
    assert check is not None
    validator = Draft202012Validator(schema)
    for instance in instances:
        assert check(instance) == validator.is_valid(instance), instance


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
        {"type": "object", "properties": {"a": {"const": 1}}},
        {"type": "object", "properties": {"a": {"enum": [1, "1"]}}},
        {"type": "object", "properties": {"a": {"enum": [True]}}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "array", "items": [{"type": "string"}]},
        {"type": "array", "uniqueItems": True},
        {"type": "number", "multipleOf": 2},
        {"type": "string", "pattern": "("},
        {"type": "object", "x-rules": []},
        {"type": "integer", "exclusiveMinimum": True},
        {"type": "uuid"},
        False,
    ],
)
def test_what_it_cannot_write_out_exactly_is_left_to_fastjsonschema(schema):
    assert flat_check(schema) is None


def test_a_status_read_body_is_checked_by_the_written_out_check():
    op = next(o for o in load_operations("a2e") if o.operation_id == "getVideoResult")
    assert op.body_is_valid is not None
    assert op.body_is_valid.__code__.co_filename == "<flat_check>"
    assert op.body_is_valid({"_id": "66b0c1d2e3f4a5b6c7d8e9f0"})
    assert not op.body_is_valid({"_id": ""})
