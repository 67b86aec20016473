"""Assertions shared by the suite's tests: an answer is documented and matches its schema."""

from __future__ import annotations

from typing import Any

from ..openapi import Operation
from .dialects import dialect
from .flows import takes_id
from .operation_catalog import OperationCatalog
from .payloads import invalid_body, invalid_query
from .target import Reply


def conforms(op: Operation, reply: Reply) -> None:
    """The status is documented for ``op`` and the body validates against its schema."""
    assert reply.body is not None or not op.expects_json(reply.status), (
        f"{op.operation_id}: {reply.status} answer is not JSON: {reply.text[:200]!r}"
    )
    problem = op.answer_problem(reply.status, reply.body)
    assert problem is None, (
        f"{op.operation_id}: {problem}; answer {reply.status} {reply.text[:300]}"
    )


def refused(
    op: Operation, reply: Reply, codes: tuple[Any, ...] = (), status: int | None = None
) -> None:
    """A documented refusal, in the provider's dialect, with one of ``codes`` when given."""
    d = dialect(op.provider)
    assert d.is_error(reply.status, reply.body), (
        f"{op.operation_id}: expected a refusal, got {reply.status} {reply.text[:300]}"
    )
    assert reply.status < 500, f"{op.operation_id}: a refusal must not be a 5xx: {reply.status}"
    if status is not None:
        assert reply.status == status, f"{op.operation_id}: expected {status}, got {reply.status}"
    if codes:
        assert d.code(reply.body) in codes, (
            f"{op.operation_id}: expected code {' or '.join(map(str, codes))}, "
            f"got {d.code(reply.body)!r} in {reply.text[:300]}"
        )
    conforms(op, reply)


def succeeded(op: Operation, reply: Reply) -> None:
    d = dialect(op.provider)
    assert not d.is_error(reply.status, reply.body), (
        f"{op.operation_id}: expected success, got {reply.status} {reply.text[:300]}"
    )
    conforms(op, reply)


def applies(check: str, contract: OperationCatalog, op: Operation) -> bool:
    """Whether a per-operation check means anything for ``op`` (else it is not generated)."""
    if check == "auth":
        return contract.needs_auth(op)
    if check == "params":
        return invalid_body(op.body_schema) is not None or invalid_query(op.params) is not None
    if check == "unknown-id":
        return takes_id(op)
    if check == "answer":
        return not takes_id(op) and contract.family_of(op) is None
    return True
