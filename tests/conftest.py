"""Shared fixtures: an in-process mock on a frozen virtual clock, strict response checks.

Every test gets a fresh app. Strict mode validates every answer against its OpenAPI schema;
a contract violation fails the test at teardown even if the test did not look at that answer.
``AVATAR_MOCK_TEST_LOOP=uvloop`` runs the whole suite on uvloop (``serve``'s default where it
is installed) instead of the standard loop. ``AVATAR_MOCK_TEST_STATE=sqlite`` (a fresh file per
mock) or ``redis`` (``AVATAR_MOCK_REDIS_URL``, or a throwaway server; a fresh key prefix per
mock) runs the same tests with every mock on that state backend instead of memory.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mockserver.app import create_app
from mockserver.clock import VirtualClock
from mockserver.keys import STATE_KEY
from mockserver.scenario import Scenario, parse_text
from mockserver.state import MockState, ServerOptions

START = 1_750_000_000.0  # a fixed, realistic epoch so timestamps are reproducible
TEST_LOOP_ENV = "AVATAR_MOCK_TEST_LOOP"
TEST_STATE_ENV = "AVATAR_MOCK_TEST_STATE"
_redis_url: str | None = None  # the session's server when TEST_STATE_ENV is redis


def pytest_configure(config: pytest.Config) -> None:
    """The event loop every test runs on: pytest-asyncio's loops, and those the pytest plugin's
    background servers make, come from the global policy set here."""
    loop = os.environ.get(TEST_LOOP_ENV, "asyncio")
    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif loop != "asyncio":
        raise pytest.UsageError(f"{TEST_LOOP_ENV} must be asyncio or uvloop, not {loop!r}")
    backend = os.environ.get(TEST_STATE_ENV, "memory")
    if backend not in ("memory", "sqlite", "redis"):
        raise pytest.UsageError(
            f"{TEST_STATE_ENV} must be memory, sqlite or redis, not {backend!r}"
        )
    if backend == "redis":
        _start_test_redis(config)


def _start_test_redis(config: pytest.Config) -> None:
    """One Redis server for the whole run (each mock gets its own key prefix on it)."""
    from contextlib import ExitStack
    from pathlib import Path

    from tests.redis_server import SKIP_REASON, redis_server

    global _redis_url
    stack = ExitStack()
    _redis_url = stack.enter_context(redis_server(Path(tempfile.mkdtemp(prefix="redis-"))))
    if _redis_url is None:
        raise pytest.UsageError(f"{TEST_STATE_ENV}=redis: {SKIP_REASON}")
    config.add_cleanup(stack.close)


def _test_state() -> str:
    """The ``state`` option a test's mock runs on, from TEST_STATE_ENV."""
    backend = os.environ.get(TEST_STATE_ENV, "memory")
    if backend == "sqlite":
        return f"sqlite:{tempfile.mkdtemp(prefix='avatar-mock-')}/state.db"
    if backend == "redis":
        from tests.redis_server import with_prefix

        assert _redis_url is not None
        return with_prefix(_redis_url, f"t{uuid.uuid4().hex}:")
    return "memory"


@dataclass
class Mock:
    client: TestClient
    clock: VirtualClock
    state: MockState

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @staticmethod
    def auth(key: str = "sk-test") -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def call(
        self, method: str, path: str, key: str | None = "sk-test", **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        resp = await self.client.request(method, path, headers=headers, **kwargs)
        ctype = resp.content_type
        body = await resp.json() if ctype == "application/json" else await resp.read()
        return resp.status, body

    def local(self, url: str) -> str:
        """A URL the mock handed out, as a path this test client can request."""
        origin = str(self.client.make_url("/")).rstrip("/")
        assert url.startswith(origin), f"{url} does not point at the mock ({origin})"
        return url[len(origin) :]


async def start_mock(scenario: Scenario | None = None, **options: Any) -> tuple[Mock, TestClient]:
    clock = VirtualClock(start=START, speed=0.0)
    only = os.environ.get("AVATAR_MOCK_TEST_PROVIDERS")  # narrow while a provider is half-built
    if only and "providers" not in options:
        options["providers"] = tuple(only.split(","))
    options.setdefault("state", _test_state())
    app = create_app(scenario, clock, ServerOptions(strict=True, **options))
    client = TestClient(TestServer(app))
    await client.start_server()
    return Mock(client, clock, app[STATE_KEY]), client


@pytest.fixture
async def mock() -> AsyncIterator[Mock]:
    m, client = await start_mock()
    yield m
    violations = list(m.state.violations)
    await client.close()
    assert not violations, f"responses broke the contract: {violations}"


@pytest.fixture
async def make_mock() -> AsyncIterator[Any]:
    """Start mocks on custom scenarios (YAML text laid over the default) or options."""
    started: list[tuple[Mock, TestClient]] = []

    async def factory(scenario_yaml: str | None = None, **options: Any) -> Mock:
        scenario = parse_text(scenario_yaml) if scenario_yaml else None
        m, client = await start_mock(scenario, **options)
        started.append((m, client))
        return m

    yield factory
    problems = [v for m, _ in started for v in m.state.violations]
    for _, client in started:
        await client.close()
    assert not problems, f"responses broke the contract: {problems}"
