"""A new A2E model family is a spec fragment plus one FamilySpec: served and polled for real."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import app as app_module
from mockserver.families import FamilySpec, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import provider
from mockserver.spec import Operation, load_document, load_operations

BASE = "/api/v1/demoVideo"  # a path no provider documents (soraVideo is served for real now)
ID = [{"name": "_id", "in": "path", "required": True, "schema": {"type": "string"}}]
OK = {"200": {"description": "the A2E envelope"}}
FOUND = {**OK, "404": {"description": "Record not found"}}
BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object", "required": ["prompt"]}}},
}
FRAGMENT = {  # the paths a demoVideo entry of contracts/a2e/openapi.yaml would add
    f"{BASE}/start": {"post": {"operationId": "startSora", "requestBody": BODY, "responses": OK}},
    f"{BASE}/allRecords": {"get": {"operationId": "listSora", "responses": OK}},
    f"{BASE}/batchDetail": {
        "post": {"operationId": "batchSora", "requestBody": BODY, "responses": OK}
    },
    f"{BASE}/{{_id}}": {
        "get": {"operationId": "getSora", "parameters": ID, "responses": FOUND},
        "delete": {"operationId": "deleteSora", "parameters": ID, "responses": OK},
    },
}
SCENARIO = "providers: {a2e: {families: {demoVideo: {states: {initialized: 5, processing: 10}}}}}"
SORA = TaskFamily("a2e", "demoVideo", ("initialized", "processing"), "completed", "failed")


def sora_row(task, view) -> dict[str, Any]:
    return {"_id": task.id, "prompt": task.params["prompt"], "current_status": task.state(view.now)}


@pytest.fixture
def sora(monkeypatch):
    doc = load_document("a2e")
    extra = [
        Operation("a2e", raw["operationId"], method.upper(), path, raw, [], doc)
        for path, item in FRAGMENT.items()
        for method, raw in item.items()
    ]
    real = load_operations

    def with_sora(name: str) -> list[Operation]:
        return real(name) + (extra if name == "a2e" else [])

    monkeypatch.setattr(app_module, "load_operations", with_sora)
    provider.declare(
        FamilySpec(
            family=SORA,
            render=sora_row,
            price=30,
            submit="startSora",
            status=(Status("getSora"),),
            list_all="listSora",
            batch="batchSora",
            delete=Status("deleteSora"),
        )
    )
    yield
    provider.undeclare("demoVideo")


async def test_a_declared_family_is_served_polled_listed_and_deleted(sora, make_mock):
    mock = await make_mock(SCENARIO, providers=("a2e",))
    status, started = await mock.call("POST", f"{BASE}/start", json={"prompt": "a cat"})
    assert status == 200 and started["code"] == 0, started
    task_id = started["data"]["_id"]
    assert started["data"]["current_status"] == "initialized"
    mock.advance(20)
    status, polled = await mock.call("GET", f"{BASE}/{task_id}")
    assert status == 200 and polled["data"]["current_status"] == "completed"
    _, listed = await mock.call("GET", f"{BASE}/allRecords")
    assert [r["_id"] for r in listed["data"]["rows"]] == [task_id] and listed["data"]["count"] == 1
    _, batch = await mock.call(
        "POST", f"{BASE}/batchDetail", json={"prompt": "-", "_ids": [task_id, "nope"]}
    )
    assert [r["_id"] for r in batch["data"]] == [task_id]
    assert (await mock.call("DELETE", f"{BASE}/{task_id}"))[0] == 200
    status, gone = await mock.call("GET", f"{BASE}/{task_id}")
    assert status == 404 and gone["msg"] == "Record not found"


async def test_a_declared_family_charges_its_price(sora, make_mock):
    mock = await make_mock(SCENARIO, providers=("a2e",))
    _, before = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert (await mock.call("POST", f"{BASE}/start", json={"prompt": "a dog"}))[0] == 200
    _, after = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert before["balances"]["coins"] - after["balances"]["coins"] == 30
