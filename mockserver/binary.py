"""An answer that is bytes, not JSON: what a handler returns to send a file in place.

OpenAI's ``GET /v1/videos/{id}/content`` answers with the MP4 itself, through the same
pipeline (auth, limits, chaos, journal) as every JSON answer; the pipeline sends a
:class:`Binary` as it is instead of serialising it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Binary:
    """A non-JSON answer (a file, media): its bytes, content type and headers."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
