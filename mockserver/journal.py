"""A bounded ring of the requests the mock answered, for tests and the control API.

Bounded by design: unbounded journals are how WireMock and aimock ran out of memory.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockserver.keys import CTX_KEY, DROPPED_KEY, STATE_KEY

FIELDS = (
    "seq",
    "at",
    "method",
    "path",
    "query",
    "status",
    "provider",
    "operation_id",
    "tenant",
    "ip",
    "duration_ms",
    "chaos",
)


class Journal:
    """Entries are kept as tuples (cheap to record, small in memory) and read as dicts."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._seq = 0

    def add(self, *values: Any) -> None:
        """Record one request: the values of FIELDS after ``seq``, in order."""
        self._seq += 1
        self._entries.append((self._seq, *values))

    def entries(self) -> list[dict[str, Any]]:
        return [dict(zip(FIELDS, e, strict=True)) for e in self._entries]

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


def record(request: web.Request, status: int, started: float) -> None:
    """Journal one answered request (the control API's own calls are not journaled)."""
    state = request.app[STATE_KEY]
    ctx = request.get(CTX_KEY)
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    status = 0 if request.get(DROPPED_KEY) else status
    if ctx is None:
        state.journal.add(
            state.clock.now(),
            request.method,
            request.path,
            request.query_string,
            status,
            None,
            None,
            None,
            request.remote,
            duration_ms,
            None,
        )
        return
    state.journal.add(
        ctx.now,
        request.method,
        request.path,
        request.query_string,
        status,
        ctx.provider.name,
        ctx.operation.operation_id,
        ctx.key or None,
        request.remote,
        duration_ms,
        ctx.chaos,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def journaled(handler: Handler) -> Handler:
    """For the mock's own non-operation routes (media downloads, upload PUTs)."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        record(request, response.status, started)
        return response

    wrapper.__name__ = handler.__name__
    return wrapper
