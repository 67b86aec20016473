"""Every secret comes from the OS: tokens and signatures differ between two servers with the
same seed; replicas given one secret verify each other's links; media links cannot be forged
from the seed, extended, renamed, or made to serve anything but the mock's own media."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.serve_processes import free_port, wait_ready
from tests.test_a2e import data_of
from tests.test_a2e_streaming import AVATAR
from tests.test_youcam_v1_auth import token

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar?page_size=3"
SHARED = "one-secret-for-the-whole-fleet"


async def a2e_tokens(mock) -> list[str]:
    """An API token, a login token and a streaming session's RTC token."""
    generated = data_of(*await mock.call("POST", "/api/v1/token/generate", json={"alias": "ci"}))
    body = {"username": "sk-test", "password": "x"}
    login = data_of(*await mock.call("POST", "/api/v1/login/account", key=None, json=body))
    body = {"avatar_id": AVATAR, "expire_seconds": 60}
    session = data_of(*await mock.call("POST", "/api/v1/streaming-avatar/agora-token", json=body))
    return [generated["token"], login["token"], session["token"]]


async def thumbs(mock) -> list[str]:
    status, answer = await mock.call("GET", TEMPLATES)
    assert status == 200
    return [mock.local(t["thumb"]) for t in answer["data"]["templates"]]


async def signed_urls(mock) -> list[str]:
    """The signed URLs a server hands out: media links, an upload PUT, a bucket URL."""
    spec = {"content_type": "image/jpeg", "file_name": "f.jpg", "file_size": 10}
    _, answer = await mock.call("POST", "/s2s/v2.0/file", json={"files": [spec]})
    upload = answer["data"]["files"][0]["requests"][0]["url"]
    r2 = data_of(*await mock.call("POST", "/api/v1/r2/get_upload_presigned_url", json={"key": "k"}))
    return [*await thumbs(mock), mock.local(upload), mock.local(r2["uploadUrl"])]


async def test_two_servers_with_the_same_seed_issue_different_tokens_and_signatures(make_mock):
    first, second = await make_mock(), await make_mock()
    assert first.state.scenario.seed == second.state.scenario.seed
    a, b = await a2e_tokens(first), await a2e_tokens(second)
    assert all(x.startswith("sk_") and len(x) == 43 for x in a[:2] + b[:2])
    assert set(a).isdisjoint(b)
    assert await token(first) != await token(second)  # YouCam v1 access tokens
    ua, ub = await signed_urls(first), await signed_urls(second)
    assert len(ua) == len(ub) == 5
    assert all(x != y for x, y in zip(ua, ub, strict=True))
    for link in ua[:3]:  # one server's media links mean nothing to the other
        resp = await second.client.get(link)
        assert resp.status == 403 and "SignatureDoesNotMatch" in await resp.text()


async def test_replicas_given_one_secret_verify_each_others_links(make_mock):
    first, second = await make_mock(secret=SHARED), await make_mock(secret=SHARED)
    for link in await thumbs(first):
        resp = await second.client.get(link)
        assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert await a2e_tokens(first) != await a2e_tokens(second)  # tokens still from the OS
    other = await make_mock(secret="a-different-secret-entirely")
    resp = await other.client.get((await thumbs(first))[0])
    assert resp.status == 403


def test_a_short_shared_secret_is_refused():
    from mockserver.issuer import SecretIssuer

    with pytest.raises(ValueError, match="at least 16"):
        SecretIssuer("short")
    proc = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--secret", "short"],
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 2 and b"at least 16 characters" in proc.stderr


def test_serve_takes_the_secret_from_the_flag_or_the_environment():
    """Two real processes: one given --secret, one AVATAR_MOCK_SECRET; a link of one works on
    the other, and on a third with no secret it does not."""
    procs, bases = [], []
    for args, env in (
        (["--secret", SHARED], {}),
        ([], {"AVATAR_MOCK_SECRET": SHARED}),
        ([], {}),
    ):
        port = free_port()
        environ = {k: v for k, v in os.environ.items() if k != "AVATAR_MOCK_SECRET"}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "mockserver", "serve", "--port", str(port), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**environ, **env},
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for proc, base in zip(procs, bases, strict=True):
            wait_ready(proc, base)
        request = urllib.request.Request(
            bases[0] + TEMPLATES, headers={"Authorization": "Bearer sk-test"}
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            thumb = json.loads(resp.read())["data"]["templates"][0]["thumb"]
        path = urlsplit(thumb).path
        with urllib.request.urlopen(bases[1] + path, timeout=5) as resp:
            assert resp.status == 200 and resp.read()[:3] == b"\xff\xd8\xff"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bases[2] + path, timeout=5)
        assert refused.value.code == 403
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


# --- media links ---------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def seed_forged_link(fixture: str, expires: int | None, seed: int = 1) -> str:
    """A link signed the way the seed-keyed scheme signed them (sha256 of "links:<seed>")."""
    payload = f"{fixture}|{'' if expires is None else expires}".encode()
    secret = hashlib.sha256(f"links:{seed}".encode()).digest()
    signature = _b64(hmac.new(secret, payload, hashlib.sha256).digest()[:12])
    return f"/__media/{_b64(payload)}.{signature}/x.png"


async def test_a_link_forged_from_the_seed_or_extended_is_refused_before_and_after_expiry(mock):
    now = int(mock.clock.now())
    real = mock.state.links.url("", "result.png", "a.png", now + 60)
    token, name = real.split("/")[2:4]
    signature = token.split(".")[1]
    extended = f"/__media/{_b64(f'result.png|{now + 86400}'.encode())}.{signature}/{name}"
    forged = [seed_forged_link("result.png", None), seed_forged_link("result.png", now + 86400)]
    assert (await mock.client.get(real)).status == 200
    for _ in range(2):
        for link in (*forged, extended):
            resp = await mock.client.get(link)
            assert resp.status == 403, link
            assert "SignatureDoesNotMatch" in await resp.text()
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        mock.advance(3600)  # past the real link's expiry, before the forged ones'
    resp = await mock.client.get(real)
    assert resp.status == 403 and "Request has expired" in await resp.text()


async def test_a_link_works_only_under_the_name_it_was_made_with(mock):
    link = mock.state.links.url("", "result.jpg", "photo.jpg", None)
    assert (await mock.client.get(link)).status == 200
    renamed = link.rsplit("/", 1)[0] + "/other.html"
    resp = await mock.client.get(renamed)
    assert resp.status == 403 and "SignatureDoesNotMatch" in await resp.text()


@pytest.mark.parametrize(
    "fixture",
    ["README.md", "__init__.py", "../keys/youcam_test_private.pem", "..", "", "result.jpg/"],
)
async def test_a_signed_link_serves_only_the_mocks_media_files(mock, fixture):
    """Even a link the mock signed (a defect elsewhere, say) names nothing but media."""
    link = mock.state.links.url("", fixture, "x.jpg", None)
    resp = await mock.client.get(link)
    assert resp.status == 404 and "NoSuchKey" in await resp.text()
    assert resp.content_type == "application/xml"
