"""Typed keys for what the mock keeps on the aiohttp application."""

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

__all__ = ["PROVIDERS_KEY", "ROUTES_KEY", "STATE_KEY", "RequestContext"]
