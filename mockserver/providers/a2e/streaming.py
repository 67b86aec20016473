"""Streaming avatar sessions: ``streaming-avatar/*`` (catalog §11; "Developing" in A2E's docs).

``agora-token {avatar_id, expire_seconds}`` opens a session and answers the four Agora join
parameters ``{appId, channel, token, uid}`` (D12, C9). Its coins are taken at once for the whole
requested duration (D12, D20) and ``leave`` gives back the unused part (D15, D20). A session is
live from the token until ``leave`` or its expiry; ``set-qa-context`` (at most 5,000
characters, D13), ``get-qa-context``, ``ask`` and ``speak`` need a live channel of the caller.
When the mock's hosts are all busy (``settings.streaming_capacity`` live sessions, across
tenants), ``agora-token`` answers ``code 1001`` "...hosts are occupied..." (C6), HTTP 200.

Choices where the catalog is silent, each [guess]:

- price: ``costs.streaming_per_minute`` coins per started minute of ``expire_seconds``
  (default 300 s; 15-3600 accepted), charged at token time; ``leave`` refunds every whole
  minute not yet begun. An expired session is not refunded (D15: coins keep being deducted
  until you leave).
- an unknown ``avatar_id`` is a 400; an unknown, foreign, expired or left channel is the 404
  of any unknown record; ``get-qa-context`` answers ``{text}`` (``""`` until set).
- ``all_avatars`` rows are ``{_id, name, gender, video_cover}``; ``appId`` is one 32-hex id per
  mock; ``channel`` is 24-hex; ``token`` is ``007`` + 64 hex; ``uid`` a positive integer.
- ``ask`` and ``speak`` answer ``{}`` (the reply travels over Agora, which the mock has not).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.a2e import billing
from mockserver.providers.a2e.dialect import bad_request, not_found, ok
from mockserver.providers.a2e.models import StreamingSession
from mockserver.providers.a2e.public_lists import PUBLIC_AVATARS
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.stores import StreamingSessions
from mockserver.providers.a2e.tasks import PROVIDER, hex24

HOSTS_OCCUPIED = 1001
DEFAULT_EXPIRE_SECONDS = 300
AVATAR_IDS = frozenset(a["_id"] for a in PUBLIC_AVATARS)


def _session(ctx: RequestContext, channel: str) -> StreamingSession:
    session = StreamingSessions.of(ctx.state).sessions.get(channel)
    if session is None or session.tenant != ctx.key or not session.live(ctx.now):
        raise not_found()
    return session


def _minutes(seconds: float) -> int:
    return math.ceil(seconds / 60)


@billing.quotes("streaming-avatar/agora-token")
def streaming_quote(ctx: RequestContext, body: dict[str, Any]) -> billing.Quote:
    seconds = body.get("expire_seconds", DEFAULT_EXPIRE_SECONDS)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 15 <= seconds <= 3600:
        raise bad_request("expire_seconds must be a whole number from 15 to 3600")
    per_minute = billing.cost_of(ctx, "streaming_per_minute")
    return {billing.COINS: _minutes(seconds) * per_minute}


@handles("listStreamingAvatars")
async def list_streaming_avatars(ctx: RequestContext) -> dict[str, Any]:
    links = ctx.state.links
    rows = [
        {**a, "video_cover": links.url(ctx.origin, "result.jpg", f"{a['_id']}_cover.jpg", None)}
        for a in PUBLIC_AVATARS
    ]
    return ok(ctx, rows)


@handles("getStreamingToken")
async def get_streaming_token(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    if body["avatar_id"] not in AVATAR_IDS:
        raise bad_request(f"unknown avatar_id {body['avatar_id']}")
    coins = streaming_quote(ctx, body)[billing.COINS]
    now = ctx.now
    capacity = ctx.settings.get("streaming_capacity")
    if capacity is not None and StreamingSessions.of(ctx.state).live(now) >= capacity:
        raise ApiError(
            200, HOSTS_OCCUPIED, "All streaming hosts are occupied, please try again later"
        )
    billing.pay(ctx, coins, "streaming")
    seconds = body.get("expire_seconds", DEFAULT_EXPIRE_SECONDS)
    rng = ctx.state.id_rng(PROVIDER)
    channel = hex24(ctx)
    started = StreamingSession(
        tenant=ctx.key, avatar_id=body["avatar_id"], started_at=now, expires_at=now + seconds
    )
    StreamingSessions.of(ctx.state).start(channel, started)
    app_id = hashlib.sha256(f"a2e-agora:{ctx.state.scenario.seed}".encode()).hexdigest()[:32]
    return ok(
        ctx,
        {
            "appId": app_id,
            "channel": channel,
            "token": "007" + ctx.state.secrets.token_hex(32),  # a secret: from the OS
            "uid": rng.randrange(1, 2**31),
        },
    )


@handles("setQaContext")
async def set_qa_context(ctx: RequestContext) -> dict[str, Any]:
    channel = ctx.body["channel"]
    _session(ctx, channel)
    StreamingSessions.of(ctx.state).set_context(channel, ctx.body["text"])
    return ok(ctx, {})


@handles("getQaContext")
async def get_qa_context(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, {"text": _session(ctx, ctx.params["channel"]).qa_context})


@handles("askStreamingAvatar")
async def ask_streaming_avatar(ctx: RequestContext) -> dict[str, Any]:
    _session(ctx, ctx.body["channel"])
    return ok(ctx, {})


@handles("speakStreamingAvatar")
async def speak_streaming_avatar(ctx: RequestContext) -> dict[str, Any]:
    _session(ctx, ctx.body["channel"])
    return ok(ctx, {})


@handles("leaveStreamingAvatar")
async def leave_streaming_avatar(ctx: RequestContext) -> dict[str, Any]:
    channel = ctx.body["channel"]
    _session(ctx, channel)
    now = ctx.now
    session = StreamingSessions.of(ctx.state).leave(channel, now)
    unused_minutes = math.floor((session.expires_at - now) / 60)
    refund = unused_minutes * billing.cost_of(ctx, "streaming_per_minute")
    if refund > 0:
        ctx.tenant.apply(billing.COINS, refund, now, "streaming refund")
    return ok(ctx, {})
