"""No input breaks anything: non-finite numbers, lone surrogates, deep JSON, odd charsets.

Each refusal is a 400 in the dialect of the path it was sent to (the provider's envelope, or
the control API's ``{"error", "status"}``), names what is wrong, and leaves nothing behind: no
task stored, nothing charged, the clock where it was, the server answering as before.
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from mockserver.clock import VirtualClock
from mockserver.numbers import MAX_SECONDS
from tests.conftest import START

I2V_START = "/api/v1/userImage2Video/start"
I2V_ALL = "/api/v1/userImage2Video/allRecords"
FS_ADD = "/api/v1/userFaceSwapTask/add"
FS_STATUS = "/api/v1/userFaceSwapTask/status"
COINS = "/api/v1/user/remainingCoins"
RELAY_SUBMIT = "/avatar/generation"
YOUCAM_RUN = "/s2s/v2.0/task/ai-avatar"
YOUCAM_CREDIT = "/s2s/v1.0/client/credit"

SURROGATE = '"\\udc00"'  # a JSON escape for a lone low surrogate: valid JSON text, not Unicode
GOOD_BODIES = {  # path -> a body the provider accepts, as JSON text with {} for one field
    I2V_START: '{"name": %s, "image_url": "https://e.x/a.png", "prompt": "p"}',
    FS_ADD: '{"name": %s, "face_url": "https://e.x/f.jpg", "video_url": "https://e.x/v.mp4"}',
    RELAY_SUBMIT: '{"avatar_url": "https://e.x/a.jpg", "audio_url": %s}',
    YOUCAM_RUN: '{"template_id": %s, "output_count": 1, "src_file_url": "https://e.x/a.jpg"}',
}
GOOD_VALUES = {
    I2V_START: '"n"',
    FS_ADD: '"n"',
    RELAY_SUBMIT: '"https://e.x/a.mp3"',
    YOUCAM_RUN: '"female_manga_mood"',
}
FIELD = {I2V_START: "name", FS_ADD: "name", RELAY_SUBMIT: "audio_url", YOUCAM_RUN: "template_id"}
DEEP = "[" * 1000 + "]" * 1000


def provider_of(path: str) -> str:
    return {"/api": "a2e", "/ava": "relay", "/s2s": "youcam"}[path[:4]]


def refusal_text(path: str, body: dict) -> str:
    """The provider's refusal message, after checking the envelope is that provider's."""
    provider = provider_of(path)
    if provider == "a2e":
        assert body["code"] == 400 and body["data"] is None and "trace_id" in body, body
        return body["msg"]
    if provider == "relay":
        assert body["code"] == "invalid_request" and body["data"] is None, body
        return body["message"]
    assert body["status"] == 400 and body["error_code"] == "InvalidParameters", body
    return body["error"]


async def post_raw(mock, path, text, content_type="application/json", key="sk-test"):
    data = text.encode() if isinstance(text, str) else text
    return await mock.call("POST", path, key=key, data=data, headers={"Content-Type": content_type})


async def footprint(mock, key="sk-test"):
    """What a refused request must not change: tasks, side stores, the tenant's balances.

    The tenant is made first, by reads each provider answers (its lots, its coins), so that
    what a tenant's first request makes on the way is not taken for the refused one's doing.
    """
    for path in (YOUCAM_CREDIT, COINS):
        assert (await mock.call("GET", path, key=key))[0] == 200
    state = mock.state
    tenant = state.accounts.tenant(key)
    return len(state.store), stored(state), dict(tenant.balances), list(tenant.history)


def stored(state) -> dict[str, int]:
    """How many things each provider's side stores hold (empty containers made on the way
    count for nothing: A2E's token lookup makes its maps on first use)."""
    return state.stores.sizes()


# --- the clock -------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", ["NaN", "Infinity", "-Infinity", "1e309", "1e308", "1e12"])
async def test_clock_advance_refuses_what_the_clock_cannot_hold(mock, seconds):
    """A NaN or 1e309 clock made every submit a 500 until restart; reset did not mend it."""
    status, body = await post_raw(mock, "/__mock/clock/advance", f'{{"seconds": {seconds}}}')
    assert status == 400 and body["status"] == 400 and "seconds" in body["error"], body
    _, clock = await mock.call("GET", "/__mock/clock", key=None)
    assert clock["now"] == START
    status, answer = await mock.call(
        "POST", YOUCAM_RUN, json=json.loads(GOOD_BODIES[YOUCAM_RUN] % GOOD_VALUES[YOUCAM_RUN])
    )
    assert status == 200, answer


@pytest.mark.parametrize("speed", ["NaN", "Infinity", "1e309", "1e7", "-1"])
async def test_clock_speed_refuses_non_finite_and_absurd_speeds(mock, speed):
    status, body = await mock.call(
        "PUT", "/__mock/clock", key=None, data=f'{{"speed": {speed}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 400 and "speed" in body["error"], body
    _, clock = await mock.call("GET", "/__mock/clock", key=None)
    assert clock["speed"] == 0.0 and clock["now"] == START


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0, MAX_SECONDS * 2, True])
def test_the_virtual_clock_itself_refuses_bad_values(bad):
    """The second wall: whoever calls the clock (plugin, tests, a future endpoint)."""
    clock = VirtualClock(start=START, speed=0.0)
    with pytest.raises(ValueError):
        clock.advance(bad)
    with pytest.raises(ValueError):
        clock.set_speed(bad if bad != MAX_SECONDS * 2 else 1e7)
    with pytest.raises(ValueError):
        VirtualClock(start=START, speed=bad if bad != MAX_SECONDS * 2 else 1e7)
    assert clock.now() == START and clock.speed == 0.0


def test_the_clock_never_moves_past_what_a_date_can_show():
    clock = VirtualClock(start=START, speed=0.0)
    for _ in range(70):  # 70 centuries, one advance at a time
        try:
            clock.advance(MAX_SECONDS)
        except ValueError:
            break
    else:
        pytest.fail("the clock moved 7,000 years ahead")
    from datetime import UTC, datetime

    assert datetime.fromtimestamp(clock.now() + 300 * 365 * 86400, UTC).year < 10_000


@pytest.mark.parametrize("speed", ["nan", "inf", "1e309", "-1", "1e7", "1_0"])
def test_serve_refuses_a_speed_the_clock_cannot_run_at(speed, capsys):
    from mockserver.cli import _parser

    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["serve", "--speed", speed])
    assert info.value.code == 2 and "--speed" in capsys.readouterr().err


# --- balances --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "balances",
    [
        '{"units": NaN}',
        '{"units": Infinity}',
        '{"coins": 1e309}',
        '{"units": -1}',
        '{"units": 1e16}',
        '{"credits": 5}',
        '{"units": true}',
    ],
)
async def test_tenant_balances_refuse_what_is_not_an_amount(mock, balances):
    """NaN balances made YouCam answer 500 and put NaN, which is not JSON, in answers."""
    status, body = await mock.call(
        "PUT", "/__mock/tenants/sk-t", key=None, data=f'{{"balances": {balances}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 400 and "balances." in body["error"], body
    assert mock.state.accounts.existing("sk-t") is None  # nothing set, no tenant made
    status, credit = await mock.call("GET", YOUCAM_CREDIT, key="sk-t")
    assert status == 200 and credit["status"] == 200, credit
    status, raw = await mock.call("GET", "/__mock/tenants/sk-t", key=None)
    assert status == 200 and raw["balances"]["units"] == 100


async def test_a_refused_balance_sets_none_of_the_others(mock):
    status, _ = await mock.call(
        "PUT", "/__mock/tenants/sk-t", key=None, json={"balances": {"coins": 5, "units": -3}}
    )
    assert status == 400
    _, tenant = await mock.call("GET", "/__mock/tenants/sk-t", key=None)
    assert tenant["balances"]["coins"] == 10000


def test_the_pytest_plugin_refuses_a_nan_balance():
    from mockserver.pytest_plugin import MockServer

    with MockServer() as server:
        server.set_balances("sk-a", coins=5)
        for bad in ({"units": math.nan}, {"coins": math.inf}, {"quota": -1}, {"gold": 1}):
            with pytest.raises(ValueError):
                server.set_balances("sk-a", **bad)
        balances = server.call(lambda s: dict(s.accounts.tenant("sk-a").balances))
        assert balances["coins"] == 5 and balances["units"] == 100
        with pytest.raises(ValueError):
            server.advance(math.nan)
        assert server.now() == START


# --- presets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "named"),
    [
        ('{"outcome": "success", "count": 1e12}', "count"),
        ('{"outcome": "success", "count": NaN}', "count"),
        ('{"effect": {"type": "latency", "latency": {"fixed": NaN}}}', "effect.latency.fixed"),
        ('{"effect": {"type": "latency", "latency": {"fixed": 1e300}}}', "effect.latency"),
        ('{"effect": {"type": "dribble", "interval": Infinity}}', "effect.interval"),
        ('{"outcome": "failure", "failure": {"error": "\\udc00"}}', "failure.error"),
    ],
)
async def test_presets_refuse_numbers_no_effect_can_use(mock, preset, named):
    status, body = await post_raw(mock, "/__mock/presets", preset, key=None)
    assert status == 400 and named in json.dumps(body), body
    _, presets = await mock.call("GET", "/__mock/presets", key=None)
    assert presets["presets"] == []


# --- lone surrogates in provider bodies ------------------------------------------------


@pytest.mark.parametrize("path", list(GOOD_BODIES))
async def test_a_lone_surrogate_is_refused_and_nothing_is_stored_or_charged(mock, path):
    """A2E stored and charged the record, then its list answered 500 for good; the relay
    task answered 500 on every poll; YouCam answered 500 at submit."""
    before = await footprint(mock)
    status, body = await post_raw(mock, path, GOOD_BODIES[path] % SURROGATE)
    assert status == 400 and FIELD[path] in refusal_text(path, body), body
    assert await footprint(mock) == before
    assert (await mock.call("GET", I2V_ALL))[0] == 200
    assert (await mock.call("GET", FS_STATUS))[0] == 200
    status, coins = await mock.call("GET", COINS)
    assert status == 200 and coins["data"]["coins"] == 10000


async def test_a_lone_surrogate_in_a_key_or_deep_inside_is_refused(mock):
    text = '{"avatar_url": "https://e.x/a.jpg", "audio_url": "u", "x": {"\\ud800": [1]}}'
    status, body = await post_raw(mock, RELAY_SUBMIT, text)
    assert status == 400 and "surrogate" in refusal_text(RELAY_SUBMIT, body)
    assert len(mock.state.store) == 0


# --- non-finite numbers, deep nesting and charsets in provider bodies -----------------


@pytest.mark.parametrize("path", list(GOOD_BODIES))
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
async def test_a_non_finite_number_in_a_body_is_refused_by_name(mock, path, literal):
    before = await footprint(mock)
    text = GOOD_BODIES[path] % GOOD_VALUES[path]
    text = text[:-1] + f', "extra": {{"n": [{literal}]}}}}'
    status, body = await post_raw(mock, path, text)
    assert status == 400 and "extra.n.0" in refusal_text(path, body), body
    assert await footprint(mock) == before


@pytest.mark.parametrize("path", list(GOOD_BODIES))
async def test_deeply_nested_json_gets_the_invalid_json_answer(mock, path):
    before = await footprint(mock)
    text = GOOD_BODIES[path] % GOOD_VALUES[path]
    status, body = await post_raw(mock, path, text[:-1] + f', "deep": {DEEP}}}')
    assert status == 400 and "levels deep" in refusal_text(path, body), body
    assert await footprint(mock) == before


@pytest.mark.parametrize("path", list(GOOD_BODIES))
@pytest.mark.parametrize("charset", ["foo", "latin-1", "utf-16", "cp1252"])
async def test_a_charset_other_than_utf8_is_refused(mock, path, charset):
    before = await footprint(mock)
    text = GOOD_BODIES[path] % GOOD_VALUES[path]
    status, body = await post_raw(mock, path, text, f"application/json; charset={charset}")
    assert status == 400 and "charset" in refusal_text(path, body), body
    assert await footprint(mock) == before


@pytest.mark.parametrize("path", list(GOOD_BODIES))
@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"', "us-ascii"])
async def test_utf8_charsets_are_accepted(mock, path, charset):
    text = GOOD_BODIES[path] % GOOD_VALUES[path]
    status, body = await post_raw(mock, path, text, f"application/json; charset={charset}")
    assert status == 200, body


async def test_an_undecodable_content_type_is_refused_in_the_dialect(mock):
    reader, writer = await _connect(mock)
    body = (GOOD_BODIES[RELAY_SUBMIT] % GOOD_VALUES[RELAY_SUBMIT]).encode()
    status, answer = await _exchange(
        reader, writer, b"POST", RELAY_SUBMIT.encode(), body,
        b"Content-Type: text/\xff\xfe\r\nAuthorization: Bearer sk-test\r\n",
    )  # fmt: skip
    assert status == 400 and answer["code"] == "invalid_request", answer
    assert len(mock.state.store) == 0


# --- header values the mock stores -----------------------------------------------------


async def _connect(mock):
    return await asyncio.open_connection("127.0.0.1", mock.client.server.port)


async def _exchange(reader, writer, method, target, body, headers):
    """One raw HTTP/1.1 request: header bytes as given, not as a client library encodes them."""
    head = b"%s %s HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n" % (method, target)
    if body:
        head += b"Content-Length: %d\r\n" % len(body)
    writer.write(head + headers + b"\r\n" + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize("path", list(GOOD_BODIES))
async def test_a_bearer_key_that_is_not_utf8_names_no_tenant(mock, path):
    """aiohttp hands undecodable header bytes over as lone surrogates: such a key became a
    tenant whose key no JSON answer could carry."""
    body = (GOOD_BODIES[path] % GOOD_VALUES[path]).encode()
    reader, writer = await _connect(mock)
    status, answer = await _exchange(
        reader, writer, b"POST", path.encode(), body,
        b"Content-Type: application/json\r\nAuthorization: Bearer sk-\xff\xed\xb0\x80\r\n",
    )  # fmt: skip
    assert status == 401, answer
    assert mock.state.accounts.all() == [] and len(mock.state.store) == 0
    status, tenants = await mock.call("GET", "/__mock/tenants", key=None)
    assert status == 200 and tenants["tenants"] == []


@pytest.mark.parametrize("path", list(GOOD_BODIES))
async def test_an_outcome_header_that_is_not_utf8_is_refused(mock, path):
    """``X-Mock-Outcome: failure:<bytes>`` put a lone surrogate into the task's failure
    fields: the relay's poll and A2E's list answered 500 from then on."""
    before = await footprint(mock)
    body = (GOOD_BODIES[path] % GOOD_VALUES[path]).encode()
    reader, writer = await _connect(mock)
    status, answer = await _exchange(
        reader, writer, b"POST", path.encode(), body,
        b"Content-Type: application/json\r\nAuthorization: Bearer sk-test\r\n"
        b"X-Mock-Outcome: failure:\xff\r\n",
    )  # fmt: skip
    assert status == 400 and "X-Mock-Outcome" in refusal_text(path, answer), answer
    assert await footprint(mock) == before


# --- path and query parameters ---------------------------------------------------------


@pytest.mark.parametrize("segment", ["%ED%B0%80", "%FF", "%C3", "%00", "%F0%9F%98"])
@pytest.mark.parametrize(
    "template",
    ["/api/v1/userImage2Video/{}", "/avatar/task/{}", "/s2s/v2.0/task/ai-avatar/{}"],
)
async def test_invalid_utf8_in_a_path_gets_the_providers_not_found(mock, template, segment):
    status, body = await mock.call("GET", template.format(segment))
    assert status in (400, 404), body
    if template.startswith("/api"):
        assert body["code"] == 404 and body["msg"] == "Record not found"
    elif template.startswith("/avatar"):
        assert body["code"] == "task_not_exist"
    else:
        assert body["error_code"] == "InvalidTaskId"


@pytest.mark.parametrize("value", ["1_0", "\u0663", "1e1", "nan", "inf", "%ED%B0%80", "+"])
async def test_integer_query_parameters_are_plain_ascii_digits(mock, value):
    """``int()`` read ``1_0`` as 10 and the Arabic-Indic digit three as 3."""
    status, body = await mock.call("GET", f"{I2V_ALL}?pageSize={value}")
    assert status == 400 and "pageSize" in body["msg"], body


@pytest.mark.parametrize("limit", ["1_0", "nan", "-1", "\u0663", "1e1"])
async def test_the_journal_limit_is_a_plain_whole_number(mock, limit):
    await mock.call("GET", COINS)
    status, body = await mock.call("GET", f"/__mock/journal?limit={limit}", key=None)
    assert status == 400 and "limit" in body["error"], body


# --- control API bodies ----------------------------------------------------------------

CONTROL_BODIES = [
    ("POST", "/__mock/clock/advance", '{"seconds": 1}'),
    ("PUT", "/__mock/clock", '{"speed": 1}'),
    ("PUT", "/__mock/tenants/sk-t", '{"balances": {"units": 5}}'),
    ("POST", "/__mock/presets", '{"outcome": "success"}'),
    ("PUT", "/__mock/scenario", '{"seed": 7}'),
]


@pytest.mark.parametrize(("method", "path", "good"), CONTROL_BODIES)
@pytest.mark.parametrize("charset", ["foo", "latin-1"])
async def test_control_api_refuses_an_unknown_charset(mock, method, path, good, charset):
    """clock/advance and presets answered 500 for ``charset=foo``."""
    status, body = await mock.call(
        method, path, key=None, data=good.encode(),
        headers={"Content-Type": f"application/json; charset={charset}"},
    )  # fmt: skip
    assert status == 400 and body["status"] == 400, body
    assert _control_state(mock) == _control_state_fresh()


@pytest.mark.parametrize(("method", "path", "good"), CONTROL_BODIES)
async def test_control_api_refuses_deep_json(mock, method, path, good):
    """Every control endpoint that reads JSON answered 500 for 1,000 levels of nesting."""
    status, body = await mock.call(
        method, path, key=None, data=good[:-1].encode() + b', "x": ' + DEEP.encode() + b"}",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 400 and body["status"] == 400, body
    assert "levels deep" in json.dumps(body)
    assert _control_state(mock) == _control_state_fresh()


@pytest.mark.parametrize(("method", "path", "good"), CONTROL_BODIES)
async def test_control_api_refusals_are_plain_json_not_json_in_a_string(mock, method, path, good):
    status, body = await mock.call(
        method, path, key=None, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and isinstance(body, dict) and not str(body["error"]).startswith("{")


def _control_state(mock):
    state = mock.state
    return (
        state.clock.now(),
        state.clock.speed,
        [t.key for t in state.accounts.all()],
        len(state.chaos.presets),
        state.scenario.seed,
    )


def _control_state_fresh():
    return (START, 0.0, [], 0, 1)


# --- scenario files --------------------------------------------------------------------


async def test_put_scenario_refuses_yaml_too_deep_for_the_validator(mock):
    status, body = await mock.call(
        "PUT", "/__mock/scenario", key=None, data=("name: " + "[" * 990 + "]" * 990).encode()
    )
    assert status == 400 and "levels" in body["problems"][0] and "line 1" in body["problems"][0]
    assert mock.state.scenario.raw["name"] == "default"


async def test_put_scenario_refuses_an_integer_python_cannot_read(mock):
    status, body = await mock.call(
        "PUT", "/__mock/scenario", key=None, data=("seed: " + "9" * 5000).encode()
    )
    assert status == 400 and body["error"] == "invalid scenario", body
    assert mock.state.scenario.seed == 1


async def test_put_scenario_refuses_an_alias_bomb(mock):
    """Nine aliases to nine aliases, five times over: half a million values from 500 bytes,
    which the answer then spelled out in full."""
    anchors = ["            a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 6):
        anchors.append(f"            a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = (
        "providers:\n  relay:\n    families:\n      avatar:\n        failures:\n"
        "          - fail_reason: boom\n" + "\n".join(anchors) + "\n"
    )
    status, body = await mock.call("PUT", "/__mock/scenario", key=None, data=text.encode())
    assert status == 400 and "more than" in body["problems"][0], body
    assert mock.state.scenario.raw["name"] == "default"
