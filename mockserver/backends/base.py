"""The state interface every backend implements, and the values it trades in.

Sized for what the mock keeps: versioned records (tasks, tenants, uploads) changed only by
compare-and-set, so two replicas answering for one task can never move it differently;
insertion-ordered indexes for the list endpoints; counters that reset on the mock's clock
(rate-limit windows, chaos ``times``, id sequences); one shared clock; a bounded journal;
leases (one replica sends each webhook delivery); and a schema version checked at open.

Values are bytes: the caller owns the encoding, so the three backends store the same thing.
Every time-dependent operation takes ``now`` from the caller: windows and leases follow the
clock the caller chooses (the virtual one in tests), never the store's wall clock.

``poll`` is the one operation on a status poll's path: it reads the clock and the records,
counts the request's windows and appends pending journal entries in a single round trip.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

# The layout this code reads and writes. A store stamped with another is refused at open.
SCHEMA_VERSION = 1
SCHEMA = "schema"  # meta name of the schema stamp
CLOCK = "clock"  # meta name of the shared clock


REQUESTS = "requests"  # the fleet journal's log, apart from the change notices
LOGS = ("", REQUESTS)


class BackendError(Exception):
    """A state store the mock cannot use; the message says what to do."""


class BackendUnavailable(BackendError):
    """The configured store cannot be reached or opened (never a silent fallback to memory)."""


class SchemaError(BackendError):
    """The store holds a schema this version cannot read."""


class Conflict(BackendError):
    """A compare-and-set write found records moved since the writer read them: nothing of
    it was applied. ``keys`` names the records whose versions were not the expected ones."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        super().__init__(f"another writer changed {', '.join(self.keys[:5])} first")


@dataclass(frozen=True, slots=True)
class Record:
    key: str
    version: int  # 1 at creation, +1 on every put
    value: bytes


@dataclass(frozen=True, slots=True)
class Page:
    total: int  # members of the index
    records: list[Record]  # newest first


@dataclass(frozen=True, slots=True)
class CounterOp:
    """Add ``by`` to ``key``. With ``window`` the count starts over ``window`` seconds after it
    (re)started; with ``limit`` an addition that would pass it is refused and not counted."""

    key: str
    by: int = 1
    window: float | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Count:
    admitted: bool
    value: int
    resets_at: float  # math.inf: never

    def retry_after(self, now: float) -> float:
        return self.resets_at - now


@dataclass(frozen=True, slots=True)
class ClockState:
    """``now = base + (wall - anchor) * speed``: wall time, not a process's monotonic clock,
    so every replica computes the same reading (to within their clocks' skew)."""

    base: float
    anchor: float
    speed: float

    def now(self, wall: float) -> float:
        if self.speed == 0.0:
            return self.base
        return self.base + (wall - self.anchor) * self.speed

    def advanced(self, seconds: float, wall: float) -> ClockState:
        return ClockState(self.now(wall) + seconds, wall, self.speed)

    def encode(self) -> bytes:
        return orjson.dumps([self.base, self.anchor, self.speed])

    @staticmethod
    def decode(raw: bytes) -> ClockState:
        base, anchor, speed = orjson.loads(raw)
        return ClockState(float(base), float(anchor), float(speed))


@dataclass(slots=True)
class Write:
    """Changes applied together or not at all: one request's records, deletions and meta
    (a kill between two of them never leaves a task without the charge it made).

    ``expect`` makes it compare-and-set: each named record must be at that version (0: must
    not exist), else nothing is applied and :class:`Conflict` names the records that moved.
    ``notice`` is appended to the change log (kept to ``keep``) in the same transaction, so
    another replica never reads the records without the notice or the notice without them.
    """

    puts: list[tuple[str, bytes, tuple[str, ...]]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    meta: list[tuple[str, bytes]] = field(default_factory=list)
    clear: bool = False  # first forget records, indexes, counters, leases and the journal
    expect: dict[str, int] = field(default_factory=dict)
    notice: bytes | None = None
    keep: int = 0

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes or self.meta or self.clear)


@dataclass(frozen=True, slots=True)
class PollResult:
    clock: ClockState | None
    clock_version: int
    records: list[Record | None]
    counts: list[Count] = field(default_factory=list)  # up to and including a refusal

    @property
    def admitted(self) -> bool:
        return all(c.admitted for c in self.counts)


class Changes(NamedTuple):
    """What :meth:`Backend.changes` read: the clock and its version, the journal entries
    after the replica's last look, and the counts of the counters it was given."""

    clock: ClockState | None
    clock_version: int
    notices: list[tuple[int, bytes]]
    counts: list[Count]


def counted(
    current: tuple[int, float] | None, op: CounterOp, now: float
) -> tuple[tuple[int, float], Count]:
    """One counter step, shared by the backends that count in Python: the stored pair after it
    and the answer. A window that closed by ``now`` is the same as no count."""
    if current is None or current[1] <= now:
        current = (0, now + op.window if op.window is not None else math.inf)
    value, resets_at = current
    if op.limit is not None and value + op.by > op.limit:
        return current, Count(False, value, resets_at)
    value += op.by
    return (value, resets_at), Count(True, value, resets_at)


def check_schema(raw: bytes | None, where: str) -> None:
    """Refuse a stamp this version cannot read, saying what to do about it."""
    try:
        found = int(raw) if raw is not None else None
    except ValueError:
        found = None
    if found == SCHEMA_VERSION:
        return
    if found is None:
        raise SchemaError(
            f"the state store at {where} has an unreadable schema stamp {raw!r}: it was not "
            "written by avatar-mock; point --state at an empty store"
        )
    advice = (
        "upgrade avatar-mock, or point --state at a new store"
        if found > SCHEMA_VERSION
        else "export it with the avatar-mock that wrote it and import it into a new store"
    )
    raise SchemaError(
        f"the state store at {where} has schema version {found}; this avatar-mock reads "
        f"version {SCHEMA_VERSION}: {advice}"
    )


class Backend(ABC):
    """One client of a state store. Two clients on one store behave as two replicas."""

    url: str

    async def open(self) -> None:
        """Connect, stamp an empty store with the schema version, refuse a foreign one."""
        await self._connect()
        raw = await self.get_meta(SCHEMA)
        if raw is None:
            await self.put_meta(SCHEMA, str(SCHEMA_VERSION).encode(), version=0)
            raw = await self.get_meta(SCHEMA)  # whoever stamped first, we read theirs
        check_schema(raw[0] if raw else None, self.url)

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    # -- meta: the schema stamp and the clock, kept through clear() --------------------------
    @abstractmethod
    async def get_meta(self, name: str) -> tuple[bytes, int] | None:
        """(value, version) of a meta entry."""

    @abstractmethod
    async def put_meta(self, name: str, value: bytes, *, version: int | None = None) -> bool:
        """Compare-and-set a meta entry (``version`` 0: only if absent; None: always)."""

    # -- records ---------------------------------------------------------------------------
    @abstractmethod
    async def get(self, key: str) -> Record | None: ...

    @abstractmethod
    async def get_many(self, keys: Sequence[str]) -> list[Record | None]: ...

    @abstractmethod
    async def put(
        self, key: str, value: bytes, *, version: int | None = None, indexes: Sequence[str] = ()
    ) -> int | None:
        """Store ``value`` if the record is at ``version`` (0: absent; None: whatever it is).
        The new version, or None when another writer got there first. ``indexes`` are added
        to the record's memberships (kept in first-put order) and left on delete."""

    @abstractmethod
    async def delete(self, key: str, *, version: int | None = None) -> bool:
        """Remove the record and its index memberships (if at ``version``, when given)."""

    @abstractmethod
    async def newest(self, index: str, *, limit: int, offset: int = 0) -> Page:
        """Up to ``limit`` records of ``index``, newest first, after skipping ``offset``."""

    # -- counters, leases, journal ----------------------------------------------------------
    @abstractmethod
    async def count(self, op: CounterOp, *, now: float) -> Count: ...

    @abstractmethod
    async def acquire(self, lease: str, owner: str, *, now: float, ttl: float) -> bool:
        """Hold ``lease`` until ``now + ttl`` unless another owner holds it at ``now``
        (the holder renews by acquiring again)."""

    @abstractmethod
    async def release(self, lease: str, owner: str) -> bool:
        """Give ``lease`` up if ``owner`` still holds it."""

    @abstractmethod
    async def append(self, entries: Sequence[bytes], *, keep: int, log: str = "") -> int:
        """Append to the journal, keeping the newest ``keep``; the last sequence number.
        ``log`` names another journal (``REQUESTS``, the fleet's request entries), which the
        read before each request (``changes``) never brings back."""

    @abstractmethod
    async def journal(self, *, since: int = 0, log: str = "") -> list[tuple[int, bytes]]:
        """Kept entries of ``log`` with a sequence number above ``since``, oldest first."""

    @abstractmethod
    async def poll(
        self,
        keys: Sequence[str],
        *,
        now: float,
        counters: Sequence[CounterOp] = (),
        journal: Sequence[bytes] = (),
        keep: int = 0,
    ) -> PollResult:
        """In one round trip: the clock, the records of ``keys``, the ``counters`` in turn
        (the first refusal stops the count: the later ones are not counted) and the pending
        ``journal`` entries appended (kept to ``keep``)."""

    @abstractmethod
    async def sweep(self, *, now: float, budget: int) -> int:
        """Drop up to ``budget`` counters and leases that expired by ``now``; how many."""

    @abstractmethod
    async def clear(self) -> None:
        """Forget records, indexes, counters, leases and the journal; keep schema and clock."""

    async def write(self, changes: Write) -> dict[str, int]:
        """Apply ``changes`` whole if every record of ``changes.expect`` is at its version,
        else nothing (:class:`Conflict`); the new version of each record put (0: deleted).

        This default checks, then applies in turn: atomic only where no call suspends (the
        memory backend); sqlite and Redis do it in one transaction, one script."""
        if changes.clear:
            await self.clear()
        expect = changes.expect
        if expect:
            keys = list(expect)
            found = await self.get_many(keys)
            moved = [
                k for k, r in zip(keys, found, strict=True) if (r.version if r else 0) != expect[k]
            ]
            if moved:
                raise Conflict(moved)
        for name, value in changes.meta:
            await self.put_meta(name, value)
        versions: dict[str, int] = {}
        for key, value, indexes in changes.puts:
            versions[key] = await self.put(key, value, indexes=indexes) or 0
        for key in changes.deletes:
            await self.delete(key)
            versions[key] = 0
        if changes.notice is not None:
            await self.append([changes.notice], keep=changes.keep)
        return versions

    async def changes(
        self,
        since: int,
        *,
        now: float = 0.0,
        counters: Sequence[CounterOp] = (),
    ) -> Changes:
        """What a replica reads before each request: the clock, its version, the journal
        entries above ``since`` and the request's ``counters`` counted at ``now`` (in turn,
        as :meth:`poll` counts them); one round trip where the store allows."""
        if counters:
            got = await self.poll((), now=now, counters=counters)
            clock, version, counts = got.clock, got.clock_version, got.counts
        else:
            (clock, version), counts = await self.read_clock(), []
        return Changes(clock, version, await self.journal(since=since), counts)

    # -- the shared clock, on meta compare-and-set ----------------------------------------
    async def read_clock(self) -> tuple[ClockState | None, int]:
        got = await self.get_meta(CLOCK)
        return (None, 0) if got is None else (ClockState.decode(got[0]), got[1])

    async def write_clock(self, state: ClockState) -> None:
        await self.put_meta(CLOCK, state.encode())

    async def advance_clock(self, seconds: float, *, wall: float) -> ClockState:
        """Move the shared clock forward by ``seconds``; two replicas advancing at once both
        count (compare-and-set, retried)."""
        while True:
            state, version = await self.read_clock()
            if state is None:
                raise BackendError("the shared clock is not set (write_clock first)")
            moved = state.advanced(seconds, wall)
            if await self.put_meta(CLOCK, moved.encode(), version=version):
                return moved

    async def stamp_schema(self, raw: bytes) -> None:
        """Overwrite the schema stamp: for migrations, and for tests of the refusal."""
        await self.put_meta(SCHEMA, raw)

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
