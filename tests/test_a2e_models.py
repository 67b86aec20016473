"""A2E's table-driven model families (contracts/a2e/models.yaml), served for real.

Every test is parametrised over the rows the contract carries, so a new row is tested the
day it is added: each terminal state, detail / list / batchDetail agreeing, tenant isolation,
the charge and its refund, the quote, bad input in A2E's dialect, delete, and the webhook.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.a2e import build_models
from mockserver.providers.a2e import model_families
from mockserver.spec import Operation, load_operations
from tests.webhook_receiver import start_receiver

API = "/api/v1/"
ENDED = 600  # virtual seconds: past every family's planned duration
OTHER = "sk-other"


def operations() -> dict[str, Operation]:
    return {op.operation_id: op for op in load_operations("a2e")}


class Family:
    def __init__(self, op: Operation, row: dict[str, Any]) -> None:
        self.op, self.row, self.name = op, row, row["name"]
        ops = operations()
        self.roles = {role: ops[oid] for role, oid in row["roles"].items()}
        self.body = op.raw["requestBody"]["content"]["application/json"]["example"]

    def path(self, role: str, task_id: str = "") -> str:
        """The role's path for ``task_id``, with the query parameters it requires."""
        op = self.roles[role]
        query = "&".join(
            f"{p.name}={build_models.example_of(p.schema)}"
            for p in op.params
            if p.location == "query" and p.required
        )
        path = op.path.replace("{_id}", task_id).replace("{id}", task_id)
        return f"{path}?{query}" if query else path

    def has(self, *roles: str) -> bool:
        return all(r in self.roles for r in roles)

    def __repr__(self) -> str:
        return self.name


FAMILIES = [Family(op, row) for op, row in model_families.rows()]
IDS = [f.name for f in FAMILIES]


def each(*roles: str) -> Any:
    chosen = [f for f in FAMILIES if f.has(*roles)]
    return pytest.mark.parametrize("fam", chosen, ids=[f.name for f in chosen])


async def start(mock, fam: Family, key: str = "sk-test", **extra: Any) -> dict[str, Any]:
    status, body = await mock.call("POST", fam.op.path, key=key, json={**fam.body, **extra})
    assert status == 200 and body["code"] == 0, (fam, body)
    return body["data"]


async def coins(mock, key: str = "sk-test") -> float:
    _, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    return tenant["balances"]["coins"]


async def shown(mock, fam: Family, task_id: str) -> dict[str, Any]:
    """The record as the detail shows it (or, for a family without one, the list)."""
    if fam.has("detail"):
        status, body = await mock.call("GET", fam.path("detail", task_id))
        assert status == 200, body
        return body["data"]
    _, listed = await mock.call("GET", fam.path("list"))
    [row] = [r for r in listed["data"]["rows"] if r["_id"] == task_id]
    return row


def test_the_document_is_what_the_builder_writes():
    assert build_models.main(["--check"]) == 0, "run python -m contracts.a2e.build_models"


def test_every_family_of_the_table_is_served():
    table = build_models.load_yaml(build_models.TABLE.read_text(encoding="utf-8"))
    assert sorted(IDS) == sorted(row["name"] for row in table["families"])


@each("list")
async def test_a_task_completes_and_every_view_agrees(mock, fam):
    task = await start(mock, fam)
    assert task["current_status"] == fam.row["states"][0]
    mock.advance(ENDED)
    row = await shown(mock, fam, task["_id"])
    assert row["current_status"] == "completed"
    assert row[fam.row["result_field"]].startswith("http")
    assert row["failed_message"] == "" and row["failed_code"] == ""
    _, listed = await mock.call("GET", fam.path("list"))
    assert listed["data"]["rows"] == [row] and listed["data"]["count"] == 1
    if fam.has("batch"):
        _, batch = await mock.call("POST", fam.path("batch"), json={"ids": [task["_id"], "x"]})
        assert batch["data"] == [row]


@each("list")
async def test_a_failed_task_says_why_and_gives_the_coins_back(mock, fam):
    before = await coins(mock)
    status, body = await mock.call(
        "POST", fam.op.path, json=fam.body, headers={"X-Mock-Outcome": "failure"}
    )
    assert status == 200, body
    task = body["data"]
    assert task["coins"] > 0 and await coins(mock) == before - task["coins"]
    mock.advance(ENDED)
    row = await shown(mock, fam, task["_id"])
    assert row["current_status"] == "failed" and row["failed_message"]
    assert row[fam.row["result_field"]] == ""
    assert await coins(mock) == before


@pytest.mark.parametrize("fam", FAMILIES, ids=IDS)
async def test_the_quote_is_the_charge_and_creates_nothing(mock, fam):
    endpoint = fam.op.path[len(API) :]
    before = await coins(mock)
    status, quote = await mock.call(
        "POST", f"{API}generation/quote", json={"endpoint": endpoint, "requestBody": fam.body}
    )
    assert status == 200 and quote["code"] == 0, quote
    assert await coins(mock) == before
    if fam.has("list"):
        _, listed = await mock.call("GET", fam.path("list"))
        assert listed["data"]["count"] == 0
    task = await start(mock, fam)
    assert task["coins"] == quote["data"]["coins"] > 0
    assert await coins(mock) == before - task["coins"]


@each("detail", "batch")
async def test_another_key_sees_none_of_it(mock, fam):
    task = await start(mock, fam)
    status, body = await mock.call("GET", fam.path("detail", task["_id"]), key=OTHER)
    assert status == 404 and body["code"] == 404 and body["msg"] == "Record not found"
    _, batch = await mock.call("POST", fam.path("batch"), key=OTHER, json={"ids": [task["_id"]]})
    assert batch["data"] == []
    _, listed = await mock.call("GET", fam.path("list"), key=OTHER)
    assert listed["data"]["count"] == 0


@pytest.mark.parametrize("fam", FAMILIES, ids=IDS)
async def test_a_start_without_its_required_fields_is_refused_in_the_dialect(mock, fam):
    required = (fam.op.body_schema or {}).get("required", [])
    if not required:
        pytest.skip("nothing is required")
    body = {k: v for k, v in fam.body.items() if k != required[0]}
    status, answer = await mock.call("POST", fam.op.path, json=body)
    assert status == 400 and answer["code"] == 400 and answer["data"] is None
    assert answer["msg"].startswith("Bad Request")


RULED = [(f, rule) for f in FAMILIES for rule in f.row.get("rules", [])]


@pytest.mark.parametrize("fam, rule", RULED, ids=[f"{f.name}:{r['say']}" for f, r in RULED])
async def test_a_cross_field_rule_is_refused_and_quoted_alike(mock, fam, rule):
    body = dict(fam.body)
    for field, value in rule["when"].items():
        body[field] = value[0] if isinstance(value, list) else value
    for field in [*rule.get("require", []), *rule.get("require_any", [])]:
        body.pop(field, None)
    before = await coins(mock)
    status, answer = await mock.call("POST", fam.op.path, json=body)
    assert (status, answer["code"], answer["msg"]) == (400, 400, f"Bad Request: {rule['say']}")
    status, quote = await mock.call(
        "POST",
        f"{API}generation/quote",
        json={"endpoint": fam.op.path[len(API) :], "requestBody": body},
    )
    assert status == 400 and quote["msg"] == answer["msg"]
    assert await coins(mock) == before


@each("delete", "list")
async def test_a_deleted_record_is_gone_from_every_view(mock, fam):
    task = await start(mock, fam)
    mock.advance(ENDED)
    status, body = await mock.call("DELETE", fam.path("delete", task["_id"]))
    assert status == 200 and body == {"code": 0, "data": {}, "trace_id": body["trace_id"]}
    _, listed = await mock.call("GET", fam.path("list"))
    assert listed["data"]["count"] == 0
    if fam.has("detail"):
        assert (await mock.call("GET", fam.path("detail", task["_id"])))[0] == 404
    assert (await mock.call("DELETE", fam.path("delete", task["_id"])))[0] == 404


GUARDED = [f for f in FAMILIES if "delete" in f.row]


@pytest.mark.parametrize("fam", GUARDED, ids=[f.name for f in GUARDED])
async def test_a_delete_while_processing_is_refused(mock, fam):
    task = await start(mock, fam, prompt="mock-stuck")
    mock.advance(ENDED)
    status, body = await mock.call("DELETE", fam.path("delete", task["_id"]))
    assert (status, body["msg"]) == (400, "Bad Request: Task in processing")
    assert (await shown(mock, fam, task["_id"]))["_id"] == task["_id"]


REFUNDING = [f for f in GUARDED if f.row["delete"].get("refund")]


@pytest.mark.parametrize("fam", REFUNDING, ids=[f.name for f in REFUNDING])
async def test_deleting_an_initialized_task_refunds_it(mock, fam):
    before = await coins(mock)
    task = await start(mock, fam)
    assert await coins(mock) == before - task["coins"]
    assert (await mock.call("DELETE", fam.path("delete", task["_id"])))[0] == 200
    mock.advance(ENDED)
    assert await coins(mock) == before


@each("update")
async def test_a_rename_shows_in_every_view(mock, fam):
    task = await start(mock, fam)
    status, body = await mock.call("PUT", fam.path("update", task["_id"]), json={"name": "new"})
    assert status == 200 and body["data"]["name"] == "new"
    assert (await shown(mock, fam, task["_id"]))["name"] == "new"
    renamed = await mock.call("PUT", fam.path("update", task["_id"]), key=OTHER, json={"name": "x"})
    assert renamed[0] == 404


@pytest.fixture
async def receiver():
    r = await start_receiver()
    yield r
    await r.server.close()


EVENTS = [("success", "task.completed"), ("failure", "task.failed")]


@pytest.mark.parametrize("outcome, event", EVENTS)
async def test_the_webhook_is_one_attempt_with_the_token_header(mock, receiver, outcome, event):
    [fam] = [f for f in FAMILIES if f.name == "veo"]
    hook = {"webhook_url": receiver.url(), "webhook_token": "tok-1"}
    status, body = await mock.call(
        "POST", fam.op.path, json={**fam.body, **hook}, headers={"X-Mock-Outcome": outcome}
    )
    assert status == 200, body
    mock.advance(ENDED)
    await mock.state.webhooks.flush()
    (hit,) = receiver.received
    assert hit.headers["X-A2e-Webhook-Token"] == "tok-1"
    sent = json.loads(hit.body)
    assert sent["event"] == event and sent["task_id"] == body["data"]["_id"]
    assert sent["data"] == await shown(mock, fam, body["data"]["_id"])
    assert "webhook_token" not in sent["data"]


@pytest.mark.parametrize(
    "version, per_5s", [(None, 100), ("a2e", 100), ("a2e-v2-flash", 100), ("a2e-v2", 200)]
)
async def test_image_to_video_is_priced_by_model_version(mock, version, per_5s):
    body = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "wave", "video_time": 10}
    if version is not None:
        body["model_version"] = version
    request = {"endpoint": "userImage2Video/start", "requestBody": body}
    _, quote = await mock.call("POST", f"{API}generation/quote", json=request)
    _, started = await mock.call("POST", f"{API}userImage2Video/start", json=body)
    assert quote["data"]["coins"] == started["data"]["coins"] == per_5s * 2


I2V = {"name": "n", "image_url": "https://e.x/face.png", "prompt": "wave", "negative_prompt": ""}


async def test_image_to_video_extras_mark_batch_and_time_the_callers_tasks(mock):
    _, started = await mock.call("POST", f"{API}userImage2Video/start", json=I2V)
    task_id = started["data"]["_id"]
    base = f"{API}userImage2Video"
    _, avg = await mock.call("GET", f"{base}/avgProcessingTime")
    assert avg["data"] == {"avg_processing_time": 0}
    mock.advance(ENDED)
    _, avg = await mock.call("GET", f"{base}/avgProcessingTime")
    assert 0 < avg["data"]["avg_processing_time"] <= ENDED
    for mark, flag in [("markShared", "shared"), ("markCopied", "copied")]:
        status, body = await mock.call("POST", f"{base}/{task_id}/{mark}")
        assert status == 200 and body["data"]["_id"] == task_id and body["data"][flag] is True
    assert (await mock.call("POST", f"{base}/{task_id}/markDownloaded", key=OTHER))[0] == 404
    _, detail = await mock.call("GET", f"{base}/{task_id}")
    _, batch = await mock.call("POST", f"{base}/batchDetail", json={"ids": [task_id]})
    assert batch["data"] == [detail["data"]]
    _, level = await mock.call("GET", f"{base}/unlimitedQueueLevel")
    assert level["data"] == {"level": 0}


async def test_prompt_extension_extends_within_max_length(mock):
    body = {"reference_id": "r", "image_url": "https://e.x/a.jpg", "prompt": "a cat"}
    body |= {"negative_prompt": "blur", "max_length": 12}
    status, answer = await mock.call("POST", f"{API}userImage2Video/prompt_extension", json=body)
    assert status == 200 and answer["data"] == {"prompt": "a cat, cinem", "negative_prompt": "blur"}
    status, answer = await mock.call(
        "POST", f"{API}userImage2Video/flf2v_prompt_extension", json=body
    )
    assert status == 400 and "end_image_url" in answer["msg"]


async def test_veo_1080p_waits_for_the_video_and_needs_16_9(mock):
    [fam] = [f for f in FAMILIES if f.name == "veo"]
    wide = await start(mock, fam, aspectRatio="16:9")
    tall = await start(mock, fam, aspectRatio="9:16")
    status, body = await mock.call("GET", fam.path("1080p", wide["_id"]))
    assert status == 202 and body["code"] == 0 and body["data"]["_id"] == wide["_id"]
    mock.advance(ENDED)
    status, body = await mock.call("GET", fam.path("1080p", wide["_id"]))
    assert status == 200 and body["data"]["video_url_1080p"].startswith("http")
    assert (await mock.call("GET", fam.path("1080p", tall["_id"])))[0] == 400


async def test_quick_add_avatar_takes_a_completed_image_of_the_caller(mock):
    [fam] = [f for f in FAMILIES if f.name == "text2image"]
    task = await start(mock, fam)
    path = fam.path("quickAddAvatar")
    status, body = await mock.call("POST", path, json={"_id": task["_id"]})
    assert status == 400
    mock.advance(ENDED)
    assert (await mock.call("POST", path, key=OTHER, json={"_id": task["_id"]}))[0] == 404
    status, body = await mock.call("POST", path, json={"_id": task["_id"], "gender": "male"})
    assert status == 200 and body["data"]["gender"] == "male"
    assert body["data"]["image_url"].startswith("http")


GATED = [f for f in FAMILIES if f.row.get("nsfw_gate")]


@pytest.mark.parametrize("fam", GATED, ids=[f.name for f in GATED])
async def test_force_generate_false_lets_the_nsfw_check_refuse(mock, fam):
    flagged = {"prompt": f"{model_families.NSFW_FLAG} a scene"}
    before = await coins(mock)
    status, body = await mock.call(
        "POST", fam.op.path, json={**fam.body, **flagged, "force_generate": False}
    )
    assert (status, body["code"], body["msg"]) == (200, 1003, "NSFW content detected")
    assert await coins(mock) == before
    await start(mock, fam, **flagged)  # force_generate defaults to true for API callers
