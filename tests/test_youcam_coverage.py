"""The YouCam coverage page (contracts/youcam/COVERAGE.md) is generated and current, and every
row of the feature table names the bundle it was read from and says why each guess is one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mockserver.providers.youcam.features import features

SCRIPT = Path(__file__).resolve().parent.parent / "contracts" / "youcam" / "coverage.py"
spec = importlib.util.spec_from_file_location("youcam_coverage", SCRIPT)
coverage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coverage)


def test_the_coverage_page_is_current():
    assert coverage.main(["--check"]) == 0, "run python contracts/youcam/coverage.py"


@pytest.mark.parametrize("feature", features(), ids=lambda f: f.key)
def test_every_row_names_its_bundle_and_the_reason_for_each_guess(feature):
    assert feature.source.startswith("perfect-corp-") and feature.source.endswith("-openapi.yml")
    for guess in feature.guess:
        what, _, why = guess.partition(": ")
        assert what and len(why) > 10, f"{feature.key}: say why {guess!r} is a guess"
