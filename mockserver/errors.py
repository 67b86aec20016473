"""Refusals, and the per-provider dialects that render them.

Handlers and the request pipeline raise :class:`ApiError`; the provider's :class:`Dialect`
turns it into the provider's own error body. A client never sees another provider's envelope,
an aiohttp HTML page, or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        """The JSON body for ``error``."""
        ...
