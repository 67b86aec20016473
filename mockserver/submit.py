"""Creating and forcing tasks: the one place a timeline is planned.

How a task ends is chosen, highest first, by the ``X-Mock-Outcome`` request header, a magic
value in the payload (``chaos.magic``), a preset queued through the control API, what the
handler passes (a provider rule, such as a file that was never uploaded), and finally the
scenario's failure rate. ``X-Mock-Outcome`` is ``success``, ``failure``, ``failure:<value>``
(the scenario failure that carries ``<value>``, e.g. an engine code), ``stuck`` or
``stuck:<state>``.

The engine, :func:`submit`, takes a plain :class:`SubmitRequest` (tenant, family, params, the
outcome the caller chose) and knows no HTTP; :func:`submit_from` is the request side: it reads
the header, the magic values and the presets and builds the request.

Every task (and every plain record a provider keeps in the task store) is admitted first:
a few tasks past their retention are evicted on the way, and the scenario's caps on live
tasks per tenant and in all (``limits.max_tasks_per_tenant``, ``limits.max_tasks``) refuse
one more in the provider's own words (its ``capacity`` refusal, see each dialect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.chaos import Outcome
from mockserver.jsonio import unencodable
from mockserver.lifecycle import FamilyConfig, TaskFamily, plan, replan_forced, task_rng
from mockserver.retention import SWEEP_PER_SUBMIT
from mockserver.state import MockState
from mockserver.tasks import Task

if TYPE_CHECKING:
    from mockserver.context import RequestContext
    from mockserver.errors import Dialect

OUTCOME_HEADER = "X-Mock-Outcome"

Choose = Callable[[], Outcome | None]


@dataclass
class SubmitRequest:
    """One task to plan, with no request attached.

    ``choose`` picks the outcome (header, magic value, preset) and is called only once the
    task is admitted, so a refused submit spends no preset; ``outcome``/``failure`` are the
    handler's own choice (a provider rule), below what ``choose`` returns. ``dialect`` words
    the refusals; ``origin`` is where the task's links and webhooks point.
    """

    state: MockState
    tenant: str
    family: TaskFamily
    params: dict[str, Any]
    new_id: Callable[[], str]
    now: float
    dialect: Dialect
    origin: str = ""
    choose: Choose | None = None
    outcome: str | None = None
    failure: dict[str, Any] | None = None
    chosen: list[str] = field(default_factory=list)  # who chose the outcome, for the journal

    @property
    def config(self) -> FamilyConfig:
        return self.state.scenario.providers[self.family.provider].families[self.family.name]

    @property
    def retention(self) -> float | None:
        settings = self.state.scenario.providers[self.family.provider].settings
        return settings.get("task_retention")


def _failure_matching(config: FamilyConfig, value: str) -> dict[str, Any]:
    for failure in config.failures:
        if value in (str(v) for v in failure.values()):
            return dict(failure)
    template = config.failures[0] if config.failures else {"error": None}
    return {next(iter(template)): value}


def outcome_from_header(ctx: RequestContext, config: FamilyConfig) -> Outcome | None:
    raw = ctx.header(OUTCOME_HEADER)
    if not raw:
        return None
    if unencodable(raw):  # bytes that are not UTF-8 would land in the task's failure fields
        raise ctx.error("invalid_params", f"{OUTCOME_HEADER} is not valid UTF-8")
    outcome, _, value = raw.strip().partition(":")
    value = value.strip()
    if outcome == "failure":
        failure = _failure_matching(config, value) if value else None
        return Outcome("failure", failure, None, f"header:{OUTCOME_HEADER}")
    if outcome == "stuck":
        return Outcome("stuck", None, value or None, f"header:{OUTCOME_HEADER}")
    if outcome == "success":
        return Outcome("success", None, None, f"header:{OUTCOME_HEADER}")
    return None


def running_count(state: MockState, provider: str, tenant: str, family: str, now: float) -> int:
    tasks = state.store.newest_first(provider, tenant, family, now)
    return sum(1 for t in tasks if not t.is_done(now))


def admit_for(state: MockState, tenant: str, now: float, dialect: Dialect) -> None:
    """Make room for one more task of ``tenant``, or refuse: the caps are reached."""
    state.retention.sweep(now, SWEEP_PER_SUBMIT)
    bounds = state.bounds
    limit = bounds.max_tasks_per_tenant
    if limit is not None and state.store.count_for(tenant) >= limit:
        raise dialect.pipeline_error(
            "capacity", f"this API key holds {limit} live tasks, the most allowed"
        )
    limit = bounds.max_tasks
    if limit is not None and len(state.store) >= limit:
        raise dialect.pipeline_error(
            "capacity", f"the server holds {limit} live tasks, the most allowed"
        )


def admit(ctx: RequestContext) -> None:
    """Make room for one more task of the caller, or refuse: the caps are reached."""
    admit_for(ctx.state, ctx.key, ctx.now, ctx.dialect)


def keep(ctx: RequestContext, task: Task) -> Task:
    """Store an admitted task until its provider's retention has passed."""
    return ctx.state.store.add(task, ctx.settings.get("task_retention"))


def submit(req: SubmitRequest) -> Task:
    """Plan and store a task for the tenant.

    Refuses with the provider's 429 when the family's per-tenant running limit is reached,
    and with its capacity refusal when the live-task caps are.
    """
    state, family, now = req.state, req.family, req.now
    config = req.config
    admit_for(state, req.tenant, now, req.dialect)
    running = 0
    if config.max_running_per_tenant or config.pressure_state:
        running = running_count(state, family.provider, req.tenant, family.name, now)
        limit = config.max_running_per_tenant
        if limit and running >= limit:
            raise req.dialect.pipeline_error(
                "rate_limited", f"{running} tasks already running (limit {limit})"
            )
    chosen = req.choose() if req.choose is not None else None
    outcome, failure, stuck_in = req.outcome, req.failure, None
    if chosen is not None:
        outcome, failure, stuck_in = chosen.outcome, chosen.failure, chosen.state
        req.chosen.append(chosen.source)
    seq = state.next_seq(family.provider)
    rng = task_rng(state.scenario.seed, family.provider, seq)
    timeline = plan(
        family, config, rng, now, outcome, failure, stuck_in=stuck_in, running_tasks=running
    )
    task = Task(
        id=req.new_id(),
        provider=family.provider,
        family=family,
        tenant=req.tenant,
        seq=seq,
        created_at=now,
        timeline=timeline,
        params=req.params,
    )
    state.store.add(task, req.retention)
    state.webhooks.task_submitted(task, req.origin)
    return task


def submit_from(
    ctx: RequestContext,
    family: TaskFamily,
    params: dict[str, Any],
    new_id: Callable[[], str],
    *,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
) -> Task:
    """Submit for the calling tenant: the outcome is chosen from the request (header, magic
    value, preset) once the task is admitted; the journal learns who chose it."""

    def choose() -> Outcome | None:
        config = ctx.config.families[family.name]
        return outcome_from_header(ctx, config) or ctx.state.chaos.outcome_for(ctx, family.name)

    req = SubmitRequest(
        state=ctx.state,
        tenant=ctx.key,
        family=family,
        params=params,
        new_id=new_id,
        now=ctx.now,
        dialect=ctx.dialect,
        origin=ctx.origin,
        choose=choose,
        outcome=outcome,
        failure=failure,
    )
    task = submit(req)
    for source in req.chosen:
        ctx.chose(source)
    return task


def force(
    state: MockState,
    task: Task,
    now: float,
    *,
    state_name: str | None = None,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
    origin: str | None = None,
) -> Task:
    """Put a task in a state, or end it, from now on (the control API's force). ``origin``:
    where links in the webhooks it plans point (None: where its earlier ones pointed)."""
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
    state.store.changed(task)
    state.webhooks.task_changed(task, origin)
    return task
