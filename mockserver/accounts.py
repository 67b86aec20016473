"""API keys, tenants and their balances (YouCam units, A2E coins and diamonds, relay quota).

Charges that depend on how a task ends are *scheduled* at submit for the moment the task ends,
with a rule that decides at that moment whether they apply. Balances are settled lazily when
read, so a balance is always consistent with what the task endpoints say at the same instant,
and no timer runs per task.

A balance someone sets (the control API, the pytest plugin) is read by :func:`read_balances`:
one NaN balance made every YouCam answer for that tenant a 500 and put ``NaN``, which is not
JSON, into the control API's answers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import count
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


@dataclass
class Tenant:
    key: str
    balances: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    _pending: list[tuple[float, int, Settlement]] = field(default_factory=list)
    _reserved: dict[str, float] = field(default_factory=dict)

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

    def reschedule(self, task: Task, seq: Callable[[], int]) -> None:
        """A task's end moved (forced): its pending settlements fall due at the new end."""
        for _, _, s in list(self._pending):
            if s.task is task and not s.done:
                heapq.heappush(self._pending, (task.timeline.ends_at, seq(), s))

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
            "history": self.history[-50:],
        }


class UnknownKey(Exception):
    """The scenario lists its keys and this is not one of them."""


class Accounts:
    """Tenants by API key. By default any non-empty key is a tenant of its own."""

    def __init__(
        self,
        default_balances: dict[str, float],
        listed: dict[str, dict[str, float]] | None = None,
        only_listed: bool = False,
    ) -> None:
        self.default_balances = dict(default_balances)
        self.listed = dict(listed or {})
        self.only_listed = only_listed
        self._tenants: dict[str, Tenant] = {}
        self._seq = count()

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

    def tenant(self, key: str) -> Tenant:
        t = self._tenants.get(key)
        if t is None:
            t = self._tenants[key] = self.fresh(key)
        return t

    def fresh(self, key: str) -> Tenant:
        """The tenant ``key`` would be on its first request, not kept (a look, not a use)."""
        if key in self.listed:
            balances = {**self.default_balances, **self.listed[key]}
        elif self.only_listed:
            raise UnknownKey(key)
        else:
            balances = dict(self.default_balances)
        return Tenant(key, {k: float(v) for k, v in balances.items()})

    def known(self, key: str) -> bool:
        return key in self._tenants or key in self.listed or not self.only_listed

    def existing(self, key: str) -> Tenant | None:
        return self._tenants.get(key)

    def all(self) -> list[Tenant]:
        return list(self._tenants.values())

    def clear(self) -> None:
        self._tenants.clear()
