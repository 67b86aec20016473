"""Tasks named inside a store's per-task data, written as ``{"$task": [provider, id]}``.

An A2E lip-sync model names the custom avatar it trains (the Task itself, compared by
identity). A state backend and a snapshot write such data as JSON: each Task in it becomes a
reference, and reading resolves the reference to the Task object the mock holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.tasks import Task

TASK_REF = "$task"
Find = Callable[[str, str], Task | None]  # (provider, id) -> the task, if held


class UnknownTask(LookupError):
    """A reference to a task that is not held."""

    def __init__(self, provider: str, task_id: str) -> None:
        super().__init__(f"{provider} task {task_id}")
        self.provider, self.task_id = provider, task_id


def named_tasks(value: Any) -> list[Task]:
    """The Tasks ``value`` holds, at any depth."""
    if isinstance(value, Task):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in named_tasks(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in named_tasks(v)]
    return []


def refs(value: Any) -> Any:
    """``value`` with every Task in it written as a reference."""
    if isinstance(value, Task):
        return {TASK_REF: [value.provider, value.id]}
    if isinstance(value, dict):
        return {k: refs(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [refs(v) for v in value]
    return value


def resolved(value: Any, find: Find) -> Any:
    """``value`` with each reference the Task ``find`` gives; UnknownTask when it gives none."""
    if isinstance(value, dict):
        ref = value.get(TASK_REF)
        if len(value) == 1 and isinstance(ref, list) and len(ref) == 2:
            provider, task_id = str(ref[0]), str(ref[1])
            task = find(provider, task_id)
            if task is None:
                raise UnknownTask(provider, task_id)
            return task
        return {k: resolved(v, find) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v, find) for v in value]
    return value
