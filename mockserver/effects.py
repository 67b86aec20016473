"""Chaos effects: what one fault does to one request, each a class registered by its key.

A subclass declares ``class Name(Effect, key="name")`` and is then what ``type: name`` means in
a scenario rule or a preset and what ``X-Mock-Fault: name[=N]`` means in a header (respx's
``Pattern`` registry is the model). The class owns all there is to know about its kind:

- how it is read: ``bounds`` (every number, checked by :mod:`mockserver.numbers`, so a NaN or
  a 1e308 is a refusal naming the field, never a sleep that never ends), ``texts``, and the
  field ``X-Mock-Fault: key=N`` sets (``header_field``);
- when it acts: ``phases``, the first being the default. ``before`` the work: the handler
  never runs (a refusal, a dropped connection, a gateway page). ``after`` the work: the task
  exists and is charged, and the client is told otherwise or told nothing;
- what it does: :meth:`Effect.act` answers instead of the work (raise an ApiError in the
  caller's dialect, or return a finished response), :meth:`Effect.send` spoils the bytes of
  the answer on the way out, :meth:`Effect.delay` adds seconds of wait (latency stacks with
  whichever other effect fires).

:mod:`mockserver.chaos` decides *which* effect acts; the pipeline and the mock's own routes
call these methods and check no kind. Adding a fault is one class here plus its test.
"""

from __future__ import annotations

import asyncio
import math
import random
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from aiohttp import web

from mockserver.errors import Dialect, reason
from mockserver.numbers import MAX_WAIT, NumberError, parse_number, read_number

BEFORE, AFTER = "before", "after"
MAX_RETRY_AFTER = 86_400.0  # a day: a Retry-After beyond it is a typo
MAX_CHUNK = 1024 * 1024
EFFECTS: dict[str, type[Effect]] = {}


class EffectError(ValueError):
    """An effect the mock cannot use; ``str(err)`` names the field or header and why."""


@dataclass(frozen=True)
class Bound:
    """The range a number of an effect must lie in (inclusive), and whether null is allowed."""

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    nullable: bool = False

    def read(self, value: Any, field: str) -> float | int | None:
        if value is None and self.nullable:
            return None
        number = read_number(
            value, field, minimum=self.minimum, maximum=self.maximum, integer=self.integer
        )
        return int(number) if self.integer else number

    def parse(self, text: str, field: str) -> float | int:
        number = parse_number(
            text, field, minimum=self.minimum, maximum=self.maximum, integer=self.integer
        )
        return int(number) if self.integer else number


class Dropped(web.Response):
    """Stands for an answer that never left: the connection is gone (journaled as status 0)."""

    def __init__(self) -> None:
        super().__init__(status=0)


def drop_connection(request: web.Request, reset: bool) -> Dropped:
    """End the connection with no answer: RST for a reset, FIN for an empty reply."""
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return Dropped()


@dataclass(frozen=True)
class Effect:
    """One fault. Subclasses are frozen dataclasses whose fields all have defaults."""

    key: ClassVar[str] = ""
    phases: ClassVar[tuple[str, ...]] = (BEFORE, AFTER)  # where it may act; the first by default
    stacks: ClassVar[bool] = False  # True: its delay adds to whichever other effect fires
    bounds: ClassVar[Mapping[str, Bound]] = {}
    texts: ClassVar[tuple[str, ...]] = ()  # fields taken as written (codes, messages)
    header_field: ClassVar[str | None] = None  # what N sets in ``X-Mock-Fault: key=N``

    phase: str = ""

    def __init_subclass__(cls, key: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not key:
            return  # an abstract middle class, e.g. Drop
        if key in EFFECTS:
            raise TypeError(f"effect {key!r} is registered twice ({EFFECTS[key].__name__})")
        cls.key = key
        EFFECTS[key] = cls

    def __post_init__(self) -> None:
        if not self.phase:
            object.__setattr__(self, "phase", self.phases[0])

    @property
    def type(self) -> str:
        """The effect's ``type`` as a scenario spells it."""
        return self.key

    @property
    def before_work(self) -> bool:
        return self.phase == BEFORE

    # --- reading ----------------------------------------------------------------------------

    @classmethod
    def from_rule(cls, raw: Mapping[str, Any], where: str) -> Effect:
        """The effect a scenario rule or a preset describes; ``where`` names it in refusals."""
        values: dict[str, Any] = {"phase": cls._phase(raw.get("phase"), f"{where}.phase")}
        for name, bound in cls.bounds.items():
            if name in raw:
                values[name] = _checked(bound.read, raw[name], f"{where}.{name}")
        values.update((name, raw[name]) for name in cls.texts if name in raw)
        return cls(**values)

    @classmethod
    def from_header(cls, arg: str, phase: str | None, where: str) -> Effect:
        """The effect ``X-Mock-Fault: key[=arg][;phase=...]`` asks for."""
        values: dict[str, Any] = {"phase": cls._phase(phase, f"{where} phase")}
        if cls.header_field is None:
            if arg:
                raise EffectError(f"{where}: {cls.key} takes no value")
        elif arg:
            bound = cls.bounds[cls.header_field]
            values[cls.header_field] = _checked(bound.parse, arg, where)
        return cls(**values)

    @classmethod
    def _phase(cls, phase: str | None, where: str) -> str:
        if phase is None:
            return cls.phases[0]
        if phase not in cls.phases:
            raise EffectError(f"{where}: {cls.key} acts {' or '.join(cls.phases)} the work")
        return phase

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Every field a rule may give this effect, for the scenario schema's check."""
        return tuple(f.name for f in fields(cls))

    # --- acting -----------------------------------------------------------------------------

    def delay(self, rng: random.Random) -> float:
        """Seconds to wait before anything else happens (real time: the client feels it)."""
        return 0.0

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        """Answer in place of the work (before it) or of its answer (after it).

        Raise an ApiError made by ``dialect`` for a refusal in the caller's words, return a
        finished response (a dropped connection, a gateway's page), or None to let the answer
        go out through :meth:`send`.
        """
        return None

    async def send(
        self, request: web.Request, status: int, data: bytes, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        """How the answer leaves: as it is, unless the effect spoils its bytes. ``headers``
        carry the answer's Content-Type, never its Content-Length (the effect's own)."""
        return web.Response(body=data, status=status, headers=headers)


def _checked(read: Any, value: Any, field: str) -> Any:
    try:
        return read(value, field)
    except NumberError as err:
        raise EffectError(str(err)) from None


def _seconds_header(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up: a client told 2.5 s must not come back at 2."""
    return str(math.ceil(seconds))


SECONDS = Bound(0.0, MAX_WAIT)
MEDIAN = Bound(1e-6, MAX_WAIT)
SIGMA = Bound(0.0, 10.0)  # a wider spread only piles draws onto MAX_WAIT


# --- answering instead of the work ---------------------------------------------------------


@dataclass(frozen=True)
class Latency(Effect, key="latency"):
    """Wait, then go on: ``latency:`` ``{fixed: s}``, ``{uniform: [a, b]}`` or
    ``{lognormal: {median, sigma}}`` (a draw, capped at MAX_WAIT)."""

    phases: ClassVar[tuple[str, ...]] = (BEFORE,)
    stacks: ClassVar[bool] = True

    latency: Mapping[str, Any] = field(default_factory=lambda: {"fixed": 0.0})

    @classmethod
    def from_rule(cls, raw: Mapping[str, Any], where: str) -> Effect:
        phase = cls._phase(raw.get("phase"), f"{where}.phase")
        return cls(phase=phase, latency=_latency(raw.get("latency") or {"fixed": 0}, where))

    @classmethod
    def from_header(cls, arg: str, phase: str | None, where: str) -> Effect:
        if not arg:
            raise EffectError(f"{where}: latency needs seconds, e.g. latency=2")
        seconds = _checked(SECONDS.parse, arg, where)
        return cls(phase=cls._phase(phase, f"{where} phase"), latency={"fixed": seconds})

    def delay(self, rng: random.Random) -> float:
        spec = self.latency
        if "fixed" in spec:
            return float(spec["fixed"])
        if "uniform" in spec:
            low, high = spec["uniform"]
            return rng.uniform(low, high)
        params = spec["lognormal"]
        return min(rng.lognormvariate(math.log(params["median"]), params["sigma"]), MAX_WAIT)


def _latency(spec: Any, where: str) -> Mapping[str, Any]:
    """A latency spec with every number checked (the schema cannot refuse a NaN)."""
    seconds = SECONDS
    at = f"{where}.latency"
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise EffectError(f"{at}: give one of fixed, uniform, lognormal")
    if "fixed" in spec:
        return {"fixed": _checked(seconds.read, spec["fixed"], f"{at}.fixed")}
    if "uniform" in spec:
        pair = spec["uniform"]
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise EffectError(f"{at}.uniform: give [low, high]")
        low = _checked(seconds.read, pair[0], f"{at}.uniform.0")
        high = _checked(seconds.read, pair[1], f"{at}.uniform.1")
        if low > high:
            raise EffectError(f"{at}.uniform: low {low:g} is above high {high:g}")
        return {"uniform": [low, high]}
    if "lognormal" in spec and isinstance(spec["lognormal"], Mapping):
        params = spec["lognormal"]
        median = _checked(MEDIAN.read, params.get("median"), f"{at}.lognormal.median")
        sigma = _checked(SIGMA.read, params.get("sigma"), f"{at}.lognormal.sigma")
        return {"lognormal": {"median": median, "sigma": sigma}}
    raise EffectError(f"{at}: give one of fixed, uniform, lognormal")


@dataclass(frozen=True)
class Status(Effect, key="status"):
    """The provider's own error body with this status (``code``/``message`` override it)."""

    bounds: ClassVar[Mapping[str, Bound]] = {"status": Bound(400, 599, integer=True)}
    texts: ClassVar[tuple[str, ...]] = ("code", "message")
    header_field: ClassVar[str | None] = "status"

    status: int = 503
    code: str | int | None = None
    message: str | None = None

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        err = dialect.fault(self.status)
        if self.message:
            err.message = self.message  # as written, not appended to the provider's phrase
        if self.code is not None:
            err.code = self.code
        raise err


@dataclass(frozen=True)
class RateLimit(Effect, key="rate_limit"):
    """The provider's 429; ``retry_after`` seconds go in ``Retry-After`` and in its message
    where the provider words one (null: no header, as YouCam sends none)."""

    bounds: ClassVar[Mapping[str, Bound]] = {
        "retry_after": Bound(0.0, MAX_RETRY_AFTER, nullable=True)
    }
    header_field: ClassVar[str | None] = "retry_after"

    retry_after: float | None = None

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        if self.retry_after is None:
            raise dialect.pipeline_error("rate_limited")
        seconds = _seconds_header(self.retry_after)
        err = dialect.pipeline_error("rate_limited", seconds)
        err.headers = {**err.headers, "Retry-After": seconds}
        raise err


@dataclass(frozen=True)
class Drop(Effect):
    """The connection ends with no answer."""

    rst: ClassVar[bool] = False

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        return drop_connection(request, reset=self.rst)


@dataclass(frozen=True)
class Reset(Drop, key="reset"):
    """A TCP reset: the client reads a connection error."""

    rst: ClassVar[bool] = True


@dataclass(frozen=True)
class Empty(Drop, key="empty"):
    """The server closes the connection without a byte: an empty reply."""


NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
# nginx's own spellings (ngx_http_special_response.c), not Python's HTTPStatus phrases
GATEWAY_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def gateway_page(status: int) -> web.Response:
    """The HTML error page the load balancer in front of a provider answers with."""
    phrase = GATEWAY_REASONS.get(status) or reason(status)
    return web.Response(
        text=NGINX_PAGE.format(status=status, reason=phrase),
        status=status,
        content_type="text/html",
        headers={"Server": "nginx"},
    )


@dataclass(frozen=True)
class Gateway(Effect, key="gateway"):
    """The CDN or load balancer in front answers, not the provider: an HTML 502/503/504 page
    (``text/html``, nginx's). [guess: no provider documents what fronts it; nginx's page is
    the commonest one clients meet]"""

    bounds: ClassVar[Mapping[str, Bound]] = {"status": Bound(500, 599, integer=True)}
    header_field: ClassVar[str | None] = "status"

    status: int = 502

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        return gateway_page(self.status)


@dataclass(frozen=True)
class GatewayTimeout(Effect, key="gateway_timeout"):
    """The balancer waits ``seconds`` for the provider, gives up and answers its HTML 504.

    Default 60 s: nginx's ``proxy_read_timeout`` and an AWS load balancer's idle timeout.
    After the work (``phase: after``) the task exists though the client saw a 504."""

    bounds: ClassVar[Mapping[str, Bound]] = {"seconds": Bound(0.0, MAX_WAIT)}
    header_field: ClassVar[str | None] = "seconds"

    seconds: float = 60.0

    async def act(self, request: web.Request, dialect: Dialect) -> web.StreamResponse | None:
        await asyncio.sleep(self.seconds)
        return gateway_page(504)


# --- spoiling the answer on its way out ----------------------------------------------------


@dataclass(frozen=True)
class Truncate(Effect, key="truncate"):
    """The connection breaks mid-body: ``Content-Length`` promises the whole answer, only
    ``fraction`` of it arrives, then the connection closes. A client reads a short body (a
    payload error), as on a real broken connection."""

    phases: ClassVar[tuple[str, ...]] = (AFTER,)
    bounds: ClassVar[Mapping[str, Bound]] = {"fraction": Bound(0.0, 1.0)}
    header_field: ClassVar[str | None] = "fraction"

    fraction: float = 0.5

    async def send(
        self, request: web.Request, status: int, data: bytes, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        kept = min(int(len(data) * self.fraction), max(len(data) - 1, 0))
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[:kept])
        if request.transport is not None:
            request.transport.close()  # flushes what was written, then FIN: a short read
        return response


@dataclass(frozen=True)
class Malformed(Effect, key="malformed"):
    """Half the JSON, then an HTML error page glued on: a proxy that broke the body."""

    phases: ClassVar[tuple[str, ...]] = (AFTER,)

    async def send(
        self, request: web.Request, status: int, data: bytes, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        spoiled = data[: max(len(data) // 2, 1)] + b"<html><body>502 Bad Gateway</body></html>"
        return await super().send(request, status, spoiled, headers)


@dataclass(frozen=True)
class Dribble(Effect, key="dribble"):
    """The whole answer, ``chunk_bytes`` at a time, ``interval`` seconds apart."""

    phases: ClassVar[tuple[str, ...]] = (AFTER,)
    bounds: ClassVar[Mapping[str, Bound]] = {
        "chunk_bytes": Bound(1, MAX_CHUNK, integer=True),
        "interval": Bound(0.0, 10.0),
    }

    chunk_bytes: int = 16
    interval: float = 0.05

    async def send(
        self, request: web.Request, status: int, data: bytes, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(data)
        await response.prepare(request)
        for i in range(0, len(data), self.chunk_bytes):
            await response.write(data[i : i + self.chunk_bytes])
            await asyncio.sleep(self.interval)
        await response.write_eof()
        return response


def effect_from_rule(raw: Mapping[str, Any], where: str = "effect") -> Effect:
    """The registered effect ``raw["type"]`` names, read from a rule or a preset."""
    kind = raw.get("type")
    cls = EFFECTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EffectError(f"{where}.type: {kind!r} is not one of {', '.join(EFFECTS)}")
    return cls.from_rule(raw, where)
