"""The control plane under /__mock/: clock, reset, tasks, tenants, journal, spec, scenario.

Never a provider path. Open on loopback; bound anywhere else it demands
``Authorization: Bearer <admin token>`` unless the operator opened it explicitly.

Every body is read from bytes by jsonio (strict JSON, UTF-8 only, bounded depth) and every
number through mockserver.numbers, so a bad request is a 400 ``{"error", "status"}`` that
names the field and changes nothing; answers are strict JSON too (never ``NaN``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockserver import snapshot
from mockserver.accounts import read_balances
from mockserver.chaos import ChaosError
from mockserver.clock import ClockError
from mockserver.context import link_origin
from mockserver.jsonio import JsonError, check_charset, loads_object
from mockserver.keys import PROVIDERS_KEY, ROUTES_KEY, STATE_KEY
from mockserver.lazyroutes import RouteAdder
from mockserver.loops import loop_name
from mockserver.numbers import MAX_SECONDS, MAX_SPEED, NumberError, parse_integer, read_number
from mockserver.resources import spec_path
from mockserver.scenario import ScenarioError, parse_data, parse_text, preset_validator
from mockserver.spec import load_document
from mockserver.state import MockState, ServerOptions
from mockserver.submit import force
from mockserver.validation import describe

PREFIX = "/__mock"
AdminHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("avatar_mock")


def _dumps(data: Any) -> str:
    # allow_nan=False: a non-finite number that got past every reader is a defect to see (a
    # 500), not a ``NaN`` that no JSON parser reads.
    return json.dumps(data, default=str, allow_nan=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _refuse(status: int, message: str) -> web.Response:
    return _json({"error": message, "status": status}, status)


class BadRequest(Exception):
    """A request the control API refuses with 400; ``str(err)`` names what is wrong."""


def _is_loopback(host: str) -> bool:
    """Only a loopback address or ``localhost``; ``""``, ``0.0.0.0``, ``::`` and any other
    host that binds every interface (or a named one) is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def _allowed(options: ServerOptions, request: web.Request) -> bool:
    if options.admin_open or _is_loopback(options.bind_host):
        return True
    token = options.admin_token
    return bool(token) and request.headers.get("Authorization", "") == f"Bearer {token}"


def control(handler: AdminHandler) -> AdminHandler:
    """Guard a control-API handler and make it answer JSON, refusals and defects included.

    A handler wrapper, not sub-application middleware: aiohttp runs the root application's
    request path through its middleware machinery as soon as any sub-application has one,
    and every provider poll would pay for it.
    """

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not _allowed(request.config_dict[STATE_KEY].options, request):
            return _refuse(
                401, "the control API needs Authorization: Bearer <admin token> off loopback"
            )
        try:
            return await handler(request)
        except (BadRequest, NumberError) as exc:
            return _refuse(400, str(exc))
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            text = exc.text if exc.content_type == "application/json" else None
            return _refuse(exc.status, exc.reason if text is None else text)
        except Exception:
            log.exception("control API failed on %s %s", request.method, request.path)
            return _refuse(500, "internal error")

    guarded.__name__ = handler.__name__
    return guarded


async def no_such_call(request: web.Request) -> web.Response:
    """The sub-application's last route: 405 when the path has other methods, else 404."""
    allowed: set[str] = set()
    for resource in request.match_info.current_app.router.resources():
        if resource is not request.match_info.route.resource:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        response = _refuse(405, "Method Not Allowed")
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    return _refuse(404, "Not Found")


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body ({} when empty), decoded here: never by aiohttp's charset
    lookup, which answered ``charset=foo`` with a 500."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return loads_object(raw, charset=request.charset)
    except JsonError as exc:
        raise BadRequest(str(exc)) from None


def _number(body: dict[str, Any], name: str, hint: str, *, minimum: float, maximum: float) -> float:
    """``body[name]`` read by numbers.read_number; the refusal names it and shows the form."""
    if name not in body:
        raise BadRequest(f"{name} is required; {hint}")
    try:
        return read_number(body[name], name, minimum=minimum, maximum=maximum)
    except NumberError as err:
        raise BadRequest(f"{err}; {hint}") from None


def _state(request: web.Request) -> MockState:
    return request.config_dict[STATE_KEY]


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    return _json(
        {
            "status": "ok",
            "providers": [p.name for p in request.config_dict[PROVIDERS_KEY]],
            "tasks": len(state.store),
            "clock": state.clock.describe(),
            "loop": loop_name(asyncio.get_running_loop()),
            "pid": os.getpid(),  # which worker of `serve --workers` answered
        }
    )


async def get_clock(request: web.Request) -> web.Response:
    return _json(_state(request).clock.describe())


async def advance_clock(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    hint = f'give {{"seconds": N}} with 0 <= N <= {MAX_SECONDS:.0f}'
    seconds = _number(body, "seconds", hint, minimum=0, maximum=MAX_SECONDS)
    try:
        state.clock.advance(seconds)
    except NumberError as err:  # the clock's own wall: past the latest moment it can show
        return _refuse(400, str(err))
    except ClockError as exc:
        return _refuse(409, str(exc))
    if body.get("deliver"):
        await state.webhooks.flush()  # webhooks that fell due are sent before we answer
    else:
        state.webhooks.wake()
    return _json(state.clock.describe())


async def set_clock(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _body(request)
    hint = f'give {{"speed": S}} with 0 <= S <= {MAX_SPEED:.0f} (0 freezes the clock)'
    speed = _number(body, "speed", hint, minimum=0, maximum=MAX_SPEED)
    try:
        state.clock.set_speed(speed)
    except ClockError as exc:  # the real clock: as advance_clock, the body is read first
        return _refuse(409, str(exc))
    return _json(state.clock.describe())


async def reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return _json({"status": "reset"})


async def list_tasks(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.clock.now()
    q = request.query
    out = []
    for task in state.store.all():
        if q.get("provider") and task.provider != q["provider"]:
            continue
        if q.get("tenant") and task.tenant != q["tenant"]:
            continue
        if q.get("family") and task.family.name != q["family"]:
            continue
        if q.get("state") and task.state(now) != q["state"]:
            continue
        out.append(state.describe_task(task, now))
    return _json({"tasks": out, "count": len(out)})


def _find(request: web.Request):
    state = _state(request)
    task_id = request.match_info["task_id"]
    provider = request.query.get("provider")
    return state.store.get_any(provider, task_id) if provider else state.store.find(task_id)


async def get_task(request: web.Request) -> web.Response:
    task = _find(request)
    if task is None:
        return _refuse(404, "no such task")
    state = _state(request)
    return _json(state.describe_task(task, state.clock.now()))


async def force_task(request: web.Request) -> web.Response:
    state = _state(request)
    task = _find(request)
    if task is None:
        return _refuse(404, "no such task")
    body = await _body(request)
    outcome = body.get("outcome")
    state_name = body.get("state")
    if outcome not in (None, "success", "failure") or (outcome is None) == (state_name is None):
        return _refuse(
            400, 'give {"state": S} or {"outcome": "success"|"failure", "failure": {...}}'
        )
    failure = body.get("failure")
    if failure is not None and not isinstance(failure, dict):
        return _refuse(400, "failure must be an object of the provider's failure fields")
    now = state.clock.now()
    if task.family.name not in state.scenario.providers[task.provider].families:
        return _refuse(409, f"{task.family.name} records have no lifecycle to force")
    if task.is_done(now):
        return _refuse(
            409, f"the task already ended in {task.state(now)}; terminal states are final"
        )
    try:
        force(
            state,
            task,
            now,
            state_name=state_name,
            outcome=outcome,
            failure=failure,
            origin=link_origin(state, request),
        )
    except ValueError as exc:
        return _refuse(400, f"{exc}; states: {', '.join(task.family.all_states)}")
    return _json(state.describe_task(task, now))


async def get_tenant(request: web.Request) -> web.Response:
    state = _state(request)
    key = request.match_info["key"]
    tenant = state.accounts.existing(key)
    if tenant is None:
        if not state.accounts.known(key):
            return _refuse(404, "no such tenant")
        tenant = state.accounts.fresh(key)  # what it would start with; a GET keeps nothing
    return _json(tenant.describe(state.clock.now(), state.accounts.next_seq))


async def put_tenant(request: web.Request) -> web.Response:
    state = _state(request)
    key = request.match_info["key"]
    body = await _body(request)
    raw = body.get("balances", body)
    if not isinstance(raw, dict):
        return _refuse(400, 'give {"balances": {"units": N, "coins": N, ...}}')
    balances = read_balances(raw)  # a refusal sets none of them
    if key not in state.accounts.listed:
        state.accounts.listed[key] = {}
    tenant = state.accounts.tenant(key)
    now = state.clock.now()
    for currency, value in balances.items():
        tenant.set_balance(currency, value, now, state.accounts.next_seq, "admin set balance")
    return _json(tenant.describe(now, state.accounts.next_seq))


async def list_tenants(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.clock.now()
    return _json(
        {"tenants": [t.describe(now, state.accounts.next_seq) for t in state.accounts.all()]}
    )


async def get_journal(request: web.Request) -> web.Response:
    q = request.query
    limit = parse_integer(q["limit"], "limit", minimum=0) if "limit" in q else None
    entries = _state(request).journal.query(
        method=q.get("method"),
        path=q.get("path"),
        tenant=q.get("tenant"),
        operation=q.get("operation"),
        provider=q.get("provider"),
        limit=limit,
    )
    return _json({"entries": entries, "count": len(entries)})


async def clear_journal(request: web.Request) -> web.Response:
    _state(request).journal.clear()
    return _json({"status": "cleared"})


async def get_openapi(request: web.Request) -> web.Response:
    name = request.match_info["provider"]
    enabled = {p.name for p in request.config_dict[PROVIDERS_KEY]}
    if name not in enabled:
        return _refuse(404, f"no provider {name!r}; serving: {', '.join(sorted(enabled))}")
    if request.query.get("format") == "json" or "json" in request.headers.get("Accept", ""):
        return _json(load_document(name))
    return web.Response(
        text=spec_path(name).read_text(encoding="utf-8"), content_type="application/yaml"
    )


async def get_scenario(request: web.Request) -> web.Response:
    state = _state(request)
    chaos = state.chaos
    return _json(
        {
            "scenario": state.scenario.raw,
            "in_force_since": chaos.started_at,
            "rules": [
                {"name": r.name, "fired": r.fired, "times": r.times, "effect": r.effect.type}
                for r in chaos.rules
            ],
            "magic": [m.name for m in chaos.magic],
            "presets": [p.describe() for p in chaos.presets],
        }
    )


async def put_scenario(request: web.Request) -> web.Response:
    """Replace the scenario in force (YAML or JSON body); an invalid one changes nothing.

    A JSON body (by its Content-Type) is read by jsonio like every other; YAML by the scenario
    loader. Either must be UTF-8.
    """
    state = _state(request)
    raw = await request.read()
    source = "PUT /__mock/scenario"
    try:
        check_charset(request.charset)
        text = raw.decode("utf-8")
        if "json" in request.content_type and raw.strip():
            scenario = parse_data(loads_object(raw), source, text)
        else:
            scenario = parse_text(text, source)
    except UnicodeDecodeError:
        return _refuse(400, "the scenario must be UTF-8 YAML or JSON")
    except JsonError as exc:
        return _json({"error": "invalid scenario", "status": 400, "problems": [str(exc)]}, 400)
    except ScenarioError as exc:
        return _json({"error": "invalid scenario", "status": 400, "problems": exc.problems}, 400)
    state.replace_scenario(scenario)
    return await get_scenario(request)


async def add_preset(request: web.Request) -> web.Response:
    body = await _body(request)
    errors = sorted(preset_validator().iter_errors(body), key=lambda e: list(e.path))
    if errors:
        problems = [describe(e) for e in errors]  # "count: ... is greater than the maximum"
        return _json({"error": "invalid preset", "status": 400, "problems": problems}, 400)
    state = _state(request)
    limit = state.bounds.presets_kept
    if len(state.chaos.presets) >= limit:  # limits.presets_kept: the queue is bounded
        return _refuse(409, f"{limit} presets are queued already; DELETE /__mock/presets first")
    try:
        preset = state.chaos.add_preset(body)
    except ChaosError as err:  # a number or phase the schema cannot refuse (NaN, 1e308)
        return _json({"error": "invalid preset", "status": 400, "problems": [str(err)]}, 400)
    return _json(preset.describe(), 201)


async def list_presets(request: web.Request) -> web.Response:
    return _json({"presets": [p.describe() for p in _state(request).chaos.presets]})


async def clear_presets(request: web.Request) -> web.Response:
    _state(request).chaos.presets.clear()
    return _json({"status": "cleared"})


async def list_webhooks(request: web.Request) -> web.Response:
    """Every delivery attempt: target, status, latency, signature, headers, body, chaos."""
    engine = _state(request).webhooks
    q = request.query
    attempts = [
        a
        for a in engine.attempts
        if all(
            q.get(key) is None or str(a.get(key)) == q[key]
            for key in ("provider", "tenant", "task_id", "delivery_id", "target")
        )
    ]
    return _json({"attempts": attempts, "count": len(attempts), "pending": engine.pending()})


async def redeliver_webhook(request: web.Request) -> web.Response:
    state = _state(request)
    copy = state.webhooks.redeliver(request.match_info["delivery_id"])
    if copy is None:
        return _refuse(404, "no such delivery")
    await state.webhooks.flush()
    attempts = [a for a in state.webhooks.attempts if a["delivery_id"] == copy.id]
    return _json({"delivery_id": copy.id, "attempts": attempts})


async def flush_webhooks(request: web.Request) -> web.Response:
    state = _state(request)
    await state.webhooks.flush()
    return _json({"pending": state.webhooks.pending(), "attempts": len(state.webhooks.attempts)})


async def export_state(request: web.Request) -> web.Response:
    """The state as a snapshot (mockserver/snapshot.py): ``avatar-mock state export``."""
    try:
        return _json(snapshot.export(_state(request)))
    except snapshot.SnapshotError as exc:  # a value no JSON holds: say so, never a bad file
        return _refuse(409, str(exc))


async def import_state(request: web.Request) -> web.Response:
    """Reset, then load a snapshot; a refused one changes nothing. No webhook is planned.

    A snapshot carries uploads' bytes, so it may be larger than a provider request: it is read
    up to ``snapshot.MAX_BYTES``, not the scenario's ``limits.max_body_bytes``."""
    body = await _body(request.clone(client_max_size=snapshot.MAX_BYTES))
    try:
        answer = snapshot.restore(_state(request), body)
    except snapshot.SnapshotError as exc:
        return _json({"error": str(exc), "status": 400, "problems": exc.problems}, 400)
    return _json(answer)


async def get_routes(request: web.Request) -> web.Response:
    return _json({"routes": request.config_dict[ROUTES_KEY]})


async def get_violations(request: web.Request) -> web.Response:
    return _json({"violations": list(_state(request).violations)})


def setup(app: web.Application) -> None:
    """Mount the control API as a sub-application, so its guard never touches provider calls."""
    admin = web.Application()
    routes = [
        ("GET", "/health", health),
        ("GET", "/clock", get_clock),
        ("PUT", "/clock", set_clock),
        ("POST", "/clock/advance", advance_clock),
        ("POST", "/reset", reset),
        ("GET", "/tasks", list_tasks),
        ("GET", "/tasks/{task_id}", get_task),
        ("POST", "/tasks/{task_id}/force", force_task),
        ("GET", "/tenants", list_tenants),
        ("GET", "/tenants/{key}", get_tenant),
        ("PUT", "/tenants/{key}", put_tenant),
        ("GET", "/journal", get_journal),
        ("DELETE", "/journal", clear_journal),
        ("GET", "/openapi/{provider}", get_openapi),
        ("GET", "/scenario", get_scenario),
        ("PUT", "/scenario", put_scenario),
        ("POST", "/presets", add_preset),
        ("GET", "/presets", list_presets),
        ("DELETE", "/presets", clear_presets),
        ("GET", "/routes", get_routes),
        ("GET", "/webhooks", list_webhooks),
        ("POST", "/webhooks/flush", flush_webhooks),
        ("POST", "/webhooks/{delivery_id}/redeliver", redeliver_webhook),
        ("GET", "/violations", get_violations),
        ("GET", "/state", export_state),
        ("PUT", "/state", import_state),
    ]
    adder = RouteAdder(admin.router)  # templated paths compile their regex on first match
    for method, path, handler in routes:
        if method == "GET":
            adder.add_get(path, control(handler))  # HEAD too, as aiohttp does
        else:
            adder.add(method, path, control(handler))
    admin.router.add_route("*", "/{tail:.*}", control(no_such_call))
    app.add_subapp(PREFIX, admin)
