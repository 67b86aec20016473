"""Reference client for YouCam (Perfect Corp) s2s tasks: ``/s2s/v2.x/task/{feature}``.

Catalog: shared/research/youcam-s2s-api.md. Submit answers ``{"status": 200, "data":
{"task_id"}}``; a status read answers ``data.task_status`` in ``running | success | error``,
with ``results`` only on success and the engine code in ``data.error`` on error (still HTTP
200). A task not polled within the polling window is gone: the next read is 400
``InvalidTaskId``, raised here as :class:`TaskLost`. The official samples poll every 2 s; a
``data.polling_interval`` (milliseconds), when the server sends one, wins. 429 carries no
``Retry-After``, so the client backs off 1, 2, 4... s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from .base import Answer, PollingClient, ProviderError, Status, TaskLost

TERMINAL = ("success", "error")


def _raise_for(answer: Answer) -> None:
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 200 and body.get("status", 200) == 200:
        return
    code = body.get("error_code")
    message = str(body.get("error") or "")
    if code == "InvalidTaskId" or message == "Invalid task ID":
        raise TaskLost(answer.status, "InvalidTaskId", message, answer.body)
    raise ProviderError(answer.status, code, message, answer.body)


class YouCamClient(PollingClient):
    """Any YouCam feature: ``submit("ai-avatar", {...})`` then ``wait(task_id)``."""

    pace = 2.0

    def __init__(self, base_url: str, api_key: str, *, version: str = "v2.0", **kw: Any) -> None:
        super().__init__(base_url, api_key, **kw)
        self.version = version
        self._features: dict[str, str] = {}

    def _task_path(self, feature: str) -> str:
        return f"/s2s/{self.version}/task/{feature}"

    async def submit(self, feature: str, body: dict[str, Any]) -> str:
        """Start a task; not retried on 5xx (a second POST would be a second, charged task)."""
        answer = await self.request("POST", self._task_path(feature), json_body=body)
        _raise_for(answer)
        task_id = answer.body["data"]["task_id"]
        self._features[task_id] = feature
        return task_id

    async def read(self, task_id: str, feature: str | None = None) -> Status:  # type: ignore[override]
        feature = feature or self._features.get(task_id, "ai-avatar")
        path = f"{self._task_path(feature)}/{quote(task_id, safe='')}"
        answer = await self.request("GET", path)
        _raise_for(answer)
        data = answer.body["data"]
        state = data["task_status"]
        failure = None
        if state == "error":
            failure = {"error": data.get("error"), "error_message": data.get("error_message")}
        interval = data.get("polling_interval")
        return Status(
            state=state,
            terminal=state in TERMINAL,
            succeeded=state == "success",
            result=data.get("results"),
            failure=failure,
            raw=answer.body,
            next_poll=interval / 1000 if isinstance(interval, int | float) and interval else None,
        )

    async def delete(self, task_id: str) -> None:
        """Delete a finished task and its files."""
        answer = await self.request(
            "POST", f"/s2s/{self.version}/task/delete", json_body={"task_id": task_id}
        )
        _raise_for(answer)

    async def templates(self, feature: str, page_size: int = 20) -> AsyncIterator[dict[str, Any]]:
        """Every template of a feature, page by page until ``next_token`` is null."""
        token: str | None = None
        while True:
            params: dict[str, Any] = {"page_size": page_size}
            if token:
                params["starting_token"] = token
            answer = await self.request(
                "GET", f"/s2s/{self.version}/task/template/{feature}", params=params
            )
            _raise_for(answer)
            for template in answer.body["data"]["templates"]:
                yield template
            token = answer.body["data"].get("next_token")
            if not token:
                return

    async def upload(
        self, data: bytes, content_type: str, file_name: str, feature: str | None = None
    ) -> str:
        """The upload dance: reserve a slot, PUT the bytes with exactly its headers; file_id."""
        path = f"/s2s/{self.version}/file" + (f"/{feature}" if feature else "")
        spec = {"content_type": content_type, "file_name": file_name, "file_size": len(data)}
        answer = await self.request("POST", path, json_body={"files": [spec]}, idempotent=True)
        _raise_for(answer)
        slot = answer.body["data"]["files"][0]
        put = slot["requests"][0]
        async with self.session.request(
            put["method"], put["url"], data=data, headers=put["headers"]
        ) as resp:
            if resp.status >= 300:
                raise ProviderError(resp.status, "UploadFailed", await resp.text())
        return slot["file_id"]
