"""``tos/transferToStorage {url}`` -> ``data: {url}``: a stable copy on "A2E's storage"
(catalog §12.5, named in D11 for unstable input URLs).

The mock cannot fetch arbitrary URLs, so fixtures stand in for the source, chosen by the
URL's suffix (mp4/mov -> mp4, mp3, wav, png, jpg/jpeg, webp; anything else an mp4); a URL the
mock handed out itself (a result link, or an object uploaded through
``r2/get_upload_presigned_url``) is copied byte for byte, and one that has expired, was
altered or does not exist cannot be fetched (a 400). A fixture's copy never expires and keeps
the fixture's suffix; an uploaded object's copy is the caller's own object on the bucket, kept
(and its signed URL valid) as long as uploads are (``uploads.retention``). [guess]
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from mockserver.context import RequestContext
from mockserver.media import MEDIA_PREFIX, LinkError, S3Error
from mockserver.providers.a2e import r2
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import PROVIDER, hex24
from mockserver.uploads import Upload

FIXTURE_BY_SUFFIX = {
    ".mp4": "result.mp4",
    ".mov": "result.mp4",
    ".mp3": "result.mp3",
    ".wav": "result.wav",
    ".png": "result.png",
    ".jpg": "result.jpg",
    ".jpeg": "result.jpg",
    ".webp": "result.webp",
}
DEFAULT_FIXTURE = "result.mp4"


def _fixture(ctx: RequestContext, url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url
    if path.startswith(f"{MEDIA_PREFIX}/"):
        token, _, name = path[len(MEDIA_PREFIX) + 1 :].partition("/")
        try:
            return ctx.state.links.resolve(token, unquote(name), ctx.now)
        except LinkError as exc:  # what a fetch of it would meet
            raise bad_request(f"the url could not be downloaded (HTTP {exc.status})") from exc
    return FIXTURE_BY_SUFFIX.get(PurePosixPath(path).suffix.lower(), DEFAULT_FIXTURE)


def _object_name(upload: Upload) -> str:
    """The object key of an R2 upload, whose store key is ``(bucket, key)``."""
    _, name = cast("tuple[str, str]", upload.key)
    return name


def _copy_upload(ctx: RequestContext, url: str) -> str | None:
    """A copy of an object uploaded through ``r2/get_upload_presigned_url``, or None."""
    source = r2.object_at(ctx, url)
    if source is None:
        return None
    bucket, key = r2.DEFAULT_BUCKET, f"tos/{hex24(ctx)}/{PurePosixPath(_object_name(source)).name}"
    try:
        copy = ctx.state.uploads.copy(
            source,
            space=PROVIDER,
            tenant=ctx.key,
            key=(bucket, key),
            now=ctx.now,
            limits=r2.limits(ctx.state),
        )
    except S3Error as exc:  # the caller's upload quota is used up
        raise bad_request(f"the url could not be stored: {exc.message}") from exc
    return r2.signed_url(ctx, bucket, key, copy.expires_at)


@handles("transferToStorage")
async def transfer_to_storage(ctx: RequestContext) -> dict[str, Any]:
    uploaded = _copy_upload(ctx, ctx.body["url"])
    if uploaded is not None:
        return ok(ctx, {"url": uploaded})
    fixture = _fixture(ctx, ctx.body["url"])
    name = f"{hex24(ctx)}{PurePosixPath(fixture).suffix}"
    return ok(ctx, {"url": ctx.state.links.url(ctx.origin, fixture, name, None)})
