"""A server process for the benchmarks: the mock with N live tasks, or the bare-aiohttp floor.

    python bench/server.py --port 8181 --mode mock --tasks 100000
    python bench/server.py --port 8182 --mode floor

Prints one line ``READY {json}`` (task ids to poll per provider, resident memory before and
after populating) on stdout, then serves until killed. Tasks are created through the real
submit handlers (planning, ids, balances, webhook plans), without HTTP parsing, so a million
of them take seconds rather than an hour of HTTP round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.app import create_app
from mockserver.cli import collection_paused
from mockserver.clock import VirtualClock
from mockserver.context import RequestContext
from mockserver.ids import hex_id, urlsafe_id
from mockserver.keys import STATE_KEY
from mockserver.registry import providers
from mockserver.scenario import parse_text
from mockserver.spec import load_operations
from mockserver.state import ServerOptions

TENANT = "sk-bench"


def bench_scenario(webhook_url: str | None) -> dict[str, Any]:
    """Limits raised so the benchmark measures the path, not refusals; everything else is on:
    auth, validation, rate limiting, the journal, the chaos engine (idle)."""
    huge = 1_000_000_000
    youcam_settings: dict[str, Any] = {"polling_window": None}
    scenario: dict[str, Any] = {
        "name": "bench",
        "balances": {"units": 1e12, "coins": 1e12, "quota": 1e12, "diamonds": 1e12},
        "journal": {"size": 10_000},
        "limits": {"max_tasks": None, "max_tasks_per_tenant": None},  # a million, one key
        "providers": {
            "youcam": {
                "settings": youcam_settings,
                "rate_limits": [
                    {"per": "key", "limit": huge, "window": 1},
                    {"per": "ip", "limit": huge, "window": 1},
                ],
                "families": {"ai-avatar": {"states": {"running": 36_000}}},
            },
            "relay": {
                "families": {
                    "avatar": {
                        "states": {
                            "NOT_START": 1,
                            "SUBMITTED": 1,
                            "QUEUED": 1,
                            "IN_PROGRESS": 36_000,
                        }
                    }
                }
            },
            "a2e": {
                "families": {
                    "image2video": {"states": {"sent": 1, "pending": 36_000}},
                    "video": {"states": {"init": 1, "start": 1, "pending": 36_000}},
                }
            },
        },
    }
    if webhook_url:
        youcam_settings["webhooks"] = [
            {"url": webhook_url, "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}
        ]
        scenario["webhooks"] = {"concurrency": 64, "retry_schedule": []}
    return scenario


# What a typical client submits, and the status path it then polls.
SUBMITS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "youcam": (
        "runAiAvatarTask",
        "/s2s/v2.0/task/ai-avatar",
        {
            "template_id": "female_manga_mood",
            "output_count": 4,
            "src_file_url": "https://cdn.example.com/users/1234/selfie-2026-11-24.jpg",
        },
        "/s2s/v2.0/task/ai-avatar/{id}",
    ),
    "relay": (
        "createAvatarGeneration",
        "/avatar/generation",
        {
            "avatar_url": "https://cdn.example.com/avatars/face-01.jpg",
            "audio_url": "https://cdn.example.com/audio/hello-world.mp3",
        },
        "/avatar/task/{id}",
    ),
    "a2e": (
        "postApiV1UserImage2VideoStart",
        "/api/v1/userImage2Video/start",
        {
            "name": "bench",
            "image_url": "https://cdn.example.com/faces/face-01.png",
            "prompt": "the person is speaking. Looking at the camera. static camera view point",
        },
        "/api/v1/userImage2Video/{id}",
    ),
}


# What a client submits to then read its status by POST (A2E's avatar videos: the id goes
# in the body of ``video/awsResult``), and that read's body with ``%s`` for the id.
POST_READ: tuple[str, str, str, dict[str, Any], str, str] = (
    "a2e",
    "postApiV1VideoGenerate",
    "/api/v1/video/generate",
    {
        "anchor_id": "63de16f26c6193fa4ca7a486",
        "anchor_type": 0,
        "audioSrc": "https://cdn.example.com/audio/hello-world.mp3",
    },
    "/api/v1/video/awsResult",
    '{"_id":"%s"}',
)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def populate(
    app: web.Application, count: int, webhook_url: str | None
) -> dict[str, list[str]]:
    """``count`` live tasks split over the three providers; a sample of ids per provider."""
    state = app[STATE_KEY]
    registered = providers()
    ids: dict[str, list[str]] = {name: [] for name in SUBMITS}
    per_provider = max(count // len(SUBMITS), 1) if count else 0
    for name, (op_id, path, body, _) in SUBMITS.items():
        provider = registered[name]
        op = next(o for o in load_operations(name) if o.operation_id == op_id)
        handler = provider.handlers[op_id]
        request = make_mocked_request(
            "POST", path, headers={"Authorization": f"Bearer {TENANT}", "Host": "127.0.0.1"}
        )
        for i in range(per_provider):
            ctx = RequestContext(
                request,
                state,
                provider,
                op,
                state.clock.now(),
                "0",
                str(uuid.UUID(int=i, version=4)),
            )
            ctx.key = TENANT
            ctx.body = dict(body)
            if webhook_url and name == "relay":
                ctx.body["notify_hook"] = webhook_url
            answer = await handler(ctx)
            if len(ids[name]) < 10_000:
                data = answer["data"]
                ids[name].append(
                    data if isinstance(data, str) else data.get("task_id") or data["_id"]
                )
    return ids


async def populate_reads(app: web.Application, count: int) -> list[str]:
    """``count`` A2E avatar videos made through the real submit handler: ids to read by POST."""
    name, op_id, path, body, _, _ = POST_READ
    state = app[STATE_KEY]
    provider = providers()[name]
    op = next(o for o in load_operations(name) if o.operation_id == op_id)
    handler = provider.handlers[op_id]
    request = make_mocked_request(
        "POST", path, headers={"Authorization": f"Bearer {TENANT}", "Host": "127.0.0.1"}
    )
    ids = []
    for i in range(count):
        trace = str(uuid.UUID(int=i, version=4))
        ctx = RequestContext(request, state, provider, op, state.clock.now(), "0", trace)
        ctx.key = TENANT
        ctx.body = dict(body)
        ids.append((await handler(ctx))["data"]["_id"])
    return ids


def floor_ids(count: int) -> dict[str, list[str]]:
    """Ids shaped like each provider's (YouCam 64 URL-safe, relay 32 hex, A2E 24 hex), as many
    as the mock is polled with: a floor polled on one path would enjoy URL caches (yarl's)
    that distinct task ids never hit."""
    rng = random.Random(0)
    return {
        "youcam": [urlsafe_id(rng, 64) for _ in range(count)],
        "relay": [hex_id(rng, 32) for _ in range(count)],
        "a2e": [hex_id(rng, 24) for _ in range(count)],
    }


def floor_app() -> web.Application:
    """Answers every status path with a fixed body of the same size and shape: the floor."""
    bodies = {
        "youcam": json.dumps(
            {"status": 200, "data": {"task_status": "running", "error": None, "results": None}}
        ).encode(),
        "relay": json.dumps(
            {
                "code": "success",
                "message": "",
                "data": {
                    "task_id": "0" * 32,
                    "notify_hook": "",
                    "action": "avatar-generate",
                    "status": "IN_PROGRESS",
                    "fail_reason": "",
                    "submit_time": 1,
                    "start_time": 1,
                    "finish_time": 0,
                    "progress": "10%",
                    "data": None,
                },
            }
        ).encode(),
        "a2e": json.dumps(
            {
                "code": 0,
                "data": {
                    "_id": "0" * 24,
                    "name": "bench",
                    "image_url": "https://cdn.example.com/f.png",
                    "prompt": "p" * 70,
                    "negative_prompt": "",
                    "current_status": "pending",
                    "coins": 100,
                    "createdAt": "2026-11-24T06:00:00.000Z",
                    "failed_message": "",
                    "failed_code": "",
                    "result_url": "",
                },
                "trace_id": str(uuid.UUID(int=1, version=4)),
            }
        ).encode(),
    }
    app = web.Application()
    for name, (_, _, _, status_path) in SUBMITS.items():
        body = bodies[name]

        async def answer(request: web.Request, body: bytes = body) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app.router.add_get(status_path.replace("{id}", "{task_id}"), answer)
    return app


# A2E's awsResult answer for a video just submitted, the shape and size the mock sends.
FLOOR_POST_BODY = json.dumps(
    {
        "code": 0,
        "data": [
            {
                "_id": "0" * 24,
                "msg": "",
                "result": "",
                "process": 0,
                "status": "init",
                "anchor_type": "0",
                "web_bg_width": 0,
                "web_bg_height": 0,
                "color": "",
                "result_people_url": "",
                "result_bg_url": "",
                "anchor_id": "63de16f26c6193fa4ca7a486",
                "replace_bg_id": "",
                "custom_backs_id": None,
                "createdAt": "2026-11-24T06:00:00.000Z",
                "diff_s": 0,
                "current_date": "2026-11-24 14:00:00",
            }
        ],
        "trace_id": str(uuid.UUID(int=1, version=4)),
    },
    separators=(",", ":"),
).encode()


def floor_post_app() -> web.Application:
    """Reads the POST body (the mock must, to find the id), parses nothing, answers a fixed
    body: the least an aiohttp server pays for a POST status read."""

    async def read(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=FLOOR_POST_BODY, content_type="application/json")

    app = web.Application()
    app.router.add_post(POST_READ[4], read)
    return app


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("mock", "floor"), default="mock")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--webhook-url", help="YouCam endpoint and relay notify_hook for tasks")
    parser.add_argument("--state", default="memory", help="the --state of avatar-mock serve")
    args = parser.parse_args()
    started = time.perf_counter()
    info: dict[str, Any] = {"mode": args.mode}
    if args.mode == "floor":
        app = floor_app()
        info["ids"] = floor_ids(10_000)
    else:
        scenario = parse_text(json.dumps(bench_scenario(args.webhook_url)), "bench")
        with collection_paused():  # as `avatar-mock serve` builds its app
            app = create_app(scenario, VirtualClock(speed=1.0), ServerOptions(state=args.state))
        gc.collect()
        info["rss_before_kib"] = rss_kib()
        if args.state != "memory":  # the store opened (and read back) first: the tasks go in
            runner = web.AppRunner(app, access_log=None)  # it, for a second replica to read
            await runner.setup()
        info["ids"] = await populate(app, args.tasks, args.webhook_url)
        persist = app[STATE_KEY].persist
        if persist is not None:
            await persist.flush()
        gc.collect()
        info["rss_after_kib"] = rss_kib()
        info["tasks"] = len(app[STATE_KEY].store)
    info["setup_s"] = round(time.perf_counter() - started, 3)
    if args.mode == "floor" or args.state == "memory":
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024).start()
    print("READY " + json.dumps(info), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
