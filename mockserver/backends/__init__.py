"""Where the mock's state lives: ``memory``, ``sqlite:PATH`` or ``redis://HOST:PORT/DB``.

``open_backend(url)`` parses a ``--state`` url, connects and checks the schema; a store that
cannot be reached or read stops the caller with a ``BackendError`` that says why (never a
quiet fallback to memory, which would split a fleet's state without anyone noticing).

A backend is a declaration in ``SCHEMES`` (url scheme -> module:class), imported only when
used, so start-up does not pay for the redis client unless asked to.
"""

from __future__ import annotations

import importlib

from mockserver.backends.base import (
    SCHEMA_VERSION,
    Backend,
    BackendError,
    BackendUnavailable,
    ClockState,
    Conflict,
    Count,
    CounterOp,
    Page,
    PollResult,
    Record,
    SchemaError,
    Write,
)

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMES",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "ClockState",
    "Conflict",
    "Count",
    "CounterOp",
    "Page",
    "PollResult",
    "Record",
    "SchemaError",
    "Write",
    "make_backend",
    "open_backend",
]

# scheme -> (module:class, takes the part after "scheme:" (False: the whole url))
SCHEMES: dict[str, tuple[str, bool]] = {
    "memory": ("mockserver.backends.memory:MemoryBackend", False),
    "sqlite": ("mockserver.backends.sqlite:SqliteBackend", True),
    "redis": ("mockserver.backends.redisdb:RedisBackend", False),
    "rediss": ("mockserver.backends.redisdb:RedisBackend", False),
    "unix": ("mockserver.backends.redisdb:RedisBackend", False),  # redis over a socket
}


def make_backend(url: str) -> Backend:
    """The backend ``url`` names, not connected yet; a url no backend reads is refused."""
    scheme, sep, rest = url.partition(":")
    entry = SCHEMES.get(scheme.lower())
    if entry is None or (scheme == "memory" and (sep or rest)):
        raise BackendError(
            f"unknown --state {url!r}: use memory, sqlite:PATH or redis://HOST:PORT/DB"
        )
    target, after_scheme = entry
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if scheme == "memory":
        return cls()  # type: ignore[no-any-return]
    return cls(rest if after_scheme else url)  # type: ignore[no-any-return]


async def open_backend(url: str) -> Backend:
    """Connect to the store ``url`` names and check its schema stamp."""
    backend = make_backend(url)
    try:
        await backend.open()
    except BaseException:
        await backend.close()
        raise
    return backend
