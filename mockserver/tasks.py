"""Task records and the tenant-scoped store.

A key never sees another key's task: every lookup names the tenant, and a foreign id looks
exactly like an unknown one. Per-tenant, per-family id lists keep lists cheap and newest-first.

The store is bounded. Each task gets an eviction deadline when it is added (its provider's
``task_retention`` after it was created); a lookup that names ``now`` treats a task past its
deadline as gone, and ``past_retention`` hands out the tasks whose deadline passed, oldest
first, a bounded number at a time, for ``mockserver.retention`` to evict with what belongs to
them. ``count_for`` gives the live tasks per tenant, for the caps at submit.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from typing import Any

from mockserver.lifecycle import TaskFamily, Timeline


class Task:
    """One submitted task. State is never stored: it is read from ``timeline`` at a time."""

    __slots__ = (
        "created_at",
        "evict_at",
        "family",
        "id",
        "params",
        "provider",
        "seq",
        "tenant",
        "timeline",
    )

    def __init__(
        self,
        *,
        id: str,
        provider: str,
        family: TaskFamily,
        tenant: str,
        seq: int,
        created_at: float,
        timeline: Timeline,
        params: dict[str, Any],
    ) -> None:
        self.id = id
        self.provider = provider
        self.family = family
        self.tenant = tenant
        self.seq = seq
        self.created_at = created_at
        self.timeline = timeline
        self.params = params
        self.evict_at = math.inf  # set by the store: past it, the task is gone

    def state(self, now: float) -> str:
        return self.timeline.state_at(now)

    def is_done(self, now: float) -> bool:
        return self.timeline.is_done(now)

    def describe(self, now: float) -> dict[str, Any]:
        """The control API's view: the plan, the state now, the outcome."""
        return {
            "id": self.id,
            "provider": self.provider,
            "family": self.family.name,
            "tenant": self.tenant,
            "seq": self.seq,
            "created_at": self.created_at,
            "state": self.state(now),
            "done": self.is_done(now),
            "outcome": "success" if self.timeline.succeeded else "failure",
            "failure": self.timeline.failure,
            "timeline": [
                {"state": s, "at": t}
                for s, t in zip(self.timeline.states, self.timeline.times, strict=True)
            ],
            "params": self.params,
        }


class TaskStore:
    """All live tasks, by provider and id, with per-tenant lists for the list endpoints."""

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str], Task] = {}
        # ids in submit order; a dict, so removing one (eviction, delete) is O(1)
        self._lists: dict[tuple[str, str, str], dict[str, None]] = {}
        self._per_tenant: dict[str, int] = {}
        # (evict_at, provider, id): a heap, three references per task (the float is the task's)
        self._deadlines: list[tuple[float, str, str]] = []
        # A state backend's dirty tracking (mockserver.persist): told of every task added,
        # changed or removed. None with the memory backend, which keeps nothing else.
        self.watch: Callable[[Task], None] | None = None
        self.unwatch: Callable[[Task], None] | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: Task, retention: float | None = None) -> Task:
        """Keep ``task`` until it is removed or ``retention`` seconds after it was created."""
        key = (task.provider, task.id)
        old = self._tasks.get(key)
        if old is not None:
            self.remove(old)
        self._tasks[key] = task
        listed = (task.provider, task.tenant, task.family.name)
        ids = self._lists.get(listed)
        if ids is None:
            ids = self._lists[listed] = {}
        ids[task.id] = None
        self._per_tenant[task.tenant] = self._per_tenant.get(task.tenant, 0) + 1
        if retention is not None:
            task.evict_at = task.created_at + retention
            heapq.heappush(self._deadlines, (task.evict_at, task.provider, task.id))
        if self.watch is not None:
            self.watch(task)
        return task

    def changed(self, task: Task) -> None:
        """``task`` was changed in place (forced): a state backend writes it again."""
        if self.watch is not None:
            self.watch(task)

    def get(
        self, provider: str, tenant: str, task_id: str, now: float | None = None
    ) -> Task | None:
        """The task, if it exists and belongs to ``tenant``; a foreign id is None too, and so
        is, when ``now`` is given, a task past its retention not evicted yet."""
        task = self._tasks.get((provider, task_id))
        if task is None or task.tenant != tenant:
            return None
        if now is not None and now > task.evict_at:
            return None
        return task

    def get_any(self, provider: str, task_id: str) -> Task | None:
        """For the control API only: no tenant check."""
        return self._tasks.get((provider, task_id))

    def find(self, task_id: str) -> Task | None:
        for (_, tid), task in self._tasks.items():
            if tid == task_id:
                return task
        return None

    def remove(self, task: Task) -> None:
        if self._tasks.get((task.provider, task.id)) is not task:
            return
        del self._tasks[(task.provider, task.id)]
        listed = (task.provider, task.tenant, task.family.name)
        ids = self._lists.get(listed)
        if ids is not None:
            ids.pop(task.id, None)
            if not ids:
                del self._lists[listed]
        left = self._per_tenant.get(task.tenant, 1) - 1
        if left > 0:
            self._per_tenant[task.tenant] = left
        else:
            self._per_tenant.pop(task.tenant, None)
        if len(self._deadlines) > 2 * len(self._tasks):
            self._compact_deadlines()
        if self.unwatch is not None:
            self.unwatch(task)

    def _compact_deadlines(self) -> None:
        """Rebuild the deadline heap from the stored tasks. A removed task's entry stays in
        the heap until its deadline passes, so a create/delete loop would grow it for a whole
        retention; rebuilt once it holds twice the stored tasks, it stays within that, at an
        amortised constant cost per removal."""
        self._deadlines = [
            (t.evict_at, t.provider, t.id) for t in self._tasks.values() if t.evict_at != math.inf
        ]
        heapq.heapify(self._deadlines)

    def past_retention(self, now: float, budget: int) -> list[Task]:
        """Up to ``budget`` stored tasks whose deadline passed by ``now``, oldest deadline
        first. They stay stored: the caller evicts them (``mockserver.retention``)."""
        out: list[Task] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] < now and len(out) < budget:
            evict_at, provider, task_id = heapq.heappop(deadlines)
            task = self._tasks.get((provider, task_id))
            if task is not None and task.evict_at == evict_at:  # not deleted, not replaced
                out.append(task)
        return out

    def next_deadline(self) -> float:
        return self._deadlines[0][0] if self._deadlines else math.inf

    def _backlog(self, now: float | None) -> bool:
        """Whether some task may be past its deadline at ``now`` and not evicted yet."""
        return now is not None and bool(self._deadlines) and self._deadlines[0][0] < now

    def newest_first(
        self, provider: str, tenant: str, family: str, now: float | None = None
    ) -> Iterator[Task]:
        """The tenant's tasks of one family, newest first (at ``now``: those not past their
        retention, evicted or not; one comparison per task only while eviction lags)."""
        check = self._backlog(now)
        for task_id in reversed(self._lists.get((provider, tenant, family), {})):
            task = self._tasks.get((provider, task_id))
            if task is not None and not (check and now > task.evict_at):  # type: ignore[operator]
                yield task

    def count(self, provider: str, tenant: str, family: str, now: float | None = None) -> int:
        if self._backlog(now):
            return sum(1 for _ in self.newest_first(provider, tenant, family, now))
        return len(self._lists.get((provider, tenant, family), ()))

    def count_for(self, tenant: str) -> int:
        """Live tasks (and records) the tenant holds, across providers and families."""
        return self._per_tenant.get(tenant, 0)

    def all(self) -> Iterator[Task]:
        return iter(self._tasks.values())

    def clear(self) -> None:
        self._tasks.clear()
        self._lists.clear()
        self._per_tenant.clear()
        self._deadlines.clear()
