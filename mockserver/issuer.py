"""The one place that issues every secret: tokens from the OS, signing keys from one master.

The scenario seed fixes what must replay (ids, timelines, chaos draws) and is no secret: a
tenant who knows it, or who reads a few ids, must not be able to compute another tenant's
token or forge a signed link. So every token is drawn from the operating system
(``secrets``), and every signing key (media links, upload URLs) is derived, under a label of
its own, from a master secret that is random per process, or given by the operator
(``serve --secret`` / ``AVATAR_MOCK_SECRET``) when replicas must verify each other's links.
Two servers with the same seed therefore issue different tokens and signatures, unless they
were given the same secret; even then their tokens differ.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_ENV = "AVATAR_MOCK_SECRET"
MIN_SHARED_SECRET = 16  # characters; a shorter one could be guessed


class SecretIssuer:
    """Tokens from ``secrets``; keys derived per purpose (HKDF-style: extract, then a label)."""

    def __init__(self, shared: str | None = None) -> None:
        if shared is None:
            self._master = secrets.token_bytes(32)
        else:
            if len(shared) < MIN_SHARED_SECRET:
                raise ValueError(
                    f"the shared secret must have at least {MIN_SHARED_SECRET} characters"
                )
            self._master = hmac.new(b"avatar-mock", shared.encode(), hashlib.sha256).digest()
        self._keys: dict[str, bytes] = {}

    def key(self, purpose: str) -> bytes:
        """The signing key for ``purpose`` (e.g. ``media-links``): the same for the same master."""
        found = self._keys.get(purpose)
        if found is None:
            label = f"avatar-mock/{purpose}".encode()
            found = self._keys[purpose] = hmac.new(self._master, label, hashlib.sha256).digest()
        return found

    @staticmethod
    def token_hex(nbytes: int) -> str:
        """``2 * nbytes`` lowercase hex characters (A2E's ``sk_`` tokens)."""
        return secrets.token_hex(nbytes)

    @staticmethod
    def token_urlsafe(length: int) -> str:
        """``length`` URL-safe base64 characters (YouCam access tokens, upload URL tokens)."""
        return secrets.token_urlsafe(length)[:length]
