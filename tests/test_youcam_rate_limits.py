"""YouCam's rate limits as its rate-limit page publishes them now: 5 requests per second and 250
per 300 s, per client IP and per token, every rule must pass; 429 "Too many requests" with no
Retry-After. The older documented profile (100 per 5 min per IP, 100 per minute per token) is
one setting away: ``providers.youcam.rate_limits: legacy``."""

from __future__ import annotations

TOO_MANY = {"status": 429, "error": "Too many requests"}

TEMPLATES = "/s2s/v2.0/task/template/ai-avatar"


async def get(mock, key="sk-test"):
    resp = await mock.client.get(TEMPLATES, headers=mock.auth(key))
    return resp.status, await resp.json(), resp.headers


async def test_five_requests_a_second_per_token_and_per_ip(mock):
    for _ in range(5):
        assert (await get(mock))[0] == 200
    status, body, headers = await get(mock)
    assert (status, body) == (429, TOO_MANY)
    assert "Retry-After" not in headers  # YouCam sends none
    assert (await get(mock, "sk-other"))[0] == 429  # the same client IP: its window is full
    mock.advance(1)
    assert (await get(mock))[0] == 200


async def test_per_second_and_per_300s_limits_both_hold(mock):
    for second in range(50):  # 250 requests at 5 a second: every per-second window admits
        for _ in range(5):
            assert (await get(mock))[0] == 200, second
        mock.advance(1)
    assert (await get(mock))[:2] == (429, TOO_MANY)  # the 251st in 300 s
    mock.advance(250)
    assert (await get(mock))[0] == 200


async def test_the_legacy_profile_is_selectable(make_mock):
    """100 per 5 minutes per IP and 100 per minute per token, no per-second limit."""
    mock = await make_mock("providers: {youcam: {rate_limits: legacy}}")
    for _ in range(100):
        assert (await get(mock))[0] == 200  # one instant: no per-second rule
    assert (await get(mock))[:2] == (429, TOO_MANY)
    mock.advance(60)  # the token's minute is over, the IP's five minutes are not
    assert (await get(mock))[0] == 429
    mock.advance(240)
    assert (await get(mock))[0] == 200


async def test_an_unknown_profile_is_refused_with_its_name(mock):
    status, answer = await mock.call(
        "PUT",
        "/__mock/scenario",
        key=None,
        data="providers: {youcam: {rate_limits: nope}}",
        headers={"Content-Type": "application/yaml"},
    )
    assert status == 400, answer
    assert "no profile 'nope'" in str(answer)
