"""A2E's table-driven model families, declared from the rows the contract carries.

contracts/a2e/models.yaml is the table; contracts/a2e/build_models.py writes each row into
openapi.yaml as ``x-a2e-family-row`` on the family's submit operation and tags every generated
operation with ``x-a2e-role``. This module reads them back: one :class:`FamilySpec` per row
(start, detail and delete, by the row's ``delete`` rule, are the generic handlers of
``task_endpoints``), and the roles the generic set lacks (lists with each
family's paging names, batchDetail by ``ids``, rename, marks, Veo's 1080p, ...) bound
from ``model_roles``. A new family is a row of the table; no handler is written for it.

Each row's price reads the scenario's ``providers.a2e.costs`` (see :func:`coins_for`) and
its cross-field rules refuse in A2E's 400 dialect, for a start and for ``generation/quote``
alike (the quote calls the same price rule and creates nothing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from itertools import combinations
from typing import Any

from mockserver.context import RequestContext, View
from mockserver.errors import ApiError
from mockserver.families import FamilySpec, Status
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e import billing, families, model_roles
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.models import (
    ModelRecord,
    iso_ms,
    outcome_fields,
    record_of,
    updated_at,
)
from mockserver.spec import Operation, load_operations
from mockserver.tasks import Task

API = "/api/v1/"
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")  # a path template's parameter
HIDDEN = ("webhook_token",)  # never shown back in a record [guess]
FIXTURES = {"video": "result.mp4", "image": "result.jpg", "audio": "result.mp4"}
NSFW_FLAG = "mock-nsfw"  # a prompt holding it is "NSFW" when force_generate is false [guess]
NSFW_CODE = 1003  # [guess]: the moderation code A2E documents for a hard block
MAX_SECONDS = 3600  # [guess] a bound on a priced duration, so a price stays a price
FAMILIES: dict[str, FamilySpec] = {}  # name -> spec, for the webhook planner and tests


def rows() -> Iterator[tuple[Operation, dict[str, Any]]]:
    """(submit operation, family row) for every row in the contract."""
    for op in load_operations("a2e"):
        row = op.raw.get("x-a2e-family-row")
        if row is not None:
            yield op, row


def roles() -> Iterator[tuple[Operation, str, str]]:
    """(operation, family name, role) for every generated operation."""
    for op in load_operations("a2e"):
        role = op.raw.get("x-a2e-role")
        if role is not None:
            yield op, op.raw["x-a2e-family"], role


def with_defaults(row: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    return {**row.get("defaults", {}), **body}


def matches(value: Any, wanted: Any) -> bool:
    return value in wanted if isinstance(wanted, list) else value == wanted


def check_rules(row: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Refuse the first cross-field rule ``body`` breaks, in the row's own words."""
    seen = with_defaults(row, body)
    for rule in row.get("rules", []):
        if not all(matches(seen.get(f), v) for f, v in rule["when"].items()):
            continue
        missing = [f for f in rule.get("require", []) if seen.get(f) in (None, "", [])]
        anyof = rule.get("require_any", [])
        if missing or (anyof and all(seen.get(f) in (None, "", []) for f in anyof)):
            raise bad_request(rule["say"])


def cost_keys(key: str, values: list[str]) -> Iterator[str]:
    """``key:v1:v2``, then every shorter pick of the values in order, then ``key``."""
    for size in range(len(values), 0, -1):
        for pick in combinations(values, size):
            yield ":".join((key, *pick))
    yield key


def coins_for(ctx: RequestContext, row: Mapping[str, Any], body: Mapping[str, Any]) -> float:
    """The most specific ``costs`` entry the request's ``by`` fields name, per ``per`` unit."""
    price = row["price"]
    seen = with_defaults(row, body)
    values = [str(seen[f]) for f in price.get("by", []) if seen.get(f) is not None]
    costs = ctx.config.costs
    unit = next((costs[k] for k in cost_keys(price["key"], values) if k in costs), None)
    coins = float(price.get("default", 0) if unit is None else unit)
    if "per" in price:
        raw = seen.get(price["per"], price.get("per_default", 1))
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 < seconds <= MAX_SECONDS:
            raise bad_request(f"{price['per']} must be between 0 and {MAX_SECONDS} seconds")
        coins *= seconds
    return int(coins) if coins.is_integer() else coins


def nsfw_gate(row: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """``force_generate: false`` and a flagged prompt: refused, HTTP 200, code 1003."""
    if not row.get("nsfw_gate") or body.get("force_generate", True) is not False:
        return
    if NSFW_FLAG in str(body.get("prompt", "")):
        raise ApiError(200, NSFW_CODE, "NSFW content detected")


def quote_rule(row: Mapping[str, Any]) -> billing.QuoteRule:
    def quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
        check_rules(row, body)
        nsfw_gate(row, body)
        return {billing.COINS: coins_for(ctx, row, body)}

    return quote


def renderer(row: Mapping[str, Any]) -> Any:
    fixture = FIXTURES[row["result"]]
    field = row["result_field"]

    def render(task: Task, ctx: View) -> dict[str, Any]:
        """The request's fields, then the record's own (which win); ``result_url`` beside a
        row's own result field (Product Avatar's ``result_image_url``). [guess]"""
        params = {k: v for k, v in task.params.items() if k not in HIDDEN}
        outcome = outcome_fields(ctx, task, f"{row['name']} generation failed", fixture)
        result = outcome.pop("result_url")
        record = record_of(ctx, task, ModelRecord) or NO_RECORD
        return {
            **params,
            "_id": task.id,
            "name": params.get("name", "") if record.name is None else record.name,
            **outcome,
            "result_url": result,
            field: result,
            **record.marks,
            "coins": record.amount,
            "createdAt": iso_ms(task.created_at),
            "updatedAt": iso_ms(max(updated_at(task, ctx.now), record.renamed_at)),
        }

    return render


def declare(op: Operation, row: Mapping[str, Any], ops: dict[str, Operation]) -> FamilySpec:
    """The row's FamilySpec; its quote rule registered under the endpoint it starts."""
    family = TaskFamily("a2e", row["name"], tuple(row["states"]), row["success"], row["failure"])
    quote = billing.quotes(op.path[len(API) :])(quote_rule(row))
    named = row["roles"]

    def by_path(role: str) -> Status | None:
        if role not in named:
            return None
        # The path's one placeholder (what the route fills), read off the template: resolving
        # the operation's parameters here would resolve fifty operations' at every start.
        [id_field] = PLACEHOLDER.findall(ops[named[role]].path)
        return Status(named[role], id_field=id_field)

    detail = by_path("detail")
    return FamilySpec(
        family=family,
        render=renderer(row),
        price=billing.charge_rule(quote),
        submit=op.operation_id,
        status=(detail,) if detail is not None else (),
        delete=by_path("delete"),
        options={"row": row, "record": families.with_marks, "delete": row.get("delete")},
    )


def declare_all() -> tuple[FamilySpec, ...]:
    """Every row's FamilySpec; the roles no spec serves bound from ``model_roles``."""
    ops = {op.operation_id: op for op in load_operations("a2e")}
    specs = tuple(declare(op, row, ops) for op, row in rows())
    FAMILIES.update((spec.name, spec) for spec in specs)
    known = {spec.name: spec for spec in (*families.SPECS, *specs)}
    for op, name, role in roles():
        spec = known[name]
        if op.operation_id not in spec.operation_ids():
            model_roles.bind(op, role, spec)
    return specs


NO_RECORD = ModelRecord()  # a task made before a reset has none: shown unnamed, unmarked, 0 coins
SPECS: tuple[FamilySpec, ...] = declare_all()
