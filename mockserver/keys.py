"""Typed keys for what the mock keeps on the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from mockserver.context import RequestContext
    from mockserver.registry import Provider
    from mockserver.spec import Operation
    from mockserver.state import MockState

STATE_KEY: web.AppKey[MockState] = web.AppKey("avatar_mock_state")
PROVIDERS_KEY: web.AppKey[list[Provider]] = web.AppKey("avatar_mock_providers")
ROUTES_KEY: web.AppKey[list[dict[str, Any]]] = web.AppKey("avatar_mock_routes")
# The operation each spec route serves, by its resource: a 405 there speaks its dialect.
OPERATIONS_KEY: web.AppKey[dict[web.AbstractResource, Operation]] = web.AppKey(
    "avatar_mock_operations"
)

__all__ = ["OPERATIONS_KEY", "PROVIDERS_KEY", "ROUTES_KEY", "STATE_KEY", "RequestContext"]
