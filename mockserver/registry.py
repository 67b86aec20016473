"""Providers and handlers register themselves; the server binds them to the spec.

A provider package calls :func:`register_provider` once and decorates each handler with
``@provider.handles("operationId")``. Adding an endpoint is a spec entry plus a decorated
handler: there is no central switch to edit. :func:`bind` refuses to start when the spec and the
handlers disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from mockserver.context import RequestContext
    from mockserver.errors import Dialect
    from mockserver.lifecycle import TaskFamily
    from mockserver.spec import Operation

Handler = Callable[["RequestContext"], Awaitable[Any]]


class BindError(Exception):
    """The spec and the registered handlers do not match one to one."""


@dataclass
class Provider:
    """One provider: its dialect, how it authenticates, its handlers and task families."""

    name: str
    path_prefixes: tuple[str, ...]
    dialect: Dialect
    authenticate: Callable[[RequestContext], str]
    response_headers: Callable[[RequestContext], dict[str, str]] | None = None
    # Mock-owned routes a provider needs beside its spec (e.g. YouCam's upload PUT target).
    extra_routes: Callable[[web.Application], None] | None = None
    # Told of a request refused before its handler ran (a 429, an injected fault), e.g. so a
    # refused poll still counts for YouCam's polling window.
    on_refused: Callable[[RequestContext], None] | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)
    families: dict[str, TaskFamily] = field(default_factory=dict)

    def handles(self, operation_id: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if operation_id in self.handlers:
                raise BindError(f"{self.name}: two handlers for {operation_id!r}")
            self.handlers[operation_id] = fn
            return fn

        return register

    def family(self, family: TaskFamily) -> TaskFamily:
        self.families[family.name] = family
        return family

    def owns(self, path: str) -> bool:
        return path.startswith(self.path_prefixes)


_PROVIDERS: dict[str, Provider] = {}


def register_provider(provider: Provider) -> Provider:
    _PROVIDERS[provider.name] = provider
    return provider


_discovered = False


def providers() -> dict[str, Provider]:
    """Every provider package under ``mockserver.providers``, imported once.

    Discovery is tracked apart from the registry: importing one provider directly (its
    webhook signer, say) must not hide the others.
    """
    global _discovered
    if not _discovered:
        import mockserver.providers as pkg

        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        _discovered = True
    return _PROVIDERS


def bind(provider: Provider, operations: list[Operation]) -> list[tuple[Operation, Handler]]:
    """Pair every operation with its handler, or fail naming each mismatch."""
    by_id = {op.operation_id: op for op in operations}
    missing = sorted(set(by_id) - set(provider.handlers))
    orphans = sorted(set(provider.handlers) - set(by_id))
    problems = []
    if missing:
        problems.append(f"operations with no handler: {', '.join(missing)}")
    if orphans:
        problems.append(f"handlers naming no operation: {', '.join(orphans)}")
    if problems:
        raise BindError(f"{provider.name}: " + "; ".join(problems))
    return [(op, provider.handlers[op.operation_id]) for op in operations]
