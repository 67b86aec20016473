"""Reference client for A2E (``/api/v1/...``): avatar videos, image-to-video, face swap.

Catalog: shared/research/a2e-api.md. Envelope ``{"code": 0, "data": ..., "trace_id"?}``; a
refusal is ``code != 0`` with ``msg`` (often still HTTP 200), or a 4xx. Each family keeps its
own vocabulary, kept verbatim here:

- ``video``: ``POST video/generate``; read with ``POST video/awsResult {_id}`` (an array of one
  row): ``init -> start -> pending -> process -> copy -> success | fail``, result in ``result``,
  failure in ``msg``;
- ``image2video``: ``POST userImage2Video/start``; ``GET userImage2Video/{_id}``:
  ``sent -> pending -> completed | failed``, ``result_url``, ``failed_code``/``failed_message``;
- ``faceswap``: ``POST userFaceSwapTask/add``; ``GET userFaceSwapTask/{_id}``:
  ``initialized -> processing -> completed | failed``, ``result_url``, ``error_code`` and
  ``faild_message`` (sic).

A2E documents no polling pace; this client reads every 5 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .base import Answer, PollingClient, ProviderError, Status, TaskLost


@dataclass(frozen=True)
class Family:
    """One task family: where it starts, where it is read, and its words for states."""

    submit: str
    status: str  # a path with {} for the id; POST paths take the id as {"_id": ...}
    status_method: str = "GET"
    state_field: str = "current_status"
    success: str = "completed"
    failure: str = "failed"
    result_field: str = "result_url"
    failure_fields: tuple[str, ...] = ("failed_code", "failed_message")


FAMILIES = {
    "video": Family(
        "/api/v1/video/generate",
        "/api/v1/video/awsResult",
        status_method="POST",
        state_field="status",
        success="success",
        failure="fail",
        result_field="result",
        failure_fields=("msg",),
    ),
    "image2video": Family("/api/v1/userImage2Video/start", "/api/v1/userImage2Video/{}"),
    "faceswap": Family(
        "/api/v1/userFaceSwapTask/add",
        "/api/v1/userFaceSwapTask/{}",
        failure_fields=("error_code", "faild_message"),
    ),
}


def _is_lost(answer: Answer, body: dict[str, Any]) -> bool:
    text = str(body.get("msg") or body.get("message") or "").lower()
    return answer.status == 404 or "not found" in text or "not exist" in text


def _raise_for(answer: Answer) -> None:
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 200 and body.get("code") == 0:
        return
    code = body.get("code")
    message = str(body.get("msg") or body.get("message") or "")
    if _is_lost(answer, body):
        raise TaskLost(answer.status, code, message, answer.body)
    raise ProviderError(answer.status, code, message, answer.body)


class A2EClient(PollingClient):
    """``submit("image2video", {...})`` then ``wait(task_id)``; families as in FAMILIES."""

    pace = 5.0

    def __init__(self, base_url: str, api_key: str, **kw: Any) -> None:
        super().__init__(base_url, api_key, **kw)
        self.families = dict(FAMILIES)
        self._families: dict[str, str] = {}

    async def submit(self, family: str, body: dict[str, Any]) -> str:
        answer = await self.request("POST", self.families[family].submit, json_body=body)
        _raise_for(answer)
        data = answer.body["data"]
        row = data[0] if isinstance(data, list) else data  # some starters answer an array
        task_id = row["_id"]
        self._families[task_id] = family
        return task_id

    async def _row(self, spec: Family, task_id: str) -> tuple[dict[str, Any], Any]:
        if spec.status_method == "POST":
            answer = await self.request(
                "POST", spec.status, json_body={"_id": task_id}, idempotent=True
            )
        else:
            answer = await self.request("GET", spec.status.format(quote(task_id, safe="")))
        _raise_for(answer)
        data = answer.body["data"]
        if isinstance(data, list):
            if not data:
                raise TaskLost(answer.status, answer.body.get("code"), "no such task", answer.body)
            return data[0], answer.body
        return data, answer.body

    async def read(self, task_id: str, family: str | None = None) -> Status:  # type: ignore[override]
        family = family or self._families.get(task_id, "image2video")
        spec = self.families[family]
        row, body = await self._row(spec, task_id)
        state = row[spec.state_field]
        done = state in (spec.success, spec.failure)
        failure = None
        if state == spec.failure:
            failure = {name: row.get(name) for name in spec.failure_fields}
        return Status(
            state=state,
            terminal=done,
            succeeded=state == spec.success,
            result=row.get(spec.result_field),
            failure=failure,
            raw=body,
        )
