"""Video twins made in two steps, as A2E's web app makes them: ``userVideoTwin/upload``, then
``uploadStatus``, then ``training``; and ``userRecords``, every twin of the caller.

The reference documents none of these bodies ("what is uploaded, and how, is not
documented"; "which twin is trained is not documented"). The mock's choices, each [guess]:

- ``upload`` takes ``startTraining``'s source fields (``name``, ``gender``, ``video_url`` or
  ``image_url``) as JSON and keeps them as an upload of the caller, ready at once
  (``current_status: completed``); ``name`` defaults to ``video twin``;
- ``uploadStatus`` shows the caller's newest upload not yet trained, ``null`` when there is
  none;
- ``training`` trains that upload exactly as ``startTraining`` would with its fields (same
  record, states, diamonds and refund), and the upload is then used up; with no upload it is a
  400;
- ``userRecords`` is every twin of the caller in every state, newest first, a bare array.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext, View
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.families import TWIN, TWIN_SPEC
from mockserver.providers.a2e.models import UploadRecord, iso_ms, record_of, twin_row
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.task_endpoints import start
from mockserver.providers.a2e.tasks import keep_record, newest_first, record_family, store_record
from mockserver.tasks import Task

UPLOAD = record_family("video_twin_upload")
DEFAULT_NAME = "video twin"
SOURCE_FIELDS = ("name", "gender", "video_url", "image_url")


def upload_row(task: Task) -> dict[str, Any]:
    params = task.params
    return {
        "_id": task.id,
        "name": params["name"],
        "gender": params.get("gender", ""),
        "video_url": params.get("video_url", ""),
        "image_url": params.get("image_url", ""),
        "current_status": "completed",
        "createdAt": iso_ms(task.created_at),
    }


def pending_upload(ctx: RequestContext) -> Task | None:
    """The caller's newest upload that no training has used."""
    return next((t for t in newest_first(ctx, UPLOAD) if not _used(ctx, t)), None)


def _used(view: View, upload: Task) -> bool:
    record = record_of(view, upload, UploadRecord)
    return record is not None and bool(record.twin_id)


@handles("postApiV1UserVideoTwinUpload")
async def upload_video_twin_source(ctx: RequestContext) -> dict[str, Any]:
    params = {f: ctx.body[f] for f in SOURCE_FIELDS if f in ctx.body}
    params.setdefault("name", DEFAULT_NAME)
    return ok(ctx, upload_row(store_record(ctx, UPLOAD, params)))


@handles("getApiV1UserVideoTwinUploadStatus")
async def video_twin_upload_status(ctx: RequestContext) -> dict[str, Any]:
    upload = pending_upload(ctx)
    return ok(ctx, None if upload is None else upload_row(upload))


@handles("postApiV1UserVideoTwinTraining")
async def train_uploaded_video_twin(ctx: RequestContext) -> dict[str, Any]:
    upload = pending_upload(ctx)
    if upload is None:
        raise bad_request("nothing uploaded to train: call userVideoTwin/upload first")
    twin = start(ctx, TWIN_SPEC, dict(upload.params))
    keep_record(ctx, upload, UploadRecord(twin_id=twin.id))
    return ok(ctx, twin_row(twin, ctx))


@handles("getApiV1UserVideoTwinUserRecords")
async def list_user_video_twins(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, [twin_row(t, ctx) for t in newest_first(ctx, TWIN)])
