"""Play every scenario against a client on a running mock, then grade it.

Each scenario starts from a fresh mock (default scenario, clock at the same moment, empty
stores), with the scenario's overlay in force and a key of its own. The client gets a
``sleep`` that moves the mock's frozen virtual clock, so a five-minute task is graded in
milliseconds; a client that sleeps on its own clock instead never sees time pass and is cut
off by the wall-clock timeout.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ..suite.operation_catalog import Family, operation_catalog
from .grades import GRADES
from .model import (
    NOT_APPLICABLE,
    NOT_GRADED,
    Card,
    ClientFactory,
    Grade,
    Harness,
    MockControl,
    ScenarioRun,
)
from .scenarios import SCENARIOS, CardScenario, Context
from .webhooks import SECRET, Receiver, send_forgeries

PACE = {"youcam": 2.0, "relay": 5.0, "a2e": 5.0}  # documented seconds between polls
DEFAULT_FAMILY = {"youcam": "ai-avatar", "relay": "avatar", "a2e": "image2video"}


class BudgetExceeded(Exception):
    """The client slept longer (in virtual time) than any scenario needs."""


def find_family(provider: str, name: str | None) -> Family:
    families = {f.name: f for f in operation_catalog(provider).families}
    name = name or DEFAULT_FAMILY.get(provider) or next(iter(families), None)
    if name not in families:
        known = ", ".join(families) or "none"
        raise ValueError(f"{provider} has no task family {name!r} (known: {known})")
    return families[name]


async def _close(client: Any) -> None:
    for name in ("aclose", "close"):
        fn = getattr(client, name, None)
        if fn is not None:
            result = fn()
            if inspect.isawaitable(result):
                await result
            return


async def play(
    scenario: CardScenario,
    ctx: Context,
    factory: ClientFactory,
    *,
    wall_timeout: float,
    budget: float,
    receiver: Receiver | None = None,
) -> ScenarioRun:
    server = ctx.server
    run = ScenarioRun(scenario.name)
    slept = 0.0

    async def sleep(seconds: float) -> None:
        nonlocal slept
        seconds = max(float(seconds), 0.0)
        slept += seconds
        if slept > budget:
            raise BudgetExceeded(f"slept {slept:g} s of virtual time")
        server.advance(seconds)
        await asyncio.sleep(0)

    harness = Harness(
        ctx.provider, ctx.family.name, server.base_url, ctx.key, sleep, webhook_secret=SECRET
    )
    client = factory(harness)
    if scenario.webhooks:
        if not hasattr(client, "receive_webhook"):
            run.notes["no_receiver"] = True
            await _close(client)
            return run
        assert receiver is not None
        receiver.client, receiver.deliveries = client, []
    try:
        run.task_id = await asyncio.wait_for(client.submit(), wall_timeout)
        waited_on = run.task_id
        if scenario.between is not None:
            waited_on = scenario.between(ctx, run)
        run.notes["waited_on"] = waited_on
        run.outcome = await asyncio.wait_for(client.wait(waited_on), wall_timeout)
        if scenario.webhooks and receiver is not None:
            await asyncio.wait_for(server.deliver(), wall_timeout)
            await send_forgeries(receiver)
            run.notes["webhooks"] = [
                {"kind": d.kind, "accepted": d.accepted, "error": d.error}
                for d in receiver.deliveries
            ]
    except TimeoutError:
        run.timed_out = True
    except Exception as exc:  # the client's own failure is what is graded
        run.error, run.error_type = f"{type(exc).__name__}: {exc}", type(exc).__name__
    finally:
        await _close(client)
    run.journal = server.journal(tenant=ctx.key)
    run.task = server.task(run.task_id) if run.task_id else None
    return run


async def grade_client(
    factory: ClientFactory,
    *,
    provider: str,
    family: str | None = None,
    server: MockControl,
    client_name: str | None = None,
    scenarios: list[str] | None = None,
    wall_timeout: float = 20.0,
    budget: float = 7200.0,
) -> Card:
    """Grade the client ``factory`` builds, scenario by scenario, from the mock's journal.

    ``server``: the running mock to play on (the ``avatar_mock`` fixture's, or
    ``mockserver.reportcard.grade_client``, which starts one). It is reset between scenarios
    and left reset.
    """
    fam = find_family(provider, family)
    receiver = await Receiver().start()
    try:
        runs: dict[str, ScenarioRun] = {}
        why_not: dict[str, tuple[str, bool]] = {}
        for name in scenarios or list(SCENARIOS):
            scenario = SCENARIOS[name]
            ctx = Context(provider, fam, server, f"sk-card-{name}", receiver.url)
            reason = scenario.unavailable(ctx)
            if reason:
                why_not[name] = (reason, scenario.pending)
                continue
            await asyncio.to_thread(server.restore)
            overlay = scenario.overlay(ctx)
            if overlay:
                server.use_scenario(overlay)
            if scenario.prepare is not None:  # may call the mock's control API: off the loop
                await asyncio.to_thread(scenario.prepare, ctx)
            runs[name] = await play(
                scenario,
                ctx,
                factory,
                wall_timeout=wall_timeout,
                budget=budget,
                receiver=receiver,
            )
        server.restore()
    finally:
        await receiver.stop()
    ctx = Context(provider, fam, server, "")
    grades = []
    for spec in GRADES.values():
        ran = {name: runs[name] for name in spec.scenarios if name in runs}
        if not ran:
            reasons = [why_not[n] for n in spec.scenarios if n in why_not]
            pending = any(p for _, p in reasons)
            text = "; ".join(r for r, _ in reasons) or "its scenarios were not run"
            verdict = NOT_GRADED if pending else NOT_APPLICABLE
            grades.append(Grade(spec.name, verdict, f"{verdict}: {text}", list(spec.scenarios)))
            continue
        verdict, detail = spec.fn(ran, ctx, PACE.get(provider, 2.0))
        grades.append(Grade(spec.name, verdict, detail, list(ran)))
    name = client_name or str(getattr(factory, "__name__", type(factory).__name__))
    return Card(provider, fam.name, name, grades, list(runs.values()))
