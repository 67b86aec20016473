"""``tos/transferToStorage {url}`` -> ``data: {url}``: a stable copy on "A2E's storage"
(catalog §12.5, named in D11 for unstable input URLs).

The mock cannot fetch arbitrary URLs, so fixtures stand in for the source, chosen by the
URL's suffix (mp4/mov -> mp4, mp3, wav, png, jpg/jpeg, webp; anything else an mp4); a URL the
mock handed out itself (a result link, or an object uploaded through
``r2/get_upload_presigned_url``) is copied byte for byte, and one that has expired or does
not exist cannot be fetched (a 400). The copy never expires and keeps the fixture's suffix. [guess]
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from mockserver.context import RequestContext
from mockserver.media import MEDIA_PREFIX, LinkError
from mockserver.providers.a2e import provider, r2
from mockserver.providers.a2e.common import PROVIDER, hex24, ok
from mockserver.providers.a2e.dialect import bad_request

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


def _copy_upload(ctx: RequestContext, url: str) -> str | None:
    """A copy of an object uploaded through ``r2/get_upload_presigned_url``, or None."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    if not path.startswith(f"{r2.BUCKET_PREFIX}/"):
        return None
    bucket, _, key = path[len(r2.BUCKET_PREFIX) + 1 :].partition("/")
    objects = ctx.state.stores[PROVIDER].setdefault(r2.STORE, {})
    found = objects.get((bucket, key))
    if found is None:
        raise bad_request("the url could not be downloaded (HTTP 404)")
    copy_key = f"tos/{hex24(ctx)}/{PurePosixPath(key).name}"
    objects[(r2.DEFAULT_BUCKET, copy_key)] = found
    return f"{ctx.origin}{r2.BUCKET_PREFIX}/{r2.DEFAULT_BUCKET}/{quote(copy_key)}"


@provider.handles("transferToStorage")
async def transfer_to_storage(ctx: RequestContext) -> dict[str, Any]:
    uploaded = _copy_upload(ctx, ctx.body["url"])
    if uploaded is not None:
        return ok(ctx, {"url": uploaded})
    fixture = _fixture(ctx, ctx.body["url"])
    name = f"{hex24(ctx)}{PurePosixPath(fixture).suffix}"
    return ok(ctx, {"url": ctx.state.links.url(ctx.origin, fixture, name, None)})
