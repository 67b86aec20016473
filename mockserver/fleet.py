"""Counted across the fleet: with a state backend (``--state sqlite:...``/``redis://...``) the
scenario's rate-limit windows are counted in the store, so N replicas behind a load balancer
let through what one would.

A replica reads the store before every request anyway (``persist.pull`` ->
``Backend.changes``); the request's windows are counted in that same read, so counting adds
no round trip. Before the read, :meth:`Fleet.counters` works out the operation the request is
routed to and who calls it (the provider's own ``authenticate``, on this replica's copy of the
state: a request it refuses is not counted, as with one replica) and names one counter per
rule. The pipeline's limit step then asks :class:`FleetWindows` (in place of the in-memory
windows) and refuses in the provider's own words, exactly as it does alone.

A second round trip is made only when the read changed what the count assumed: another
replica moved the clock (a window counted as open has closed by the fleet's clock) or its
changes make the caller someone else (a key it had just created). A request chaos refuses
before the work has been counted by then: on a fleet it uses up its window's share.

With memory none of this exists: no middleware, no hook, the same work per poll.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiohttp import web

from mockserver.backends import Count, CounterOp
from mockserver.context import RequestContext
from mockserver.ratelimit import FixedWindows

if TYPE_CHECKING:
    from mockserver.persist import Persistence
    from mockserver.registry import Provider
    from mockserver.scenario import RateLimitRule
    from mockserver.spec import Operation
    from mockserver.state import MockState

# What the store counted for the request being answered: counter key -> its count.
_COUNTED: ContextVar[dict[str, Count] | None] = ContextVar("avatar_mock_counted", default=None)

# The spec operation each route serves (a route serves one method of one operation).
Endpoints = dict[web.AbstractRoute, tuple["Provider", "Operation"]]


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
            count = counted.get(window_key(provider, rule, key, ip))
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
        state.windows = FleetWindows()

    def counters(self, request: web.Request, now: float) -> list[CounterOp]:
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

    async def pull(self, request: web.Request) -> dict[str, Count] | None:
        """Read what other replicas changed, counting ``request``'s windows in the same read;
        the counts by counter key (None: nothing to count)."""
        persist, clock = self.persist, self.state.clock
        now = clock.now()
        ops = self.counters(request, now)
        before = persist.position
        counts = await persist.pull(ops, now)
        if not ops:
            return None
        counted = {op.key: count for op, count in zip(ops, counts, strict=False)}
        if persist.position != before:  # the read moved the clock or the state: check again
            await self._recount(request, counted)
        return counted

    async def _recount(self, request: web.Request, counted: dict[str, Count]) -> None:
        """Count again what the read made stale: a window the fleet's clock has closed
        since, a subject the pulled changes made the caller."""
        now = self.state.clock.now()
        again: list[CounterOp] = []
        for op in self.counters(request, now):
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

    @staticmethod
    @contextmanager
    def counting(counted: dict[str, Count] | None) -> Iterator[None]:
        """Answer the request with ``counted`` (what :meth:`pull` gave)."""
        token = _COUNTED.set(counted)
        try:
            yield
        finally:
            _COUNTED.reset(token)
