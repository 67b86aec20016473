"""The operations around an A2E model task that the generic family handlers do not cover.

Each generated operation of openapi.yaml names its role (``x-a2e-role``); :func:`bind` binds
the handler of that role, registered in :data:`ROLES`, so a role is a declaration too. The
reference gives no answers for these, so every shape here is a [guess] (listed in
contracts/a2e/models.yaml and COVERAGE.md):

- ``list``: ``{rows, count}``, newest first, paged by whichever names the operation declares
  (``pageNum``/``page``/``current`` and ``pageSize``/``page_size``), ``status`` filtering.
- ``delete`` with rules: refused (400 "Task in processing") in the row's ``refuse`` states,
  refunded at once in its ``refund`` states, else as the generic delete.
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
from mockserver.providers.a2e.common import (
    DEFAULT_PAGE_SIZE,
    deleted,
    hex24,
    lookup,
    mark_deleted,
    newest_first,
    ok,
    result_link,
)
from mockserver.providers.a2e.dialect import bad_request
from mockserver.providers.a2e.task_endpoints import batch
from mockserver.registry import Provider
from mockserver.spec import Operation

Handler = Callable[[RequestContext], Awaitable[dict[str, Any]]]
Maker = Callable[[Operation, TaskFamily, FamilySpec], Handler]
ROLES: dict[str, Maker] = {}
PAGE_NAMES = ("pageNum", "page", "current")
SIZE_NAMES = ("pageSize", "page_size")
MAX_PAGE = 2**31 - 1  # as the served lists bound pageNum and pageSize (dialect.py)
IN_PROCESSING = "Task in processing"
MARKS = {"markShared": "shared", "markDownloaded": "downloaded", "markCopied": "copied"}
HD_RATIO = "16:9"
STILL_PROCESSING = "1080P video is being processed, please try again later"  # [doc]


def role(*names: str) -> Callable[[Maker], Maker]:
    def register(fn: Maker) -> Maker:
        for name in names:
            ROLES[name] = fn
        return fn

    return register


def bind(target: Provider, op: Operation, name: str, family: TaskFamily, spec: Any) -> None:
    target.handles(op.operation_id)(ROLES[name](op, family, spec))


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


@role("delete")
def make_delete(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    rule = (spec.options.get("row") or {}).get("delete") or {}

    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        status = task.state(ctx.now)
        if status in rule.get("refuse", ()):
            raise bad_request(IN_PROCESSING)
        coins = (task.extra or {}).get("coins", 0)
        if status in rule.get("refund", ()) and coins > 0:
            ctx.tenant.apply("coins", coins, ctx.now, f"{family.name} refund", task.id)
        mark_deleted(ctx, task)
        return deleted(ctx)

    return handler


@role("update")
def make_update(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        task.extra = {**(task.extra or {}), "name": ctx.body["name"], "renamed_at": ctx.now}
        return ok(ctx, spec.render(task, ctx))

    return handler


@role(*MARKS)
def make_mark(op: Operation, family: TaskFamily, spec: FamilySpec) -> Handler:
    flag = MARKS[op.raw["x-a2e-role"]]

    async def handler(ctx: RequestContext) -> dict[str, Any]:
        task = lookup(ctx, family, path_id(ctx, op))
        extra = task.extra or {}
        task.extra = {**extra, "marks": {**extra.get("marks", {}), flag: True}}
        return ok(ctx, {"_id": task.id, **task.extra["marks"]})

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
