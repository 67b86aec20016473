"""Log lines that cannot flood the log: one line per kind of event per interval, with a count.

What a client does wrong (a refused connection, a malformed header, a webhook dropped from a
full queue) can happen thousands of times a second; a line for each is a denial of service
on the disk (a connection flood once wrote 99 MB in 40 s). The first event of a kind is
logged at once; later ones within ``interval`` real seconds are counted and reported with the
next line that gets through.
"""

from __future__ import annotations

import logging
import time


class QuietLog:
    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}  # kind -> monotonic time of its last line
        self._held: dict[str, int] = {}  # kind -> events not logged since

    def warning(self, kind: str, message: str, *args: object) -> None:
        """Log ``message % args`` unless a line of ``kind`` went out less than ``interval``
        ago; then only count it."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held:
            message += " (and %d more like it in the last %.0f s)"
            args = (*args, held, now - last if last is not None else 0.0)
        self.logger.warning(message, *args)
