"""Where the packaged data lives: the OpenAPI contracts, fixture scenarios and media.

The ``contracts`` and ``fixtures`` folders ship inside the wheel, so an installed server finds
them the same way a checkout does.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def contracts_dir() -> Path:
    return Path(str(resources.files("mockserver.contracts")))


@cache
def fixtures_dir() -> Path:
    return Path(str(resources.files("mockserver.fixtures")))


def spec_path(provider: str) -> Path:
    return contracts_dir() / provider / "openapi.yaml"


def media_dir() -> Path:
    return fixtures_dir() / "media"


def scenario_preset(name: str) -> Path:
    return fixtures_dir() / "scenarios" / f"{name}.yaml"
