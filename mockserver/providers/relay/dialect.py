"""The relay's refusals: ``{"code": "<string>", "message": "<text>", "data": null}``.

That is the task-relay envelope of new-api and Suno-API (catalog §6, [CODE R1, R2]); the relay
documents no error at all for the avatar endpoints, so each code below is the family's:

- bad body, bad query, not JSON, wrong Content-Type: 400 ``invalid_request`` with the reason.
- unknown task id, or another key's: 400 ``task_not_exist`` / ``task_not_exist`` (new-api).
- quota short: 403 ``quota_not_enough`` / ``user quota is not enough`` (older new-api forks).
- body over the limit: 413 ``read_request_body_failed`` (new-api's code for it).
- no route / wrong method: 404 / 405 with gin's texts. [guess]
- a defect in the mock: 500 ``internal_error`` (Suno-API). [guess]

The gateway in front (new-api) refuses a bad key (401) and a rate limit (429) with its own
OpenAI-like body ``{"error": {"message", "type": "new_api_error", "code"}}`` (a 429 with a
known wait also says it in ``Retry-After`` [guess]); the 401 can be
switched to Suno-API's ``{"code": "invalid_request", "message": "unauthorized secret token"}``
with the scenario setting ``unauthorized_style: suno-api``. The mock's own capacity (live
tasks per key or in all, tenants; scenario ``limits``) is the gateway's 429 in the same body,
the message saying which cap. [guess]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.errors import ApiError, reason

INVALID_REQUEST = "invalid_request"
TASK_NOT_EXIST = "task_not_exist"
GATEWAY = "new_api_error"  # ApiError.code of a refusal rendered in the gateway's shape


def gateway_body(message: str, code: str = "") -> dict[str, Any]:
    return {"error": {"message": message, "type": GATEWAY, "code": code}}


def unauthorized(style: str | None, request_id: str) -> ApiError:
    """The 401 for a missing, malformed or unknown key, in the configured style."""
    if style == "suno-api":
        return ApiError(401, INVALID_REQUEST, "unauthorized secret token")
    message = f"invalid token (request id: {request_id})"
    return ApiError(401, GATEWAY, message, body=gateway_body(message))


def invalid_request(reason: str) -> ApiError:
    return ApiError(400, INVALID_REQUEST, reason or "invalid request")


def task_not_exist() -> ApiError:
    return ApiError(400, TASK_NOT_EXIST, TASK_NOT_EXIST)


def rate_limited(seconds: str = "") -> ApiError:
    """The gateway's 429; a known wait (whole seconds) goes in the message and Retry-After."""
    message = "rate limit exceeded"
    headers = {}
    if seconds.isdigit():
        message += f", retry after {seconds} s"
        headers["Retry-After"] = seconds
    elif seconds:
        message += f": {seconds}"
    return ApiError(429, GATEWAY, message, body=gateway_body(message), headers=headers)


def token_concurrency_limit(request_id: str) -> ApiError:
    """new-api's TokenConcurrencyGate: 429 ``token_concurrency_limit_reached`` in the gateway's
    body (middleware/token_concurrency.go). The ``code`` value and the request id in the
    message are guesses (types.ErrorCodeTokenConcurrencyLimit is not spelled out)."""
    message = f"token_concurrency_limit_reached (request id: {request_id})"
    body = gateway_body(message, "token_concurrency_limit_reached")
    return ApiError(429, GATEWAY, message, body=body)


def quota_not_enough() -> ApiError:
    return ApiError(403, "quota_not_enough", "user quota is not enough")


def _capacity(detail: str) -> ApiError:
    message = detail or "too many tasks"
    return ApiError(429, GATEWAY, message, body=gateway_body(message))


# Each pipeline refusal kind, worded the relay's way (the detail is the pipeline's reason).
KINDS: dict[str, Callable[[str], ApiError]] = {
    # authenticate() words the real 401 (it knows the request id); this is the fallback.
    "unauthorized": lambda d: ApiError(
        401, GATEWAY, "invalid token", body=gateway_body("invalid token")
    ),
    "rate_limited": rate_limited,
    "invalid_json": invalid_request,
    "invalid_params": invalid_request,
    "unexpected_param": invalid_request,
    "not_found": lambda d: task_not_exist(),
    "no_route": lambda d: ApiError(404, "not_found", "404 page not found"),
    "method_not_allowed": lambda d: ApiError(405, "method_not_allowed", "405 method not allowed"),
    "too_large": lambda d: ApiError(413, "read_request_body_failed", d or "request body too large"),
    "capacity": _capacity,
    "internal": lambda d: ApiError(500, "internal_error", d or "internal error"),
}


class RelayDialect:
    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        return KINDS.get(kind, KINDS["internal"])(detail)

    def fault(self, status: int, detail: str = "") -> ApiError:
        """An injected 4xx/5xx: the task envelope's ``internal_error`` (catalog §5's 500
        code) with the status's phrase. [guess]"""
        if status in (429, 500):  # the gateway's 429, Suno-API's 500
            return self.pipeline_error("rate_limited" if status == 429 else "internal", detail)
        return ApiError(status, "internal_error", detail or reason(status))

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        if error.body is not None:
            return error.body
        code = "internal_error" if error.code is None else str(error.code)
        return {"code": code, "message": error.message, "data": None}
