"""What a handler is given (the parsed request, the tenant, the clock reading, the state),
and what a renderer is given (a :class:`View`: the reading without the request).

Renderers take ``(task, view)``. A ``RequestContext`` is a ``View``; a webhook builds a
:class:`TaskView` for the moment it announces, so a renderer that reached for the request
would fail mypy, not a webhook at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from mockserver.accounts import TooManyTenants
from mockserver.errors import ApiError
from mockserver.ids import uuid4

if TYPE_CHECKING:
    from mockserver.accounts import Tenant
    from mockserver.errors import Dialect
    from mockserver.media import MediaLinks
    from mockserver.registry import Provider
    from mockserver.scenario import ProviderConfig
    from mockserver.spec import Operation
    from mockserver.state import MockState
    from mockserver.stores import Stores


def link_origin(state: MockState, request: web.Request) -> str:
    """Scheme and host to put in links answering ``request``: the configured public URL, else
    the host the client asked for, so they point back at this mock."""
    public = state.options.public_url
    if public:
        return public.rstrip("/")
    return f"{request.scheme}://{request.host}"


class View(Protocol):
    """What a pure renderer reads: when, where links point, the provider's settings, and the
    provider stores (read only: what a provider keeps beside a task, such as its charge)."""

    @property
    def now(self) -> float: ...
    @property
    def origin(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def links(self) -> MediaLinks: ...
    @property
    def trace_id(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def stores(self) -> Stores: ...


class RequestContext:
    """One request on its way through the pipeline.

    ``now`` is read from the clock once, so everything a single answer says is consistent.
    The request and trace ids are drawn only when something uses them (the hot path of a
    poll often needs neither).
    """

    __slots__ = (
        "_request_id",
        "_trace_id",
        "body",
        "chaos",
        "config",
        "key",
        "now",
        "operation",
        "params",
        "provider",
        "request",
        "state",
    )

    def __init__(
        self,
        request: web.Request,
        state: MockState,
        provider: Provider,
        operation: Operation,
        now: float,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.request = request
        self.state = state
        self.provider = provider
        self.operation = operation
        self.now = now
        self.config: ProviderConfig = state.scenario.providers[provider.name]
        self._request_id = request_id
        self._trace_id = trace_id
        self.key: str = ""
        self.body: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        self.chaos: list[str] | None = None  # what chose faults or outcomes, for the journal

    @property
    def request_id(self) -> str:
        """A snowflake-like integer (milliseconds, then 22 seeded bits), as YouCam's."""
        if self._request_id is None:
            bits = self.state.id_rng("request").getrandbits(22)
            self._request_id = str((int(self.now * 1000) << 22) | bits)
        return self._request_id

    @property
    def trace_id(self) -> str:
        """A seeded uuid4, as A2E's ``trace_id``."""
        if self._trace_id is None:
            self._trace_id = uuid4(self.state.id_rng("trace").getrandbits(128))
        return self._trace_id

    def chose(self, source: str) -> None:
        """Note that ``source`` (a rule, a header, a magic value, a preset) shaped this answer."""
        if self.chaos is None:
            self.chaos = []
        self.chaos.append(source)

    @property
    def settings(self) -> dict[str, Any]:
        return self.config.settings

    @property
    def links(self) -> MediaLinks:
        return self.state.links

    @property
    def seed(self) -> int:
        return self.state.scenario.seed

    @property
    def stores(self) -> Stores:
        return self.state.stores

    @property
    def tenant(self) -> Tenant:
        """The caller's tenant (made on first use), marked used now; past the scenario's
        ``limits.max_tenants`` a new key is refused in the provider's words."""
        try:
            return self.state.accounts.tenant(self.key, self.now)
        except TooManyTenants as exc:
            raise self.error("capacity", "too many API keys in use") from exc

    @property
    def origin(self) -> str:
        """Scheme and host to put in links, so they point back at this mock."""
        return link_origin(self.state, self.request)

    @property
    def client_ip(self) -> str:
        return self.request.remote or "unknown"

    @property
    def dialect(self) -> Dialect:
        """The dialect this operation refuses in (its ``x-dialect``, else the provider's)."""
        return self.provider.dialect_for(self.operation)

    def error(self, kind: str, detail: str = "") -> ApiError:
        return self.dialect.pipeline_error(kind, detail)

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def balance(self, currency: str) -> float:
        return self.tenant.balance(currency, self.now, self.state.accounts.next_seq)


@dataclass(frozen=True)
class TaskView:
    """A :class:`View` without a request: what a webhook body is rendered with, at the
    moment of the change it announces."""

    now: float
    origin: str
    settings: dict[str, Any]
    links: MediaLinks
    trace_id: str
    key: str
    seed: int
    stores: Stores

    @classmethod
    def of(
        cls, state: MockState, provider: str, tenant: str, now: float, origin: str, trace_id: str
    ) -> TaskView:
        settings = state.scenario.providers[provider].settings
        seed = state.scenario.seed
        return cls(now, origin, settings, state.links, trace_id, tenant, seed, state.stores)
