"""The upload dance: ``POST /s2s/v2.0/file[/{feature}]`` then ``PUT`` the bytes to the mock.

The file API only reserves a slot; nothing is uploaded until the client PUTs the bytes to the
URL it was given, with exactly the headers it was given. Here that URL is
``/__upload/{token}`` on the mock itself (the token from the OS, mockserver/issuer.py), and a
mismatched PUT is refused the way a presigned S3 URL refuses it. The universal endpoint takes
images (10 MB) and videos (100 MB); each feature's own endpoint takes the content types its
row lists, up to its documented limit. A task naming a file checks it the way the engine does:
never uploaded, too large or the wrong kind ends the task in error.

The bytes go to the upload store (mockserver/uploads.py): streamed to disk, at most the size
the slot was signed for (more is S3's ``EntityTooLarge``), kept ``file_retention`` seconds (30
days, catalog §3.1 [DOC S10]) from when the slot was made, then evicted with their bytes.
Choices where the catalog is silent, each [guess]: an upload URL works for ``uploads.url_ttl``
seconds (1 h; a slot never filled by then is forgotten); each API key holds at most
``uploads.max_files`` slots and files and ``uploads.max_bytes`` bytes (the sizes its slots
declared), all keys together ``uploads.max_total_bytes``; a slot over a quota is refused by the
file API as 400 InvalidParameters, naming the quota, and the whole request reserves nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from aiohttp import web

from mockserver.chaos import UPLOAD, chaos_route
from mockserver.context import RequestContext
from mockserver.ids import opaque_b64
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import S3Error
from mockserver.providers.youcam.dialect import invalid_parameters
from mockserver.providers.youcam.features import IMAGE_LIMIT, MB, VIDEO_LIMIT, Feature, features
from mockserver.providers.youcam.routes import handles
from mockserver.providers.youcam.stores import FileStore
from mockserver.tasks import Task
from mockserver.uploads import Upload, UploadLimits, UploadRefused, task_files

UPLOAD_PREFIX = "/__upload"
PROVIDER = "youcam"


def limits(settings: dict[str, Any]) -> UploadLimits:
    """The scenario's bounds on YouCam uploads; the per-file cap is the slot's own size."""
    given = settings.get("uploads") or {}
    return UploadLimits.from_settings(
        given,
        max_file_bytes=given.get("max_file_bytes"),
        retention=settings.get("file_retention"),
    )


def _limit(content_type: str) -> int:
    return VIDEO_LIMIT if content_type.startswith("video/") else IMAGE_LIMIT


def _create_slots(ctx: RequestContext) -> dict[str, Any]:
    reserved: list[Upload] = []
    try:
        out = [_slot(ctx, i, spec, reserved) for i, spec in enumerate(ctx.body["files"])]
    except BaseException:
        for slot in reserved:  # a refused request reserves nothing
            ctx.state.uploads.drop(slot)
        raise
    return {"status": 200, "data": {"files": out}}


def _slot(
    ctx: RequestContext, i: int, spec: dict[str, Any], reserved: list[Upload]
) -> dict[str, Any]:
    """Reserve one file of the request (appended to ``reserved``) and describe its PUT."""
    size, ctype = spec["file_size"], spec["content_type"]
    bounds = limits(ctx.settings)
    cap = min(_limit(ctype), bounds.max_file_bytes or _limit(ctype))
    if size > cap:
        shown = f"{cap // MB} MB" if cap % MB == 0 else f"{cap} bytes"
        raise invalid_parameters(f"files.{i}.file_size: {size} is over the {shown} limit")
    try:
        slot = ctx.state.uploads.reserve(
            PROVIDER,
            ctx.key,
            opaque_b64(ctx.state.id_rng("youcam")),
            content_type=ctype,
            declared=size,
            now=ctx.now,
            limits=bounds,
        )
    except UploadRefused as exc:
        raise invalid_parameters(f"files.{i}: {exc.message}") from exc
    reserved.append(slot)
    return {
        "content_type": ctype,
        "file_name": spec["file_name"],
        "file_id": slot.key,
        "requests": [
            {
                "method": "PUT",
                "url": f"{ctx.origin}{UPLOAD_PREFIX}/{slot.handle}",
                "headers": {"Content-Type": ctype, "Content-Length": str(size)},
            }
        ],
    }


@handles("createFile")
async def create_file(ctx: RequestContext) -> dict[str, Any]:
    return _create_slots(ctx)


async def create_feature_file(ctx: RequestContext) -> dict[str, Any]:
    """``POST /s2s/{version}/file/{feature}``: its schema lists the feature's content types.

    Every task route has its file route on the same path version (``/s2s/v2.1/file/skin-analysis``
    beside ``/s2s/v2.1/task/skin-analysis``, as the docs list them)."""
    return _create_slots(ctx)


for _feature in features():
    handles(_feature.file_op)(create_feature_file)


def uploaded_file(ctx: RequestContext, file_id: str) -> tuple[str, int] | None:
    """``(content_type, size)`` of the tenant's file if its bytes are there (uploaded, or made
    by the mock) and it is within retention, else None."""
    upload = ctx.state.uploads.get(PROVIDER, ctx.key, file_id, ctx.now)
    if upload is not None:
        return upload.content_type, upload.size
    record = FileStore.of(ctx.state).get(file_id, ctx.now)  # gone past its retention
    if record is None or record.tenant != ctx.key or record.data is None:
        return None
    return record.content_type, record.file_size


def file_problem(ctx: RequestContext, feature: Feature) -> dict[str, str] | None:
    """The engine failure the task's file ids cause, or None when every file is usable.

    Never uploaded (or another tenant's, or past retention): the configured engine code, or a
    400 at submit when ``missing_upload`` is ``reject``. Over the feature's limit:
    ``exceed_max_filesize``. The wrong kind (a video where an image is read): the decode error.
    """
    for field, kind, many in feature.id_fields():
        value = ctx.body.get(field)
        if value is None:
            continue
        for file_id in value if many else [value]:
            found = uploaded_file(ctx, file_id)
            if found is None:
                if ctx.settings.get("missing_upload") == "reject":
                    raise invalid_parameters(f"{field}: no uploaded file with this id")
                return {
                    "error": ctx.settings.get("missing_upload_error", "unknown_internal_error"),
                    "error_message": f"The file in {field} was never uploaded.",
                }
            content_type, size = found
            limit = VIDEO_LIMIT if kind == "video" else IMAGE_LIMIT
            if size > limit:
                return {
                    "error": "exceed_max_filesize",
                    "error_message": f"The file in {field} is over the {limit // MB} MB limit.",
                }
            if content_type.split("/", 1)[0] != kind:
                target = "mask" if "msk" in field else kind
                return {
                    "error": f"error_decode_{target}",
                    "error_message": f"The file in {field} is {content_type}, not {kind}.",
                }
    return None


@chaos_route(UPLOAD, provider="youcam")
async def put_upload(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    now = state.clock.now()
    slot = state.uploads.slot(request.match_info["token"], now)
    try:
        if slot is None:
            raise S3Error(403, "AccessDenied", "Invalid upload URL")
        if slot.url_expires_at is not None and now > slot.url_expires_at:
            raise S3Error(403, "AccessDenied", "Request has expired")
        if request.headers.get("Content-Type") != slot.content_type:
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "Content-Type differs from the one the URL was signed for",
            )
        stored = await state.uploads.write(
            request.content,
            request.content_length,
            space=PROVIDER,
            tenant=slot.tenant,
            key=slot.key,
            content_type=slot.content_type,
            now=now,
            limits=limits(state.scenario.providers[PROVIDER].settings),
            slot=slot,
        )
    except S3Error as err:
        return err.response()
    return web.Response(status=200, headers={"ETag": f'"{stored.etag}"'})


@task_files(PROVIDER, deleted_with_task=True)  # task/delete removes its input files [DOC S5]
def _files_named(task: Task) -> Iterable[Hashable]:
    """The file ids a task's body names (``src_file_id``, ``ref_file_ids``...): they go with
    the task, evicted or deleted."""
    for field, value in task.params.items():
        if field.endswith(("_file_id", "_file_ids")):
            yield from (
                v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
            )


def setup_upload_route(app: web.Application) -> None:
    app.router.add_put(UPLOAD_PREFIX + "/{token}", journaled(put_upload))
