"""YouCam's legacy v1 token exchange, ``POST /s2s/v1.0/client/auth``, and the tokens it issues.

The client encrypts ``client_id=<id>&timestamp=<epoch ms>`` with its console "secret key" (a
1024-bit RSA public key) using PKCS#1 v1.5, base64-encodes it and sends it as ``id_token``
with its ``client_id`` [CODE C1, C2]. The mock holds the private half of a test pair from
fixtures/keys, named per client by ``settings.v1_auth``. The answer uses ``result``, not
``data``: ``{"status": 200, "result": {"access_token": ...}}``. The token is a Bearer for the
v1 credit endpoints and for every v2 endpoint [CODE C1] for ``token_ttl`` seconds on the mock
clock (two hours, as clients report), then answers 401 InvalidAccessToken.

The token acts for the client's own tenant, ``youcam-v1 <client_id>`` (:func:`v1_tenant`),
not for the tenant of an API key spelled like the client_id: the client_id travels in plain
text, so taking it as a Bearer must not reach the client's tasks and credit. The space in the
name keeps it out of reach of every Bearer (a bearer key never holds one, ``auth._key_in``);
the control API addresses it as ``/__mock/tenants/youcam-v1%20<client_id>``, the pytest
plugin by ``v1_tenant(client_id)``, a scenario's ``webhooks`` entry by that name. It starts
with the balances ``auth.tenants`` gives the client_id. Tokens come from the OS
(mockserver/issuer.py), never from the seed.

Refusals [GUESS: the catalog records only InvalidAccessToken for v1]: an unknown client is
401 InvalidApiKey; an id_token that does not decrypt with the client's key, names another
client, or carries a timestamp outside ``timestamp_tolerance`` seconds of the wall clock is 401
InvalidAccessToken; a body without both fields is 400 InvalidParameters (schema).
"""

from __future__ import annotations

import base64
import binascii
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mockserver.context import RequestContext
from mockserver.errors import ApiError
from mockserver.providers.youcam.dialect import UNAUTHORIZED_MESSAGE
from mockserver.providers.youcam.models import AccessToken
from mockserver.providers.youcam.routes import handles
from mockserver.providers.youcam.stores import TokenStore
from mockserver.resources import fixtures_dir
from mockserver.state import MockState

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

V1_TENANT = "youcam-v1 "  # a space: no Bearer can name this tenant
DEFAULTS: dict[str, Any] = {
    "default_key": "youcam_test",
    "clients": {},
    "token_ttl": 7200,
    "timestamp_tolerance": 300,
}
MAX_TOKENS = 10_000  # expired tokens beyond this are forgotten (they answer like unknown keys)


def v1_tenant(client_id: str) -> str:
    """The tenant a v1 client's access tokens act for (see the module docstring)."""
    return V1_TENANT + client_id


def _open_tenant(state: MockState, client_id: str) -> str:
    """The client's tenant, opened the first time with the balances of its client_id."""
    tenant = v1_tenant(client_id)
    accounts = state.accounts
    if accounts.existing(tenant) is None:
        accounts.listed.setdefault(tenant, dict(accounts.listed.get(client_id) or {}))
        accounts.tenant(tenant)
    return tenant


def settings(state: MockState) -> dict[str, Any]:
    raw = state.scenario.providers["youcam"].settings.get("v1_auth") or {}
    return {**DEFAULTS, **raw}


def key_path(name: str) -> Path:
    """A key pair name from fixtures/keys, or a path to a private key PEM."""
    if name.endswith(".pem"):
        return Path(name)
    return fixtures_dir() / "keys" / f"{name}_private.pem"


@cache
def private_key(name: str) -> rsa.RSAPrivateKey:
    # imported here: cryptography costs ~70 ms of start-up, and only v1 auth needs it
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(key_path(name).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - we ship RSA keys only
        raise ValueError(f"{name} is not an RSA private key")
    return key


def wall_now() -> float:
    """The wall clock, in epoch seconds: what the client stamps its id_token with.

    Never the mock clock: a client cannot know how far ``clock/advance`` or ``--speed`` moved
    it, so an id_token is checked against the clock the client has. The token it buys expires
    on the mock clock (``token_ttl``), since the token is the mock's own state."""
    return time.time()


def _refuse_token(detail: str) -> ApiError:
    return ApiError(401, "InvalidAccessToken", f"Invalid id_token: {detail}")


def _key_for(ctx: RequestContext, client_id: str) -> str:
    cfg = settings(ctx.state)
    name = (cfg.get("clients") or {}).get(client_id) or cfg.get("default_key")
    if not name or not ctx.state.accounts.known(client_id):
        raise ApiError(401, "InvalidApiKey", UNAUTHORIZED_MESSAGE)
    return name


def _decrypt(key_name: str, id_token: str) -> dict[str, str]:
    try:
        cipher = base64.b64decode(id_token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refuse_token("not base64") from exc
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        plain = private_key(key_name).decrypt(cipher, padding.PKCS1v15())
        fields = dict(parse_qsl(plain.decode("utf-8"), strict_parsing=True))
    except (ValueError, UnicodeDecodeError) as exc:
        # a wrong key either fails or (implicit rejection) yields bytes that do not parse
        raise _refuse_token("it does not decrypt with this client's key") from exc
    return fields


@handles("authenticateClient")
async def client_auth(ctx: RequestContext) -> dict[str, Any]:
    client_id = ctx.body["client_id"]
    key_name = _key_for(ctx, client_id)
    fields = _decrypt(key_name, ctx.body["id_token"])
    if fields.get("client_id") != client_id:
        raise _refuse_token("it names another client_id")
    try:
        stamp_ms = int(fields.get("timestamp", ""))
    except ValueError as exc:
        raise _refuse_token("timestamp is not epoch milliseconds") from exc
    cfg = settings(ctx.state)
    if abs(wall_now() * 1000 - stamp_ms) > float(cfg["timestamp_tolerance"]) * 1000:
        raise _refuse_token("timestamp is too far from now (epoch milliseconds expected)")
    token = ctx.state.secrets.token_urlsafe(64)
    tenant = _open_tenant(ctx.state, client_id)
    issued = AccessToken(client_id, tenant, ctx.now, ctx.now + float(cfg["token_ttl"]))
    TokenStore.of(ctx.state).issue(token, issued, ctx.now, MAX_TOKENS)
    return {"status": 200, "result": {"access_token": token}}


def token_tenant(state: MockState, token: str, now: float) -> str | None:
    """The tenant an issued token acts for; ApiError when it has expired; None if unknown."""
    record = TokenStore.of(state).get(token)
    if record is None:
        return None
    if now >= record.expires_at:
        raise ApiError(401, "InvalidAccessToken", "Unauthorized")
    return record.tenant
