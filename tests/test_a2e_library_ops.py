"""The reference's library operations on A2E: custom avatars (``custom_avatar/*``), the two
background lists beside ``allBackground`` (``custom_back/list``, ``randomBackground``, which
needs no token), and ``video/detail?video_id=``.
"""

from __future__ import annotations

import pytest

from tests.test_a2e import HEX24, assert_refusal, data_of, download, generate, video_row

AVATARS = "/api/v1/custom_avatar"
BACKS = "/api/v1/custom_back"
MEDIA = {"name": "Ana", "image_url": "https://e.com/ana.jpg"}


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def add_avatar(mock, key="sk-test", **fields):
    return data_of(*await mock.call("POST", f"{AVATARS}/add", key=key, json={**MEDIA, **fields}))


async def avatar_page(mock, key="sk-test", **body):
    return data_of(*await mock.call("POST", f"{AVATARS}/list", key=key, json=body))


async def test_a_custom_avatar_added_is_listed_newest_first_and_filtered_by_tag(api):
    ana = await add_avatar(api, tags=["work", "studio", "work"])
    bo = await add_avatar(api, name="Bo", video_url="https://e.com/bo.mp4", tags=["home"])
    await add_avatar(api, key="sk-other", tags=["secret"])
    assert HEX24.match(ana["_id"]) and ana["tags"] == ["work", "studio"]  # repeats dropped
    assert (ana["name"], ana["image_url"], ana["video_url"]) == ("Ana", MEDIA["image_url"], "")
    page = await avatar_page(api)
    assert page == {"rows": [bo, ana], "count": 2}
    assert await avatar_page(api, tag="studio") == {"rows": [ana], "count": 1}
    assert await avatar_page(api, pageNum=2, pageSize=1) == {"rows": [ana], "count": 2}
    tags = data_of(*await api.call("GET", f"{AVATARS}/all_tags"))
    assert tags == ["home", "studio", "work"]


async def test_updating_a_custom_avatar_keeps_the_fields_left_out(api):
    ana = await add_avatar(api, gender="female", tags=["a"])
    api.advance(5)
    status, body = await api.call("PUT", f"{AVATARS}/{ana['_id']}", json={"name": "Anna"})
    updated = data_of(status, body)
    assert updated["name"] == "Anna"
    assert {k: v for k, v in updated.items() if k not in ("name", "updatedAt")} == {
        k: v for k, v in ana.items() if k not in ("name", "updatedAt")
    }
    assert updated["updatedAt"] > ana["updatedAt"]
    assert (await avatar_page(api))["rows"] == [updated]
    retagged = data_of(*await api.call("PUT", f"{AVATARS}/{ana['_id']}", json={"tags": []}))
    assert retagged["tags"] == [] and retagged["name"] == "Anna"
    assert data_of(*await api.call("GET", f"{AVATARS}/all_tags")) == []


async def test_a_deleted_custom_avatar_is_gone_and_another_keys_cannot_be_touched(api):
    ana = await add_avatar(api)
    theirs = await add_avatar(api, key="sk-other")
    for method, path, body in (
        ("PUT", f"{AVATARS}/{theirs['_id']}", {"name": "x"}),
        ("POST", f"{AVATARS}/del", {"_id": theirs["_id"]}),
    ):
        status, answer = await api.call(method, path, json=body)
        assert_refusal(status, answer, 404, 404)
    assert (await avatar_page(api, key="sk-other"))["count"] == 1
    assert data_of(*await api.call("POST", f"{AVATARS}/del", json={"_id": ana["_id"]})) == {}
    assert await avatar_page(api) == {"rows": [], "count": 0}
    status, answer = await api.call("PUT", f"{AVATARS}/{ana['_id']}", json={"name": "x"})
    assert_refusal(status, answer, 404, 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "no media"},
        {**MEDIA, "tags": "a,b"},
        {**MEDIA, "tags": [""]},
        {**MEDIA, "name": 3},
    ],
    ids=["empty", "no media", "tags not a list", "empty tag", "name not text"],
)
async def test_adding_a_custom_avatar_refuses_bad_input_in_a2e_dialect(api, body):
    status, answer = await api.call("POST", f"{AVATARS}/add", json=body)
    assert_refusal(status, answer, 400, 400)
    assert await avatar_page(api) == {"rows": [], "count": 0}


async def test_custom_back_list_pages_the_backgrounds_all_background_lists(api):
    for n in range(3):
        await api.call("POST", f"{BACKS}/add", json={"img_url": f"https://e.com/{n}.jpg"})
    await api.call("POST", f"{BACKS}/add", key="sk-other", json={"img_url": "https://e.com/x.jpg"})
    every = data_of(*await api.call("POST", f"{BACKS}/allBackground", json={}))
    page = data_of(*await api.call("POST", f"{BACKS}/list", json={"pageNum": 1, "pageSize": 2}))
    assert page == {"rows": every[:2], "count": 3}
    assert data_of(*await api.call("POST", f"{BACKS}/list"))["rows"] == every
    status, answer = await api.call("POST", f"{BACKS}/list", json={"pageSize": 0})
    assert_refusal(status, answer, 400, 400)


async def test_random_background_answers_without_a_token_with_an_image_on_the_mock(api):
    status, body = await api.call("POST", f"{BACKS}/randomBackground", key=None)
    back = data_of(status, body)
    assert HEX24.match(back["_id"])
    status, ctype, data = await download(api, back["img_url"])
    assert status == 200 and ctype == "image/jpeg" and data


async def test_video_detail_is_the_row_aws_result_shows(api):
    video_id = await generate(api)
    for _ in range(3):
        detail = data_of(
            *await api.call("GET", "/api/v1/video/detail", params={"video_id": video_id})
        )
        assert detail == await video_row(api, video_id)
        api.advance(2)
    status, body = await api.call(
        "GET", "/api/v1/video/detail", key="sk-other", params={"video_id": video_id}
    )
    assert_refusal(status, body, 404, 404)
    status, body = await api.call("GET", "/api/v1/video/detail")
    assert_refusal(status, body, 400, 400)
