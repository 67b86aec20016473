"""YouCam's typed records: what its stores keep beside the core's tasks and tenants.

Plain data, no behaviour beyond derived fields and ids, so every room (files, client auth, units,
the polling window) can share them without importing each other.
"""

from __future__ import annotations

import base64
import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.accounts import HISTORY_KEPT

if TYPE_CHECKING:
    from mockserver.tasks import Task


def dst_id(task: Task) -> str:
    """A file id for the result, usable as ``src_file_id`` by a later task of the tenant."""
    return base64.b64encode(hashlib.sha256(f"dst:{task.id}".encode()).digest()).decode()


@dataclass
class FileRecord:
    """A file the mock made itself (a result's ``dst_id``), usable like an upload."""

    file_id: str
    tenant: str
    content_type: str
    file_name: str
    file_size: int
    created_at: float
    token: str
    data: bytes | None = None
    expires_at: float | None = None  # ``file_retention`` after it was made (None: kept)
    fixture: str = ""  # the media file its bytes are (a state backend keeps the name)

    @property
    def kind(self) -> str:
        return self.content_type.split("/", 1)[0]


@dataclass
class AccessToken:
    """A v1 ``client/auth`` access token: whom it acts for and until when."""

    client_id: str
    tenant: str
    issued_at: float
    expires_at: float


@dataclass
class Lot:
    """A tranche of units with a type and an expiry, as ``client/credit`` lists them."""

    id: int
    type: str
    amount: float
    expiry: float  # epoch seconds
    granted_at: float
    expired: bool = False


@dataclass
class Ledger:
    """A tenant's lots and the credit history the API shows for them."""

    lots: list[Lot]
    # oldest first; a ring like the tenant's own history
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY_KEPT))
    seen: int = 0  # position in the tenant's history up to which changes were replayed


@dataclass
class PollWindow:
    """When a running task was last polled, and when (if ever) the window lost it."""

    last_polled_at: float
    expired_at: float | None = None
