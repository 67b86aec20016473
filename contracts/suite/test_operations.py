"""Every operation of the contract: refusals are the documented ones, answers match schemas.

Generated per operation from the provider's OpenAPI document (conftest.py); a check that means
nothing for an operation (no parameters to get wrong, no id to make up) is not generated.
"""

from __future__ import annotations

import pytest

from ..openapi import Operation
from .checks import conforms, refused, succeeded
from .dialects import dialect
from .flows import body_id_field, fake_id, fill_path, valid_body, valid_query
from .operation_catalog import OperationCatalog
from .payloads import invalid_body, invalid_query
from .target import NO_KEY, Target


def _request(target: Target, contract: OperationCatalog, op: Operation, **kw):
    path = fill_path(op, fake_id(op.provider))
    body = kw.pop("json_body", None)
    if body is None and op.body_schema is not None:
        body = valid_body(target, contract, op)
    return target.call(op.method, path, json_body=body, **kw)


@pytest.mark.check("auth")
def test_missing_key_is_refused(target: Target, contract: OperationCatalog, op: Operation) -> None:
    d = dialect(op.provider)
    reply = _request(target, contract, op, key=NO_KEY, params=valid_query(op))
    refused(op, reply, d.unauthorized_codes, d.unauthorized_status)


@pytest.mark.check("auth")
def test_malformed_authorization_is_refused(
    target: Target, contract: OperationCatalog, op: Operation
) -> None:
    d = dialect(op.provider)
    reply = _request(
        target,
        contract,
        op,
        key=NO_KEY,
        headers={"Authorization": f"Basic {target.api_key}"},
        params=valid_query(op),
    )
    refused(op, reply, d.unauthorized_codes, d.unauthorized_status)


@pytest.mark.check("params")
def test_bad_parameters_are_refused(
    target: Target, contract: OperationCatalog, op: Operation
) -> None:
    bad_body = invalid_body(op.body_schema)
    if bad_body is not None:
        why, body = bad_body
        reply = target.call(op.method, fill_path(op, fake_id(op.provider)), json_body=body)
    else:
        why, query = invalid_query(op.params)  # type: ignore[misc]
        body = valid_body(target, contract, op)
        reply = target.call(
            op.method, fill_path(op, fake_id(op.provider)), json_body=body, params=query
        )
    assert reply.status != 401, f"{why}: refused as unauthorized, check --api-key"
    refused(op, reply)


@pytest.mark.check("unknown-id")
def test_unknown_id_is_refused(target: Target, contract: OperationCatalog, op: Operation) -> None:
    field = body_id_field(op)
    body = None
    if field is not None:
        body = {**(valid_body(target, contract, op) or {}), field: fake_id(op.provider)}
    reply = _request(target, contract, op, json_body=body, params=valid_query(op))
    family = contract.family_of(op)
    reads_a_task = family is not None and op.operation_id in (
        family.status.operation_id,
        family.delete.operation_id if family.delete else None,
    )
    refused(op, reply, dialect(op.provider).lost_codes if reads_a_task else ())


@pytest.mark.check("answer")
def test_answer_matches_its_schema(
    target: Target, contract: OperationCatalog, op: Operation
) -> None:
    """A valid request gets a documented answer. Success is required where the request is
    surely valid (a read, or a documented example); a body built from the schema alone may
    still be refused for reasons no schema states (an RSA-encrypted token, say)."""
    if op.method != "GET" and not target.is_mock and not target.allow_spend:
        pytest.skip("may create or spend on a real provider: give --allow-spend")
    reply = _request(target, contract, op, params=valid_query(op))
    if op.method == "GET" or contract.request_example(op) is not None:
        succeeded(op, reply)
    else:
        conforms(op, reply)
