"""Active eviction: what is past its retention goes, with everything that belongs to it.

A task's deadline is its provider's ``task_retention`` after it was created (YouCam documents
24 h for a task id; A2E and the relay document nothing, so their defaults in default.yaml are
guesses), fixed when it is stored: a scenario replaced later changes the deadline of new tasks
only, as it does their timelines. Lookups that name the clock's ``now`` already treat a task
past its deadline as gone; this module makes it go for real, with its webhook deliveries, its
pending settlements, the uploads it named and whatever else a provider keeps for it (hooks
registered with :func:`on_task_evicted`). The work is amortised: the store
keeps deadlines in a heap, every submit evicts a few of those that passed, and a periodic tick
on the mock clock catches up in bounded batches, so memory plateaus without a pause however
far the clock jumps.

The same tick visits tenants a few at a time and forgets those a fresh tenant would equal: not
listed by the scenario, no live task, no pending settlement, no balance change ever, the
default balances, nothing a provider keeps for the key (predicates registered with
:func:`tenant_holds`, e.g. YouCam's unit lots), and unused for ``limits.tenant_idle_ttl``
seconds of mock time. Forgetting one is invisible to its key, which would get the same tenant
back; what makes a key worth keeping (a charge, a record) keeps it, and ``limits.max_tenants``
bounds how many such keys there are. The tick also expires rate-limit windows that closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.accounts import Tenant
    from mockserver.state import MockState
    from mockserver.tasks import Task

log = logging.getLogger("avatar_mock")

SWEEP_PER_SUBMIT = 8  # evictions a submit does on its way, ahead of the steady state (1 : 1)
SWEEP_BATCH = 2048  # evictions per tick batch; the tick yields to requests between batches
TENANTS_PER_TICK = 512  # tenants the idle check visits per tick
WINDOWS_PER_TICK = 4096  # closed rate-limit windows dropped per tick
TICK_SECONDS = 1.0  # real seconds between ticks

TaskHook = Callable[["MockState", "Task"], None]
HoldsCheck = Callable[["MockState", str], bool]
_TASK_HOOKS: list[TaskHook] = []
_HOLDS: list[HoldsCheck] = []


def on_task_evicted(hook: TaskHook) -> TaskHook:
    """Register what else goes when a task is evicted or deleted through its provider's API
    (a provider's records keyed by task). Called after the task left the store; must not
    raise."""
    _TASK_HOOKS.append(hook)
    return hook


def tenant_holds(check: HoldsCheck) -> HoldsCheck:
    """Register a provider's answer to "does it keep anything for this API key?"; a key
    it keeps something for is never forgotten."""
    _HOLDS.append(check)
    return check


def _optional_int(raw: dict[str, Any], key: str, default: int | None) -> int | None:
    value = raw.get(key, default)
    return None if value is None else int(value)


@dataclass(frozen=True)
class Bounds:
    """The scenario's ``limits`` that bound what the mock keeps (None: no bound)."""

    max_tasks: int | None = 1_000_000
    max_tasks_per_tenant: int | None = 100_000
    max_tenants: int | None = 100_000
    tenant_idle_ttl: float | None = 86_400.0
    history_per_tenant: int = 1000
    violations_kept: int = 1000
    presets_kept: int = 1000

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Bounds:
        raw = raw or {}
        idle = raw.get("tenant_idle_ttl", cls.tenant_idle_ttl)
        return cls(
            max_tasks=_optional_int(raw, "max_tasks", cls.max_tasks),
            max_tasks_per_tenant=_optional_int(
                raw, "max_tasks_per_tenant", cls.max_tasks_per_tenant
            ),
            max_tenants=_optional_int(raw, "max_tenants", cls.max_tenants),
            tenant_idle_ttl=None if idle is None else float(idle),
            history_per_tenant=int(raw.get("history_per_tenant", cls.history_per_tenant)),
            violations_kept=int(raw.get("violations_kept", cls.violations_kept)),
            presets_kept=int(raw.get("presets_kept", cls.presets_kept)),
        )


class Retention:
    """Evicts tasks past their deadline and forgets idle tenants, for one ``MockState``."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.evicted = 0  # tasks evicted since start (health, tests, the soak)
        self.forgotten = 0  # tenants forgotten since start
        self._tick: asyncio.Task | None = None

    # --- tasks -------------------------------------------------------------------------

    def sweep(self, now: float, budget: int) -> int:
        """Evict up to ``budget`` tasks whose deadline passed; how many went."""
        tasks = self.state.store.past_retention(now, budget)
        if tasks:
            self.evict(tasks, now)
        return len(tasks)

    def evict(self, tasks: list[Task], now: float) -> None:
        """Remove ``tasks``, past their retention, and what belongs to them."""
        self.release(tasks, now, deleted=False)
        self.evicted += len(tasks)

    def release(
        self, tasks: list[Task], now: float, *, deleted: bool, refund: bool = False
    ) -> None:
        """Remove ``tasks`` and what belongs to them: evicted, or ``deleted`` through their
        provider's API (``MockState.delete_task``). One list for both, so a delete loop
        leaves nothing an eviction would have taken.

        - Charges that fell due by ``now`` are settled first; those of a task that had not
          ended lapse, with what they held in reserve. YouCam and the relay delete finished
          tasks only, so their charges have all fallen due. With ``refund`` the tasks'
          pending refunds apply now instead: A2E documents a delete of an ``initialized``
          task as refunded (the caller decides by the task's state, see the A2E
          ``delete_rule``); one deleted in any other state follows eviction's rule.
        - Uploads the task named go when it is evicted; on a delete only for a provider that
          documents it (``task_files(..., deleted_with_task=True)``: YouCam's task/delete
          removes its input and output files). An A2E upload is its own resource and stays.
        - Provider stores are told which it was (``Store.drop_task``).
        """
        state = self.state
        unfinished: dict[str, set[Task]] = {}
        for task in tasks:
            self.drop(task, deleted=deleted)
            state.uploads.drop_task(task, deleted=deleted)
            unfinished.setdefault(task.tenant, set()).add(task)
        accounts = state.accounts
        for key, group in unfinished.items():
            tenant = accounts.existing(key)
            if tenant is not None:
                tenant.settle(now, accounts.next_seq)
                if refund:
                    tenant.refund_now(group, now)
                tenant.forget(group)

    def drop(self, task: Task, *, deleted: bool = False) -> None:
        """Forget what this mock holds for ``task`` alone: the task, its deliveries, the
        provider stores' records of it. All a replica does on reading a task gone from the
        state store: uploads and tenants have records of their own there."""
        state = self.state
        state.store.remove(task)
        state.webhooks.forget_task(task)
        state.stores.drop_task(task, deleted)
        for hook in _TASK_HOOKS:
            hook(state, task)

    # --- tenants -----------------------------------------------------------------------

    def is_fresh(self, tenant: Tenant) -> bool:
        """Whether ``tenant`` equals the one its key would get if it were forgotten."""
        state = self.state
        return (
            len(tenant.history) == 0
            and tenant.history.start == 0
            and not tenant.has_pending()
            and state.store.count_for(tenant.key) == 0
            and tenant.balances == state.accounts.fresh_balances(tenant.key)
            and not state.uploads.holds(tenant.key)
            and not state.stores.holds(tenant.key)
            and not any(holds(state, tenant.key) for holds in _HOLDS)
        )

    def sweep_tenants(self, now: float, budget: int) -> int:
        """Forget, of up to ``budget`` tenants visited in turn, those fresh and unused for
        ``tenant_idle_ttl``; how many went."""
        ttl = self.state.bounds.tenant_idle_ttl
        if ttl is None:
            return 0
        accounts = self.state.accounts
        gone = []
        for tenant in accounts.idle_candidates(budget):
            if tenant.touched_at is None:  # made outside a request (control API): from now
                tenant.touched_at = now
            if tenant.key in accounts.listed or now - tenant.touched_at < ttl:
                continue
            if self.is_fresh(tenant):
                gone.append(tenant.key)
        for key in gone:
            accounts.forget(key)
        self.forgotten += len(gone)
        return len(gone)

    # --- the tick ----------------------------------------------------------------------

    def tick(self) -> int:
        """One bounded round of housekeeping; how many tasks it evicted."""
        state = self.state
        now = state.clock.now()
        evicted = self.sweep(now, SWEEP_BATCH)
        self.sweep_tenants(now, TENANTS_PER_TICK)
        state.windows.prune(now, WINDOWS_PER_TICK)
        state.stores.sweep(now)
        return evicted

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                while self.tick() == SWEEP_BATCH:
                    await asyncio.sleep(0)  # a backlog (the clock jumped): let requests in
            except Exception:  # never let housekeeping die with the server still up
                log.exception("retention sweep failed")

    async def start(self, app: Any = None) -> None:
        self._tick = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, app: Any = None) -> None:
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
            self._tick = None
