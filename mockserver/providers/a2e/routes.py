"""A2E's handler table: each handler module registers here, provider.py hands it over.

A module-level table (not the Provider object) so a handler module never imports the module
that builds the Provider, and the package's imports stay a DAG.
"""

from __future__ import annotations

from collections.abc import Callable

from mockserver.registry import BindError, Handler

HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as A2E's handler of ``operation_id`` (one handler per operation)."""

    def register(fn: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise BindError(f"a2e: two handlers for {operation_id!r}")
        HANDLERS[operation_id] = fn
        return fn

    return register
