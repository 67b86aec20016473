"""YouCam's task families: one per features.yaml row (and one per detection pre-process),
and the family configs a scenario implies for them.

``configure`` is the Provider's configure slot: called whenever a scenario is put in force,
so the control API can force any YouCam task before the first YouCam request.
"""

from __future__ import annotations

from mockserver.lifecycle import FamilyConfig, TaskFamily
from mockserver.providers.youcam.features import by_key, features
from mockserver.scenario import ProviderConfig

DEFAULT_FAMILY = "default"

FAMILIES: dict[str, TaskFamily] = {}
for _feature in features():
    FAMILIES[_feature.key] = _feature.family()
    if _feature.pre_process:
        FAMILIES[_feature.pre_key] = _feature.pre_family()
AI_AVATAR = FAMILIES["ai-avatar"]
_filled: ProviderConfig | None = None


def configure(config: ProviderConfig) -> None:
    """Give every feature a family config: the scenario's own, else ``families.default``.

    A feature the scenario does not name runs with the default durations and failure rate and
    fails, when it fails, with one of its own documented engine errors.
    """
    global _filled
    if config is _filled:  # the scenario in force was filled already
        return
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
    _filled = config


def _describe(code: str) -> str:
    return code.replace("_", " ").strip().capitalize() + "."
