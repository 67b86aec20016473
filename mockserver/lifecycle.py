"""Task timelines: planned once at submit, read lazily.

At submit the whole future of a task is drawn from the scenario and a seeded RNG: the moment it
enters each state, and how it ends. Reading a task is a binary search over those moments at
``clock.now()``. There is no timer per task, so a million live tasks cost memory, not CPU, and
advancing a virtual clock simply changes what the next read sees.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskFamily:
    """A provider's task state machine, in the provider's own words.

    ``states`` are the working states in order; the task ends in ``success`` or ``failure``.
    ``fails_after`` names the working state after which a failing task fails (default: the
    last one), so e.g. an A2E video can fail while in ``process`` rather than after ``copy``.
    """

    provider: str
    name: str
    states: tuple[str, ...]
    success: str
    failure: str
    fails_after: str | None = None

    @property
    def terminal(self) -> tuple[str, str]:
        return (self.success, self.failure)

    @property
    def all_states(self) -> tuple[str, ...]:
        return (*self.states, self.success, self.failure)


@dataclass(frozen=True)
class Duration:
    """Seconds spent in a state: fixed, or drawn uniformly from [low, high]."""

    low: float
    high: float

    @classmethod
    def parse(cls, raw: Any) -> Duration:
        if isinstance(raw, int | float):
            return cls(float(raw), float(raw))
        return cls(float(raw["min"]), float(raw["max"]))

    def draw(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class FamilyConfig:
    """What the scenario says about one task family, task chaos included."""

    durations: dict[str, Duration]
    failure_rate: float
    failures: tuple[dict[str, Any], ...]
    stuck_state: str | None = None
    stuck_rate: float = 0.0
    pressure_state: str | None = None
    pressure_seconds: float = 0.0
    max_running_per_tenant: int | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FamilyConfig:
        stuck = raw.get("stuck") or {}
        pressure = raw.get("queue_pressure") or {}
        return cls(
            durations={s: Duration.parse(d) for s, d in (raw.get("states") or {}).items()},
            failure_rate=float(raw.get("failure_rate", 0.0)),
            failures=tuple(raw.get("failures") or ()),
            stuck_state=stuck.get("state"),
            stuck_rate=float(stuck.get("rate", 0.0)),
            pressure_state=pressure.get("state"),
            pressure_seconds=float(pressure.get("seconds_per_running_task", 0.0)),
            max_running_per_tenant=raw.get("max_running_per_tenant"),
        )


class Timeline:
    """The planned states of one task and the moments it enters them.

    ``failure`` holds the provider's failure fields when the task ends in failure, else None.
    """

    __slots__ = ("failure", "states", "times")

    def __init__(
        self, states: tuple[str, ...], times: tuple[float, ...], failure: dict | None
    ) -> None:
        self.states = states
        self.times = times
        self.failure = failure

    def index_at(self, now: float) -> int:
        """Index of the state in force at ``now`` (the first state before it is entered)."""
        return max(bisect_right(self.times, now) - 1, 0)

    def state_at(self, now: float) -> str:
        i = bisect_right(self.times, now) - 1  # index_at, inlined: read on every poll
        return self.states[i if i > 0 else 0]

    def entered_at(self, state: str) -> float | None:
        try:
            return self.times[self.states.index(state)]
        except ValueError:
            return None

    @property
    def final_state(self) -> str:
        return self.states[-1]

    @property
    def ends_at(self) -> float:
        return self.times[-1]

    @property
    def succeeded(self) -> bool:
        return self.failure is None

    def is_done(self, now: float) -> bool:
        return now >= self.times[-1]

    def fraction_through(self, now: float) -> float:
        """How far the task is through the current state, 0..1 (used for progress values)."""
        i = self.index_at(now)
        if i + 1 >= len(self.times):
            return 1.0
        span = self.times[i + 1] - self.times[i]
        return 1.0 if span <= 0 else min(max((now - self.times[i]) / span, 0.0), 1.0)

    def overall_fraction(self, now: float) -> float:
        """How far the task is from submit to its end, 0..1."""
        span = self.times[-1] - self.times[0]
        return 1.0 if span <= 0 else min(max((now - self.times[0]) / span, 0.0), 1.0)


def task_rng(seed: int, provider: str, sequence: int) -> random.Random:
    """The RNG for one task: the same seed and submit order give the same timeline."""
    return random.Random(f"{seed}:{provider}:{sequence}")


def plan(
    family: TaskFamily,
    config: FamilyConfig,
    rng: random.Random,
    start: float,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
    *,
    stuck_in: str | None = None,
    running_tasks: int = 0,
) -> Timeline:
    """Draw a task's timeline.

    ``outcome`` ("success" | "failure" | "stuck") overrides the scenario's failure rate;
    ``failure`` overrides the drawn failure fields. A stuck task never leaves ``stuck_in``
    (default: its last working state): the next state is planned at +inf. ``running_tasks``
    is the tenant's running tasks in the family, for queue pressure.
    """
    draw = rng.random()
    if outcome is None and config.stuck_rate and rng.random() < config.stuck_rate:
        outcome, stuck_in = "stuck", stuck_in or config.stuck_state
    if outcome == "stuck":
        stuck_in = stuck_in if stuck_in in family.states else family.states[-1]
    fails = draw < config.failure_rate if outcome is None else outcome == "failure"
    if fails and failure is None:
        failure = dict(rng.choice(config.failures)) if config.failures else {}
    last_working = family.fails_after if fails and family.fails_after else None
    states: list[str] = []
    times: list[float] = []
    t = start
    for state in family.states:
        states.append(state)
        times.append(t)
        t += config.durations.get(state, Duration(0.0, 0.0)).draw(rng)
        if state == config.pressure_state:
            t += config.pressure_seconds * running_tasks
        if state == stuck_in:
            t = math.inf
        if state == last_working:
            break
    states.append(family.failure if fails else family.success)
    times.append(t)
    return Timeline(tuple(states), tuple(times), (failure or {}) if fails else None)


def replan_forced(
    family: TaskFamily,
    config: FamilyConfig,
    timeline: Timeline,
    now: float,
    rng: random.Random,
    *,
    state: str | None = None,
    outcome: str | None = None,
    failure: dict[str, Any] | None = None,
) -> Timeline:
    """A new timeline that keeps the past and puts the task in ``state`` (or ends it) now.

    Forcing a working state keeps the rest of the plan after it, with fresh durations; forcing
    an outcome ends the task at ``now``.
    """
    i = timeline.index_at(now)
    states = list(timeline.states[: i + 1])
    times = list(timeline.times[: i + 1])
    if states and times[-1] == now:
        states.pop()
        times.pop()
    if outcome is not None or state in family.terminal:
        fails = outcome == "failure" or state == family.failure
        if fails and failure is None:
            failure = timeline.failure or (
                dict(rng.choice(config.failures)) if config.failures else {}
            )
        states.append(family.failure if fails else family.success)
        times.append(now)
        return Timeline(tuple(states), tuple(times), (failure or {}) if fails else None)
    if state not in family.states:
        raise ValueError(f"{state!r} is not a state of {family.provider}/{family.name}")
    t = now
    ends_in_failure = timeline.failure is not None
    for s in family.states[family.states.index(state) :]:
        states.append(s)
        times.append(t)
        t += config.durations.get(s, Duration(0.0, 0.0)).draw(rng)
    states.append(family.failure if ends_in_failure else family.success)
    times.append(t)
    return Timeline(tuple(states), tuple(times), timeline.failure)
