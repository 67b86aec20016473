"""contracts/a2e/reference.yaml is a faithful, usable table of A2E's 2026 API reference.

The file is the data the A2E task families are built from, so these checks hold it to the
reference (216 operations, the section counts of shared/research/a2e-2026-operations.md, a few
documented facts) and to the mock (every served_by_mock id is what openapi.yaml serves at that
method and path, and every mock operation the reference lacks is listed, so nothing is lost).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

A2E = Path(__file__).resolve().parent.parent / "contracts" / "a2e"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
METHODS = ("get", "put", "post", "delete", "patch")

# The table of a2e-2026-operations.md: group -> sections in the reference's order, with counts.
SECTIONS: dict[str, list[tuple[str, int]]] = {
    "Image & Video Generation": [
        ("Image to Video", 12),
        ("Text to Image", 6),
        ("Nano Banana", 5),
        ("GPT Image", 5),
        ("Flux 2", 5),
        ("Qwen Image", 5),
        ("Kling Image", 5),
        ("Wan Image to Video", 11),
        ("HappyHorse Video", 5),
        ("Seedance 1.5 Pro", 2),
        ("Seedance 2.x", 6),
        ("Veo Video", 6),
        ("Grok Video", 5),
        ("Kling Video", 6),
        ("Kling Omni", 6),
        ("Sora 2 Pro Video", 5),
        ("Image Edit", 5),
    ],
    "Face & Body": [
        ("Face Swap", 11),
        ("Head Swap", 5),
        ("Actor Swap", 5),
        ("Talking Photo", 5),
        ("Talking Video", 5),
        ("Virtual Try-On", 5),
        ("Motion Transfer", 5),
        ("Product Avatar", 5),
        ("Photobook", 5),
    ],
    "Avatar & Video": [
        ("Generate Avatar Videos", 3),
        ("Create Avatars", 5),
        ("Background Matting", 5),
        ("Video Twin", 13),
    ],
    "Voice & Audio": [("TTS and Voice Clone", 13), ("AI Dubbing", 5), ("ThinkSound", 5)],
    "Post Processing": [("Caption Removal", 7), ("Upscale", 5)],
    "Utilities": [("Miscellaneous", 2), ("Credits", 2)],
}
GROUP_TOTALS = {
    "Image & Video Generation": 100,
    "Face & Body": 51,
    "Avatar & Video": 26,
    "Voice & Audio": 23,
    "Post Processing": 12,
    "Utilities": 4,
}
QUOTED = re.compile(r'^[^\n]+: "[^\n]+"$')  # an x-rule: a statement, then the reference's words


@cache
def reference() -> dict[str, Any]:
    return yaml.load((A2E / "reference.yaml").read_text(encoding="utf-8"), Loader=LOADER)


def operations() -> list[dict[str, Any]]:
    return [
        op
        for group in reference()["groups"]
        for section in group["sections"]
        for op in section["operations"]
    ]


def shape(path: str) -> str:
    """The path with parameter names dropped, so `{id}` and `{_id}` compare equal."""
    return re.sub(r"\{[^}]+\}", "{}", path)


@cache
def mock_operations() -> dict[tuple[str, str], tuple[str, str]]:
    """(METHOD, path shape) -> (operationId, path) for every operation openapi.yaml serves."""
    doc = yaml.load((A2E / "openapi.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    return {
        (method.upper(), shape(path)): (op["operationId"], path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def schemas() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for op in operations():
        for param in op["parameters"]:
            found.append((f"{op['operationId']} {param['name']}", param["schema"]))
        if op["requestBody"] is not None:
            found.append((f"{op['operationId']} body", op["requestBody"]["schema"]))
    return found


def by_id(operation_id: str) -> dict[str, Any]:
    [op] = [op for op in operations() if op["operationId"] == operation_id]
    return op


def test_all_216_operations_in_the_reference_groups_and_sections():
    ops = operations()
    assert len(ops) == reference()["source"]["operations"] == 216
    groups = reference()["groups"]
    assert [g["group"] for g in groups] == list(SECTIONS)
    for group in groups:
        listed = [(s["section"], len(s["operations"])) for s in group["sections"]]
        assert listed == SECTIONS[group["group"]], group["group"]
        assert sum(n for _, n in listed) == GROUP_TOTALS[group["group"]]
        for section in group["sections"]:
            assert {op["section"] for op in section["operations"]} == {section["section"]}


def test_operation_ids_and_method_paths_are_unique():
    ops = operations()
    ids = [op["operationId"] for op in ops]
    assert len(set(ids)) == len(ids)
    pairs = [(op["method"], shape(op["path"])) for op in ops]
    assert len(set(pairs)) == len(pairs)
    assert len({op["path"] for op in ops}) == reference()["source"]["distinct_paths"] == 185
    assert {op["method"] for op in ops} <= {"GET", "POST", "PUT", "DELETE"}


@pytest.mark.parametrize("where, schema", schemas(), ids=[w for w, _ in schemas()])
def test_every_schema_is_valid_json_schema(where, schema):
    Draft202012Validator.check_schema(schema)


def test_the_reference_examples_satisfy_their_schemas():
    """A transcription slip (a wrong type, enum or bound) shows up as an example that fails."""
    failures = []
    for where, schema in schemas():
        subs = schema.get("properties", {"": schema})
        for name, sub in subs.items():
            for example in sub.get("examples", []):
                if not Draft202012Validator(sub).is_valid(example):
                    failures.append((where, name, example))
        for example in schema.get("examples", []) if "properties" in schema else []:
            if not Draft202012Validator(schema).is_valid(example):
                failures.append((where, "<body>", example))
    assert failures == []


def test_bodies_parameters_and_responses_are_well_formed():
    for op in operations():
        oid = op["operationId"]
        names = set(re.findall(r"\{([^}]+)\}", op["path"]))
        in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert in_path == names, oid
        for param in op["parameters"]:
            assert param["in"] in ("path", "query"), oid
            assert param["required"] or param["in"] == "query", oid
        body = op["requestBody"]
        if body is not None:
            schema = body["schema"]
            assert set(schema.get("required", [])) <= set(schema["properties"]), oid
            assert body["required"] == bool(schema.get("required")), oid
            for rule in schema.get("x-rules", []):
                assert QUOTED.match(rule), (oid, rule)
        assert op["responses"] and "200" in op["responses"], oid
        for code, text in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", code) and text and "\n" not in text, (oid, code)
        for note in op["notes"]:
            assert note["topic"] and note["quote"] and "\n" not in note["quote"], oid
        assert op["behaviour"] in reference()["conventions"]["behaviours"], oid
        assert op["auth"] in ("bearer", "none"), oid


def test_webhook_fields_are_the_documented_pair_on_every_task_submission():
    offered = set()
    for op in operations():
        props = (op["requestBody"] or {}).get("schema", {}).get("properties", {})
        if "webhook_url" not in props:
            assert "webhook_token" not in props, op["operationId"]
            continue
        offered.add(op["operationId"])
        assert props["webhook_url"]["maxLength"] == 2048
        assert props["webhook_token"]["maxLength"] == 256
        assert "X-A2e-Webhook-Token" in props["webhook_token"]["description"]
        assert "single attempt, no retries" in props["webhook_url"]["description"]
        assert "webhook" in {n["topic"] for n in op["notes"]}, op["operationId"]
    submits = {op["operationId"] for op in operations() if op["behaviour"] == "submit"}
    assert offered == submits and len(offered) == 33


def test_documented_facts_survive_the_transcription():
    i2v = by_id("postApiV1UserImage2VideoStart")["requestBody"]["schema"]
    assert i2v["required"] == ["image_url"]
    assert i2v["properties"]["model_type"]["enum"] == ["GENERAL", "FLF2V"]
    assert i2v["properties"]["model_version"]["enum"] == ["a2e", "a2e-v2", "a2e-v2-flash"]
    video_time = i2v["properties"]["video_time"]
    assert (video_time["minimum"], video_time["maximum"], video_time["default"]) == (5, 20, 5)
    assert (i2v["properties"]["number_of_images"]["maximum"]) == 8
    assert i2v["properties"]["video_length"]["deprecated"] is True
    assert any("FLF2V" in rule and "end_image_url" in rule for rule in i2v["x-rules"])

    voices = by_id("getApiV1UserVoiceTrainingRecord")["notes"]
    [statuses] = [n for n in voices if n["topic"] == "statuses"]
    assert statuses["values"] == ["sent", "pendding", "processing", "completed", "failed"]

    for oid in (
        "postApiV1UserQwen2ImageBatchDetail",
        "postApiV1KlingOmniBatchDetail",
        "postApiV1Seedance2VideoBatchDetail",
        "postApiV1UserHappyhorseVideoBatchDetail",
    ):
        assert {n.get("max_ids") for n in by_id(oid)["notes"]} >= {200}, oid

    nano = by_id("postApiV1UserNanoBananaStart")["requestBody"]["schema"]["properties"]
    assert nano["force_generate"]["default"] is True
    assert by_id("getApiV1UserNanoBananaDetailId")["path"] == "/api/v1/userNanoBanana/detail/{id}"
    assert by_id("postApiV1CustomBackRandomBackground")["auth"] == "none"
    assert set(by_id("getApiV1VeoVideoId1080p")["responses"]) == {"200", "202", "400", "401"}
    quote = by_id("postApiV1GenerationQuote")
    assert "generationRequestValidated=false" in quote["responses"]["200"]


def test_served_by_mock_is_what_openapi_yaml_serves_at_that_method_and_path():
    served = mock_operations()
    for op in operations():
        key = (op["method"], shape(op["path"]))
        expected = served[key][0] if key in served else None
        assert op["served_by_mock"] == expected, op["operationId"]
    ids = {oid for oid, _ in served.values()}
    assert {op["served_by_mock"] for op in operations()} - {None} <= ids


def test_every_mock_operation_the_reference_lacks_is_listed():
    documented = {(op["method"], shape(op["path"])) for op in operations()}
    documented_paths = {shape(op["path"]) for op in operations()}
    expected = {
        (key[0], path, oid)
        for key, (oid, path) in mock_operations().items()
        if key not in documented
    }
    listed = reference()["not_in_reference"]
    assert {(row["method"], row["path"], row["operationId"]) for row in listed} == expected
    assert len(listed) == len(expected)
    for row in listed:
        reason = "method" if shape(row["path"]) in documented_paths else "path"
        assert row["reason"] == f"{reason}-not-documented", row
        if "resembles" in row:
            assert "x-inferred" in row, row


def test_every_served_documented_operation_has_the_references_operation_id():
    """Issue 15: the OpenAPI document uses the reference's ids. After a merge brings an
    operation under an older name: python contracts/a2e/adopt_reference_ids.py"""
    for op in operations():
        assert op["served_by_mock"] in (None, op["operationId"]), op["operationId"]
