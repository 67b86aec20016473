"""Seeded fault rules, magic payload values, and presets: a bad day at the provider, on demand.

What happens to a request is chosen, highest first, by
  1. headers: ``X-Mock-Fault`` / ``X-Mock-Delay`` (faults) and ``X-Mock-Outcome`` (a task's end),
  2. magic values in the normal payload (``chaos.magic`` rules, Stripe-test-card style),
  3. presets queued through ``POST /__mock/presets`` (one-shot, for the next N matching calls),
  4. the scenario: ``chaos.rules`` for faults, each family's failure rate for outcomes.
Every random draw comes from one RNG seeded by the scenario seed, so the same seed and the same
request sequence give the same faults.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.context import RequestContext

FAULT_HEADER = "X-Mock-Fault"
DELAY_HEADER = "X-Mock-Delay"
MAX_DELAY = 600.0  # seconds; a header cannot make the mock hang longer than this
SHORT_CIRCUIT = ("status", "rate_limit", "reset", "empty")
AFTER_ONLY = ("truncate", "malformed", "dribble")


class ChaosError(ValueError):
    """A chaos header the mock cannot read; answered as the provider's invalid request."""


@dataclass(frozen=True)
class Match:
    """Which requests a rule or preset applies to: every given key must match."""

    provider: str | None = None
    operation: str | None = None
    path: str | None = None
    method: str | None = None
    tenant: str | None = None
    header: tuple[tuple[str, str], ...] = ()
    body: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Match:
        raw = raw or {}
        return cls(
            provider=raw.get("provider"),
            operation=raw.get("operation"),
            path=raw.get("path"),
            method=(raw.get("method") or "").upper() or None,
            tenant=raw.get("tenant"),
            header=tuple((raw.get("header") or {}).items()),
            body=tuple((raw.get("body") or {}).items()),
        )

    def matches(self, ctx: RequestContext, body: dict[str, Any] | None) -> bool:
        op = ctx.operation
        if self.provider and self.provider != ctx.provider.name:
            return False
        if self.operation and not fnmatch.fnmatchcase(op.operation_id, self.operation):
            return False
        if self.path and not fnmatch.fnmatchcase(ctx.request.path, self.path):
            return False
        if self.method and self.method != ctx.request.method:
            return False
        if self.tenant and self.tenant != ctx.key:
            return False
        headers = ctx.request.headers
        if any(headers.get(name) != value for name, value in self.header):
            return False
        return not self.body or (body is not None and all(body.get(k) == v for k, v in self.body))


@dataclass(frozen=True)
class Effect:
    """What a fault does. Latency is in real seconds: a client feels it on its wall clock."""

    type: str
    latency: dict[str, Any] | None = None
    status: int = 503
    code: str | int | None = None
    message: str | None = None
    retry_after: float | None = None
    fraction: float = 0.5
    chunk_bytes: int = 16
    interval: float = 0.05
    phase: str = "before"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Effect:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)

    @property
    def after(self) -> bool:
        return self.type in AFTER_ONLY or (self.type in SHORT_CIRCUIT and self.phase == "after")

    def delay(self, rng: random.Random) -> float:
        spec = self.latency or {"fixed": 0.0}
        if "fixed" in spec:
            return float(spec["fixed"])
        if "uniform" in spec:
            low, high = spec["uniform"]
            return rng.uniform(low, high)
        params = spec["lognormal"]
        return rng.lognormvariate(math.log(params["median"]), params["sigma"])


@dataclass
class FaultRule:
    name: str
    match: Match
    effect: Effect
    probability: float = 1.0
    times: int | None = None
    during: tuple[float | None, float | None] = (None, None)
    fired: int = 0

    @classmethod
    def parse(cls, raw: dict[str, Any], index: int) -> FaultRule:
        during = raw.get("during") or {}
        return cls(
            name=raw.get("name") or f"rule{index}",
            match=Match.parse(raw.get("match")),
            effect=Effect.parse(raw["effect"]),
            probability=float(raw.get("probability", 1.0)),
            times=raw.get("times"),
            during=(during.get("from"), during.get("to")),
        )

    def in_window(self, elapsed: float) -> bool:
        start, end = self.during
        return (start is None or elapsed >= start) and (end is None or elapsed < end)


@dataclass(frozen=True)
class MagicRule:
    name: str
    contains: str
    outcome: str
    provider: str | None = None
    family: str | None = None
    field: str | None = None
    failure: dict[str, Any] | None = None
    state: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any], index: int) -> MagicRule:
        return cls(
            name=raw.get("name") or f"magic{index}",
            contains=raw["contains"],
            outcome=raw["outcome"],
            provider=raw.get("provider"),
            family=raw.get("family"),
            field=raw.get("field"),
            failure=raw.get("failure"),
            state=raw.get("state"),
        )

    def applies(self, provider: str, family: str, body: dict[str, Any]) -> bool:
        if self.provider and self.provider != provider:
            return False
        if self.family and self.family != family:
            return False
        if self.field:
            value: Any = body
            for part in self.field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return isinstance(value, str) and self.contains in value
        return any(self.contains in s for s in _strings(body))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@dataclass
class Preset:
    """A one-shot choice queued through the control API for the next ``remaining`` matches."""

    id: int
    match: Match
    remaining: int
    outcome: str | None = None
    failure: dict[str, Any] | None = None
    state: str | None = None
    effect: Effect | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "remaining": self.remaining, **self.raw}


@dataclass(frozen=True)
class Outcome:
    """How a task will end, and who chose it (for the journal)."""

    outcome: str
    failure: dict[str, Any] | None
    state: str | None
    source: str


@dataclass
class Decision:
    """The faults for one request: a latency to wait, then at most one other effect."""

    delay: float = 0.0
    effect: Effect | None = None
    sources: list[str] = field(default_factory=list)


def parse_fault_header(value: str) -> Effect:
    """``status=503``, ``rate_limit=30`` (Retry-After), ``truncate=0.3``, ``latency=2``,
    ``reset``, ``empty``, ``malformed``, ``dribble``; ``;phase=after`` for status/reset/empty."""
    head, *options = [part.strip() for part in value.split(";")]
    kind, _, arg = head.partition("=")
    extra = dict(o.partition("=")[::2] for o in options if o)
    try:
        if kind == "status":
            effect = Effect("status", status=int(arg or 503))
            if not 400 <= effect.status <= 599:
                raise ValueError
        elif kind == "rate_limit":
            effect = Effect("rate_limit", retry_after=float(arg) if arg else None)
        elif kind == "truncate":
            effect = Effect("truncate", fraction=float(arg) if arg else 0.5)
        elif kind == "latency":
            effect = Effect("latency", latency={"fixed": min(float(arg), MAX_DELAY)})
        elif kind in ("reset", "empty", "malformed", "dribble") and not arg:
            effect = Effect(kind)
        else:
            raise ValueError
        if extra.get("phase") in ("before", "after"):
            effect = Effect(**{**effect.__dict__, "phase": extra["phase"]})
    except ValueError as exc:
        raise ChaosError(f"{FAULT_HEADER}: cannot read {value!r}") from exc
    return effect


class ChaosEngine:
    """The scenario's chaos section, ready to decide per request."""

    def __init__(self, raw: dict[str, Any] | None, seed: int, started_at: float) -> None:
        raw = raw or {}
        self.rules = [FaultRule.parse(r, i) for i, r in enumerate(raw.get("rules") or ())]
        self.magic = [MagicRule.parse(r, i) for i, r in enumerate(raw.get("magic") or ())]
        self.started_at = started_at
        self.seed = seed
        self.rng = random.Random(f"{seed}:chaos")
        self.presets: list[Preset] = []
        self._preset_ids = 0

    def reset(self, now: float) -> None:
        for rule in self.rules:
            rule.fired = 0
        self.presets.clear()
        self.rng = random.Random(f"{self.seed}:chaos")
        self.started_at = now

    def may_act(self, headers: Any) -> bool:
        """False in the common case (no rules, no presets, no chaos headers): skip it all."""
        return bool(
            self.rules or self.presets or FAULT_HEADER in headers or DELAY_HEADER in headers
        )

    @property
    def needs_body(self) -> bool:
        return any(r.match.body for r in self.rules) or any(p.match.body for p in self.presets)

    # --- faults -----------------------------------------------------------------------

    def decide(self, ctx: RequestContext, body: dict[str, Any] | None) -> Decision | None:
        """The faults for this request, or None (the common, fast case)."""
        headers = ctx.request.headers
        fault_header = headers.get(FAULT_HEADER)
        delay_header = headers.get(DELAY_HEADER)
        if not (self.rules or self.presets or fault_header or delay_header):
            return None
        decision = Decision()
        if delay_header:
            try:
                decision.delay = min(max(float(delay_header), 0.0), MAX_DELAY)
            except ValueError as exc:
                raise ChaosError(f"{DELAY_HEADER}: {delay_header!r} is not seconds") from exc
            decision.sources.append(f"header:{DELAY_HEADER}")
        if fault_header:
            self._add(decision, parse_fault_header(fault_header), f"header:{FAULT_HEADER}")
        if decision.effect is None:
            preset = self._take_preset(ctx, body, want="effect")
            if preset is not None and preset.effect is not None:
                self._add(decision, preset.effect, f"preset:{preset.id}")
        if decision.effect is None:
            elapsed = ctx.now - self.started_at
            for rule in self.rules:
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if not rule.in_window(elapsed) or not rule.match.matches(ctx, body):
                    continue
                if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                self._add(decision, rule.effect, f"rule:{rule.name}")
                if decision.effect is not None:
                    break
        if decision.delay == 0.0 and decision.effect is None:
            return None
        return decision

    def _add(self, decision: Decision, effect: Effect, source: str) -> None:
        if effect.type == "latency":
            decision.delay += effect.delay(self.rng)
        else:
            decision.effect = effect
        decision.sources.append(source)

    # --- outcomes ---------------------------------------------------------------------

    def outcome_for(self, ctx: RequestContext, family: str) -> Outcome | None:
        """A magic value in the payload, else a queued preset, else None (scenario default)."""
        provider = ctx.provider.name
        for rule in self.magic:
            if rule.applies(provider, family, ctx.body):
                return Outcome(rule.outcome, rule.failure, rule.state, f"magic:{rule.name}")
        preset = self._take_preset(ctx, ctx.body, want="outcome")
        if preset is not None:
            return Outcome(
                preset.outcome or "success", preset.failure, preset.state, f"preset:{preset.id}"
            )
        return None

    # --- presets ----------------------------------------------------------------------

    def add_preset(self, raw: dict[str, Any]) -> Preset:
        self._preset_ids += 1
        effect = Effect.parse(raw["effect"]) if raw.get("effect") else None
        preset = Preset(
            id=self._preset_ids,
            match=Match.parse(raw.get("match")),
            remaining=int(raw.get("count", 1)),
            outcome=raw.get("outcome"),
            failure=raw.get("failure"),
            state=raw.get("state"),
            effect=effect,
            raw={k: v for k, v in raw.items() if k != "count"},
        )
        self.presets.append(preset)
        return preset

    def _take_preset(
        self, ctx: RequestContext, body: dict[str, Any] | None, want: str
    ) -> Preset | None:
        for preset in self.presets:
            has = preset.effect is not None if want == "effect" else preset.outcome is not None
            if has and preset.match.matches(ctx, body):
                preset.remaining -= 1
                if preset.remaining <= 0:
                    self.presets.remove(preset)
                return preset
        return None


def lenient_json(raw: bytes) -> dict[str, Any] | None:
    """The body as an object for matching, or None; never raises."""
    try:
        value = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
