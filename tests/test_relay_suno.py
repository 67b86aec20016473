"""Suno on the relay (/suno/submit/{action}, /suno/fetch/{id}, POST /suno/fetch): the same
task object /avatar/task answers with, on the virtual clock."""

from __future__ import annotations

import json
import re

import pytest

from tests.webhook_receiver import start_receiver

SUBMIT = "/suno/submit/{}"
FETCH = "/suno/fetch/{}"
SONG = {"prompt": "a song about the sea", "title": "Sea", "tags": "pop", "mv": "chirp-v3-5"}
DONE = 60
TASK_NOT_EXIST = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
AVATAR_TASK_KEYS = [
    "task_id",
    "notify_hook",
    "action",
    "status",
    "fail_reason",
    "submit_time",
    "start_time",
    "finish_time",
    "progress",
    "data",
]


async def submit(mock, action="music", key="sk-test", headers=None, **overrides):
    body = {**SONG, **overrides}
    status, answer = await mock.call(
        "POST", SUBMIT.format(action), key=key, json=body, headers=headers or {}
    )
    assert status == 200, answer
    assert answer["code"] == "success" and answer["message"] == ""
    assert UUID.fullmatch(answer["data"])
    return answer["data"]


async def fetch(mock, task_id, key="sk-test"):
    status, body = await mock.call("GET", FETCH.format(task_id), key=key)
    assert status == 200, body
    assert body["code"] == "success"
    return body["data"]


async def test_a_song_walks_the_relay_states_to_success_with_two_playable_clips(mock):
    task_id = await submit(mock, notify_hook="https://hooks.example/suno")
    seen = []
    for _ in range(DONE * 4):
        task = await fetch(mock, task_id)
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        mock.advance(0.25)
    assert seen == ["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS"]
    assert list(task) == AVATAR_TASK_KEYS  # the task object /avatar/task answers with
    assert task["action"] == "MUSIC" and task["progress"] == "100%"
    assert task["notify_hook"] == "https://hooks.example/suno"
    assert len(task["data"]) == 2 and {c["title"] for c in task["data"]} == {"Sea"}
    status, audio = await mock.call("GET", mock.local(task["data"][0]["audio_url"]), key=None)
    assert status == 200 and audio


async def test_lyrics_is_its_own_action_and_gives_the_text(mock):
    task_id = await submit(mock, action="lyrics")
    mock.advance(DONE)
    task = await fetch(mock, task_id)
    assert task["action"] == "LYRICS" and task["data"][0]["text"] == "a song about the sea"


async def test_a_failed_song_has_a_reason_no_clips_and_is_refunded(mock):
    task_id = await submit(mock, headers={"X-Mock-Outcome": "failure:generation failed"})
    mock.advance(DONE)
    task = await fetch(mock, task_id)
    assert task["status"] == "FAILURE" and task["fail_reason"] == "generation failed"
    assert task["data"] is None
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-test", key=None)
    assert tenant["balances"]["quota"] == 1000


async def test_batch_fetch_answers_only_the_callers_tasks_and_agrees_with_fetch(mock):
    mine = [await submit(mock), await submit(mock, action="lyrics")]
    theirs = await submit(mock, key="sk-other")
    mock.advance(DONE)
    ids = [mine[1], theirs, "not-a-task", mine[0]]
    status, body = await mock.call("POST", "/suno/fetch", json={"ids": ids})
    assert status == 200 and body["code"] == "success"
    assert [t["task_id"] for t in body["data"]] == [mine[1], mine[0]]
    assert body["data"][1] == await fetch(mock, mine[0])


async def test_another_keys_task_is_task_not_exist(mock):
    task_id = await submit(mock, key="sk-alice")
    status, body = await mock.call("GET", FETCH.format(task_id), key="sk-bob")
    assert status == 400 and body == TASK_NOT_EXIST


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/suno/submit/video", SONG),
        ("/suno/submit/music", {"title": 5}),
        ("/suno/fetch", {}),
        ("/suno/fetch", {"ids": "x"}),
    ],
)
async def test_bad_input_is_invalid_request(mock, path, body):
    status, answer = await mock.call("POST", path, json=body)
    assert status == 400 and answer["code"] == "invalid_request", answer


async def test_notify_hook_gets_the_suno_task_object_fetch_shows(mock):
    receiver = await start_receiver()
    try:
        task_id = await submit(mock, notify_hook=receiver.url())
        mock.advance(DONE)
        await mock.state.webhooks.flush()
        (hit,) = receiver.received
        assert json.loads(hit.body) == await fetch(mock, task_id)
    finally:
        await receiver.server.close()
