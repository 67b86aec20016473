"""Fuzz every operation of the three OpenAPI documents against a real mock on loopback.

Schemathesis reads the documents of ``contracts/{youcam,a2e,relay}/openapi.yaml`` and, for each
operation, sends the document's examples, its coverage cases (boundaries and deliberate
violations) and generated requests, valid (positive) and invalid (negative), over real HTTP to a
mock served from a background thread in strict mode (so the server also checks every answer it
gives against the same documents). Every answer must be no server error, have a documented
status and content type, and match that status's schema; the server must record no violation.

A stateful run per provider then follows the documents' OpenAPI ``links``: it submits tasks
and polls, lists and deletes them with the ids the submits returned, while the virtual clock
moves so tasks finish; the mock's journal proves the polls carried those ids and found the tasks.

Bounded and reproducible: few examples per operation, short scenarios, no deadline,
derandomized (the same requests on every run, on every machine). To fuzz longer locally::

    AVATAR_MOCK_FUZZ_EXAMPLES=200 python -m pytest tests/test_fuzz_openapi.py -n 2

``AVATAR_MOCK_FUZZ_SEED=<int>`` replaces derandomization by that seed, to explore other inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver.pytest_plugin import MockServer
from mockserver.spec import load_document

PROVIDERS = ("youcam", "a2e", "relay")
METHODS = ("get", "post", "put", "patch", "delete")
EXAMPLES = int(os.environ.get("AVATAR_MOCK_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("AVATAR_MOCK_FUZZ_SEED")
TENANT = "sk-fuzz"
AUTH = {"Authorization": f"Bearer {TENANT}"}  # one tenant: what a submit creates, a poll finds
# A by-id read whose documented answer for a task it found is not always 200: Veo's 1080p
# rendering is 202 while the video is processed and 400 for a video that is not 16:9.
FOUND_NOT_READY = {"getApiV1VeoVideoId1080p": (202, 400)}
STEP_SECONDS = 5.0  # virtual time per stateful step: tasks finish, none outlives a window
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _bounded(**extra: Any) -> settings:
    return settings(
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )


DOCUMENTS = {name: load_document(name) for name in PROVIDERS}


def _schema(provider: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_dict(DOCUMENTS[provider])
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    # Only the documents' own links: the stateful run proves those, not inferred ones.
    schema.config.phases.stateful.inference.algorithms = []
    if SEED is not None:
        schema.config.seed = int(SEED)
    return schema


SCHEMAS = {name: _schema(name) for name in PROVIDERS}


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[MockServer]:
    """One strict mock for the module; each test starts from a fresh state."""
    with MockServer(strict=True) as server:
        yield server


@pytest.fixture
def fuzz_mock(fuzz_server: MockServer) -> Iterator[MockServer]:
    fuzz_server.restore()
    yield fuzz_server
    assert not fuzz_server.violations, "the mock broke its own contract"


# --- every operation, one by one -----------------------------------------------------------


def _exercise(case: schemathesis.Case, server: MockServer) -> None:
    case.call_and_validate(base_url=server.base_url, headers=AUTH, checks=CHECKS)


@SCHEMAS["youcam"].parametrize()
@_bounded(max_examples=EXAMPLES)
def test_youcam(case: schemathesis.Case, fuzz_mock: MockServer) -> None:
    _exercise(case, fuzz_mock)


@SCHEMAS["a2e"].parametrize()
@_bounded(max_examples=EXAMPLES)
def test_a2e(case: schemathesis.Case, fuzz_mock: MockServer) -> None:
    _exercise(case, fuzz_mock)


@SCHEMAS["relay"].parametrize()
@_bounded(max_examples=EXAMPLES)
def test_relay(case: schemathesis.Case, fuzz_mock: MockServer) -> None:
    _exercise(case, fuzz_mock)


# --- the links ------------------------------------------------------------------------------


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation), the operation's parameters resolved and merged with its
    path item's."""
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in METHODS:
                params = [_resolve(doc, p) for p in [*shared, *op.get("parameters", [])]]
                yield method, path, {**op, "parameters": params}


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        for part in node["$ref"].removeprefix("#/").split("/"):
            doc = doc[part]
        node = doc
    return node


def _links(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(source operationId, link) for every link of every answer."""
    for _, _, op in _operations(doc):
        for answer in op["responses"].values():
            for link in _resolve(doc, answer).get("links", {}).values():
                yield op["operationId"], link


def _takes_an_id(doc: dict[str, Any], op: dict[str, Any]) -> bool:
    """A path parameter (not one from a fixed list, such as Suno's ``{action}``), or an
    ``_id`` / ``task_id`` in the query or the JSON body."""
    for p in op["parameters"]:
        if (p["in"] == "path" and "enum" not in p["schema"]) or p["name"] in ("_id", "task_id"):
            return True
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = _resolve(doc, body.get("schema", {}))
    return bool({"_id", "task_id"} & set(schema.get("properties", {})))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_link_names_a_real_operation_and_its_inputs(provider: str) -> None:
    doc = DOCUMENTS[provider]
    ops = {op["operationId"]: op for _, _, op in _operations(doc)}
    seen = 0
    for source, link in _links(doc):
        target = ops.get(link["operationId"])
        assert target is not None, f"{source} links to unknown {link['operationId']}"
        params = {(p["in"], p["name"]) for p in target["parameters"]}
        for key, expression in link.get("parameters", {}).items():
            where, name = key.split(".", 1)
            assert (where, name) in params, f"{source} -> {link['operationId']}: no {key}"
            assert expression.startswith("$response.body#/")
        if "requestBody" in link:
            body = target["requestBody"]["content"]["application/json"]["schema"]
            fields = set(_resolve(doc, body).get("properties", {}))
            assert set(link["requestBody"]) <= fields, f"{source} -> {link['operationId']}"
        seen += 1
    assert seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_operation_that_takes_an_id_is_reached_by_a_link(provider: str) -> None:
    """Status, delete and every other by-id operation: stateful testing can reach each one
    with an id a submit returned, instead of guessing ids that are never found."""
    doc = DOCUMENTS[provider]
    targets = {link["operationId"] for _, link in _links(doc)}
    unreached = [
        op["operationId"]
        for _, _, op in _operations(doc)
        if _takes_an_id(doc, op) and op["operationId"] not in targets
    ]
    assert not unreached


def test_every_youcam_run_links_to_its_status_and_to_delete() -> None:
    doc = DOCUMENTS["youcam"]
    by_path = {(m, p): op["operationId"] for m, p, op in _operations(doc)}
    links: dict[str, set[str]] = {}
    for source, link in _links(doc):
        links.setdefault(source, set()).add(link["operationId"])
    runs = [
        (path, op["operationId"])
        for method, path, op in _operations(doc)
        if method == "post" and "/task/" in path and path != "/s2s/v2.0/task/delete"
    ]
    assert runs
    for path, run in runs:
        status = by_path[("get", f"{path}/{{task_id}}")]
        wanted = {status} if path.endswith("/pre-process") else {status, "deleteTask"}
        assert links.get(run) == wanted, run


# --- a stateful run that follows the links --------------------------------------------------


def _link_sources(doc: dict[str, Any]) -> dict[str, list[str]]:
    """operationId -> the JSON pointers its links read the new id from."""
    out: dict[str, list[str]] = {}
    for source, link in _links(doc):
        expressions = [*link.get("parameters", {}).values(), *link.get("requestBody", {}).values()]
        for expression in expressions:
            pointer = expression.removeprefix("$response.body#")
            if pointer not in out.setdefault(source, []):
                out[source].append(pointer)
    return out


def _at(body: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        elif isinstance(body, dict) and part in body:
            body = body[part]
        else:
            return None
    return body


def _run_stateful(provider: str, server: MockServer, created: set[str]) -> None:
    schema = SCHEMAS[provider]
    sources = _link_sources(DOCUMENTS[provider])

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            server.advance(STEP_SECONDS)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": server.base_url, "headers": AUTH}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            op_id = case.operation.definition.raw.get("operationId")
            if op_id in sources and response.status_code == 200:
                body = response.json()
                created.update(
                    value for p in sources[op_id] if isinstance(value := _at(body, p), str)
                )

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Machine.run(settings=_bounded(max_examples=max(EXAMPLES * 4, 20), stateful_step_count=6))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stateful_run_polls_the_tasks_it_creates(provider: str, fuzz_mock: MockServer) -> None:
    created: set[str] = set()
    _run_stateful(provider, fuzz_mock, created)
    assert created, "no submit succeeded"
    doc = DOCUMENTS[provider]
    targets = {link["operationId"] for _, link in _links(doc)}
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    readers = {t for t in targets if by_id[t]["parameters"] and "delete" not in t.lower()}
    answer = requests.get(fuzz_mock.url("/__mock/journal"), timeout=30).json()
    polls, deleted = [], set()  # a poll after the run deleted its task rightly finds nothing
    for entry in answer["entries"]:
        ids = {i for i in created if i in entry["path"] or i in entry["query"]}
        if entry["tenant"] != TENANT or not ids:
            continue
        if "delete" in entry["operation_id"].lower() and entry["status"] == 200:
            deleted |= ids
        elif entry["operation_id"] in readers and not ids & deleted:
            polls.append(entry)
    assert polls, f"no status call carried an id that a submit returned ({len(created)} made)"
    # a 400 on an operation that takes a body refused the body (a rename with no name), which
    # A2E checks before it looks the id up: that call says nothing about the lookup
    polls = [
        e
        for e in polls
        if e["status"] != 400
        or "requestBody" not in by_id[e["operation_id"]]
        or e["status"] in FOUND_NOT_READY.get(e["operation_id"], ())
    ]
    found = {
        e["operation_id"]
        for e in polls
        if e["status"] == 200 or e["status"] in FOUND_NOT_READY.get(e["operation_id"], ())
    }
    missed = sorted(
        {(e["operation_id"], e["status"]) for e in polls if e["operation_id"] not in found}
    )
    assert not missed, f"a linked poll did not find its task: {missed}"


# --- what the fuzzer found, kept as regression tests --------------------------------------


@pytest.mark.parametrize("field", ["current", "pageSize"])
def test_a2e_video_list_page_as_an_integral_float(field: str, fuzz_mock: MockServer) -> None:
    operation = SCHEMAS["a2e"]["/api/v1/video/awsList"]["POST"]
    case = operation.Case(body={field: 2.0}, media_type="application/json")
    _exercise(case, fuzz_mock)
