"""The clock and task timelines: planned once, read lazily, reproducible."""

from __future__ import annotations

import random

import pytest

from mockserver.clock import ClockError, RealClock, VirtualClock
from mockserver.lifecycle import Duration, FamilyConfig, TaskFamily, plan, replan_forced, task_rng

VIDEO = TaskFamily("p", "video", ("init", "start", "process"), "success", "fail", "process")
CONFIG = FamilyConfig(
    durations={"init": Duration(1, 1), "start": Duration(2, 2), "process": Duration(5, 10)},
    failure_rate=0.3,
    failures=({"msg": "boom"}, {"msg": "bang"}),
)

pytestmark = pytest.mark.loop  # CI runs these on uvloop too


def test_virtual_clock_is_frozen_until_advanced():
    clock = VirtualClock(start=100.0, speed=0.0)
    assert clock.now() == 100.0 == clock.now()
    clock.advance(2.5)
    assert clock.now() == 102.5
    with pytest.raises(ClockError):
        clock.advance(-1)


def test_virtual_clock_speed_runs_faster_than_real_time(monkeypatch):
    ticks = iter([0.0, 0.0, 1.0])
    monkeypatch.setattr("mockserver.clock.time.monotonic", lambda: next(ticks))
    clock = VirtualClock(start=0.0, speed=60.0)
    assert clock.now() == 0.0
    assert clock.now() == 60.0  # one real second is a minute


def test_real_clock_cannot_be_advanced():
    with pytest.raises(ClockError):
        RealClock().advance(1)


def test_timeline_walks_states_in_order_then_stays_terminal():
    timeline = plan(VIDEO, CONFIG, random.Random(1), 1000.0, outcome="success")
    assert timeline.states == ("init", "start", "process", "success")
    assert timeline.state_at(999) == "init"  # before submit reads as the first state
    assert timeline.state_at(1000.5) == "init"
    assert timeline.state_at(1001) == "start"
    assert timeline.state_at(1003) == "process"
    assert timeline.state_at(timeline.ends_at) == "success"
    assert timeline.state_at(timeline.ends_at + 1e6) == "success"
    assert 1008 <= timeline.ends_at <= 1013


def test_failure_carries_drawn_fields_and_ends_after_its_state():
    timeline = plan(VIDEO, CONFIG, random.Random(1), 0.0, outcome="failure")
    assert timeline.final_state == "fail" and timeline.failure in CONFIG.failures
    assert not timeline.succeeded


def test_same_seed_and_sequence_give_the_same_timeline():
    a = plan(VIDEO, CONFIG, task_rng(5, "p", 3), 0.0)
    b = plan(VIDEO, CONFIG, task_rng(5, "p", 3), 0.0)
    c = plan(VIDEO, CONFIG, task_rng(5, "p", 4), 0.0)
    assert (a.states, a.times, a.failure) == (b.states, b.times, b.failure)
    assert a.times != c.times


def test_failure_rate_is_honoured_over_many_tasks():
    fails = sum(not plan(VIDEO, CONFIG, task_rng(1, "p", i), 0.0).succeeded for i in range(2000))
    assert 500 < fails < 700  # 30 % of 2000


def test_progress_fractions():
    timeline = plan(VIDEO, CONFIG, random.Random(2), 0.0, outcome="success")
    start = timeline.entered_at("process")
    end = timeline.ends_at
    assert timeline.fraction_through(start) == 0.0
    assert timeline.fraction_through((start + end) / 2) == pytest.approx(0.5)
    assert timeline.fraction_through(end) == 1.0


def test_force_outcome_ends_now_and_keeps_the_past():
    timeline = plan(VIDEO, CONFIG, random.Random(3), 0.0, outcome="success")
    forced = replan_forced(VIDEO, CONFIG, timeline, 1.5, random.Random(0), outcome="failure")
    assert forced.states == ("init", "start", "fail")
    assert forced.ends_at == 1.5 and forced.failure is not None


def test_force_working_state_continues_the_plan_from_there():
    timeline = plan(VIDEO, CONFIG, random.Random(3), 0.0, outcome="success")
    forced = replan_forced(VIDEO, CONFIG, timeline, 0.5, random.Random(0), state="process")
    assert forced.states == ("init", "process", "success")
    assert forced.entered_at("process") == 0.5 and forced.succeeded
    with pytest.raises(ValueError):
        replan_forced(VIDEO, CONFIG, timeline, 0.5, random.Random(0), state="nope")
