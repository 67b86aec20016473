"""A2E's typed stores, declared on its Provider: issued API tokens, the R2 credentials its
upload URLs name, streaming sessions, and (models.TaskRecords) what each task keeps beside
its params. Each is reset with the mock; a task's record goes with the task.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mockserver.providers.a2e.models import ApiToken, StreamingSession, TaskRecords
from mockserver.stores import RecordStore, Store


class ApiTokens(RecordStore):
    """Tokens the mock issued (``login/account``, ``token/generate``), by token, oldest first;
    a deleted token is gone from them and refused from then on: the fleet's.

    A token issued through one replica acts for its tenant through every other, and after a
    restart: on a state backend each token is a record of its own (``by_record``), written with
    the answer that issued it. A deleted token stays a record (``{"deleted": true}``), so no
    replica takes it for an API key of a tenant of its own.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, ApiToken] = {}
        self.deleted: set[str] = set()

    def issue(self, token: str, issued: ApiToken) -> None:
        self.tokens[token] = issued
        self.note(token)

    def of_tenant(self, tenant: str) -> list[tuple[str, ApiToken]]:
        """The tenant's tokens, oldest first."""
        return [(t, issued) for t, issued in self.tokens.items() if issued.tenant == tenant]

    def delete(self, tenant: str, token_id: str) -> bool:
        """Revoke the tenant's token with ``_id`` ``token_id``; whether there was one."""
        for token, issued in self.tokens.items():
            if issued.id == token_id and issued.tenant == tenant:
                del self.tokens[token]
                self.deleted.add(token)
                self.note(token)
                return True
        return False

    def record(self, key: str) -> Any:
        if key in self.deleted:
            return {"deleted": True}
        issued = self.tokens.get(key)
        return None if issued is None else asdict(issued)

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.tokens.pop(key, None)
            self.deleted.discard(key)
        elif data.get("deleted"):
            self.tokens.pop(key, None)
            self.deleted.add(key)
        else:
            self.tokens[key] = ApiToken(**data)

    def clear(self) -> None:
        self.tokens.clear()
        self.deleted.clear()
        self.changed.clear()

    def __len__(self) -> int:
        return len(self.tokens) + len(self.deleted)


class R2Credentials(RecordStore):
    """The opaque credential each upload URL names, and the tenant it stands for: the fleet's.

    An upload URL signed through one replica is PUT through any other (given the same
    ``--secret``), and after a restart: on a state backend each credential is a record of its
    own, written once, when the tenant's first URL names it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tenants: dict[str, str] = {}

    def name(self, credential: str, tenant: str) -> None:
        """``credential`` stands for ``tenant`` (written only the first time)."""
        if self.tenants.get(credential) != tenant:
            self.tenants[credential] = tenant
            self.note(credential)

    def record(self, key: str) -> Any:
        tenant = self.tenants.get(key)
        return None if tenant is None else {"tenant": tenant}

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.tenants.pop(key, None)
        else:
            self.tenants[key] = data["tenant"]

    def clear(self) -> None:
        self.tenants.clear()
        self.changed.clear()

    def __len__(self) -> int:
        return len(self.tenants)


class StreamingSessions(RecordStore):
    """Streaming avatar sessions, by Agora channel, live or ended: the fleet's.

    A session started through one replica is talked to and left through any other, and after
    a restart: on a state backend each session is a record of its own, written when it starts,
    when its qa context is set and when it is left.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, StreamingSession] = {}

    def start(self, channel: str, session: StreamingSession) -> None:
        self.sessions[channel] = session
        self.note(channel)

    def set_context(self, channel: str, text: str) -> None:
        self.sessions[channel].qa_context = text
        self.note(channel)

    def leave(self, channel: str, now: float) -> StreamingSession:
        session = self.sessions[channel]
        session.left_at = now
        self.note(channel)
        return session

    def live(self, now: float) -> int:
        return sum(1 for s in self.sessions.values() if s.live(now))

    def record(self, key: str) -> Any:
        session = self.sessions.get(key)
        return None if session is None else asdict(session)

    def load_record(self, key: str, data: Any) -> None:
        if data is None:
            self.sessions.pop(key, None)
        else:
            self.sessions[key] = StreamingSession(**data)

    def clear(self) -> None:
        self.sessions.clear()
        self.changed.clear()

    def __len__(self) -> int:
        return len(self.sessions)


STORES: tuple[type[Store], ...] = (TaskRecords, ApiTokens, R2Credentials, StreamingSessions)
