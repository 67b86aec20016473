"""pytest plugin: one in-process avatar-mock per test session, reset before every test.

Registered through the ``pytest11`` entry point, so installing avatar-mock is enough::

    async def test_my_client_gets_an_avatar(avatar_mock):
        client = MyClient(base_url=avatar_mock.base_url, api_key="sk-test")
        task_id = await client.start()
        avatar_mock.advance(600)                      # ten minutes pass, instantly
        assert (await client.status(task_id)) == "success"

The pattern is pytest-httpserver's: starting a server is the slow part, so the session starts one
(each pytest-xdist worker its own, on its own free port) and the function-scoped ``avatar_mock``
fixture only resets it: tasks, tenants, uploads, rate-limit windows, presets and the journal are
forgotten, the default scenario is put back and the virtual clock restarts at the same moment.
The server runs on a real socket in a background thread with its own event loop, so a client
under test may be sync or async, on any event loop, and talks to it over real HTTP.

Every method that touches the server's state runs on the server's loop (``MockServer.call``),
so a test never races a request being answered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import pytest
from aiohttp import web

from mockserver.accounts import read_balances
from mockserver.app import create_app
from mockserver.clock import VirtualClock
from mockserver.keys import STATE_KEY
from mockserver.scenario import Scenario, parse_text
from mockserver.scenario import load as load_scenario
from mockserver.server import GuardedRunner
from mockserver.state import MockState, ServerOptions
from mockserver.submit import force as force_task

START = 1_750_000_000.0  # every test starts at this virtual moment, so timestamps repeat
T = TypeVar("T")


def scenario_from(text_or_name: str | Scenario) -> Scenario:
    """A scenario from YAML text (laid over the default) or the name of a preset."""
    if isinstance(text_or_name, Scenario):
        return text_or_name
    text = text_or_name.strip()
    if "\n" in text or ":" in text or not text:
        return parse_text(text_or_name, "use_scenario")
    return load_scenario(preset=text)


class MockServer:
    """avatar-mock on a real port, served from a background thread with its own event loop.

    ``speed`` is the virtual clock's speed: 0 (the default) freezes time, so nothing moves
    until the test calls :meth:`advance`; 1 lets a client that sleeps in real time see tasks
    progress too.
    """

    def __init__(
        self,
        scenario: str | Scenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 0.0,
        strict: bool = False,
        providers: tuple[str, ...] | None = None,
    ) -> None:
        self._default = scenario_from(scenario) if scenario is not None else load_scenario()
        self._host, self._port, self._speed = host, port, speed
        self._options = ServerOptions(strict=strict, providers=providers, bind_host=host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self._scenario_replaced = False
        self.base_url = ""

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> MockServer:
        ready: Future[str] = Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="avatar-mock", daemon=True
        )
        self._thread.start()
        self.base_url = ready.result(timeout=30)
        return self

    def _serve(self, ready: Future[str]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # a port in use, a spec/handler mismatch...
            ready.set_exception(exc)
            return
        host, port = self._runner.addresses[0][:2]  # type: ignore[union-attr]
        ready.set_result(f"http://{host}:{port}")
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())  # type: ignore[union-attr]
        loop.close()

    async def _start_site(self) -> None:
        clock = VirtualClock(start=START, speed=self._speed)
        self._app = create_app(self._default, clock, self._options)
        self._runner = GuardedRunner(self._app)  # the limits ``avatar-mock serve`` has
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop = self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- reaching the state safely --------------------------------------------------------

    def call(self, fn: Callable[[MockState], T]) -> T:
        """Run ``fn(state)`` on the server's loop and return its result."""
        if self._loop is None or self._app is None:
            raise RuntimeError("the mock is not running; call start() first")
        app = self._app

        async def run() -> T:
            return fn(app[STATE_KEY])

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    async def deliver(self) -> None:
        """Send the webhooks that are due and wait for them, without blocking this loop
        (a receiver running on it must stay able to answer)."""
        if self._loop is None or self._app is None:
            raise RuntimeError("the mock is not running; call start() first")
        state = self._app[STATE_KEY]
        future = asyncio.run_coroutine_threadsafe(state.webhooks.flush(), self._loop)
        await asyncio.wrap_future(future)

    def restore(self) -> None:
        """Back to a fresh start: default scenario, clock at START, every store emptied."""

        def fresh(state: MockState) -> None:
            if self._scenario_replaced:
                state.replace_scenario(self._default)
                self._scenario_replaced = False
            state.clock = VirtualClock(start=START, speed=self._speed)
            state.reset()

        self.call(fresh)

    # --- what a test uses -----------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def now(self) -> float:
        return self.call(lambda s: s.clock.now())

    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new time (the clock refuses NaN,
        infinities and negatives with a ValueError)."""
        return self.call(lambda s: s.clock.advance(seconds))

    def journal(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        tenant: str | None = None,
        provider: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Requests the mock answered, oldest first (``path`` may end in ``*``)."""
        return self.call(
            lambda s: [
                dict(e)
                for e in s.journal.query(
                    method=method,
                    path=path,
                    operation=operation,
                    tenant=tenant,
                    provider=provider,
                    limit=limit,
                )
            ]
        )

    def use_scenario(self, text_or_name: str | Scenario) -> Scenario:
        """Put a scenario (YAML text laid over the default, or a preset name) in force.

        Live tasks keep their timelines; new tasks, tenants, limits and fault rules follow
        the new scenario. The next test gets the default back.
        """
        scenario = scenario_from(text_or_name)

        def replace(state: MockState) -> None:
            state.replace_scenario(scenario)
            self._scenario_replaced = True

        self.call(replace)
        return scenario

    def force(
        self,
        task_id: str,
        *,
        state: str | None = None,
        outcome: str | None = None,
        failure: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Put a live task in ``state``, or end it with ``outcome`` ("success" | "failure")."""
        if (state is None) == (outcome is None):
            raise ValueError("give state= or outcome=")

        def apply(s: MockState) -> dict[str, Any]:
            task = s.store.find(task_id)
            if task is None:
                raise KeyError(f"no task {task_id!r}")
            now = s.clock.now()
            if task.is_done(now):
                raise ValueError(f"task {task_id} already ended in {task.state(now)}")
            force_task(s, task, now, state_name=state, outcome=outcome, failure=failure)
            return s.describe_task(task, now)

        return self.call(apply)

    def task(self, task_id: str) -> dict[str, Any] | None:
        """The control API's view of a task (its planned timeline, its state now)."""

        def describe(s: MockState) -> dict[str, Any] | None:
            task = s.store.find(task_id)
            return None if task is None else s.describe_task(task, s.clock.now())

        return self.call(describe)

    def set_balances(self, key: str, **balances: float) -> None:
        """Give tenant ``key`` these balances (e.g. ``units=0`` to test CreditInsufficiency).

        Each is a finite amount from 0 to numbers.MAX_BALANCE in a known currency; anything
        else raises NumberError (a ValueError) here, before any balance is set.
        """
        amounts = read_balances(balances)

        def apply(s: MockState) -> None:
            s.accounts.listed.setdefault(key, {})
            tenant = s.accounts.tenant(key)
            now = s.clock.now()
            for currency, value in amounts.items():
                tenant.set_balance(currency, value, now, s.accounts.next_seq, "test set balance")

        self.call(apply)

    @property
    def violations(self) -> list[dict[str, Any]]:
        """Answers that broke the contract (recorded in strict mode)."""
        return self.call(lambda s: list(s.violations))


# --- pytest wiring -----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("avatar_mock_scenario", "scenario for the avatar_mock fixture: preset or file")
    parser.addini("avatar_mock_speed", "virtual clock speed (default 0: frozen)", default="0")
    parser.addini(
        "avatar_mock_strict", "validate every answer of the mock (default false)", type="bool"
    )


def _session_scenario(config: pytest.Config) -> Scenario | None:
    value = str(config.getini("avatar_mock_scenario") or "").strip()
    if not value:
        return None
    path = config.rootpath / value
    return load_scenario(path) if path.is_file() else scenario_from(value)


@pytest.fixture(scope="session")
def avatar_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's server (under xdist: the worker's), started on first use."""
    server = MockServer(
        _session_scenario(pytestconfig),
        speed=float(pytestconfig.getini("avatar_mock_speed") or 0),
        strict=bool(pytestconfig.getini("avatar_mock_strict")),
    )
    with server:
        yield server


@pytest.fixture
def avatar_mock(avatar_mock_server: MockServer) -> MockServer:
    """The session's server, reset to a fresh start for this test."""
    avatar_mock_server.restore()
    return avatar_mock_server
