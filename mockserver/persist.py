"""The engine on a state backend (``--state sqlite:PATH``, ``redis://...``): what it keeps and
when it writes it.

The handlers stay synchronous and keep reading the in-memory objects (``TaskStore``,
``Accounts``, the clock), which serve as the replica's cache. The few mutation points tell
:class:`Persistence` what changed (task added, forced or removed; tenant made, charged,
refunded or forgotten; clock moved; sequences drawn), and before an answer leaves, the
changes of everything answered so far are written in one transaction
(:meth:`Persistence.flush`, on aiohttp's ``on_response_prepare``): an answer the client saw
is on disk, and a ``kill -9`` between two writes leaves each request's changes whole or
absent. At start-up :meth:`Persistence.restore` reads the store back into memory.

Each write is compare-and-set: it names the version of every record as this replica last
read, merged or wrote it, and a write another replica got ahead of is refused whole, read
back and its requests answered again (:mod:`mockserver.cas`).

With ``--state memory`` (the default) none of this exists: no hook is set, no step runs, and a
poll does exactly the work it did before.

A settlement's rule (when a scheduled charge or refund applies) is kept by name: a module
level function as ``module:qualname``; a closure cannot be named and is restored as "applies
when the task succeeded" (YouCam's charge with ``charge_expired_tasks``, its default).
"""

from __future__ import annotations

import asyncio
import heapq
import importlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.accounts import ChargeRule, History, Settlement, Tenant
from mockserver.backends import (
    Backend,
    BackendError,
    ClockState,
    Conflict,
    Count,
    CounterOp,
    Record,
    Write,
)
from mockserver.backends.base import CLOCK as CLOCK_META
from mockserver.cas import ATTEMPT, Attempt
from mockserver.clock import VirtualClock
from mockserver.lifecycle import Timeline
from mockserver.stateurl import MEMORY
from mockserver.stores import RecordStore
from mockserver.taskrefs import Find, UnknownTask, refs, resolved
from mockserver.tasks import Task
from mockserver.uploads import Upload, decode_upload, encode_upload, upload_key

if TYPE_CHECKING:
    from mockserver.state import MockState

log = logging.getLogger("avatar_mock")

TASKS = "tasks"  # the index of every task, in submit order
TENANTS = "tenants"
WRITES_KEPT = 1024  # the writes a request in flight may still wait for
UPLOADS = "uploads"  # every upload and reserved slot, bytes inline: upload:[space, tenant, key]
ENGINE = "engine"  # meta: id sequences
GENERATION = "generation"  # meta: how many times a mock opened this store
STORE = "store:"  # a provider store's record: store:<class name>
RECORD = "record"  # one record of a store kept by record: record:<class name>:<key>
NOTICES_KEPT = 10_000  # change notices the store keeps; a replica further behind reloads all


# --- codecs: one record per task and per tenant --------------------------------------------


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no infinity


def _inf(value: float | None) -> float:
    return math.inf if value is None else float(value)


def upload_record_key(upload: Upload) -> str:
    """``upload:[space, tenant, key]``: readable back when the record is gone."""
    where = [upload.space, upload.tenant, encode_upload_key(upload.key)]
    return "upload:" + orjson.dumps(where).decode()


def encode_upload_key(key: Any) -> Any:
    return [encode_upload_key(k) for k in key] if isinstance(key, tuple) else key


def record_key(name: str, key: str) -> str:
    return f"{RECORD}:{name}:{key}"


def record_index(name: str) -> str:
    """The index of a store kept record by record: ``records:<class name>``."""
    return f"{RECORD}s:{name}"


def task_key(provider: str, task_id: str) -> str:
    return f"task:{provider}:{task_id}"


def encode_task(task: Task, kept: dict[str, Any] | None = None) -> bytes:
    """The task's record; ``kept``: what the provider stores keep for it (Stores.task_data)."""
    t = task.timeline
    return orjson.dumps(
        {
            "id": task.id,
            "provider": task.provider,
            "family": task.family.name,
            "tenant": task.tenant,
            "seq": task.seq,
            "created_at": task.created_at,
            "evict_at": _finite(task.evict_at),
            "states": t.states,
            "times": [_finite(x) for x in t.times],
            "failure": t.failure,
            "params": task.params,
            "stores": refs(kept) if kept else None,
        },
        default=str,
    )


def decode_task(
    raw: bytes, families: Callable[[str, str], Any]
) -> tuple[Task, dict[str, Any]] | None:
    """The task ``raw`` holds and what its provider stores kept for it (Task references not
    resolved yet: see :func:`task_data`), or None when its family is not served now."""
    d = orjson.loads(raw)
    family = families(d["provider"], d["family"])
    if family is None:
        return None
    timeline = Timeline(tuple(d["states"]), tuple(_inf(x) for x in d["times"]), d["failure"])
    task = Task(
        id=d["id"],
        provider=d["provider"],
        family=family,
        tenant=d["tenant"],
        seq=d["seq"],
        created_at=d["created_at"],
        timeline=timeline,
        params=d["params"],
    )
    task.evict_at = _inf(d["evict_at"])
    return task, d.get("stores") or {}


def task_data(data: dict[str, Any], find: Find) -> dict[str, Any]:
    """``data`` with its Task references resolved; a store's data naming a task no longer
    held (evicted, deleted) is left out."""
    out = {}
    for name, value in data.items():
        try:
            out[name] = resolved(value, find)
        except UnknownTask:
            log.warning("state: %s data names %s, which is gone", name, value)
    return out


def rule_name(rule: ChargeRule) -> str:
    qualname = getattr(rule, "__qualname__", "")
    if "<locals>" in qualname or not qualname:
        return "succeeded"
    return f"{rule.__module__}:{qualname}"


def succeeded(task: Task, ended_at: float) -> bool:
    """The rule a closure is restored as: the charge applies when the task succeeded."""
    return task.timeline.succeeded


def rule_from(name: str) -> ChargeRule:
    module, _, qualname = name.partition(":")
    if not qualname:
        return succeeded
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        log.warning("state: settlement rule %s is gone; restored as 'succeeded'", name)
        return succeeded
    return found  # type: ignore[no-any-return]


def encode_tenant(tenant: Tenant) -> bytes:
    pending = [
        {
            "task": [s.task.provider, s.task.id],
            "currency": s.currency,
            "amount": s.amount,
            "reason": s.reason,
            "rule": rule_name(s.rule),
        }
        # a rescheduled settlement is in the heap twice (the stale entry is skipped when due)
        for s in {id(e[2]): e[2] for e in sorted(tenant._pending, key=lambda e: e[:2])}.values()
        if not s.done
    ]
    history = tenant.history
    return orjson.dumps(
        {
            "key": tenant.key,
            "balances": tenant.balances,
            "history": {"start": history.start, "entries": list(history)},
            "touched_at": tenant.touched_at,
            "pending": pending,
        }
    )


def decode_tenant(
    raw: bytes,
    history_size: int,
    task_of: Callable[[str, str], Task | None],
    seq: Callable[[], int],
) -> Tenant:
    d = orjson.loads(raw)
    history = History(history_size)
    for entry in d["history"]["entries"]:
        history.append(entry)
    history.start = d["history"]["start"] + max(len(d["history"]["entries"]) - history_size, 0)
    tenant = Tenant(d["key"], {k: float(v) for k, v in d["balances"].items()}, history)
    tenant.touched_at = d["touched_at"]
    for p in d["pending"]:
        task = task_of(*p["task"])
        if task is None:  # evicted or deleted: its settlement lapsed with it
            continue
        s = Settlement(task, p["currency"], p["amount"], p["reason"], rule_from(p["rule"]))
        heapq.heappush(tenant._pending, (task.timeline.ends_at, seq(), s))
        if s.amount < 0:
            tenant._reserved[s.currency] = tenant._reserved.get(s.currency, 0.0) - s.amount
    return tenant


async def _oldest_first(backend: Backend, index: str, page: int = 1000) -> list[Record]:
    """Every record of ``index``, in the order they were first written."""
    out: list[Record] = []
    while True:
        got = await backend.newest(index, limit=page, offset=len(out))
        out.extend(got.records)
        if len(got.records) < page:
            break
    out.reverse()
    return out


# --- the engine's side ---------------------------------------------------------------------


class Persistence:
    """One replica's link to its state store: dirty tracking, the write before each answer,
    the read at start-up."""

    def __init__(self, state: MockState, url: str) -> None:
        self.state = state
        self.url = url
        self.backend: Backend | None = None
        self._tasks: dict[tuple[str, str], Task | None] = {}  # None: removed
        self._tenants: dict[str, bool] = {}  # False: forgotten
        self._uploads: dict[str, Upload] = {}  # by record key; a dropped one is ``gone``
        self._clear = False
        self._seq_written: dict[str, int] = {}
        self._clock_moves = -1
        # Each write takes every change made since the one before, whichever request made
        # it, one write at a time (changes made meanwhile go in the next): a request is
        # answered once every write taken since it began is committed (``committed``).
        # What a failed write held is read back from the store.
        self._taken = 0
        self._done = 0  # the writes complete so far (in order: one at a time)
        self._lock = asyncio.Lock()
        self._writes: dict[int, asyncio.Future[None]] = {}
        self._unwritten: set[str] = set()
        # Compare-and-set (mockserver.cas): the store's version of each record this replica
        # holds, as read, merged or written (0 / absent: not in the store); and the
        # attempts whose changes wait for the next write.
        self._versions: dict[str, int] = {}
        self._makers: set[Attempt] = set()
        self._writing: set[str] = set()  # the keys of the write under way
        # Replicas: each write is followed by a notice in the store's change log (the backend
        # journal) naming the keys it wrote; before each request a replica reads the clock and
        # the notices after ``_seen`` and pulls what other replicas changed.
        self.replica = uuid.uuid4().hex
        self._seen = 0
        self._clock_version = 0
        self._clock_written = b""  # the clock as this replica last wrote it
        self._pulling = False
        # Kinds of record kept by a module of their own (webhook deliveries), by key prefix.
        from mockserver.delivery_store import DeliveryRecords

        self.parts: dict[str, Any] = {DeliveryRecords.kind: DeliveryRecords(state, self)}
        # their records are guarded by leases, not versions: written unchecked, none kept
        self._unversioned = tuple(f"{kind}:" for kind in self.parts)

    # -- start and stop ---------------------------------------------------------------------
    async def start(self, _app: object = None) -> None:
        """Open the store (refusing one it cannot reach or read) and load it into memory."""
        from mockserver.backends import open_backend

        self.backend = await open_backend(self.url)
        await self.restore()
        self.attach()

    async def stop(self, _app: object = None) -> None:
        if self.backend is not None:
            await self.flush()
            await self.backend.close()
            self.backend = None

    def attach(self) -> None:
        """Hook the dirty tracking into the state's objects (again after a reset)."""
        store, accounts = self.state.store, self.state.accounts
        store.watch = self._task_changed
        store.unwatch = self._task_removed
        self.state.uploads.watch = self._upload_changed
        accounts.watch = self._tenant_changed
        accounts.unwatch = self._tenant_forgotten
        for tenant in accounts.all():
            tenant.watch = self._tenant_changed
        for kept in self.state.stores.by_record().values():
            if isinstance(kept, RecordStore):
                kept.kept = True  # from now on it notes what it changes

    def reset(self) -> None:
        """``POST /__mock/reset``: the next write forgets the store's records first."""
        self._tasks.clear()
        self._tenants.clear()
        self._uploads.clear()
        self._clear = True
        self._seq_written = {}
        self._versions.clear()
        self.attach()

    @property
    def position(self) -> tuple[int, int]:
        """How far this replica has read the store (notices, clock): it moves when a pull
        brought something in."""
        return self._seen, self._clock_version

    def _made(self) -> None:
        """The attempt under way changed something: the next write holds it."""
        attempt = ATTEMPT.get()
        if attempt is not None:
            self._makers.add(attempt)

    def _task_changed(self, task: Task) -> None:
        if not self._pulling:
            self._tasks[(task.provider, task.id)] = task
            self._made()

    def _task_removed(self, task: Task) -> None:
        if not self._pulling:
            self._tasks[(task.provider, task.id)] = None
            self._made()

    def _upload_changed(self, upload: Upload) -> None:
        if not self._pulling:
            self._uploads[upload_record_key(upload)] = upload
            self._made()

    def _tenant_changed(self, key: str) -> None:
        if not self._pulling:
            self._tenants[key] = True
            self._made()

    def _tenant_forgotten(self, key: str) -> None:
        if not self._pulling:
            self._tenants[key] = False
            self._made()

    # -- reading the store back -------------------------------------------------------------
    async def restore(self) -> None:
        backend = self.backend
        assert backend is not None
        state = self.state
        while True:  # compare-and-set: replicas opening the store at once get one each
            generation = await backend.get_meta(GENERATION)
            number = int(generation[0]) + 1 if generation is not None else 0
            at = generation[1] if generation is not None else 0
            if await backend.put_meta(GENERATION, str(number).encode(), version=at):
                break
        # ids stay unique across replicas and restarts: each opening draws its own
        state.take_generation(number)
        got = await backend.read_clock()
        clock = state.clock
        if isinstance(clock, VirtualClock):
            if got[0] is not None:
                clock.resume(got[0].now(time.time()), got[0].speed)
            else:  # the first replica's clock is the fleet's
                await backend.write_clock(ClockState(clock.now(), time.time(), clock.speed))
                got = await backend.read_clock()
        self._clock_version = got[1]
        notices = await backend.journal(since=0)
        self._seen = notices[-1][0] if notices else 0
        self._clock_moves = getattr(clock, "moves", 0)
        engine = await backend.get_meta(ENGINE)
        if engine is not None:
            seqs = orjson.loads(engine[0]).get("seq", {})
            state._seq.update(seqs)
            self._seq_written = dict(seqs)
        registered = state.providers()

        def family(provider: str, name: str) -> Any:
            p = registered.get(provider)
            return None if p is None else p.task_families.get(name)

        versions = self._versions
        for record in await _oldest_first(backend, TASKS):  # oldest first: a task names older ones
            versions[record.key] = record.version
            decoded = decode_task(record.value, family)
            if decoded is None:
                continue
            task, held = decoded
            retention = None if math.isinf(task.evict_at) else task.evict_at - task.created_at
            evict_at = task.evict_at
            state.store.add(task, retention)
            task.evict_at = evict_at
            state.stores.load_task_data(task, task_data(held, state.store.get_any))
        stores = state.stores.kept()
        for kept in await backend.get_many([STORE + name for name in stores]):
            if kept is not None:
                versions[kept.key] = kept.version
                stores[kept.key[len(STORE) :]].load(orjson.loads(kept.value))
        for name, store in state.stores.by_record().items():
            prefix = len(record_key(name, ""))
            for record in await _oldest_first(backend, record_index(name)):
                versions[record.key] = record.version
                store.load_record(record.key[prefix:], orjson.loads(record.value))
        accounts = state.accounts
        for record in await _oldest_first(backend, TENANTS):
            versions[record.key] = record.version
            tenant = decode_tenant(
                record.value,
                accounts.history_size,
                state.store.get_any,
                accounts.next_seq,
            )
            accounts.keep(tenant)
        for record in await _oldest_first(backend, UPLOADS):
            versions[record.key] = record.version
            state.uploads.restore(*decode_upload(orjson.loads(record.value)))
        for part in self.parts.values():
            await part.restore(backend, await _oldest_first(backend, part.index))
        log.info(
            "state: %s restored %d tasks, %d tenants, %d uploads (generation %d)",
            self.url,
            len(state.store),
            len(accounts),
            len(state.uploads),
            number,
        )

    # -- writing ----------------------------------------------------------------------------
    def pending(self) -> Write:
        """What changed since the last write, encoded now, and forgotten here."""
        state = self.state
        changes = Write(clear=self._clear)
        self._clear = False
        stores = state.stores
        for (provider, task_id), task in self._tasks.items():
            key = task_key(provider, task_id)
            if task is None:
                changes.deletes.append(key)
            else:
                held = stores.task_data(task)
                changes.puts.append((key, encode_task(task, held), (TASKS,)))
        self._tasks.clear()
        accounts = state.accounts
        for key, kept in self._tenants.items():
            tenant = accounts.existing(key) if kept else None
            if tenant is None:
                changes.deletes.append(f"tenant:{key}")
            else:
                changes.puts.append((f"tenant:{key}", encode_tenant(tenant), (TENANTS,)))
        self._tenants.clear()
        for key, upload in self._uploads.items():
            if upload.gone:
                changes.deletes.append(key)
            else:
                changes.puts.append((key, orjson.dumps(encode_upload(upload)), (UPLOADS,)))
        self._uploads.clear()
        for part in self.parts.values():
            part.pending(changes)
        for name, store in state.stores.by_record().items():
            for key in store.changed:
                data = store.record(key)
                if data is None:
                    changes.deletes.append(record_key(name, key))
                else:
                    value = orjson.dumps(data, default=str)
                    changes.puts.append((record_key(name, key), value, (record_index(name),)))
            store.changed.clear()
            store.dirty = False
        for name, store in state.stores.kept().items():
            if store.dirty:
                store.dirty = False
                data = store.dump()
                if data is not None:
                    changes.puts.append((STORE + name, orjson.dumps(data, default=str), ()))
        if state._seq != self._seq_written:
            self._seq_written = dict(state._seq)
            changes.meta.append((ENGINE, orjson.dumps({"seq": self._seq_written})))
        clock = state.clock
        moves = getattr(clock, "moves", None)
        if moves is not None and moves != self._clock_moves:
            self._clock_moves = moves
            reading = ClockState(clock.now(), time.time(), clock.speed).encode()
            self._clock_written = reading
            changes.meta.append((CLOCK_META, reading))
        versions = self._versions
        keys = [k for k, _, _ in changes.puts] + changes.deletes
        unversioned = self._unversioned
        changes.expect = {k: versions.get(k, 0) for k in keys if not k.startswith(unversioned)}
        if changes.meta and any(name == CLOCK_META for name, _ in changes.meta):
            keys.append(CLOCK_META)
        notice = {"replica": self.replica, "keys": keys, "clear": changes.clear}
        changes.notice, changes.keep = orjson.dumps(notice), NOTICES_KEPT
        return changes

    async def _write(self, backend: Backend) -> int:
        """Take what changed and write it, compare-and-set, one write at a time; the write's
        number (0: nothing was left to take). A refused write is undone here (``_undo``)
        before its future says so."""
        async with self._lock:
            if not self._changed():
                return 0
            changes = self.pending()
            makers, self._makers = self._makers, set()
            self._taken += 1
            n = self._taken
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            future.add_done_callback(_observed)
            self._writes[n] = future
            self._writes.pop(n - WRITES_KEPT, None)
            for attempt in makers:
                attempt.writes.add(n)
            self._writing = set(changes.expect)
            try:
                versions = await backend.write(changes)
            except Conflict as err:
                self._writing = set()
                log.info("state: %s moved under this replica; read back", ", ".join(err.keys))
                try:
                    await self._undo(changes, makers)
                except BaseException as again:
                    future.set_exception(again)
                    raise
                future.set_exception(err)
                return n
            except BaseException as err:
                self._unwritten.update(changes.expect)  # the cache holds what the store does not
                future.set_exception(err)
                raise
            finally:
                self._done = n
                self._writing = set()
            for key, version in versions.items():
                if key.startswith(self._unversioned):
                    continue
                if version:
                    self._versions[key] = version
                else:
                    self._versions.pop(key, None)
            future.set_result(None)
            return n

    async def _undo(self, changes: Write, makers: set[Attempt]) -> None:
        """After a refused write: the store's records of its keys replace the cache's, and
        so do those of every change made since it was taken (they may rest on what is
        undone); the attempts that made them are lost and run again."""
        keys = dict.fromkeys(changes.expect)
        # its delivery records too (unversioned, so not expected): those of a task the lost
        # attempt deleted are planned again here, for the attempt run again to forget
        unversioned = self._unversioned
        written = (*(key for key, _, _ in changes.puts), *changes.deletes)
        keys.update(dict.fromkeys(k for k in written if k.startswith(unversioned)))
        for provider, task_id in self._tasks:
            keys[task_key(provider, task_id)] = None
        keys.update(dict.fromkeys(f"tenant:{k}" for k in self._tenants))
        keys.update(dict.fromkeys(self._uploads))
        for name, store in self.state.stores.by_record().items():
            keys.update(dict.fromkeys(record_key(name, key) for key in store.changed))
            store.changed.clear()
            store.dirty = False
        for name, store in self.state.stores.kept().items():
            if store.dirty:
                store.dirty = False
                keys[STORE + name] = None
        self._tasks.clear()
        self._tenants.clear()
        self._uploads.clear()
        for attempt in (*makers, *self._makers):
            attempt.lost = True
        self._makers = set()
        await self._merge(list(keys))

    async def pull(self, counters: Sequence[CounterOp] = (), now: float = 0.0) -> list[Count]:
        """What other replicas changed since this one last looked: the clock, and the
        records their notices name (every record again when notices were missed). The
        request's fleet-wide ``counters`` (mockserver.fleet) are counted at ``now`` in the
        same read; their counts are the answer."""
        backend = self.backend
        if backend is None:
            return []
        state = self.state
        clock_state, version, notices, counts = await backend.changes(
            self._seen, now=now, counters=counters
        )
        clock = state.clock
        if version != self._clock_version and clock_state is not None:
            self._clock_version = version
            # this replica's own write: the clock here is that or newer (moved in-process since)
            if isinstance(clock, VirtualClock) and clock_state.encode() != self._clock_written:
                clock.resume(clock_state.now(time.time()), clock_state.speed)
        if self._unwritten:  # a write failed: the store's records, not the cache's, stand
            unwritten, self._unwritten = self._unwritten, set()
            await self._merge(sorted(unwritten))
        if not notices:
            return counts
        missed = self._seen and notices[0][0] > self._seen + 1
        self._seen = notices[-1][0]
        keys: dict[str, None] = {}
        for _, raw in notices:
            if raw[:1] != b"{":  # a request the fleet's journal keeps, not a notice
                continue
            notice = orjson.loads(raw)
            if not isinstance(notice, dict) or notice.get("replica", self.replica) == self.replica:
                continue
            if notice["clear"]:
                self._pulling = True
                try:
                    state.reset()
                finally:
                    self._pulling = False
                self._clear = False  # the other replica cleared the store already
                keys.clear()
            keys.update(dict.fromkeys(k for k in notice["keys"] if k != CLOCK_META))
        if missed:
            keys = {}
            await self._reload_all()
        if keys:
            await self._merge([k for k in keys if not self._busy(k)])
        return counts

    def _busy(self, key: str) -> bool:
        """Whether this replica's own change to ``key`` is being written or waits to be: a
        notice read now must not lay an older record over it. The write settles it (taken:
        this replica's record stands; refused: the store's is read back)."""
        if key in self._writing:
            return True
        kind, _, rest = key.partition(":")
        if kind == "task":
            provider, _, task_id = rest.partition(":")
            return (provider, task_id) in self._tasks
        if kind == "tenant":
            return rest in self._tenants
        if kind == "upload":
            return key in self._uploads
        if kind == RECORD:
            name, _, own = rest.partition(":")
            store = self.state.stores.by_record().get(name)
            return store is not None and own in store.changed
        return False

    async def _reload_all(self) -> None:
        backend = self.backend
        assert backend is not None
        kept = (record_index(name) for name in self.state.stores.by_record())
        for index in (TASKS, TENANTS, UPLOADS, *(p.index for p in self.parts.values()), *kept):
            records = await _oldest_first(backend, index)
            await self._merge([r.key for r in records])

    async def _merge(self, keys: list[str]) -> None:
        """Lay the stored records of ``keys`` over this replica's objects, in place."""
        backend = self.backend
        assert backend is not None
        state = self.state
        keys.sort(key=lambda k: not k.startswith("task:"))  # tasks first: settlements name them
        records = await backend.get_many(keys)
        registered = state.providers()
        versions = self._versions
        self._pulling = True
        try:
            for key, record in zip(keys, records, strict=True):
                if self._busy(key):  # changed here while it was read: the next write settles it
                    continue
                if record is None:
                    versions.pop(key, None)
                elif not key.startswith(self._unversioned):  # a lease guards the others
                    versions[key] = record.version
                kind, _, rest = key.partition(":")
                if kind == "task":
                    provider, _, task_id = rest.partition(":")
                    self._merge_task(provider, task_id, record, registered)
                elif kind == "tenant":
                    self._merge_tenant(rest, record)
                elif kind == "upload":
                    self._merge_upload(rest, record)
                elif kind == RECORD:
                    name, _, own = rest.partition(":")
                    by_record = state.stores.by_record().get(name)
                    if by_record is not None:
                        data = None if record is None else orjson.loads(record.value)
                        by_record.load_record(own, data)
                elif kind == "store" and record is not None:
                    store = state.stores.kept().get(rest)
                    if store is not None:
                        store.load(orjson.loads(record.value))
                elif kind in self.parts:
                    self.parts[kind].merge(key, record)
        finally:
            self._pulling = False

    def _merge_task(
        self, provider: str, task_id: str, record: Record | None, registered: dict[str, Any]
    ) -> None:
        store = self.state.store
        mine = store.get_any(provider, task_id)
        if record is None:
            if mine is not None:  # gone from the fleet: nothing to send, nothing to keep
                self.state.retention.drop(mine)
            return

        def family(p: str, name: str) -> Any:
            found = registered.get(p)
            return None if found is None else found.task_families.get(name)

        decoded = decode_task(record.value, family)
        if decoded is None:
            return
        theirs, held = decoded
        if mine is None:
            evict_at = theirs.evict_at
            retention = None if math.isinf(evict_at) else evict_at - theirs.created_at
            store.add(theirs, retention)
            theirs.evict_at = evict_at
            mine = theirs
        else:  # in place: settlements and deliveries hold this object
            mine.timeline, mine.params = theirs.timeline, theirs.params
        self.state.stores.load_task_data(mine, task_data(held, store.get_any))

    def _merge_upload(self, where: str, record: Record | None) -> None:
        uploads = self.state.uploads
        if record is not None:
            uploads.restore(*decode_upload(orjson.loads(record.value)))  # replaces the old
            return
        space, tenant, key = orjson.loads(where)
        mine = uploads.entry(space, tenant, upload_key(key))
        if mine is not None:
            uploads.drop(mine)

    def _merge_tenant(self, key: str, record: Record | None) -> None:
        accounts = self.state.accounts
        if record is None:
            accounts.forget(key)
            return
        tenant = decode_tenant(
            record.value, accounts.history_size, self.state.store.get_any, accounts.next_seq
        )
        mine = accounts.existing(key)
        if mine is None:
            accounts.keep(tenant)
            return
        mine.balances, mine.history = tenant.balances, tenant.history
        mine._pending, mine._reserved = tenant._pending, tenant._reserved

    def _changed(self) -> bool:
        state = self.state
        return bool(  # the common case, a poll: nothing changed, so no Write is built
            self._tasks
            or self._tenants
            or self._uploads
            or self._clear
            or getattr(state.clock, "moves", self._clock_moves) != self._clock_moves
            or state.stores.dirty()
            or state._seq != self._seq_written
            or any(part.dirty for part in self.parts.values())
        )

    async def flush(self, *_: object) -> None:
        """Write what changed; return once it (and every earlier write) is committed.
        Raises ``Conflict`` when the attempt under way is undone (a streamed answer is
        then not sent), another ``BackendError`` when the write failed."""
        backend = self.backend
        if backend is None:
            return
        attempt = ATTEMPT.get()
        if self._changed():
            if attempt is not None:
                self._makers.add(attempt)  # what no hook tells: a provider store, the clock
            task = asyncio.ensure_future(self._write(backend))
            try:
                await asyncio.shield(task)
            except BackendError:
                log.exception("state: cannot write to %s", self.url)
                raise
        elif self._done < self._taken:  # a write is under way: it may hold this one's changes
            future = self._writes.get(self._taken)
            if future is not None:
                await asyncio.wait([future])
        if attempt is not None and not self.stands(attempt, ()):
            raise Conflict([])

    def done(self) -> int:
        """How many writes are complete: what an :class:`Attempt` begins at."""
        return self._done

    def stands(self, attempt: Attempt, refused: set[int] | tuple[int, ...]) -> bool:
        """Whether ``attempt``'s answer holds: none of its changes was undone; with none of
        its own, no write it may have read (``refused``: the ones that conflicted) was."""
        if attempt.lost:
            return False
        for n in attempt.writes:
            future = self._writes.get(n)
            if future is not None and future.done() and isinstance(future.exception(), Conflict):
                return False
        return bool(attempt.writes) or not refused

    async def committed(self, attempt: Attempt) -> bool:
        """Write what changed, then wait for every write taken since ``attempt`` began;
        whether the attempt stands (False: run it again). Raises when a write failed for
        another reason than a conflict."""
        try:
            await self.flush()
        except Conflict:
            return False
        refused: set[int] = set()
        for n in range(attempt.since + 1, self._taken + 1):
            future = self._writes.get(n)
            if future is None:
                continue
            try:
                await asyncio.shield(future)
            except Conflict:
                refused.add(n)
        return self.stands(attempt, refused)


def _observed(future: asyncio.Future[None]) -> None:
    """A write's outcome is read by the requests that wait for it, if any are left."""
    if not future.cancelled():
        future.exception()


def persistence_for(state: MockState, url: str) -> Persistence | None:
    """A :class:`Persistence` for ``url``, or None for memory (nothing to add)."""
    if url == MEMORY:
        return None
    from mockserver.backends import make_backend

    make_backend(url)  # refuse a url no backend reads, before anything starts
    return Persistence(state, url)
