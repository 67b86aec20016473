"""Which event loop ``serve`` runs on: uvloop where it is installed, the standard one elsewhere.

uvloop (libuv under asyncio's API) answers more polls per core than the standard loop; it is
a dependency only where it builds (CPython, not Windows), so every other platform keeps the
standard loop and loses nothing but speed. ``serve --loop`` or ``AVATAR_MOCK_LOOP`` choose
explicitly; asking for uvloop where it is missing is an error, not a silent fallback.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

LOOP_ENV = "AVATAR_MOCK_LOOP"
LOOPS = ("asyncio", "uvloop")


class LoopError(ValueError):
    """A loop that was asked for and cannot be had here."""


def uvloop_available() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def default_loop() -> str:
    """uvloop where importable, else the standard loop."""
    return "uvloop" if uvloop_available() else "asyncio"


def resolve(name: str | None) -> str:
    """The loop to run for ``name`` (None or empty: the default); LoopError if unavailable."""
    if not name:
        return default_loop()
    if name not in LOOPS:
        raise LoopError(f"unknown event loop {name!r}; choose one of {', '.join(LOOPS)}")
    if name == "uvloop" and not uvloop_available():
        raise LoopError("uvloop is not installed here (pip install uvloop), use --loop asyncio")
    return name


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A callable that makes a new loop of kind ``name`` (for ``asyncio.Runner``)."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    import asyncio  # here: `avatar-mock check-config` and friends need no event loop

    return asyncio.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """What kind of loop ``loop`` is, as ``--loop`` spells it (``/__mock/health``)."""
    return "uvloop" if type(loop).__module__.split(".", 1)[0] == "uvloop" else "asyncio"
