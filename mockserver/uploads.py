"""Uploaded bytes, per tenant: spooled to a temporary folder, capped, with quotas and retention.

Both providers hand out presigned-S3 stand-ins for uploads (YouCam's ``/__upload/...``, A2E's
``/__a2e-r2/...``). Whatever they keep is kept here, so that one store bounds it:

- a body is streamed in chunks to a file in a temporary folder, never held in memory;
- each object has a size cap (the size a YouCam slot was signed for; A2E's ``max_file_bytes``),
  each tenant a quota per provider (objects and bytes, reserved slots included), and each
  provider a total over all its tenants (``providers.<name>.settings.uploads``);
- an object lives until its retention ends and a reserved slot never filled until its URL
  expires; eviction is lazy (an expiry heap read on every use of the store, no timer);
- eviction, reset, the drop helpers (``drop_tenant``, ``drop_task``) and shutdown delete the
  files together with their records.

Refusals are :class:`UploadRefused` with S3's own codes (``EntityTooLarge``, ``IncompleteBody``),
which the PUT handlers render as S3 XML. S3 has no quota error; a quota used up is 403
``QuotaExceeded`` [guess: the code Ceph RGW, an S3-compatible store, answers].
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import os
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mockserver.issuer import SecretIssuer
from mockserver.media import S3Error

if TYPE_CHECKING:
    from mockserver.tasks import Task

CHUNK = 64 * 1024
MIB = 1024 * 1024

# Declared types served as they are; anything else (html, svg, xml, javascript, ...) could run
# in a browser that opens the link, so it is served as an attachment of unknown type.
PASSIVE_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/json",
        "text/plain",
        "text/csv",
    }
)
PASSIVE_FAMILIES = ("image/", "audio/", "video/")
ACTIVE_IMAGES = frozenset({"image/svg+xml"})


class Body(Protocol):
    """What an aiohttp request's ``content`` offers (a StreamReader)."""

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class UploadLimits:
    """The bounds of one provider's uploads; the defaults are default.yaml's."""

    max_file_bytes: int | None = 100 * MIB  # no cap when None (YouCam: the slot's own size)
    max_files: int = 1000  # per tenant: objects and reserved slots
    max_bytes: int = 1024 * MIB  # per tenant
    max_total_bytes: int = 8192 * MIB  # all tenants of the provider together
    retention: float | None = 259200.0  # seconds an object is kept (None: until reset)
    url_ttl: float = 3600.0  # seconds a reserved slot waits for its bytes

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None, **overrides: Any) -> UploadLimits:
        given = {k: v for k, v in (settings or {}).items() if k in cls.__dataclass_fields__}
        return cls(**{**given, **overrides})


class UploadRefused(S3Error):
    """An upload the store will not keep (too large, over a quota, short, the disk full)."""


def too_large(proposed: int, allowed: int) -> UploadRefused:
    return UploadRefused(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        ProposedSize=proposed,
        MaxSizeAllowed=allowed,
    )


def _quota(what: str) -> UploadRefused:
    return UploadRefused(403, "QuotaExceeded", f"The {what} quota is used up")


@dataclass(eq=False, slots=True)
class Upload:
    """One object (or a reserved slot for one) of one tenant in one provider's space."""

    space: str
    tenant: str
    key: Hashable
    content_type: str
    created_at: float
    expires_at: float | None
    declared: int | None = None  # the size a reserved slot was signed for
    handle: str = ""  # the unguessable part of a reserved slot's URL
    url_expires_at: float | None = None
    size: int = 0
    etag: str = ""
    path: Path | None = None  # None until the bytes arrived
    gone: bool = False

    @property
    def stored(self) -> bool:
        return self.path is not None and not self.gone

    @property
    def charge(self) -> int:
        """Bytes counted against the quotas: what arrived, or what a slot reserved."""
        return self.size if self.path is not None else (self.declared or 0)


def encode_upload(u: Upload) -> dict[str, Any]:
    """``u`` as JSON values, its bytes inline as base64 (a snapshot's and a state backend's
    record of an upload; None while a reserved slot waits for them)."""
    data = u.path.read_bytes() if u.path is not None else None
    return {
        "space": u.space,
        "tenant": u.tenant,
        "key": list(u.key) if isinstance(u.key, tuple) else u.key,
        "content_type": u.content_type,
        "created_at": u.created_at,
        "expires_at": u.expires_at,
        "declared": u.declared,
        "handle": u.handle,
        "url_expires_at": u.url_expires_at,
        "size": u.size,
        "etag": u.etag,
        "body": None if data is None else base64.b64encode(data).decode("ascii"),
    }


def upload_key(raw: Any) -> Hashable:
    """An upload's key as JSON gave it back (a list was a tuple)."""
    return tuple(upload_key(part) for part in raw) if isinstance(raw, list) else raw


def decode_upload(raw: dict[str, Any]) -> tuple[Upload, bytes | None]:
    """The upload ``encode_upload`` wrote and its bytes; ValueError when they are not base64."""
    data = None if raw["body"] is None else base64.b64decode(raw["body"], validate=True)
    upload = Upload(
        raw["space"],
        raw["tenant"],
        upload_key(raw["key"]),
        raw["content_type"],
        created_at=raw["created_at"],
        expires_at=raw["expires_at"],
        declared=raw["declared"],
        handle=raw["handle"],
        url_expires_at=raw["url_expires_at"],
        size=len(data) if data is not None else 0,
        etag=raw["etag"],
    )
    return upload, data


# provider -> the keys of the uploads a task names (registered by the provider's upload module)
TaskFiles = Callable[["Task"], Iterable[Hashable]]
_TASK_FILES: dict[str, TaskFiles] = {}
_DELETED_WITH_TASK: set[str] = set()  # providers whose API delete removes the task's files


def task_files(
    provider: str, *, deleted_with_task: bool = False
) -> Callable[[TaskFiles], TaskFiles]:
    """Register how to find the uploads a task of ``provider`` names (for ``drop_task``).
    They go when the task is evicted; with ``deleted_with_task`` (the provider documents
    it) also when it is deleted through the API, else an upload outlives the delete."""

    def register(fn: TaskFiles) -> TaskFiles:
        _TASK_FILES[provider] = fn
        if deleted_with_task:
            _DELETED_WITH_TASK.add(provider)
        return fn

    return register


class UploadStore:
    """Every upload the mock keeps, keyed by ``(space, tenant, key)``; see the module docstring."""

    def __init__(self) -> None:
        self._folder: Path | None = None  # created on the first write
        self._finalizer: weakref.finalize | None = None
        # A state backend's tracking (mockserver.persist): told of every upload or slot made,
        # filled or dropped, so the request that did it writes it before its answer.
        self.watch: Callable[[Upload], None] | None = None
        self._reset()

    def _reset(self) -> None:
        self._entries: dict[tuple[str, str, Hashable], Upload] = {}
        self._handles: dict[str, Upload] = {}
        self._used: dict[tuple[str, str], list[int]] = {}  # (space, tenant) -> [count, bytes]
        self._totals: dict[str, int] = {}  # space -> bytes, in-flight bodies included
        self._expiry: list[tuple[float, int, Upload]] = []
        self._seq = itertools.count()
        self._epoch = object()  # a write that outlives a reset does not land in the new store

    # --- reading -----------------------------------------------------------------------------

    def get(self, space: str, tenant: str, key: Hashable, now: float) -> Upload | None:
        """The tenant's stored object, or None (never uploaded, another tenant's, or evicted)."""
        self.evict(now)
        entry = self._entries.get((space, tenant, key))
        return entry if entry is not None and entry.stored else None

    def slot(self, handle: str, now: float) -> Upload | None:
        """The reserved slot behind a URL token, or None when there is none (or it is gone)."""
        self.evict(now)
        return self._handles.get(handle)

    @property
    def folder(self) -> Path | None:
        """Where the bytes are spooled (made on the first upload; removed at shutdown)."""
        return self._folder

    def usage(self, space: str, tenant: str) -> tuple[int, int]:
        """``(objects, bytes)`` the tenant holds in ``space``, reserved slots included."""
        count, used = self._used.get((space, tenant), (0, 0))
        return count, used

    def holds(self, tenant: str) -> bool:
        """Whether the tenant keeps any upload or reserved slot, in any space."""
        return any((space, tenant) in self._used for space in self._totals)

    def __len__(self) -> int:
        return len(self._entries)

    # --- writing -----------------------------------------------------------------------------

    def reserve(
        self,
        space: str,
        tenant: str,
        key: Hashable,
        *,
        content_type: str,
        declared: int,
        now: float,
        limits: UploadLimits,
    ) -> Upload:
        """A slot for one object of ``declared`` bytes, counted against the quotas from now on
        (YouCam's file API signs the size). Its URL token is ``.handle``, from the OS."""
        self.evict(now)
        self._check_room(space, tenant, limits, declared, True)
        handle = SecretIssuer.token_urlsafe(40)
        expires = now + limits.url_ttl
        entry = Upload(
            space,
            tenant,
            key,
            content_type,
            created_at=now,
            expires_at=expires,
            declared=declared,
            handle=handle,
            url_expires_at=expires,
        )
        self._insert(entry)
        self._handles[handle] = entry
        self._count(entry, +1)
        return entry

    async def write(
        self,
        body: Body,
        length: int | None,
        *,
        space: str,
        tenant: str,
        key: Hashable,
        content_type: str,
        now: float,
        limits: UploadLimits,
        slot: Upload | None = None,
    ) -> Upload:
        """Stream ``body`` to disk as the tenant's object ``key`` (into ``slot`` when the size
        was signed beforehand), replacing any object under that key. ``length`` is the
        request's Content-Length, if any, so an oversized body is refused before it is read."""
        self.evict(now)
        old = None if slot is not None else self._entries.get((space, tenant, key))
        freed = old.charge if old is not None else 0  # a replaced object frees its bytes
        cap = slot.declared if slot is not None else limits.max_file_bytes
        if length is not None and cap is not None and length > cap:
            raise too_large(length, cap)
        if slot is None:  # a slot's bytes were counted when it was reserved
            self._check_room(space, tenant, limits, length or 0, old is None, freed)
        epoch = self._epoch
        path = self._new_path()
        digest = hashlib.md5(usedforsecurity=False)
        received = counted = 0  # counted: in-flight bytes added to the usage
        try:
            with path.open("wb") as out:
                async for chunk in body.iter_chunked(CHUNK):
                    if self._epoch is not epoch:
                        raise UploadRefused(409, "OperationAborted", "The mock was reset")
                    received += len(chunk)
                    if cap is not None and received > cap:
                        raise too_large(received, cap)
                    if slot is None:  # counted while in flight, so parallel PUTs share the room
                        self._check_room(space, tenant, limits, len(chunk), False, freed)
                        self._add_inflight(space, tenant, len(chunk))
                        counted = received
                    digest.update(chunk)
                    # Synchronous on purpose: a 64 KiB write to the page cache takes
                    # microseconds, a thread hop per chunk costs more than it saves.
                    out.write(chunk)
        except BaseException as exc:
            path.unlink(missing_ok=True)
            if self._epoch is epoch:
                self._add_inflight(space, tenant, -counted)
            if isinstance(exc, OSError):  # a full disk, say: refused, not a 500
                raise UploadRefused(
                    503, "ServiceUnavailable", "The upload could not be stored"
                ) from exc
            raise
        if slot is not None and received != slot.declared:
            path.unlink(missing_ok=True)
            raise UploadRefused(
                400, "IncompleteBody", f"Received {received} bytes, signed for {slot.declared}"
            )
        if slot is not None:
            return self._fill(slot, path, received, digest.hexdigest(), limits)
        self._add_inflight(space, tenant, -received)
        old = self._entries.get((space, tenant, key))  # another PUT may have landed meanwhile
        if old is not None:
            self.drop(old)
        return self._store(
            space, tenant, key, content_type, now, limits, path, received, digest.hexdigest()
        )

    def copy(
        self,
        source: Upload,
        *,
        space: str,
        tenant: str,
        key: Hashable,
        now: float,
        limits: UploadLimits,
    ) -> Upload:
        """A second object with ``source``'s bytes (a hard link when the folder allows it)."""
        self.evict(now)
        if source.path is None or source.gone:
            raise UploadRefused(404, "NoSuchKey", "The specified key does not exist.")
        old = self._entries.get((space, tenant, key))
        self._check_room(space, tenant, limits, source.size, old is None, old.charge if old else 0)
        path = self._new_path()
        try:
            os.link(source.path, path)
        except OSError:
            shutil.copyfile(source.path, path)
        if old is not None:
            self.drop(old)
        return self._store(
            space, tenant, key, source.content_type, now, limits, path, source.size, source.etag
        )

    def restore(self, entry: Upload, data: bytes | None) -> Upload:
        """Keep ``entry`` as a snapshot describes it, with ``data`` as its bytes (None: a slot
        still waiting for them). Quotas are not checked: the exporting mock admitted it."""
        entry.path = None
        entry.gone = False
        if data is not None:
            entry.path = self._new_path()
            entry.path.write_bytes(data)
        old = self._entries.get((entry.space, entry.tenant, entry.key))
        if old is not None:
            self.drop(old)
        self._insert(entry)
        if entry.handle:
            self._handles[entry.handle] = entry
        self._count(entry, +1)
        return entry

    def all(self) -> list[Upload]:
        """Every object and reserved slot kept, in the order they were made."""
        return list(self._entries.values())

    def entry(self, space: str, tenant: str, key: Hashable) -> Upload | None:
        """The object or reserved slot kept under ``key``, stored or not, unexpired or not."""
        return self._entries.get((space, tenant, key))

    # --- forgetting ----------------------------------------------------------------------------

    def drop(self, entry: Upload) -> None:
        """Forget one object or slot and delete its bytes."""
        if entry.gone:
            return
        entry.gone = True
        if self._entries.get((entry.space, entry.tenant, entry.key)) is entry:
            del self._entries[(entry.space, entry.tenant, entry.key)]
        if entry.handle:
            self._handles.pop(entry.handle, None)
        self._count(entry, -1)
        if entry.path is not None:
            entry.path.unlink(missing_ok=True)
        if self.watch is not None:
            self.watch(entry)

    def drop_tenant(self, tenant: str, space: str | None = None) -> int:
        """Forget every upload of ``tenant`` (in ``space``, or everywhere); how many went."""
        doomed = [
            e
            for e in self._entries.values()
            if e.tenant == tenant and (space is None or e.space == space)
        ]
        for entry in doomed:
            self.drop(entry)
        return len(doomed)

    def drop_task(self, task: Task, deleted: bool = False) -> int:
        """Forget the uploads ``task`` names (its tenant's, in its provider's space), evicted
        or ``deleted`` through the API (see ``task_files``); how many."""
        find = _TASK_FILES.get(task.provider)
        if find is None or (deleted and task.provider not in _DELETED_WITH_TASK):
            return 0
        dropped = 0
        for key in find(task):
            entry = self._entries.get((task.provider, task.tenant, key))
            if entry is not None:
                self.drop(entry)
                dropped += 1
        return dropped

    def evict(self, now: float) -> None:
        """Drop what has expired by ``now``: cheap when nothing has (one heap peek)."""
        heap = self._expiry
        while heap and heap[0][0] <= now:
            at, _, entry = heapq.heappop(heap)
            if not entry.gone and entry.expires_at == at:
                self.drop(entry)

    def clear(self) -> None:
        """Forget everything and delete the files (reset); the folder stays for new uploads."""
        for entry in list(self._entries.values()):
            if entry.path is not None:
                entry.path.unlink(missing_ok=True)
            entry.gone = True
        self._reset()

    async def close(self, *_: object) -> None:
        """At shutdown: forget everything and remove the folder (an aiohttp on_cleanup hook)."""
        self.clear()
        if self._finalizer is not None:
            self._finalizer()  # removes the folder, once
        self._folder = self._finalizer = None

    # --- inside --------------------------------------------------------------------------------

    def _new_path(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="avatar-mock-uploads-"))
            # also at interpreter exit, should the application never be cleaned up
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder / SecretIssuer.token_hex(16)

    def _check_room(
        self,
        space: str,
        tenant: str,
        limits: UploadLimits,
        nbytes: int,
        new_object: bool,
        freed: int = 0,
    ) -> None:
        """Refuse when ``nbytes`` more (and one more object, if ``new_object``) would not fit;
        ``freed``: bytes an object about to be replaced gives back."""
        count, used = self.usage(space, tenant)
        if new_object and count + 1 > limits.max_files:
            raise _quota(f"upload count ({limits.max_files} objects per API key)")
        if used - freed + nbytes > limits.max_bytes:
            raise _quota(f"upload size ({limits.max_bytes} bytes per API key)")
        if self._totals.get(space, 0) - freed + nbytes > limits.max_total_bytes:
            raise _quota(f"upload size ({limits.max_total_bytes} bytes in all)")

    def _add_inflight(self, space: str, tenant: str, nbytes: int) -> None:
        self._used.setdefault((space, tenant), [0, 0])[1] += nbytes
        self._totals[space] = self._totals.get(space, 0) + nbytes

    def _count(self, entry: Upload, sign: int) -> None:
        used = self._used.setdefault((entry.space, entry.tenant), [0, 0])
        used[0] += sign
        used[1] += sign * entry.charge
        self._totals[entry.space] = self._totals.get(entry.space, 0) + sign * entry.charge
        if used[0] == 0 and used[1] == 0:
            del self._used[(entry.space, entry.tenant)]

    def _insert(self, entry: Upload) -> None:
        self._entries[(entry.space, entry.tenant, entry.key)] = entry
        if entry.expires_at is not None:
            heapq.heappush(self._expiry, (entry.expires_at, next(self._seq), entry))
        if self.watch is not None:
            self.watch(entry)

    def _store(
        self,
        space: str,
        tenant: str,
        key: Hashable,
        content_type: str,
        now: float,
        limits: UploadLimits,
        path: Path,
        size: int,
        etag: str,
    ) -> Upload:
        expires = None if limits.retention is None else now + limits.retention
        entry = Upload(
            space, tenant, key, content_type, now, expires, size=size, etag=etag, path=path
        )
        self._insert(entry)
        self._count(entry, +1)
        return entry

    def _fill(self, slot: Upload, path: Path, size: int, etag: str, limits: UploadLimits) -> Upload:
        if slot.gone:  # evicted or dropped while its bytes arrived
            path.unlink(missing_ok=True)
            raise UploadRefused(403, "AccessDenied", "Request has expired")
        self._count(slot, -1)
        if slot.path is not None:  # a second PUT replaces the bytes
            slot.path.unlink(missing_ok=True)
        slot.path, slot.size, slot.etag = path, size, etag
        self._count(slot, +1)
        # kept for the retention from when the slot was made, as YouCam counts its 30 days
        slot.expires_at = None if limits.retention is None else slot.created_at + limits.retention
        if slot.expires_at is not None:
            heapq.heappush(self._expiry, (slot.expires_at, next(self._seq), slot))
        if self.watch is not None:
            self.watch(slot)
        return slot


def serving_headers(content_type: str) -> dict[str, str]:
    """Headers to serve an upload with: its declared type when that type is passive, else an
    attachment of unknown type; never sniffed."""
    main = content_type.split(";", 1)[0].strip().lower()
    passive = main in PASSIVE_TYPES or (
        main.startswith(PASSIVE_FAMILIES) and main not in ACTIVE_IMAGES
    )
    if passive and _is_media_type(main):
        return {"Content-Type": main, "X-Content-Type-Options": "nosniff"}
    return {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": "attachment",
        "X-Content-Type-Options": "nosniff",
    }


_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-")


def _is_media_type(main: str) -> bool:
    kind, slash, sub = main.partition("/")
    return bool(slash and kind and sub) and set(kind + sub) <= _TOKEN_CHARS
