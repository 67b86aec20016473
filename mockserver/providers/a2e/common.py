"""What every A2E endpoint family shares: the envelope, ids, timestamps, lookups, lists, links.

New endpoint families build on these so the conventions of catalog §1 and §15 hold everywhere:
``{"code": 0, "data": ..., "trace_id"}``; 24-hex ``_id``; ISO-8601 UTC timestamps with
milliseconds and ``Z``; newest first; the two pagination styles (``pageNum``/``pageSize`` ->
``{rows, count}`` and ``current``/``pageSize`` -> ``{current, total, success, data}``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import islice
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from mockserver.context import RequestContext, View
from mockserver.ids import hex_id
from mockserver.lifecycle import TaskFamily, Timeline
from mockserver.providers.a2e.dialect import not_found
from mockserver.submit import admit, keep
from mockserver.tasks import Task

PROVIDER = "a2e"
DEFAULT_PAGE_SIZE = 10  # [guess] when a client leaves pageSize out
# ``current_date`` in awsResult is the server's wall clock in China Standard Time: the D2
# example's createdAt 05:21:26.855Z plus diff_s 6644 is 07:12:10Z, shown as "15:12:11". [inf]
SERVER_TZ = timezone(timedelta(hours=8))
IMAGE_SUFFIXES = {".jpg": "result.jpg", ".jpeg": "result.jpg", ".png": "result.png"}

Row = dict[str, Any]
Render = Callable[[RequestContext, Task], Row]


def ok(ctx: RequestContext, data: Any) -> dict[str, Any]:
    """A2E's success envelope."""
    return {"code": 0, "data": data, "trace_id": ctx.trace_id}


def deleted(ctx: RequestContext) -> dict[str, Any]:
    """What a DELETE answers: ``{code: 0, data: {}}``."""
    return ok(ctx, {})


def new_id(ctx: RequestContext) -> Callable[[], str]:
    """A Mongo-style 24-hex ``_id`` drawn from the seeded A2E id stream."""
    rng = ctx.state.id_rng(PROVIDER)
    return lambda: hex_id(rng, 24)


def hex24(ctx: RequestContext) -> str:
    """One fresh 24-hex id (for names and ids that are not a task's)."""
    return new_id(ctx)()


def user_id(key: str) -> str:
    """The caller's A2E user id, as records show it: 24-hex, fixed for the key. [guess]"""
    return hashlib.sha256(f"a2e-user:{key}".encode()).hexdigest()[:24]


@lru_cache(maxsize=1 << 14)
def iso_ms(t: float) -> str:
    """``2024-06-21T03:20:22.436Z``. Cached: every poll of a task shows its ``createdAt``,
    and formatting one costs more than the rest of the answer."""
    seconds, millis = divmod(round(t * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def iso_or_none(t: float | None) -> str | None:
    return None if t is None else iso_ms(t)


def server_date(t: float) -> str:
    """``2023-10-11 15:12:11``: A2E's server clock (UTC+8), to the second."""
    return datetime.fromtimestamp(int(t), SERVER_TZ).strftime("%Y-%m-%d %H:%M:%S")


def number(value: float) -> int | float:
    """A balance or cost as JSON shows it: ``2836``, not ``2836.0``."""
    return int(value) if float(value).is_integer() else value


def lookup(ctx: RequestContext, family: TaskFamily, task_id: str) -> Task:
    """The caller's task of ``family``, or the not-found refusal.

    Unknown, another key's, deleted, or of another family: all look the same.
    """
    task = ctx.state.store.get(PROVIDER, ctx.key, task_id, ctx.now)
    if task is None or task.family is not family:
        raise not_found()
    return task


def newest_first(ctx: RequestContext, family: TaskFamily) -> Iterable[Task]:
    return ctx.state.store.newest_first(PROVIDER, ctx.key, family.name, ctx.now)


def count(ctx: RequestContext, family: TaskFamily) -> int:
    return ctx.state.store.count(PROVIDER, ctx.key, family.name, ctx.now)


def _page(ctx: RequestContext, family: TaskFamily, page: int, size: int) -> Iterable[Task]:
    start = (page - 1) * size
    return islice(newest_first(ctx, family), start, start + size)


def rows_page(ctx: RequestContext, family: TaskFamily, render: Render) -> dict[str, Any]:
    """Pagination style A: ``?pageNum&pageSize`` -> ``{rows, count}``, newest first."""
    page = ctx.params.get("pageNum", 1)
    size = ctx.params.get("pageSize", DEFAULT_PAGE_SIZE)
    rows = [render(ctx, task) for task in _page(ctx, family, page, size)]
    return {"rows": rows, "count": count(ctx, family)}


def current_page(ctx: RequestContext, family: TaskFamily, render: Render) -> dict[str, Any]:
    """Pagination style B: ``?current&pageSize`` -> ``{current, total, success, data}``."""
    page = ctx.params.get("current", 1)
    size = ctx.params.get("pageSize", DEFAULT_PAGE_SIZE)
    rows = [render(ctx, task) for task in _page(ctx, family, page, size)]
    return {"current": page, "total": count(ctx, family), "success": True, "data": rows}


def record_family(name: str) -> TaskFamily:
    """A family of plain records (backgrounds, face images, tokens): no lifecycle, no chaos.

    Kept in the task store for its tenant scoping, newest-first lists and deletes; not
    registered with the provider, so the control API does not offer to force one.
    """
    return TaskFamily(provider=PROVIDER, name=name, states=(), success="ready", failure="gone")


def store_record(ctx: RequestContext, family: TaskFamily, params: dict[str, Any]) -> Task:
    """Keep a plain record for the caller, ready at once (admitted and retained like a task)."""
    state = ctx.state
    admit(ctx)
    task = Task(
        id=new_id(ctx)(),
        provider=PROVIDER,
        family=family,
        tenant=ctx.key,
        seq=state.next_seq(PROVIDER),
        created_at=ctx.now,
        timeline=Timeline((family.success,), (ctx.now,), None),
        params=params,
    )
    return keep(ctx, task)


def mark_deleted(ctx: RequestContext, task: Task) -> None:
    """Forget a record; a refund still pending for it lapses (see billing.refund_on_failure)."""
    task.extra = {**(task.extra or {}), "deleted_at": ctx.now}
    ctx.state.store.remove(task)


def _suffix(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. a malformed IPv6 host: not our concern at submit
        path = url
    return PurePosixPath(path).suffix.lower()


def looks_like_image(url: str) -> bool:
    return _suffix(url) in IMAGE_SUFFIXES


def result_link(ctx: View, task: Task, fixture: str = "result.mp4", name: str | None = None) -> str:
    """The task's result on the mock: signed when the task ended, valid ``result_url_ttl`` s.

    The expiry is fixed by the end of the task, not by the read, so a list and a detail read
    at the same instant (or at any two instants) show the same URL, as a stored URL would.
    """
    ttl = ctx.settings.get("result_url_ttl")
    ended = task.timeline.ends_at
    expires = None if ttl is None else ended + ttl
    shown = name or f"{task.id}{PurePosixPath(fixture).suffix}"
    return ctx.links.url(ctx.origin, fixture, shown, expires)


def outcome_fields(ctx: View, task: Task, default_message: str, fixture: str = "result.mp4") -> Row:
    """``current_status``, ``result_url``, ``failed_message``, ``failed_code``: the newer
    families' vocabulary (§1): ``result_url`` only on success, failure texts only on failure,
    ``""`` otherwise (D11, D17)."""
    status = task.state(ctx.now)
    failure = (task.timeline.failure or {}) if status == task.family.failure else None
    return {
        "current_status": status,
        "result_url": result_link(ctx, task, fixture) if status == task.family.success else "",
        "failed_message": (
            str(failure.get("failed_message") or default_message) if failure is not None else ""
        ),
        "failed_code": str(failure.get("failed_code") or "") if failure is not None else "",
    }


def unfinished(ctx: RequestContext, family: TaskFamily) -> list[Task]:
    """The caller's tasks of ``family`` not yet ended, newest first (``processingRecord``)."""
    now = ctx.now
    return [t for t in newest_first(ctx, family) if not t.is_done(now)]


def image_fixture(url: str) -> str:
    """The fixture that answers for an image input (jpg or png), by the URL's suffix."""
    return IMAGE_SUFFIXES.get(_suffix(url), "result.jpg")


def updated_at(task: Task, now: float) -> float:
    """When the record last changed: the moment it entered the state it is in."""
    return task.timeline.times[task.timeline.index_at(now)]


STATUS_LIMIT = 100  # [guess] a bare /status shows the newest 100, not an unbounded list


def status_tasks(ctx: RequestContext, family: TaskFamily) -> list[Task]:
    """What a face-swap style ``/status`` lists: the ``?_id=`` task alone (``[]`` when unknown
    or foreign), else the tenant's newest tasks of the family."""
    wanted = ctx.params.get("_id")
    if wanted is not None:
        task = ctx.state.store.get(PROVIDER, ctx.key, wanted, ctx.now)
        return [task] if task is not None and task.family is family else []
    return list(islice(newest_first(ctx, family), STATUS_LIMIT))
