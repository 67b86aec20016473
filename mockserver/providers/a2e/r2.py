"""Uploads: ``r2/get_upload_presigned_url`` and the mock's stand-in for the R2 bucket
(catalog §13: ``{key, bucket?}`` -> ``{uploadUrl, key, expiresIn, bucket}``, a PUT without
Authorization; C3, K1).

``uploadUrl`` points at the mock and behaves like a presigned URL: signed, time-limited and
scoped to the tenant that asked for it. ``PUT`` the bytes there (no ``Authorization``, as on
R2) before it expires and they are kept, in that tenant's own namespace: another tenant who
asks for a URL to the same bucket and key writes and reads its own object, never this one
(the 2026 reference scopes keys per user, ``.../user/{user_id}/``). The bytes are streamed to
disk under the scenario's bounds (``settings.uploads``: a cap per object, a quota per tenant,
a total, a retention; see mockserver/uploads.py). Refusals on the bucket speak S3's XML, as
R2 does: no or a wrong signature 403 ``AccessDenied`` / ``SignatureDoesNotMatch``, a late one
``AccessDenied``, too large ``EntityTooLarge``.

Choices where the catalog is silent, each [guess]:

- ``expiresIn`` is 3600 s; the default bucket is ``a2e-upload``; a key is 1-512 characters
  without ``..``; uploading again to the same key replaces the object.
- the URL names the tenant by an opaque credential (``X-Amz-Credential``, derived from the
  process's secret, never the API key itself) and the signature covers credential, bucket,
  key and expiry, not the method: ``uploadUrl`` also reads the object back (``GET``) until it
  expires. S3 would sign the method too; R2's public buckets need no signature to read.
- the object's plain URL (``uploadUrl`` without its query) is no public read: a ``GET`` on it
  is 403 ``AccessDenied``. Where the mock itself reads a URL (``tos/transferToStorage``) the
  plain URL names the caller's own object, so it still works for the tenant that uploaded it
  and finds nothing (404) for any other; a signed URL there reads the object it was signed for.
- an object keeps the Content-Type it was PUT with, and is served with it when that type is
  passive (images, audio, video, plain text, JSON...); an active one (HTML, SVG, XML,
  JavaScript...) is served as an ``application/octet-stream`` attachment. Always ``nosniff``.
- objects are kept ``uploads.retention`` seconds (default 3 days, as the 2026 reference's
  default bucket name ``3days-apac`` suggests) and then evicted with their bytes.
"""

from __future__ import annotations

import hmac
from collections.abc import Hashable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from aiohttp import web

from mockserver.chaos import A2E_R2, chaos_route
from mockserver.context import RequestContext
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import S3Error
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.stores import R2Credentials
from mockserver.providers.a2e.tasks import PROVIDER
from mockserver.state import MockState
from mockserver.tasks import Task
from mockserver.uploads import Upload, UploadLimits, serving_headers, task_files

BUCKET_PREFIX = "/__a2e-r2"
EXPIRES_IN = 3600
DEFAULT_BUCKET = "a2e-upload"


def limits(state: MockState) -> UploadLimits:
    return UploadLimits.from_settings(state.scenario.providers[PROVIDER].settings.get("uploads"))


def _credential(state: MockState, tenant: str) -> str:
    """The tenant's name in its URLs: opaque, so a URL never shows the API key."""
    mac = hmac.new(state.secrets.key("a2e-r2-credential"), tenant.encode(), "sha256")
    credential = mac.hexdigest()[:32]
    R2Credentials.of(state).name(credential, tenant)
    return credential


def _signature(state: MockState, credential: str, bucket: str, key: str, expires: str) -> str:
    message = f"{credential}\n{bucket}\n{key}\n{expires}".encode(errors="surrogatepass")
    return hmac.new(state.secrets.key("a2e-r2-urls"), message, "sha256").hexdigest()


def signed_url(
    ctx: RequestContext, bucket: str, key: str, expires: float | None, tenant: str | None = None
) -> str:
    """A URL to ``tenant``'s (default: the caller's) object, good until ``expires`` (None:
    for as long as the object lives)."""
    credential = _credential(ctx.state, ctx.key if tenant is None else tenant)
    exp = "" if expires is None else str(int(expires))
    query = f"X-Amz-Credential={credential}"
    if exp:
        query += f"&X-Amz-Expires={exp}"
    query += f"&X-Amz-Signature={_signature(ctx.state, credential, bucket, key, exp)}"
    return f"{ctx.origin}{BUCKET_PREFIX}/{quote(bucket, safe='')}/{quote(key)}?{query}"


@handles("postApiV1R2GetUploadPresignedUrl")
async def get_upload_presigned_url(ctx: RequestContext) -> dict[str, Any]:
    key = ctx.body["key"].lstrip("/")
    bucket = ctx.body.get("bucket") or DEFAULT_BUCKET
    if not key or ".." in key.split("/"):
        raise bad_request("key must name an object, without '..'")
    upload_url = signed_url(ctx, bucket, key, int(ctx.now) + EXPIRES_IN)
    return ok(ctx, {"uploadUrl": upload_url, "key": key, "expiresIn": EXPIRES_IN, "bucket": bucket})


def _grantee(state: MockState, bucket: str, key: str, query: dict[str, str], now: float) -> str:
    """The tenant a signed URL acts for; S3Error when unsigned, forged or expired."""
    credential, signature = query.get("X-Amz-Credential"), query.get("X-Amz-Signature")
    if not credential or not signature:
        raise S3Error(403, "AccessDenied", "Query-string authentication requires a signature")
    exp = query.get("X-Amz-Expires", "")
    wanted = _signature(state, credential, bucket, key, exp)
    if not hmac.compare_digest(signature.encode(errors="surrogatepass"), wanted.encode()):
        raise S3Error(403, "SignatureDoesNotMatch", "The request signature does not match")
    tenant = R2Credentials.of(state).tenants.get(credential)
    if tenant is None:  # signed before a reset: the mock forgot who it was for
        raise S3Error(403, "InvalidAccessKeyId", "The credential does not exist in our records")
    if exp and now > int(exp):
        raise S3Error(403, "AccessDenied", "Request has expired")
    return tenant


def _target(request: web.Request) -> tuple[MockState, str, str, float]:
    state = request.app[STATE_KEY]
    return state, request.match_info["bucket"], request.match_info["key"], state.clock.now()


@chaos_route(A2E_R2, provider="a2e")
async def put_object(request: web.Request) -> web.Response:
    state, bucket, key, now = _target(request)
    try:
        tenant = _grantee(state, bucket, key, dict(request.query), now)
        stored = await state.uploads.write(
            request.content,
            request.content_length,
            space=PROVIDER,
            tenant=tenant,
            key=(bucket, key),
            content_type=request.headers.get("Content-Type") or "application/octet-stream",
            now=now,
            limits=limits(state),
        )
    except S3Error as err:  # the signature's, or the store's (UploadRefused)
        return err.response()
    return web.Response(status=200, headers={"ETag": f'"{stored.etag}"'})


@chaos_route(A2E_R2, provider="a2e")
async def get_object(request: web.Request) -> web.StreamResponse:
    state, bucket, key, now = _target(request)
    try:
        tenant = _grantee(state, bucket, key, dict(request.query), now)
    except S3Error as err:
        return err.response()
    found = state.uploads.get(PROVIDER, tenant, (bucket, key), now)
    if found is None or found.path is None:
        return S3Error(404, "NoSuchKey", "The specified key does not exist.").response()
    return web.FileResponse(found.path, headers=serving_headers(found.content_type))


def _object_ref(url: str) -> tuple[str, str, dict[str, str]] | None:
    """``(bucket, key, query)`` of a URL on the mock's bucket, or None for any other URL."""
    try:
        parts = urlsplit(url)
        path = unquote(parts.path, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    if not path.startswith(f"{BUCKET_PREFIX}/"):
        return None
    bucket, _, key = path[len(BUCKET_PREFIX) + 1 :].partition("/")
    return bucket, key, dict(parse_qsl(parts.query))


def object_at(ctx: RequestContext, url: str) -> Upload | None:
    """The object a URL on the bucket names, as a fetch of it by the mock would find it; None
    when the URL is not on the bucket. A plain URL names the caller's own object; a signed one
    the object it was signed for. A refusal is what such a fetch would meet (a 400)."""
    ref = _object_ref(url)
    if ref is None:
        return None
    bucket, key, query = ref
    tenant = ctx.key
    if "X-Amz-Signature" in query:
        try:
            tenant = _grantee(ctx.state, bucket, key, query, ctx.now)
        except S3Error as exc:
            raise bad_request(f"the url could not be downloaded (HTTP {exc.status})") from exc
    found = ctx.state.uploads.get(PROVIDER, tenant, (bucket, key), ctx.now)
    if found is None:
        raise bad_request("the url could not be downloaded (HTTP 404)")
    return found


@task_files(PROVIDER)
def _objects_named(task: Task) -> Iterable[Hashable]:
    """The bucket objects a task's parameters name (URLs on the bucket), for eviction."""
    for value in task.params.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and BUCKET_PREFIX in item:
                ref = _object_ref(item)
                if ref is not None:
                    yield ref[0], ref[1]


def setup_bucket_routes(app: web.Application) -> None:
    route = BUCKET_PREFIX + "/{bucket}/{key:.+}"
    app.router.add_put(route, journaled(put_object))
    app.router.add_get(route, journaled(get_object))
