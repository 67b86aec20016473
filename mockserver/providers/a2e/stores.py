"""A2E's typed stores, declared on its Provider: issued API tokens, the R2 credentials its
upload URLs name, streaming sessions, and (models.TaskRecords) what each task keeps beside
its params. Each is reset with the mock; a task's record goes with the task.
"""

from __future__ import annotations

from mockserver.providers.a2e.models import ApiToken, StreamingSession, TaskRecords
from mockserver.stores import Store


class ApiTokens(Store):
    """Tokens the mock issued (``login/account``, ``token/generate``), by token, oldest first;
    a deleted token is gone from them and refused from then on."""

    def __init__(self) -> None:
        self.tokens: dict[str, ApiToken] = {}
        self.deleted: set[str] = set()

    def of_tenant(self, tenant: str) -> list[tuple[str, ApiToken]]:
        """The tenant's tokens, oldest first."""
        return [(t, issued) for t, issued in self.tokens.items() if issued.tenant == tenant]

    def delete(self, tenant: str, token_id: str) -> bool:
        """Revoke the tenant's token with ``_id`` ``token_id``; whether there was one."""
        for token, issued in self.tokens.items():
            if issued.id == token_id and issued.tenant == tenant:
                del self.tokens[token]
                self.deleted.add(token)
                return True
        return False

    def clear(self) -> None:
        self.tokens.clear()
        self.deleted.clear()

    def __len__(self) -> int:
        return len(self.tokens) + len(self.deleted)


class R2Credentials(Store):
    """The opaque credential each upload URL names, and the tenant it stands for."""

    def __init__(self) -> None:
        self.tenants: dict[str, str] = {}

    def clear(self) -> None:
        self.tenants.clear()

    def __len__(self) -> int:
        return len(self.tenants)


class StreamingSessions(Store):
    """Streaming avatar sessions, by Agora channel, live or ended."""

    def __init__(self) -> None:
        self.sessions: dict[str, StreamingSession] = {}

    def live(self, now: float) -> int:
        return sum(1 for s in self.sessions.values() if s.live(now))

    def clear(self) -> None:
        self.sessions.clear()

    def __len__(self) -> int:
        return len(self.sessions)


STORES: tuple[type[Store], ...] = (TaskRecords, ApiTokens, R2Credentials, StreamingSessions)
