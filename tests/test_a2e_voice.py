"""A2E TTS and voice clone: public voices, languages, the clone lifecycle, send_tts.

A clone walks sent -> processing -> completed (or failed); only a completed voice of the
caller works in send_tts, whose answer is an mp3 the mock serves.
"""

from __future__ import annotations

import pytest

from tests.test_a2e import HEX24, ISO_MS, assert_refusal, coins, data_of, download, walk

VOICE_LIST = "/api/v1/anchor/voice_list"
LANGUAGES = "/api/v1/anchor/language_list"
TRAIN = "/api/v1/userVoice/training"
COMPLETED = "/api/v1/userVoice/completedRecord"
PROCESSING = "/api/v1/userVoice/processingRecord"
VOICE = "/api/v1/userVoice/{}"
TTS = "/api/v1/video/send_tts"

CLONE = {
    "name": "my voice",
    "voice_urls": ["https://example.com/sample.mp3"],
    "model": "a2e",
    "language": "en-US",
    "gender": "female",
    "denoise": True,
}
PUBLIC_TTS_ID = "6625ebd4613f49985c349f95"
VOICE_FIELDS = {
    "_id", "name", "voice_urls", "current_status", "train_mode", "speaker_id",
    "failed_message", "createdAt", "updatedAt",
}  # fmt: skip
START_COINS = 10000


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def train(mock, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", TRAIN, key=key, json={**CLONE, **fields}, headers=headers or {}
    )
    return data_of(status, body)


async def voice(mock, voice_id, key="sk-test"):
    return data_of(*await mock.call("GET", VOICE.format(voice_id), key=key))


async def ids(mock, path, key="sk-test"):
    return [row["_id"] for row in data_of(*await mock.call("GET", path, key=key))]


async def tts(mock, key="sk-test", **fields):
    return await mock.call("POST", TTS, key=key, json={"msg": "Hello there", **fields})


# --- public voices and languages ---------------------------------------------------------


async def test_voice_list_groups_public_voices_by_gender_with_tts_ids(api):
    groups = data_of(*await api.call("GET", VOICE_LIST))
    assert {g["value"] for g in groups} == {"female", "male"}
    children = [c for g in groups for c in g["children"]]
    assert PUBLIC_TTS_ID in {c["value"] for c in children}
    assert all(HEX24.match(c["value"]) and c["label"] for c in children)


async def test_voice_list_filters_by_country_region_and_map_type_in_both_forms(api):
    by_get = data_of(*await api.call("GET", VOICE_LIST, params={"country": "en", "region": "GB"}))
    by_post = data_of(*await api.call("POST", VOICE_LIST, json={"voice_map_type": "en-GB"}))
    assert by_get == by_post
    assert sorted(c["label"] for g in by_get for c in g["children"]) == ["Ryan", "Sonia"]
    only_ja = data_of(*await api.call("GET", VOICE_LIST, params={"voice_map_type": "ja-JP"}))
    assert [g["value"] for g in only_ja] == ["female"]  # an empty group is left out
    assert data_of(*await api.call("POST", VOICE_LIST)) == data_of(
        *await api.call("GET", VOICE_LIST)
    )


async def test_voice_list_refuses_a_bad_body_and_a_missing_token(api):
    status, body = await api.call(
        "POST", VOICE_LIST, data=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert_refusal(status, body, 400, 400)
    assert_refusal(*await api.call("GET", VOICE_LIST, key=None), 401, 401)


async def test_language_list_answers_label_value_pairs_by_get_and_post(api):
    langs = data_of(*await api.call("GET", LANGUAGES, params={"lang": "en"}))
    assert {"label": "English (US)", "value": "en-US"} in langs
    assert data_of(*await api.call("POST", LANGUAGES, json={"lang": "en"})) == langs
    assert_refusal(*await api.call("POST", LANGUAGES, key=None), 401, 401)
    status, body = await api.call("POST", LANGUAGES, json={"lang": 5})
    assert_refusal(status, body, 400, 400)


# --- the clone lifecycle -----------------------------------------------------------------


async def test_clone_walks_sent_processing_completed_and_moves_between_lists(api):
    created = await train(api)
    assert set(created) == VOICE_FIELDS
    assert HEX24.match(created["_id"]) and HEX24.match(created["speaker_id"])
    assert created["current_status"] == "sent" and created["train_mode"] == "best"
    assert created["voice_urls"] == CLONE["voice_urls"] and created["failed_message"] == ""
    assert ISO_MS.match(created["createdAt"])
    voice_id = created["_id"]
    assert await ids(api, PROCESSING) == [voice_id]
    assert await ids(api, COMPLETED) == []
    seen, reads = await walk(api, lambda: voice(api, voice_id), ("completed", "failed"), step=1)
    assert seen == ["sent", "processing", "completed"]
    assert reads[-1]["updatedAt"] > created["updatedAt"]
    assert await ids(api, PROCESSING) == []
    completed = data_of(*await api.call("GET", COMPLETED))
    assert completed == [await voice(api, voice_id)]


async def test_clone_within_two_minutes_as_documented(api):
    voice_id = (await train(api))["_id"]
    api.advance(120)
    assert (await voice(api, voice_id))["current_status"] == "completed"


async def test_failed_clone_has_a_message_and_is_in_neither_list(api):
    voice_id = (await train(api, headers={"X-Mock-Outcome": "failure"}))["_id"]
    seen, reads = await walk(api, lambda: voice(api, voice_id), ("completed", "failed"), step=1)
    assert seen == ["sent", "processing", "failed"]
    assert reads[-1]["failed_message"] == "the audio has more than one speaker"
    assert await ids(api, PROCESSING) == [] and await ids(api, COMPLETED) == []


async def test_lists_are_newest_first_and_per_token(api):
    first = (await train(api))["_id"]
    api.advance(1)
    second = (await train(api, name="second"))["_id"]
    other = (await train(api, key="sk-other"))["_id"]
    assert await ids(api, PROCESSING) == [second, first]
    api.advance(120)
    assert await ids(api, COMPLETED) == [second, first]
    assert await ids(api, COMPLETED, key="sk-other") == [other]
    assert_refusal(*await api.call("GET", VOICE.format(other)), 404, 404)


async def test_singular_audio_url_is_accepted_and_shown_as_voice_urls(api):
    fields = {k: v for k, v in CLONE.items() if k != "voice_urls"}
    status, body = await api.call(
        "POST", TRAIN, json={**fields, "audio_url": "https://e.com/a.wav"}
    )
    assert data_of(status, body)["voice_urls"] == ["https://e.com/a.wav"]


async def test_training_refuses_bad_bodies(api):
    for bad in (
        {"name": "x"},
        {"voice_urls": ["u"]},
        {**CLONE, "voice_urls": []},
        {**CLONE, "model": "nope"},
    ):
        status, body = await api.call("POST", TRAIN, json=bad)
        assert_refusal(status, body, 400, 400)
    assert_refusal(*await api.call("POST", TRAIN, json=CLONE, key=None), 401, 401)
    assert await ids(api, PROCESSING) == []


async def test_voice_clone_costs_coins_and_refunds_on_failure(make_mock):
    mock = await make_mock("providers: {a2e: {costs: {voice_clone: 50}}}", providers=("a2e",))
    await train(mock)
    await train(mock, headers={"X-Mock-Outcome": "failure"})
    assert await coins(mock) == START_COINS - 100
    mock.advance(120)
    assert await coins(mock) == START_COINS - 50


async def test_voice_clone_without_coins_is_refused_and_creates_nothing(make_mock):
    mock = await make_mock(
        "balances: {coins: 30}\nproviders: {a2e: {costs: {voice_clone: 50}}}", providers=("a2e",)
    )
    assert_refusal(*await mock.call("POST", TRAIN, json=CLONE), 200, 1002)
    assert await coins(mock) == 30
    assert await ids(mock, PROCESSING) == []


async def test_get_and_delete_a_voice(api):
    voice_id = (await train(api))["_id"]
    assert (await voice(api, voice_id))["_id"] == voice_id
    assert data_of(*await api.call("DELETE", VOICE.format(voice_id))) == {}
    assert_refusal(*await api.call("GET", VOICE.format(voice_id)), 404, 404)
    assert_refusal(*await api.call("DELETE", VOICE.format(voice_id)), 404, 404)
    assert await ids(api, PROCESSING) == []
    assert_refusal(*await api.call("GET", VOICE.format("0" * 24), key=None), 401, 401)


# --- send_tts ----------------------------------------------------------------------------


async def test_send_tts_with_a_public_voice_returns_an_mp3_on_the_mock(api):
    url = data_of(*await tts(api, tts_id=PUBLIC_TTS_ID, speechRate=1.2))
    assert isinstance(url, str) and url.endswith(".mp3")
    status, ctype, payload = await download(api, url)
    assert status == 200 and ctype == "audio/mpeg" and payload
    api.advance(6 * 24 * 3600)
    assert (await download(api, url))[0] == 200
    api.advance(2 * 24 * 3600)
    assert (await download(api, url))[0] == 403  # generated audio is kept about 7 days


async def test_send_tts_with_a_completed_cloned_voice_needs_country_and_region(api):
    created = await train(api)
    status, body = await tts(api, user_voice_id=created["_id"], country="en", region="US")
    assert_refusal(status, body, 400, 400)  # still training
    api.advance(120)
    for by in (created["_id"], created["speaker_id"]):
        url = data_of(*await tts(api, user_voice_id=by, country="en", region="US"))
        assert (await download(api, url))[0] == 200
    msg = assert_refusal(*await tts(api, user_voice_id=created["_id"]), 400, 400)
    assert "country" in msg and "region" in msg


async def test_send_tts_refuses_a_deleted_foreign_or_unknown_voice(api):
    mine = (await train(api))["_id"]
    theirs = (await train(api, key="sk-other"))["_id"]
    api.advance(120)
    where = {"country": "en", "region": "US"}
    assert_refusal(*await tts(api, user_voice_id=theirs, **where), 404, 404)
    assert_refusal(*await tts(api, user_voice_id="f" * 24, **where), 404, 404)
    await api.call("DELETE", VOICE.format(mine))
    assert_refusal(*await tts(api, user_voice_id=mine, **where), 404, 404)


async def test_send_tts_refuses_bad_requests(api):
    assert_refusal(*await tts(api), 400, 400)  # neither voice
    both = await tts(api, tts_id=PUBLIC_TTS_ID, user_voice_id="a" * 24, country="en", region="US")
    assert_refusal(*both, 400, 400)
    assert_refusal(*await tts(api, tts_id="0" * 24), 400, 400)
    assert_refusal(*await tts(api, tts_id=PUBLIC_TTS_ID, msg="x" * 1001), 400, 400)
    assert_refusal(*await tts(api, tts_id=PUBLIC_TTS_ID, speechRate=3), 400, 400)
    assert_refusal(*await tts(api, key=None, tts_id=PUBLIC_TTS_ID), 401, 401)


async def test_send_tts_charges_its_cost_per_call(make_mock):
    mock = await make_mock(
        "balances: {coins: 5}\nproviders: {a2e: {costs: {tts: 2}}}", providers=("a2e",)
    )
    data_of(*await tts(mock, tts_id=PUBLIC_TTS_ID))
    data_of(*await tts(mock, tts_id=PUBLIC_TTS_ID))
    assert await coins(mock) == 1
    assert_refusal(*await tts(mock, tts_id=PUBLIC_TTS_ID), 200, 1002)
    assert await coins(mock) == 1
