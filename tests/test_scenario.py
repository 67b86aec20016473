"""Scenario files: laid over the default, validated with the bad key and its line named."""

from __future__ import annotations

import pytest

from mockserver.cli import main
from mockserver.resources import fixtures_dir
from mockserver.scenario import ScenarioError, load, parse_text


def test_builtin_default_is_valid_and_fast_enough_to_watch():
    scenario = load()
    family = scenario.providers["youcam"].families["ai-avatar"]
    assert family.durations["running"].high <= 10
    assert set(scenario.providers) == {"youcam", "relay", "a2e"}


def test_every_preset_file_validates():
    for path in sorted((fixtures_dir() / "scenarios").glob("*.yaml")):
        load(path)


def test_a_file_only_names_what_it_changes():
    scenario = parse_text("seed: 99\nproviders: {youcam: {settings: {polling_window: 10}}}")
    assert scenario.seed == 99
    youcam = scenario.providers["youcam"]
    assert youcam.settings["polling_window"] == 10
    assert youcam.settings["task_retention"] == 86400  # still the default
    assert youcam.families["ai-avatar"].durations  # untouched


def test_unknown_key_is_named_with_its_line():
    text = "seed: 1\nproviders:\n  youcam:\n    settings:\n      poling_window: 5\n"
    with pytest.raises(ScenarioError) as info:
        parse_text(text, "bad.yaml")
    (problem,) = info.value.problems
    assert "poling_window" in problem and "line 5" in problem


def test_wrong_type_is_named_with_its_line():
    text = "seed: one\n"
    with pytest.raises(ScenarioError) as info:
        parse_text(text)
    assert "seed (line 1)" in info.value.problems[0]


def test_bad_duration_and_rate():
    text = (
        "providers:\n  a2e:\n    families:\n      video:\n"
        "        failure_rate: 2\n        states: {init: {min: 1}}\n"
    )
    with pytest.raises(ScenarioError) as info:
        parse_text(text)
    joined = " ".join(info.value.problems)
    assert "failure_rate" in joined and "line 5" in joined and "states.init" in joined


@pytest.mark.parametrize("text", ["- a\n- b\n", "key: [unclosed\n"])
def test_not_a_mapping_or_not_yaml(text):
    with pytest.raises(ScenarioError):
        parse_text(text)


def test_check_config_command(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("seed: 3\n")
    assert main(["check-config", str(good)]) == 0
    assert "ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 3\nbalances: {units: lots}\n")
    assert main(["check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "balances.units (line 2)" in err
    assert main(["check-config", str(tmp_path / "missing.yaml")]) == 1
