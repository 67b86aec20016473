"""Task records and the tenant-scoped store.

A key never sees another key's task: every lookup names the tenant, and a foreign id looks
exactly like an unknown one. Per-tenant, per-family id lists keep lists cheap and newest-first.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from mockserver.lifecycle import TaskFamily, Timeline


class Task:
    """One submitted task. State is never stored: it is read from ``timeline`` at a time."""

    __slots__ = (
        "created_at",
        "expired_at",
        "extra",
        "family",
        "id",
        "last_polled_at",
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
        self.last_polled_at = created_at
        self.expired_at: float | None = None
        self.extra: dict[str, Any] | None = None

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
            "expired_at": self.expired_at,
            "last_polled_at": self.last_polled_at,
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
        self._lists: dict[tuple[str, str, str], list[str]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: Task) -> Task:
        self._tasks[(task.provider, task.id)] = task
        self._lists[(task.provider, task.tenant, task.family.name)].append(task.id)
        return task

    def get(self, provider: str, tenant: str, task_id: str) -> Task | None:
        """The task, if it exists and belongs to ``tenant``; a foreign id is None too."""
        task = self._tasks.get((provider, task_id))
        if task is None or task.tenant != tenant:
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
        self._tasks.pop((task.provider, task.id), None)
        ids = self._lists.get((task.provider, task.tenant, task.family.name))
        if ids is not None:
            with contextlib.suppress(ValueError):
                ids.remove(task.id)

    def newest_first(self, provider: str, tenant: str, family: str) -> Iterator[Task]:
        """The tenant's tasks of one family, newest first."""
        for task_id in reversed(self._lists.get((provider, tenant, family), ())):
            task = self._tasks.get((provider, task_id))
            if task is not None:
                yield task

    def count(self, provider: str, tenant: str, family: str) -> int:
        return len(self._lists.get((provider, tenant, family), ()))

    def all(self) -> Iterator[Task]:
        return iter(self._tasks.values())

    def clear(self) -> None:
        self._tasks.clear()
        self._lists.clear()
