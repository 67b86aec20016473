"""YouCam's typed stores, declared on its Provider: made files, access tokens, unit ledgers,
polling windows. Each is reset with the mock; what belongs to an evicted task goes with it."""

from __future__ import annotations

import heapq
from dataclasses import asdict
from typing import Any

from mockserver.media import fixture_bytes
from mockserver.providers.youcam.models import (
    AccessToken,
    FileRecord,
    Ledger,
    Lot,
    PollWindow,
    dst_id,
)
from mockserver.stores import RecordStore, Store
from mockserver.tasks import Task

# What a made file's record keeps: its bytes come back from its fixture, its size from them.
_FILE_KEPT = (
    "file_id",
    "tenant",
    "content_type",
    "file_name",
    "created_at",
    "expires_at",
    "fixture",
)


class FileStore(RecordStore):
    """The files the mock made itself (results' ``dst_id``), by file_id: the fleet's.

    A file outlives its task (30 days [DOC S10] against 24 h) and its id is a one-way hash of
    the task id, so the task's record cannot rebuild it: on a state backend each file is a
    record of its own (``by_record``: a few fields, the bytes are a fixture's, named), read
    back at start-up and by every replica. Each file goes ``file_retention`` after it was
    made: evicted in deadline order on every use and by the housekeeping tick (``sweep``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, FileRecord] = {}
        self._expiry: list[tuple[float, str]] = []

    def get(self, file_id: str, now: float) -> FileRecord | None:
        """The file under ``file_id``, or None (never made, deleted or expired by ``now``)."""
        self.sweep(now)
        return self.files.get(file_id)

    def add(self, record: FileRecord) -> None:
        self._keep(record)
        self.note(record.file_id)

    def _keep(self, record: FileRecord) -> None:
        self.files[record.file_id] = record
        if record.expires_at is not None:
            heapq.heappush(self._expiry, (record.expires_at, record.file_id))

    def _drop(self, file_id: str) -> None:
        del self.files[file_id]
        self.note(file_id)

    def sweep(self, now: float) -> None:
        """Drop the files whose retention ended by ``now``: one heap peek when none did."""
        heap = self._expiry
        while heap and heap[0][0] <= now:
            at, file_id = heapq.heappop(heap)
            record = self.files.get(file_id)
            if record is not None and record.expires_at == at:
                self._drop(file_id)

    def clear(self) -> None:
        self.files.clear()
        self._expiry.clear()
        self.changed.clear()

    def drop_task(self, task: Task, deleted: bool = False) -> None:
        """task/delete removes the task's output file [DOC S5]; an evicted task's stays (a
        file_id lives 30 days [DOC S10], longer than its task id)."""
        if deleted and task.provider == "youcam":
            record = self.files.get(dst_id(task))
            if record is not None and record.tenant == task.tenant:
                self._drop(record.file_id)

    def record(self, key: str) -> Any:
        r = self.files.get(key)
        if r is None:
            return None
        return {name: getattr(r, name) for name in _FILE_KEPT}

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.files.pop(key, None)  # its heap entry finds nothing when it falls due
            return
        body = fixture_bytes(data["fixture"])
        self._keep(FileRecord(**data, file_size=len(body), token="", data=body))

    def __len__(self) -> int:
        return len(self.files)


class TokenStore(RecordStore):
    """Access tokens issued by v1 ``client/auth``, by token: the fleet's.

    A token issued through one replica is the Bearer of its client on every other, and after
    a restart: on a state backend each token is a record of its own (``by_record``), written
    with the answer that issued it. An expired token is kept (refused as expired) until
    ``cap`` tokens are held; then the expired ones go, records too.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, AccessToken] = {}

    def get(self, token: str) -> AccessToken | None:
        return self.tokens.get(token)

    def issue(self, token: str, record: AccessToken, now: float, cap: int) -> None:
        tokens = self.tokens
        if len(tokens) >= cap:
            for stale in [t for t, rec in tokens.items() if rec.expires_at <= now]:
                del tokens[stale]
                self.note(stale)
        tokens[token] = record
        self.note(token)

    def record(self, key: str) -> Any:
        r = self.tokens.get(key)
        return None if r is None else asdict(r)

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.tokens.pop(key, None)
        else:
            self.tokens[key] = AccessToken(**data)

    def clear(self) -> None:
        self.tokens.clear()
        self.changed.clear()

    def __len__(self) -> int:
        return len(self.tokens)


class UnitStore(RecordStore):
    """Each tenant's unit lots, made the first time its credit is read or spent: the fleet's.

    Lot and history ids are drawn when a ledger is made or a change replayed into it, so
    another replica cannot rebuild them from the tenant's history: on a state backend each
    tenant's ledger is a record of its own (``by_record``), written with the answer that
    changed it (``touch``), read back at start-up and by every replica.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ledgers: dict[str, Ledger] = {}

    def touch(self, tenant: str) -> None:
        """The ledger of ``tenant`` changed: its record is written with this answer."""
        self.note(tenant)

    def record(self, key: str) -> Any:
        ledger = self.ledgers.get(key)
        if ledger is None:
            return None
        return {
            "lots": [asdict(lot) for lot in ledger.lots],
            "history": list(ledger.history),
            "seen": ledger.seen,
        }

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.ledgers.pop(key, None)
            return
        ledger = Ledger([Lot(**lot) for lot in data["lots"]], seen=data["seen"])
        ledger.history.extend(data["history"])
        self.ledgers[key] = ledger

    def clear(self) -> None:
        self.ledgers.clear()
        self.changed.clear()

    def drop_tenant(self, tenant: str) -> None:
        if self.ledgers.pop(tenant, None) is not None:
            self.note(tenant)

    def holds(self, tenant: str) -> bool:
        """A key whose lots were shown keeps them (their ids and expiry dates were drawn)."""
        return tenant in self.ledgers

    def __len__(self) -> int:
        return len(self.ledgers)


class PollStore(RecordStore):
    """The polling window of each YouCam task polled at least once, or lost to its window:
    the fleet's.

    A task never polled counts from its creation; that is the default, not a record, so a
    submit alone stores nothing here. On a state backend each window is a record of its own
    (``by_record``), but a poll is written only while the task could still be lost by the
    window the record holds (its deadline before the task ends): a poll that leaves the
    outcome as it was writes nothing, so a task that ends inside its window costs one write
    at most, and a tenant without a window (webhooks) none. Being lost is always written.
    """

    def __init__(self) -> None:
        super().__init__()
        self.windows: dict[str, PollWindow] = {}

    def last_polled_at(self, task: Task) -> float:
        window = self.windows.get(task.id)
        return task.created_at if window is None else window.last_polled_at

    def expired_at(self, task: Task) -> float | None:
        window = self.windows.get(task.id)
        return None if window is None else window.expired_at

    def lost(self, task: Task, now: float, window: float | None, poll: bool = False) -> bool:
        """Whether ``task`` is lost to its polling window at ``now``: marked lost already, or
        running past ``window`` seconds since it was last polled (then marked, at the
        deadline). With ``poll``, a live running task counts as polled at ``now``. One
        lookup: this is on every status poll's path."""
        record = self.windows.get(task.id)
        if record is not None and record.expired_at is not None:
            return True
        ends_at = task.timeline.ends_at
        can_lose = False  # whether the window as it stands could still lose the task
        if window is not None:
            deadline = (task.created_at if record is None else record.last_polled_at) + window
            if now > deadline and ends_at > deadline:
                self.expire(task, deadline)
                return True
            can_lose = deadline < ends_at
        if poll and now < ends_at:
            if record is None:
                self.windows[task.id] = PollWindow(now)
            else:
                record.last_polled_at = now
            if can_lose and self.kept:  # a poll that cannot change the outcome: unwritten
                self.note(task.id)  # (on memory, no call on the poll's path)
        return False

    def polled(self, task: Task, now: float) -> None:
        """A refused poll that counts for the window (rare: always written)."""
        window = self.windows.get(task.id)
        if window is None:
            self.windows[task.id] = PollWindow(now)
        else:
            window.last_polled_at = now
        self.note(task.id)

    def expire(self, task: Task, at: float) -> None:
        window = self.windows.get(task.id)
        if window is None:
            self.windows[task.id] = PollWindow(task.created_at, at)
        else:
            window.expired_at = at
        self.note(task.id)

    def describe_task(self, task: Task) -> dict[str, Any]:
        if task.provider != "youcam":
            return {}
        return {"expired_at": self.expired_at(task), "last_polled_at": self.last_polled_at(task)}

    def record(self, key: str) -> Any:
        window = self.windows.get(key)
        return None if window is None else [window.last_polled_at, window.expired_at]

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.windows.pop(key, None)
        else:
            self.windows[key] = PollWindow(*data)

    def clear(self) -> None:
        self.windows.clear()
        self.changed.clear()

    def drop_task(self, task: Task, deleted: bool = False) -> None:
        if task.provider == "youcam" and self.windows.pop(task.id, None) is not None:
            self.note(task.id)

    def __len__(self) -> int:
        return len(self.windows)


STORES: tuple[type[Store], ...] = (FileStore, TokenStore, UnitStore, PollStore)
