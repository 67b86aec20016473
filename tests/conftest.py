"""Shared fixtures: an in-process mock on a frozen virtual clock, strict response checks.

Every test gets a fresh app. Strict mode validates every answer against its OpenAPI schema;
a contract violation fails the test at teardown even if the test did not look at that answer.
``AVATAR_MOCK_TEST_LOOP=uvloop`` runs the whole suite on uvloop (``serve``'s default where it
is installed) instead of the standard loop. ``AVATAR_MOCK_TEST_STATE=sqlite`` (a fresh file per
mock) or ``redis`` (``AVATAR_MOCK_REDIS_URL``, or a throwaway server; a fresh key prefix per
mock) runs the same tests with every mock on that state backend instead of memory. A test
(or module, ``pytestmark``) marked ``backends`` runs once per backend in every run: the
behavioural tests a user of each backend depends on, parametrised, not copied.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
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
BACKENDS = ("memory", "sqlite", "redis")
SHARED = ("sqlite", "redis")  # the backends that outlive a process, which replicas share


def pytest_configure(config: pytest.Config) -> None:
    """The event loop every test runs on: pytest-asyncio's loops, and those the pytest plugin's
    background servers make, come from the global policy set here."""
    loop = os.environ.get(TEST_LOOP_ENV, "asyncio")
    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif loop != "asyncio":
        raise pytest.UsageError(f"{TEST_LOOP_ENV} must be asyncio or uvloop, not {loop!r}")
    backend = _env_backend()
    if backend == "redis" and _redis_url() is None:
        from tests.redis_server import SKIP_REASON

        raise pytest.UsageError(f"{TEST_STATE_ENV}=redis: {SKIP_REASON}")


def pytest_unconfigure(config: pytest.Config) -> None:
    _redis_stack.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``backends`` runs once per backend (its mocks take ``state_backend``)."""
    marked = metafunc.definition.get_closest_marker("backends") is not None
    if marked and "state_backend" in metafunc.fixturenames:
        metafunc.parametrize("state_backend", BACKENDS, indirect=True)


def _env_backend() -> str:
    backend = os.environ.get(TEST_STATE_ENV, "memory")
    if backend not in BACKENDS:
        raise pytest.UsageError(f"{TEST_STATE_ENV} must be one of {BACKENDS}, not {backend!r}")
    return backend


_redis_stack = ExitStack()
_redis: dict[str, str | None] = {}


def _redis_url() -> str | None:
    """This process's Redis for the tests, started on first use (None: none to be had)."""
    if "url" not in _redis:
        from tests.redis_server import redis_server

        workdir = Path(tempfile.mkdtemp(prefix="redis-"))
        _redis["url"] = _redis_stack.enter_context(redis_server(workdir))
    return _redis["url"]


def state_url(backend: str) -> str:
    """The ``state`` option of one mock on ``backend``: a fresh sqlite file, or a fresh key
    prefix on the session's Redis (the test skips when there is no Redis to be had)."""
    if backend == "sqlite":
        return f"sqlite:{tempfile.mkdtemp(prefix='avatar-mock-')}/state.db"
    if backend == "redis":
        from tests.redis_server import SKIP_REASON, with_prefix

        url = _redis_url()
        if url is None:
            pytest.skip(SKIP_REASON)
        return with_prefix(url, f"t{uuid.uuid4().hex}:")
    return "memory"


@pytest.fixture(params=SHARED)
def store_url(request: pytest.FixtureRequest) -> str:
    """One store the replicas of a test share: each backend that outlives a process."""
    return state_url(request.param)


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
    if "state" not in options:
        options["state"] = state_url(_env_backend())
    app = create_app(scenario, clock, ServerOptions(strict=True, **options))
    client = TestClient(TestServer(app))
    await client.start_server()
    return Mock(client, clock, app[STATE_KEY]), client


@asynccontextmanager
async def replicas(
    store: str, scenario: Scenario | None = None, **options: Any
) -> AsyncIterator[tuple[Mock, Mock]]:
    """Two mocks (replicas A and B) on one state store ``store``, closed on the way out."""
    a, client_a = await start_mock(scenario, state=store, **options)
    b, client_b = await start_mock(scenario, state=store, **options)
    try:
        yield a, b
    finally:
        await client_a.close()
        await client_b.close()


@pytest.fixture
def state_backend(request: pytest.FixtureRequest) -> str:
    """The backend this test's mocks run on: its ``backends`` parameter, else the one
    AVATAR_MOCK_TEST_STATE names (memory by default)."""
    return str(getattr(request, "param", None) or _env_backend())


@pytest.fixture
async def mock(state_backend: str) -> AsyncIterator[Mock]:
    m, client = await start_mock(state=state_url(state_backend))
    yield m
    violations = list(m.state.violations)
    await client.close()
    assert not violations, f"responses broke the contract: {violations}"


@pytest.fixture
async def make_mock(state_backend: str) -> AsyncIterator[Any]:
    """Start mocks on custom scenarios (YAML text laid over the default) or options."""
    started: list[tuple[Mock, TestClient]] = []

    async def factory(scenario_yaml: str | None = None, **options: Any) -> Mock:
        scenario = parse_text(scenario_yaml) if scenario_yaml else None
        options.setdefault("state", state_url(state_backend))
        m, client = await start_mock(scenario, **options)
        started.append((m, client))
        return m

    yield factory
    problems = [v for m, _ in started for v in m.state.violations]
    for _, client in started:
        await client.close()
    assert not problems, f"responses broke the contract: {problems}"
