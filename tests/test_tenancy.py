"""Tenants never meet: a YouCam v1 client_id is no Bearer for the client, and the control API
is closed on any host that is not loopback."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from mockserver.admin import _is_loopback
from tests.test_youcam_ai_avatar import DELETE, GOOD, RUN, STATUS
from tests.test_youcam_v1_auth import CREDIT, token

V1_CLIENT = "youcam-v1 sk-client"  # the tenant of client_id sk-client (clientauth.v1_tenant)


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
    from tests.test_youcam_v1_auth import START, id_token

    with MockServer() as server:
        server.set_balances(v1_tenant("sk-client"), units=9)
        body = {"client_id": "sk-client", "id_token": id_token("sk-client", int(START * 1000))}
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
