"""Valid requests for a target: schema instances plus the values that live elsewhere.

A YouCam ``template_id`` must name a template the server lists, so it is read from the
feature's template list when the contract has one. Everything else comes from the contract's
examples or its schemas (payloads.py).
"""

from __future__ import annotations

from typing import Any

from ..clients.a2e import A2EClient
from ..clients.a2e import Family as A2EFamily
from ..openapi import Operation
from .operation_catalog import Family, OperationCatalog
from .payloads import flatten, instance
from .target import Target

ID_FIELDS = ("task_id", "_id", "id", "video_id")
FAKE_IDS = {
    # the providers' own id shapes, so only "unknown" is wrong with them
    "youcam": "ContractSuiteUnknownTask" + "x" * 40,
    "relay": "c0ffee" * 5 + "00",
    "a2e": "c0ffee" * 4,
}


def fake_id(provider: str) -> str:
    return FAKE_IDS.get(provider, "contract-suite-unknown-id")


def path_params(op: Operation) -> list[str]:
    return [p.name for p in op.params if p.location == "path"]


def body_id_field(op: Operation) -> str | None:
    """The id field of a body that only names a resource (``{"task_id": ...}``)."""
    schema = flatten(op.body_schema or {})
    required = schema.get("required") or []
    if len(required) == 1 and required[0] in ID_FIELDS:
        return required[0]
    return None


def takes_id(op: Operation) -> bool:
    """The operation names a resource: in its path, its body, or a required query parameter
    (A2E's ``detail?_id=`` forms and streaming ``?channel=``)."""
    return (
        bool(path_params(op))
        or body_id_field(op) is not None
        or any(
            p.location == "query" and p.required and p.name in (*ID_FIELDS, "channel")
            for p in op.params
        )
    )


def _template_hint(target: Target, contract: OperationCatalog, op: Operation) -> dict[str, Any]:
    props = flatten(op.body_schema or {}).get("properties", {})
    if "template_id" not in props or contract.provider != "youcam":
        return {}
    version, _, feature = op.path.removeprefix("/s2s/").partition("/task/")
    lister = contract.find("GET", f"/s2s/{version}/task/template/{feature}")
    if lister is None:
        return {}
    if lister.path not in target.cache:
        reply = target.call("GET", lister.path, params={"page_size": 1})
        target.cache[lister.path] = (reply.body or {}).get("data", {}).get("templates") or []
    templates = target.cache[lister.path]
    return {"template_id": templates[0]["id"]} if templates else {}


def valid_body(target: Target, contract: OperationCatalog, op: Operation) -> Any:
    """A body the contract accepts: its documented example, else one built from the schema."""
    if op.body_schema is None:
        return None
    example = contract.request_example(op)
    if example is not None:
        return example
    return instance(op.body_schema, hints=_template_hint(target, contract, op))


def valid_query(op: Operation) -> dict[str, Any]:
    return {
        p.name: instance(p.schema, p.name)
        for p in op.params
        if p.location == "query" and p.required
    }


def fill_path(op: Operation, value: str) -> str:
    path = op.path
    for name in path_params(op):
        path = path.replace("{" + name + "}", value)
    return path


def submit_body(target: Target, contract: OperationCatalog, family: Family) -> Any:
    return valid_body(target, contract, family.submit)


def client_for(target: Target, family: Family, key: str | None = None) -> Any:
    """The provider's reference client, taught this family if it is not a built-in one."""
    if family.provider == "youcam":
        return target.client(key, version=family.youcam_version)
    client = target.client(key)
    if isinstance(client, A2EClient) and family.client_name not in client.families:
        flow = family.flow
        client.families[family.client_name] = A2EFamily(
            family.submit.path,
            shape_for_format(family.status.path),
            status_method=family.status.method,
            success=flow.success,
            failure=flow.failure,
        )
    return client


def shape_for_format(path: str) -> str:
    """``/a/{_id}`` -> ``/a/{}``, the form the clients format ids into."""
    from .operation_catalog import shape

    return shape(path)


def where(family: Family) -> dict[str, str]:
    """How the client is told which family a task id belongs to."""
    if family.provider == "youcam":
        return {"feature": family.client_name}
    if family.provider == "a2e":
        return {"family": family.client_name}
    return {}


async def submit_with(client: Any, family: Family, body: Any) -> str:
    if family.provider in ("youcam", "a2e"):
        return await client.submit(family.client_name, body)
    return await client.submit(body)
