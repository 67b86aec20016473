"""YouCam's error envelope: ``{"status": <http>, "error": "<message>", "error_code": "<Code>"}``.

``status`` mirrors the HTTP status; ``error_code`` is left out where the documentation shows
none (429, 404). A 429 carries no ``Retry-After`` and no rate-limit headers, as the live API
(catalog §6), whatever the wait.

The mock's own capacity (live tasks per key or in all, tenants; scenario ``limits``) is
refused with the documented 429 ``Too many requests``: YouCam documents no such cap, and its
rate limit is the refusal a client already handles by backing off. [guess]
"""

from __future__ import annotations

from typing import Any

from mockserver.errors import ApiError, reason

UNAUTHORIZED_MESSAGE = "This API key is not recognized."


def _with(prefix: str, detail: str) -> str:
    return f"{prefix}: {detail}" if detail else prefix


class YouCamDialect:
    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        if kind == "unauthorized":
            return ApiError(401, "InvalidApiKey", UNAUTHORIZED_MESSAGE)
        if kind in ("rate_limited", "capacity"):
            return ApiError(429, None, "Too many requests")
        if kind in ("invalid_json", "invalid_params"):
            return ApiError(400, "InvalidParameters", _with("Invalid parameter value", detail))
        if kind == "unexpected_param":
            return ApiError(400, "BadRequest", _with("Unexpected request parameter", detail))
        if kind == "not_found":
            return invalid_task_id()
        if kind == "no_route":
            return ApiError(404, None, "Not Found")
        if kind == "method_not_allowed":
            return ApiError(405, None, "Method Not Allowed")
        if kind == "too_large":
            return ApiError(413, None, "Request Entity Too Large")
        return ApiError(500, None, _with("Internal server error", detail))

    def fault(self, status: int, detail: str = "") -> ApiError:
        """An injected 4xx/5xx: ``status`` mirrors it, no ``error_code`` (as on YouCam's
        documented 429 and 404); a 500 keeps YouCam's "Internal server error"."""
        if status in (429, 500):  # YouCam's own words for these two
            return self.pipeline_error("rate_limited" if status == 429 else "internal", detail)
        return ApiError(status, None, detail or reason(status))

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        if error.body is not None:
            return error.body
        body: dict[str, Any] = {"status": error.status, "error": error.message}
        if error.code is not None:
            body["error_code"] = error.code
        return body


def invalid_task_id() -> ApiError:
    return ApiError(400, "InvalidTaskId", "Invalid task ID")


def invalid_parameters(detail: str) -> ApiError:
    return ApiError(400, "InvalidParameters", _with("Invalid parameter value", detail))


def credit_insufficiency(needed: float, available: float) -> ApiError:
    return ApiError(
        400,
        "CreditInsufficiency",
        f"Insufficient unit to run: needs {needed:g}, {max(available, 0):g} available",
    )
