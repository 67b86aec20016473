"""A bounded ring of the requests the mock answered, for tests and the control API.

Bounded by design: unbounded journals are how WireMock and aimock ran out of memory.
Recording is on every request's path, so an entry is stored raw (the request target as
sent, the duration in seconds) and turned into the readable form only when it is read.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from aiohttp import web
from yarl import URL

from mockserver.keys import STATE_KEY


class Entry(NamedTuple):
    """One answered request as recorded: the request target as sent (path and query), the
    duration in seconds, the provider, operation and tenant when an operation answered, and
    what chose its faults or outcome (``chaos``); status 0 when the connection was dropped."""

    at: float
    method: str
    target: str
    status: int
    provider: str | None
    operation_id: str | None
    tenant: str | None
    ip: str | None
    seconds: float
    chaos: list[str] | None


def _readable(seq: int, entry: Entry) -> dict[str, Any]:
    """An entry as the control API shows it: the target split into the decoded path and
    query, the duration in milliseconds."""
    url = URL(entry.target, encoded=True)
    return {
        "seq": seq,
        "at": entry.at,
        "method": entry.method,
        "path": url.path,
        "query": url.query_string,
        "status": entry.status,
        "provider": entry.provider,
        "operation_id": entry.operation_id,
        "tenant": entry.tenant,
        "ip": entry.ip,
        "duration_ms": round(entry.seconds * 1000, 3),
        "chaos": entry.chaos,
    }


class Journal:
    """Entries are kept as tuples (cheap to record, small in memory) and read as dicts.

    An entry's ``seq`` is not stored: the ring only ever drops its oldest entries, so the
    entries held are the last ``len`` of the ``added`` ever recorded.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._added = 0

    def add(self, entry: tuple[Any, ...]) -> None:
        """Record one answered request: :class:`Entry`'s fields in order, as a plain tuple
        (what the pipeline builds; an ``Entry`` is made one)."""
        # Kept as a plain tuple (the slice of a tuple subclass is one): the collector stops
        # tracking a plain tuple of atoms, so ten thousand kept entries cost each later
        # collection nothing, where Entry instances would be walked by every full one.
        if entry.__class__ is not tuple:
            entry = entry[:]
        self._entries.append(entry)
        self._added += 1

    def entries(self) -> list[dict[str, Any]]:
        first = self._added - len(self._entries) + 1
        return [_readable(seq, Entry._make(e)) for seq, e in enumerate(self._entries, first)]

    def query(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        tenant: str | None = None,
        operation: str | None = None,
        provider: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        out = [
            e
            for e in self.entries()
            if (method is None or e["method"] == method.upper())
            and (path is None or _path_matches(e["path"], path))
            and (tenant is None or e["tenant"] == tenant)
            and (operation is None or e["operation_id"] == operation)
            and (provider is None or e["provider"] == provider)
        ]
        return out[-limit:] if limit else out

    def resize(self, size: int) -> None:
        """A new bound, keeping the newest entries."""
        if size != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=size)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def _path_matches(path: str, wanted: str) -> bool:
    """An exact path, or a prefix written with a trailing ``*``."""
    return path == wanted or (wanted.endswith("*") and path.startswith(wanted[:-1]))


def record_unmatched(request: web.Request, status: int, started: float) -> None:
    """Journal an answer no operation gave (fallback, media, uploads): no provider, no
    tenant. Operations journal themselves (pipeline.journal)."""
    state = request.app[STATE_KEY]
    state.journal.add(
        (
            state.clock.now(),
            request.method,
            request.raw_path,
            status,
            None,
            None,
            None,
            request.remote,
            time.perf_counter() - started,
            None,
        )
    )


# A route of the mock's own, beside the spec's operations (whose handlers take a
# RequestContext: registry.Handler).
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def journaled(handler: RouteHandler) -> RouteHandler:
    """For the mock's own non-operation routes (media downloads, upload PUTs)."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        record_unmatched(request, response.status, started)
        return response

    wrapper.__name__ = handler.__name__
    return wrapper
