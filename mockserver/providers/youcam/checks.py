"""Request checks a feature's JSON Schema cannot express, named by ``checks:`` in its row.

Each check reads the validated body and raises the provider's 400 with the documented message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.errors import ApiError

SD_CONCERNS = frozenset(
    (
        "wrinkle",
        "droopy_upper_eyelid",
        "droopy_lower_eyelid",
        "firmness",
        "acne",
        "moisture",
        "eye_bag",
        "dark_circle_v2",
        "age_spot",
        "radiance",
        "redness",
        "oiliness",
        "pore",
        "texture",
        "tear_trough",
        "skin_type",
    )
)
HD_CONCERNS = frozenset(
    (
        "hd_redness",
        "hd_oiliness",
        "hd_age_spot",
        "hd_radiance",
        "hd_moisture",
        "hd_dark_circle",
        "hd_eye_bag",
        "hd_droopy_upper_eyelid",
        "hd_droopy_lower_eyelid",
        "hd_firmness",
        "hd_texture",
        "hd_acne",
        "hd_pore",
        "hd_wrinkle",
        "hd_tear_trough",
        "hd_skin_type",
    )
)


def _refuse(message: str) -> ApiError:
    return ApiError(400, "InvalidParameters", message)


def skin_dst_actions(body: dict[str, Any]) -> None:
    """Skin concerns must be known, and SD and HD ones cannot be mixed (skin-analysis page)."""
    actions = body.get("dst_actions") or []
    for action in actions:
        if action not in SD_CONCERNS and action not in HD_CONCERNS:
            raise _refuse(f"Not available dst_action {action}")
    if any(a in HD_CONCERNS for a in actions) and any(a in SD_CONCERNS for a in actions):
        raise _refuse("cannot mix HD and SD dst_actions")


def features_not_all_zero(body: dict[str, Any]) -> None:
    """Body and face reshape: ``features`` needs at least one non-zero parameter."""
    if not any(v for v in (body.get("features") or {}).values()):
        raise _refuse("features: at least one feature value must be non-zero")


def custom_features_not_all_zero(body: dict[str, Any]) -> None:
    """Face lift: under type ``custom`` (its default), the features given cannot all be zero;
    type ``auto`` ignores them (the bundle's anyOf puts the rule on the custom branch only)."""
    if body.get("type", "custom") == "custom" and "features" in body:
        features_not_all_zero(body)


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "skin_dst_actions": skin_dst_actions,
    "features_not_all_zero": features_not_all_zero,
    "custom_features_not_all_zero": custom_features_not_all_zero,
}
