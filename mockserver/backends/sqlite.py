"""``sqlite:PATH``: an embedded store that survives a restart and a ``kill -9``.

WAL with ``synchronous=NORMAL`` by default: a commit has been written to the WAL file (handed
to the OS) before the call returns, so killing the process cannot lose an acknowledged write,
and a transaction is applied whole or not at all. What NORMAL gives up is the last commits
on a power cut or an OS crash, which a mock can afford; ``?synchronous=full`` fsyncs every
commit for that too (see bench/RESULTS.md for what it costs).

sqlite3 blocks, so every call runs on one worker thread per client: the event loop keeps
answering while a commit waits on the disk. Writes take ``BEGIN IMMEDIATE``, so processes
sharing the file serialise their writes and every compare-and-set sees the latest committed
version; writes that arrive during a commit share the next one (``_commit``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

from mockserver.backends.base import (
    CLOCK,
    REQUESTS,
    Backend,
    BackendUnavailable,
    Changes,
    ClockState,
    Conflict,
    Count,
    CounterOp,
    Page,
    PollResult,
    Record,
    Write,
    counted,
)

T = TypeVar("T")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB, version INTEGER);
CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, version INTEGER, value BLOB);
CREATE TABLE IF NOT EXISTS members (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, key TEXT, UNIQUE (name, key));
CREATE INDEX IF NOT EXISTS members_by_key ON members (key);
CREATE INDEX IF NOT EXISTS members_newest ON members (name, seq);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER, resets_at REAL);
CREATE INDEX IF NOT EXISTS counters_resets ON counters (resets_at);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT, expires_at REAL);
CREATE INDEX IF NOT EXISTS leases_expire ON leases (expires_at);
-- AUTOINCREMENT: a sequence number is never reused, even after clear() or a bound of 0
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry BLOB);
-- the fleet journal's request entries, apart from the change notices each request reads
CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry BLOB);
"""
TABLES = {"": "journal", REQUESTS: "requests"}  # a log's table

SYNCHRONOUS = ("normal", "full")


def parse_target(target: str) -> tuple[str, str]:
    """``PATH[?synchronous=normal|full]`` -> (path, synchronous)."""
    path, _, query = target.partition("?")
    options = parse_qs(query)
    sync = options.pop("synchronous", ["normal"])[-1].lower()
    if sync not in SYNCHRONOUS or options or not path:
        raise BackendUnavailable(
            f"bad sqlite state url 'sqlite:{target}': write sqlite:PATH, optionally with "
            "?synchronous=normal|full"
        )
    return path, sync


class SqliteBackend(Backend):
    def __init__(self, target: str) -> None:
        self.path, self.synchronous = parse_target(target)
        self.url = f"sqlite:{target}"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-state")
        self._db: sqlite3.Connection | None = None
        # The read before each request runs on the event loop's thread, on a connection of
        # its own: a WAL reader neither waits for the writer nor blocks it, and an indexed
        # read of a few rows costs less than the hop to the store's thread (~250 µs of CPU).
        self._reader: sqlite3.Connection | None = None
        # What the reader last read, and the file's ``data_version`` then: while no other
        # connection (this process's writer, another replica) has committed since, the
        # answer is the same, so a poll costs one pragma instead of a read transaction.
        self._quiet: tuple[int, int, Changes] | None = None  # (data_version, seen up to, read)
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._draining: asyncio.Future[None] | None = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _connect(self) -> None:
        await self._call(self._open)

    def _open(self) -> None:
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            db.execute("PRAGMA journal_mode=WAL").fetchone()
            db.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            db.executescript(_DDL)
            reader = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=1.0
            )
        except sqlite3.Error as err:
            raise BackendUnavailable(
                f"cannot open the sqlite state store at {self.path!r}: {err} (does the "
                "directory exist, is it writable, and is the file an avatar-mock store?)"
            ) from None
        self._db, self._reader = db, reader

    async def close(self) -> None:
        if self._draining is not None:
            await self._draining
        if self._reader is not None:
            self._reader.close()
            self._reader, self._quiet = None, None
        if self._db is not None:
            await self._call(self._db.close)
            self._db = None
        self._pool.shutdown(wait=True)

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "open() the backend first"
        return self._db

    async def _commit(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in a write transaction; answered once that transaction is committed.

        Writes issued while a commit is under way wait for the next one and share it (group
        commit): one transaction, one WAL write (one fsync with FULL) for many calls, each in
        a savepoint of its own, so a call that fails undoes only itself."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, args, future))
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain())
        return cast(T, await future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    outcomes = await self._call(self._commit_batch, [(f, a) for f, a, _ in batch])
                except Exception as err:  # the commit itself failed: nothing of it holds
                    outcomes = [(False, err)] * len(batch)
                for (_, _, future), (ok, out) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(out)
                    else:
                        future.set_exception(out)
        finally:
            self._draining = None

    def _commit_batch(
        self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]
    ) -> list[tuple[bool, Any]]:
        db = self.db
        outcomes: list[tuple[bool, Any]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for fn, args in calls:
                db.execute("SAVEPOINT call")
                try:
                    outcomes.append((True, fn(db, *args)))
                except Exception as err:
                    db.execute("ROLLBACK TO call")
                    outcomes.append((False, err))
                db.execute("RELEASE call")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return outcomes

    def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on one snapshot (a read transaction)."""
        db = self.db
        db.execute("BEGIN")
        try:
            return fn(db, *args)
        finally:
            db.execute("COMMIT")

    # -- meta ------------------------------------------------------------------------------
    async def get_meta(self, name: str) -> tuple[bytes, int] | None:
        return await self._call(self._get_meta, name)

    def _get_meta(self, name: str) -> tuple[bytes, int] | None:
        row = self.db.execute("SELECT value, version FROM meta WHERE name = ?", (name,))
        got = row.fetchone()
        return None if got is None else (bytes(got[0]), got[1])

    async def put_meta(self, name: str, value: bytes, *, version: int | None = None) -> bool:
        return await self._commit(_put_meta, name, value, version)

    # -- records ---------------------------------------------------------------------------
    async def get(self, key: str) -> Record | None:
        return (await self.get_many((key,)))[0]

    async def get_many(self, keys: Sequence[str]) -> list[Record | None]:
        return await self._call(_get_many, self.db, list(keys))

    async def put(
        self, key: str, value: bytes, *, version: int | None = None, indexes: Sequence[str] = ()
    ) -> int | None:
        return await self._commit(_put, key, value, version, tuple(indexes))

    async def delete(self, key: str, *, version: int | None = None) -> bool:
        return await self._commit(_delete, key, version)

    async def newest(self, index: str, *, limit: int, offset: int = 0) -> Page:
        return await self._call(self._newest, index, limit, offset)

    def _newest(self, index: str, limit: int, offset: int) -> Page:
        return self._read(_newest, index, limit, offset)

    # -- counters, leases, journal ----------------------------------------------------------
    async def count(self, op: CounterOp, *, now: float) -> Count:
        return await self._commit(_count, op, now)

    async def acquire(self, lease: str, owner: str, *, now: float, ttl: float) -> bool:
        return await self._commit(_acquire, lease, owner, now, now + ttl)

    async def release(self, lease: str, owner: str) -> bool:
        return await self._commit(_release, lease, owner)

    async def append(self, entries: Sequence[bytes], *, keep: int, log: str = "") -> int:
        return await self._commit(_append, list(entries), keep, TABLES[log])

    async def journal(self, *, since: int = 0, log: str = "") -> list[tuple[int, bytes]]:
        return await self._call(self._journal, since, TABLES[log])

    def _journal(self, since: int, table: str = "journal") -> list[tuple[int, bytes]]:
        rows = self.db.execute(
            f"SELECT seq, entry FROM {table} WHERE seq > ? ORDER BY seq", (since,)
        ).fetchall()
        return [(s, bytes(e)) for s, e in rows]

    async def poll(
        self,
        keys: Sequence[str],
        *,
        now: float,
        counters: Sequence[CounterOp] = (),
        journal: Sequence[bytes] = (),
        keep: int = 0,
    ) -> PollResult:
        if counters or journal:
            return await self._commit(_poll, list(keys), now, counters, journal, keep)
        return await self._call(self._read, _poll, list(keys), now, (), (), keep)

    async def sweep(self, *, now: float, budget: int) -> int:
        return await self._commit(_sweep, now, budget)

    async def clear(self) -> None:
        await self._commit(_clear)

    async def changes(
        self,
        since: int,
        *,
        now: float = 0.0,
        counters: Sequence[CounterOp] = (),
    ) -> Changes:
        if counters:  # they write: one transaction for the counts and the read
            return await self._commit(_changes, since, now, counters)
        reader = self._reader
        if reader is None:
            return await self._call(self._read, _changes, since, now, ())
        try:
            # data_version moves with every commit of any other connection to the file; read
            # before the snapshot, so a commit in between only makes the next call read again
            (version,) = reader.execute("PRAGMA data_version").fetchone()
            quiet = self._quiet
            if quiet is not None and quiet[0] == version and since >= quiet[1]:
                return Changes(quiet[2].clock, quiet[2].clock_version, [], [])
            reader.execute("BEGIN")  # one read transaction: clock and notices, one snapshot
            try:
                got = _changes(reader, since, now, ())
            finally:
                reader.execute("COMMIT")
        except sqlite3.Error as err:
            raise BackendUnavailable(f"cannot read the sqlite state store: {err}") from None
        seen = got.notices[-1][0] if got.notices else since
        self._quiet = (version, seen, got)
        return got

    async def write(self, changes: Write) -> dict[str, int]:
        """One transaction: the versions checked, then everything applied with its notice
        (a conflict rolls back this write's savepoint only)."""
        return await self._commit(_write, changes)


# The statements, each run inside the caller's transaction on the worker thread.


def _put_meta(db: sqlite3.Connection, name: str, value: bytes, version: int | None) -> bool:
    row = db.execute("SELECT version FROM meta WHERE name = ?", (name,)).fetchone()
    at = row[0] if row else 0
    if version is not None and version != at:
        return False
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)", (name, value, at + 1))
    return True


def _get_many(db: sqlite3.Connection, keys: list[str]) -> list[Record | None]:
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    rows = db.execute(f"SELECT key, version, value FROM records WHERE key IN ({marks})", keys)
    found = {k: Record(k, v, bytes(d)) for k, v, d in rows}
    return [found.get(k) for k in keys]


def _put(
    db: sqlite3.Connection, key: str, value: bytes, version: int | None, indexes: tuple[str, ...]
) -> int | None:
    row = db.execute("SELECT version FROM records WHERE key = ?", (key,)).fetchone()
    at = row[0] if row else 0
    if version is not None and version != at:
        return None
    db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (key, at + 1, value))
    for name in dict.fromkeys(indexes):
        db.execute("INSERT OR IGNORE INTO members (name, key) VALUES (?, ?)", (name, key))
    return at + 1


def _delete(db: sqlite3.Connection, key: str, version: int | None) -> bool:
    row = db.execute("SELECT version FROM records WHERE key = ?", (key,)).fetchone()
    if row is None or (version is not None and version != row[0]):
        return False
    db.execute("DELETE FROM records WHERE key = ?", (key,))
    db.execute("DELETE FROM members WHERE key = ?", (key,))
    return True


def _newest(db: sqlite3.Connection, index: str, limit: int, offset: int) -> Page:
    (total,) = db.execute("SELECT count(*) FROM members WHERE name = ?", (index,)).fetchone()
    rows = db.execute(
        "SELECT r.key, r.version, r.value FROM members m JOIN records r ON r.key = m.key"
        " WHERE m.name = ? ORDER BY m.seq DESC LIMIT ? OFFSET ?",
        (index, limit, offset),
    ).fetchall()
    return Page(total, [Record(k, v, bytes(d)) for k, v, d in rows])


def _count(db: sqlite3.Connection, op: CounterOp, now: float) -> Count:
    row = db.execute("SELECT value, resets_at FROM counters WHERE key = ?", (op.key,)).fetchone()
    current = None if row is None else (row[0], math.inf if row[1] is None else row[1])
    stored, answer = counted(current, op, now)
    if stored != current:
        resets = None if stored[1] == math.inf else stored[1]
        db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?, ?)", (op.key, stored[0], resets))
    return answer


def _acquire(db: sqlite3.Connection, lease: str, owner: str, now: float, until: float) -> bool:
    row = db.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (lease,)).fetchone()
    if row is not None and row[0] != owner and row[1] > now:
        return False
    db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (lease, owner, until))
    return True


def _release(db: sqlite3.Connection, lease: str, owner: str) -> bool:
    cur = db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (lease, owner))
    return cur.rowcount > 0


def _append(
    db: sqlite3.Connection, entries: Sequence[bytes], keep: int, table: str = "journal"
) -> int:
    db.executemany(f"INSERT INTO {table} (entry) VALUES (?)", [(e,) for e in entries])
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    last = row[0] if row else 0
    db.execute(f"DELETE FROM {table} WHERE seq <= ?", (last - keep,))
    return int(last)


def _poll(
    db: sqlite3.Connection,
    keys: list[str],
    now: float,
    counters: Sequence[CounterOp],
    journal: Sequence[bytes],
    keep: int,
) -> PollResult:
    counts = _count_all(db, counters, now)
    if journal:
        _append(db, journal, keep)
    clock = db.execute("SELECT value, version FROM meta WHERE name = ?", (CLOCK,)).fetchone()
    return PollResult(
        ClockState.decode(bytes(clock[0])) if clock else None,
        clock[1] if clock else 0,
        _get_many(db, keys),
        counts,
    )


def _sweep(db: sqlite3.Connection, now: float, budget: int) -> int:
    dropped = db.execute(
        "DELETE FROM counters WHERE key IN (SELECT key FROM counters WHERE resets_at <= ? LIMIT ?)",
        (now, budget),
    ).rowcount
    dropped += db.execute(
        "DELETE FROM leases WHERE name IN (SELECT name FROM leases WHERE expires_at <= ? LIMIT ?)",
        (now, max(0, budget - dropped)),
    ).rowcount
    return int(dropped)


def _count_all(db: sqlite3.Connection, counters: Sequence[CounterOp], now: float) -> list[Count]:
    """Count ``counters`` in turn, up to and including the first that refuses."""
    counts: list[Count] = []
    for op in counters:
        c = _count(db, op, now)
        counts.append(c)
        if not c.admitted:
            break
    return counts


def _changes(
    db: sqlite3.Connection, since: int, now: float, counters: Sequence[CounterOp]
) -> Changes:
    counts = _count_all(db, counters, now)
    got = _get_meta_in(db, CLOCK)
    rows = db.execute("SELECT seq, entry FROM journal WHERE seq > ? ORDER BY seq", (since,))
    entries = [(s, bytes(e)) for s, e in rows]
    if got is None:
        return Changes(None, 0, entries, counts)
    return Changes(ClockState.decode(got[0]), got[1], entries, counts)


def _get_meta_in(db: sqlite3.Connection, name: str) -> tuple[bytes, int] | None:
    got = db.execute("SELECT value, version FROM meta WHERE name = ?", (name,)).fetchone()
    return None if got is None else (bytes(got[0]), got[1])


def _write(db: sqlite3.Connection, changes: Write) -> dict[str, int]:
    if changes.clear:
        _clear(db)
    if changes.expect:
        found = {r.key: r.version for r in _get_many(db, list(changes.expect)) if r is not None}
        moved = [k for k, v in changes.expect.items() if found.get(k, 0) != v]
        if moved:
            raise Conflict(moved)  # _commit_batch rolls back to this call's savepoint
    for name, value in changes.meta:
        _put_meta(db, name, value, None)
    versions: dict[str, int] = {}
    for key, value, indexes in changes.puts:
        versions[key] = _put(db, key, value, None, indexes) or 0
    for key in changes.deletes:
        _delete(db, key, None)
        versions[key] = 0
    if changes.notice is not None:
        _append(db, [changes.notice], changes.keep)
    return versions


def _clear(db: sqlite3.Connection) -> None:
    for table in ("records", "members", "counters", "leases", *TABLES.values()):
        db.execute(f"DELETE FROM {table}")
