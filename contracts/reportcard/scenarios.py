"""The bad days a client is put through, one registered :class:`CardScenario` each.

A scenario is a scenario overlay (YAML laid over the default, as ``use_scenario`` takes it),
optional presets queued before the client submits, and optionally something done between its
submit and its wait (the task is made to expire). Each runs with its own API key, so the
journal of one run is that key's requests.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..suite.operation_catalog import Family

if TYPE_CHECKING:
    from .model import MockControl, ScenarioRun

STORM_RETRY_AFTER = 5.0  # seconds the 429 storm asks for
STORM_SIZE = 4  # refusals in a row
WINDOW = 10.0  # the tight polling window of the expiry scenarios
SLOW_SECONDS = 300.0  # how long a slow task works
LOST_ANSWER_RULE = "card-lost-answer"  # the rule that loses a submit's answer after the work
UNKNOWN_ID = {"youcam": "CardUnknownTask" + "x" * 49, "relay": "0" * 32, "a2e": "0" * 24}


@dataclass
class Context:
    """What a scenario knows of the client's provider and task family."""

    provider: str
    family: Family
    server: MockControl
    key: str
    webhook_url: str | None = None  # the card's loopback receiver, when it runs one

    @property
    def has_window(self) -> bool:
        return self.family.flow.expiry_setting is not None

    @property
    def last_working_state(self) -> str | None:
        states = self.family.flow.states
        return states[-1] if states else None

    def overlay(self, settings: dict | None = None, states: dict | None = None, chaos=None) -> str:
        provider: dict = {}
        if settings:
            provider["settings"] = settings
        if states:
            provider["families"] = {self.family.client_name: {"states": states}}
        doc: dict = {"providers": {self.provider: provider}} if provider else {}
        if chaos:
            doc["chaos"] = chaos
        return json.dumps(doc)  # JSON is YAML

    def preset(self, outcome: str) -> None:
        preset = {
            "match": {"tenant": self.key, "operation": self.family.submit.operation_id},
            "outcome": outcome,
        }
        _post(f"{self.server.base_url}/__mock/presets", preset)


def _post(url: str, body: dict[str, Any]) -> None:
    """One control call (``POST /__mock/presets``): the card drives the mock over HTTP."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()


@dataclass(frozen=True)
class CardScenario:
    name: str
    description: str
    overlay: Callable[[Context], str | None] = lambda ctx: None
    prepare: Callable[[Context], None] | None = None
    between: Callable[[Context, ScenarioRun], str] | None = None  # -> the id wait() is given
    unavailable: Callable[[Context], str | None] = lambda ctx: None  # -> why it cannot run
    # True while the mock lacks what the scenario needs: its grades say "not graded".
    pending: bool = False
    webhooks: bool = False  # the card runs a receiver and hands deliveries to the client


SCENARIOS: dict[str, CardScenario] = {}


def register(scenario: CardScenario) -> CardScenario:
    if scenario.name in SCENARIOS:
        raise ValueError(f"scenario {scenario.name!r} registered twice")
    SCENARIOS[scenario.name] = scenario
    return scenario


def _storm(retry_after: float | None) -> Callable[[Context], str]:
    def overlay(ctx: Context) -> str:
        rule = {
            "name": "card-429-storm",
            "match": {"tenant": ctx.key},
            "effect": {"type": "rate_limit", "retry_after": retry_after},
            "times": STORM_SIZE,
        }
        return ctx.overlay(chaos={"rules": [rule]})

    return overlay


def _slow(seconds: float) -> Callable[[Context], str | None]:
    def overlay(ctx: Context) -> str | None:
        state = ctx.last_working_state
        return ctx.overlay(states={state: seconds}) if state else None

    return overlay


def _expiry_overlay(ctx: Context) -> str:
    state = ctx.last_working_state
    return ctx.overlay(
        settings={ctx.family.flow.expiry_setting: WINDOW},
        states={state: 6 * WINDOW} if state else None,
    )


def _no_window(ctx: Context) -> str | None:
    if ctx.has_window:
        return None
    return f"{ctx.provider}/{ctx.family.name} documents no polling window"


def _lose_task(ctx: Context, run: ScenarioRun) -> str:
    """Make the provider forget the task: let its polling window pass, or hand over an id it
    never issued (providers without a window forget nothing on their own)."""
    now = ctx.server.now()
    if ctx.has_window:
        ctx.server.advance(WINDOW + 1)
        run.lost_at = now + WINDOW
        return run.task_id or ""
    run.lost_at = now
    return UNKNOWN_ID.get(ctx.provider, "0" * 24)


register(
    CardScenario(
        "429-storm",
        f"the first {STORM_SIZE} requests get 429 with Retry-After: {STORM_RETRY_AFTER:g}",
        overlay=_storm(STORM_RETRY_AFTER),
    )
)
register(
    CardScenario(
        "429-storm-bare",
        f"the first {STORM_SIZE} requests get 429 without Retry-After (as YouCam sends it)",
        overlay=_storm(None),
    )
)
register(
    CardScenario(
        "expiry-window",
        f"a {WINDOW:g} s polling window and a task that works {6 * WINDOW:g} s",
        overlay=_expiry_overlay,
        unavailable=_no_window,
    )
)
register(
    CardScenario(
        "failures",
        "the task fails with one of the provider's failure codes",
        prepare=lambda ctx: ctx.preset("failure"),
    )
)
register(
    CardScenario(
        "slow-task",
        f"the task works for {SLOW_SECONDS:g} s before it succeeds",
        overlay=_slow(SLOW_SECONDS),
    )
)
register(
    CardScenario(
        "lost-task",
        "the provider forgets the task (InvalidTaskId, task_not_exist)",
        overlay=lambda ctx: (
            ctx.overlay(settings={ctx.family.flow.expiry_setting: WINDOW})
            if ctx.has_window
            else None
        ),
        prepare=lambda ctx: ctx.preset("stuck") if ctx.has_window else None,
        between=_lose_task,
    )
)


def _lost_answer(effect: dict) -> Callable[[Context], str]:
    """The client's first submit is done (the task exists and is charged), its answer lost."""

    def overlay(ctx: Context) -> str:
        rule = {
            "name": LOST_ANSWER_RULE,
            "match": {"tenant": ctx.key, "operation": ctx.family.submit.operation_id},
            "effect": {**effect, "phase": "after"},
            "times": 1,
        }
        return ctx.overlay(chaos={"rules": [rule]})

    return overlay


register(
    CardScenario(
        "lost-submit-answer",
        "the first submit starts its task, but the client is told 503",
        overlay=_lost_answer({"type": "status", "status": 503}),
    )
)
register(
    CardScenario(
        "lost-submit-connection",
        "the first submit starts its task, then the connection is reset before the answer",
        overlay=_lost_answer({"type": "reset"}),
    )
)


def _webhook_overlay(ctx: Context) -> str:
    from .webhooks import overlay

    return json.dumps(overlay(ctx.webhook_url or ""))


register(
    CardScenario(
        "webhook-chaos",
        "a duplicated genuine delivery, then forged ones (bad signature, tampered body, "
        "stale timestamp)",
        overlay=_webhook_overlay,
        unavailable=lambda ctx: (
            None if ctx.provider == "youcam" else f"{ctx.provider} does not sign its webhooks"
        ),
        webhooks=True,
    )
)
