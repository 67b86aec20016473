"""Snapshots: the mock's state as one versioned JSON document, and back.

``export(state)`` writes what a test needs to start from a known state: the clock, the id
streams, tenants (balances, history, settlements still waiting for their tasks), tasks (their
planned timelines, params and families) and uploads (metadata, and the bytes inline as
base64). ``restore(state, doc)`` checks a document against ``contracts/state.schema.json`` and
its format version, builds every object first and only then resets the mock and puts them in:
a refused file changes nothing.

Only the engine's public objects are read and written (``TaskStore``, ``Accounts``/``Tenant``,
``UploadStore``, the clock, ``MockState.id_streams``), so a snapshot keeps working when those
objects are kept by a state backend.

Not carried: the scenario (the server's configuration, not its state), the journal, rate-limit
windows, chaos counters and presets, webhook deliveries and provider-owned stores
(``mockserver.stores``: YouCam's polling windows, tokens...), except what a store keeps for one
task (A2E's task records: a charge, a drawn id, the avatar a training names), carried with the
task under ``extra`` by store name, a Task in it written as ``{"$task": [provider, id]}``. An
export lists the provider stores that held something under ``not_carried``.

Webhooks: importing plans no delivery. A snapshot sets up state; a receiver that never saw
those tasks submitted should not get their hooks because a test loaded a file, and a delivery
planned for the exporting run's receiver (often a port that no longer exists) would only
retry into the attempts list. A task forced after the import plans its deliveries as usual.

Settlements (a charge on success, a refund on failure) keep their rule by its import path
(``module:name``). A rule that has none, a closure (YouCam's charge on success, which also
forfeits a task lost to its polling window), is carried as ``succeeded``: it applies when the
task succeeds; the polling window is a provider store, not carried.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import random
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

from mockserver.accounts import History, Settlement, Tenant
from mockserver.lifecycle import TaskFamily, Timeline
from mockserver.resources import contracts_dir
from mockserver.state import MockState
from mockserver.taskrefs import UnknownTask, named_tasks, refs, resolved
from mockserver.tasks import Task
from mockserver.uploads import Upload, decode_upload, encode_upload

FORMAT = "avatar-mock-state"
VERSION = 1  # the layout below; a file of another version is refused, saying what to do
MAX_BYTES = 256 * 1024 * 1024  # the largest snapshot PUT /__mock/state reads


class SnapshotError(ValueError):
    """A snapshot that cannot be imported; ``problems`` says what is wrong, each in a line."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


# --- export --------------------------------------------------------------------------------


def export(state: MockState) -> dict[str, Any]:
    """The state of ``state`` now, as a snapshot document (plain JSON values)."""
    now = state.clock.now()
    clock = state.clock.describe()
    tasks = list(state.store.all())
    stored = {(t.provider, t.id) for t in tasks}
    tenants = []
    for tenant in state.accounts.all():
        tenant.settle(now, state.accounts.next_seq)  # what fell due is a balance, not a plan
        pending = tenant.pending()
        for s in pending:  # a settlement's task may be gone from the store (deleted)
            if (s.task.provider, s.task.id) not in stored:
                stored.add((s.task.provider, s.task.id))
                tasks.append(s.task)
        tenants.append(_tenant(tenant, state.accounts.listed.get(tenant.key), pending))
    for task in tasks:  # a task another names (an A2E lip-sync names its twin) goes too
        for named in named_tasks(state.stores.task_data(task)):
            if (named.provider, named.id) not in stored:
                stored.add((named.provider, named.id))
                tasks.append(named)
    in_store = {(t.provider, t.id) for t in state.store.all()}
    state.uploads.evict(now)  # what expired is not carried back to life
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now,
        "seed": state.scenario.seed,
        "clock": {"now": now, "mode": clock["mode"], "speed": clock["speed"]},
        "ids": {name: _stream(s) for name, s in state.id_streams().items()},
        "tenants": tenants,
        "tasks": [_task(t, (t.provider, t.id) in in_store, state) for t in tasks],
        "uploads": [encode_upload(u) for u in state.uploads.all() if not u.gone],
        "not_carried": state.stores.sizes(),
    }
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SnapshotError(f"the state holds a value a snapshot cannot carry: {exc}") from None
    return doc


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no infinity: null is "never"


def _stream(stream: dict[str, Any]) -> dict[str, Any]:
    rng = stream["rng"]
    if rng is None:
        return {"seq": stream["seq"], "rng": None}
    version, state, gauss = rng
    return {"seq": stream["seq"], "rng": {"version": version, "state": list(state), "gauss": gauss}}


def _task(task: Task, in_store: bool, state: MockState) -> dict[str, Any]:
    f, tl = task.family, task.timeline
    return {
        "provider": task.provider,
        "id": task.id,
        "tenant": task.tenant,
        "seq": task.seq,
        "created_at": task.created_at,
        "family": {
            "name": f.name,
            "states": list(f.states),
            "success": f.success,
            "failure": f.failure,
            "fails_after": f.fails_after,
        },
        "timeline": {
            "states": list(tl.states),
            "times": [_finite(t) for t in tl.times],
            "failure": tl.failure,
        },
        "params": task.params,
        # what the provider stores keep for this task, by store (A2E's task records)
        "extra": refs(state.stores.task_data(task)) or None,
        "evict_at": _finite(task.evict_at),
        "stored": in_store,
    }


def _rule_name(rule: Any) -> str:
    module, name = getattr(rule, "__module__", None), getattr(rule, "__qualname__", "")
    if module and "<locals>" not in name and _resolve_rule(f"{module}:{name}") is rule:
        return f"{module}:{name}"
    return "succeeded"


def _tenant(
    tenant: Tenant, listed: dict[str, float] | None, pending: list[Settlement]
) -> dict[str, Any]:
    return {
        "key": tenant.key,
        "balances": dict(tenant.balances),
        "listed": None if listed is None else dict(listed),
        "touched_at": tenant.touched_at,
        "history": {"start": tenant.history.start, "entries": list(tenant.history)},
        "pending": [
            {
                "provider": s.task.provider,
                "task_id": s.task.id,
                "currency": s.currency,
                "amount": s.amount,
                "reason": s.reason,
                "rule": _rule_name(s.rule),
            }
            for s in pending
        ],
    }


# --- import --------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    return json.loads((contracts_dir() / "state.schema.json").read_text(encoding="utf-8"))


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with each local ``$ref`` replaced by what it names (the schema has no cycles),
    so the compiled check below can take it."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, defs) for v in node]
    return node


@cache
def fast_check() -> Callable[[Any], bool] | None:
    """A compiled yes/no check of the schema (mockserver.spec.fast_check): a snapshot of
    thousands of tasks is checked in milliseconds, where jsonschema takes seconds. A no is
    explained by jsonschema, so the messages are the same either way."""
    from mockserver.spec import fast_check as compiled

    raw = schema()
    defs = raw.get("$defs", {})
    body = {k: v for k, v in raw.items() if k not in ("$schema", "$id", "$defs")}
    return compiled(_inlined(body, defs))


def check(doc: Any) -> None:
    """Refuse a document that is not a snapshot this version reads (SnapshotError)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError(
            f'not an avatar-mock state snapshot (no "format": "{FORMAT}"); '
            "make one with `avatar-mock state export FILE` or GET /__mock/state"
        )
    version = doc.get("version")
    if version != VERSION:
        advice = (
            "upgrade avatar-mock to import it"
            if isinstance(version, int) and version > VERSION
            else "export it again with this avatar-mock from a server that holds that state"
        )
        raise SnapshotError(
            f"snapshot format version {version!r}; this avatar-mock reads version {VERSION}: "
            + advice
        )
    fast = fast_check()
    if fast is not None and fast(doc):
        return
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema()).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        problems = [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:20]]
        raise SnapshotError("the snapshot does not match contracts/state.schema.json", problems)


def restore(state: MockState, doc: Any) -> dict[str, Any]:
    """Reset ``state`` and put the snapshot ``doc`` in; what was imported. A document that is
    refused (SnapshotError) leaves ``state`` as it was."""
    check(doc)
    served = set(state.scenario.providers)
    strangers = sorted({t["provider"] for t in doc["tasks"]} - served)
    if strangers:
        raise SnapshotError(
            f"the snapshot holds tasks of {', '.join(strangers)}, which this server does not "
            f"serve (serving: {', '.join(sorted(served))})"
        )
    families = _known_families()
    tasks = [_read_task(raw, families) for raw in doc["tasks"]]
    by_ref = {(t.provider, t.id): t for t in tasks}
    held: list[dict[str, Any]] = []  # what each task's provider stores keep, by store
    for raw in doc["tasks"]:
        try:
            held.append(resolved(raw["extra"] or {}, lambda p, i: by_ref.get((p, i))))
        except UnknownTask as unknown:
            raise SnapshotError(
                f"a task names task {unknown.task_id}, which the snapshot does not hold"
            ) from None
    tenants = [_read_tenant(raw, by_ref, state.accounts.history_size) for raw in doc["tenants"]]
    uploads = [_read_upload(raw) for raw in doc["uploads"]]
    clock = doc["clock"]
    moved = state.clock.mode == "virtual"

    if moved:  # first, so what reset starts afresh (chaos windows) starts at the new time
        state.clock.jump(clock["now"])  # the schema bounds both as the clock does
        state.clock.set_speed(clock["speed"])
    state.reset()
    state.restore_id_streams({name: _read_stream(s) for name, s in doc["ids"].items()})
    for raw, task, records in zip(doc["tasks"], tasks, held, strict=True):
        if raw["stored"]:
            evict_at = raw["evict_at"]
            state.store.add(task, None if evict_at is None else evict_at - task.created_at)
        state.stores.load_task_data(task, records)
    for raw, (tenant, pending) in zip(doc["tenants"], tenants, strict=True):
        if raw["listed"] is not None:
            state.accounts.listed[tenant.key] = dict(raw["listed"])
        state.accounts.adopt(tenant)
        for settlement in pending:
            tenant.schedule(settlement, state.accounts.next_seq)
    for upload, data in uploads:
        state.uploads.restore(upload, data)
    return {
        "imported": {
            "tasks": sum(1 for raw in doc["tasks"] if raw["stored"]),
            "tenants": len(tenants),
            "uploads": len(uploads),
        },
        "clock": state.clock.describe()
        | ({} if moved else {"kept": "the real clock cannot be set; times are as exported"}),
        "webhooks": "none planned for imported tasks",
    }


def _inf(value: float | None) -> float:
    return math.inf if value is None else float(value)


def _family(provider: str, raw: dict[str, Any], known: dict[TaskFamily, TaskFamily]) -> TaskFamily:
    """The provider's own family object when it has one of this shape (some handlers check
    identity), else an equal one."""
    wanted = TaskFamily(
        provider=provider,
        name=raw["name"],
        states=tuple(raw["states"]),
        success=raw["success"],
        failure=raw["failure"],
        fails_after=raw["fails_after"],
    )
    return known.get(wanted, wanted)


def _known_families() -> dict[TaskFamily, TaskFamily]:
    """Every TaskFamily the providers registered or keep at module level, by value."""
    from mockserver.registry import providers

    found: dict[TaskFamily, TaskFamily] = {}
    for name, provider in providers().items():
        prefix = f"mockserver.providers.{name}"
        for module_name, module in list(sys.modules.items()):
            if module is not None and module_name.startswith(prefix):
                for value in vars(module).values():
                    if isinstance(value, TaskFamily):
                        found.setdefault(value, value)
        for family in provider.task_families.values():
            found[family] = family
    return found


def _read_task(raw: dict[str, Any], families: dict[TaskFamily, TaskFamily]) -> Task:
    timeline = raw["timeline"]
    states, times = tuple(timeline["states"]), tuple(_inf(t) for t in timeline["times"])
    if not states or len(states) != len(times) or list(times) != sorted(times):
        raise SnapshotError(f"task {raw['id']}: a timeline needs as many times as states, in order")
    task = Task(
        id=raw["id"],
        provider=raw["provider"],
        family=_family(raw["provider"], raw["family"], families),
        tenant=raw["tenant"],
        seq=raw["seq"],
        created_at=raw["created_at"],
        timeline=Timeline(states, times, timeline["failure"]),
        params=raw["params"],
    )
    return task


RULES_UNDER = "mockserver.providers."  # where a settlement rule may be looked up


def _resolve_rule(name: str) -> Any:
    """The provider function ``module:name`` names, if it can be a rule: a file may not make
    the mock call anything else (``os:system``) when a task ends."""
    module, _, attr = name.partition(":")
    if not module.startswith(RULES_UNDER):
        return None
    try:
        value: Any = importlib.import_module(module)
        for part in attr.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError, ValueError):
        return None
    if not inspect.isfunction(value):
        return None
    params = list(inspect.signature(value).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return value if len(params) == 2 and all(p.kind in positional for p in params) else None


def _succeeded(task: Task, ended_at: float) -> bool:
    return task.timeline.succeeded


def _read_tenant(
    raw: dict[str, Any], tasks: dict[tuple[str, str], Task], history_size: int
) -> tuple[Tenant, list[Settlement]]:
    history = History(history_size)
    for entry in raw["history"]["entries"]:
        history.append(entry)
    history.start += raw["history"]["start"]  # append counted what a smaller ring dropped
    tenant = Tenant(raw["key"], dict(raw["balances"]), history, touched_at=raw["touched_at"])
    pending = []
    for s in raw["pending"]:
        task = tasks.get((s["provider"], s["task_id"]))
        if task is None:
            raise SnapshotError(
                f"tenant {raw['key']}: a settlement names task {s['task_id']}, "
                "which the snapshot does not hold"
            )
        rule = _succeeded if s["rule"] == "succeeded" else _resolve_rule(s["rule"])
        if rule is None:
            raise SnapshotError(f"tenant {raw['key']}: no settlement rule {s['rule']!r} here")
        pending.append(Settlement(task, s["currency"], s["amount"], s["reason"], rule))
    return tenant, pending


def _read_upload(raw: dict[str, Any]) -> tuple[Upload, bytes | None]:
    try:
        return decode_upload(raw)
    except ValueError:
        raise SnapshotError(f"upload {raw['key']!r}: body is not base64") from None


def _read_stream(raw: dict[str, Any]) -> dict[str, Any]:
    rng = raw["rng"]
    if rng is not None:
        rng = (rng["version"], tuple(rng["state"]), rng["gauss"])
        try:
            random.Random().setstate(rng)
        except (TypeError, ValueError, OverflowError):
            raise SnapshotError("ids: an RNG state that Python's random cannot take") from None
    return {"seq": raw["seq"], "rng": rng}
