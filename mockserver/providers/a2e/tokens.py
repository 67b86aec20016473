"""Login and API tokens: ``login/account`` (with and without ``/v1``), ``token/generate``,
``token/list``, ``token/delete`` (catalog §2).

The older doc generation logs in with a username and password for a "login token", which
then makes API tokens (D16). On the mock an account is a tenant: ``login/account`` answers a
token for the tenant whose API key is the ``username`` (or ``email``), so logging in as
``sk-test`` acts on the same coins and tasks as ``Authorization: Bearer sk-test``. Every token
the mock issues authenticates as its tenant until it is deleted; a deleted token is refused
like any unknown one (catalog §2.3; the issue: "a deleted token no longer authenticates").

Choices where the catalog is silent, each [guess]:

- ``login/account {username|email, password}`` needs no bearer; any password is accepted; in a
  scenario with ``auth.mode: listed`` the username must be a listed key (else the 401).
  It answers ``{token, _id}``.
- tokens look like ``sk_`` + 40 hex, drawn from the OS (never from the seed, so no tenant can
  compute another's); ``token/generate {alias}`` answers ``{_id, token}`` (D16);
  ``token/list`` answers ``[{_id, alias, token, createdAt}]`` newest first, with the token
  masked (``sk_1a2b…9f0e``); ``token/delete {_id}`` answers ``{}``; an unknown, foreign or
  deleted ``_id`` is the 404 of any unknown record.
- the login token itself is listed with alias ``login``.
"""

from __future__ import annotations

from typing import Any

from mockserver.accounts import UnknownKey
from mockserver.context import RequestContext
from mockserver.providers.a2e.auth import refusal
from mockserver.providers.a2e.dialect import deleted, not_found, ok
from mockserver.providers.a2e.models import ApiToken, iso_ms
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.stores import ApiTokens
from mockserver.providers.a2e.tasks import hex24


def _issue(ctx: RequestContext, tenant: str, alias: str) -> dict[str, Any]:
    token = "sk_" + ctx.state.secrets.token_hex(20)
    issued = ApiToken(hex24(ctx), tenant, alias, ctx.now)
    ApiTokens.of(ctx.state).issue(token, issued)
    return {"_id": issued.id, "token": token}


def _mask(token: str) -> str:
    return f"{token[:7]}…{token[-4:]}"


async def _login(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    account: str = body.get("username") or body["email"]  # the schema asks for one of them
    try:
        ctx.state.accounts.tenant(account)
    except UnknownKey as exc:
        raise refusal(ctx) from exc
    return ok(ctx, _issue(ctx, account, "login"))


@handles("loginAccount")
async def login_account(ctx: RequestContext) -> dict[str, Any]:
    return await _login(ctx)


@handles("loginAccountV1")
async def login_account_v1(ctx: RequestContext) -> dict[str, Any]:
    return await _login(ctx)


@handles("generateToken")
async def generate_token(ctx: RequestContext) -> dict[str, Any]:
    return ok(ctx, _issue(ctx, ctx.key, ctx.body["alias"]))


@handles("listTokens")
async def list_tokens(ctx: RequestContext) -> dict[str, Any]:
    mine = ApiTokens.of(ctx.state).of_tenant(ctx.key)
    rows = [
        {"_id": e.id, "alias": e.alias, "token": _mask(t), "createdAt": iso_ms(e.created_at)}
        for t, e in reversed(mine)
    ]
    return ok(ctx, rows)


@handles("deleteToken")
async def delete_token(ctx: RequestContext) -> dict[str, Any]:
    if not ApiTokens.of(ctx.state).delete(ctx.key, ctx.body["_id"]):
        raise not_found()
    return deleted(ctx)
