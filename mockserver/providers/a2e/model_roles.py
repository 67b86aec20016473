"""The operations around an A2E model task that the generic family handlers do not cover.

Each generated operation of openapi.yaml names its role (``x-a2e-role``); :func:`bind` binds
the handler of that role, registered in :data:`ROLES`, so a role is a declaration too. The
reference gives no answers for these, so every shape here is a [guess] (listed in
contracts/a2e/models.yaml and COVERAGE.md):

- ``list``: ``{rows, count}``, newest first, paged by whichever names the operation declares
  (``pageNum``/``page``/``current`` and ``pageSize``/``page_size``), ``status`` filtering.
- ``update``: renames; the row shows the new ``name``.
- ``markShared``/``markDownloaded``/``markCopied``: ``{_id, shared|downloaded|copied: true}``.
- Veo ``1080p``: 202 ``{_id, current_status}`` until completed; 400 unless ``aspectRatio``
  was ``16:9``; then ``{_id, video_url_1080p}``.
- image-to-video ``avgProcessingTime`` (mean seconds of the caller's ended tasks, 0 with
  none), ``unlimitedQueueLevel`` (``{level: 0}``), ``prompt_extension`` and
  ``flf2v_prompt_extension`` (the prompts back, extended; ``stream`` is answered as JSON).
- text-to-image ``quickAddAvatar``: a completed record of the caller's becomes
  ``{_id, image_url, gender}``; any other state is a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import islice
from typing import Any

from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.families import FamilySpec
from mockserver.lifecycle import TaskFamily
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.models import ModelRecord, charged, record_of, result_link
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import (
    DEFAULT_PAGE_SIZE,
    batch,
    find_or_refuse,
    hex24,
    keep_record,
    newest_first,
)
from mockserver.spec import Operation
from mockserver.tasks import Task

Handler = Callable[[RequestContext], Awaitable[dict[str, Any]]]
Maker = Callable[[Operation, TaskFamily, FamilySpec], Handler]
lookup = find_or_refuse
ROLES: dict[str, Maker] = {}
PAGE_NAMES = ("pageNum", "page", "current")
SIZE_NAMES = ("pageSize", "page_size")
MAX_PAGE = 2**31 - 1  # as the served lists bound pageNum and pageSize (dialect.py)
MARKS = {"markShared": "shared", "markDownloaded": "downloaded", "markCopied": "copied"}
HD_RATIO = "16:9"
STILL_PROCESSING = "1080P video is being processed, please try again later"  # [doc]


def role(*names: str) -> Callable[[Maker], Maker]:
    def register(fn: Maker) -> Maker:
        for name in names:
            ROLES[name] = fn
        return fn

    return register


def bind(op: Operation, name: str, spec: FamilySpec) -> None:
    """Register the handler of role ``name`` for ``op``, on ``spec``'s family."""
    handles(op.operation_id)(ROLES[name](op, spec.family, spec))


def model_record(ctx: RequestContext, task: Task) -> ModelRecord:
    """The task's record, kept anew (with its charge) if a reset left it none."""
    record = record_of(ctx, task, ModelRecord)
    if record is None:
        record = ModelRecord(amount=charged(ctx, task))
        keep_record(ctx, task, record)
    return record


def path_id(ctx: RequestContext, op: Operation) -> str:
    [name] = [p.name for p in op.params if p.location == "path"]
    return str(ctx.params[name])


def _default(op: Operation, names: tuple[str, ...], fallback: int) -> tuple[str | None, int]:
    for p in op.params:
        if p.name in names:
            return p.name, int(p.schema.get("default", fallback))
    return None, fallback


@role("list")
def make_list(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    page_name, page_default = _default(op, PAGE_NAMES, 1)
    size_name, size_default = _default(op, SIZE_NAMES, DEFAULT_PAGE_SIZE)

    async def handler(ctx: RequestContext) -> dict[str, Any]:
        page = ctx.params.get(page_name, page_default) if page_name else 1
        size = ctx.params.get(size_name, size_default) if size_name else size_default
        for name, value in ((page_name, page), (size_name, size)):
            if not 1 <= value <= MAX_PAGE:
                raise bad_request(f"{name} must be between 1 and {MAX_PAGE}")
        wanted = ctx.params.get("status")
        tasks = [
            t for t in newest_first(ctx, family) if wanted is None or t.state(ctx.now) == wanted
        ]
        start = (page - 1) * size
        shown = [spec.render(t, ctx) for t in islice(tasks, start, start + size)]
        return ok(ctx, {"rows": shown, "count": len(tasks)})

    return handler


@role("batch")
def make_batch(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        found = batch(ctx, family, ctx.body.get("ids") or [])
        return ok(ctx, [spec.render(t, ctx) for t in found])

    return handler


@role("detail")
def make_detail(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, spec.render(lookup(ctx, family, path_id(ctx, op)), ctx))

    return handler


@role("update")
def make_update(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        record = model_record(ctx, task)
        record.name, record.renamed_at = ctx.body["name"], ctx.now
        keep_record(ctx, task, record)  # kept again: a state backend writes what changed
        return ok(ctx, spec.render(task, ctx))

    return handler


@role(*MARKS)
def make_mark(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    flag = MARKS[op.raw["x-a2e-role"]]

    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        record = model_record(ctx, task)
        record.marks = {**record.marks, flag: True}
        keep_record(ctx, task, record)
        return ok(ctx, {"_id": task.id, **record.marks})

    return handler


@role("1080p")
def make_1080p(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        if task.params.get("aspectRatio") != HD_RATIO:
            raise bad_request("1080P is only available for 16:9 videos")
        status = task.state(ctx.now)
        if status != family.success:
            data = {"_id": task.id, "current_status": status}
            raise ApiError(
                202, 0, STILL_PROCESSING, body={"code": 0, "msg": STILL_PROCESSING, "data": data}
            )
        link = result_link(ctx, task, "result.mp4", f"{task.id}-1080p.mp4")
        return ok(ctx, {"_id": task.id, "video_url_1080p": link})

    return handler


@role("avgProcessingTime")
def make_avg(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        ended = [t for t in newest_first(ctx, family) if t.is_done(ctx.now)]
        spans = [t.timeline.ends_at - t.created_at for t in ended]
        mean = round(sum(spans) / len(spans), 3) if spans else 0
        return ok(ctx, {"avg_processing_time": mean})

    return handler


@role("unlimitedQueueLevel")
def make_queue_level(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        return ok(ctx, {"level": 0})

    return handler


@role("prompt_extension", "flf2v_prompt_extension")
def make_prompt_extension(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        body = ctx.body
        prompt = f"{body['prompt']}, cinematic lighting, smooth natural motion"
        limit = body.get("max_length")
        if isinstance(limit, int) and limit > 0:
            prompt = prompt[:limit]
        return ok(ctx, {"prompt": prompt, "negative_prompt": body["negative_prompt"]})

    return handler


@role("quickAddAvatar")
def make_quick_avatar(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, str(ctx.body["_id"]))
        if task.state(ctx.now) != family.success:
            raise bad_request("the text to image record has not completed")
        image = result_link(ctx, task, "result.jpg")
        gender = ctx.body.get("gender", "female")
        return ok(ctx, {"_id": hex24(ctx), "image_url": image, "gender": gender})

    return handler
