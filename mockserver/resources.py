"""Where the packaged data lives: the OpenAPI contracts, fixture scenarios and media.

The ``contracts`` and ``fixtures`` folders ship inside the wheel, so an installed server finds
them the same way a checkout does.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path


def _package_dir(name: str) -> Path:
    """The folder of the regular package ``name``.

    Not importlib.resources.files(): that loads the resource readers (and zipfile, ~5 ms of
    start-up) to hand back the same folder, and the data is read as plain files in any case
    (installed from the wheel, or the checkout's own folders in an editable install).
    """
    module = importlib.import_module(name)
    if module.__file__ is None:  # pragma: no cover - both packages have an __init__.py
        raise RuntimeError(f"{name} is not a regular package")
    return Path(module.__file__).parent


@cache
def contracts_dir() -> Path:
    return _package_dir("mockserver.contracts")


@cache
def fixtures_dir() -> Path:
    return _package_dir("mockserver.fixtures")


def spec_path(provider: str) -> Path:
    return contracts_dir() / provider / "openapi.yaml"


def media_dir() -> Path:
    return fixtures_dir() / "media"


def scenario_preset(name: str) -> Path:
    return fixtures_dir() / "scenarios" / f"{name}.yaml"
