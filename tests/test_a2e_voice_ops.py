"""The reference's voice operations beside the seeds' ones: ``userVoice/trainingRecord`` (every
clone), ``PUT userVoice/{_id}`` (rename), ``anchor/tts_list`` (system voices), and the TTS
previews ``send_tts`` leaves: ``tts/preview/list`` (the last 24 hours) and its soft delete.
"""

from __future__ import annotations

import pytest

from tests.test_a2e import assert_refusal, data_of, download

TRAIN = "/api/v1/userVoice/training"
RECORDS = "/api/v1/userVoice/trainingRecord"
VOICE = "/api/v1/userVoice/{}"
TTS = "/api/v1/video/send_tts"
PREVIEWS = "/api/v1/tts/preview/list"
PREVIEW = "/api/v1/tts/preview/{}"
CLONE = {"name": "mine", "voice_urls": ["https://e.com/me.mp3"]}
TRAINED = 120  # every clone of the default scenario has ended by then
AVA = "6625ebd4613f49985c349f95"  # a public voice (catalog.py)


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def clone(mock, key="sk-test", headers=None):
    status, body = await mock.call("POST", TRAIN, key=key, json=CLONE, headers=headers or {})
    return data_of(status, body)


async def speak(mock, msg="hello", key="sk-test"):
    return data_of(*await mock.call("POST", TTS, key=key, json={"msg": msg, "tts_id": AVA}))


async def previews(mock, key="sk-test", **params):
    return data_of(*await mock.call("GET", PREVIEWS, key=key, params=params))


async def test_training_record_lists_every_clone_in_every_state_as_its_detail(api):
    done = await clone(api)
    failed = await clone(api, headers={"X-Mock-Outcome": "failure"})
    await clone(api, key="sk-other")
    running_rows = data_of(*await api.call("GET", RECORDS))
    assert [r["current_status"] for r in running_rows] == ["sent", "sent"]
    api.advance(TRAINED)
    rows = data_of(*await api.call("GET", RECORDS))
    assert [r["_id"] for r in rows] == [failed["_id"], done["_id"]]
    assert [r["current_status"] for r in rows] == ["failed", "completed"]
    assert rows[1] == data_of(*await api.call("GET", VOICE.format(done["_id"])))


async def test_renaming_a_voice_changes_its_name_alone(api):
    voice = await clone(api)
    api.advance(TRAINED)
    before = data_of(*await api.call("GET", VOICE.format(voice["_id"])))
    renamed = data_of(*await api.call("PUT", VOICE.format(voice["_id"]), json={"name": "new"}))
    assert renamed == {**before, "name": "new"}
    assert data_of(*await api.call("GET", VOICE.format(voice["_id"]))) == renamed
    completed = data_of(*await api.call("GET", "/api/v1/userVoice/completedRecord"))
    assert completed == [renamed]


async def test_renaming_refuses_another_keys_voice_and_a_bad_body(api):
    theirs = await clone(api, key="sk-other")
    status, body = await api.call("PUT", VOICE.format(theirs["_id"]), json={"name": "x"})
    assert_refusal(status, body, 404, 404)
    mine = await clone(api)
    for bad in ({}, {"name": ""}, {"name": 5}):
        status, body = await api.call("PUT", VOICE.format(mine["_id"]), json=bad)
        assert_refusal(status, body, 400, 400)
    assert (
        data_of(*await api.call("GET", VOICE.format(theirs["_id"]), key="sk-other"))["name"]
        == CLONE["name"]
    )


async def test_tts_list_gives_the_public_voices_send_tts_takes(api):
    presets = data_of(*await api.call("POST", "/api/v1/anchor/tts_list"))
    assert AVA in {p["tts_id"] for p in presets}
    grouped = data_of(*await api.call("GET", "/api/v1/anchor/voice_list"))
    ids = {child["value"] for group in grouped for child in group["children"]}
    assert {p["tts_id"] for p in presets} == ids
    for preset in presets:  # each one speaks in send_tts
        body = {"msg": "hi", "tts_id": preset["tts_id"]}
        assert data_of(*await api.call("POST", TTS, json=body)).endswith(".mp3")


async def test_send_tts_leaves_a_preview_listed_for_24_hours(api):
    first = await speak(api, "one")
    api.advance(3600)
    second = await speak(api, "two")
    await speak(api, "theirs", key="sk-other")
    page = await previews(api)
    assert (page["current"], page["total"], page["success"]) == (1, 2, True)
    assert [(p["msg"], p["audio_url"]) for p in page["data"]] == [("two", second), ("one", first)]
    assert page["data"][0]["tts_id"] == AVA and page["data"][0]["user_voice_id"] == ""
    status, ctype, _ = await download(api, page["data"][0]["audio_url"])
    assert (status, ctype) == (200, "audio/mpeg")
    assert [p["msg"] for p in (await previews(api, current=2, pageSize=1))["data"]] == ["one"]
    api.advance(23 * 3600 + 1)  # the first is now older than 24 hours
    assert [p["msg"] for p in (await previews(api))["data"]] == ["two"]


async def test_a_deleted_preview_leaves_the_list_and_its_audio_stays(api):
    url = await speak(api)
    [row] = (await previews(api))["data"]
    status, body = await api.call("DELETE", PREVIEW.format(row["_id"]), key="sk-other")
    assert_refusal(status, body, 404, 404)
    assert data_of(*await api.call("DELETE", PREVIEW.format(row["_id"]))) == {}
    assert (await previews(api))["data"] == []
    assert (await download(api, url))[0] == 200
    status, body = await api.call("DELETE", PREVIEW.format(row["_id"]))
    assert_refusal(status, body, 404, 404)


@pytest.mark.parametrize("params", [{"pageSize": 101}, {"pageSize": 0}, {"current": 0}])
async def test_the_preview_list_refuses_bad_paging_in_a2e_dialect(api, params):
    status, body = await api.call("GET", PREVIEWS, params=params)
    assert_refusal(status, body, 400, 400)
