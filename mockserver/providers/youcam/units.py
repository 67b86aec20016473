"""YouCam units: expiring lots, the credit and history endpoints, and the feature-cost list.

The core tenant keeps one ``units`` balance, charged by the task machinery when a task ends
(success only; a task lost to the polling window too when the scenario says so). Here that
total is broken into lots with a type and an expiry, the way ``GET /s2s/v1.0/client/credit``
shows them: every change to the core balance is replayed onto the lots, spending the units
nearest expiry first, then the earliest obtained [DOC S12], and a lot that expires takes its
remaining units off the core balance too, so ``/__mock/tenants/{key}`` and the credit API
always agree. Lot and history ids are integers beyond JavaScript's safe range, as the real
ones are (the docs recommend json-bigint).

How a tenant's starting units are split is ``settings.unit_lots`` [GUESS: 30 % subscription
units for 30 days, 70 % pay-as-you-go units for a year].
"""

from __future__ import annotations

from typing import Any

from mockserver.accounts import Tenant
from mockserver.context import RequestContext
from mockserver.providers.youcam.features import features, skus
from mockserver.providers.youcam.models import Ledger, Lot
from mockserver.providers.youcam.routes import handles
from mockserver.providers.youcam.stores import UnitStore
from mockserver.providers.youcam.templates import page

UNITS = "units"
EXPIRE_REASON = "youcam:lot expired"
DAY = 86400.0
DEFAULT_LOTS: tuple[dict[str, Any], ...] = (
    {"type": "ApiSubsToken", "share": 0.3, "expires_in": 30 * DAY},
    {"type": "ApiPaygToken", "share": 0.7, "expires_in": 365 * DAY},
)
GRANT_ACTIONS = {"ApiSubsToken": "subscription_credits", "ApiPaygToken": "permanent_credits"}
ADMIN_ACTION = "compensation_from_customer_service"  # [GUESS] what a balance set looks like


def _big_id(ctx: RequestContext) -> int:
    return ctx.state.id_rng("youcam-units").randrange(10**16, 9 * 10**16)


def _credit(lot_id: int, amount: float) -> dict[str, Any]:
    return {"id": lot_id, "amount": int(amount), "amount_dec": round(amount, 2)}


def _entry(
    ctx: RequestContext,
    at: float,
    action: str,
    target: str,
    credits: list[dict[str, Any]],
    dst_actions: list[str] | None = None,
) -> dict[str, Any]:
    info: dict[str, Any] = {"credits": credits}
    if dst_actions:
        info["dst_actions"] = list(dst_actions)
    return {
        "id": _big_id(ctx),
        "timestamp": int(at * 1000),
        "action": action,
        "target_id": target,
        "info": info,
    }


def _new_ledger(ctx: RequestContext, tenant: Tenant) -> Ledger:
    replayable = sum(
        h["amount"]
        for h in tenant.history
        if h["currency"] == UNITS and h["reason"] != EXPIRE_REASON
    )
    initial = tenant.balances.get(UNITS, 0.0) - replayable
    specs = ctx.settings.get("unit_lots") or DEFAULT_LOTS
    total_share = sum(float(s.get("share", 1)) for s in specs) or 1.0
    ledger = Ledger(lots=[])
    left = initial
    for i, spec in enumerate(specs):
        amount = (
            left
            if i == len(specs) - 1
            else round(initial * float(spec.get("share", 1)) / total_share, 2)
        )
        left -= amount
        lot = Lot(
            id=_big_id(ctx),
            type=spec.get("type", "ApiPaygToken"),
            amount=amount,
            expiry=ctx.now + float(spec.get("expires_in", 365 * DAY)),
            granted_at=ctx.now,
        )
        ledger.lots.append(lot)
        order = str(ctx.state.id_rng("youcam-units").randrange(10**11, 10**12))
        action = GRANT_ACTIONS.get(lot.type, "permanent_credits")
        ledger.history.append(_entry(ctx, ctx.now, action, order, [_credit(lot.id, amount)]))
    return ledger


def _spend(ledger: Ledger, amount: float, at: float) -> list[dict[str, Any]]:
    """Take ``amount`` from the lots nearest expiry first, then the earliest obtained."""
    credits = []
    live = sorted(
        (lot for lot in ledger.lots if not lot.expired and lot.amount > 0),
        key=lambda lot: (lot.expiry, lot.granted_at, lot.id),
    )
    for lot in live:
        if amount <= 1e-9:
            break
        take = min(lot.amount, amount)
        lot.amount -= take
        amount -= take
        credits.append(_credit(lot.id, -take))
    if amount > 1e-9:  # more than the lots hold (a balance set below zero): the last lot owes it
        lot = max(ledger.lots, key=lambda lot: lot.expiry)
        lot.amount -= amount
        credits.append(_credit(lot.id, -amount))
    return credits


def _expire(ctx: RequestContext, ledger: Ledger, tenant: Tenant, until: float) -> None:
    for lot in ledger.lots:
        if lot.expired or lot.expiry > until:
            continue
        lot.expired = True
        if lot.amount > 0:
            gone, lot.amount = lot.amount, 0.0
            tenant.apply(UNITS, -gone, lot.expiry, EXPIRE_REASON)
            ledger.history.append(
                _entry(ctx, lot.expiry, "expire", str(lot.id), [_credit(lot.id, -gone)])
            )


def sync(ctx: RequestContext) -> Ledger:
    """The tenant's lots, with every settled charge and every due expiry applied."""
    tenant = ctx.tenant
    tenant.balance(UNITS, ctx.now, ctx.state.accounts.next_seq)  # settle what has fallen due
    units = UnitStore.of(ctx.state)
    ledger = units.ledgers.get(tenant.key)
    if ledger is None:
        ledger = units.ledgers[tenant.key] = _new_ledger(ctx, tenant)
        units.note(tenant.key)
    before = _mark(ledger)
    history = tenant.history
    lost = history.start > ledger.seen  # the ring dropped changes before they were replayed
    for _, change in list(history.numbered(ledger.seen)):  # _expire appends to it
        if change["currency"] != UNITS or change["reason"] == EXPIRE_REASON:
            continue
        at, amount, task_id = change["at"], change["amount"], change.get("task_id")
        _expire(ctx, ledger, tenant, at)
        action = change["reason"] if task_id else ADMIN_ACTION
        if amount < 0:
            credits = _spend(ledger, -amount, at)
        else:
            lot = Lot(_big_id(ctx), "ApiPaygToken", amount, at + 365 * DAY, at)
            ledger.lots.append(lot)
            credits = [_credit(lot.id, amount)]
        task = ctx.state.store.get_any("youcam", task_id) if task_id else None
        dst = task.params.get("dst_actions") if task is not None else None
        target = task_id or str(_big_id(ctx))
        ledger.history.append(_entry(ctx, at, action, target, credits, dst))
    _expire(ctx, ledger, tenant, ctx.now)
    if lost:
        _reconcile(ctx, ledger, tenant)
    ledger.seen = history.end
    if _mark(ledger) != before:
        units.note(tenant.key)
    return ledger


def _mark(ledger: Ledger) -> tuple[int, int, int]:
    """What ``sync`` moves when it changes a ledger: how far it replayed, the newest history
    entry's id, how many lots expired (a read that moved none writes nothing)."""
    newest = ledger.history[-1]["id"] if ledger.history else 0
    return ledger.seen, newest, sum(lot.expired for lot in ledger.lots)


def _reconcile(ctx: RequestContext, ledger: Ledger, tenant: Tenant) -> None:
    """The lots add up to the balance again, after changes the ring dropped unreplayed."""
    live = sum(lot.amount for lot in ledger.lots if not lot.expired)
    drift = tenant.balances.get(UNITS, 0.0) - live
    if abs(drift) < 1e-9:
        return
    if drift < 0:
        credits = _spend(ledger, -drift, ctx.now)
    else:
        lot = Lot(_big_id(ctx), "ApiPaygToken", drift, ctx.now + 365 * DAY, ctx.now)
        ledger.lots.append(lot)
        credits = [_credit(lot.id, drift)]
    ledger.history.append(_entry(ctx, ctx.now, ADMIN_ACTION, str(_big_id(ctx)), credits))


@handles("getCredit")
async def get_credit(ctx: RequestContext) -> dict[str, Any]:
    ledger = sync(ctx)
    lots = sorted(
        (lot for lot in ledger.lots if not lot.expired and lot.amount > 0.005),
        key=lambda lot: (lot.expiry, lot.granted_at),
    )
    results = [
        {
            "id": lot.id,
            "type": lot.type,
            "amount": int(lot.amount),
            "amount_dec": round(lot.amount, 2),
            "expiry": int(lot.expiry * 1000),
        }
        for lot in lots
    ]
    return {"status": 200, "results": results}


@handles("getCreditHistory")
async def get_credit_history(ctx: RequestContext) -> dict[str, Any]:
    ledger = sync(ctx)
    chunk, next_token = page(list(reversed(ledger.history)), ctx)
    return {"status": 200, "result": {"next_token": next_token, "history": chunk}}


@handles("getFeatureCost")
async def get_feature_cost(ctx: RequestContext) -> dict[str, Any]:
    lines = []
    for feature in features():
        override = ctx.config.costs.get(feature.key)
        for sku in skus(feature, float(override) if override else None):
            lines.append({**sku, "run_task_url": ctx.origin + feature.run_path})
    chunk, next_token = page(lines, ctx)
    return {"status": 200, "result": {"next_token": next_token, "skus": chunk}}
