"""The relay's task records as they are shown: pure renderers ``render(task, view)``.

An avatar task is ``NOT_START -> SUBMITTED -> QUEUED -> IN_PROGRESS`` and ends ``SUCCESS`` or
``FAILURE``; an engine failure is HTTP 200 with ``status: FAILURE`` and ``fail_reason``. The
task object's keys come in the relay's order (catalog §8.3). Times are Unix seconds;
``start_time`` is the moment IN_PROGRESS was entered once it was, ``finish_time`` the end once
reached; ``progress`` is "0%" before IN_PROGRESS, grows through it, and is "100%" when done.

On SUCCESS ``data`` is DreamFace's work record, shaped like the documented example (seed 001):
the work ``id`` is an ObjectId minted when the relay handed the task to DreamFace (its first
four bytes are that second, as in the example), ``create_time`` the same moment in ms, and
the three video paths plus the preview are links on this mock to real files. Everything
random in the record is drawn from the task id, so every poll shows the same record.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from mockserver.context import View
from mockserver.ids import hex_id
from mockserver.tasks import Task

ACTION = "avatar-generate"

# DreamFace's "Dynamic Avatar" template [CODE D1]; its ObjectId was minted 2024-03-29 09:23:43
# UTC, which gives the template's create time (the milliseconds are a guess).
TEMPLATE_ID = "6606889f54e4e700070db4b1"
TEMPLATE_CREATE_TIME = 1711704223412
# Template example images and marketing text are the same for every work (seed 001).
EXAMPLE_IMAGES = (
    "config/common/main/bd15932c14584ec2bd39f8fb46da47c7.jpg",
    "config/common/main/9ae535433a14496982017711be5a06ca.png",
    "config/common/main/70d3629c39094b33ac0359f017f1a963.jpg",
    "system/file/fdfs/c785a37a9bd64fe5b7bdefa9054cc8b6.png",
)
SHARE_MAGIC_TEXT = "13.1K users shared moments"
_ALNUM = string.ascii_letters + string.digits
_AUDIO_EXTS = {"mp3", "wav", "m4a", "aac", "ogg", "flac", "mp4", "mov"}
_AVATAR_EXTS = {"jpg", "jpeg", "png", "webp", "mp4", "mov", "webm"}


def _progress(task: Task, status: str, now: float) -> str:
    if status in task.family.terminal:
        return "100%"
    if status != "IN_PROGRESS":
        return "0%"
    return f"{min(int(task.timeline.fraction_through(now) * 100), 99)}%"


def _extension(url: str, allowed: set[str], default: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower().lstrip(".")
    return suffix if suffix in allowed else default


def _alnum(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def _stored(folder: str, name: str) -> str:
    """A DreamFace storage path, URL-encoded the way animate_params_str carries it."""
    return quote(f"server/{folder}/main/{name}", safe="")


def _animate_params(task: Task, rng: random.Random) -> str:
    p = task.params
    avatar_ext = _extension(p["avatar_url"], _AVATAR_EXTS, "jpg")
    audio_path = None
    if "audio_url" in p:
        ext = _extension(p["audio_url"], _AUDIO_EXTS, "mp3")
        audio_path = _stored("audio", f"{hex_id(rng, 32)}.{ext}")
    info = {
        "context": p.get("text"),
        "audio_url": audio_path,
        "voice_engine_id": p.get("voice_engine_id"),
        "audio_id": p.get("audio_id"),
        "video_url": _stored("common", f"{_uuid(rng)}.{avatar_ext}"),
        "video_pattern_url": None,
        "lan": p.get("language"),
        "character_id": None,
        "pag_img_urls": None,
        "video_img_urls": None,
    }
    return json.dumps({"pt_infos": [info]}, ensure_ascii=False, separators=(",", ":"))


def _uuid(rng: random.Random) -> str:
    h = hex_id(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _work_record(ctx: View, task: Task) -> dict[str, Any]:
    timeline = task.timeline
    rng = random.Random(f"{ctx.seed}:relay-work:{task.id}")
    handed_over = timeline.entered_at("SUBMITTED") or task.created_at
    created_ms = int(handed_over * 1000)
    params = task.params
    if params["source"] == "audio_url":
        ext = _extension(params["audio_url"], _AUDIO_EXTS, "mp3")
        work_name = f"{int(task.created_at * 1000)}.{ext}"
    else:
        work_name = params["text"]
    ttl = ctx.settings.get("result_url_ttl")
    expires = None if ttl is None else timeline.ends_at + float(ttl)
    links = ctx.links
    animate_params = _animate_params(task, rng)
    wm = links.url(ctx.origin, "result.mp4", f"{_alnum(rng, 30)}.mp4", expires)
    no_wm = links.url(ctx.origin, "result.mp4", f"{_alnum(rng, 30)}.mp4", expires)
    webp = links.url(ctx.origin, "result.webp", f"{_alnum(rng, 30)}.webp", expires)
    return {
        "animate_id": task.id,
        "animate_params_str": animate_params,
        "create_time": created_ms,
        "example_image_url": list(EXAMPLE_IMAGES),
        "ext": {"animate_channel": "dynamic", "sing_title": work_name, "track_info": "{}"},
        "file_type": "VIDEO",
        "id": f"{int(handed_over):08x}{hex_id(rng, 16)}",
        "music_title": "Talking avatar",
        "no_wm_work_video_path": no_wm,
        "picture_path_list": [],
        "play_types": ["PT", "", "ANIMATE"],
        "primary_play_type": "ANIMATE",
        "share_magic_text": SHARE_MAGIC_TEXT,
        "singer": "DreamFace",
        "template_create_time": TEMPLATE_CREATE_TIME,
        "template_id": TEMPLATE_ID,
        "tmp_online_enable": False,
        "user_image_url": "",
        "video_aspect_ratio": 1,
        "vip_enable": False,
        "web_work_status": 200,
        "webp_aspect_ratio": 1,
        "wm_work_video_path": wm,
        "work_name": work_name,
        "work_video_path": no_wm if params["no_watermark"] else wm,
        "work_webp_path": webp,
    }


def task_object(task: Task, ctx: View, action: str, result: Any) -> dict[str, Any]:
    """new-api's task object at ``ctx.now``, keys in the relay's order; ``result(task, ctx)``
    is ``data`` once the task succeeded."""
    now = ctx.now
    timeline = task.timeline
    status = timeline.state_at(now)
    started = timeline.entered_at("IN_PROGRESS")
    fail_reason = ""
    if status == task.family.failure:
        fail_reason = (timeline.failure or {}).get("fail_reason") or "task failed"
    return {
        "task_id": task.id,
        "notify_hook": task.params["notify_hook"],
        "action": action,
        "status": status,
        "fail_reason": str(fail_reason),
        "submit_time": int(task.created_at),
        "start_time": int(started) if started is not None and started <= now else 0,
        "finish_time": int(timeline.ends_at) if timeline.is_done(now) else 0,
        "progress": _progress(task, status, now),
        "data": result(ctx, task) if status == task.family.success else None,
    }


def task_view(task: Task, ctx: View) -> dict[str, Any]:
    """The task object as GET /avatar/task/{id} shows it at ``ctx.now``."""
    return task_object(task, ctx, ACTION, _work_record)


# --- /suno/... ------------------------------------------------------------------------------


def _clips(ctx: View, task: Task) -> list[dict[str, Any]]:
    """Suno's two clips per song (lyrics: the text alone). Field set after Suno-API's clip
    object; values are stand-ins drawn from the task id. [guess]"""
    p = task.params
    rng = random.Random(f"{ctx.seed}:relay-suno:{task.id}")
    if p["action"] == "LYRICS":
        return [{"id": _uuid(rng), "title": p["title"], "text": p["prompt"], "status": "complete"}]
    ttl = ctx.settings.get("result_url_ttl")
    expires = None if ttl is None else task.timeline.ends_at + float(ttl)
    clips = []
    for _ in range(2):
        clip_id = _uuid(rng)
        clips.append(
            {
                "id": clip_id,
                "title": p["title"],
                "status": "complete",
                "model_name": p["mv"],
                "audio_url": ctx.links.url(ctx.origin, "result.mp3", f"{clip_id}.mp3", expires),
                "video_url": ctx.links.url(ctx.origin, "result.mp4", f"{clip_id}.mp4", expires),
                "image_url": ctx.links.url(ctx.origin, "result.jpg", f"{clip_id}.jpg", expires),
                "metadata": {"tags": p["tags"], "prompt": p["prompt"]},
            }
        )
    return clips


def suno_view(task: Task, ctx: View) -> dict[str, Any]:
    """GET /suno/fetch/{id}: the same task object /avatar/task answers with."""
    return task_object(task, ctx, task.params["action"], _clips)


# --- /v1/video/generations ----------------------------------------------------------------

# new-api keeps one task vocabulary; the generic video route words it its own way
# (docs: processing | succeeded | failed; "queued" before the upstream starts is a guess).
GENERATION_STATUS = {
    "NOT_START": "queued",
    "SUBMITTED": "queued",
    "QUEUED": "queued",
    "IN_PROGRESS": "processing",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
}
FPS = 30  # the documented example's metadata.fps


def _dimensions(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    return 1280, 720


def generation_view(task: Task, ctx: View) -> dict[str, Any]:
    """``GET /v1/video/generations/{task_id}``: the task in new-api's generic video shape."""
    timeline = task.timeline
    state = timeline.state_at(ctx.now)
    p = task.params
    width, height = _dimensions(p["size"])
    rng = random.Random(f"{ctx.seed}:relay-video:{task.id}")
    url = ""
    if state == task.family.success:
        ttl = ctx.settings.get("result_url_ttl")
        expires = None if ttl is None else timeline.ends_at + float(ttl)
        url = ctx.links.url(ctx.origin, "result.mp4", f"{task.id}.mp4", expires)
    error = None
    if state == task.family.failure:
        reason = (timeline.failure or {}).get("fail_reason") or "task failed"
        error = {"code": 1, "message": str(reason)}
    return {
        "task_id": task.id,
        "status": GENERATION_STATUS[state],
        "format": "mp4",
        "url": url,
        "error": error,
        "metadata": {
            "duration": p["duration"],
            "fps": FPS,
            "width": width,
            "height": height,
            "seed": rng.getrandbits(31),
        },
    }


def generation_accepted(task: Task, ctx: View) -> dict[str, Any]:
    """The submit answer: the id to poll and the status it starts in. [guess: new-api docs
    show only the query]"""
    return {"task_id": task.id, "status": GENERATION_STATUS[task.timeline.state_at(ctx.now)]}


def bare(row: dict[str, Any], ctx: View) -> dict[str, Any]:
    """The row itself, no envelope (the routes that answer like their upstream)."""
    return row


# --- /kling/v1/videos/... -----------------------------------------------------------------

KLING_STATUS = {  # Kling's task_status for new-api's one task vocabulary
    "NOT_START": "submitted",
    "SUBMITTED": "submitted",
    "QUEUED": "submitted",
    "IN_PROGRESS": "processing",
    "SUCCESS": "succeed",
    "FAILURE": "failed",
}


def kling_view(task: Task, ctx: View) -> dict[str, Any]:
    """Kling's task data at ``ctx.now``: times in ms, ``task_result.videos`` once succeed."""
    timeline = task.timeline
    state = timeline.state_at(ctx.now)
    changed = max([t for t in timeline.times if t <= ctx.now] or [task.created_at])
    row: dict[str, Any] = {
        "task_id": task.id,
        "task_status": KLING_STATUS[state],
        "task_status_msg": "",
        "created_at": int(task.created_at * 1000),
        "updated_at": int(max(changed, task.created_at) * 1000),
    }
    if state == task.family.failure:
        row["task_status_msg"] = str((timeline.failure or {}).get("fail_reason") or "failed")
    if state == task.family.success:
        ttl = ctx.settings.get("result_url_ttl")
        expires = None if ttl is None else timeline.ends_at + float(ttl)
        url = ctx.links.url(ctx.origin, "result.mp4", f"{task.id}.mp4", expires)
        video = {"id": task.id, "url": url, "duration": task.params["duration"]}
        row["task_result"] = {"videos": [video]}
    return row


def kling_answer(data: Any, ctx: View) -> dict[str, Any]:
    """Kling's envelope: ``code`` 0, ``message`` "SUCCEED", a request id (the trace id)."""
    return {"code": 0, "message": "SUCCEED", "request_id": ctx.trace_id, "data": data}


def kling_accepted(task: Task, ctx: View) -> dict[str, Any]:
    return kling_answer(kling_view(task, ctx), ctx)
