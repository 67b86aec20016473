"""A2E's typed records, and tasks as they are shown: pure renderers ``render(task, view)``.

The records are what A2E keeps beside the core's tasks: a task's charge and the ids it drew
(:class:`TaskRecord` and its kinds, in the :class:`TaskRecords` store, kept here so the
renderers can read it), issued tokens, streaming sessions (stores.py keeps those).

A renderer reads a task and a :class:`~mockserver.context.View` (the clock reading, the
origin links point at, the settings, the task's record) and knows no request, so a handler,
a list and a webhook show a task the same way. The conventions of catalog §1 and §15 hold in
every row: 24-hex ``_id``, ISO-8601 UTC timestamps with milliseconds and ``Z``, result links
on the mock signed when the task ended. Each family's choices where the catalog is silent
are in :mod:`.families`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mockserver.context import View
from mockserver.families import Row
from mockserver.stores import Store
from mockserver.tasks import Task

# ``current_date`` in awsResult is the server's wall clock in China Standard Time: the D2
# example's createdAt 05:21:26.855Z plus diff_s 6644 is 07:12:10Z, shown as "15:12:11". [inf]
SERVER_TZ = timezone(timedelta(hours=8))
IMAGE_SUFFIXES = {".jpg": "result.jpg", ".jpeg": "result.jpg", ".png": "result.png"}
AUDIO_SUFFIXES = {".mp3": "result.mp3", ".wav": "result.wav", ".m4a": "result.mp3"}
SERVED_CLIP_SECONDS = 1  # fixtures/media/result.mp4 lasts 1.000 s
PROCESS_REACHED_AT_FAIL = 99  # [guess] a render that fails keeps the progress it had
PUBLIC_COVER = "result.jpg"


# --- records: what A2E keeps beside a task's params ---------------------------------------


@dataclass
class TaskRecord:
    """What a task was charged at submit (in its family's currency, 0 when free)."""

    amount: float = 0


@dataclass(kw_only=True)
class VoiceRecord(TaskRecord):
    """A cloned voice: its ``speaker_id``, drawn at submit."""

    speaker_id: str


@dataclass(kw_only=True)
class TwinRecord(TaskRecord):
    """A custom avatar: the ``anchor_id`` it gets (drawn at submit, shown once completed)."""

    anchor_id: str


@dataclass(kw_only=True)
class TrainingRecord(TaskRecord):
    """A training of a custom avatar after its first (lip-sync, eye contact): the avatar."""

    twin: Task


@dataclass(kw_only=True)
class LipSyncRecord(TrainingRecord):
    """A lip-sync training: the custom avatar it trains."""


@dataclass(kw_only=True)
class EyeContactRecord(TrainingRecord):
    """An eye contact enhancement: the custom avatar it enhances."""


@dataclass(kw_only=True)
class ModelRecord(TaskRecord):
    """A model family's task (and image-to-video's): the ``name`` a rename gave it and when,
    and the marks (``shared``, ``downloaded``, ``copied``) set on it."""

    name: str | None = None
    renamed_at: float = 0
    marks: dict[str, bool] = field(default_factory=dict)


@dataclass(kw_only=True)
class EditedRecord(TaskRecord):
    """A library entry edited in place (a custom avatar): when it last changed."""

    updated_at: float


@dataclass(kw_only=True)
class UploadRecord(TaskRecord):
    """A video twin upload: the twin its training started (``""`` while unused)."""

    twin_id: str = ""


R = TypeVar("R", bound=TaskRecord)


class TaskRecords(Store):
    """Each A2E task's record, by task id; forgotten with the task (evicted or deleted)."""

    def __init__(self) -> None:
        self.records: dict[str, TaskRecord] = {}

    def put(self, task: Task, record: TaskRecord) -> TaskRecord:
        self.records[task.id] = record
        return record

    def pop(self, task: Task) -> TaskRecord | None:
        return self.records.pop(task.id, None)

    def clear(self) -> None:
        self.records.clear()

    def drop_task(self, task: Task, deleted: bool = False) -> None:
        if task.provider == "a2e":
            self.records.pop(task.id, None)

    def __len__(self) -> int:
        return len(self.records)

    def task_data(self, task: Task) -> dict[str, Any] | None:
        """The task's record as ``{kind, field: value...}`` (a training's avatar as the Task)."""
        record = self.records.get(task.id) if task.provider == "a2e" else None
        if record is None:
            return None
        return {
            "kind": type(record).__name__,
            **{f.name: getattr(record, f.name) for f in fields(record)},
        }

    def load_task_data(self, task: Task, data: Any) -> None:
        kind = RECORD_KINDS.get(str(data.get("kind"))) if isinstance(data, dict) else None
        if kind is None:
            return  # a kind this version does not keep
        try:
            self.records[task.id] = kind(**{k: v for k, v in data.items() if k != "kind"})
        except TypeError:
            return  # fields of another version: the task goes on without its record


RECORD_KINDS: dict[str, type[TaskRecord]] = {
    cls.__name__: cls
    for cls in (
        TaskRecord,
        VoiceRecord,
        TwinRecord,
        LipSyncRecord,
        EyeContactRecord,
        ModelRecord,
        EditedRecord,
        UploadRecord,
    )
}


def record_of(view: View, task: Task, kind: type[R]) -> R | None:
    """The task's record if it is a ``kind`` (a task made before a reset has none)."""
    record = view.stores.get(TaskRecords).records.get(task.id)
    return record if isinstance(record, kind) else None


@dataclass
class ApiToken:
    """A token the mock issued: whom it acts for, under which alias, since when."""

    id: str
    tenant: str
    alias: str
    created_at: float


@dataclass
class StreamingSession:
    """A streaming avatar session, live from its token until ``leave`` or its expiry."""

    tenant: str
    avatar_id: str
    started_at: float
    expires_at: float
    left_at: float | None = None
    qa_context: str = ""

    def live(self, now: float) -> bool:
        return self.left_at is None and now < self.expires_at


# --- formats ------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 14)
def iso_ms(t: float) -> str:
    """``2024-06-21T03:20:22.436Z``. Cached: every poll of a task shows its ``createdAt``,
    and formatting one costs more than the rest of the answer."""
    seconds, millis = divmod(round(t * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def iso_or_none(t: float | None) -> str | None:
    return None if t is None else iso_ms(t)


def server_date(t: float) -> str:
    """``2023-10-11 15:12:11``: A2E's server clock (UTC+8), to the second. Formatted once
    a second: every ``awsResult`` row shows it, and ``strftime`` is most of a row's cost."""
    return _server_date(int(t))


@lru_cache(maxsize=256)
def _server_date(second: int) -> str:
    return datetime.fromtimestamp(second, SERVER_TZ).strftime("%Y-%m-%d %H:%M:%S")


def number(value: float) -> int | float:
    """A balance or cost as JSON shows it: ``2836``, not ``2836.0``."""
    return int(value) if float(value).is_integer() else value


def user_id(key: str) -> str:
    """The caller's A2E user id, as records show it: 24-hex, fixed for the key. [guess]"""
    return hashlib.sha256(f"a2e-user:{key}".encode()).hexdigest()[:24]


def _suffix(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. a malformed IPv6 host: not our concern at submit
        path = url
    return PurePosixPath(path).suffix.lower()


def looks_like_image(url: str) -> bool:
    return _suffix(url) in IMAGE_SUFFIXES


def image_fixture(url: str) -> str:
    """The fixture that answers for an image input (jpg or png), by the URL's suffix."""
    return IMAGE_SUFFIXES.get(_suffix(url), "result.jpg")


# --- what every task row shares -----------------------------------------------------------


def result_link(
    view: View, task: Task, fixture: str = "result.mp4", name: str | None = None
) -> str:
    """The task's result on the mock: signed when the task ended, valid ``result_url_ttl`` s.

    The expiry is fixed by the end of the task, not by the read, so a list and a detail read
    at the same instant (or at any two instants) show the same URL, as a stored URL would.
    """
    ttl = view.settings.get("result_url_ttl")
    ended = task.timeline.ends_at
    expires = None if ttl is None else ended + ttl
    shown = name or f"{task.id}{PurePosixPath(fixture).suffix}"
    return view.links.url(view.origin, fixture, shown, expires)


def updated_at(task: Task, now: float) -> float:
    """When the record last changed: the moment it entered the state it is in."""
    return task.timeline.times[task.timeline.index_at(now)]


def failed_text(task: Task, status: str, field: str, default: str) -> str:
    """A failure text (``failed_message``...) once the task failed, else ``""``."""
    if status != task.family.failure:
        return ""
    return str((task.timeline.failure or {}).get(field) or default)


def outcome_fields(
    view: View, task: Task, default_message: str, fixture: str = "result.mp4"
) -> Row:
    """``current_status``, ``result_url``, ``failed_message``, ``failed_code``: the newer
    families' vocabulary (§1): ``result_url`` only on success, failure texts only on failure,
    ``""`` otherwise (D11, D17)."""
    status = task.state(view.now)
    family = task.family
    if status != family.failure:  # a poll's common case: no failure texts to look up
        done = status == family.success
        return {
            "current_status": status,
            "result_url": result_link(view, task, fixture) if done else "",
            "failed_message": "",
            "failed_code": "",
        }
    return {
        "current_status": status,
        "result_url": "",
        "failed_message": failed_text(task, status, "failed_message", default_message),
        "failed_code": failed_text(task, status, "failed_code", ""),
    }


def charged(view: View, task: Task) -> float:
    """What the task was charged at submit, in its family's currency (0 when free)."""
    record = view.stores.get(TaskRecords).records.get(task.id)  # every kind has an amount
    return 0 if record is None else record.amount


def outcome_row(
    task: Task, view: View, echoed: Row, message: str, fixture: str = "result.mp4", **shown: Any
) -> Row:
    """The row of the newer families (dubbing, caption removal, talking video and photo):
    the id, what the start echoed, the outcome, then ``shown``, coins and the two times."""
    return {
        "_id": task.id,
        **echoed,
        **outcome_fields(view, task, message, fixture),
        **shown,
        "coins": charged(view, task),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, view.now)),
    }


# --- avatar videos (catalog §4.4) ---------------------------------------------------------

VIDEO_FAILED = "algorithm error"


def _process(task: Task, status: str, now: float) -> int:
    if status in ("copy", "success"):
        return 100
    if status == "process":
        return min(int(task.timeline.fraction_through(now) * 100), 99)
    if status == "fail" and "process" in task.timeline.states:
        return PROCESS_REACHED_AT_FAIL
    return 0


def video_row(task: Task, view: View) -> Row:
    """One video as ``awsResult`` and ``awsList`` show it (the 17 fields of catalog §4.4)."""
    now = view.now
    status = task.timeline.state_at(now)  # task.state(), one call less on a status read
    params = task.params
    succeeded, failed = status == "success", status == task.family.failure
    return {
        "_id": task.id,
        "msg": failed_text(task, status, "msg", VIDEO_FAILED) if failed else "",
        "result": result_link(view, task) if succeeded else "",
        "process": _process(task, status, now),
        "status": status,
        "anchor_type": str(int(params["anchor_type"])),
        "web_bg_width": params.get("web_bg_width", 0),
        "web_bg_height": params.get("web_bg_height", 0),
        "color": params.get("color", ""),
        "result_people_url": (
            result_link(view, task, "result.mp4", f"{task.id}_people.mp4") if succeeded else ""
        ),
        "result_bg_url": (
            result_link(view, task, "result.jpg", f"{task.id}_bg.jpg") if succeeded else ""
        ),
        "anchor_id": params["anchor_id"],
        "replace_bg_id": params.get("back_id", ""),
        "custom_backs_id": params.get("custom_back_id") or None,
        "createdAt": iso_ms(task.created_at),
        "diff_s": max(int(now - task.created_at), 0),
        "current_date": server_date(now),
    }


def video_result(task: Task, view: View) -> list[Row]:
    """``awsResult`` answers an array of the one video asked for."""
    return [video_row(task, view)]


# --- face swap and its previews (catalog §7.4-7.10) ---------------------------------------

FACESWAP_FAILED = "face swap failed"
PREVIEW_FAILED = "face swap preview failed"


def swap_outcome(task: Task, status: str, default_message: str) -> tuple[str | None, str | None]:
    """Face swap's own failure vocabulary: ``error_code`` (``"0"`` on success, ``null`` while
    running) and ``faild_message`` (sic; ``null`` unless it failed)."""
    if status == task.family.success:
        return "0", None
    if status == task.family.failure:
        failure = task.timeline.failure or {}
        code = str(failure.get("error_code") or "1")
        return code, str(failure.get("faild_message") or default_message)
    return None, None


def faceswap_status(task: Task, view: View) -> Row:
    """The five fields ``/status`` shows; every other face swap view starts from these."""
    status = task.state(view.now)
    video_url = task.params["video_url"]
    fixture = image_fixture(video_url) if looks_like_image(video_url) else "result.mp4"
    error_code, message = swap_outcome(task, status, FACESWAP_FAILED)
    return {
        "current_status": status,
        "result_url": result_link(view, task, fixture) if status == task.family.success else "",
        "error_code": error_code,
        "faild_message": message,
        "_id": task.id,
    }


def faceswap_added(task: Task, view: View) -> Row:
    """The task as ``add`` answers it (catalog §7.6)."""
    params = task.params
    fields = faceswap_status(task, view)
    return {
        "name": params["name"],
        "video_url": params["video_url"],
        "duration": 0 if looks_like_image(params["video_url"]) else SERVED_CLIP_SECONDS,
        "face_url": params["face_url"],
        "current_status": fields["current_status"],
        "result_url": fields["result_url"],
        "error_code": fields["error_code"],
        "faild_message": fields["faild_message"],
        "_id": task.id,
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, view.now)),
    }


def faceswap_row(task: Task, view: View) -> Row:
    """The task as ``records`` and ``/{_id}`` show it: §7.6 plus the three stage times."""
    now = view.now
    timeline = task.timeline

    def entered(state: str) -> str | None:
        at = timeline.entered_at(state)
        return iso_or_none(at if at is not None and at <= now else None)

    ended = timeline.ends_at if timeline.is_done(now) else None
    return {
        **faceswap_added(task, view),
        "initialized_time": entered("initialized"),
        "processing_time": entered("processing"),
        "completed_time": iso_or_none(ended),
    }


def preview_row(task: Task, view: View) -> Row:
    """A face swap preview (D8): one frame, an image unless ``video_url`` is a video."""
    status = task.state(view.now)
    video_url = task.params.get("video_url", "")
    fixture = image_fixture(video_url) if looks_like_image(video_url) or not video_url else None
    error_code, message = swap_outcome(task, status, PREVIEW_FAILED)
    done = status == task.family.success
    return {
        "video_url": video_url,
        "face_url": task.params["face_url"],
        "current_status": status,
        "result_url": result_link(view, task, fixture or "result.mp4") if done else "",
        "error_code": error_code,
        "faild_message": message,
        "_id": task.id,
        "user_id": user_id(task.tenant),
    }


# --- voices (catalog §3) ------------------------------------------------------------------

DEFAULT_TRAIN_MODE = "best"
VOICE_FAILED = "voice clone failed"


def speaker_id(view: View, task: Task) -> str:
    """The cloned voice's own 24-hex id, drawn at submit."""
    record = record_of(view, task, VoiceRecord)
    return "" if record is None else record.speaker_id


def voice_row(task: Task, view: View) -> Row:
    """One voice as every voice endpoint shows it (D4's fields plus ``failed_message``)."""
    status = task.state(view.now)
    params = task.params
    urls = params.get("voice_urls") or [params["audio_url"]]
    return {
        "_id": task.id,
        "name": params["name"],
        "voice_urls": list(urls),
        "current_status": status,
        "train_mode": params.get("train_mode", DEFAULT_TRAIN_MODE),
        "speaker_id": speaker_id(view, task),
        "failed_message": failed_text(task, status, "failed_message", VOICE_FAILED),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, view.now)),
    }


# --- custom avatars and lip-sync models (catalog §4.3, §4.5, §5) --------------------------

TWIN_FAILED = "avatar training failed"


def anchor_id(view: View, twin: Task) -> str:
    """The anchor a custom avatar gets, drawn at submit, shown once it completed."""
    record = record_of(view, twin, TwinRecord)
    return "" if record is None else record.anchor_id


def lipsync_twin(view: View, task: Task) -> Task | None:
    """The custom avatar a lip-sync model was trained for."""
    record = record_of(view, task, LipSyncRecord)
    return None if record is None else record.twin


def twin_row(task: Task, view: View) -> Row:
    status = task.state(view.now)
    params = task.params
    done = status == task.family.success
    return {
        "_id": task.id,
        "name": params["name"],
        "gender": params.get("gender", ""),
        "video_url": params.get("video_url", ""),
        "image_url": params.get("image_url", ""),
        "current_status": status,
        "anchor_id": anchor_id(view, task) if done else "",
        "preview_result_url": result_link(view, task) if done else "",
        "failed_message": failed_text(task, status, "failed_message", TWIN_FAILED),
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(updated_at(task, view.now)),
    }


def trained_twin(task: Task, view: View) -> Row:
    """What ``continueTranining`` answers for a lip-sync training: the avatar it trains."""
    twin = lipsync_twin(view, task)
    return {} if twin is None else twin_row(twin, view)


def lipsync_row(task: Task, view: View) -> Row:
    twin = lipsync_twin(view, task)
    return {
        "_id": task.id,
        "name": "" if twin is None else twin.params["name"],
        "user_video_twin_id": "" if twin is None else twin.id,
        "anchor_id": "" if twin is None else anchor_id(view, twin),
        "current_status": task.state(view.now),
        "createdAt": iso_ms(task.created_at),
    }


def custom_anchor(task: Task, view: View) -> Row:
    """A completed avatar as ``character_list`` shows it."""
    return {
        "_id": anchor_id(view, task),
        "name": task.params["name"],
        "gender": task.params.get("gender", ""),
        "type": "custom",
        "anchor_type": 1,
        "user_video_twin_id": task.id,
        "video_cover": result_link(view, task, "result.jpg", f"{task.id}_cover.jpg"),
        "base_video": result_link(view, task),
    }


def public_anchor(avatar: Row, view: View) -> Row:
    """A public avatar (catalog.PUBLIC_AVATARS) as ``character_list`` shows it."""
    links = view.links
    return {
        **avatar,
        "type": "default",
        "anchor_type": 0,
        "video_cover": links.url(view.origin, PUBLIC_COVER, f"{avatar['_id']}_cover.jpg", None),
        "base_video": links.url(view.origin, "result.mp4", f"{avatar['_id']}.mp4", None),
    }


# --- the newer task families (catalog §8-10, §13) -----------------------------------------

CAPTION_FAILED = "caption removal failed"
DUBBING_FAILED = "dubbing failed"
TALKING_FAILED = "generation failed"
IMAGE2VIDEO_FAILED = "Video generation failed"


def caption_row(task: Task, view: View) -> Row:
    params = task.params
    echoed = {
        "name": params.get("name", ""),
        "source_url": params.get("source_url") or params["video_url"],
    }
    return outcome_row(task, view, echoed, CAPTION_FAILED)


def dubbing_row(task: Task, view: View) -> Row:
    params = task.params
    suffix = PurePosixPath(params["source_url"].split("?", 1)[0]).suffix.lower()
    echoed = {
        "name": params.get("name", ""),
        "source_url": params["source_url"],
        "source_lang": params.get("source_lang", "auto"),
        "target_lang": params["target_lang"],
        "num_speakers": params.get("num_speakers", 1),
        "drop_background_audio": params.get("drop_background_audio", False),
    }
    return outcome_row(task, view, echoed, DUBBING_FAILED, AUDIO_SUFFIXES.get(suffix, "result.mp4"))


def _talking_row(task: Task, view: View, source: str) -> Row:
    params = task.params
    echoed = {
        "name": params["name"],
        source: params[source],
        "audio_url": params["audio_url"],
        "duration": params.get("duration", 0),
        "prompt": params.get("prompt", ""),
        "negative_prompt": params.get("negative_prompt", ""),
    }
    cover = view.links.url(view.origin, "result.jpg", f"{task.id}_cover.jpg", None)
    return outcome_row(task, view, echoed, TALKING_FAILED, cover_url=cover)


def talking_video_row(task: Task, view: View) -> Row:
    return _talking_row(task, view, "video_url")


def talking_photo_row(task: Task, view: View) -> Row:
    return _talking_row(task, view, "image_url")


def image2video_row(task: Task, view: View) -> Row:
    """One task as start, ``/{_id}``, ``allRecords`` and the webhook show it (seed 003)."""
    status = task.timeline.state_at(view.now)  # task.state(), one call less on a poll
    params = task.params
    failed = status == task.family.failure
    return {
        "_id": task.id,
        "name": params["name"],
        "image_url": params["image_url"],
        "prompt": params["prompt"],
        "negative_prompt": params.get("negative_prompt", params.get("negative_prmpt", "")),
        "current_status": status,
        "coins": charged(view, task),
        "createdAt": iso_ms(task.created_at),
        "failed_message": (
            failed_text(task, status, "failed_message", IMAGE2VIDEO_FAILED) if failed else ""
        ),
        "failed_code": failed_text(task, status, "failed_code", "") if failed else "",
        "result_url": result_link(view, task) if status == task.family.success else "",
    }


# --- plain records (no lifecycle) ---------------------------------------------------------


def background_row(task: Task, view: View) -> Row:
    return {"_id": task.id, "img_url": task.params["img_url"], "createdAt": iso_ms(task.created_at)}


def face_image_row(task: Task, view: View) -> Row:
    stamp = iso_ms(task.created_at)
    return {
        "face_url": task.params["face_url"],
        "_id": task.id,
        "user_id": user_id(task.tenant),
        "createdAt": stamp,
        "updatedAt": stamp,
    }
