"""YouCam's handler table: each handler module registers here, provider.py hands it over."""

from __future__ import annotations

from mockserver.registry import HandlerTable

HANDLERS = HandlerTable("youcam")
handles = HANDLERS.handles
