"""The server under test: a base URL, a key, and whether it is the mock.

Against the mock (``GET /__mock/health`` answers) the suite moves time with
``POST /__mock/clock/advance``: a client's ``sleep(5)`` becomes five virtual seconds, so a
render of minutes is checked in milliseconds. Against a real provider the same clients sleep in
real time, at the provider's documented pace.

The suite's tests are plain functions; the HTTP calls run on one event loop owned here, so the
suite needs neither pytest-asyncio nor any other plugin.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from ..clients.a2e import A2EClient
from ..clients.base import PollingClient, retry_after
from ..clients.relay import RelayClient
from ..clients.youcam import YouCamClient

T = TypeVar("T")
CLIENTS: dict[str, type[PollingClient]] = {
    "youcam": YouCamClient,
    "relay": RelayClient,
    "a2e": A2EClient,
}
NO_KEY = object()
RATE_LIMIT_RETRIES = 14  # 1+2+...+64+64... s: more than one 300 s window
FUNDS = {"units": 1e6, "coins": 1e6, "diamonds": 1e6, "quota": 1e6}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    text: str


class Target:
    def __init__(
        self,
        provider: str,
        base_url: str,
        api_key: str,
        *,
        kind: str = "auto",
        allow_spend: bool = False,
        poll_timeout: float = 1800.0,
        other_api_key: str | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.allow_spend = allow_spend
        self.poll_timeout = poll_timeout
        self.loop = asyncio.new_event_loop()
        self.session = self.run(self._session())
        self.health = self._health() if kind in ("auto", "mock") else None
        if kind == "mock" and self.health is None:
            raise RuntimeError(f"{self.base_url} has no /__mock/ control API; is it the mock?")
        self.is_mock = self.health is not None
        self.can_advance = self.is_mock and self._clock_mode() == "virtual"
        self.other_api_key = other_api_key or (f"{api_key}-other" if self.is_mock else None)
        self.cache: dict[Any, Any] = {}  # answers worth reading once (template lists)
        if self.is_mock:
            self.fund(api_key)

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.close()

    # --- plain calls ------------------------------------------------------------------------

    async def acall(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        key: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request; a 429 is waited out (``Retry-After``, else 1, 2, 4... s up to 64 s),
        because the suite must keep to the documented limits (YouCam: 250 per 300 s) and a
        429 is "come back later", not the answer a check is about."""
        sent = dict(headers or {})
        key = self.api_key if key is None else key
        if key is not NO_KEY:
            sent["Authorization"] = f"Bearer {key}"
        pause = 1.0
        for _ in range(RATE_LIMIT_RETRIES):
            reply = await self._once(method, path, json_body, params, sent)
            if reply.status != 429:
                return reply
            await self.sleep(retry_after(reply.headers) or pause)
            pause = min(pause * 2, 64.0)
        return reply

    async def _once(
        self, method: str, path: str, json_body: Any, params: Any, headers: dict[str, str]
    ) -> Reply:
        async with self.session.request(
            method, self.base_url + path, json=json_body, params=params, headers=headers
        ) as resp:
            text = await resp.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = None
            return Reply(resp.status, body, dict(resp.headers), text)

    def call(self, method: str, path: str, **kw: Any) -> Reply:
        return self.run(self.acall(method, path, **kw))

    # --- the mock's control API -------------------------------------------------------------

    def _health(self) -> dict[str, Any] | None:
        try:
            reply = self.call("GET", "/__mock/health", key=NO_KEY)
        except aiohttp.ClientError:
            return None
        ok = reply.status == 200 and isinstance(reply.body, dict) and "providers" in reply.body
        return reply.body if ok else None

    def _clock_mode(self) -> str | None:
        reply = self.call("GET", "/__mock/clock", key=NO_KEY)
        return reply.body.get("mode") if reply.status == 200 else None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.call(method, f"/__mock{path}", json_body=body, key=NO_KEY)
        if reply.status >= 400:
            raise RuntimeError(f"control API {method} {path}: {reply.status} {reply.text}")
        return reply.body

    def fund(self, key: str) -> str:
        """On the mock, give ``key`` enough of every currency for the whole suite.

        Each task family is run a few times; the default balances are sized for a person
        trying the mock, not for a suite starting 200 tasks.
        """
        self.admin("PUT", f"/tenants/{key}", {"balances": FUNDS})
        return key

    def key(self, purpose: str) -> str:
        """A key of its own for one kind of check (the mock accepts any key), funded once."""
        key = f"{self.api_key}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', purpose)}"
        if ("funded", key) not in self.cache:
            self.cache[("funded", key)] = self.fund(key)
        return key

    def setting(self, name: str) -> Any:
        """A provider setting of the mock's scenario in force (e.g. the polling window)."""
        scenario = self.admin("GET", "/scenario")["scenario"]
        return (
            ((scenario.get("providers") or {}).get(self.provider) or {})
            .get("settings", {})
            .get(name)
        )

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass: on the mock's virtual clock when it has one, else for real."""
        if self.can_advance:
            reply = await self.acall(
                "POST", "/__mock/clock/advance", json_body={"seconds": seconds}, key=NO_KEY
            )
            if reply.status != 200:
                raise RuntimeError(f"cannot advance the mock's clock: {reply.text}")
        else:
            await asyncio.sleep(seconds)

    # --- reference clients ------------------------------------------------------------------

    def client(self, key: str | None = None, **kw: Any) -> PollingClient:
        """The provider's reference client, on this target's session and clock."""
        cls = CLIENTS[self.provider]
        return cls(
            self.base_url,
            key or self.api_key,
            session=self.session,
            sleep=self.sleep,
            max_wait=self.poll_timeout,
            **kw,
        )
