"""What a report card is made of: the client adapter it grades, runs, grades, the card."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

Sleep = Callable[[float], Awaitable[None]]

PASS, FAIL, NOT_GRADED, NOT_APPLICABLE = "pass", "fail", "not graded", "n/a"


@dataclass(frozen=True)
class Harness:
    """What the card hands a client it is about to grade.

    ``sleep`` moves the mock's virtual clock: a client that waits through it takes no wall
    time, and its pauses show up in the journal exactly as long as it meant them.
    """

    provider: str
    family: str
    base_url: str
    api_key: str
    sleep: Sleep
    webhook_secret: str | None = None  # the whsec_ secret webhooks are signed with (YouCam)


class ClientUnderTest(Protocol):
    """The small adapter around a user's client: start one task, wait for it."""

    async def submit(self) -> str:
        """Start one task the way the application does; return the provider's task id."""
        ...

    async def wait(self, task_id: str) -> Any:
        """Wait for the task the way the application does (raise if it does)."""
        ...

    # Optional: ``async def receive_webhook(self, body: bytes, headers) -> bool``, what the
    # application's webhook endpoint does with a delivery (True: accepted). Without it the
    # webhook grade is "n/a".


ClientFactory = Callable[[Harness], ClientUnderTest]


class MockControl(Protocol):
    """What the card needs of a running mock: its address, its virtual clock, a fresh start,
    a scenario overlay, its journal and tasks, and pending webhooks sent now.

    ``mockserver.pytest_plugin.MockServer`` is one (the ``avatar_mock`` fixture); the card
    knows it only by this shape, so the kit does not depend on the server's code.
    """

    base_url: str

    def now(self) -> float: ...

    def advance(self, seconds: float) -> float: ...

    def restore(self) -> None: ...

    def use_scenario(self, text_or_name: str) -> Any: ...

    def journal(self, *, tenant: str | None = None) -> list[dict[str, Any]]: ...

    def task(self, task_id: str) -> dict[str, Any] | None: ...

    async def deliver(self) -> None: ...


@dataclass
class ScenarioRun:
    """One scenario played against the client, with what the mock saw."""

    scenario: str
    task_id: str | None = None
    outcome: Any = None
    error: str | None = None  # the exception wait() or submit() ended with
    error_type: str | None = None
    timed_out: bool = False
    journal: list[dict[str, Any]] = field(default_factory=list)
    task: dict[str, Any] | None = None  # the mock's view: timeline, expiry
    lost_at: float | None = None  # when the harness made the task unknown to the provider
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grade:
    name: str
    verdict: str  # pass | fail | not graded | n/a
    detail: str
    scenarios: list[str] = field(default_factory=list)


@dataclass
class Card:
    provider: str
    family: str
    client: str
    grades: list[Grade]
    runs: list[ScenarioRun] = field(default_factory=list)

    @property
    def graded(self) -> list[Grade]:
        return [g for g in self.grades if g.verdict in (PASS, FAIL)]

    @property
    def passed(self) -> bool:
        """Full marks: every grade that could be given was a pass."""
        return all(g.verdict == PASS for g in self.graded)

    @property
    def score(self) -> str:
        graded = self.graded
        return f"{sum(g.verdict == PASS for g in graded)}/{len(graded)}"

    def verdict(self, name: str) -> str:
        return next(g.verdict for g in self.grades if g.name == name)

    def table(self) -> str:
        """For people: one line per grade."""
        width = max(len(g.name) for g in self.grades)
        lines = [f"report card: {self.client} on {self.provider}/{self.family}: {self.score}"]
        for g in self.grades:
            lines.append(f"  {g.name:<{width}}  {g.verdict.upper():<10}  {g.detail}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """For CI: grades, the score, and per scenario what happened (journals left out)."""
        return {
            "provider": self.provider,
            "family": self.family,
            "client": self.client,
            "score": self.score,
            "passed": self.passed,
            "grades": [asdict(g) for g in self.grades],
            "scenarios": [
                {
                    "scenario": r.scenario,
                    "task_id": r.task_id,
                    "error": r.error,
                    "timed_out": r.timed_out,
                    "requests": len(r.journal),
                }
                for r in self.runs
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=str)
