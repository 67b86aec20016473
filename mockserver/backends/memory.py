"""The default backend: plain dicts in this process, as fast as the stores they replace.

Several clients may share one ``MemoryStore`` (a second client is a second view of the same
dicts, which is how the parametrised tests run their two "replicas"); nothing here awaits, so
each operation is atomic on the event loop.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence

from mockserver.backends.base import (
    Backend,
    ClockState,
    Count,
    CounterOp,
    Page,
    PollResult,
    Record,
    counted,
)


class MemoryStore:
    def __init__(self) -> None:
        self.meta: dict[str, tuple[bytes, int]] = {}
        self.seq = 0  # journal sequence: never reused, not even after clear()
        self.clear()

    def clear(self) -> None:
        self.records: dict[str, Record] = {}
        self.memberships: dict[str, tuple[str, ...]] = {}
        self.indexes: dict[str, dict[str, None]] = {}  # insertion-ordered keys
        self.counters: dict[str, tuple[int, float]] = {}
        self.leases: dict[str, tuple[str, float]] = {}
        # (expires_at, kind, name): what sweep may drop, soonest first
        self.expiring: list[tuple[float, str, str]] = []
        self.journal: deque[tuple[int, bytes]] = deque()
        self.logs: dict[str, deque[tuple[int, bytes]]] = {}  # the other journals, by name


class MemoryBackend(Backend):
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.url = "memory"

    async def _connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def get_meta(self, name: str) -> tuple[bytes, int] | None:
        return self.store.meta.get(name)

    async def put_meta(self, name: str, value: bytes, *, version: int | None = None) -> bool:
        meta = self.store.meta
        current = meta.get(name)
        at = current[1] if current else 0
        if version is not None and version != at:
            return False
        meta[name] = (value, at + 1)
        return True

    async def get(self, key: str) -> Record | None:
        return self.store.records.get(key)

    async def get_many(self, keys: Sequence[str]) -> list[Record | None]:
        records = self.store.records
        return [records.get(k) for k in keys]

    async def put(
        self, key: str, value: bytes, *, version: int | None = None, indexes: Sequence[str] = ()
    ) -> int | None:
        s = self.store
        old = s.records.get(key)
        at = old.version if old is not None else 0
        if version is not None and version != at:
            return None
        s.records[key] = Record(key, at + 1, value)
        if indexes:
            have = s.memberships.get(key, ())
            new = tuple(i for i in dict.fromkeys(indexes) if i not in have)
            if new:
                s.memberships[key] = have + new
                for name in new:
                    s.indexes.setdefault(name, {})[key] = None
        return at + 1

    async def delete(self, key: str, *, version: int | None = None) -> bool:
        s = self.store
        old = s.records.get(key)
        if old is None or (version is not None and version != old.version):
            return False
        del s.records[key]
        for name in s.memberships.pop(key, ()):
            members = s.indexes.get(name)
            if members is not None:
                members.pop(key, None)
                if not members:
                    del s.indexes[name]
        return True

    async def newest(self, index: str, *, limit: int, offset: int = 0) -> Page:
        members = self.store.indexes.get(index, {})
        records = self.store.records
        out: list[Record] = []
        skipped = 0
        for key in reversed(members):
            if skipped < offset:
                skipped += 1
                continue
            if len(out) >= limit:
                break
            out.append(records[key])
        return Page(len(members), out)

    async def count(self, op: CounterOp, *, now: float) -> Count:
        return self._count(op, now)

    def _count(self, op: CounterOp, now: float) -> Count:
        s = self.store
        current = s.counters.get(op.key)
        stored, answer = counted(current, op, now)
        if (current is None or stored[1] != current[1]) and stored[1] != math.inf:
            heapq.heappush(s.expiring, (stored[1], "c", op.key))
        s.counters[op.key] = stored
        return answer

    async def acquire(self, lease: str, owner: str, *, now: float, ttl: float) -> bool:
        s = self.store
        held = s.leases.get(lease)
        if held is not None and held[0] != owner and held[1] > now:
            return False
        s.leases[lease] = (owner, now + ttl)
        heapq.heappush(s.expiring, (now + ttl, "l", lease))
        return True

    async def release(self, lease: str, owner: str) -> bool:
        held = self.store.leases.get(lease)
        if held is None or held[0] != owner:
            return False
        del self.store.leases[lease]
        return True

    async def append(self, entries: Sequence[bytes], *, keep: int, log: str = "") -> int:
        if log:
            return self._append_to(log, entries, keep)
        return self._append(entries, keep)

    def _append_to(self, log: str, entries: Sequence[bytes], keep: int) -> int:
        s = self.store
        kept = s.logs.get(log)
        if kept is None or kept.maxlen != keep:
            kept = s.logs[log] = deque(kept or (), maxlen=keep)
        for entry in entries:
            s.seq += 1
            kept.append((s.seq, entry))
        return s.seq

    def _append(self, entries: Sequence[bytes], keep: int) -> int:
        s = self.store
        journal = s.journal
        if journal.maxlen != keep:
            journal = s.journal = deque(journal, maxlen=keep)
        for entry in entries:
            s.seq += 1
            journal.append((s.seq, entry))
        return s.seq

    async def journal(self, *, since: int = 0, log: str = "") -> list[tuple[int, bytes]]:
        kept = self.store.logs.get(log, ()) if log else self.store.journal
        return [e for e in kept if e[0] > since]

    async def poll(
        self,
        keys: Sequence[str],
        *,
        now: float,
        counters: Sequence[CounterOp] = (),
        journal: Sequence[bytes] = (),
        keep: int = 0,
    ) -> PollResult:
        s = self.store
        counts: list[Count] = []
        for op in counters:
            c = self._count(op, now)
            counts.append(c)
            if not c.admitted:
                break
        if journal:
            self._append(journal, keep)
        clock = s.meta.get("clock")
        records = s.records
        return PollResult(
            ClockState.decode(clock[0]) if clock else None,
            clock[1] if clock else 0,
            [records.get(k) for k in keys],
            counts,
        )

    async def sweep(self, *, now: float, budget: int) -> int:
        s = self.store
        dropped = 0
        seen = 0
        while s.expiring and s.expiring[0][0] <= now and seen < budget:
            at, kind, name = heapq.heappop(s.expiring)
            seen += 1
            table = s.counters if kind == "c" else s.leases
            held = table.get(name)
            if held is not None and held[1] == at:  # not restarted or renewed since
                del table[name]
                dropped += 1
        return dropped

    async def clear(self) -> None:
        self.store.clear()
