"""Snapshots: GET /__mock/state exports, PUT /__mock/state imports (mockserver/snapshot.py).

A test that imports a snapshot must see what the exporting run saw: the same polls, lists and
balances, now and after the clock moves on; no webhook fires for imported tasks; tenants stay
walled; a file the mock cannot read is refused and changes nothing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockserver.snapshot import VERSION, check, schema
from tests.test_a2e import AWS_LIST, COINS, I2V, I2V_ALL, generate, start_i2v
from tests.test_relay import TASK as RELAY_TASK
from tests.test_relay import submit as relay_submit
from tests.test_youcam_ai_avatar import STATUS as YOUCAM_STATUS
from tests.test_youcam_ai_avatar import run as youcam_run
from tests.test_youcam_uploads import JPEG, upload
from tests.webhook_receiver import start_receiver

SECRET = "snapshot-tests-shared-secret"  # two mocks that sign links alike


def _untraced(value: Any) -> Any:
    """``value`` without per-answer trace ids (a fresh one on every A2E answer)."""
    if isinstance(value, dict):
        return {k: _untraced(v) for k, v in value.items() if k != "trace_id"}
    if isinstance(value, list | tuple):
        return [_untraced(v) for v in value]
    return value


async def _populate(mock) -> dict[str, list[str]]:
    """Tasks of every provider for two tenants, some charged, one failing, one upload."""
    made = {
        "youcam": [await youcam_run(mock, key="sk-a"), await youcam_run(mock, key="sk-a")],
        "relay": [await relay_submit(mock, key="sk-a")],
        "a2e": [await generate(mock, key="sk-b")],
        "i2v": [(await start_i2v(mock, key="sk-b"))["_id"]],
        "file": [await upload(mock, key="sk-a")],
    }
    status, _ = await mock.call(
        "POST", f"/__mock/tasks/{made['relay'][0]}/force", key=None, json={"outcome": "failure"}
    )
    assert status == 200
    mock.advance(2)  # some tasks under way, none of the long ones done
    return made


async def _answers(mock, made: dict[str, list[str]]) -> dict[str, Any]:
    """What the tenants' clients and the control API see now."""
    out: dict[str, Any] = {}
    for task_id in made["youcam"]:
        out[f"youcam {task_id}"] = await mock.call("GET", YOUCAM_STATUS.format(task_id), "sk-a")
    for task_id in made["relay"]:
        out[f"relay {task_id}"] = await mock.call("GET", RELAY_TASK.format(task_id), "sk-a")
    for task_id in made["i2v"]:
        out[f"i2v {task_id}"] = await mock.call("GET", I2V.format(task_id), "sk-b")
    out["i2v list"] = await mock.call("GET", I2V_ALL, "sk-b")
    out["video list"] = await mock.call("GET", AWS_LIST, "sk-b")
    out["coins"] = await mock.call("GET", COINS, "sk-b")
    out["tenants"] = await mock.call("GET", "/__mock/tenants", key=None)
    out["tasks"] = await mock.call("GET", "/__mock/tasks", key=None)
    return _untraced(out)


async def _export(mock) -> dict[str, Any]:
    status, doc = await mock.call("GET", "/__mock/state", key=None)
    assert status == 200, doc
    return doc


async def _import(mock, doc: Any) -> tuple[int, Any]:
    return await mock.call("PUT", "/__mock/state", key=None, json=doc)


async def test_export_reset_import_gives_the_same_answers_now_and_later(mock):
    made = await _populate(mock)
    before = await _answers(mock, made)
    doc = await _export(mock)
    check(doc)  # what the server writes, its own schema reads
    mock.advance(60)
    later = await _answers(mock, made)
    assert later != before  # the clock moved things on (or the comparison below proves nothing)

    await mock.call("POST", "/__mock/reset", key=None)
    mock.advance(3600)  # the importing mock may stand anywhere in time
    _, none = await mock.call("GET", "/__mock/tasks", key=None)
    assert none["count"] == 0

    status, answer = await _import(mock, doc)
    assert status == 200, answer
    assert answer["imported"] == {"tasks": len(doc["tasks"]), "tenants": 2, "uploads": 1}
    assert answer["clock"]["now"] == doc["clock"]["now"]
    assert await _answers(mock, made) == before
    mock.advance(60)
    assert await _answers(mock, made) == later


async def test_an_imported_upload_serves_its_bytes_to_a_new_task(mock):
    file_id = await upload(mock, key="sk-a")
    doc = await _export(mock)
    await mock.call("POST", "/__mock/reset", key=None)
    assert (await _import(mock, doc))[0] == 200
    [stored] = mock.state.uploads.all()
    assert stored.path is not None and stored.path.read_bytes() == JPEG
    body = {"src_file_id": file_id, "template_id": "female_manga_mood", "output_count": 4}
    status, answer = await mock.call("POST", "/s2s/v2.0/task/ai-avatar", "sk-a", json=body)
    assert status == 200, answer


async def test_new_ids_after_an_import_follow_the_exporting_run(mock):
    first = await youcam_run(mock, key="sk-a")
    doc = await _export(mock)
    expected = await youcam_run(mock, key="sk-a")  # what the exporting run draws next
    await mock.call("POST", "/__mock/reset", key=None)
    await _import(mock, doc)
    again = await youcam_run(mock, key="sk-a")
    assert again == expected and again != first
    status, _ = await mock.call("GET", YOUCAM_STATUS.format(first), "sk-a")
    assert status == 200  # the imported task is not replaced by the new one


async def test_imported_tasks_fire_no_webhooks(mock):
    await mock.call("PUT", "/__mock/tenants/sk-a", key=None, json={"balances": {"quota": 100}})
    task_id = await relay_submit(mock, key="sk-a", notify_hook="http://127.0.0.1:9/hook")
    doc = await _export(mock)
    await mock.call("POST", "/__mock/reset", key=None)
    status, answer = await _import(mock, doc)
    assert status == 200 and "none planned" in answer["webhooks"]
    mock.advance(60)
    _, flushed = await mock.call("POST", "/__mock/webhooks/flush", key=None)
    _, hooks = await mock.call("GET", "/__mock/webhooks", key=None)
    assert flushed["pending"] == 0 and hooks["count"] == 0
    _, row = await mock.call("GET", RELAY_TASK.format(task_id), "sk-a")
    assert row["data"]["status"] == "SUCCESS"


@pytest.mark.parametrize("outcome", ["success", "failure"])
async def test_a_task_forced_after_the_import_plans_its_webhook(mock, make_mock, outcome):
    """The README's promise: no hook for what was imported, but a task forced after the import
    plans its deliveries as usual, with links to the importing mock, even in a fresh mock where
    no task of its provider was submitted (its planner used to be found on a submit only)."""
    receiver = await start_receiver()
    try:
        task_id = await relay_submit(mock, key="sk-a", notify_hook=receiver.url())
        mock.advance(1)
        fresh = await make_mock()
        status, _ = await _import(fresh, await _export(mock))
        assert status == 200
        status, _ = await fresh.call(
            "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": outcome}
        )
        assert status == 200
        fresh.advance(1)
        await fresh.state.webhooks.flush()
        (hit,) = receiver.received
        _, polled = await fresh.call("GET", RELAY_TASK.format(task_id), "sk-a")
        assert json.loads(hit.body) == polled["data"]
        assert polled["data"]["status"] == outcome.upper()
    finally:
        await receiver.server.close()


async def test_pending_charges_and_refunds_apply_after_the_import(mock):
    """YouCam charges units on success; the relay refunds a failed task; both still pending
    at export time, both applied after the import when the tasks end."""
    await youcam_run(mock, key="sk-a")
    relay = await relay_submit(mock, key="sk-a")
    await mock.call("POST", f"/__mock/tasks/{relay}/force", key=None, json={"state": "IN_PROGRESS"})
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-a", key=None)
    doc = await _export(mock)
    assert {p["rule"] for p in doc["tenants"][0]["pending"]} == {
        "succeeded",
        "mockserver.providers.relay.handlers:_refund_if_failed",
    }
    mock.advance(60)
    _, reference = await mock.call("GET", "/__mock/tenants/sk-a", key=None)
    assert reference["balances"]["units"] < tenant["balances"]["units"]
    await mock.call("POST", "/__mock/reset", key=None)
    await _import(mock, doc)
    mock.advance(60)
    _, after = await mock.call("GET", "/__mock/tenants/sk-a", key=None)
    assert after["balances"] == reference["balances"]
    assert after["history"] == reference["history"]


async def test_import_keeps_tenants_walled(make_mock):
    """A file made from another mock's tenants: each key sees its own tasks, no other."""
    source = await make_mock(secret=SECRET)
    mine = await youcam_run(source, key="sk-mine")
    theirs = await youcam_run(source, key="sk-theirs")
    doc = await _export(source)
    target = await make_mock(secret=SECRET)
    assert (await _import(target, doc))[0] == 200
    assert (await target.call("GET", YOUCAM_STATUS.format(mine), "sk-mine"))[0] == 200
    for key, task_id in (("sk-mine", theirs), ("sk-theirs", mine), ("sk-new", mine)):
        status, answer = await target.call("GET", YOUCAM_STATUS.format(task_id), key)
        unknown = await target.call("GET", YOUCAM_STATUS.format("x" * 64), key)
        assert (status, answer) == unknown  # a foreign id looks exactly like an unknown one


def _broken(doc: dict[str, Any], edit) -> dict[str, Any]:
    bad = copy.deepcopy(doc)
    edit(bad)
    return bad


BAD_FILES = {
    "not a snapshot": lambda d: d.pop("format"),
    "a later version": lambda d: d.update(version=VERSION + 1),
    "an earlier version": lambda d: d.update(version=0),
    "a task without a tenant": lambda d: d["tasks"][0].pop("tenant"),
    "a negative time": lambda d: d["tasks"][0].update(created_at=-5),
    "a balance in no currency": lambda d: d["tenants"][0]["balances"].update(gold=1),
    "times out of order": lambda d: d["tasks"][0]["timeline"].update(times=[9e9, 1.0]),
    "a provider not served": lambda d: d["tasks"][0].update(provider="nope"),
    "an unknown rule": lambda d: d["tenants"][0]["pending"][0].update(rule="os:system"),
    "a rule outside the providers": lambda d: d["tenants"][0]["pending"][0].update(
        rule="mockserver.snapshot:check"
    ),
    "a body not base64": lambda d: d["uploads"][0].update(body="***"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
async def test_a_bad_file_is_refused_and_changes_nothing(mock, name):
    await youcam_run(mock, key="sk-a")
    await relay_submit(mock, key="sk-a")
    await upload(mock, key="sk-a")
    doc = await _export(mock)
    status, answer = await _import(mock, _broken(doc, BAD_FILES[name]))
    assert status == 400 and answer["error"] and answer["problems"], answer
    assert await _export(mock) == doc  # nothing imported, nothing reset


async def test_a_wrong_version_says_what_to_do(mock):
    doc = await _export(mock)
    _, newer = await _import(mock, {**doc, "version": VERSION + 1})
    assert "upgrade avatar-mock" in newer["error"]
    _, older = await _import(mock, {**doc, "version": 0})
    assert "export it again" in older["error"]
    _, foreign = await _import(mock, {"tasks": []})
    assert "avatar-mock state export" in foreign["error"]


async def test_import_is_refused_without_the_admin_token_off_loopback(make_mock):
    m = await make_mock(bind_host="0.0.0.0", admin_token="t0ken")
    assert (await m.call("GET", "/__mock/state", key=None))[0] == 401
    assert (await m.call("PUT", "/__mock/state", key=None, json={}))[0] == 401
    ok = {"Authorization": "Bearer t0ken"}
    status, doc = await m.call("GET", "/__mock/state", key=None, headers=ok)
    assert status == 200
    assert (await m.call("PUT", "/__mock/state", key=None, json=doc, headers=ok))[0] == 200


def test_the_schema_is_valid_json_schema_and_compiles_to_a_fast_check():
    from jsonschema import Draft202012Validator

    from mockserver.snapshot import fast_check

    Draft202012Validator.check_schema(schema())
    assert json.dumps(schema())  # plain JSON, packaged under contracts/
    # only keywords that mean the same in draft-07 and 2020-12: a large file is checked by
    # the compiled check, not by jsonschema (seconds for a few thousand tasks)
    assert fast_check() is not None


async def test_records_and_stuck_tasks_come_back_as_they_were(mock):
    """An A2E record (a custom background: its family checked by identity) and a relay task
    stuck for ever (a timeline that never ends) survive the round trip."""
    from tests.test_a2e_background import ADD, ALL, DEL

    status, added = await mock.call("POST", ADD, "sk-b", json={"img_url": "https://e.x/b.png"})
    assert status == 200, added
    stuck = await relay_submit(mock, key="sk-a", headers={"X-Mock-Outcome": "stuck"})
    before = _untraced(await mock.call("POST", ALL, "sk-b"))
    doc = await _export(mock)
    await mock.call("POST", "/__mock/reset", key=None)
    assert (await _import(mock, doc))[0] == 200
    assert _untraced(await mock.call("POST", ALL, "sk-b")) == before
    status, deleted = await mock.call("POST", DEL, "sk-b", json={"_id": added["data"]["_id"]})
    assert status == 200 and deleted["code"] == 0, deleted  # found as a background
    mock.advance(86_400)
    _, row = await mock.call("GET", RELAY_TASK.format(stuck), "sk-a")
    assert row["data"]["status"] == "IN_PROGRESS"


async def test_a_reserved_upload_slot_takes_its_bytes_after_the_import(mock):
    spec = {"content_type": "image/jpeg", "file_name": "f", "file_size": len(JPEG)}
    _, answer = await mock.call("POST", "/s2s/v2.0/file", "sk-a", json={"files": [spec]})
    request = answer["data"]["files"][0]["requests"][0]
    doc = await _export(mock)
    [slot] = doc["uploads"]
    assert slot["body"] is None and slot["handle"]
    await mock.call("POST", "/__mock/reset", key=None)
    assert (await _import(mock, doc))[0] == 200
    resp = await mock.client.put(mock.local(request["url"]), data=JPEG, headers=request["headers"])
    assert resp.status == 200


async def test_a_real_clock_is_kept_and_said_so(mock):
    from mockserver.clock import RealClock
    from mockserver.snapshot import export, restore

    await youcam_run(mock, key="sk-a")
    doc = export(mock.state)
    mock.state.clock = RealClock()
    answer = restore(mock.state, doc)
    assert answer["clock"]["mode"] == "real" and "cannot be set" in answer["clock"]["kept"]
    assert answer["imported"]["tasks"] == 1


async def test_a_task_that_names_another_still_names_it_after_the_import(mock):
    """An A2E lip-sync model keeps its twin (the Task itself, compared by identity): after the
    import, continuing the same twin's training is refused as before, and the model lists."""
    from tests.test_a2e import data_of
    from tests.test_a2e_avatar import CONTINUE, LIPSYNC, trained

    done = await trained(mock, key="sk-b")
    data_of(*await mock.call("POST", CONTINUE, "sk-b", json={"_id": done["_id"]}))
    doc = await _export(mock)
    records = [(t["extra"] or {}).get("TaskRecords", {}) for t in doc["tasks"]]
    [record] = [r for r in records if "twin" in r]
    assert record["kind"] == "LipSyncRecord"
    assert record["twin"] == {"$task": ["a2e", done["_id"]]}
    await mock.call("POST", "/__mock/reset", key=None)
    assert (await _import(mock, doc))[0] == 200
    status, again = await mock.call("POST", CONTINUE, "sk-b", json={"_id": done["_id"]})
    assert status == 400 and "already has a lip-sync model" in again["msg"]
    mock.advance(7300)
    [model] = data_of(*await mock.call("GET", LIPSYNC, "sk-b"))
    assert model["user_video_twin_id"] == done["_id"]


async def test_a_snapshot_larger_than_a_provider_body_is_read(mock):
    """Uploads travel inline, so a snapshot may pass limits.max_body_bytes (1 MiB)."""
    import base64

    await upload(mock, key="sk-a")
    doc = await _export(mock)
    data = JPEG * 16_000  # 1.6 MB
    doc["uploads"][0]["body"] = base64.b64encode(data).decode()
    status, answer = await _import(mock, doc)
    assert status == 200, answer
    [stored] = mock.state.uploads.all()
    assert stored.size == len(data) and stored.path.read_bytes() == data
