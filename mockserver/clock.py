"""The one clock every time-dependent behaviour reads.

Task transitions, expiry, rate-limit windows, signed-URL lifetimes and webhook schedules all
call ``clock.now()``; nothing else in the server reads the wall clock. ``VirtualClock`` lets a
test (or ``POST /__mock/clock/advance``) move time forward, so a ten-minute render passes in a
millisecond with the same outcome it would have in real time.

The clock refuses a reading it cannot hold itself, not only through the control API that
usually moves it: one NaN or infinite ``now`` turned every later submit into a 500 until the
process restarted, and reset keeps the clock.
"""

from __future__ import annotations

import time
from typing import Protocol

from mockserver.numbers import MAX_SECONDS, MAX_SPEED, NumberError, read_number

# The latest moment a virtual clock may show: 9000-01-01 UTC. Dates render up to the year 9999,
# which leaves a task planned at the last moment room for its timeline and its links.
LATEST = 221_845_392_000.0


class Clock(Protocol):
    """What the mock asks of its clock. Both clocks answer all of it; the real one refuses
    with :class:`ClockError` what it cannot do (move, change speed), so a caller asks the
    clock, never its type or its ``mode``."""

    @property
    def mode(self) -> str:
        """``real`` or ``virtual``, as ``describe`` reports it."""
        ...

    @property
    def speed(self) -> float:
        """Clock seconds per real second (0: frozen)."""
        ...

    def now(self) -> float:
        """Seconds since the Unix epoch, as the mock sees it."""
        ...

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``; the new reading."""
        ...

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` times real time from now on."""
        ...

    def jump(self, moment: float) -> None:
        """Show ``moment`` from now on, earlier than now or later (a snapshot's import)."""
        ...

    def describe(self) -> dict[str, object]: ...


class ClockError(Exception):
    """An operation the clock in force does not support (advancing a real clock)."""


class ClockValueError(ClockError, NumberError):
    """A value the clock cannot take: not finite, negative, too large, or past LATEST."""


class RealClock:
    """Wall-clock time; cannot be advanced."""

    mode = "real"
    speed = 1.0

    def now(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> float:
        raise ClockError("the real clock cannot be advanced; start with --clock virtual")

    def set_speed(self, speed: float) -> None:
        raise ClockError("the real clock has no speed to set; start with --clock virtual")

    def jump(self, moment: float) -> None:
        raise ClockError("the real clock cannot be set; start with --clock virtual")

    def describe(self) -> dict[str, object]:
        return {"now": self.now(), "mode": self.mode, "speed": self.speed}


class VirtualClock:
    """Time that runs at ``speed`` times real time (0 = frozen) and can be advanced.

    ``now = start + (monotonic elapsed) * speed + advanced``. Starting at the wall-clock time
    keeps timestamps realistic until a test moves them.
    """

    mode = "virtual"

    def __init__(self, start: float | None = None, speed: float = 0.0) -> None:
        self._base = time.time() if start is None else _read(start, "start", maximum=LATEST)
        self._anchor = time.monotonic()
        self._speed = _read(speed, "speed", maximum=MAX_SPEED)
        self.moves = 0  # advances and speed changes so far: a state backend writes on a change

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        if self._speed == 0.0:
            return self._base
        return self._base + (time.monotonic() - self._anchor) * self._speed

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (0 to MAX_SECONDS, and never past LATEST)."""
        seconds = _read(seconds, "seconds", maximum=MAX_SECONDS)
        self._rebase()
        if self._base + seconds > LATEST:
            raise ClockValueError("seconds", "would move the clock past the year 9000")
        self._base += seconds
        self.moves += 1
        return self._base

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` times real time from now on (0 freezes, at most MAX_SPEED)."""
        speed = _read(speed, "speed", maximum=MAX_SPEED)
        self._rebase()
        self._speed = speed
        self.moves += 1

    def resume(self, now: float, speed: float) -> None:
        """Read ``now`` at this moment and run on at ``speed``: the reading a state store
        kept through a restart (or another replica's advance)."""
        self._base = _read(now, "start", maximum=LATEST)
        self._anchor = time.monotonic()
        self._speed = _read(speed, "speed", maximum=MAX_SPEED)

    def jump(self, moment: float) -> None:
        """Show ``moment`` (0 to LATEST) from now on, running on at the same speed."""
        self._base = _read(moment, "now", maximum=LATEST)
        self._anchor = time.monotonic()

    def freeze(self) -> None:
        self.set_speed(0.0)

    def _rebase(self) -> None:
        self._base = self.now()
        self._anchor = time.monotonic()

    def describe(self) -> dict[str, object]:
        return {"now": self.now(), "mode": self.mode, "speed": self._speed}


def _read(value: object, field: str, *, maximum: float) -> float:
    try:
        return read_number(value, field, minimum=0, maximum=maximum)
    except NumberError as err:
        raise ClockValueError(field, err.reason) from None


def make_clock(mode: str, speed: float = 1.0) -> Clock:
    if mode == "real":
        return RealClock()
    if mode == "virtual":
        return VirtualClock(speed=speed)
    raise ClockError(f"unknown clock mode {mode!r} (real|virtual)")
