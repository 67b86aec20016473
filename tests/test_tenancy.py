"""Tenants never meet: a YouCam v1 client_id is no Bearer for the client, A2E's bucket keeps
each tenant's objects to itself and never serves active content, and the control API is
closed on any host that is not loopback."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlsplit

import pytest

from mockserver.admin import _is_loopback
from tests.test_a2e import assert_refusal, data_of
from tests.test_youcam_ai_avatar import DELETE, GOOD, RUN, STATUS
from tests.test_youcam_v1_auth import CREDIT, token

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

V1_CLIENT = "youcam-v1 sk-client"  # the tenant of client_id sk-client (clientauth.v1_tenant)
PRESIGN = "/api/v1/r2/get_upload_presigned_url"
TRANSFER = "/api/v1/tos/transferToStorage"


async def units(mock, key) -> int:
    status, answer = await mock.call("GET", CREDIT, key=key)
    assert status == 200, answer
    return round(sum(lot["amount_dec"] for lot in answer["results"]))


# --- YouCam v1: the client's tenant is out of every Bearer's reach ---------------------------


async def test_a_client_id_as_a_bearer_reaches_none_of_the_v1_clients_tasks_or_credit(mock):
    access = await token(mock, "sk-client")
    status, answer = await mock.call("POST", RUN, key=access, json=GOOD)
    assert status == 200, answer
    task_id = answer["data"]["task_id"]
    mock.advance(10)  # succeeds: 5 outputs cost 2 units
    for method, path, body in (
        ("GET", STATUS.format(task_id), None),
        ("POST", DELETE, {"task_id": task_id}),
    ):
        status, answer = await mock.call(method, path, key="sk-client", json=body)
        assert (status, answer["error_code"]) == (400, "InvalidTaskId")
    status, answer = await mock.call("GET", STATUS.format(task_id), key=access)
    assert status == 200 and answer["data"]["task_status"] == "success"  # not deleted
    assert await units(mock, access) == 98
    assert await units(mock, "sk-client") == 100  # an API key's own, fresh tenant


async def test_the_v1_tenant_is_addressed_by_the_control_api_and_starts_with_listed_balances(
    make_mock,
):
    mock = await make_mock("auth: {mode: listed, tenants: {sk-client: {units: 7}}}")
    access = await token(mock, "sk-client")
    assert await units(mock, access) == 7
    path = f"/__mock/tenants/{quote(V1_CLIENT)}"
    resp = await mock.client.put(path, json={"balances": {"units": 3}})
    assert resp.status == 200 and (await resp.json())["key"] == V1_CLIENT
    assert await units(mock, access) == 3
    assert await units(mock, "sk-client") == 7  # the listed API key is a tenant of its own
    listed = (await (await mock.client.get("/__mock/tenants")).json())["tenants"]
    assert {t["key"] for t in listed} == {"sk-client", V1_CLIENT}


async def test_no_bearer_can_name_the_v1_tenant(mock):
    from mockserver.providers.youcam.clientauth import v1_tenant

    assert v1_tenant("sk-client") == V1_CLIENT
    access = await token(mock, "sk-client")
    status, answer = await mock.call("POST", RUN, key=access, json=GOOD)
    assert mock.state.store.get("youcam", V1_CLIENT, answer["data"]["task_id"]) is not None
    resp = await mock.client.get(CREDIT, headers={"Authorization": f"Bearer {V1_CLIENT}"})
    assert resp.status == 401  # a bearer key holds no space
    quoted = "youcam-v1%20sk-client"  # spelled another way, it is a tenant of its own
    status, answer = await mock.call("GET", STATUS.format(answer["data"]["task_id"]), key=quoted)
    assert (status, answer["error_code"]) == (400, "InvalidTaskId")


# --- A2E's bucket: signed, tenant-scoped, never active content ----------------------------


@pytest.fixture
async def a2e(make_mock):
    return await make_mock(None, providers=("a2e",))


async def presign(mock, api_key="sk-alice", **body):
    body = {"key": "f.png", **body}
    answer = data_of(*await mock.call("POST", PRESIGN, key=api_key, json=body))
    return answer["uploadUrl"]


async def put(mock, url, data, ctype="image/png"):
    resp = await mock.client.put(mock.local(url), data=data, headers={"Content-Type": ctype})
    return resp.status, await resp.text()


async def get(mock, url):
    resp = await mock.client.get(mock.local(url))
    return resp, await resp.read()


def plain(mock, url):
    return urlsplit(mock.local(url)).path


async def test_another_tenant_neither_reads_nor_overwrites_an_object(a2e):
    alice = await presign(a2e, "sk-alice")
    assert (await put(a2e, alice, b"alice's face"))[0] == 200
    bob = await presign(a2e, "sk-bob")
    assert urlsplit(bob).path == urlsplit(alice).path  # the same bucket and key
    resp, _ = await get(a2e, bob)
    assert resp.status == 404  # bob's own namespace holds nothing yet
    resp = await a2e.client.get(plain(a2e, alice))
    assert resp.status == 403 and "<Code>AccessDenied</Code>" in await resp.text()
    assert (await put(a2e, bob, b"bob's bytes"))[0] == 200
    resp, body = await get(a2e, alice)
    assert resp.status == 200 and body == b"alice's face"
    resp, body = await get(a2e, bob)
    assert body == b"bob's bytes"


async def test_the_plain_url_is_read_by_the_mock_only_for_its_own_tenant(a2e):
    alice = await presign(a2e, "sk-alice", key="clip.mp4")
    await put(a2e, alice, b"alice's clip", "video/mp4")
    source = alice.split("?", 1)[0]
    status, answer = await a2e.call("POST", TRANSFER, key="sk-bob", json={"url": source})
    assert "404" in assert_refusal(status, answer, 400, 400)
    copy = data_of(*await a2e.call("POST", TRANSFER, key="sk-alice", json={"url": source}))
    resp, body = await get(a2e, copy["url"])
    assert resp.status == 200 and body == b"alice's clip"
    # a signed URL is a capability: whoever holds it may hand it to the mock
    copy = data_of(*await a2e.call("POST", TRANSFER, key="sk-bob", json={"url": alice}))
    assert (await get(a2e, copy["url"]))[1] == b"alice's clip"


async def test_an_unsigned_or_forged_url_is_refused_before_and_after_its_expiry(a2e):
    url = await presign(a2e)
    parts = urlsplit(a2e.local(url))
    query = dict(p.split("=", 1) for p in parts.query.split("&"))
    # the signature as the seed-keyed scheme made it: no longer worth anything
    seed_key = hashlib.sha256(b"a2e-r2:1").digest()
    forged = hmac.new(seed_key, f"a2e-upload/f.png|{query['X-Amz-Expires']}".encode(), "sha256")
    forged_url = f"{parts.path}?X-Amz-Credential={query['X-Amz-Credential']}" + (
        f"&X-Amz-Expires={query['X-Amz-Expires']}&X-Amz-Signature={forged.hexdigest()}"
    )
    later = str(int(query["X-Amz-Expires"]) + 86400)
    extended = a2e.local(url).replace(query["X-Amz-Expires"], later)
    for _ in range(2):
        for target in (forged_url, extended):
            resp = await a2e.client.put(target, data=b"x", headers={"Content-Type": "image/png"})
            assert resp.status == 403 and "SignatureDoesNotMatch" in await resp.text()
        resp = await a2e.client.put(parts.path, data=b"x")
        assert resp.status == 403 and "AccessDenied" in await resp.text()
        a2e.advance(7200)  # and after the expiry the URLs named


@pytest.mark.parametrize(
    "declared",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/javascript",
        "TEXT/HTML",
        "not a type",
    ],
)
async def test_active_content_is_served_as_an_attachment_of_unknown_type(a2e, declared):
    url = await presign(a2e, key="page")
    assert (await put(a2e, url, b"<script>alert(1)</script>", declared))[0] == 200
    resp, body = await get(a2e, url)
    assert resp.status == 200 and body == b"<script>alert(1)</script>"
    assert resp.content_type == "application/octet-stream"
    assert resp.headers["Content-Disposition"] == "attachment"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    upload = a2e.state.uploads.get("a2e", "sk-alice", ("a2e-upload", "page"), a2e.clock.now())
    assert upload is not None and upload.content_type == declared  # kept as declared


async def test_a_passive_type_is_served_as_declared(a2e):
    url = await presign(a2e, key="a.webp")
    await put(a2e, url, b"RIFF....WEBP", "image/webp")
    resp, _ = await get(a2e, url)
    assert resp.content_type == "image/webp" and "Content-Disposition" not in resp.headers
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


# --- the control API off loopback ----------------------------------------------------------


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "[::]", "192.0.2.7", "example.com"])
async def test_every_host_that_is_not_loopback_demands_the_admin_token(make_mock, host):
    mock = await make_mock(None, bind_host=host, admin_token="s3cret-admin")
    resp = await mock.client.get("/__mock/health")
    assert resp.status == 401
    resp = await mock.client.get("/__mock/health", headers=mock.auth("s3cret-admin"))
    assert resp.status == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.3.4.5"])
def test_loopback_hosts_are_loopback(host):
    assert _is_loopback(host)


def test_the_pytest_plugin_addresses_the_v1_tenant():
    import json
    import urllib.request

    from mockserver.providers.youcam.clientauth import v1_tenant
    from mockserver.pytest_plugin import MockServer
    from tests.test_youcam_v1_auth import id_token

    with MockServer() as server:
        server.set_balances(v1_tenant("sk-client"), units=9)
        body = {"client_id": "sk-client", "id_token": id_token("sk-client")}
        request = urllib.request.Request(
            server.url("/s2s/v1.0/client/auth"),
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            access = json.load(resp)["result"]["access_token"]
        request = urllib.request.Request(
            server.url(CREDIT), headers={"Authorization": f"Bearer {access}"}
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            lots = json.load(resp)["results"]
        assert round(sum(lot["amount_dec"] for lot in lots)) == 9
