"""Which store a mock keeps its state in: the one rule for ``--state``, ``$AVATAR_MOCK_STATE``
and the scenario's ``state`` key, for ``serve``, its workers and the engine alike; and the
check that the store named can be used. Apart from mockserver.persist so that a plain start
imports neither it nor a backend.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mockserver.scenario import Scenario

STATE_ENV = "AVATAR_MOCK_STATE"
MEMORY = "memory"  # no state backend: each process its own, gone with it


class Named(NamedTuple):
    """A store the operator named, and where it was named (for a refusal to say)."""

    url: str
    where: str  # "--state memory", "$AVATAR_MOCK_STATE=memory", "the scenario's state: memory"


def naming(flag: str | None, scenario: Scenario | None = None) -> Named | None:
    """The store the operator named: ``--state``, else ``$AVATAR_MOCK_STATE``, else the
    scenario's ``state`` key; None when none names one (each caller has its own default)."""
    if flag:
        return Named(flag, f"--state {flag}")
    from_env = os.environ.get(STATE_ENV)
    if from_env:
        return Named(from_env, f"${STATE_ENV}={from_env}")
    from_scenario = scenario.raw.get("state") if scenario is not None else None
    if from_scenario:
        return Named(str(from_scenario), f"the scenario's state: {from_scenario}")
    return None


def named(flag: str | None, scenario: Scenario | None = None) -> str | None:
    """The url of the store the operator named (``naming``), or None."""
    found = naming(flag, scenario)
    return None if found is None else found.url


def state_url(flag: str | None, scenario: Scenario | None = None) -> str:
    """Where one process keeps its state: the store named, else memory."""
    return named(flag, scenario) or MEMORY


def refusal(url: str) -> str | None:
    """Why the store ``url`` cannot be used, found by opening and closing it (None: it can):
    a configured store that is unreachable or unreadable stops start-up, never a quiet
    fallback to memory."""
    import asyncio

    from mockserver.backends import BackendError, open_backend

    async def probe() -> None:
        backend = await open_backend(url)
        await backend.close()

    try:
        asyncio.run(probe())
    except BackendError as exc:
        return str(exc)
    return None
