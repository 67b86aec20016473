"""Reference client for the avatar relay (new-api style, DreamFace videos): ``/avatar/...``.

Catalog: shared/research/avatar-relay-api.md. Envelope ``{"code": "success", "message": "",
"data": ...}``; submit's ``data`` is the bare task id (32 hex). A task reads ``NOT_START ->
SUBMITTED -> QUEUED -> IN_PROGRESS -> SUCCESS | FAILURE`` (``UNKNOWN`` is terminal too); engine
failures are HTTP 200 with ``status: "FAILURE"`` and ``fail_reason``. An unknown or foreign id
is 400 ``task_not_exist``, raised here as :class:`TaskLost`. The relay's own poller reads its
upstream every 5 s, so polling faster only re-reads the same row.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .base import Answer, PollingClient, ProviderError, Status, TaskLost

TERMINAL = ("SUCCESS", "FAILURE", "UNKNOWN")


def _raise_for(answer: Answer) -> None:
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 200 and body.get("code") == "success":
        return
    code = body.get("code")
    message = str(body.get("message") or "")
    if isinstance(body.get("error"), dict):  # the gateway's own shape (auth, rate limit)
        code = body["error"].get("code") or body["error"].get("type")
        message = str(body["error"].get("message") or "")
    if code == "task_not_exist":
        raise TaskLost(answer.status, code, message, answer.body)
    raise ProviderError(answer.status, code, message, answer.body)


class RelayClient(PollingClient):
    """``submit({...})`` a DreamFace avatar video, then ``wait(task_id)``."""

    pace = 5.0

    async def submit(self, body: dict[str, Any]) -> str:
        answer = await self.request("POST", "/avatar/generation", json_body=body)
        _raise_for(answer)
        return answer.body["data"]

    async def read(self, task_id: str) -> Status:  # type: ignore[override]
        answer = await self.request("GET", f"/avatar/task/{quote(task_id, safe='')}")
        _raise_for(answer)
        task = answer.body["data"]
        state = task["status"]
        return Status(
            state=state,
            terminal=state in TERMINAL,
            succeeded=state == "SUCCESS",
            result=task.get("data"),
            failure={"fail_reason": task.get("fail_reason")} if state != "SUCCESS" else None,
            raw=answer.body,
        )

    async def voices(self, language: str = "en") -> list[dict[str, Any]]:
        answer = await self.request("GET", "/avatar/voice", params={"language": language})
        _raise_for(answer)
        return answer.body["data"]["audio_list"]
