"""The one clock every time-dependent behaviour reads.

Task transitions, expiry, rate-limit windows, signed-URL lifetimes and webhook schedules all
call ``clock.now()``; nothing else in the server reads the wall clock. ``VirtualClock`` lets a
test (or ``POST /__mock/clock/advance``) move time forward, so a ten-minute render passes in a
millisecond with the same outcome it would have in real time.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    mode: str

    def now(self) -> float:
        """Seconds since the Unix epoch, as the mock sees it."""
        ...

    def describe(self) -> dict[str, object]: ...


class ClockError(Exception):
    """An operation the clock in force does not support (advancing a real clock)."""


class RealClock:
    """Wall-clock time; cannot be advanced."""

    mode = "real"

    def now(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> float:
        raise ClockError("the real clock cannot be advanced; start with --clock virtual")

    def describe(self) -> dict[str, object]:
        return {"now": self.now(), "mode": self.mode, "speed": 1.0}


class VirtualClock:
    """Time that runs at ``speed`` times real time (0 = frozen) and can be advanced.

    ``now = start + (monotonic elapsed) * speed + advanced``. Starting at the wall-clock time
    keeps timestamps realistic until a test moves them.
    """

    mode = "virtual"

    def __init__(self, start: float | None = None, speed: float = 0.0) -> None:
        if speed < 0:
            raise ClockError("speed must be >= 0")
        self._base = time.time() if start is None else float(start)
        self._anchor = time.monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        if self._speed == 0.0:
            return self._base
        return self._base + (time.monotonic() - self._anchor) * self._speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        self._rebase()
        self._base += seconds
        return self._base

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ClockError("speed must be >= 0")
        self._rebase()
        self._speed = float(speed)

    def freeze(self) -> None:
        self.set_speed(0.0)

    def _rebase(self) -> None:
        self._base = self.now()
        self._anchor = time.monotonic()

    def describe(self) -> dict[str, object]:
        return {"now": self.now(), "mode": self.mode, "speed": self._speed}


def make_clock(mode: str, speed: float = 1.0) -> RealClock | VirtualClock:
    if mode == "real":
        return RealClock()
    if mode == "virtual":
        return VirtualClock(speed=speed)
    raise ClockError(f"unknown clock mode {mode!r} (real|virtual)")
