"""YouCam's task families, declared: one FamilySpec per features.yaml row (and one per
detection pre-process), and the family configs a scenario implies for them.

A spec names the row's run and status operations, its renderer (results.py), its price (the
row's unit rule, ``costs.<slug>`` overriding it; detection tasks are free [GUESS: no unit
line for them in any unit table]); tasks.bind turns each into its two handlers.

``configure`` is the Provider's configure slot: called whenever a scenario is put in force,
so the control API can force any YouCam task before the first YouCam request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockserver.families import FamilySpec, IdStyle, Lookup, PriceRule, Status
from mockserver.lifecycle import FamilyConfig, TaskFamily
from mockserver.providers.youcam.features import Feature, by_key, features, units_for
from mockserver.providers.youcam.results import pre_renderer, renderer
from mockserver.scenario import ProviderConfig

if TYPE_CHECKING:
    from mockserver.context import RequestContext

DEFAULT_FAMILY = "default"

FAMILIES: dict[str, TaskFamily] = {}
for _feature in features():
    FAMILIES[_feature.key] = _feature.family()
    if _feature.pre_process:
        FAMILIES[_feature.pre_key] = _feature.pre_family()
AI_AVATAR = FAMILIES["ai-avatar"]
FAILURE_FIELDS = ("error", "error_message")


def price(feature: Feature) -> PriceRule:
    """Units a task of ``feature`` costs on success; ``costs.<slug>`` overrides proc_unit."""

    def cost(ctx: RequestContext, body: Mapping[str, Any]) -> float:
        override = ctx.config.costs.get(feature.key)
        return units_for(feature, dict(body), float(override) if override else None)

    return cost


def _specs(feature: Feature) -> list[FamilySpec]:
    specs = [
        FamilySpec(
            family=FAMILIES[feature.key],
            render=renderer(feature),
            submit=feature.run_op,
            status=(Status(feature.status_op, Lookup.PATH, "task_id"),),
            price=price(feature),
            new_id=IdStyle.URLSAFE64,
            failure_fields=FAILURE_FIELDS,
            options={"feature": feature},
        )
    ]
    if feature.pre_process:
        specs.append(
            FamilySpec(
                family=FAMILIES[feature.pre_key],
                render=pre_renderer(feature),
                submit=feature.pre_run_op,
                status=(Status(feature.pre_status_op, Lookup.PATH, "task_id"),),
                price=0,
                new_id=IdStyle.URLSAFE64,
                failure_fields=FAILURE_FIELDS,
                options={"feature": feature, "pre_process": True},
            )
        )
    return specs


SPECS: tuple[FamilySpec, ...] = tuple(spec for f in features() for spec in _specs(f))


def configure(config: ProviderConfig) -> None:
    """Give every feature a family config: the scenario's own, else ``families.default``.

    A feature the scenario does not name runs with the default durations and failure rate and
    fails, when it fails, with one of its own documented engine errors. Idempotent: a reset
    configures the same scenario again and finds every feature filled.
    """
    families = config.families
    default = families.get(DEFAULT_FAMILY) or FamilyConfig.parse({"states": {"running": 3}})
    for name in FAMILIES:
        if name in families:
            continue
        feature = by_key().get(name.removesuffix("/pre-process"))
        errors = feature.errors if feature is not None else ()
        failures = tuple({"error": e, "error_message": _describe(e)} for e in errors)
        families[name] = FamilyConfig(
            durations=default.durations,
            failure_rate=default.failure_rate,
            failures=failures or default.failures,
            stuck_state=default.stuck_state,
            stuck_rate=default.stuck_rate,
            pressure_state=default.pressure_state,
            pressure_seconds=default.pressure_seconds,
            max_running_per_tenant=default.max_running_per_tenant,
        )


def _describe(code: str) -> str:
    return code.replace("_", " ").strip().capitalize() + "."
