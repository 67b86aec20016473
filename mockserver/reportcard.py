"""The client report card on an in-process mock.

The card lives beside the contract kit (contracts/reportcard, installed as
``mockserver.contracts.reportcard``) and plays on any running mock it is given; this module
adds what only the server can: starting one for the card when none is given.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mockserver.contracts.reportcard import (
    GRADES,
    SCENARIOS,
    Card,
    CardScenario,
    ClientUnderTest,
    Grade,
    Harness,
    MockControl,
    ScenarioRun,
    grade,
    reference_client,
)
from mockserver.contracts.reportcard import grade_client as _grade_on
from mockserver.contracts.reportcard.model import ClientFactory

__all__ = [
    "GRADES",
    "SCENARIOS",
    "Card",
    "CardScenario",
    "ClientUnderTest",
    "Grade",
    "Harness",
    "MockControl",
    "ScenarioRun",
    "grade",
    "grade_client",
    "reference_client",
]


async def grade_client(
    factory: ClientFactory, *, provider: str, server: MockControl | None = None, **options: Any
) -> Card:
    """Grade ``factory``'s client (see mockserver.contracts.reportcard.grade_client); without
    ``server``, on a mock started for the card and stopped after it."""
    if server is not None:
        return await _grade_on(factory, provider=provider, server=server, **options)
    from mockserver.pytest_plugin import MockServer

    own = await asyncio.to_thread(MockServer().start)
    try:
        return await _grade_on(factory, provider=provider, server=own, **options)
    finally:
        await asyncio.to_thread(own.stop)
