"""The fleet's journal: with a state backend, ``GET /__mock/journal`` on any replica answers
with the requests every replica answered, each naming the replica that answered it.

A replica keeps its own ring as it does alone; each entry it records also waits in an outbox.
One append, ``BATCH`` seconds after the first answer that found the outbox empty, takes
everything that waits by then, off the requests' path: never a round trip per request, at
most 50 appends a second, and entries in the fleet's journal within about 20 ms. The store
keeps the newest ``size`` in a log of their own (``backends.REQUESTS``), apart from the change
notices: the read each request makes before it is answered never carries them (sharing one
log cost a poll 100-180 µs of server CPU on sqlite and Redis, measured). A GET sends what
waits here, reads the log back (one round trip more, on the control plane only) and answers
oldest first by the fleet's clock. ``DELETE /__mock/journal`` puts a mark in the log, sent
before the DELETE is answered (not in a batch: a GET through another replica right after must
not show what was cleared): a GET shows what came after the last mark.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.backends.base import REQUESTS
from mockserver.cas import ATTEMPT
from mockserver.journal import Entry, Journal, _readable
from mockserver.jsonio import printable

if TYPE_CHECKING:
    from mockserver.persist import Persistence

log = logging.getLogger("avatar_mock")

BATCH = 0.02  # seconds an entry waits for others to go with it (50 appends a second at most)
CLEARED = b'["cleared"]'  # the mark DELETE /__mock/journal leaves in the log

# The fleet's entries, read for the GET being answered (None: this replica's own ring).
_READ: ContextVar[list[dict[str, Any]] | None] = ContextVar("avatar_mock_fleet", default=None)


def encode(replica: str, entry: tuple[Any, ...]) -> bytes:
    """One entry as the log keeps it: a JSON list (a notice is an object), replica first."""
    try:
        return orjson.dumps([replica, *entry])
    except orjson.JSONEncodeError:  # a target with a lone surrogate: kept readable
        return orjson.dumps([replica, *entry[:2], printable(entry[2], 2000), *entry[3:]])


class FleetJournal(Journal):
    """This replica's ring, and the outbox of what the fleet's log has not got yet."""

    def __init__(self, size: int, persist: Persistence) -> None:
        super().__init__(size)
        self.persist = persist
        self.replica = persist.replica[:12]
        self._out: list[tuple[Any, ...] | None] = []  # None: the mark DELETE leaves
        self._timer: asyncio.TimerHandle | None = None
        self._sending: asyncio.Future[None] | None = None
        self.clear_waits = False  # a DELETE's mark not yet sent (see Fleet.settled)

    def add(self, entry: tuple[Any, ...]) -> None:
        attempt = ATTEMPT.get()
        if attempt is not None:  # kept once the attempt stands: a rerun is journaled once
            attempt.hold(entry)
            return
        super().add(entry)
        self._out.append(entry)  # encoded when sent: off the request's path, in a batch

    def clear(self) -> None:
        super().clear()
        self._out = [None]  # the mark
        self.clear_waits = True

    def outbox(self) -> list[bytes]:
        """What waits, handed to the trip about to be made (and no longer waiting)."""
        out, self._out = self._out, []
        self.clear_waits = False
        replica = self.replica
        return [CLEARED if e is None else encode(replica, tuple(e)) for e in out]

    def entries(self) -> list[dict[str, Any]]:
        read = _READ.get()
        return super().entries() if read is None else read

    # -- sending, shortly after the answer ---------------------------------------------
    def schedule(self) -> None:
        """After an answer: send what waits within ``BATCH`` seconds, unless a send is
        set up already (it takes this too)."""
        if self._out and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(BATCH, self._kick)

    def _kick(self) -> None:
        self._timer = None
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(self._send())
        else:  # the send under way ends before these came: the next one takes them
            self.schedule()

    async def _send(self) -> None:
        backend = self.persist.backend
        while self._out and backend is not None:
            out = self.outbox()
            try:
                await backend.append(out, keep=self._entries.maxlen or 0, log=REQUESTS)
            except Exception:  # lost to the fleet; this replica's ring keeps them
                log.exception("state: cannot send journal entries to %s", self.persist.url)
                return

    async def drain(self, _app: object = None) -> None:
        """Send everything recorded so far, now, and wait until it is in the store (tests;
        and at shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._sending is not None:
            await self._sending
        await self._send()

    # -- reading the fleet's entries back -----------------------------------------------
    async def read(self) -> list[dict[str, Any]]:
        """The fleet's kept entries since the last mark, the newest ``size``, oldest first by
        the mock's clock (one clock for the fleet); numbered by the store's sequence (unique
        across the fleet, in the order the store took them)."""
        backend = self.persist.backend
        assert backend is not None
        out: list[dict[str, Any]] = []
        for seq, raw in await backend.journal(since=0, log=REQUESTS):
            if raw == CLEARED:
                out.clear()
                continue
            replica, *fields = orjson.loads(raw)
            out.append(_readable(seq, Entry._make(fields)) | {"replica": replica})
        out.sort(key=lambda e: e["at"])  # stable: at one reading, as the store took them
        return out[-(self._entries.maxlen or 0) :]

    def reading(self, entries: list[dict[str, Any]]) -> Any:
        """Answer the GET with ``entries`` (a token for :meth:`done`)."""
        return _READ.set(entries)

    def done(self, token: Any) -> None:
        _READ.reset(token)
