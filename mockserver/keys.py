"""Typed keys for what the mock keeps on the aiohttp application and request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from mockserver.context import RequestContext
    from mockserver.registry import Provider
    from mockserver.state import MockState

STATE_KEY: web.AppKey[MockState] = web.AppKey("avatar_mock_state")
PROVIDERS_KEY: web.AppKey[list[Provider]] = web.AppKey("avatar_mock_providers")
ROUTES_KEY: web.AppKey[list[dict[str, Any]]] = web.AppKey("avatar_mock_routes")
_RequestKey = getattr(web, "RequestKey", None)
CTX_KEY: Any = _RequestKey("avatar_mock_ctx") if _RequestKey else "avatar_mock_ctx"
"""The request's RequestContext, once an operation matched (read by the journal)."""
DROPPED_KEY: Any = _RequestKey("avatar_mock_dropped") if _RequestKey else "avatar_mock_dropped"
"""Set when chaos ended the connection without an answer (journal status 0)."""

__all__ = ["CTX_KEY", "DROPPED_KEY", "PROVIDERS_KEY", "ROUTES_KEY", "STATE_KEY", "RequestContext"]
