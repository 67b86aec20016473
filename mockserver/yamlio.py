"""YAML loading with the C loader when available (start-up time matters)."""

from __future__ import annotations

from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def compose_yaml(text: str) -> yaml.Node | None:
    """The node tree, with line numbers, used to point at a bad key."""
    return yaml.compose(text, Loader=_Loader)
