"""OpenAI's video object on the relay: ``/v1/videos``, as new-api serves it.

A job is ``queued -> in_progress -> completed | failed`` (OpenAI's own words, so the family's
vocabulary is them). The object (OpenAI API reference, "The video object") is rendered at the
view's time: ``progress`` 0 while queued, growing while in progress, 100 when done;
``completed_at`` once done; ``expires_at`` = ``completed_at`` + ``settings.openai_video_ttl``
once completed, after which the content is gone (410) while the object stays readable. A remix
is a new job of the same family naming its source. Everything here refuses in OpenAI's
envelope (:mod:`.openai_dialect`); quota, the token concurrency gate and notify_hook are the
relay's, through the generic submit of :mod:`.handlers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockserver.binary import Binary
from mockserver.ids import hex_id
from mockserver.media import fixture_bytes
from mockserver.providers.relay.handlers import find, submit_handler
from mockserver.providers.relay.openai_dialect import (
    openai_error,
    video_expired,
    video_not_found,
    video_not_ready,
)

if TYPE_CHECKING:
    import random

    from mockserver.context import RequestContext, View
    from mockserver.families import FamilySpec
    from mockserver.registry import Handler
    from mockserver.tasks import Task

DEFAULT_MODEL = "sora-2"  # OpenAI's defaults for a create that names none
DEFAULT_SECONDS = "4"
DEFAULT_SIZE = "720x1280"
PRO_SIZES = ("1024x1792", "1792x1024")  # OpenAI: sora-2-pro only
DEFAULT_TTL = 3600.0  # settings.openai_video_ttl when the scenario names none [guess]
LIST_LIMIT = 20  # a page when ``limit`` is not given [guess]
FAILED = {"code": "video_generation_failed", "message": "Video generation failed."}
# variant -> (fixture, Content-Type)
VARIANTS = {
    "video": ("result.mp4", "video/mp4"),
    "thumbnail": ("result.webp", "image/webp"),
    "spritesheet": ("result.jpg", "image/jpeg"),
}


def new_id(rng: random.Random) -> str:
    """``video_`` and 48 hex digits, as OpenAI's video ids look."""
    return "video_" + hex_id(rng, 48)


# --- what a body means ---------------------------------------------------------------------


def _reference(value: Any) -> str:
    """The input reference as the task keeps it: an uploaded file's name, a URL, a file id."""
    if isinstance(value, str):  # a form's file part
        return f"file:{value}"
    if isinstance(value, Mapping):
        return str(value.get("image_url") or f"file_id:{value.get('file_id', '')}")
    return ""


def create_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v1/videos`` (JSON or form): OpenAI's defaults; a pro size needs sora-2-pro."""
    model = str(body.get("model") or DEFAULT_MODEL)
    size = str(body.get("size") or DEFAULT_SIZE)
    if size in PRO_SIZES and not model.startswith("sora-2-pro"):
        raise openai_error(400, f"size {size} is only supported by sora-2-pro", None, "size")
    return {
        "model": model,
        "prompt": str(body["prompt"]),
        "seconds": str(body.get("seconds") or DEFAULT_SECONDS),
        "size": size,
        "input_reference": _reference(body.get("input_reference")),
        "remixed_from_video_id": None,
        "notify_hook": str(body.get("notify_hook") or ""),
    }


def remix_params(ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /v1/videos/{video_id}/remix``: the completed source's model, size and length,
    the new prompt."""
    spec = ctx.provider.family_specs[VIDEO_FAMILY]
    source = find(ctx, spec, str(ctx.params["video_id"]))
    status = source.state(ctx.now)
    if status != spec.family.success:
        raise video_not_ready(source.id, status, "only a completed video can be remixed")
    p = source.params
    return {
        **{k: p[k] for k in ("model", "seconds", "size", "input_reference", "notify_hook")},
        "prompt": str(body["prompt"]),
        "remixed_from_video_id": source.id,
    }


# --- how a job is shown --------------------------------------------------------------------


def _ttl(view: View) -> float | None:
    ttl = view.settings.get("openai_video_ttl", DEFAULT_TTL)
    return None if ttl is None else float(ttl)


def expires_at(task: Task, view: View) -> float | None:
    """When a completed job's content stops being served (None: never, or not completed)."""
    ttl = _ttl(view)
    if ttl is None or not task.timeline.succeeded or not math.isfinite(task.timeline.ends_at):
        return None
    return task.timeline.ends_at + ttl


def _progress(task: Task, status: str, now: float) -> int:
    if status in task.family.terminal:
        return 100
    if status != "in_progress":
        return 0
    return min(int(task.timeline.fraction_through(now) * 100), 99)


def _error(task: Task) -> dict[str, str]:
    """The failure as OpenAI words it; a relay-wide failure (``fail_reason``) fits too."""
    failure = task.timeline.failure or {}
    message = failure.get("message") or failure.get("fail_reason") or FAILED["message"]
    return {"code": str(failure.get("code") or FAILED["code"]), "message": str(message)}


def video_view(task: Task, view: View) -> dict[str, Any]:
    """The video object at ``view.now``, keys in OpenAI's order."""
    now = view.now
    timeline = task.timeline
    status = timeline.state_at(now)
    done = status in task.family.terminal
    ends = expires_at(task, view) if status == task.family.success else None
    p = task.params
    return {
        "id": task.id,
        "object": "video",
        "model": p["model"],
        "status": status,
        "progress": _progress(task, status, now),
        "created_at": int(task.created_at),
        "completed_at": int(timeline.ends_at) if done else None,
        "expires_at": None if ends is None else int(ends),
        "prompt": p["prompt"],
        "size": p["size"],
        "seconds": p["seconds"],
        "remixed_from_video_id": p["remixed_from_video_id"],
        "error": _error(task) if status == task.family.failure else None,
    }


def bare(row: dict[str, Any], view: View) -> dict[str, Any]:
    return row


# --- the operations around a job -----------------------------------------------------------


def remix_handler(spec: FamilySpec) -> Handler:
    return submit_handler(spec, remix_params)


def content_handler(spec: FamilySpec) -> Handler:
    """The finished file: 409 before it completed, 410 after its ``expires_at``."""

    async def handle(ctx: RequestContext) -> Binary:
        task = find(ctx, spec, str(ctx.params["video_id"]))
        status = task.state(ctx.now)
        if status != spec.family.success:
            raise video_not_ready(task.id, status, "content is served once it is completed")
        ends = expires_at(task, ctx)
        if ends is not None and ctx.now > ends:
            raise video_expired(task.id)
        name, content_type = VARIANTS[str(ctx.params.get("variant") or "video")]
        return Binary(fixture_bytes(name), content_type)

    return handle


def list_handler(spec: FamilySpec) -> Handler:
    """The caller's jobs of this family, a cursor page: newest first unless ``order=asc``."""

    async def handle(ctx: RequestContext) -> dict[str, Any]:
        tasks = list(ctx.state.store.newest_first("relay", ctx.key, spec.name, ctx.now))
        if ctx.params.get("order") == "asc":
            tasks.reverse()
        after = ctx.params.get("after")
        if after is not None:
            ids = [t.id for t in tasks]
            if after not in ids:
                raise openai_error(400, f"after: no video {after!r} in this list", None, "after")
            tasks = tasks[ids.index(after) + 1 :]
        limit = ctx.params.get("limit")
        limit = LIST_LIMIT if limit is None else int(limit)
        page = [spec.render(t, ctx) for t in tasks[:limit]]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(tasks) > limit,
        }

    return handle


def delete_handler(spec: FamilySpec) -> Handler:
    """Forget a completed or failed job and its content; a running one is refused. [guess]"""

    async def handle(ctx: RequestContext) -> dict[str, Any]:
        task = find(ctx, spec, str(ctx.params["video_id"]))
        if not task.is_done(ctx.now):
            status = task.state(ctx.now)
            raise video_not_ready(task.id, status, "only a completed or failed video is deleted")
        ctx.state.delete_task(task, ctx.now)
        return {"id": task.id, "object": "video.deleted", "deleted": True}

    return handle


VIDEO_FAMILY = "openai_video"
OPTIONS: dict[str, Any] = {
    "params": create_params,
    "new_id": new_id,
    "accepted": video_view,
    "found": bare,
    "missing": video_not_found,
    "operations": {
        "remixVideo": remix_handler,
        "getVideoContent": content_handler,
        "listVideos": list_handler,
        "deleteVideo": delete_handler,
    },
}
