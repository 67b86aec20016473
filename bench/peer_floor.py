"""The floor for bench/peers.py: a bare aiohttp app answering fixed bodies on the two paths.

    python bench/peer_floor.py PORT GET_BODY_FILE POST_BODY_FILE [--loop asyncio|uvloop]
        [--workers N]

``--workers N`` serves from N processes on one port (SO_REUSEPORT), as ``avatar-mock serve
--workers N`` does: the floor bench/workers.py sets the mock's workers beside.

The bodies are the mock's own answers, recorded by bench/peers.py, so the floor sends the
same bytes. The POST handler reads the request body (the mock must, to find the id) and
parses nothing: what is left is aiohttp's cost, the least any aiohttp server pays.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

from aiohttp import web

GET_PATH = "/api/v1/userImage2Video/{task_id}"
POST_PATH = "/api/v1/video/awsResult"


def floor_app(get_body: bytes, post_body: bytes) -> web.Application:
    async def poll(request: web.Request) -> web.Response:
        return web.Response(body=get_body, content_type="application/json")

    async def read(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=post_body, content_type="application/json")

    app = web.Application()
    app.router.add_get(GET_PATH, poll)
    app.router.add_post(POST_PATH, read)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("get_body", type=Path)
    parser.add_argument("post_body", type=Path)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    reuse = args.workers > 1 or args.worker
    if args.workers > 1:  # the others are children of this one: they stop with its group
        argv = [sys.executable, __file__, *sys.argv[1:], "--worker"]
        argv[argv.index("--workers") + 1] = "1"
        children = [subprocess.Popen(argv) for _ in range(args.workers - 1)]
        assert children
    app = floor_app(args.get_body.read_bytes(), args.post_body.read_bytes())
    loop_factory = asyncio.new_event_loop
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_serve(app, args.port, reuse))


async def _serve(app: web.Application, port: int, reuse_port: bool) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    print("READY", flush=True, file=sys.stderr)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
