"""A2E coins: checked and charged at submit, refunded when the task fails.

The charge is applied at once, so ``user/remainingCoins`` drops the moment a task is accepted;
the refund is a settlement that falls due when the task's timeline ends and applies only if it
ended in failure (and the record was not deleted first; a delete its family's rule refunds
applies it at once, tasks.delete_by_rule). Balances settle lazily on read, so
``remainingCoins`` always agrees with what the task endpoints say at the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.accounts import Settlement
from mockserver.context import RequestContext
from mockserver.families import PriceRule
from mockserver.providers.a2e.dialect import insufficient_coins
from mockserver.providers.a2e.models import TaskRecord
from mockserver.tasks import Task

COINS = "coins"
DIAMONDS = "diamonds"

# What a request to an endpoint would cost, for ``generation/quote``: each family registers
# its quote rule beside its declaration, so the quote and the charge share one rule. (A
# FamilySpec's PriceRule is one currency of it, a Cost: see charge_rule.)
Quote = dict[str, float]  # {"coins": .., "diamonds": ..}: what one request costs, per currency
QuoteRule = Callable[[RequestContext, dict[str, Any]], Quote]
QUOTE_RULES: dict[str, QuoteRule] = {}


def quotes(endpoint: str) -> Callable[[QuoteRule], QuoteRule]:
    """Register how ``endpoint`` (``video/generate``, relative to ``/api/v1/``) is quoted."""

    def register(fn: QuoteRule) -> QuoteRule:
        QUOTE_RULES[endpoint] = fn
        return fn

    return register


def charge_rule(quote_rule: QuoteRule, currency: str = COINS) -> PriceRule:
    """A FamilySpec's price rule: the ``currency`` part of the quote (0 when it has none)."""
    return lambda ctx, body: quote_rule(ctx, dict(body)).get(currency, 0)


def cost_of(ctx: RequestContext, name: str, default: float = 0) -> float:
    """A cost from the scenario's ``providers.a2e.costs``."""
    return float(ctx.config.costs.get(name, default))


def require(ctx: RequestContext, amount: float, currency: str = COINS) -> None:
    """Refuse (A2E's insufficient-coins answer) unless the caller can pay ``amount`` now."""
    accounts = ctx.state.accounts
    available = ctx.tenant.available(currency, ctx.now, accounts.next_seq)
    if available < amount:
        raise insufficient_coins(amount, available, currency)


def refund_on_failure(task: Task, ended_at: float) -> bool:
    """A failed task gives its coins back. (A record deleted before its task ended lapses
    its refund, or gets it at once where its family's delete rule refunds that state:
    tasks.delete_by_rule.) Module-level, so a state backend and a snapshot carry the rule
    by its name."""
    return not task.timeline.succeeded


def charge(
    ctx: RequestContext, task: Task, record: TaskRecord, reason: str, currency: str = COINS
) -> None:
    """Take the record's amount now for ``task``; schedule its refund should the task fail."""
    amount = record.amount
    if amount <= 0:
        return
    tenant = ctx.tenant
    accounts = ctx.state.accounts
    tenant.apply(currency, -amount, ctx.now, reason, task.id)
    tenant.schedule(
        Settlement(task, currency, amount, f"{reason} refund", refund_on_failure),
        accounts.next_seq,
    )


def pay(ctx: RequestContext, amount: float, reason: str, currency: str = COINS) -> None:
    """Check and take ``amount`` at once, for a call with no task to refund against."""
    if amount <= 0:
        return
    require(ctx, amount, currency)
    ctx.tenant.apply(currency, -amount, ctx.now, reason)
