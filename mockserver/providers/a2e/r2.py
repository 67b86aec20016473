"""Uploads: ``r2/get_upload_presigned_url`` and the mock's stand-in for the R2 bucket
(catalog §13: ``{key, bucket?}`` -> ``{uploadUrl, key, expiresIn, bucket}``, a PUT without
Authorization; C3, K1).

``uploadUrl`` points at the mock: ``PUT`` the bytes there (no ``Authorization``, as on R2)
before it expires and they are kept; ``GET`` on the same path without the query serves them
back, so the object's URL (``uploadUrl`` without its query) can be given to any A2E endpoint
that takes a URL. Refusals on the bucket speak S3's XML, as R2 does.

Choices where the catalog is silent, each [guess]: ``expiresIn`` is 3600 s; the default bucket
is ``a2e-upload``; the signature covers bucket, key and expiry (a changed one is
``SignatureDoesNotMatch``, a late one ``AccessDenied``); a key is 1-512 characters without
``..``; uploading again to the same key replaces the object; the object is served with the
Content-Type it was PUT with.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from aiohttp import web

from mockserver.chaos import A2E_R2, chaos_route
from mockserver.context import RequestContext
from mockserver.journal import journaled
from mockserver.keys import STATE_KEY
from mockserver.media import s3_error
from mockserver.providers.a2e import provider
from mockserver.providers.a2e.common import PROVIDER, ok
from mockserver.providers.a2e.dialect import bad_request

BUCKET_PREFIX = "/__a2e-r2"
EXPIRES_IN = 3600
DEFAULT_BUCKET = "a2e-upload"
STORE = "r2_objects"


def _signature(seed: int, bucket: str, key: str, expires: int) -> str:
    secret = hashlib.sha256(f"a2e-r2:{seed}".encode()).digest()
    return hmac.new(secret, f"{bucket}/{key}|{expires}".encode(), hashlib.sha256).hexdigest()


@provider.handles("getUploadPresignedUrl")
async def get_upload_presigned_url(ctx: RequestContext) -> dict[str, Any]:
    key = ctx.body["key"].lstrip("/")
    bucket = ctx.body.get("bucket") or DEFAULT_BUCKET
    if not key or ".." in key.split("/"):
        raise bad_request("key must name an object, without '..'")
    expires = int(ctx.now) + EXPIRES_IN
    signature = _signature(ctx.state.scenario.seed, bucket, key, expires)
    path = f"{BUCKET_PREFIX}/{quote(bucket, safe='')}/{quote(key)}"
    upload_url = f"{ctx.origin}{path}?X-Amz-Expires={expires}&X-Amz-Signature={signature}"
    return ok(ctx, {"uploadUrl": upload_url, "key": key, "expiresIn": EXPIRES_IN, "bucket": bucket})


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.Response(status=status, text=s3_error(code, message), content_type="application/xml")


@chaos_route(A2E_R2, provider="a2e")
async def put_object(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    bucket, key = request.match_info["bucket"], request.match_info["key"]
    try:
        expires = int(request.query.get("X-Amz-Expires", ""))
    except ValueError:
        return _refusal(403, "AccessDenied", "Missing or malformed X-Amz-Expires")
    wanted = _signature(state.scenario.seed, bucket, key, expires)
    if not hmac.compare_digest(request.query.get("X-Amz-Signature", ""), wanted):
        return _refusal(403, "SignatureDoesNotMatch", "The request signature does not match")
    if state.clock.now() > expires:
        return _refusal(403, "AccessDenied", "Request has expired")
    data = await request.read()
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    state.stores[PROVIDER].setdefault(STORE, {})[(bucket, key)] = (data, content_type)
    return web.Response(status=200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})


@chaos_route(A2E_R2, provider="a2e")
async def get_object(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    found = (
        state.stores[PROVIDER]
        .setdefault(STORE, {})
        .get((request.match_info["bucket"], request.match_info["key"]))
    )
    if found is None:
        return _refusal(404, "NoSuchKey", "The specified key does not exist.")
    data, content_type = found
    return web.Response(body=data, content_type=content_type.split(";")[0])


def setup_bucket_routes(app: web.Application) -> None:
    route = BUCKET_PREFIX + "/{bucket}/{key:.+}"
    app.router.add_put(route, journaled(put_object))
    app.router.add_get(route, journaled(get_object))
