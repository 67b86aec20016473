"""Providers and handlers register themselves; the server binds them to the spec.

A provider package builds one :class:`Provider` in its ``provider.py``, every slot named there
(dialect, auth, headers, webhook planner, extra routes, stores, configure), and calls
:func:`register_provider`. Handlers register with ``@provider.handles("operationId")``; a task
family is one :class:`~mockserver.families.FamilySpec` given to :meth:`Provider.declare`,
which the provider's ``bind_family`` (its dialect's one generic set of handlers) turns into
handlers. Adding an endpoint is a spec entry plus a declaration: there is no central switch to
edit. :func:`bind` refuses to start when the spec and the handlers disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from mockserver.context import RequestContext
    from mockserver.errors import Dialect
    from mockserver.families import FamilySpec
    from mockserver.lifecycle import TaskFamily
    from mockserver.scenario import ProviderConfig
    from mockserver.spec import Operation
    from mockserver.stores import Store
    from mockserver.webhooks import WebhookPlanner

Handler = Callable[["RequestContext"], Awaitable[Any]]


class BindError(Exception):
    """The spec and the registered handlers do not match one to one."""


FamilyBinder = Callable[["Provider", "FamilySpec"], None]


class HandlerTable(dict[str, Handler]):
    """A provider's handlers by operationId, filled as its handler modules are imported.

    Module-level in the provider's ``routes.py`` (not the Provider object), so a handler
    module never imports the module that builds the Provider and the package's imports stay
    a DAG; provider.py hands the table over as ``Provider.handlers``.
    """

    def __init__(self, provider: str) -> None:
        super().__init__()
        self.provider = provider

    def handles(self, operation_id: str) -> Callable[[Handler], Handler]:
        """Register ``fn`` as the handler of ``operation_id`` (one handler per operation)."""

        def register(fn: Handler) -> Handler:
            if operation_id in self:
                raise BindError(f"{self.provider}: two handlers for {operation_id!r}")
            self[operation_id] = fn
            return fn

        return register


@dataclass
class Provider:
    """One provider: every slot it may fill, named, so a reader sees all it supplies.

    ``task_families`` are the lifecycle vocabularies the control API may force;
    ``family_specs`` the declared families (each carries its vocabulary too). The scenario's
    per-family timing lives in ``ProviderConfig.families``.
    """

    name: str
    path_prefixes: tuple[str, ...]
    dialect: Dialect
    authenticate: Callable[[RequestContext], str]
    response_headers: Callable[[RequestContext], dict[str, str]] | None = None
    # Who gets a webhook for a task, and what it says (None: the provider sends none).
    webhooks: WebhookPlanner | None = None
    # Mock-owned routes a provider needs beside its spec (e.g. YouCam's upload PUT target).
    extra_routes: Callable[[web.Application], None] | None = None
    # The provider's typed stores (mockserver.stores), one instance per running mock.
    stores: tuple[type[Store], ...] = ()
    # Called with the provider's config whenever a scenario is put in force (start, replace,
    # reset): derive what the config implies here, never on the way through a request.
    configure: Callable[[ProviderConfig], None] | None = None
    # Turns a FamilySpec into handlers: the provider dialect's one generic set.
    bind_family: FamilyBinder | None = None
    # Told of a request refused before its handler ran (a 429, an injected fault), e.g. so a
    # refused poll still counts for YouCam's polling window.
    on_refused: Callable[[RequestContext], None] | None = None
    # Other dialects some operations speak, by the name their ``x-dialect`` gives (the relay's
    # OpenAI-compatible video routes refuse in OpenAI's envelope, the rest in new-api's).
    dialects: Mapping[str, Dialect] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    task_families: dict[str, TaskFamily] = field(default_factory=dict)
    family_specs: dict[str, FamilySpec] = field(default_factory=dict)

    def handles(self, operation_id: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if operation_id in self.handlers:
                raise BindError(f"{self.name}: two handlers for {operation_id!r}")
            self.handlers[operation_id] = fn
            return fn

        return register

    def family(self, family: TaskFamily) -> TaskFamily:
        """Register a lifecycle vocabulary (families without a FamilySpec: YouCam, relay)."""
        self.task_families[family.name] = family
        return family

    def declare(self, spec: FamilySpec) -> FamilySpec:
        """Register a task family and bind its handlers through ``bind_family``."""
        if spec.name in self.family_specs:
            raise BindError(f"{self.name}: two families named {spec.name!r}")
        if self.bind_family is None:
            raise BindError(f"{self.name}: declares {spec.name!r} but binds no families")
        self.family_specs[spec.name] = spec
        self.family(spec.family)
        self.bind_family(self, spec)
        return spec

    def undeclare(self, name: str) -> None:
        """Forget a declared family and its handlers (tests that add a throw-away one)."""
        spec = self.family_specs.pop(name)
        self.task_families.pop(name, None)
        for operation_id in spec.operation_ids():
            self.handlers.pop(operation_id, None)

    def dialect_for(self, operation: Operation | None) -> Dialect:
        """The dialect ``operation`` refuses in: the one its ``x-dialect`` names (bind has
        made sure the provider knows it), else the provider's own."""
        name = None if operation is None else operation.dialect
        return self.dialect if name is None else self.dialects[name]

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
    unknown = sorted(
        f"{op.operation_id} ({op.dialect})"
        for op in operations
        if op.dialect is not None and op.dialect not in provider.dialects
    )
    if unknown:
        problems.append(f"operations speaking no known dialect: {', '.join(unknown)}")
    if missing:
        problems.append(f"operations with no handler: {', '.join(missing)}")
    if orphans:
        problems.append(f"handlers naming no operation: {', '.join(orphans)}")
    if problems:
        raise BindError(f"{provider.name}: " + "; ".join(problems))
    return [(op, provider.handlers[op.operation_id]) for op in operations]
