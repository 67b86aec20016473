"""The servers bench/cpu_gap.py compares: the mock and the floor, each with one thing changed.

    python bench/gap_server.py VARIANT PORT BODY_FILE

Variants (all served through the mock's own ``GuardedRunner``, as ``avatar-mock serve``
serves, on the standard loop, with the collector frozen after start-up as ``serve`` does):

- ``floor``: a bare aiohttp app answering BODY_FILE at A2E's poll path (bench/peer_floor.py's).
- ``python-N``: the floor whose handler first runs a pure-Python loop of N additions, so the
  cost of Python work of a known size, in serving, can be read off beside its cost alone.
- ``mock``: the mock as ``avatar-mock serve --provider a2e`` builds it (bench/peer_servers.py's
  scenario).
- ``mock-without-PART[-PART...]``: the mock with parts of a poll's work replaced by a constant
  stand-in, once ``POST /__gap/on`` is called (after the tasks are made, which need the real
  parts). PART is one of :data:`PARTS`. This is a measuring device, not a way to serve: the
  answers are wrong on purpose (the same row for every task, no journal, a fixed trace id).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import peer_floor  # noqa: E402
import peer_servers as ps  # noqa: E402
from aiohttp import web  # noqa: E402

ON = [False]  # the stand-ins act once this is set (POST /__gap/on)
FIXED_TRACE = "3b0e6b6c-0000-4000-8000-000000000000"


def _swap_code(func: Any, stand_in: Callable[..., Any]) -> None:
    """Make ``func`` (already captured by the mock's tables) call ``stand_in`` once ON, and
    its own original code before."""
    original = types.FunctionType(func.__code__, func.__globals__, func.__name__)
    func.__globals__[f"_gap_original_{func.__name__}"] = original
    func.__globals__[f"_gap_stand_in_{func.__name__}"] = stand_in
    func.__globals__["_gap_on"] = ON
    name = func.__name__
    src = (
        f"def {name}(*args):\n"
        f"    if _gap_on[0]:\n"
        f"        return _gap_stand_in_{name}(*args)\n"
        f"    return _gap_original_{name}(*args)\n"
    )
    scope: dict[str, Any] = {}
    exec(src, func.__globals__, scope)  # compiled against the module's own globals
    func.__code__ = scope[name].__code__


def _without_row() -> None:
    from mockserver.providers.a2e import models

    row: dict[str, Any] = {}

    def stand_in(task: Any, view: Any) -> dict[str, Any]:
        if not row:  # the first task's real row, for every task from then on
            ON[0] = False
            row.update(models.image2video_row(task, view))
            ON[0] = True
        return row

    _swap_code(models.image2video_row, stand_in)


def _without_encode() -> None:
    import orjson

    from mockserver import pipeline

    dumps, body = orjson.dumps, [b""]

    class Encoder:
        JSONEncodeError = orjson.JSONEncodeError

        @staticmethod
        def dumps(payload: Any) -> bytes:
            if not ON[0]:
                return dumps(payload)
            if not body[0]:
                body[0] = dumps(payload)
            return body[0]

    pipeline.orjson = Encoder  # type: ignore[assignment]  # read when endpoints are made


def _without_trace() -> None:
    from mockserver.context import RequestContext

    real = RequestContext.trace_id.fget  # type: ignore[attr-defined]
    RequestContext.trace_id = property(  # type: ignore[method-assign,assignment]
        lambda self: FIXED_TRACE if ON[0] else real(self)
    )


def _without_journal() -> None:
    from mockserver import pipeline

    real = pipeline.journal
    pipeline.journal = lambda ctx, response, started: (  # type: ignore[assignment]
        None if ON[0] else real(ctx, response, started)
    )


def _without_auth() -> None:
    from mockserver.providers.a2e import auth

    _swap_code(auth.authenticate, lambda ctx: ps.KEY)


PARTS: dict[str, Callable[[], None]] = {
    "row": _without_row,  # the task's row (image2video_row)
    "encode": _without_encode,  # orjson of the answer
    "trace": _without_trace,  # the seeded trace id
    "journal": _without_journal,  # the journal entry
    "auth": _without_auth,  # A2E's bearer check and token lookup
}


def floor_app(body: bytes, loop_adds: int) -> web.Application:
    """bench/peer_floor.py's app; with ``loop_adds``, its poll runs that loop first."""
    if not loop_adds:
        return peer_floor.floor_app(body, body)

    async def poll_after_python(request: web.Request) -> web.Response:
        total = 0
        for i in range(loop_adds):
            total += i
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(peer_floor.GET_PATH, poll_after_python)
    return app


def mock_app(workdir: Path) -> web.Application:
    from mockserver.app import create_app
    from mockserver.clock import make_clock
    from mockserver.scenario import load
    from mockserver.state import ServerOptions

    config = workdir / "gap-scenario.json"
    config.write_text(json.dumps(ps.mock_scenario()))
    return create_app(
        load(str(config)), make_clock("virtual", 1.0), ServerOptions(providers=("a2e",))
    )


def build(variant: str, body: bytes, workdir: Path) -> web.Application:
    if variant == "floor":
        return floor_app(body, 0)
    if variant.startswith("python-"):
        return floor_app(body, int(variant.split("-", 1)[1]))
    if variant == "mock" or variant.startswith("mock-without-"):
        for part in variant.removeprefix("mock").removeprefix("-without-").split("-"):
            if part:
                PARTS[part]()  # before the app: some are read as the endpoints are made
        return mock_app(workdir)
    raise SystemExit(f"unknown variant {variant!r}")


async def _serve(app: web.Application, port: int) -> None:
    from mockserver.server import ConnectionLimits, GuardedRunner

    async def on(request: web.Request) -> web.Response:
        ON[0] = True
        return web.Response(text="on")

    app.router.add_post("/__gap/on", on)  # before any catch-all: a static path is found first
    runner = GuardedRunner(app, ConnectionLimits())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.freeze()  # as serve does once started
    await asyncio.Event().wait()


def main() -> None:
    variant, port, body_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    app = build(variant, body_file.read_bytes(), body_file.parent)
    asyncio.run(_serve(app, port))


if __name__ == "__main__":
    main()
