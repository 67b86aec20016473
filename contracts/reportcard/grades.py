"""The grades, read from the mock's journal; one registered function each.

A grade names the scenarios it reads. It is ``n/a`` when none of them could run for the
client's provider (or the client cannot take part, e.g. it has no webhook receiver), and
``not graded`` when what it needs does not exist in the mock.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import FAIL, NOT_APPLICABLE, PASS, ScenarioRun
from .scenarios import LOST_ANSWER_RULE, STORM_RETRY_AFTER, WINDOW, Context

MIN_BACKOFF = 1.0  # seconds: the least a client should wait after a bare 429
EPSILON = 1e-6
# Exceptions that mean the client broke, not that it reported a problem.
CRASHES = (
    "KeyError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "NameError",
    "UnboundLocalError",
    "JSONDecodeError",
    "RecursionError",
    "ZeroDivisionError",
)

Verdict = tuple[str, str]
GradeFn = Callable[[dict[str, ScenarioRun], Context, float], Verdict]


@dataclass(frozen=True)
class GradeSpec:
    name: str
    scenarios: tuple[str, ...]
    fn: GradeFn


GRADES: dict[str, GradeSpec] = {}


def grade(name: str, scenarios: tuple[str, ...]) -> Callable[[GradeFn], GradeFn]:
    """Register a grade that reads the runs of ``scenarios``."""

    def register(fn: GradeFn) -> GradeFn:
        if name in GRADES:
            raise ValueError(f"grade {name!r} registered twice")
        GRADES[name] = GradeSpec(name, scenarios, fn)
        return fn

    return register


# --- reading a run's journal --------------------------------------------------------------


def polls(run: ScenarioRun, ctx: Context, task_id: str | None = None) -> list[dict[str, Any]]:
    """Status reads in the run (of ``task_id`` when the status path carries the id)."""
    status = ctx.family.status
    out = [e for e in run.journal if e["operation_id"] == status.operation_id]
    if task_id and "{" in status.path:
        out = [e for e in out if task_id in e["path"]]
    return out


def _crashed(run: ScenarioRun) -> str | None:
    if run.timed_out:
        return "the client never finished (it hung or looped)"
    if run.error_type in CRASHES:
        return f"the client crashed: {run.error}"
    return None


def _json_detail(values: list[float]) -> str:
    return json.dumps([round(v, 3) for v in values])


# --- the grades -----------------------------------------------------------------------------


@grade("honoured back-off", ("429-storm", "429-storm-bare"))
def honoured_backoff(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    problems = []
    refusals = 0
    for name, run in runs.items():
        wanted = STORM_RETRY_AFTER if name == "429-storm" else MIN_BACKOFF
        entries = run.journal
        for entry, following in itertools.pairwise(entries):
            if entry["status"] != 429:
                continue
            refusals += 1
            gap = following["at"] - entry["at"]
            if gap + EPSILON < wanted:
                problems.append(f"{name}: came back after {gap:g} s, not {wanted:g} s")
        if refusals and entries and entries[-1]["status"] == 429:
            problems.append(f"{name}: gave up after a 429 instead of coming back")
        crash = _crashed(run)
        if crash:
            problems.append(f"{name}: {crash}")
    if not refusals:
        return FAIL, "the client made no request that could be refused"
    if problems:
        return FAIL, "; ".join(problems[:3])
    return PASS, f"waited as asked after each of {refusals} refusals"


@grade("stopped polling at terminal states", ("failures", "slow-task"))
def stopped_at_terminal(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    problems = []
    for name, run in runs.items():
        crash = _crashed(run)
        if crash or run.task is None:
            problems.append(f"{name}: {crash or 'no task was started'}")
            continue
        ended = run.task["timeline"][-1]["at"]
        after = [e for e in polls(run, ctx, run.task_id) if e["at"] >= ended]
        if not after:
            problems.append(f"{name}: never read the task's end ({run.task['state']})")
        elif len(after) > 1:
            problems.append(
                f"{name}: read the task {len(after) - 1} more time(s) after it was "
                f"{run.task['state']}"
            )
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, "one read of the final state, then no more"


@grade("polled within the window", ("expiry-window",))
def polled_within_window(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    run = runs["expiry-window"]
    if run.task is None:
        return FAIL, _crashed(run) or "no task was started"
    submits = [e for e in run.journal if e["operation_id"] == ctx.family.submit.operation_id]
    start = submits[-1]["at"] if submits else run.task["created_at"]
    ended = run.task["timeline"][-1]["at"]
    moments = [start] + [e["at"] for e in polls(run, ctx, run.task_id) if e["at"] <= ended]
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    widest = max(gaps, default=ended - start)
    if run.task.get("expired_at") is not None or widest > WINDOW:
        return FAIL, f"left {widest:g} s between polls; the window is {WINDOW:g} s"
    return PASS, f"never more than {widest:g} s between polls (window {WINDOW:g} s)"


@grade("survived InvalidTaskId", ("lost-task",))
def survived_lost_task(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    run = runs["lost-task"]
    crash = _crashed(run)
    if crash:
        return FAIL, crash
    lost_at = run.lost_at if run.lost_at is not None else float("inf")
    wanted = run.notes.get("waited_on") or run.task_id
    after = [e for e in polls(run, ctx, wanted) if e["at"] >= lost_at]
    if not after:
        return FAIL, "the client never asked about the lost task"
    if len(after) > 1:
        return FAIL, f"asked about a task the provider forgot {len(after)} times"
    how = f"ended with {run.error_type}" if run.error_type else "returned"
    return PASS, f"stopped after the first refusal and {how}"


@grade("paced its polls", ("slow-task",))
def paced_polls(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    run = runs["slow-task"]
    moments = [e["at"] for e in polls(run, ctx, run.task_id)]
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    if not gaps:
        return FAIL, _crashed(run) or "fewer than two polls of a slow task"
    tightest = min(gaps)
    if tightest + EPSILON < pace / 2:
        return FAIL, f"polled {tightest:g} s apart; the provider's pace is {pace:g} s"
    return PASS, f"{len(moments)} polls, at least {tightest:g} s apart (pace {pace:g} s)"


@grade("no duplicate submits", ("lost-submit-answer", "lost-submit-connection"))
def no_duplicate_submits(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    """A submit whose answer was lost after the work still made (and charged) a task; a client
    that re-submits blindly pays twice. Read from the journal: the submits answered 2xx plus
    the one whose answer chaos lost."""
    problems = []
    lost = f"rule:{LOST_ANSWER_RULE}"
    for name, run in runs.items():
        crash = _crashed(run)
        if crash:
            problems.append(f"{name}: {crash}")
            continue
        submits = [e for e in run.journal if e["operation_id"] == ctx.family.submit.operation_id]
        started = [e for e in submits if 200 <= e["status"] < 300 or lost in (e["chaos"] or ())]
        if not submits:
            problems.append(f"{name}: made no submit")
        elif len(started) > 1:
            problems.append(
                f"{name}: started {len(started)} tasks for one job "
                "(re-submitted after a lost answer; each one is charged)"
            )
    if problems:
        return FAIL, "; ".join(problems)
    return PASS, "one task per job: did not re-submit blindly after a lost answer"


@grade("rejected a forged webhook", ("webhook-chaos",))
def rejected_forged_webhook(runs: dict[str, ScenarioRun], ctx: Context, pace: float) -> Verdict:
    """Accepted the genuine delivery (and its duplicate), refused every forgery."""
    run = runs["webhook-chaos"]
    if run.notes.get("no_receiver"):
        return NOT_APPLICABLE, "n/a: the adapter has no receive_webhook()"
    seen = run.notes.get("webhooks") or []
    genuine = [d for d in seen if d["kind"] in ("genuine", "duplicate")]
    forged = [d for d in seen if d["kind"] not in ("genuine", "duplicate")]
    if not genuine:
        return FAIL, _crashed(run) or "no genuine delivery reached the receiver"
    refused = [d["kind"] for d in genuine if not d["accepted"]]
    if refused:
        return FAIL, f"refused a genuine delivery ({', '.join(refused)})"
    taken = [d["kind"] for d in forged if d["accepted"]]
    if taken:
        return FAIL, f"accepted forged deliveries: {', '.join(taken)}"
    return PASS, f"accepted {len(genuine)} genuine deliveries, refused {len(forged)} forgeries"
