"""Result files on the mock, behind signed, expiring URLs.

Providers hand out presigned download links that stop working after a while (YouCam: 2 hours).
The mock signs ``(fixture file, expiry)`` with an HMAC; a URL past its expiry answers 403 the
way S3 does. Bytes come from fixtures/media, so clients download real, decodable files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import mimetypes
from functools import cache
from pathlib import Path

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


class LinkError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def fixture_bytes(name: str) -> bytes:
    path = media_dir() / name
    return path.read_bytes()


def content_type_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class MediaLinks:
    """Signs and checks download links. ``expires_at`` None means the link never expires."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._secret, payload, hashlib.sha256).digest()[:12])

    def url(self, origin: str, fixture: str, name: str, expires_at: float | None) -> str:
        """A link to ``fixture``'s bytes, shown to the client as ``name``."""
        exp = "" if expires_at is None else str(int(expires_at))
        payload = f"{fixture}|{exp}".encode()
        token = f"{_b64(payload)}.{self._sign(payload)}"
        return f"{origin}{MEDIA_PREFIX}/{token}/{name}"

    def resolve(self, token: str, now: float) -> str:
        """The fixture behind ``token``, or LinkError (403) when forged or expired."""
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
        except (ValueError, base64.binascii.Error) as exc:
            raise LinkError(403, "AccessDenied", "Invalid signature") from exc
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise LinkError(403, "SignatureDoesNotMatch", "The request signature does not match")
        fixture, _, exp = payload.decode(errors="replace").partition("|")
        if exp and now > int(exp):
            raise LinkError(403, "AccessDenied", "Request has expired")
        if "/" in fixture or not (media_dir() / fixture).is_file():
            raise LinkError(404, "NoSuchKey", "The specified key does not exist.")
        return fixture


def s3_error(code: str, message: str) -> str:
    """The XML body S3 answers for a refused presigned URL."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
