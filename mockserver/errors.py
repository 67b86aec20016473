"""Refusals, and the per-provider dialects that render them.

Handlers and the request pipeline raise :class:`ApiError`; the provider's :class:`Dialect`
turns it into the provider's own error body. A client never sees another provider's envelope,
an aiohttp HTML page, or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

# The kinds of refusal the shared pipeline produces. Each dialect maps every kind.
PIPELINE_KINDS = (
    "unauthorized",  # missing / malformed / unknown key
    "rate_limited",
    "invalid_json",  # body is not JSON, or not an object
    "invalid_params",  # body / query fails its schema
    "unexpected_param",  # body has a field the schema does not allow
    "not_found",  # unknown or foreign resource id
    "no_route",  # no operation at this path
    "method_not_allowed",
    "too_large",  # body over the configured limit
    "capacity",  # the mock holds as many tasks or tenants as the scenario's limits allow
    "internal",  # a defect in the mock itself; never a traceback
)


@dataclass
class ApiError(Exception):
    """A refusal: the HTTP status plus the provider's code and message.

    ``body`` lets a dialect (or a handler) supply a complete body when a provider uses a
    different shape for one case (the relay's gateway-style 401, for example).
    """

    status: int
    code: str | int | None
    message: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class Dialect(Protocol):
    """How one provider words its refusals."""

    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        """The provider's answer for a refusal raised by the shared pipeline."""
        ...

    def fault(self, status: int, detail: str = "") -> ApiError:
        """The provider's answer when it fails with ``status`` (an injected 4xx/5xx): a body
        that agrees with the status, in the provider's words."""
        ...

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        """The JSON body for ``error``."""
        ...


# S3's codes for the statuses a fault may give (the AWS S3 error-code list); others are the
# HTTP phrase without spaces. [guess for the mock's storage routes: R2 and S3 speak the same]
S3_FAULTS = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    501: ("NotImplemented", "A header you provided implies functionality that is not implemented."),
    503: ("ServiceUnavailable", "Service is unable to handle request."),
}


class StorageDialect:
    """S3's words, for the mock's own storage routes: presigned uploads (YouCam's
    ``/__upload``, A2E's ``/__a2e-r2``) and result downloads (``/__media``). ``render`` gives
    ``{"Code", "Message"}``, which the route writes as S3's XML error document."""

    KINDS = {
        # S3 throttles with 503 SlowDown; a host-wide storm keeps its 429. [guess]
        "rate_limited": (429, "SlowDown", "Please reduce your request rate."),
        "invalid_params": (400, "InvalidArgument", "Invalid Argument"),
    }

    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        if kind not in self.KINDS:
            return self.fault(500, detail)
        status, code, message = self.KINDS[kind]
        return ApiError(status, code, detail or message)

    def fault(self, status: int, detail: str = "") -> ApiError:
        code, message = S3_FAULTS.get(status) or _phrase_code(status)
        return ApiError(status, code, detail or message)

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        return {"Code": error.code, "Message": error.message}


class ControlDialect:
    """The mock's own words, off every provider's paths (the control API's and an unknown
    path's): ``{"error": <message>, "status": <http>}``."""

    KINDS = {
        "unauthorized": 401,
        "rate_limited": 429,
        "invalid_json": 400,
        "invalid_params": 400,
        "unexpected_param": 400,
        "not_found": 404,
        "no_route": 404,
        "method_not_allowed": 405,
        "too_large": 413,
    }

    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        status = self.KINDS.get(kind, 500)
        if kind == "rate_limited" and detail.isdigit():
            return ApiError(429, None, f"Too many requests, retry after {detail} s")
        return ApiError(status, None, detail or reason(status))

    def fault(self, status: int, detail: str = "") -> ApiError:
        return ApiError(status, None, detail or reason(status))

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        return {"error": error.message, "status": error.status}


def _phrase_code(status: int) -> tuple[str, str]:
    phrase = reason(status)
    return phrase.replace(" ", "").replace("-", ""), phrase


def reason(status: int) -> str:
    """The status's standard reason phrase; "Error" for one without (e.g. 599)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
