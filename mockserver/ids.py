"""Provider-shaped ids drawn from a seeded RNG (same seed, same order -> same ids)."""

from __future__ import annotations

import base64
import random

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def hex_id(rng: random.Random, length: int) -> str:
    """Lowercase hex: A2E's 24-hex ObjectIds, the relay's 32-hex task ids."""
    return f"{rng.getrandbits(length * 4):0{length}x}"


def urlsafe_id(rng: random.Random, length: int) -> str:
    """URL-safe characters only, like YouCam task ids."""
    return "".join(rng.choice(_URLSAFE) for _ in range(length))


def opaque_b64(rng: random.Random, nbytes: int = 32) -> str:
    """Standard base64 (may hold + / =), like YouCam file ids."""
    return base64.b64encode(rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()
