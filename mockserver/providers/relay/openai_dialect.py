"""OpenAI's error envelope, spoken by the relay's OpenAI-compatible video routes only.

new-api serves ``/v1/videos`` in OpenAI's shape, so an OpenAI SDK pointed at it must read
its refusals too: ``{"error": {"message", "type", "param", "code"}}`` (the OpenAI API
reference; new-api docs, "Create Video"). The operations opt in with ``x-dialect: openai`` in
the relay's document; every other relay route keeps new-api's task envelope.

- ``type`` is OpenAI's ``invalid_request_error`` for a 4xx and ``server_error`` for a 5xx,
  except where the gateway words the refusal itself (bad key, rate limit, the token
  concurrency cap, capacity): new-api's ``new_api_error``, as on every relay route.
- ``param`` names the field a bad body or query got wrong (the reason's first word), else
  null; ``code`` is a machine code where one is known, else null (OpenAI's validation
  errors carry none).
- an unknown or foreign video: 404 ``video_not_found``; content asked for before the video
  completed: 409 ``video_not_ready``; after ``expires_at``: 410 ``video_expired``;
  remixing an unfinished video or deleting one in progress: 409 ``video_not_ready``. [guess:
  OpenAI documents the envelope, not these codes]
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import ApiError, reason
from mockserver.providers.relay.dialect import RelayDialect

INVALID = "invalid_request_error"
SERVER = "server_error"
_GATEWAY_KINDS = ("unauthorized", "rate_limited", "capacity")
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:[.:]| is required)")


def error_body(message: str, kind: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_error(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> ApiError:
    """A refusal worded the OpenAI way, typed by its status."""
    kind = SERVER if status >= 500 else INVALID
    return ApiError(status, code, message, body=error_body(message, kind, param, code))


def video_not_found(video_id: str) -> ApiError:
    message = f"Video with id '{video_id}' not found."
    return openai_error(404, message, "video_not_found", "video_id")


def video_not_ready(video_id: str, status: str, wanted: str) -> ApiError:
    message = f"Video '{video_id}' is {status}; {wanted}"
    return openai_error(409, message, "video_not_ready", "video_id")


def video_expired(video_id: str) -> ApiError:
    message = f"The content of video '{video_id}' has expired."
    return openai_error(410, message, "video_expired", "video_id")


def _param(detail: str) -> str | None:
    match = _PARAM.match(detail)
    return match.group(1) if match else None


class OpenAIDialect:
    """OpenAI's envelope over the relay's refusals (see the module docstring)."""

    def __init__(self, relay: RelayDialect) -> None:
        self.relay = relay  # the gateway's own refusals stay the gateway's

    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        if kind in _GATEWAY_KINDS:
            return self.relay.pipeline_error(kind, detail)
        if kind in ("invalid_json", "invalid_params", "unexpected_param"):
            param = None if kind == "invalid_json" else _param(detail)
            return openai_error(400, detail or "invalid request", None, param)
        if kind == "not_found":
            return openai_error(404, detail or "not found", "video_not_found")
        if kind == "no_route":
            return openai_error(404, detail or "Invalid URL", None)
        if kind == "method_not_allowed":
            return openai_error(405, detail or "method not allowed", None)
        if kind == "too_large":
            return openai_error(413, detail or "request body too large", "read_request_body_failed")
        return openai_error(500, detail or "internal error", "internal_error")

    def fault(self, status: int, detail: str = "") -> ApiError:
        """An injected 4xx/5xx: the status's phrase, typed by the status; 429 the gateway's."""
        if status == 429:
            return self.relay.pipeline_error("rate_limited", detail)
        return openai_error(status, detail or reason(status))

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        """Any refusal in OpenAI's four keys: an OpenAI body as it is, the gateway's with the
        ``param`` it lacks, a task-envelope one (quota, a reader's) typed by its status."""
        inner = (error.body or {}).get("error")
        if isinstance(inner, dict):
            kind = inner.get("type") or (SERVER if error.status >= 500 else INVALID)
            code = inner.get("code")
            return error_body(
                str(inner.get("message", error.message)),
                str(kind),
                inner.get("param"),
                None if code in (None, "") else str(code),
            )
        kind = SERVER if error.status >= 500 else INVALID
        code = None if error.code is None else str(error.code)
        return error_body(error.message, kind, None, code)
