"""Counted across the fleet: with a state backend (``--state sqlite:...``/``redis://...``) the
scenario's rate-limit windows and the chaos rules' ``times`` are counted in the store, so N
replicas behind a load balancer let through what one would and a ``times: 1`` rule fires once.

A replica reads the store before every request anyway (``persist.pull`` ->
``Backend.changes``); the request's counters are counted in that same read, so counting adds
no round trip. Before the read, :meth:`Fleet.windows` works out the operation the request is
routed to and who calls it (the provider's own ``authenticate``, on this replica's copy of the
state: a request it refuses is not counted, as with one replica) and names one counter per
rule. The pipeline's limit step then asks :class:`FleetWindows` (in place of the in-memory
windows) and refuses in the provider's own words, exactly as it does alone.

A second round trip is made only when the read changed what the count assumed: another
replica moved the clock (a window counted as open has closed by the fleet's clock) or its
changes make the caller someone else (a key it had just created). A request chaos refuses
before the work has been counted by then: on a fleet it uses up its window's share.

A chaos rule with ``times`` is claimed in the same read by every request it may match (what
can be told before the body is read: provider, operation, path, method, header, tenant, the
``during`` window); the rule fires only on a claim the store granted (``chaos.FLEET_CLAIMS``),
and a claim not used is given back before the answer leaves. The seed still decides, per
replica, as it does alone (``probability`` draws from the replica's own generator). A
one-shot preset is the same: its uses are claims on its counter, and the queue itself is a
kept store (:class:`PresetQueue`) that every replica reads. The journal the fleet shares is
:mod:`mockserver.fleetjournal`'s.

With memory none of this exists: no middleware, no hook, the same work per poll.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mockserver.admin import PREFIX
from mockserver.auth import bearer_key
from mockserver.backends import Count, CounterOp
from mockserver.chaos import FLEET_CLAIMS, Match, Preset, Spot
from mockserver.context import RequestContext
from mockserver.fleetjournal import FleetJournal
from mockserver.ratelimit import FixedWindows
from mockserver.stores import Store

if TYPE_CHECKING:
    from mockserver.persist import Persistence
    from mockserver.registry import Provider
    from mockserver.scenario import RateLimitRule, Scenario
    from mockserver.spec import Operation
    from mockserver.state import MockState


@dataclass(slots=True)
class Counted:
    """What the store counted for one request: its windows (counter key -> count) and its
    claims on the chaos rules' ``times`` and the presets' counts, the ones used so far."""

    windows: dict[str, Count]
    claims: dict[str, Claim] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    journal: list[dict[str, Any]] | None = None  # GET /__mock/journal: the fleet's entries

    def won(self, name: str) -> bool:
        claim = self.claims.get(name)
        return claim is not None and claim.granted and name not in self.used

    def use(self, name: str) -> int:
        self.used.add(name)
        return self.claims[name].left

    def unused(self) -> list[str]:
        """Claims to give back: granted and not used, or refused (each was counted)."""
        return [name for name in self.claims if name not in self.used]


@dataclass(frozen=True, slots=True)
class Claim:
    granted: bool  # the count is within the rule's times (the preset's count)
    left: int  # uses left after this one


log = logging.getLogger("avatar_mock")

# What the store counted for the request being answered.
_COUNTED: ContextVar[Counted | None] = ContextVar("avatar_mock_counted", default=None)

# The spec operation each route serves (a route serves one method of one operation).
Endpoints = dict[web.AbstractRoute, tuple["Provider", "Operation"]]
JOURNAL = PREFIX + "/journal"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def times_key(claim: str) -> str:
    """The store's counter of a rule's firings (``times``) or a preset's uses, and of the
    claims on them held by requests under way."""
    return f"chaos:{claim}"


def window_key(provider: str, rule: RateLimitRule, key: str, ip: str) -> str:
    """The store's counter for one rule's window: the subject ``FixedWindows`` keeps."""
    who = key if rule.per == "key" else ip
    return f"rl:{provider}:{rule.per}:{rule.limit.window!r}:{who}"


class FleetWindows(FixedWindows):
    """The scenario's windows as the store counted them for this request.

    A window the read did not count (the request's caller changed while it was answered)
    is counted by this replica alone, as ``FixedWindows`` would: never a refusal the store
    did not make, never an error."""

    def admit(
        self, rules: Iterable[RateLimitRule], provider: str, key: str, ip: str, now: float
    ) -> float | None:
        counted = _COUNTED.get()
        if counted is None:
            return super().admit(rules, provider, key, ip, now)
        for rule in rules:
            count = counted.windows.get(window_key(provider, rule, key, ip))
            if count is None:
                return super().admit(rules, provider, key, ip, now)
            if not count.admitted:
                return count.retry_after(now)
        return None


class Fleet:
    """One replica's share in the fleet's counters: which to count before each request, and
    the counts the request is answered with."""

    def __init__(self, state: MockState, persist: Persistence, endpoints: Endpoints) -> None:
        self.state = state
        self.persist = persist
        self.endpoints = endpoints
        self._scenario: Scenario | None = None
        self._limited: dict[str, bool] = {}
        state.windows = FleetWindows()
        self.journal = state.journal = FleetJournal(state.scenario.journal_size, persist)
        PresetQueue.of(state).state = state

    def limited(self, request: web.Request) -> bool:
        """Whether ``request`` goes to an operation whose provider has rate limits (worked
        out once per provider under each scenario: it is asked on every request)."""
        found = self.endpoints.get(request.match_info.route)
        if found is None:
            return False
        scenario = self.state.scenario
        if scenario is not self._scenario:
            self._scenario, self._limited = scenario, {}
        name = found[0].name
        limited = self._limited.get(name)
        if limited is None:
            limited = self._limited[name] = bool(scenario.providers[name].rate_limits)
        return limited

    def counted_chaos(self, request: web.Request) -> bool:
        """Whether chaos has counters ``request`` may touch: rules with ``times``, presets.
        Then the request is answered with its claims, none or some: a rule or preset it did
        not claim does not fire (never more than the fleet's count)."""
        chaos = self.state.chaos
        return bool(
            (chaos.presets or any(rule.times is not None for rule in chaos.rules))
            and not request.path.startswith(PREFIX)  # the control plane takes no chaos
        )

    def windows(self, request: web.Request, now: float) -> list[CounterOp]:
        """The windows ``request`` is counted in, one per rule of its provider, in order;
        none when no rule applies or the provider refuses the caller."""
        found = self.endpoints.get(request.match_info.route)
        if found is None:
            return []
        provider, op = found
        state = self.state
        rules = state.scenario.providers[provider.name].rate_limits
        if not rules:
            return []
        # ids given, so a refusal drawn here takes nothing from the seeded id streams
        ctx = RequestContext(request, state, provider, op, now, request_id="", trace_id="")
        try:
            key = provider.authenticate(ctx)
        except Exception:  # refused (or a defect) before the limit: the pipeline answers it
            return []
        ip = ctx.client_ip
        return [
            CounterOp(
                window_key(provider.name, rule, key, ip),
                window=rule.limit.window,
                limit=rule.limit.limit,
            )
            for rule in rules
        ]

    def claims(self, request: web.Request, now: float) -> list[tuple[str, int]]:
        """The counters (name, limit) of the chaos rules with ``times`` and the presets that
        may apply to ``request``: what can be told before the body is read (one that then
        does not apply gives its claim back)."""
        chaos = self.state.chaos
        found = self.endpoints.get(request.match_info.route)
        spot = None
        if found is not None:
            provider, op = found
            spot = Spot(request, provider.name, op.operation_id, bearer_key(request) or "", now)

        def may(match: Match) -> bool:
            return spot is None or match.matches(spot, None)

        elapsed = now - chaos.started_at
        out = [
            (rule.claim, rule.times)
            for rule in chaos.rules
            if rule.times is not None
            and rule.in_window(elapsed)
            and may(dataclasses.replace(rule.match, body=()))
        ]
        # an outcome preset is taken for the caller's tenant, which a token names only once
        # the request is authenticated: the tenant is not told here
        out += [
            (preset.claim, preset.count)
            for preset in chaos.presets
            if may(dataclasses.replace(preset.match, body=(), tenant=None))
        ]
        return out

    async def pull(self, request: web.Request) -> Counted | None:
        """Read what other replicas changed, counting ``request``'s windows and claims in the
        same read (None: nothing to count)."""
        persist = self.persist
        limited, counted_chaos = self.limited(request), self.counted_chaos(request)
        if not limited and not counted_chaos:  # the common case: nothing counted
            await persist.pull()
            if request.path == JOURNAL and request.method == "GET":
                await self.journal.drain()  # this replica's own entries, up to now
                return Counted({}, journal=await self.journal.read())
            return None
        now = self.state.clock.now()
        windows = self.windows(request, now) if limited else []
        rules = self.claims(request, now) if counted_chaos else []
        claims = [CounterOp(times_key(name)) for name, _ in rules]  # never refused: first
        before = persist.position
        counts = await persist.pull(claims + windows, now)
        granted = counts[: len(claims)]
        counted = Counted(
            {op.key: count for op, count in zip(windows, counts[len(claims) :], strict=False)},
            {
                name: Claim(count.value <= limit, limit - count.value)
                for (name, limit), count in zip(rules, granted, strict=True)
            },
        )
        if persist.position != before:  # the read moved the clock or the state: again
            if limited:
                await self._recount(request, counted.windows)
            if counted_chaos:
                await self._claim_more(request, counted)
        return counted

    async def _claim_more(self, request: web.Request, counted: Counted) -> None:
        """Claim what the clock the read brought makes possible (a ``during`` window that
        opened since)."""
        now = self.state.clock.now()
        more = [(n, limit) for n, limit in self.claims(request, now) if n not in counted.claims]
        backend = self.persist.backend
        if not more or backend is None:
            return
        ops = [CounterOp(times_key(name)) for name, _ in more]
        got = await backend.poll((), now=now, counters=ops)
        for (name, limit), count in zip(more, got.counts, strict=True):
            counted.claims[name] = Claim(count.value <= limit, limit - count.value)

    async def _recount(self, request: web.Request, counted: dict[str, Count]) -> None:
        """Count again what the read made stale: a window the fleet's clock has closed
        since, a subject the pulled changes made the caller."""
        now = self.state.clock.now()
        again: list[CounterOp] = []
        for op in self.windows(request, now):
            count = counted.get(op.key)
            if count is None or count.resets_at <= now:
                again.append(op)
            elif not count.admitted:
                break
        backend = self.persist.backend
        if not again or backend is None:
            return
        got = await backend.poll((), now=now, counters=again)
        counted.update((op.key, count) for op, count in zip(again, got.counts, strict=False))

    async def answer(
        self, request: web.Request, handler: Handler, counted: Counted | None
    ) -> web.StreamResponse:
        """``handler``'s answer to ``request`` with what :meth:`pull` ``counted`` (the same
        counts for every attempt at it: see mockserver.cas); :meth:`settled` ends it."""
        journal = self.journal
        if counted is None:
            return await handler(request)
        # Each attempt starts with every granted claim unused: only the last one is answered,
        # so a fault a lost attempt used fires again in the rerun the client gets.
        counted.used.clear()
        token, claims = _COUNTED.set(counted), FLEET_CLAIMS.set(counted)
        read = None if counted.journal is None else journal.reading(counted.journal)
        try:
            return await handler(request)
        finally:
            _COUNTED.reset(token)
            FLEET_CLAIMS.reset(claims)
            if read is not None:
                journal.done(read)

    async def settled(self, counted: Counted | None, held: list[tuple[Any, ...]]) -> None:
        """The request's last attempt is answered: its journal entries (``held``) go in,
        once (in a batch; a clear at once), and the claims it did not use are given back
        before the answer leaves (another replica may fire them: a round trip only then, and
        only while chaos rules have ``times``)."""
        journal = self.journal
        for entry in held:
            journal.add(entry)
        if journal.clear_waits:  # a clear is in the store before its answer: a GET through
            await journal.drain()  # any replica after the DELETE's 200 shows nothing older
        else:
            journal.schedule()
        if counted is None:
            return
        unused = counted.unused()
        backend = self.persist.backend
        if unused and backend is not None:
            refunds = [CounterOp(times_key(rule), by=-1) for rule in unused]
            try:
                await backend.poll((), now=self.state.clock.now(), counters=refunds)
            except Exception:  # the answer stands; the claim stays spent
                log.exception("state: cannot give chaos claims back to %s", self.persist.url)


class PresetQueue(Store):
    """The queued presets, kept in the state store so that every replica reads the queue
    ``POST /__mock/presets`` filled through any one of them (their uses are the fleet's
    counters, see :class:`Fleet`). Written when the queue changed: a preset added, cleared,
    or used up here."""

    state: MockState | None = None

    def __init__(self) -> None:
        self._written: tuple[tuple[int, int], ...] = ()

    def _presets(self) -> list[Preset]:
        return self.state.chaos.presets if self.state is not None else []

    @property  # type: ignore[override]
    def dirty(self) -> bool:
        presets = self._presets()
        if not presets and not self._written:  # asked before every answer: the common case
            return False
        return tuple((p.id, p.remaining) for p in presets) != self._written

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if not value:
            self._written = tuple((p.id, p.remaining) for p in self._presets())

    def dump(self) -> Any:
        chaos = self.state.chaos if self.state is not None else None
        return {
            # the fleet's last preset id: a preset used up leaves the queue, not its counter
            # (``chaos:preset:{id}``), which a new preset under its id would find spent
            "last_id": chaos.last_preset_id if chaos is not None else 0,
            "presets": [
                {"id": p.id, "count": p.count, "remaining": p.remaining, "raw": p.raw}
                for p in self._presets()
            ],
        }

    def load(self, data: Any) -> None:
        if self.state is None:
            return
        chaos = self.state.chaos
        if isinstance(data, list):  # written before the queue carried its last id
            data = {"presets": data}
        presets = []
        for item in data["presets"]:
            preset = chaos.make_preset({**item["raw"], "count": item["count"]}, item["id"])
            preset.remaining = item["remaining"]
            presets.append(preset)
        chaos.presets[:] = presets  # in place: a replaced scenario carries this list over
        last = data.get("last_id", 0)
        chaos.last_preset_id = max([chaos.last_preset_id, last, *(p.id for p in presets)])
        self.dirty = False

    def clear(self) -> None:
        self._written = ()

    def __len__(self) -> int:
        return len(self._presets())
