"""``r2/upload-presigned-url``: the reference's presigned upload, beside the seeds'
``r2/get_upload_presigned_url`` and on the same mock bucket (see ``r2``).

What the reference states, kept: ``key`` is required; ``bucket`` defaults to ``3days-apac``;
``urlPrefix`` to ``adam2eve`` and ``cdnDomain`` to ``makefun.ai``; ``expiresIn`` is at least
60; "the returned key is scoped to ``{urlPrefix}/{env}/user/{user_id}/``"; ``cdnUrl`` is the
public URL of the file once the PUT succeeded; ``contentLength`` wins over ``fileSize``.

Choices where the reference is silent, each [guess]:

- ``env`` is ``prod`` and ``user_id`` the caller's 24-hex user id (as records show it); a key
  already under the caller's scope is not scoped twice; a key with ``..`` is a 400;
- ``expiresIn`` defaults to 3600 and is at most 7 days (S3's longest presign);
- ``uploadUrl`` is the bucket's signed URL (as ``get_upload_presigned_url``'s); ``cdnUrl``
  is a signed URL to the same object with no expiry, so anyone holding it reads the object
  for as long as it is kept (a public CDN link) while the plain object URL stays private;
- ``cdnDomain`` is accepted and has no effect: ``cdnUrl`` points at the mock;
- the answer echoes ``contentType`` and the bound ``contentLength`` when sent; the mock's
  bucket does not enforce either on the PUT;
- each call costs ``costs.r2_upload`` coins (0 by default: the "R2 pricing rule" is not
  published); the mock has no web sessions, so every call is an API-token call.
"""

from __future__ import annotations

from typing import Any

from mockserver.context import RequestContext
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import bad_request, ok
from mockserver.providers.a2e.models import user_id
from mockserver.providers.a2e.r2 import signed_url
from mockserver.providers.a2e.routes import handles

DEFAULT_BUCKET = "3days-apac"
DEFAULT_URL_PREFIX = "adam2eve"
DEFAULT_EXPIRES_IN = 3600
ENV = "prod"


def scoped_key(ctx: RequestContext, key: str, url_prefix: str) -> str:
    """``{urlPrefix}/{env}/user/{user_id}/{key}``; 400 for a key that names no object."""
    key = key.lstrip("/")
    if not key or ".." in key.split("/"):
        raise bad_request("key must name an object, without '..'")
    scope = f"{url_prefix}/{ENV}/user/{user_id(ctx.key)}/"
    return key if key.startswith(scope) else scope + key


@billing.quotes("r2/upload-presigned-url")
def price(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    return {billing.COINS: billing.cost_of(ctx, "r2_upload")}


@handles("postApiV1R2UploadPresignedUrl")
async def upload_presigned_url(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    bucket = body.get("bucket") or DEFAULT_BUCKET
    key = scoped_key(ctx, body["key"], body.get("urlPrefix") or DEFAULT_URL_PREFIX)
    expires_in = body.get("expiresIn", DEFAULT_EXPIRES_IN)
    billing.pay(ctx, price(ctx, body)[billing.COINS], "r2_upload")
    answer: dict[str, Any] = {
        "uploadUrl": signed_url(ctx, bucket, key, int(ctx.now) + expires_in),
        "key": key,
        "cdnUrl": signed_url(ctx, bucket, key, None),
        "expiresIn": expires_in,
        "bucket": bucket,
    }
    if "contentType" in body:
        answer["contentType"] = body["contentType"]
    length = body.get("contentLength", body.get("fileSize"))
    if length is not None:
        answer["contentLength"] = length
    return ok(ctx, answer)
