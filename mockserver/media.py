"""Result files on the mock, behind signed, expiring URLs.

Providers hand out presigned download links that stop working after a while (YouCam: 2 hours).
The mock signs ``(fixture file, expiry, file name)`` with an HMAC whose key comes from the
process's secret (mockserver/issuer.py), never from the seed, so a link can be neither forged
nor extended; a forged, altered or late link answers 403 the way S3 does. Bytes come from
fixtures/media, and only its media files are ever served, so clients download real, decodable
files and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from functools import cache
from html import escape as _html_escape
from pathlib import Path

from aiohttp import web

from mockserver.resources import media_dir

CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".zip": "application/zip",
    ".json": "application/json",
}

MEDIA_PREFIX = "/__media"
NOSNIFF = {"X-Content-Type-Options": "nosniff"}  # on every answer of ours a browser may open


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (xml.sax.saxutils.escape's default): through
    the html module the server has loaded anyway, not the six modules of xml.sax."""
    return _html_escape(text, quote=False)


class S3Error(Exception):
    """A refusal on a presigned-S3 stand-in (media links, upload targets), as S3 words it."""

    def __init__(self, status: int, code: str, message: str, **fields: int | str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields  # extra XML elements, e.g. MaxSizeAllowed

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            text=s3_error(self.code, self.message, **self.fields),
            content_type="application/xml",
            headers=NOSNIFF,
        )


class LinkError(S3Error):
    """A media link that is forged, altered, expired or names no media file."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def fixture_bytes(name: str) -> bytes:
    path = media_dir() / name
    return path.read_bytes()


@cache
def fixtures() -> frozenset[str]:
    """The media files a link may name: fixtures/media's files of a known media type."""
    return frozenset(
        p.name for p in media_dir().iterdir() if p.is_file() and p.suffix.lower() in CONTENT_TYPES
    )


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class MediaLinks:
    """Signs and checks download links. ``expires_at`` None means the link never expires."""

    def __init__(self, secret: bytes) -> None:
        self._mac = hmac.new(secret, digestmod="sha256")  # keyed once; copied per link

    def _sign(self, payload: bytes, name: str) -> str:
        """Over the payload and the name shown in the URL: a link works only as it was made."""
        mac = self._mac.copy()
        mac.update(payload + b"/" + name.encode(errors="surrogatepass"))
        return _b64(mac.digest()[:12])

    def url(self, origin: str, fixture: str, name: str, expires_at: float | None) -> str:
        """A link to ``fixture``'s bytes, shown to the client as ``name``."""
        exp = "" if expires_at is None else str(int(expires_at))
        payload = f"{fixture}|{exp}".encode()
        token = f"{_b64(payload)}.{self._sign(payload, name)}"
        return f"{origin}{MEDIA_PREFIX}/{token}/{name}"

    def resolve(self, token: str, name: str, now: float) -> str:
        """The fixture behind the link ``token/name``; LinkError (403) when forged, altered or
        expired (checked in that order, so a forged link is refused the same before and after
        the expiry it claims)."""
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
        except (ValueError, binascii.Error) as exc:
            raise LinkError(403, "AccessDenied", "Invalid signature") from exc
        if not hmac.compare_digest(
            signature.encode(errors="surrogatepass"), self._sign(payload, name).encode()
        ):
            raise LinkError(403, "SignatureDoesNotMatch", "The request signature does not match")
        fixture, _, exp = payload.decode(errors="replace").partition("|")
        if exp and now > int(exp):
            raise LinkError(403, "AccessDenied", "Request has expired")
        if fixture not in fixtures():  # only the mock's own media, whatever was signed
            raise LinkError(404, "NoSuchKey", "The specified key does not exist.")
        return fixture


def s3_error(code: str, message: str, **fields: int | str) -> str:
    """The XML body S3 answers for a refused request (``fields``: e.g. MaxSizeAllowed)."""
    extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}</Error>"
    )
