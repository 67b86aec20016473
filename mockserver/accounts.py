"""API keys, tenants and their balances (YouCam units, A2E coins and diamonds, relay quota).

Charges that depend on how a task ends are *scheduled* at submit for the moment the task ends,
with a rule that decides at that moment whether they apply. Balances are settled lazily when
read, so a balance is always consistent with what the task endpoints say at the same instant,
and no timer runs per task.

A balance someone sets (the control API, the pytest plugin) is read by :func:`read_balances`:
one NaN balance made every YouCam answer for that tenant a 500 and put ``NaN``, which is not
JSON, into the control API's answers.

What a tenant keeps is bounded: its balance history is a ring (``limits.history_per_tenant``)
whose entries keep their absolute position, the settlements of a task evicted by retention go
with it, and the number of tenants is capped (``limits.max_tenants``); a tenant no different
from a fresh one is forgotten once unused for a while (``mockserver.retention``).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import count, islice
from typing import Any

from mockserver.numbers import MAX_BALANCE, NumberError, read_number
from mockserver.tasks import Task

# The currencies a balance may be set in: the providers' own (scenario.schema.json `balances`).
CURRENCIES = ("units", "coins", "diamonds", "quota")


def read_balances(raw: Mapping[str, Any], field: str = "balances") -> dict[str, float]:
    """``raw`` as balances to set: known currencies, each a finite amount from 0 to MAX_BALANCE.

    NumberError names the bad entry (``balances.units``), so callers refuse in their own words.
    """
    out: dict[str, float] = {}
    for currency, value in raw.items():
        where = f"{field}.{currency}"
        if currency not in CURRENCIES:
            raise NumberError(where, f"is not a currency; give {', '.join(CURRENCIES)}")
        out[currency] = read_number(value, where, minimum=0, maximum=MAX_BALANCE)
    return out


# Decides, when a scheduled charge falls due, whether it applies.
ChargeRule = Callable[[Task, float], bool]


class Settlement:
    """A charge (negative) or refund (positive) that waits for its task to end."""

    __slots__ = ("amount", "currency", "done", "reason", "rule", "task")

    def __init__(
        self, task: Task, currency: str, amount: float, reason: str, rule: ChargeRule
    ) -> None:
        self.task = task
        self.currency = currency
        self.amount = amount
        self.reason = reason
        self.rule = rule
        self.done = False


HISTORY_KEPT = 1000  # balance changes kept per tenant unless the scenario says otherwise


class History:
    """A tenant's balance changes, oldest first; only the newest ``size`` are kept.

    Every entry keeps its absolute position (0 for the first change ever), so readers that
    remember how far they read (YouCam's unit ledger) or number rows by position (A2E's
    history ids) stay right after the oldest entries are dropped.
    """

    __slots__ = ("_entries", "start")

    def __init__(self, size: int = HISTORY_KEPT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(size, 1))
        self.start = 0  # absolute position of the oldest entry kept

    def append(self, entry: dict[str, Any]) -> None:
        if len(self._entries) == self._entries.maxlen:
            self.start += 1
        self._entries.append(entry)

    @property
    def end(self) -> int:
        """Absolute position the next entry will take (the number of changes ever made)."""
        return self.start + len(self._entries)

    def numbered(self, since: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(position, entry)`` for each entry kept at ``since`` or later, oldest first."""
        skip = max(since - self.start, 0)
        return enumerate(islice(self._entries, skip, None), self.start + skip)

    def last(self, n: int) -> list[dict[str, Any]]:
        return list(self._entries)[-n:] if n > 0 else []

    def resize(self, size: int) -> None:
        size = max(size, 1)
        if size != self._entries.maxlen:
            dropped = max(len(self._entries) - size, 0)
            self._entries = deque(islice(self._entries, dropped, None), maxlen=size)
            self.start += dropped

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class Tenant:
    """One API key's account: its balances, their history, and charges not yet settled."""

    key: str
    balances: dict[str, float]
    history: History = field(default_factory=History)
    touched_at: float | None = None  # mock time of the last request that used it
    _pending: list[tuple[float, int, Settlement]] = field(default_factory=list)
    _reserved: dict[str, float] = field(default_factory=dict)
    # A state backend's dirty tracking (mockserver.persist), told of every balance change and
    # settlement; None with the memory backend.
    watch: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    def _changed(self) -> None:
        if self.watch is not None:
            self.watch(self.key)

    def apply(
        self, currency: str, amount: float, at: float, reason: str, task_id: str | None = None
    ) -> None:
        """Change a balance now and record it in the history."""
        balance = self.balances.get(currency, 0.0) + amount
        self.balances[currency] = balance
        self.history.append(
            {
                "at": at,
                "currency": currency,
                "amount": amount,
                "balance": balance,
                "reason": reason,
                "task_id": task_id,
            }
        )
        self._changed()

    def set_balance(
        self, currency: str, value: float, at: float, seq: Callable[[], int], reason: str
    ) -> None:
        """Make the balance ``value`` now (after what has fallen due), recorded as one change."""
        current = self.balance(currency, at, seq)
        if value != current:
            self.apply(currency, value - current, at, reason)

    def schedule(self, settlement: Settlement, seq: Callable[[], int]) -> None:
        """Apply ``settlement`` when its task ends, if its rule still holds then."""
        heapq.heappush(self._pending, (settlement.task.timeline.ends_at, seq(), settlement))
        if settlement.amount < 0:
            self._reserved[settlement.currency] = (
                self._reserved.get(settlement.currency, 0.0) - settlement.amount
            )
        self._changed()

    def settle(self, now: float, seq: Callable[[], int]) -> None:
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, _, s = heapq.heappop(pending)
            if s.done:
                continue
            ends_at = s.task.timeline.ends_at
            if ends_at > now:  # the task was forced to end later: wait for it
                heapq.heappush(pending, (ends_at, seq(), s))
                continue
            s.done = True
            if s.amount < 0:
                self._reserved[s.currency] -= -s.amount
            if s.rule(s.task, ends_at):
                self.apply(s.currency, s.amount, ends_at, s.reason, s.task.id)
            else:
                self._changed()

    def pending(self) -> list[Settlement]:
        """The settlements still waiting for their tasks to end, in due order."""
        return [s for _, _, s in sorted(self._pending, key=lambda e: e[:2]) if not s.done]

    def has_pending(self) -> bool:
        return any(not s.done for _, _, s in self._pending)

    def refund_now(self, tasks: Collection[Task], at: float) -> None:
        """Apply the pending refunds of ``tasks`` at ``at``, whatever their rule would say at
        the task's end: a provider that documents a delete refunding a task not yet ended
        (A2E's ``initialized``). The history shows it as the refund its end would have
        made. Pending charges are left to :meth:`forget`."""
        for _, _, s in self._pending:
            if s.task in tasks and not s.done and s.amount > 0:
                s.done = True
                self.apply(s.currency, s.amount, at, s.reason, s.task.id)

    def forget(self, tasks: Collection[Task]) -> None:
        """Drop the pending settlements of ``tasks`` (evicted before they ended): they never
        apply, and what they held in reserve is released. The caller settles first, so what
        fell due before the eviction still applies."""
        if not self._pending:
            return
        kept = []
        for entry in self._pending:
            s = entry[2]
            if s.task in tasks and not s.done:
                s.done = True
                if s.amount < 0:
                    self._reserved[s.currency] -= -s.amount
            if not s.done:
                kept.append(entry)
        heapq.heapify(kept)
        self._pending = kept
        self._changed()

    def reschedule(self, task: Task, seq: Callable[[], int]) -> None:
        """A task's end moved (forced): its pending settlements fall due at the new end."""
        for _, _, s in list(self._pending):
            if s.task is task and not s.done:
                heapq.heappush(self._pending, (task.timeline.ends_at, seq(), s))
                self._changed()

    def balance(self, currency: str, now: float, seq: Callable[[], int]) -> float:
        self.settle(now, seq)
        return self.balances.get(currency, 0.0)

    def available(self, currency: str, now: float, seq: Callable[[], int]) -> float:
        """Balance less what running tasks will charge if they succeed."""
        return self.balance(currency, now, seq) - self._reserved.get(currency, 0.0)

    def describe(self, now: float, seq: Callable[[], int]) -> dict[str, Any]:
        self.settle(now, seq)
        return {
            "key": self.key,
            "balances": dict(self.balances),
            "reserved": {k: v for k, v in self._reserved.items() if v},
            "history": self.history.last(50),
        }


class UnknownKey(Exception):
    """The scenario lists its keys and this is not one of them."""


class TooManyTenants(Exception):
    """A new key would take the number of tenants past ``limits.max_tenants``."""


class Accounts:
    """Tenants by API key. By default any non-empty key is a tenant of its own."""

    def __init__(
        self,
        default_balances: dict[str, float],
        listed: dict[str, dict[str, float]] | None = None,
        only_listed: bool = False,
        *,
        max_tenants: int | None = None,
        history_size: int = HISTORY_KEPT,
    ) -> None:
        self.default_balances = dict(default_balances)
        self.listed = dict(listed or {})
        self.only_listed = only_listed
        self.max_tenants = max_tenants
        self.history_size = history_size
        self._tenants: dict[str, Tenant] = {}
        self._rounds: deque[str] = deque()  # keys in the order the idle sweep visits them
        self._seq = count()
        # A state backend's dirty tracking (mockserver.persist): told of every tenant made,
        # changed or forgotten. None with the memory backend.
        self.watch: Callable[[str], None] | None = None
        self.unwatch: Callable[[str], None] | None = None

    def bound(self, max_tenants: int | None, history_size: int) -> None:
        """New bounds from the scenario; histories shrink or grow to the new size."""
        self.max_tenants = max_tenants
        if history_size != self.history_size:
            self.history_size = history_size
            for tenant in self._tenants.values():
                tenant.history.resize(history_size)

    def reconfigure(
        self,
        default_balances: dict[str, float],
        listed: dict[str, dict[str, float]],
        only_listed: bool,
    ) -> None:
        """New defaults for tenants not seen yet; existing tenants keep their balances."""
        self.default_balances = dict(default_balances)
        self.listed = dict(listed)
        self.only_listed = only_listed

    def next_seq(self) -> int:
        return next(self._seq)

    def tenant(self, key: str, now: float | None = None) -> Tenant:
        """The key's tenant, made on first use; ``now`` marks it used (the idle sweep)."""
        t = self._tenants.get(key)
        if t is None:
            t = self._new(key, now)
        if now is not None:
            t.touched_at = now
        return t

    def fresh(self, key: str) -> Tenant:
        """The tenant ``key`` would be on its first request, not kept (a look, not a use)."""
        if self.only_listed and key not in self.listed:
            raise UnknownKey(key)
        return Tenant(key, self.fresh_balances(key), History(self.history_size))

    def fresh_balances(self, key: str) -> dict[str, float]:
        """What a new tenant of ``key`` starts with."""
        balances = {**self.default_balances, **self.listed.get(key, {})}
        return {k: float(v) for k, v in balances.items()}

    def _new(self, key: str, now: float | None) -> Tenant:
        if self.only_listed and key not in self.listed:
            raise UnknownKey(key)
        if self.max_tenants is not None and len(self._tenants) >= self.max_tenants:
            raise TooManyTenants(key)
        t = Tenant(key, self.fresh_balances(key), History(self.history_size), touched_at=now)
        self.keep(t)
        return t

    def keep(self, tenant: Tenant) -> None:
        """Hold ``tenant`` (a new one, or one a state backend restores)."""
        self._tenants[tenant.key] = tenant
        self._rounds.append(tenant.key)
        tenant.watch = self.watch
        if self.watch is not None:
            self.watch(tenant.key)

    def idle_candidates(self, budget: int) -> Iterator[Tenant]:
        """Up to ``budget`` tenants in turn, for the idle sweep; each goes to the back."""
        rounds = self._rounds
        for _ in range(min(budget, len(rounds))):
            key = rounds.popleft()
            tenant = self._tenants.get(key)
            if tenant is None:
                continue  # forgotten already
            rounds.append(key)
            yield tenant

    def adopt(self, tenant: Tenant) -> Tenant:
        """Keep ``tenant`` as made elsewhere (a snapshot's import), in place of any of its key;
        the scenario's key list and tenant cap do not apply to it."""
        if tenant.key not in self._tenants:
            self._rounds.append(tenant.key)
        self._tenants[tenant.key] = tenant
        return tenant

    def forget(self, key: str) -> None:
        """Drop a tenant; its key starts afresh next time (its place in the rounds lapses)."""
        if self._tenants.pop(key, None) is not None and self.unwatch is not None:
            self.unwatch(key)
        if len(self._rounds) > 2 * len(self._tenants) + 64:
            self._rounds = deque(dict.fromkeys(k for k in self._rounds if k in self._tenants))

    def __len__(self) -> int:
        return len(self._tenants)

    def known(self, key: str) -> bool:
        return key in self._tenants or key in self.listed or not self.only_listed

    def existing(self, key: str) -> Tenant | None:
        return self._tenants.get(key)

    def all(self) -> list[Tenant]:
        return list(self._tenants.values())

    def clear(self) -> None:
        self._tenants.clear()
        self._rounds.clear()
