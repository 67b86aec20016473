"""What every reference client shares: one HTTP call with back-off, and the polling loop.

The three providers differ in paths, envelopes and state names, but a well-behaved client of
any of them does the same things: submit once, poll at the provider's pace, wait as long as a
429 asks (``Retry-After`` when given, growing pauses when not), stop at the first terminal
state, and treat "the provider forgot this task" as an answer, not a crash.

Time is injected: ``sleep`` defaults to :func:`asyncio.sleep`, and a test against the mock
passes one that advances the mock's virtual clock instead, so a ten-minute render takes no
wall time and the client's pacing is still visible in the mock's journal.
"""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Sleep = Callable[[float], Awaitable[None]]


class ProviderError(Exception):
    """The provider refused a request; ``code`` is its own error code."""

    def __init__(self, status: int, code: Any, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.body = status, code, message, body


class TaskLost(ProviderError):
    """The provider no longer knows the task (YouCam InvalidTaskId, relay task_not_exist).

    Polling it again cannot help: the task expired, was never this key's, or is too old.
    """


class GaveUp(Exception):
    """The client stopped waiting: too many refusals in a row, or the task took too long."""


@dataclass
class Status:
    """One reading of a task, in the provider's own words."""

    state: str
    terminal: bool
    succeeded: bool
    result: Any = None
    failure: dict[str, Any] | None = None
    raw: Any = None
    next_poll: float | None = None  # seconds, when the provider says when to ask again


@dataclass
class TaskResult:
    """How a task ended, and every state the client saw on the way."""

    task_id: str
    state: str
    succeeded: bool
    result: Any
    failure: dict[str, Any] | None
    states_seen: list[str] = field(default_factory=list)
    polls: int = 0


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def retry_after(headers: dict[str, str]) -> float | None:
    """``Retry-After`` in seconds (the delay-seconds form; providers here never send a date)."""
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(raw), 0.0) if raw is not None else None
    except ValueError:
        return None


class PollingClient(abc.ABC):
    """HTTP with back-off plus the submit-then-poll loop; subclasses speak one provider.

    ``pace`` is the provider's documented seconds between polls; ``max_wait`` bounds the total
    seconds spent waiting on one task; ``max_retries`` bounds refusals (429, 5xx, broken
    answers) in a row for one call.
    """

    pace: float = 2.0
    first_backoff: float = 1.0
    max_backoff: float = 60.0

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        pace: float | None = None,
        max_wait: float = 1800.0,
        max_retries: int = 10,  # 1+2+...+60+60 s: past a 300 s rate-limit window
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sleep = sleep
        self.max_wait = max_wait
        self.max_retries = max_retries
        if pace is not None:
            self.pace = pace
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> PollingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    # --- one call ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """One API call, retried while the provider asks the client to come back later.

        A 429 is always retried (the request was not processed). A 5xx or a broken answer is
        retried only for an idempotent call: retrying a submit could start (and charge) a
        second task.
        """
        idempotent = method == "GET" if idempotent is None else idempotent
        headers = {"Authorization": f"Bearer {self.api_key}"}
        pause = self.first_backoff
        for _ in range(self.max_retries + 1):
            try:
                async with self.session.request(
                    method, self.base_url + path, json=json_body, params=params, headers=headers
                ) as resp:
                    text = await resp.text()
                    answer = Answer(resp.status, _json_or_none(text), dict(resp.headers))
            except (TimeoutError, aiohttp.ClientError):
                if not idempotent:
                    raise
                answer = None
            if answer is not None and answer.status == 429:
                wait = retry_after(answer.headers)
                await self.sleep(pause if wait is None else wait)
                pause = min(pause * 2, self.max_backoff)
                continue
            broken = answer is None or answer.body is None or answer.status >= 500
            if broken and idempotent:
                await self.sleep(pause)
                pause = min(pause * 2, self.max_backoff)
                continue
            if answer is None:  # pragma: no cover - not idempotent re-raised above
                raise GaveUp(f"{method} {path}: no answer")
            return answer
        raise GaveUp(f"{method} {path}: still refused after {self.max_retries} retries")

    # --- the polling loop -------------------------------------------------------------------

    @abc.abstractmethod
    async def read(self, task_id: str, **where: Any) -> Status:
        """One reading of the task (provider-specific); raises TaskLost when it is gone.

        ``where`` is what wait() was told of where the task lives; each client takes only its
        own keyword (YouCam ``feature``, A2E ``family``, relay none), so its override is
        narrower than this and says so with ``type: ignore[override]``."""

    async def wait(self, task_id: str, **where: Any) -> TaskResult:
        """Poll at the provider's pace until the task ends; never poll a finished task again."""
        seen: list[str] = []
        waited = 0.0
        polls = 0
        while True:
            status = await self.read(task_id, **where)
            polls += 1
            if not seen or seen[-1] != status.state:
                seen.append(status.state)
            if status.terminal:
                return TaskResult(
                    task_id,
                    status.state,
                    status.succeeded,
                    status.result if status.succeeded else None,
                    status.failure,
                    seen,
                    polls,
                )
            pause = status.next_poll if status.next_poll else self.pace
            if waited + pause > self.max_wait:
                raise GaveUp(f"task {task_id} still {status.state} after {waited:g} s")
            await self.sleep(pause)
            waited += pause


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
