"""Uploads are bounded: a cap per file (S3's EntityTooLarge), quotas per tenant and in all,
bodies streamed to a temporary folder instead of memory, and files deleted with their records
on eviction, on reset, by the drop helpers and at shutdown."""

from __future__ import annotations

import asyncio
import re
import tracemalloc

import pytest

from tests.conftest import start_mock
from tests.test_a2e import assert_refusal, data_of
from tests.test_youcam_uploads import JPEG, outcome, upload, with_file

FILE = "/s2s/v2.0/file"
PRESIGN = "/api/v1/r2/get_upload_presigned_url"
TRANSFER = "/api/v1/tos/transferToStorage"
MIB = 1024 * 1024


def xml_field(text: str, name: str) -> str:
    found = re.search(f"<{name}>(.*?)</{name}>", text)
    assert found, text
    return found.group(1)


def spooled(mock) -> list[int]:
    """Sizes of the files in the upload folder."""
    folder = mock.state.uploads.folder
    return sorted(p.stat().st_size for p in folder.iterdir()) if folder else []


async def slot(mock, size, ctype="image/jpeg", key="sk-test"):
    spec = {"content_type": ctype, "file_name": "f", "file_size": size}
    status, answer = await mock.call("POST", FILE, key=key, json={"files": [spec]})
    assert status == 200, answer
    return answer["data"]["files"][0]


async def put_slot(mock, file, data):
    request = file["requests"][0]
    headers = {"Content-Type": request["headers"]["Content-Type"]}
    resp = await mock.client.put(mock.local(request["url"]), data=data, headers=headers)
    return resp.status, await resp.text()


async def chunks(total: int, size: int = MIB):
    """A body sent in chunks, without a Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"\x00" * n


async def presign(mock, key="sk-alice", name="f.bin"):
    answer = data_of(*await mock.call("POST", PRESIGN, key=key, json={"key": name}))
    return answer["uploadUrl"]


async def put_object(mock, url, data, ctype="application/octet-stream"):
    resp = await mock.client.put(mock.local(url), data=data, headers={"Content-Type": ctype})
    return resp.status, await resp.text()


# --- a cap per file ------------------------------------------------------------------------


async def test_a_youcam_put_over_the_size_it_was_signed_for_is_entity_too_large(mock):
    file = await slot(mock, 100)
    for body in (b"\x00" * 101, chunks(300, 64)):  # with and without a Content-Length
        status, text = await put_slot(mock, file, body)
        assert status == 400 and xml_field(text, "Code") == "EntityTooLarge"
        assert xml_field(text, "MaxSizeAllowed") == "100"
    assert spooled(mock) == []  # nothing kept of a refused body
    data = await outcome(mock, "sod", with_file("sod", src_file_id=file["file_id"]))
    assert data["error"] == "unknown_internal_error"  # never uploaded
    assert (await put_slot(mock, file, b"\x00" * 100))[0] == 200


async def test_an_a2e_object_over_max_file_bytes_is_entity_too_large(make_mock):
    mock = await make_mock("providers: {a2e: {settings: {uploads: {max_file_bytes: 1000}}}}")
    url = await presign(mock)
    for body in (b"\x00" * 1001, chunks(5000, 700)):
        status, text = await put_object(mock, url, body)
        assert status == 400 and xml_field(text, "Code") == "EntityTooLarge"
        assert xml_field(text, "MaxSizeAllowed") == "1000"
    assert (await mock.client.get(mock.local(url))).status == 404
    assert mock.state.uploads.usage("a2e", "sk-alice") == (0, 0) and spooled(mock) == []
    assert (await put_object(mock, url, b"\x00" * 1000))[0] == 200


async def test_an_a2e_object_larger_than_a_request_body_is_streamed_in(make_mock):
    mock = await make_mock(None, providers=("a2e",))
    url = await presign(mock)
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB, over the 1 MiB request-body limit
    assert (await put_object(mock, url, data, "video/mp4"))[0] == 200
    resp = await mock.client.get(mock.local(url))
    assert resp.status == 200 and await resp.read() == data


# --- quotas --------------------------------------------------------------------------------


async def test_youcam_slots_count_against_the_tenants_quota_and_a_refusal_reserves_nothing(
    make_mock,
):
    mock = await make_mock(
        "providers: {youcam: {rate_limits: [],"
        " settings: {uploads: {max_files: 3, max_bytes: 1000}}}}"
    )
    await slot(mock, 400)
    await slot(mock, 400)
    two = [{"content_type": "image/png", "file_name": "f", "file_size": 100}] * 2
    status, answer = await mock.call("POST", FILE, json={"files": two})  # 1000 + 100 > 1000
    assert (status, answer["error_code"]) == (400, "InvalidParameters")
    assert "files.1" in answer["error"] and "quota" in answer["error"]
    assert mock.state.uploads.usage("youcam", "sk-test") == (2, 800)  # the first not kept
    await slot(mock, 200)
    status, answer = await mock.call("POST", FILE, json={"files": two[:1]})  # a fourth file
    assert (status, answer["error_code"]) == (400, "InvalidParameters")
    await slot(mock, 400, key="sk-other")  # another tenant has its own quota


async def test_a2e_quota_per_tenant_and_in_all(make_mock):
    mock = await make_mock(
        "providers: {a2e: {settings: {uploads:"
        " {max_files: 2, max_bytes: 100, max_total_bytes: 160}}}}"
    )
    first = await presign(mock, "sk-alice", "a")
    assert (await put_object(mock, first, b"\x00" * 80))[0] == 200
    second = await presign(mock, "sk-alice", "b")
    status, text = await put_object(mock, second, b"\x00" * 30)
    assert status == 403 and xml_field(text, "Code") == "QuotaExceeded"
    assert (await put_object(mock, first, b"\x00" * 90))[0] == 200  # a replacement fits
    status, text = await put_object(mock, await presign(mock, "sk-bob"), b"\x00" * 80)
    assert status == 403 and "in all" in text  # 90 + 80 > 160 over every tenant
    assert (await put_object(mock, await presign(mock, "sk-bob"), b"\x00" * 60))[0] == 200
    assert (await put_object(mock, second, b"\x00" * 5))[0] == 200
    status, text = await put_object(mock, await presign(mock, "sk-alice", "c"), b"x")
    assert status == 403 and "objects" in text  # max_files
    assert mock.state.uploads.usage("a2e", "sk-alice") == (2, 95)
    assert sum(spooled(mock)) == 155


async def test_a_copy_counts_against_the_quota_too(make_mock):
    mock = await make_mock("providers: {a2e: {settings: {uploads: {max_bytes: 100}}}}")
    url = await presign(mock)
    await put_object(mock, url, b"\x00" * 60)
    status, answer = await mock.call("POST", TRANSFER, key="sk-alice", json={"url": url})
    assert "quota" in assert_refusal(status, answer, 400, 400)


# --- spooled, not held -----------------------------------------------------------------------


async def test_a_large_body_is_spooled_to_disk_not_held_in_memory(mock):
    size = 24 * MIB
    file = await slot(mock, size, "video/mp4")
    tracemalloc.start()
    try:
        status, _ = await put_slot(mock, file, chunks(size, 256 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    assert peak < 4 * MIB, f"{peak / MIB:.1f} MiB held while 24 MiB arrived"
    assert spooled(mock) == [size]


# --- retention, reset, drop, shutdown ------------------------------------------------------


async def test_youcam_files_are_evicted_with_their_bytes_after_30_days(mock):
    image = await upload(mock)
    assert spooled(mock) == [len(JPEG)]
    mock.advance(29 * 86400)
    assert (await outcome(mock, "sod", with_file("sod", src_file_id=image)))["error"] is None
    mock.advance(2 * 86400)
    data = await outcome(mock, "sod", with_file("sod", src_file_id=image))
    assert data["error"] == "unknown_internal_error"
    assert spooled(mock) == [] and len(mock.state.uploads) == 0


async def test_a2e_objects_are_evicted_with_their_bytes_at_their_retention(make_mock):
    mock = await make_mock("providers: {a2e: {settings: {uploads: {retention: 600}}}}")
    url = await presign(mock)
    await put_object(mock, url, b"kept a while")
    plain = url.split("?", 1)[0]
    mock.advance(599)
    data_of(*await mock.call("POST", TRANSFER, key="sk-alice", json={"url": plain}))
    mock.advance(2)
    status, answer = await mock.call("POST", TRANSFER, key="sk-alice", json={"url": plain})
    assert "404" in assert_refusal(status, answer, 400, 400)
    assert spooled(mock) == [len(b"kept a while")]  # only the copy, made 2 s ago


async def test_a_slot_never_filled_is_forgotten_when_its_url_expires(make_mock):
    mock = await make_mock("providers: {youcam: {settings: {uploads: {max_files: 1}}}}")
    file = await slot(mock, 10)
    mock.advance(3601)
    status, text = await put_slot(mock, file, b"\x00" * 10)
    assert status == 403 and xml_field(text, "Code") == "AccessDenied"
    await slot(mock, 10)  # its place in the quota is free again


async def test_reset_and_shutdown_delete_every_spooled_file():
    mock, client = await start_mock()
    try:
        await upload(mock)
        url = await presign(mock)
        await put_object(mock, url, b"bytes")
        folder = mock.state.uploads.folder
        assert folder is not None and len(list(folder.iterdir())) == 2
        assert (await mock.client.post("/__mock/reset")).status == 200
        assert list(folder.iterdir()) == [] and len(mock.state.uploads) == 0
        await upload(mock)
        assert len(list(folder.iterdir())) == 1
    finally:
        await client.close()
    assert not folder.exists()


async def test_drop_task_and_drop_tenant_delete_those_uploads_only(mock):
    used, spare = await upload(mock), await upload(mock)
    others = await upload(mock, key="sk-other")
    _, answer = await mock.call(
        "POST", "/s2s/v2.0/task/sod", json=with_file("sod", src_file_id=used)
    )
    task = mock.state.store.get("youcam", "sk-test", answer["data"]["task_id"])
    assert mock.state.uploads.drop_task(task) == 1
    now = mock.clock.now()
    assert mock.state.uploads.get("youcam", "sk-test", used, now) is None
    assert mock.state.uploads.get("youcam", "sk-test", spare, now) is not None
    assert mock.state.uploads.drop_tenant("sk-test") == 1
    assert mock.state.uploads.get("youcam", "sk-other", others, now) is not None
    assert spooled(mock) == [len(JPEG)]


async def test_drop_task_finds_a2e_objects_a_task_names_by_url(make_mock):
    mock = await make_mock(None, providers=("a2e",))
    url = await presign(mock, "sk-test", "face.png")
    await put_object(mock, url, b"\x89PNG", "image/png")
    body = {"name": "t", "image_url": url.split("?", 1)[0], "prompt": "speaking"}
    _id = data_of(*await mock.call("POST", "/api/v1/userImage2Video/start", json=body))["_id"]
    task = mock.state.store.get("a2e", "sk-test", _id)
    assert mock.state.uploads.drop_task(task) == 1
    assert (await mock.client.get(mock.local(url))).status == 404 and spooled(mock) == []


@pytest.mark.parametrize("where", ["youcam", "a2e"])
async def test_a_client_that_goes_away_mid_upload_leaves_no_file(make_mock, where):
    mock = await make_mock()
    if where == "youcam":
        file = await slot(mock, 4 * MIB, "video/mp4")
        url, ctype = file["requests"][0]["url"], "video/mp4"
    else:
        url, ctype = await presign(mock), "video/mp4"

    async def broken():
        yield b"\x00" * MIB
        raise ConnectionResetError("the client went away")

    with pytest.raises(Exception):  # noqa: B017 - the client's own error, whatever aiohttp calls it
        await mock.client.put(mock.local(url), data=broken(), headers={"Content-Type": ctype})
    for _ in range(100):  # the server notices the dropped connection on its next read
        if mock.state.uploads.folder is not None and not spooled(mock):
            break
        await asyncio.sleep(0.01)  # real time: the server's read of a socket, not mock time
    assert mock.state.uploads.folder is not None  # the body was being spooled...
    assert spooled(mock) == []  # ... and the partial file is gone
    assert mock.state.uploads.usage(where, "sk-test" if where == "youcam" else "sk-alice") == (
        (1, 4 * MIB) if where == "youcam" else (0, 0)  # the slot stays reserved; no bytes
    )


def test_the_built_in_limits_are_the_default_scenarios():
    """UploadLimits' own defaults (for a scenario built without default.yaml) agree with it."""
    from dataclasses import asdict

    from mockserver.scenario import load
    from mockserver.uploads import UploadLimits

    defaults = asdict(UploadLimits())
    for provider in ("a2e", "youcam"):
        settings = load().providers[provider].settings["uploads"]
        assert settings and {k: defaults[k] for k in settings} == settings, provider
