"""Accounting: ``transactionRecord/creditsHistory`` and ``generation/quote`` (catalog §13, K1).

``creditsHistory`` lists every change to the caller's coins and diamonds, newest first, in
pagination style A (``pageNum``/``pageSize`` -> ``{rows, count}``): positive amounts are grants
and refunds, negative ones consumption (K1). It is settled at the request's instant, so it
agrees with ``remainingCoins`` and with the task endpoints read at the same moment: a row's
``balance`` is the balance right after it, and the newest row's is ``remainingCoins``.

``generation/quote {endpoint, requestBody}`` prices a request with the same rule the endpoint
charges by (each family registers it with ``billing.quotes``) and charges nothing (K1).

Choices where the catalog is silent, each [guess]:

- a history row is ``{_id, currency, amount, balance, reason, task_id, createdAt}``; ``reason``
  names the endpoint family (``video``, ``image2video refund``, ``exchangeDiamond``...);
  ``_id`` is stable for the row; the tenant's opening balance is not a row.
- ``is_consumption`` ``true``/``1`` keeps the negative rows, ``false``/``0`` the positive ones;
  ``startDate``/``endDate`` are ``YYYY-MM-DD`` (whole UTC days, both inclusive) or ISO-8601
  instants; anything else is a 400.
- ``endpoint`` may be written ``video/generate``, ``/video/generate`` or
  ``/api/v1/video/generate``; one the mock does not price is a 400; the answer is
  ``{endpoint, coins, diamonds}``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.models import iso_ms, number
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import DEFAULT_PAGE_SIZE

CURRENCIES = (billing.COINS, billing.DIAMONDS)
API_PREFIX = "/api/v1/"


def _instant(raw: str, name: str, end: bool) -> float:
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
            return (day + timedelta(days=1)).timestamp() - 0.001 if end else day.timestamp()
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    except ValueError as exc:
        raise bad_request(f"{name} must be YYYY-MM-DD or an ISO-8601 instant") from exc


def _row_id(key: str, index: int) -> str:
    return hashlib.sha256(f"a2e-credit:{key}:{index}".encode()).hexdigest()[:24]


@handles("getApiV1TransactionRecordCreditsHistory")
async def list_credits_history(ctx: RequestContext) -> dict[str, Any]:
    params = ctx.params
    ctx.balance(billing.COINS)  # settle every refund due by now
    tenant = ctx.tenant
    start = _instant(params["startDate"], "startDate", False) if "startDate" in params else None
    end = _instant(params["endDate"], "endDate", True) if "endDate" in params else None
    consumption = params.get("is_consumption")
    entries = [
        (entry, index)
        for index, entry in tenant.history.numbered()
        if entry["currency"] in CURRENCIES
        and (start is None or round(entry["at"], 3) >= start)  # as createdAt shows it
        and (end is None or round(entry["at"], 3) <= end)
        and (consumption is None or (entry["amount"] < 0) == (consumption in ("true", "1")))
    ]
    entries.sort(key=lambda pair: (pair[0]["at"], pair[1]), reverse=True)
    page = params.get("pageNum", 1)
    size = params.get("pageSize", DEFAULT_PAGE_SIZE)
    rows = [
        {
            "_id": _row_id(ctx.key, index),
            "currency": entry["currency"],
            "amount": number(entry["amount"]),
            "balance": number(entry["balance"]),
            "reason": entry["reason"],
            "task_id": entry["task_id"],
            "createdAt": iso_ms(entry["at"]),
        }
        for entry, index in entries[(page - 1) * size : page * size]
    ]
    return ok(ctx, {"rows": rows, "count": len(entries)})


@handles("postApiV1GenerationQuote")
async def quote_generation(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    endpoint = body["endpoint"].strip()
    if endpoint[:5].upper() == "POST ":  # "A leading `POST ` is accepted but optional." [doc]
        endpoint = endpoint[5:].strip()
    if endpoint.startswith(API_PREFIX):
        endpoint = endpoint[len(API_PREFIX) :]
    endpoint = endpoint.lstrip("/")
    quote_rule = billing.QUOTE_RULES.get(endpoint)
    if quote_rule is None:
        raise bad_request(f"the mock does not price {body['endpoint']}")
    quote = quote_rule(ctx, body.get("requestBody") or {})
    return ok(
        ctx,
        {
            "endpoint": endpoint,
            "coins": number(quote.get(billing.COINS, 0)),
            "diamonds": number(quote.get(billing.DIAMONDS, 0)),
            # [doc] "false means only pricing inputs were checked", as the mock checks them
            "generationRequestValidated": False,
        },
    )
