"""Reading ``Authorization: Bearer <key>`` the way the providers document it."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import hdrs, web

from mockserver.jsonio import unencodable


def bearer_key(request: web.Request) -> str | None:
    """The key after ``Bearer `` (one space), or None when missing or malformed.

    A key wrapped in angle brackets is refused, as YouCam's debugging guide warns, and so is
    one holding bytes that are not UTF-8 (aiohttp hands them over as lone surrogates): it
    would become a tenant no answer can name.
    """
    # hdrs.AUTHORIZATION is an istr: the case-insensitive lookup folds no case per request
    return _key_in(request.headers.get(hdrs.AUTHORIZATION, ""))


@lru_cache(maxsize=4096)
def _key_in(header: str) -> str | None:
    """Cached: a client sends the same header on every poll."""
    if not header.startswith("Bearer "):
        return None
    key = header[7:]
    if not key or key != key.strip() or " " in key or key.startswith("<") or unencodable(key):
        return None
    return key
