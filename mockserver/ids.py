"""Provider-shaped ids drawn from a seeded RNG (same seed, same order -> same ids)."""

from __future__ import annotations

import base64
import random

_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def hex_id(rng: random.Random, length: int) -> str:
    """Lowercase hex: A2E's 24-hex ObjectIds, the relay's 32-hex task ids."""
    return f"{rng.getrandbits(length * 4):0{length}x}"


# The variant digit of a uuid4 is the random digit's low two bits under 0b10.
_VARIANT_DIGIT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def uuid4(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))``, several times faster: an A2E answer carries
    a fresh ``trace_id`` every time, so this is on every poll of theirs."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:]}"


def urlsafe_id(rng: random.Random, length: int) -> str:
    """URL-safe characters only, like YouCam task ids."""
    return "".join(rng.choice(_URLSAFE) for _ in range(length))


def opaque_b64(rng: random.Random, nbytes: int = 32) -> str:
    """Standard base64 (may hold + / =), like YouCam file ids."""
    return base64.b64encode(rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()
