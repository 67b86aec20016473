"""Creating and forcing tasks: the one place a timeline is planned.

Outcome precedence, highest first: the ``X-Mock-Outcome`` request header, then what the
handler passes (a provider rule such as a file that was never uploaded), then the scenario's
failure rate. ``X-Mock-Outcome`` is ``success``, ``failure``, or ``failure:<value>`` to pick
the scenario failure that carries ``<value>`` (an engine code, say).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.context import RequestContext
from mockserver.lifecycle import FamilyConfig, TaskFamily, plan, replan_forced, task_rng
from mockserver.state import MockState
from mockserver.tasks import Task

OUTCOME_HEADER = "X-Mock-Outcome"


def _failure_matching(config: FamilyConfig, value: str) -> dict[str, Any]:
    for failure in config.failures:
        if value in (str(v) for v in failure.values()):
            return dict(failure)
    template = config.failures[0] if config.failures else {"error": None}
    return {next(iter(template)): value}


def outcome_from_header(
    ctx: RequestContext, config: FamilyConfig
) -> tuple[str | None, dict[str, Any] | None]:
    raw = ctx.header(OUTCOME_HEADER)
    if not raw:
        return None, None
    outcome, _, value = raw.strip().partition(":")
    if outcome not in ("success", "failure"):
        return None, None
    failure = _failure_matching(config, value.strip()) if outcome == "failure" and value else None
    return outcome, failure


def submit(
    ctx: RequestContext,
    family: TaskFamily,
    params: dict[str, Any],
    new_id: Callable[[], str],
    *,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
) -> Task:
    """Plan and store a task for the calling tenant."""
    state = ctx.state
    config = ctx.config.families[family.name]
    header_outcome, header_failure = outcome_from_header(ctx, config)
    if header_outcome is not None:
        outcome, failure = header_outcome, header_failure
    seq = state.next_seq(family.provider)
    rng = task_rng(state.scenario.seed, family.provider, seq)
    timeline = plan(family, config, rng, ctx.now, outcome, failure)
    task = Task(
        id=new_id(),
        provider=family.provider,
        family=family,
        tenant=ctx.key,
        seq=seq,
        created_at=ctx.now,
        timeline=timeline,
        params=params,
    )
    return state.store.add(task)


def force(
    state: MockState,
    task: Task,
    now: float,
    *,
    state_name: str | None = None,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
) -> Task:
    """Put a task in a state, or end it, from now on (the control API's force)."""
    config = state.scenario.providers[task.provider].families[task.family.name]
    rng = task_rng(state.scenario.seed, f"{task.provider}:force", task.seq)
    task.timeline = replan_forced(
        task.family,
        config,
        task.timeline,
        now,
        rng,
        state=state_name,
        outcome=outcome,
        failure=failure,
    )
    tenant = state.accounts.existing(task.tenant)
    if tenant is not None:
        tenant.reschedule(task, state.accounts.next_seq)
    return task
