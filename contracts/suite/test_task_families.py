"""Each task family, end to end: states in the documented order, terminal states final, a
result exactly when the task succeeded, lists that agree with details, expiry, isolation.

The reference clients drive every flow; their ``sleep`` is the target's, so against the mock a
poll's pause is a jump of the virtual clock. One task per family is started and shared by the
checks that only read it, so a real provider is charged once per family (with --allow-spend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ..clients.base import TaskLost, TaskResult
from .checks import conforms, refused, succeeded
from .dialects import dialect
from .flows import client_for, fill_path, submit_body, submit_with, valid_query, where
from .operation_catalog import Family, OperationCatalog
from .target import Reply, Target


@dataclass
class Run:
    """One task followed to its end, with every answer the status operation gave."""

    task_id: str
    result: TaskResult
    answers: list[Any] = field(default_factory=list)


def _spend(target: Target) -> None:
    if not target.is_mock and not target.allow_spend:
        pytest.skip("starts a paid task on a real provider: give --allow-spend")


def _mock_only(target: Target) -> None:
    if not target.is_mock:
        pytest.skip("needs the mock's control API to choose the outcome")


def follow(
    target: Target, contract: OperationCatalog, family: Family, key: str | None = None
) -> Run:
    """Submit one task with a valid request and poll it to its end, recording every answer."""
    body = submit_body(target, contract, family)  # may read the server: before the loop runs

    async def go() -> Run:
        client = client_for(target, family, key)
        answers: list[Any] = []
        read = client.read

        async def recording_read(task_id: str, **kw: Any) -> Any:
            status = await read(task_id, **kw)
            answers.append(status.raw)
            return status

        client.read = recording_read
        task_id = await submit_with(client, family, body)
        result = await client.wait(task_id, **where(family))
        return Run(task_id, result, answers)

    return target.run(go())


def read_once(target: Target, family: Family, task_id: str, key: str | None = None) -> Any:
    return target.run(client_for(target, family, key).read(task_id, **where(family)))


@pytest.fixture(scope="session")
def runs() -> dict[str, Run | Exception]:
    return {}


@pytest.fixture
def run(target: Target, contract: OperationCatalog, family: Family, runs: dict[str, Any]) -> Run:
    """The family's one followed task; a failure to follow it is kept too, so a paid task is
    never started twice."""
    _spend(target)
    if family.name not in runs:
        try:
            runs[family.name] = follow(target, contract, family)
        except Exception as exc:
            runs[family.name] = exc
    outcome = runs[family.name]
    if isinstance(outcome, Exception):
        pytest.fail(f"could not follow a {family.name} task: {type(outcome).__name__}: {outcome}")
    return outcome


def _state_order(family: Family) -> list[str]:
    return [*(family.flow.states or ()), *family.terminal]


@pytest.mark.check("lifecycle")
def test_states_come_in_the_documented_order(family: Family, run: Run) -> None:
    seen = run.result.states_seen
    order = _state_order(family)
    unknown = [s for s in seen if s not in order]
    assert not unknown, f"states outside the documented machine {order}: {unknown}"
    if family.flow.states is not None:
        positions = [order.index(s) for s in seen]
        assert positions == sorted(positions), f"states out of order: {seen} (documented {order})"
    else:
        assert len(seen) == len(set(seen)), f"a state came back after it was left: {seen}"
    assert seen[-1] in family.terminal


@pytest.mark.check("lifecycle")
def test_every_status_answer_matches_its_schema(family: Family, run: Run) -> None:
    for body in run.answers:
        conforms(family.status, Reply(200, body, {}, str(body)))


@pytest.mark.check("lifecycle")
def test_terminal_state_stays_terminal(target: Target, family: Family, run: Run) -> None:
    pace = client_for(target, family).pace
    for pause in (pace, 600.0) if target.can_advance else (pace,):
        target.run(target.sleep(pause))
        again = read_once(target, family, run.task_id)
        assert (again.state, again.succeeded) == (run.result.state, run.result.succeeded), (
            f"{run.result.state} became {again.state}"
        )


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


@pytest.mark.check("lifecycle")
def test_result_exists_exactly_when_the_task_succeeded(family: Family, run: Run) -> None:
    result = run.result
    if result.succeeded:
        assert not _empty(result.result), f"{result.state} without a result"
        assert result.state == family.flow.success
    else:
        raw = run.answers[-1]
        assert result.failure, f"{result.state} without failure details: {raw}"


@pytest.mark.check("lifecycle")
def test_failed_task_has_no_result(
    target: Target, contract: OperationCatalog, family: Family
) -> None:
    _mock_only(target)
    key = target.key("failure")
    target.admin(
        "POST",
        "/presets",
        {"match": {"tenant": key, "operation": family.submit.operation_id}, "outcome": "failure"},
    )
    run = follow(target, contract, family, key)
    assert run.result.state == family.flow.failure, run.result.states_seen
    assert not run.result.succeeded and run.result.failure
    status = read_once(target, family, run.task_id, key)
    assert _empty(status.result), f"{status.state} with a result: {status.raw}"
    conforms(family.status, Reply(200, status.raw, {}, str(status.raw)))


@pytest.mark.check("lifecycle")
def test_task_not_polled_within_the_window_is_gone(
    target: Target, contract: OperationCatalog, family: Family
) -> None:
    _mock_only(target)
    setting = family.flow.expiry_setting
    window = target.setting(setting) if setting else None
    if window is None:
        pytest.skip(f"{family.provider}/{family.name} documents no polling window")
    key = target.key("expiry")
    target.admin(
        "POST",
        "/presets",
        {"match": {"tenant": key, "operation": family.submit.operation_id}, "outcome": "stuck"},
    )

    body = submit_body(target, contract, family)

    async def go() -> None:
        client = client_for(target, family, key)
        task_id = await submit_with(client, family, body)
        await target.sleep(float(window) + 1)
        with pytest.raises(TaskLost):
            await client.read(task_id, **where(family))

    target.run(go())


@pytest.mark.check("lifecycle")
def test_another_key_cannot_see_the_task(target: Target, family: Family, run: Run) -> None:
    if target.other_api_key is None:
        pytest.skip("give --other-api-key to check tenant isolation")
    with pytest.raises(TaskLost):
        read_once(target, family, run.task_id, target.other_api_key)


def _rows_with(body: Any, task_id: str) -> list[dict[str, Any]]:
    found = []
    if isinstance(body, dict):
        if any(body.get(k) == task_id for k in ("_id", "id", "task_id")):
            found.append(body)
        for value in body.values():
            found += _rows_with(value, task_id)
    elif isinstance(body, list):
        for value in body:
            found += _rows_with(value, task_id)
    return found


@pytest.mark.check("lifecycle")
def test_lists_agree_with_details(target: Target, family: Family, run: Run) -> None:
    if not family.lists:
        pytest.skip(f"{family.provider}/{family.name} has no list operation")
    states = set(_state_order(family))
    for op in family.lists:
        reply = target.call(op.method, op.path, params=valid_query(op))
        succeeded(op, reply)
        rows = _rows_with(reply.body, run.task_id)
        assert rows, f"{op.operation_id} does not list task {run.task_id}"
        listed = {v for v in rows[0].values() if isinstance(v, str) and v in states}
        assert run.result.state in listed, (
            f"{op.operation_id} lists {run.task_id} as {listed}, details say {run.result.state}"
        )


@pytest.mark.check("lifecycle")
def test_finished_task_can_be_deleted(target: Target, family: Family, run: Run) -> None:
    op = family.delete
    if op is None:
        pytest.skip(f"{family.provider} documents no delete for {family.name}")

    def delete() -> Reply:
        if "{" in op.path:
            return target.call(op.method, fill_path(op, run.task_id))
        return target.call(op.method, op.path, json_body={"task_id": run.task_id})

    succeeded(op, delete())
    with pytest.raises(TaskLost):
        read_once(target, family, run.task_id)
    refused(op, delete(), dialect(op.provider).lost_codes)
