"""Fixed request windows on the mock's clock.

A window opens at a key's first request and admits ``limit`` requests until ``window`` seconds
have passed; then it recovers in full. Memory is two numbers per key, whatever the limit, and
because time comes from the clock, a test recovers by advancing the virtual clock.

A window that closed is the same as no window, so ``prune`` drops closed ones (oldest closing
first, from a heap pushed when a window opens): keys and client addresses seen once do not
stay forever.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.scenario import RateLimitRule


@dataclass(frozen=True)
class Limit:
    """A fixed-window rate limit: ``limit`` requests per ``window`` seconds."""

    limit: int
    window: float


# (provider, "key" | "ip", window length, API key or client address)
Subject = tuple[str, str, float, str]


class FixedWindows:
    def __init__(self) -> None:
        self._windows: dict[Subject, list[float]] = {}  # subject -> [opened_at, count]
        # (closes_at, opened_at, subject), one per window opened: what prune may drop, in order
        self._closing: list[tuple[float, float, Subject]] = []

    def __len__(self) -> int:
        return len(self._windows)

    def admit(
        self, rules: Iterable[RateLimitRule], provider: str, key: str, ip: str, now: float
    ) -> float | None:
        """Count a request against each rule in turn (per API key or per client address);
        None when every one admits it, else seconds until the refusing window recovers (the
        rules after it are not counted). One loop, no call per rule: it runs on every poll."""
        windows = self._windows
        for rule in rules:
            per = rule.per
            limit = rule.limit
            # the window length is part of the subject: a per-second and a per-300 s rule on the
            # same key are two windows, both counted
            subject: Subject = (provider, per, limit.window, key if per == "key" else ip)
            w = windows.get(subject)
            if w is None or now >= w[0] + limit.window:
                windows[subject] = [now, 1]
                heapq.heappush(self._closing, (now + limit.window, now, subject))
            elif w[1] >= limit.limit:
                return w[0] + limit.window - now
            else:
                w[1] += 1
        return None

    def prune(self, now: float, budget: int) -> int:
        """Look at up to ``budget`` windows that closed by ``now`` and drop those not
        reopened since; how many it looked at."""
        closing, windows = self._closing, self._windows
        seen = 0
        while closing and closing[0][0] <= now and seen < budget:
            _, opened_at, subject = heapq.heappop(closing)
            seen += 1
            w = windows.get(subject)
            if w is not None and w[0] == opened_at:
                del windows[subject]
        return seen

    def clear(self) -> None:
        self._windows.clear()
        self._closing.clear()
