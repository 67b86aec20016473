"""The account: ``user/remainingCoins`` -> ``data: {coins, diamonds}`` (catalog §12.2).

Read at the request's instant, after every charge and every refund that has fallen due, so it
always agrees with the task endpoints read at the same moment.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import provider
from mockserver.providers.a2e.billing import COINS, DIAMONDS
from mockserver.providers.a2e.common import number, ok


@provider.handles("getRemainingCoins")
async def get_remaining_coins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, {"coins": number(ctx.balance(COINS)), "diamonds": number(ctx.balance(DIAMONDS))})
