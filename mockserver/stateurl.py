"""Which store a mock keeps its state in: the one rule for ``--state``, ``$AVATAR_MOCK_STATE``
and the scenario's ``state`` key, for ``serve``, its workers and the engine alike; and the
check that the store named can be used. Apart from mockserver.persist so that a plain start
imports neither it nor a backend.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.scenario import Scenario

STATE_ENV = "AVATAR_MOCK_STATE"
MEMORY = "memory"  # no state backend: each process its own, gone with it


def named(flag: str | None, scenario: Scenario | None = None) -> str | None:
    """The store the operator named: ``--state``, else ``$AVATAR_MOCK_STATE``, else the
    scenario's ``state`` key; None when none names one (each caller has its own default)."""
    from_scenario = scenario.raw.get("state") if scenario is not None else None
    return flag or os.environ.get(STATE_ENV) or from_scenario or None


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
