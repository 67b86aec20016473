"""``r2/upload-presigned-url``, the reference's presigned upload: the key scoped to
``{urlPrefix}/{env}/user/{user_id}/``, ``bucket`` defaulting to ``3days-apac``, ``expiresIn`` at
least 60, and ``cdnUrl``, the public URL of the file once it is PUT.
"""

from __future__ import annotations

import re

import pytest

from tests.test_a2e import assert_refusal, coins, data_of
from tests.test_a2e_r2 import object_path, put

UPLOAD = "/api/v1/r2/upload-presigned-url"
SCOPED = re.compile(r"^adam2eve/prod/user/[0-9a-f]{24}/me/face\.png$")


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def presign(mock, key="sk-test", **body):
    answer = await mock.call("POST", UPLOAD, key=key, json={"key": "me/face.png", **body})
    return data_of(*answer)


async def test_the_key_is_scoped_to_the_caller_and_the_defaults_are_the_references(api):
    answer = await presign(api)
    assert SCOPED.match(answer["key"]), answer["key"]
    assert (answer["bucket"], answer["expiresIn"]) == ("3days-apac", 3600)
    theirs = await presign(api, key="sk-other")
    assert theirs["key"] != answer["key"] and theirs["key"].endswith("/me/face.png")
    again = data_of(*await api.call("POST", UPLOAD, json={"key": answer["key"]}))
    assert again["key"] == answer["key"]  # a key already in scope is not scoped twice
    prefixed = await presign(api, urlPrefix="site", bucket="b1", expiresIn=60)
    assert prefixed["key"].startswith("site/prod/user/") and prefixed["bucket"] == "b1"
    assert prefixed["expiresIn"] == 60


async def test_what_is_put_is_public_at_cdn_url_and_private_at_the_plain_url(api):
    answer = await presign(api, contentType="image/png", fileSize=9, contentLength=10)
    assert (answer["contentType"], answer["contentLength"]) == ("image/png", 10)
    missing = await api.client.get(api.local(answer["cdnUrl"]))
    assert missing.status == 404  # nothing PUT yet
    assert (await put(api, answer["uploadUrl"]))[0] == 200
    resp = await api.client.get(api.local(answer["cdnUrl"]))  # no Authorization
    assert resp.status == 200 and await resp.read() == b"\x89PNG fake"
    assert resp.content_type == "image/png"
    plain = await api.client.get(object_path(api, answer["cdnUrl"]))
    assert plain.status == 403
    api.advance(3601)  # the upload URL expires, the CDN URL does not
    assert (await put(api, answer["uploadUrl"], b"late"))[0] == 403
    assert (await api.client.get(api.local(answer["cdnUrl"]))).status == 200


async def test_each_call_costs_the_scenarios_r2_price(make_mock):
    mock = await make_mock("providers: {a2e: {costs: {r2_upload: 2}}}", providers=("a2e",))
    before = await coins(mock)
    await presign(mock)
    assert await coins(mock) == before - 2


@pytest.mark.parametrize(
    "body",
    [
        {"key": ""},
        {"key": "../other/face.png"},
        {"key": "a.png", "expiresIn": 59},
        {"key": "a.png", "expiresIn": "60"},
        {"key": "a.png", "urlPrefix": "a/b"},
        {"bucket": "b"},
    ],
    ids=["empty key", "dot-dot", "expiresIn under 60", "expiresIn text", "prefix path", "no key"],
)
async def test_bad_input_is_refused_in_a2e_dialect(api, body):
    status, answer = await api.call("POST", UPLOAD, json=body)
    assert_refusal(status, answer, 400, 400)
