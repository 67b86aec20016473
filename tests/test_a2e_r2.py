"""A2E uploads: a presigned URL on the mock takes a PUT without Authorization and serves the
bytes back while it lasts; the object's plain URL is no public read (tests/test_tenancy.py
covers the walls between tenants)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_a2e import assert_refusal, data_of

PRESIGN = "/api/v1/r2/get_upload_presigned_url"


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def presign(mock, **body):
    return data_of(*await mock.call("POST", PRESIGN, json={"key": "me/face one.png", **body}))


async def put(mock, url, data=b"\x89PNG fake", ctype="image/png"):
    resp = await mock.client.put(mock.local(url), data=data, headers={"Content-Type": ctype})
    return resp.status, await resp.text()


def object_path(mock, url):
    return urlsplit(mock.local(url)).path


async def test_put_to_the_presigned_url_stores_the_bytes_it_then_serves_back(api):
    answer = await presign(api)
    assert answer["key"] == "me/face one.png" and answer["expiresIn"] == 3600
    assert answer["bucket"] == "a2e-upload"
    status, _ = await put(api, answer["uploadUrl"])
    assert status == 200
    resp = await api.client.get(api.local(answer["uploadUrl"]))
    assert resp.status == 200 and resp.content_type == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert await resp.read() == b"\x89PNG fake"
    assert (await put(api, answer["uploadUrl"], b"again"))[0] == 200  # replaces
    resp = await api.client.get(api.local(answer["uploadUrl"]))
    assert await resp.read() == b"again"


async def test_the_plain_object_url_is_no_public_read(api):
    answer = await presign(api)
    await put(api, answer["uploadUrl"])
    resp = await api.client.get(object_path(api, answer["uploadUrl"]))
    assert resp.status == 403 and "<Code>AccessDenied</Code>" in await resp.text()
    resp = await api.client.put(object_path(api, answer["uploadUrl"]), data=b"x")
    assert resp.status == 403 and "<Code>AccessDenied</Code>" in await resp.text()


async def test_a_named_bucket_is_kept_and_unknown_objects_are_s3_404s(api):
    answer = await presign(api, bucket="my-bucket")
    assert answer["bucket"] == "my-bucket" and "/my-bucket/" in answer["uploadUrl"]
    resp = await api.client.get(api.local(answer["uploadUrl"]))
    assert resp.status == 404 and "NoSuchKey" in await resp.text()


async def test_an_expired_or_tampered_upload_url_is_refused_in_s3_xml(api):
    answer = await presign(api)
    tampered = answer["uploadUrl"].replace("face%20one", "face%20two")
    status, text = await put(api, tampered)
    assert status == 403 and "SignatureDoesNotMatch" in text
    api.advance(3601)
    status, text = await put(api, answer["uploadUrl"])
    assert status == 403 and "AccessDenied" in text
    resp = await api.client.get(api.local(answer["uploadUrl"]))
    assert resp.status == 403 and "Request has expired" in await resp.text()


async def test_presign_refuses_bad_input_and_missing_tokens(api):
    for bad in ({}, {"key": ""}, {"key": "a/../b"}, {"key": "k", "bucket": 3}):
        assert_refusal(*await api.call("POST", PRESIGN, json=bad), 400, 400)
    assert_refusal(*await api.call("POST", PRESIGN, json={"key": "k"}, key=None), 401, 401)


async def test_transfer_to_storage_copies_an_uploaded_object_byte_for_byte(api):
    answer = await presign(api, key="clip.mp4")
    await put(api, answer["uploadUrl"], b"my own bytes", "video/mp4")
    source = answer["uploadUrl"].split("?", 1)[0]
    body = {"url": source}
    copy = data_of(*await api.call("POST", "/api/v1/tos/transferToStorage", json=body))["url"]
    assert copy != source
    resp = await api.client.get(api.local(copy))  # the copy's URL is signed for reading
    assert resp.status == 200 and await resp.read() == b"my own bytes"
    assert resp.content_type == "video/mp4"
    missing = {"url": source.replace("clip.mp4", "nothing.mp4")}
    status, reply = await api.call("POST", "/api/v1/tos/transferToStorage", json=missing)
    assert_refusal(status, reply, 400, 400)
