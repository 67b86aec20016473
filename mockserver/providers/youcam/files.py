"""The upload dance: ``POST /s2s/v2.0/file[/{feature}]`` then ``PUT`` the bytes to the mock.

The file API only reserves a slot; nothing is uploaded until the client PUTs the bytes to the
URL it was given, with exactly the headers it was given. Here that URL is
``/__upload/{token}`` on the mock itself, and a mismatched PUT is refused the way a presigned
S3 URL refuses it. The universal endpoint takes images (10 MB) and videos (100 MB); each
feature's own endpoint takes the content types its row lists. A task naming a file checks it
the way the engine does: never uploaded, too large or the wrong kind ends the task in error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockserver.chaos import UPLOAD, chaos_route
from mockserver.context import RequestContext
from mockserver.ids import opaque_b64, urlsafe_id
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import s3_error
from mockserver.providers.youcam import provider
from mockserver.providers.youcam.dialect import invalid_parameters
from mockserver.providers.youcam.features import IMAGE_LIMIT, MB, VIDEO_LIMIT, Feature, slugs

UPLOAD_PREFIX = "/__upload"
STORE = "youcam_files"


@dataclass
class FileRecord:
    file_id: str
    tenant: str
    content_type: str
    file_name: str
    file_size: int
    created_at: float
    token: str
    data: bytes | None = None

    @property
    def kind(self) -> str:
        return self.content_type.split("/", 1)[0]


def _limit(content_type: str) -> int:
    return VIDEO_LIMIT if content_type.startswith("video/") else IMAGE_LIMIT


def _create_slots(ctx: RequestContext) -> dict[str, Any]:
    state = ctx.state
    rng = state.id_rng("youcam")
    files = state.stores[STORE]
    tokens = state.stores[f"{STORE}:tokens"]
    out = []
    for i, spec in enumerate(ctx.body["files"]):
        size, ctype = spec["file_size"], spec["content_type"]
        if size > _limit(ctype):
            raise invalid_parameters(
                f"files.{i}.file_size: {size} is over the {_limit(ctype) // (1024 * 1024)} MB limit"
            )
        record = FileRecord(
            file_id=opaque_b64(rng),
            tenant=ctx.key,
            content_type=ctype,
            file_name=spec["file_name"],
            file_size=size,
            created_at=ctx.now,
            token=urlsafe_id(rng, 40),
        )
        files[record.file_id] = record
        tokens[record.token] = record.file_id
        out.append(
            {
                "content_type": ctype,
                "file_name": record.file_name,
                "file_id": record.file_id,
                "requests": [
                    {
                        "method": "PUT",
                        "url": f"{ctx.origin}{UPLOAD_PREFIX}/{record.token}",
                        "headers": {"Content-Type": ctype, "Content-Length": str(size)},
                    }
                ],
            }
        )
    return {"status": 200, "data": {"files": out}}


@provider.handles("createFile")
async def create_file(ctx: RequestContext) -> dict[str, Any]:
    return _create_slots(ctx)


async def create_feature_file(ctx: RequestContext) -> dict[str, Any]:
    """``POST /s2s/v2.0/file/{feature}``: its schema lists the feature's content types."""
    return _create_slots(ctx)


for _feature in slugs():
    provider.handles(_feature.file_op)(create_feature_file)


def uploaded_file(ctx: RequestContext, file_id: str) -> FileRecord | None:
    """The tenant's file if its bytes were PUT and it is within retention, else None."""
    record: FileRecord | None = ctx.state.stores[STORE].get(file_id)
    if record is None or record.tenant != ctx.key or record.data is None:
        return None
    retention = ctx.settings.get("file_retention")
    if retention is not None and ctx.now - record.created_at > retention:
        return None
    return record


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
            record = uploaded_file(ctx, file_id)
            if record is None:
                if ctx.settings.get("missing_upload") == "reject":
                    raise invalid_parameters(f"{field}: no uploaded file with this id")
                return {
                    "error": ctx.settings.get("missing_upload_error", "unknown_internal_error"),
                    "error_message": f"The file in {field} was never uploaded.",
                }
            limit = VIDEO_LIMIT if kind == "video" else IMAGE_LIMIT
            if record.file_size > limit:
                return {
                    "error": "exceed_max_filesize",
                    "error_message": f"The file in {field} is over the {limit // MB} MB limit.",
                }
            if record.kind != kind:
                target = "mask" if "msk" in field else kind
                return {
                    "error": f"error_decode_{target}",
                    "error_message": f"The file in {field} is {record.content_type}, not {kind}.",
                }
    return None


def _s3_refusal(status: int, code: str, message: str) -> web.Response:
    return web.Response(status=status, text=s3_error(code, message), content_type="application/xml")


@chaos_route(UPLOAD, provider="youcam")
async def put_upload(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    file_id = state.stores[f"{STORE}:tokens"].get(request.match_info["token"])
    record: FileRecord | None = state.stores[STORE].get(file_id) if file_id else None
    if record is None:
        return _s3_refusal(403, "AccessDenied", "Invalid upload URL")
    if request.headers.get("Content-Type") != record.content_type:
        return _s3_refusal(
            403, "SignatureDoesNotMatch", "Content-Type differs from the one the URL was signed for"
        )
    limit = record.file_size
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        received += len(chunk)
        if received > limit:
            return _s3_refusal(400, "IncompleteBody", "More bytes than the declared Content-Length")
        chunks.append(chunk)
    if received != limit:
        return _s3_refusal(400, "IncompleteBody", f"Received {received} bytes, declared {limit}")
    record.data = b"".join(chunks)
    return web.Response(status=200, headers={"ETag": f'"{hash(record.data) & 0xFFFFFFFF:08x}"'})


def setup_upload_route(app: web.Application) -> None:
    app.router.add_put(UPLOAD_PREFIX + "/{token}", journaled(put_upload))
