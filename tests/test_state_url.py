"""Which store a mock uses (mockserver.stateurl), the one rule for ``serve``, its workers and
the engine: ``--state``, else ``$AVATAR_MOCK_STATE``, else the scenario's ``state``, else the
default (memory for one process, a sqlite file for ``--workers``)."""

from __future__ import annotations

import pytest

from mockserver.scenario import parse_data
from mockserver.stateurl import STATE_ENV, named, naming, state_url

FLAG, ENV, SCENARIO = "redis://flag:6379/0", "sqlite:env.db", "sqlite:scenario.db"


@pytest.mark.parametrize(
    ("flag", "env", "in_scenario", "wins", "where"),
    [
        (None, None, None, None, None),
        (None, None, SCENARIO, SCENARIO, f"the scenario's state: {SCENARIO}"),
        (None, ENV, SCENARIO, ENV, f"${STATE_ENV}={ENV}"),
        (FLAG, ENV, SCENARIO, FLAG, f"--state {FLAG}"),
        ("memory", ENV, SCENARIO, "memory", "--state memory"),  # asked for: not a fallback
        (None, "", SCENARIO, SCENARIO, f"the scenario's state: {SCENARIO}"),  # "" names none
    ],
    ids=["nothing", "scenario", "env-over-scenario", "flag-over-all", "memory-flag", "empty-env"],
)
def test_the_flag_then_the_environment_then_the_scenario_name_the_store(
    flag: str | None,
    env: str | None,
    in_scenario: str | None,
    wins: str | None,
    where: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(STATE_ENV, raising=False)
    if env is not None:
        monkeypatch.setenv(STATE_ENV, env)
    scenario = parse_data({"state": in_scenario} if in_scenario else {})
    assert named(flag, scenario) == wins
    assert state_url(flag, scenario) == (wins or "memory")
    found = naming(flag, scenario)  # where it was named, for a refusal to say
    assert (found and found.where) == where
