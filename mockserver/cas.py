"""Compare-and-set on a state backend: which attempt at a request made which changes, and
whether it stands.

Every write a replica makes names the version of each record it read (``Write.expect``);
the store applies it whole or refuses it (``Conflict``) when another replica moved one of
them first. A refused write's records are read back from the store, which undoes what the
lost attempt did to this replica's cache (a charge, a task it created), and so is every
change made since that write was taken (it may rest on what was undone). Each request runs
as an :class:`Attempt`: the writes that took its changes are noted on it, and the
middleware (``app._persist``) runs the handler again when one of them was refused or its
changes were undone, up to :data:`RUNS` times, then answers the 503 any failed write gets.

A rerun is the same request answered again, not a new one: its rate-limit windows and
chaos claims were counted once, before the first attempt (``fleet.Counted``), its journal
entry is held until an attempt stands (:meth:`Attempt.hold`), and webhooks planned for a
task the undo removed are forgotten with it (``Persistence._merge_task``).
"""

from __future__ import annotations

import asyncio
import random
from contextvars import ContextVar
from typing import Any

from aiohttp import web

RUNS = 3  # attempts at one request before its conflict is answered with a 503
BACKOFF = 0.004  # seconds, times the run: the most a rerun waits before it starts


class Attempt:
    """One run of a request's handler: where the store's writes stood when it began, the
    writes that took its changes, and whether a refused write undid them."""

    __slots__ = ("held", "lost", "since", "writes")

    def __init__(self, since: int) -> None:
        self.since = since  # writes complete when it began (a write in flight is after)
        self.writes: set[int] = set()
        self.lost = False
        self.held: list[tuple[Any, ...]] = []  # journal entries, kept once it stands

    def hold(self, entry: tuple[Any, ...]) -> None:
        self.held.append(entry)


# The attempt being answered on this task (None: not a request, or no state backend).
ATTEMPT: ContextVar[Attempt | None] = ContextVar("avatar_mock_attempt", default=None)


def replayable(request: web.Request) -> bool:
    """Whether ``request`` can be answered again: no body, or one aiohttp has kept."""
    return (
        not request.body_exists
        or getattr(request, "_read_bytes", None) is not None
        or getattr(request, "_post", None) is not None
    )


async def keep_body(request: web.Request) -> None:
    """Read a JSON body ahead of the handler so that a rerun reads it again (aiohttp keeps
    what ``read()`` returned); one of unknown or too large a size is left to the pipeline,
    which refuses it in the provider's words (a conflict on it is then a 503)."""
    size = request.content_length
    if (
        size is not None
        and 0 < size <= request.client_max_size
        and request.content_type == "application/json"
    ):
        await request.read()


async def backoff(run: int) -> None:
    """Wait a moment of wall time before rerun ``run``: replicas that keep refusing each
    other's writes to one record (one tenant charged through all of them) spread out
    instead of colliding again. Not the seeded generator: ids and outcomes stay as drawn."""
    await asyncio.sleep(random.uniform(0, BACKOFF * run))
