"""The YouCam feature rows the server binds its handlers from, and what only the server does
with a row: its task families, its template catalog and what a task costs.

The rows are read from the YouCam contract (contracts/youcam/openapi.yaml carries each row on
its run operation, see contracts/youcam/table.py), so the document the server serves and the
handlers it binds cannot disagree; the table itself, features.yaml, is the kit's source.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.contracts.youcam import table
from mockserver.contracts.youcam.table import (  # noqa: F401 - the row vocabulary, re-exported
    BLOCKS,
    ENGINE_ERRORS,
    EXAMPLE_URLS,
    IMAGE_LIMIT,
    IMAGE_TYPES,
    MB,
    PRE_RESULTS,
    URL,
    VIDEO_LIMIT,
    VIDEO_TYPES,
    Block,
    camel,
    example_body,
    request_schema,
    results_schema,
)
from mockserver.lifecycle import TaskFamily
from mockserver.spec import load_document

DATA = Path(__file__).parent / "data"


class Feature(table.Feature):
    """A row of the table, with the task families the server runs it as."""

    def family(self) -> TaskFamily:
        return TaskFamily(
            provider="youcam",
            name=self.key,
            states=("running",),
            success="success",
            failure="error",
        )

    def pre_family(self) -> TaskFamily:
        return TaskFamily(
            provider="youcam",
            name=self.pre_key,
            states=("running",),
            success="success",
            failure="error",
        )


@cache
def features() -> tuple[Feature, ...]:
    """Every row, in table order: read at import by the handler modules, from the YouCam
    contract (its JSON rendering at a plain start)."""
    return table.rows_of(load_document("youcam"), Feature)


@cache
def by_key() -> dict[str, Feature]:
    return {f.key: f for f in features()}


# --- template catalogs -------------------------------------------------------------------


@cache
def catalog(key: str) -> tuple[dict[str, str], ...]:
    """A feature's templates: a shipped data file, or a catalog generated from its row."""
    feature = by_key()[key]
    spec = feature.templates or {}
    if "file" in spec:
        return tuple(json.loads((DATA / spec["file"]).read_text(encoding="utf-8")))
    categories = spec.get("categories") or ["General"]
    prefix = spec.get("prefix") or feature.slug.replace("-", "_") + "_"
    out = []
    for i in range(int(spec.get("count", 20))):
        category = categories[i % len(categories)]
        out.append(
            {
                "id": f"{prefix}{i + 1:03d}",
                "title": f"{category} {i // len(categories) + 1}",
                "category_name": category,
            }
        )
    return tuple(out)


@cache
def template_ids(key: str) -> frozenset[str]:
    return frozenset(t["id"] for t in catalog(key))


# --- units -------------------------------------------------------------------------------


def quantity(feature: Feature, body: dict[str, Any]) -> int:
    spec = feature.cost.get("quantity")
    if not spec:
        return 1
    value = body.get(spec["param"]) if "param" in spec else None
    if spec.get("len"):
        return len(value) if isinstance(value, list) else int(spec.get("default", 1))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return int(spec.get("default", 1))


def _by_amount(cost: dict[str, Any], body: dict[str, Any]) -> float:
    by = cost.get("by")
    if not by:
        return float(cost["amount"])
    if "present" in by:
        return float(by["present"] if by["param"] in body else by["absent"])
    value = body.get(by["param"])
    return float(by["amounts"].get(str(value), cost["amount"]))


def _variant(cost: dict[str, Any], body: dict[str, Any]) -> bool:
    """True when the body asks for the tiers' variant price (skin analysis: any HD concern)."""
    spec = cost.get("variant")
    if not spec:
        return False
    value = body.get(spec["param"])
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v.startswith(spec["prefix"]) for v in items)


def units_for(feature: Feature, body: dict[str, Any], proc_unit: float | None = None) -> float:
    """Units a successful task costs: amount x ceil(quantity / proc_unit), or its tier."""
    cost = feature.cost
    q = quantity(feature, body)
    tiers = cost.get("tiers")
    if tiers:
        key = "variant_amount" if _variant(cost, body) else "amount"
        for tier in tiers:
            if tier["upto"] is None or q <= tier["upto"]:
                return float(tier[key])
    per = proc_unit or cost.get("proc_unit", 1)
    return _by_amount(cost, body) * math.ceil(q / per)


def skus(feature: Feature, proc_unit: float | None = None) -> list[dict[str, Any]]:
    """The ``feature-cost`` lines for a feature (run_task_url added by the handler)."""
    cost = feature.cost
    name = f"{feature.title} {feature.engine}"
    unit = cost.get("unit", "result_image")
    per = int(proc_unit or cost.get("proc_unit", 1))
    base = {"unit": unit, "proc_unit": per}
    variant = cost.get("variant")
    if cost.get("tiers") and variant:
        return [
            {"description": f"{feature.title} for {t['label']} ({label})", "amount": t[key], **base}
            for t in cost["tiers"]
            for label, key in (
                (variant["base_label"], "amount"),
                (variant["label"], "variant_amount"),
            )
        ]
    if cost.get("tiers"):
        return [
            {"description": f"{feature.title} for {t['label']}", "amount": t["amount"], **base}
            for t in cost["tiers"]
        ]
    by = cost.get("by")
    if by and "present" in by:
        labels = by.get("labels", {})
        return [
            {"description": f"{name} ({labels.get(k, k)})", "amount": by[k], **base}
            for k in ("present", "absent")
        ]
    if by:
        labels = by.get("labels", {})
        return [
            {"description": f"{name} ({labels.get(k, k)})", "amount": v, **base}
            for k, v in by["amounts"].items()
        ]
    return [{"description": name, "amount": cost["amount"], **base}]
