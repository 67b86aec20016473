"""A2E custom backgrounds (custom_back/*, all POST) and the avatar-video extras: DELETE
video/{_id}, lang_classify, auto-public-pool; custom_back_id in video/generate."""

from __future__ import annotations

import pytest

from tests.test_a2e import HEX24, ISO_MS, VIDEO, assert_refusal, coins, data_of, video_row

ALL = "/api/v1/custom_back/allBackground"
ADD = "/api/v1/custom_back/add"
DEL = "/api/v1/custom_back/del"
GENERATE = "/api/v1/video/generate"
AWS_RESULT = "/api/v1/video/awsResult"
AWS_LIST = "/api/v1/video/awsList"
VIDEO_ID = "/api/v1/video/{}"
LANG = "/api/v1/video/lang_classify"
POOL = "/api/v1/video/auto-public-pool"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def add(mock, url="https://example.com/bg.png", key="sk-test"):
    return data_of(*await mock.call("POST", ADD, key=key, json={"img_url": url}))


async def backgrounds(mock, key="sk-test"):
    return data_of(*await mock.call("POST", ALL, key=key))


async def test_add_list_and_delete_backgrounds(api):
    first = await add(api, "https://example.com/one.png")
    assert set(first) == {"_id", "img_url", "createdAt"}
    assert HEX24.match(first["_id"]) and ISO_MS.match(first["createdAt"])
    api.advance(1)
    second = await add(api, "https://example.com/two.png")
    assert await backgrounds(api) == [second, first]
    assert await backgrounds(api, key="sk-other") == []
    assert data_of(*await api.call("POST", DEL, json={"_id": first["_id"]})) == {}
    assert await backgrounds(api) == [second]
    assert_refusal(*await api.call("POST", DEL, json={"_id": first["_id"]}), 404, 404)


async def test_all_background_takes_an_empty_text_body_or_an_object(api):
    await add(api)
    empty = await api.call("POST", ALL, data=b"", headers={"Content-Type": "text/plain"})
    assert len(data_of(*empty)) == 1
    assert data_of(*await api.call("POST", ALL, json={})) == data_of(*empty)


async def test_background_endpoints_refuse_bad_input_and_missing_tokens(api):
    assert_refusal(*await api.call("POST", ADD, json={}), 400, 400)
    assert_refusal(*await api.call("POST", ADD, json={"img_url": 3}), 400, 400)
    assert_refusal(*await api.call("POST", DEL, json={}), 400, 400)
    assert_refusal(*await api.call("POST", ALL, json=[1]), 400, 400)
    for path, body in ((ALL, {}), (ADD, {"img_url": "u"}), (DEL, {"_id": "x"})):
        assert_refusal(*await api.call("POST", path, json=body, key=None), 401, 401)
    theirs = await add(api, key="sk-other")
    assert_refusal(*await api.call("POST", DEL, json={"_id": theirs["_id"]}), 404, 404)
    assert await backgrounds(api) == []


async def test_generate_takes_a_custom_background_and_shows_it(api):
    back = await add(api)
    status, body = await api.call("POST", GENERATE, json={**VIDEO, "custom_back_id": back["_id"]})
    row = data_of(status, body)
    assert row["custom_backs_id"] == back["_id"]
    assert (await video_row(api, row["_id"]))["custom_backs_id"] == back["_id"]
    plain = data_of(*await api.call("POST", GENERATE, json=VIDEO))
    assert plain["custom_backs_id"] is None


async def test_generate_refuses_an_unknown_foreign_or_deleted_background_and_charges_nothing(api):
    theirs = await add(api, key="sk-other")
    mine = await add(api)
    await api.call("POST", DEL, json={"_id": mine["_id"]})
    for back_id in ("f" * 24, theirs["_id"], mine["_id"]):
        status, body = await api.call("POST", GENERATE, json={**VIDEO, "custom_back_id": back_id})
        assert "custom_back_id" in assert_refusal(status, body, 400, 400)
    assert await coins(api) == 10000
    assert data_of(*await api.call("GET", AWS_LIST))["total"] == 0


# --- video/{_id} DELETE ------------------------------------------------------------------


async def test_deleting_a_video_removes_it_from_every_view(api):
    done = data_of(*await api.call("POST", GENERATE, json=VIDEO))["_id"]
    api.advance(30)
    running = data_of(*await api.call("POST", GENERATE, json=VIDEO))["_id"]
    for video_id in (done, running):
        assert data_of(*await api.call("DELETE", VIDEO_ID.format(video_id))) == {}
        assert_refusal(*await api.call("POST", AWS_RESULT, json={"_id": video_id}), 404, 404)
    assert data_of(*await api.call("GET", AWS_LIST))["data"] == []
    assert_refusal(*await api.call("DELETE", VIDEO_ID.format(done)), 404, 404)


async def test_a_cancelled_video_is_not_refunded_even_if_it_would_have_failed(api):
    headers = {"X-Mock-Outcome": "failure"}
    video_id = data_of(*await api.call("POST", GENERATE, json=VIDEO, headers=headers))["_id"]
    await api.call("DELETE", VIDEO_ID.format(video_id))
    api.advance(60)
    assert await coins(api) == 10000 - 10


async def test_delete_video_refuses_foreign_ids_and_missing_tokens(api):
    theirs = data_of(*await api.call("POST", GENERATE, key="sk-other", json=VIDEO))["_id"]
    assert_refusal(*await api.call("DELETE", VIDEO_ID.format(theirs)), 404, 404)
    assert_refusal(*await api.call("DELETE", VIDEO_ID.format(theirs), key=None), 401, 401)
    assert (await video_row(api, theirs, key="sk-other"))["_id"] == theirs


# --- lang_classify and auto-public-pool --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, how are you?", "en-US"),
        ("你好今天怎么样", "zh-CN"),
        ("こんにちは、元気ですか", "ja-JP"),
        ("안녕하세요", "ko-KR"),
        ("Привет", "ru-RU"),
    ],
)
async def test_lang_classify_answers_a_language_code(api, text, language):
    assert data_of(*await api.call("POST", LANG, json={"msg": text})) == language


async def test_lang_classify_refuses_bad_input(api):
    assert_refusal(*await api.call("POST", LANG, json={}), 400, 400)
    assert_refusal(*await api.call("POST", LANG, json={"msg": "hi"}, key=None), 401, 401)


async def test_auto_public_pool_answers_the_switch(api):
    for value in (True, False):
        answer = data_of(*await api.call("POST", POOL, json={"isAutoToPublicPool": value}))
        assert answer == {"isAutoToPublicPool": value}
    assert_refusal(*await api.call("POST", POOL, json={"isAutoToPublicPool": "yes"}), 400, 400)
    assert_refusal(*await api.call("POST", POOL, json={}, key=None), 401, 401)


async def test_aws_list_by_post_pages_like_the_get_form(api):
    for _ in range(3):
        await api.call("POST", GENERATE, json=VIDEO)
        api.advance(1)
    by_get = data_of(*await api.call("GET", AWS_LIST, params={"current": 2, "pageSize": 2}))
    by_post = data_of(*await api.call("POST", AWS_LIST, json={"current": 2, "pageSize": 2}))
    assert by_post == by_get and by_post["total"] == 3 and len(by_post["data"]) == 1
    everything = data_of(*await api.call("POST", AWS_LIST))
    assert everything == data_of(*await api.call("GET", AWS_LIST))
    assert_refusal(*await api.call("POST", AWS_LIST, json={"current": 0}), 400, 400)
    assert_refusal(*await api.call("POST", AWS_LIST, key=None), 401, 401)
