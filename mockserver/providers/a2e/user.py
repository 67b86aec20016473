"""The account: ``user/remainingCoins``, ``user/exchangeDiamond``, ``user/add`` (catalog §12).

``remainingCoins`` -> ``data: {coins, diamonds}`` (§12.2) is read at the request's instant,
after every charge and every refund that has fallen due, so it always agrees with the task
endpoints (and ``transactionRecord/creditsHistory``) read at the same moment.

Choices where the catalog is silent, each [guess]:

- ``exchangeDiamond {diamonds}`` buys that many diamonds at ``costs.diamond_coins`` coins each
  (100 by default) and answers the new ``{coins, diamonds}``; too few coins is A2E's
  insufficient-coins refusal (``code 1002``, HTTP 200) and changes nothing.
- ``user/add {username, password?, email?}`` adds a sub-user of the caller and answers
  ``{_id, username, email, createdAt}`` (never the password); a username the caller already
  added is a 400.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.billing import COINS, DIAMONDS
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import USER
from mockserver.providers.a2e.models import iso_ms, number
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import newest_first, store_record

DEFAULT_DIAMOND_COINS = 100


def balances(ctx: RequestContext) -> dict[str, Any]:
    return {"coins": number(ctx.balance(COINS)), "diamonds": number(ctx.balance(DIAMONDS))}


@handles("getRemainingCoins")
async def get_remaining_coins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, balances(ctx))


@billing.quotes("user/exchangeDiamond")
def exchange_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    diamonds = body.get("diamonds")
    if not isinstance(diamonds, int) or isinstance(diamonds, bool) or diamonds < 1:
        raise bad_request("diamonds must be a whole number of at least 1")
    return {COINS: diamonds * billing.cost_of(ctx, "diamond_coins", DEFAULT_DIAMOND_COINS)}


@handles("exchangeDiamond")
async def exchange_diamond(ctx: RequestContext) -> dict[str, Any]:
    diamonds = ctx.body["diamonds"]
    coins = exchange_quote(ctx, ctx.body)[COINS]
    billing.pay(ctx, coins, "exchangeDiamond")
    ctx.tenant.apply(DIAMONDS, diamonds, ctx.now, "exchangeDiamond")
    return ok(ctx, balances(ctx))


@handles("addUser")
async def add_user(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    username = body["username"]
    if any(t.params["username"] == username for t in newest_first(ctx, USER)):
        raise bad_request(f"username {username} already exists")
    task = store_record(ctx, USER, {"username": username, "email": body.get("email", "")})
    return ok(
        ctx,
        {
            "_id": task.id,
            "username": username,
            "email": task.params["email"],
            "createdAt": iso_ms(task.created_at),
        },
    )
