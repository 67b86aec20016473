"""A bounded ring of the requests the mock answered, for tests and the control API.

Bounded by design: unbounded journals are how WireMock and aimock ran out of memory.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class Journal:
    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> None:
        self._seq += 1
        entry["seq"] = self._seq
        self._entries.append(entry)

    def query(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        tenant: str | None = None,
        operation: str | None = None,
        provider: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        out = [
            e
            for e in self._entries
            if (method is None or e["method"] == method.upper())
            and (
                path is None
                or e["path"] == path
                or (path.endswith("*") and e["path"].startswith(path[:-1]))
            )
            and (tenant is None or e["tenant"] == tenant)
            and (operation is None or e["operation_id"] == operation)
            and (provider is None or e["provider"] == provider)
        ]
        return out[-limit:] if limit else out

    def resize(self, size: int) -> None:
        """A new bound, keeping the newest entries."""
        if size != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=size)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
