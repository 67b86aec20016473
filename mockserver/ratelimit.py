"""Fixed request windows on the mock's clock.

A window opens at a key's first request and admits ``limit`` requests until ``window`` seconds
have passed; then it recovers in full. Memory is two numbers per key, whatever the limit, and
because time comes from the clock, a test recovers by advancing the virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    limit: int
    window: float


class FixedWindows:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, ...], list[float]] = {}  # key -> [opened_at, count]

    def hit(self, key: tuple[str, ...], limit: Limit, now: float) -> float | None:
        """Count a request; None when admitted, else seconds until the window recovers."""
        w = self._windows.get(key)
        if w is None or now >= w[0] + limit.window:
            self._windows[key] = [now, 1]
            return None
        if w[1] >= limit.limit:
            return w[0] + limit.window - now
        w[1] += 1
        return None

    def clear(self) -> None:
        self._windows.clear()
