"""A2E custom avatars (userVideoTwin), lip-sync models and the avatar list.

An avatar trains initialized -> processing -> completed (or failed); once completed it is a
custom avatar in character_list, continue training costs a diamond and takes about two hours,
and its video's voice can be cloned.
"""

from __future__ import annotations

import pytest

from tests.test_a2e import HEX24, assert_refusal, data_of, download, walk

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

CHARACTERS = "/api/v1/anchor/character_list"
START = "/api/v1/userVideoTwin/startTraining"
ALL = "/api/v1/userVideoTwin/allRecords"
RECORDS = "/api/v1/userVideoTwin/records"
PROCESSING = "/api/v1/userVideoTwin/processingRecord"
LIPSYNC = "/api/v1/userVideoTwin/lipSyncModels"
CONTINUE = "/api/v1/userVideoTwin/continueTranining"
REMOVE = "/api/v1/userVideoTwin/remove"
ADD_VOICE = "/api/v1/userVideoTwin/addVoiceClone"
CLONE_VOICE = "/api/v1/userVideoTwin/cloneVoice"
TWIN = "/api/v1/userVideoTwin/{}"
COINS = "/api/v1/user/remainingCoins"
GENERATE = "/api/v1/video/generate"
VOICE = "/api/v1/userVoice/{}"

AVATAR = {"name": "me", "gender": "female", "video_url": "https://example.com/me.mp4"}
TRAINED = 200  # seconds: every avatar in the default scenario is done by then
TWIN_FIELDS = {
    "_id", "name", "gender", "video_url", "image_url", "current_status", "anchor_id",
    "preview_result_url", "failed_message", "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def start(mock, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", START, key=key, json={**AVATAR, **fields}, headers=headers or {}
    )
    return data_of(status, body)


async def twin(mock, twin_id, key="sk-test"):
    return data_of(*await mock.call("GET", TWIN.format(twin_id), key=key))


async def balances(mock, key="sk-test"):
    return data_of(*await mock.call("GET", COINS, key=key))


async def characters(mock, key="sk-test", **params):
    return data_of(*await mock.call("GET", CHARACTERS, key=key, params=params))


async def trained(mock, key="sk-test", **fields):
    twin_id = (await start(mock, key=key, **fields))["_id"]
    mock.advance(TRAINED)
    return await twin(mock, twin_id, key=key)


# --- training ----------------------------------------------------------------------------


async def test_avatar_trains_to_completed_and_gets_an_anchor_and_a_preview(api):
    created = await start(api)
    assert set(created) == TWIN_FIELDS and HEX24.match(created["_id"])
    assert created["current_status"] == "initialized"
    assert created["anchor_id"] == "" and created["preview_result_url"] == ""
    seen, reads = await walk(
        api, lambda: twin(api, created["_id"]), ("completed", "failed"), step=2
    )
    assert seen == ["initialized", "processing", "completed"]
    done = reads[-1]
    assert HEX24.match(done["anchor_id"]) and done["failed_message"] == ""
    status, ctype, _ = await download(api, done["preview_result_url"])
    assert status == 200 and ctype == "video/mp4"


async def test_failed_avatar_has_a_message_and_no_anchor(api):
    created = await start(api, headers={"X-Mock-Outcome": "failure"})
    seen, reads = await walk(
        api, lambda: twin(api, created["_id"]), ("completed", "failed"), step=2
    )
    assert seen == ["initialized", "processing", "failed"]
    assert reads[-1]["failed_message"] == "no face detected in the video"
    assert reads[-1]["anchor_id"] == ""
    assert [c for c in await characters(api, type="custom")] == []


async def test_start_refuses_bad_bodies(api):
    for bad in ({"name": "x"}, {"video_url": "u"}, {**AVATAR, "gender": "other"}):
        assert_refusal(*await api.call("POST", START, json=bad), 400, 400)
    assert_refusal(*await api.call("POST", START, json=AVATAR, key=None), 401, 401)
    assert data_of(*await api.call("GET", ALL))["count"] == 0


async def test_video_mode_is_free_and_image_mode_costs_a_diamond_refunded_on_failure(api):
    await start(api)
    assert await balances(api) == {"coins": 10000, "diamonds": 10}
    image = {"name": "pic", "image_url": "https://example.com/me.png"}
    status, body = await api.call("POST", START, json=image)
    assert data_of(status, body)["image_url"] == image["image_url"]
    failing = await api.call("POST", START, json=image, headers={"X-Mock-Outcome": "failure"})
    data_of(*failing)
    assert (await balances(api))["diamonds"] == 8
    api.advance(TRAINED)
    assert (await balances(api))["diamonds"] == 9


async def test_image_avatar_without_diamonds_is_refused(make_mock):
    mock = await make_mock("balances: {diamonds: 0}", providers=("a2e",))
    image = {"name": "pic", "image_url": "https://example.com/me.png"}
    msg = assert_refusal(*await mock.call("POST", START, json=image), 200, 1002)
    assert "diamonds" in msg
    assert data_of(*await mock.call("GET", PROCESSING)) == []


# --- lists and details -------------------------------------------------------------------


async def test_all_records_and_records_page_newest_first_and_agree_with_details(api):
    ids = []
    for n in range(3):
        ids.append((await start(api, name=f"a{n}"))["_id"])
        api.advance(1)
    for path in (ALL, RECORDS):
        page = data_of(*await api.call("GET", path, params={"pageNum": 1, "pageSize": 2}))
        assert page["count"] == 3 and [r["_id"] for r in page["rows"]] == ids[:0:-1]
        last = data_of(*await api.call("GET", path, params={"pageNum": 2, "pageSize": 2}))
        assert [r["_id"] for r in last["rows"]] == [ids[0]]
        for row in page["rows"]:
            assert row == await twin(api, row["_id"])
    assert_refusal(*await api.call("GET", ALL, params={"pageNum": 0}), 400, 400)
    assert_refusal(*await api.call("GET", RECORDS, key=None), 401, 401)


async def test_processing_record_holds_only_unfinished_avatars(api):
    first = (await start(api))["_id"]
    api.advance(TRAINED)
    second = (await start(api))["_id"]
    rows = data_of(*await api.call("GET", PROCESSING))
    assert [r["_id"] for r in rows] == [second] and rows[0]["current_status"] == "initialized"
    assert first != second
    assert_refusal(*await api.call("GET", PROCESSING, key=None), 401, 401)


async def test_an_avatar_is_private_to_its_token(api):
    twin_id = (await start(api, key="sk-other"))["_id"]
    assert_refusal(*await api.call("GET", TWIN.format(twin_id)), 404, 404)
    assert_refusal(*await api.call("GET", TWIN.format(twin_id), key=None), 401, 401)


# --- character_list ----------------------------------------------------------------------


async def test_character_list_shows_public_avatars_and_completed_custom_ones(api):
    public = await characters(api, type="default")
    assert public and all(a["type"] == "default" and a["anchor_type"] == 0 for a in public)
    assert await characters(api, type="0") == public
    done = await trained(api)
    custom = await characters(api, type="custom")
    assert len(custom) == 1
    row = custom[0]
    assert row["_id"] == done["anchor_id"] and row["user_video_twin_id"] == done["_id"]
    assert row["type"] == "custom" and row["anchor_type"] == 1
    assert await characters(api, type="1") == custom
    assert await characters(api, user_video_twin_id=done["_id"]) == custom
    assert await characters(api) == custom + public
    assert await characters(api, key="sk-other", type="custom") == []
    by_post = data_of(*await api.call("POST", CHARACTERS, json={"type": "custom"}))
    assert by_post == custom
    assert data_of(*await api.call("POST", CHARACTERS)) == custom + public


async def test_character_list_refuses_bad_input(api):
    assert_refusal(*await api.call("POST", CHARACTERS, json={"type": []}), 400, 400)
    assert_refusal(*await api.call("GET", CHARACTERS, key=None), 401, 401)


async def test_a_custom_anchor_renders_a_video(api):
    done = await trained(api)
    status, body = await api.call(
        "POST", GENERATE, json={"anchor_id": done["anchor_id"], "anchor_type": 1, "audioSrc": "a"}
    )
    row = data_of(status, body)
    assert row["anchor_id"] == done["anchor_id"] and row["anchor_type"] == "1"


# --- continue training -------------------------------------------------------------------


async def test_continue_training_costs_a_diamond_and_takes_about_two_hours(api):
    done = await trained(api)
    answer = data_of(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}))
    assert answer["_id"] == done["_id"] and answer["current_status"] == "completed"
    assert (await balances(api))["diamonds"] == 9
    assert data_of(*await api.call("GET", LIPSYNC)) == []
    api.advance(7100)
    assert data_of(*await api.call("GET", LIPSYNC)) == []
    api.advance(200)
    models = data_of(*await api.call("GET", LIPSYNC))
    assert len(models) == 1
    model = models[0]
    assert model["user_video_twin_id"] == done["_id"] and model["anchor_id"] == done["anchor_id"]
    assert model["current_status"] == "completed" and model["name"] == "me"
    assert (await balances(api))["diamonds"] == 9
    assert_refusal(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}), 400, 400)


async def test_failed_continue_training_refunds_the_diamond_and_may_be_retried(api):
    done = await trained(api)
    headers = {"X-Mock-Outcome": "failure"}
    data_of(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}, headers=headers))
    assert (await balances(api))["diamonds"] == 9
    assert_refusal(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}), 400, 400)
    api.advance(7300)
    assert (await balances(api))["diamonds"] == 10
    assert data_of(*await api.call("GET", LIPSYNC)) == []
    data_of(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}))
    assert (await balances(api))["diamonds"] == 9


async def test_continue_training_refuses_unfinished_unknown_and_poor(make_mock):
    mock = await make_mock("balances: {diamonds: 0}", providers=("a2e",))
    running = (await start(mock))["_id"]
    assert_refusal(*await mock.call("POST", CONTINUE, json={"_id": running}), 400, 400)
    assert_refusal(*await mock.call("POST", CONTINUE, json={"_id": "f" * 24}), 404, 404)
    assert_refusal(*await mock.call("POST", CONTINUE, json={}), 400, 400)
    assert_refusal(*await mock.call("POST", CONTINUE, json={"_id": running}, key=None), 401, 401)
    mock.advance(TRAINED)
    assert_refusal(*await mock.call("POST", CONTINUE, json={"_id": running}), 200, 1002)
    assert data_of(*await mock.call("GET", COINS))["diamonds"] == 0


# --- remove ------------------------------------------------------------------------------


async def test_remove_forgets_the_avatar_its_anchor_and_its_lip_sync_model(api):
    done = await trained(api)
    data_of(*await api.call("POST", CONTINUE, json={"_id": done["_id"]}))
    api.advance(7300)
    assert data_of(*await api.call("POST", REMOVE, json={"_id": done["_id"]})) == {}
    assert_refusal(*await api.call("GET", TWIN.format(done["_id"])), 404, 404)
    assert await characters(api, type="custom") == []
    assert data_of(*await api.call("GET", LIPSYNC)) == []
    assert data_of(*await api.call("GET", ALL))["rows"] == []
    assert_refusal(*await api.call("POST", REMOVE, json={"_id": done["_id"]}), 404, 404)
    assert_refusal(*await api.call("POST", REMOVE, json={"_id": 5}), 400, 400)
    assert_refusal(*await api.call("POST", REMOVE, json={"_id": "x"}, key=None), 401, 401)


# --- the voice of an avatar's video ------------------------------------------------------


@pytest.mark.parametrize("path", [ADD_VOICE, CLONE_VOICE])
async def test_voice_clone_from_an_avatar_video_becomes_a_user_voice(api, path):
    done = await trained(api)
    voice = data_of(*await api.call("POST", path, json={"_id": done["_id"]}))
    assert voice["name"] == "me" and voice["voice_urls"] == [AVATAR["video_url"]]
    assert voice["current_status"] == "sent"
    api.advance(120)
    assert data_of(*await api.call("GET", VOICE.format(voice["_id"])))["current_status"] == (
        "completed"
    )


@pytest.mark.parametrize("path", [ADD_VOICE, CLONE_VOICE])
async def test_voice_clone_from_an_avatar_refuses_unfinished_image_and_unknown(api, path):
    running = (await start(api))["_id"]
    assert_refusal(*await api.call("POST", path, json={"_id": running}), 400, 400)
    pic = {"name": "pic", "image_url": "https://e.com/p.png"}
    image = data_of(*await api.call("POST", START, json=pic))
    api.advance(TRAINED)
    assert_refusal(*await api.call("POST", path, json={"_id": image["_id"]}), 400, 400)
    assert_refusal(*await api.call("POST", path, json={"_id": "f" * 24}), 404, 404)
    assert_refusal(*await api.call("POST", path, json={"_id": running}, key=None), 401, 401)
