"""Seeded fault rules, magic payload values, and presets: a bad day at the provider, on demand.

What happens to a request is chosen, highest first, by
  1. headers: ``X-Mock-Fault`` / ``X-Mock-Delay`` (faults) and ``X-Mock-Outcome`` (a task's end),
  2. magic values in the normal payload (``chaos.magic`` rules, Stripe-test-card style),
  3. presets queued through ``POST /__mock/presets`` (one-shot, for the next N matching calls),
  4. the scenario: ``chaos.rules`` for faults, each family's failure rate for outcomes.
Every random draw comes from one RNG seeded by the scenario seed, so the same seed and the same
request sequence give the same faults.

This module decides *which* effect acts on a request; what an effect does is its class's
business (:mod:`mockserver.effects`). Every number a rule, preset or header gives is read by
:mod:`mockserver.numbers`, so a NaN or a 1e308 is refused naming its field.

Faults reach the whole host. Operations consult chaos in the pipeline; the mock's other routes
do it with one decorator, :func:`chaos_route`, and are matched in rules by a pseudo
operationId (``match: {operation: "mock:*"}``) or by ``path``:

- ``mock:media``: result downloads, ``GET /__media/...``
- ``mock:upload``: YouCam's presigned upload, ``PUT /__upload/...``
- ``mock:a2e-r2``: A2E's presigned bucket, ``PUT``/``GET /__a2e-r2/...``
- ``mock:unrouted``: a path or method no operation serves (the provider's 404/405)
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from multidict import istr

from mockserver.auth import bearer_key
from mockserver.errors import ApiError, Dialect, StorageDialect
from mockserver.jsonio import JsonError, loads
from mockserver.keys import STATE_KEY
from mockserver.media import s3_error
from mockserver.numbers import MAX_SECONDS, MAX_WAIT, NumberError, parse_number, read_number

if TYPE_CHECKING:
    from mockserver.context import RequestContext
    from mockserver.effects import Effect

# istr: a case-insensitive header lookup with a plain str folds its case on every call; may_act
# asks for both on every request the mock answers.
FAULT_HEADER = istr("X-Mock-Fault")
DELAY_HEADER = istr("X-Mock-Delay")
MAX_DELAY = MAX_WAIT  # seconds; a header cannot make the mock hang longer than this
MAX_COUNT = 1_000_000_000  # a preset's count, a rule's times
MEDIA, UPLOAD, A2E_R2, UNROUTED = "mock:media", "mock:upload", "mock:a2e-r2", "mock:unrouted"
STORAGE = StorageDialect()


class ChaosError(ValueError):
    """A chaos header, rule or preset the mock cannot use; ``str(err)`` names the field."""


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a request is, as rules match it: the provider (None off provider paths), its
    operationId (or a ``mock:`` pseudo-id), the caller's key and the clock reading."""

    request: web.Request
    provider: str | None
    operation: str
    key: str
    now: float

    @classmethod
    def of(cls, ctx: RequestContext) -> Spot:
        return cls(ctx.request, ctx.provider.name, ctx.operation.operation_id, ctx.key, ctx.now)


@dataclass(frozen=True)
class Match:
    """Which requests a rule or preset applies to: every given key must match.

    ``operation`` is an operationId glob or a list of them (any may match)."""

    provider: str | None = None
    operation: tuple[str, ...] = ()
    path: str | None = None
    method: str | None = None
    tenant: str | None = None
    header: tuple[tuple[str, str], ...] = ()
    body: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Match:
        raw = raw or {}
        operation = raw.get("operation") or ()
        return cls(
            provider=raw.get("provider"),
            operation=(operation,) if isinstance(operation, str) else tuple(operation),
            path=raw.get("path"),
            method=(raw.get("method") or "").upper() or None,
            tenant=raw.get("tenant"),
            header=tuple((raw.get("header") or {}).items()),
            body=tuple((raw.get("body") or {}).items()),
        )

    def matches(self, spot: Spot, body: dict[str, Any] | None) -> bool:
        if self.provider and self.provider != spot.provider:
            return False
        if self.operation and not any(
            fnmatch.fnmatchcase(spot.operation, glob) for glob in self.operation
        ):
            return False
        request = spot.request
        if self.path and not fnmatch.fnmatchcase(request.path, self.path):
            return False
        if self.method and self.method != request.method:
            return False
        if self.tenant and self.tenant != spot.key:
            return False
        headers = request.headers
        if any(headers.get(name) != value for name, value in self.header):
            return False
        return not self.body or (body is not None and all(body.get(k) == v for k, v in self.body))


def _number(raw: Mapping[str, Any], name: str, where: str, default: Any, **bounds: Any) -> Any:
    value = raw.get(name)
    if value is None:
        return default
    try:
        return read_number(value, f"{where}.{name}", **bounds)
    except NumberError as err:
        raise ChaosError(str(err)) from None


def _effect(raw: Mapping[str, Any], where: str) -> Effect:
    from mockserver.effects import EffectError, effect_from_rule  # with the first rule

    try:
        return effect_from_rule(raw, where)
    except EffectError as err:
        raise ChaosError(str(err)) from None


@dataclass
class FaultRule:
    """A scenario's fault: which requests it matches, what it does to them, how often, when."""

    name: str
    match: Match
    effect: Effect
    probability: float = 1.0
    times: int | None = None
    during: tuple[float | None, float | None] = (None, None)
    fired: int = 0

    @classmethod
    def parse(cls, raw: dict[str, Any], index: int, where: str = "chaos.rules") -> FaultRule:
        at = f"{where}.{index}"
        during = raw.get("during") or {}
        times = _number(raw, "times", at, None, minimum=1, maximum=MAX_COUNT, integer=True)
        return cls(
            name=raw.get("name") or f"rule{index}",
            match=Match.parse(raw.get("match")),
            effect=_effect(raw["effect"], f"{at}.effect"),
            probability=_number(raw, "probability", at, 1.0, minimum=0.0, maximum=1.0),
            times=None if times is None else int(times),
            during=(
                _number(during, "from", f"{at}.during", None, minimum=0.0, maximum=MAX_SECONDS),
                _number(during, "to", f"{at}.during", None, minimum=0.0, maximum=MAX_SECONDS),
            ),
        )

    @property
    def claim(self) -> str:
        """The name of its ``times`` counter on a fleet (mockserver.fleet)."""
        return f"rule:{self.name}"

    def in_window(self, elapsed: float) -> bool:
        start, end = self.during
        return (start is None or elapsed >= start) and (end is None or elapsed < end)


@dataclass(frozen=True)
class MagicRule:
    """A magic value: a task whose request holds ``contains`` ends as ``outcome``."""

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
    count: int = 1  # as queued: on a fleet, the limit of its use counter

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "remaining": self.remaining, **self.raw}

    @property
    def claim(self) -> str:
        """The name of its use counter on a fleet (mockserver.fleet)."""
        return f"preset:{self.id}"


@dataclass(frozen=True)
class Outcome:
    """How a task will end, and who chose it (for the journal)."""

    outcome: str
    failure: dict[str, Any] | None
    state: str | None
    source: str


@dataclass
class Decision:
    """The faults for one request: a wait (stacking effects, the delay header), then at most
    one other effect."""

    delay: float = 0.0
    effect: Effect | None = None
    sources: list[str] = field(default_factory=list)


def parse_fault_header(value: str) -> Effect:
    """``<type>[=N][;phase=before|after]``, e.g. ``status=503``, ``rate_limit=30``,
    ``truncate=0.3``, ``latency=2``, ``gateway=504``, ``gateway_timeout=30``, ``reset``,
    ``empty;phase=after``; each effect type says what N sets and which phases it takes."""
    head, *options = [part.strip() for part in value.split(";")]
    kind, _, arg = head.partition("=")
    extra = dict(o.partition("=")[::2] for o in options if o)
    from mockserver.effects import EffectError  # with the first fault header

    try:
        cls = _effect_class(kind)
        return cls.from_header(arg.strip(), extra.get("phase"), f"{FAULT_HEADER} {cls.key}")
    except EffectError as err:
        raise ChaosError(str(err)) from None


def _effect_class(kind: str) -> type[Effect]:
    from mockserver.effects import EFFECTS, EffectError

    cls = EFFECTS.get(kind.strip())
    if cls is None:
        raise EffectError(f"{FAULT_HEADER}: {kind.strip()!r} is not one of {', '.join(EFFECTS)}")
    return cls


def parse_delay_header(value: str) -> float:
    """``X-Mock-Delay: <seconds>``, 0 to MAX_DELAY; anything else is refused (a NaN here
    once made every timer of the server hang)."""
    try:
        return parse_number(value, DELAY_HEADER, minimum=0.0, maximum=MAX_DELAY)
    except NumberError as err:
        raise ChaosError(str(err)) from None


def scenario_problems(raw: Mapping[str, Any] | None) -> list[str]:
    """What in a scenario's ``chaos`` section the mock cannot use (NaN, out-of-range numbers,
    a phase an effect has not), one message per rule; the schema cannot see these."""
    problems = []
    for index, rule in enumerate((raw or {}).get("rules") or ()):
        try:
            FaultRule.parse(rule, index)
        except ChaosError as err:
            problems.append(str(err))
    return problems


class Claims(Protocol):
    """On a state backend (mockserver.fleet), a request's claims on the fleet's counters: a
    rule with ``times`` fires, and a preset is used, only on a claim the store granted, so
    ``times: 1`` fires once and a preset of ``count: 1`` is used once across every replica."""

    def won(self, name: str) -> bool:
        """Whether the store granted this request a claim on ``name``, not used yet."""

    def use(self, name: str) -> int:
        """Use the claim on ``name``; how many uses the counter has left after it."""


# The claims of the request being decided; None (memory): each replica counts ``fired``.
FLEET_CLAIMS: ContextVar[Claims | None] = ContextVar("avatar_mock_claims", default=None)


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
        # the last id a preset took: on a fleet the queue's record carries it (fleet.py), so
        # no replica, restart or replaced scenario gives a queued or used-up preset's id again
        self.last_preset_id = 0

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

    def decide(self, spot: Spot, body: dict[str, Any] | None) -> Decision | None:
        """The faults for this request, or None (the common, fast case)."""
        headers = spot.request.headers
        fault_header = headers.get(FAULT_HEADER)
        delay_header = headers.get(DELAY_HEADER)
        if not (self.rules or self.presets or fault_header or delay_header):
            return None
        decision = Decision()
        if delay_header:
            decision.delay = parse_delay_header(delay_header)
            decision.sources.append(f"header:{DELAY_HEADER}")
        if fault_header:
            self._add(decision, parse_fault_header(fault_header), f"header:{FAULT_HEADER}")
        if decision.effect is None:
            preset = self._take_preset(spot, body, want="effect")
            if preset is not None and preset.effect is not None:
                self._add(decision, preset.effect, f"preset:{preset.id}")
        if decision.effect is None:
            self._fire_rules(decision, spot, body)
        if decision.delay == 0.0 and decision.effect is None:
            return None
        decision.delay = min(decision.delay, MAX_DELAY)
        return decision

    def _fire_rules(self, decision: Decision, spot: Spot, body: dict[str, Any] | None) -> None:
        elapsed = spot.now - self.started_at
        claims = FLEET_CLAIMS.get()
        for rule in self.rules:
            if rule.times is not None and (
                rule.fired >= rule.times if claims is None else not claims.won(rule.claim)
            ):
                continue
            if not rule.in_window(elapsed) or not rule.match.matches(spot, body):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            if rule.times is not None and claims is not None:
                claims.use(rule.claim)
            rule.fired += 1
            self._add(decision, rule.effect, f"rule:{rule.name}")
            if decision.effect is not None:
                return

    def _add(self, decision: Decision, effect: Effect, source: str) -> None:
        if effect.stacks:
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
        preset = self._take_preset(Spot.of(ctx), ctx.body, want="outcome")
        if preset is not None:
            return Outcome(
                preset.outcome or "success", preset.failure, preset.state, f"preset:{preset.id}"
            )
        return None

    # --- presets ----------------------------------------------------------------------

    def add_preset(self, raw: dict[str, Any]) -> Preset:
        """Queue a preset (already checked against its schema); ChaosError for a number or
        phase the mock cannot use, and then nothing is queued."""
        preset = self.make_preset(raw, self.last_preset_id + 1)
        self.last_preset_id = preset.id
        self.presets.append(preset)
        return preset

    def make_preset(self, raw: dict[str, Any], preset_id: int) -> Preset:
        """The preset ``raw`` describes, under ``preset_id``, not queued (ChaosError as for
        ``add_preset``)."""
        effect = _effect(raw["effect"], "effect") if raw.get("effect") else None
        count = _number(raw, "count", "preset", 1, minimum=1, maximum=MAX_COUNT, integer=True)
        return Preset(
            id=preset_id,
            match=Match.parse(raw.get("match")),
            remaining=int(count),
            count=int(count),
            outcome=raw.get("outcome"),
            failure=raw.get("failure"),
            state=raw.get("state"),
            effect=effect,
            raw={k: v for k, v in raw.items() if k != "count"},
        )

    def _take_preset(self, spot: Spot, body: dict[str, Any] | None, want: str) -> Preset | None:
        claims = FLEET_CLAIMS.get()
        for preset in self.presets:
            has = preset.effect is not None if want == "effect" else preset.outcome is not None
            if has and claims is not None and preset.match.matches(spot, body):
                # on a fleet the store counts the uses: only on a granted claim; the last
                # one takes it off the queue (which the other replicas then read)
                if not claims.won(preset.claim):
                    continue
                preset.remaining = claims.use(preset.claim)
                if preset.remaining <= 0:
                    self.presets.remove(preset)
                return preset
            if has and preset.match.matches(spot, body):
                preset.remaining -= 1
                if preset.remaining <= 0:
                    self.presets.remove(preset)
                return preset
        return None


def lenient_json(raw: bytes) -> dict[str, Any] | None:
    """The body as an object for matching, or None; never raises."""
    try:
        value = loads(raw) if raw else None
    except JsonError:
        return None
    return value if isinstance(value, dict) else None


# --- the mock's own routes ---------------------------------------------------------------------

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answer = Callable[[ApiError], web.StreamResponse]


def storage_answer(err: ApiError) -> web.Response:
    """A refusal on a storage route, as S3's XML error document."""
    return web.Response(
        status=err.status,
        text=s3_error(str(err.code), err.message),
        content_type="application/xml",
        headers=err.headers,
    )


def chaos_route(
    operation: str, provider: str | None = None
) -> Callable[[RouteHandler], RouteHandler]:
    """Let chaos reach one of the mock's storage routes (uploads, downloads): the decorator's
    one line above the handler is all a route needs. Refusals speak S3's XML; rules match the
    route by its pseudo operationId ``operation`` (``mock:...``) or its path."""

    def wrap(handler: RouteHandler) -> RouteHandler:
        async def route(request: web.Request) -> web.StreamResponse:
            if not request.app[STATE_KEY].chaos.may_act(request.headers):
                return await handler(request)
            return await with_chaos(
                request,
                lambda: handler(request),
                operation=operation,
                provider=provider,
                dialect=STORAGE,
                answer=storage_answer,
            )

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route

    return wrap


async def with_chaos(
    request: web.Request,
    work: Callable[[], Awaitable[web.StreamResponse]],
    *,
    operation: str,
    provider: str | None,
    dialect: Dialect,
    answer: Answer,
) -> web.StreamResponse:
    """``work()``'s answer with whatever fault chaos decides for this request, outside the
    operation pipeline: the same rules, presets and headers, the effect acting before or
    after the work, a refusal written by ``answer`` in ``dialect``'s words."""
    state = request.app[STATE_KEY]
    spot = Spot(request, provider, operation, bearer_key(request) or "", state.clock.now())
    try:
        decision = state.chaos.decide(spot, None)
    except ChaosError as err:
        return answer(dialect.pipeline_error("invalid_params", str(err)))
    if decision is None:
        return await work()
    if decision.delay:
        await asyncio.sleep(decision.delay)
    effect = decision.effect
    if effect is None:
        return await work()
    try:
        if effect.before_work:
            instead = await effect.act(request, dialect)
            return instead if instead is not None else await work()
        response = await work()
        if response.status < 400:
            replaced = await effect.act(request, dialect)
            if replaced is not None:
                return replaced
    except ApiError as err:
        return answer(err)
    data = _body_of(response)
    if data is None:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return await effect.send(request, response.status, data, headers)


def _body_of(response: web.StreamResponse) -> bytes | None:
    """The bytes of an answer not yet sent, for an effect that spoils them."""
    if isinstance(response, web.FileResponse):
        path = getattr(response, "_path", None)  # aiohttp keeps the served file's path here
        return Path(path).read_bytes() if path is not None else None
    body = getattr(response, "body", None)
    return body if isinstance(body, bytes) else None
