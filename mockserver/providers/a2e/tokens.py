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
from mockserver.providers.a2e.dialect import deleted, not_found, ok, unauthorized
from mockserver.providers.a2e.models import iso_ms
from mockserver.providers.a2e.routes import handles
from mockserver.providers.a2e.tasks import PROVIDER, hex24
from mockserver.state import MockState

STORE = "tokens"


def _tokens(state: MockState) -> dict[str, dict[str, Any]]:
    """token string -> {_id, tenant, alias, created_at}; deleted tokens are gone."""
    return state.stores[PROVIDER].setdefault(STORE, {})


def tenant_of(state: MockState, token: str) -> str | None:
    """The tenant a mock-issued token acts for, or None when the mock did not issue it."""
    entry = _tokens(state).get(token)
    return None if entry is None else entry["tenant"]


def was_deleted(state: MockState, token: str) -> bool:
    return token in state.stores[PROVIDER].setdefault("deleted_tokens", set())


def _issue(ctx: RequestContext, tenant: str, alias: str) -> dict[str, Any]:
    token = "sk_" + ctx.state.secrets.token_hex(20)
    entry = {"_id": hex24(ctx), "tenant": tenant, "alias": alias, "created_at": ctx.now}
    _tokens(ctx.state)[token] = entry
    return {"_id": entry["_id"], "token": token}


def _mask(token: str) -> str:
    return f"{token[:7]}…{token[-4:]}"


async def _login(ctx: RequestContext) -> dict[str, Any]:
    body = ctx.body
    account: str = body.get("username") or body["email"]  # the schema asks for one of them
    try:
        ctx.state.accounts.tenant(account)
    except UnknownKey as exc:
        raise unauthorized(int(ctx.settings.get("auth_error_status", 401))) from exc
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
    mine = [(t, e) for t, e in _tokens(ctx.state).items() if e["tenant"] == ctx.key]
    rows = [
        {
            "_id": e["_id"],
            "alias": e["alias"],
            "token": _mask(t),
            "createdAt": iso_ms(e["created_at"]),
        }
        for t, e in reversed(mine)
    ]
    return ok(ctx, rows)


@handles("deleteToken")
async def delete_token(ctx: RequestContext) -> dict[str, Any]:
    tokens = _tokens(ctx.state)
    wanted = ctx.body["_id"]
    for token, entry in tokens.items():
        if entry["_id"] == wanted and entry["tenant"] == ctx.key:
            del tokens[token]
            ctx.state.stores[PROVIDER].setdefault("deleted_tokens", set()).add(token)
            return deleted(ctx)
    raise not_found()
