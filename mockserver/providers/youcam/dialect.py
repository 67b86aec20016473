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


# What each pipeline refusal kind is in YouCam's words: (status, error_code, message); the
# request's detail, when there is one, follows the message after a colon.
REFUSALS: dict[str, tuple[int, str | None, str]] = {
    "unauthorized": (401, "InvalidApiKey", UNAUTHORIZED_MESSAGE),
    "rate_limited": (429, None, "Too many requests"),
    "capacity": (429, None, "Too many requests"),
    "invalid_json": (400, "InvalidParameters", "Invalid parameter value"),
    "invalid_params": (400, "InvalidParameters", "Invalid parameter value"),
    "unexpected_param": (400, "BadRequest", "Unexpected request parameter"),
    "not_found": (400, "InvalidTaskId", "Invalid task ID"),
    "no_route": (404, None, "Not Found"),
    "method_not_allowed": (405, None, "Method Not Allowed"),
    "too_large": (413, None, "Request Entity Too Large"),
}
INTERNAL = (500, None, "Internal server error")
# Kinds whose answer names no detail (the documented texts are fixed).
FIXED = frozenset(
    {
        "unauthorized",
        "rate_limited",
        "capacity",
        "not_found",
        "no_route",
        "method_not_allowed",
        "too_large",
    }
)


class YouCamDialect:
    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        status, code, message = REFUSALS.get(kind, INTERNAL)
        return ApiError(status, code, message if kind in FIXED else _with(message, detail))

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
    return ApiError(*REFUSALS["not_found"])


def invalid_parameters(detail: str) -> ApiError:
    return ApiError(400, "InvalidParameters", _with("Invalid parameter value", detail))


def credit_insufficiency(needed: float, available: float) -> ApiError:
    return ApiError(
        400,
        "CreditInsufficiency",
        f"Insufficient unit to run: needs {needed:g}, {max(available, 0):g} available",
    )
