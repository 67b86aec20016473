"""Every number a scenario file holds is finite and in range, or the file is refused by key
and line (issue #12).

JSON Schema cannot refuse NaN: ``{"type": "number", "minimum": 0}`` accepts ``.nan``, and
``.inf`` passes any minimum. A scenario that sets every numeric field of
contracts/scenario.schema.json is mutated one number at a time, and each bad value must be
named where it stands.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
import yaml

from mockserver.resources import contracts_dir
from mockserver.scenario import ScenarioError, parse_text

# Every numeric field of the schema, at least once (test_every_numeric_field_is_exercised).
FULL: dict[str, Any] = {
    "seed": 7,
    "balances": {"units": 10, "coins": 20, "diamonds": 3, "quota": 40},
    "auth": {"mode": "any", "tenants": {"sk-listed": {"units": 5, "coins": 6}}},
    "journal": {"size": 500},
    "limits": {
        "max_body_bytes": 65536,
        "max_tasks": 1000,
        "max_tasks_per_tenant": 100,
        "max_tenants": 100,
        "tenant_idle_ttl": 3600,
        "history_per_tenant": 100,
        "violations_kept": 100,
        "presets_kept": 100,
    },
    "webhooks": {
        "timeout": 5,
        "retry_schedule": [1, 10],
        "concurrency": 4,
        "per_target": 2,
        "queue_size": 1000,
        "attempts_kept": 100,
        "chaos": [{"effect": "delay", "probability": 0.5, "seconds": 3}],
    },
    "chaos": {
        "rules": [
            {
                "name": "slow",
                "effect": {"type": "latency", "latency": {"fixed": 1}},
                "probability": 0.5,
                "times": 3,
                "during": {"from": 0, "to": 100},
            },
            {"effect": {"type": "latency", "latency": {"uniform": [1, 2]}}},
            {"effect": {"type": "latency", "latency": {"lognormal": {"median": 1, "sigma": 0.5}}}},
            {"effect": {"type": "rate_limit", "retry_after": 5}},
            {"effect": {"type": "truncate", "fraction": 0.5}},
            {"effect": {"type": "dribble", "chunk_bytes": 10, "interval": 0.1}},
            {"effect": {"type": "status", "status": 503, "code": 7}},
        ]
    },
    "providers": {
        "youcam": {
            "settings": {
                "polling_window": 60,
                "task_retention": 86400,
                "result_url_ttl": 7200,
                "file_retention": 3600,
                "polling_interval_ms": 2000,
                "v1_auth": {"token_ttl": 7200, "timestamp_tolerance": 300},
                "unit_lots": [{"type": "ApiPaygToken", "share": 1, "expires_in": 3600}],
                "uploads": {
                    "max_file_bytes": 1_000_000,
                    "max_files": 10,
                    "max_bytes": 100_000,
                    "max_total_bytes": 1_000_000,
                    "retention": 600,
                    "url_ttl": 3600,
                },
            },
            "rate_limits": [{"per": "key", "limit": 10, "window": 60}],
            "costs": {"ai-avatar": 4},
            "families": {
                "ai-avatar": {
                    "states": {"running": {"min": 1, "max": 2}},
                    "failure_rate": 0.1,
                    "stuck": {"state": "running", "rate": 0.1},
                    "queue_pressure": {"state": "running", "seconds_per_running_task": 2},
                    "max_running_per_tenant": 3,
                    "failures": [{"error": "error_no_face", "score": 0.5}],
                }
            },
        },
        "relay": {
            "settings": {
                "notify_retries": [1, 2],
                "token_concurrency_limit": 4,
                "openai_video_ttl": 600,
            },
            "families": {"avatar": {"states": {"NOT_START": 0.5}}},
        },
        "a2e": {"settings": {"streaming_capacity": 5, "auth_error_status": 401}},
    },
}
FREE_FORM = ("failures",)  # the provider's own failure fields: any finite number is theirs
SIGNED = ("seed", "code")  # the fields whose schema admits negatives


def numeric_leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in numeric_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in numeric_leaves(v, (*path, i))]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [path]
    return []


LEAVES = numeric_leaves(FULL)


def with_value(path: tuple, value: Any) -> str:
    doc = copy.deepcopy(FULL)
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_full_scenario_is_valid():
    scenario = parse_text(yaml.safe_dump(FULL, sort_keys=False))
    assert scenario.seed == 7 and scenario.journal_size == 500


def _bad_values(path: tuple) -> list[tuple[str, Any]]:
    bad = [("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("huge-int", 10**400)]
    if not any(part in FREE_FORM for part in path):
        bad.append(("1e300", 1e300))
        if path[-1] not in SIGNED:
            bad.append(("negative", -1))
    return bad


CASES = [(path, name, value) for path in LEAVES for name, value in _bad_values(path)]


@pytest.mark.parametrize(
    ("path", "name", "value"), CASES, ids=[f"{'.'.join(map(str, p))}={n}" for p, n, _ in CASES]
)
def test_a_bad_number_is_refused_where_it_stands(path, name, value):
    text = with_value(path, value)
    with pytest.raises(ScenarioError) as info:
        parse_text(text, "bad.yaml")
    dotted = ".".join(map(str, path))
    # oneOf fields (a duration, a latency) are refused at the field that holds the choice
    places = {".".join(map(str, path[:n])) for n in range(max(len(path) - 2, 1), len(path) + 1)}
    named = [p for p in info.value.problems if p.split(" (line ")[0] in places]
    assert named, (dotted, info.value.problems)
    assert all("(line " in p for p in named), named


def test_a_long_integer_in_yaml_is_refused_not_raised():
    """PyYAML raises ValueError (not a YAMLError) for an integer of more than 4,300 digits."""
    with pytest.raises(ScenarioError):
        parse_text("seed: " + "9" * 5000)


def _schema_numeric_fields() -> set[str]:
    schema = json.loads((contracts_dir() / "scenario.schema.json").read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            kinds = node.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if "number" in kinds or "integer" in kinds:
                found.add("/".join(path))
            for key, child in node.items():
                walk(child, [*path, key])
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, [*path, str(i)])

    walk(schema, [])
    return found


def _field_name(schema_path: str) -> str | None:
    """The property a schema path ends in (``.../unit_lots/items/properties/share``: share);
    None for a $defs entry that is itself the number (a duration)."""
    parts = schema_path.split("/")
    names = [
        p for i, p in enumerate(parts)
        if p not in ("properties", "items", "oneOf", "additionalProperties", "$defs")
        and not p.isdigit() and not (i == 1 and parts[0] == "$defs")
    ]  # fmt: skip
    return names[-1] if names else None


def test_every_numeric_field_is_exercised():
    in_full = {str(part) for leaf in LEAVES for part in leaf}
    wanted = {_field_name(p) for p in _schema_numeric_fields()} - {None, "count"}  # count: presets
    assert wanted <= in_full, sorted(wanted - in_full)


def test_every_numeric_field_of_the_schema_has_bounds():
    """So that a key added later is bounded too: NaN aside, 1e308 is a number no duration,
    rate, limit or balance means."""
    schema = json.loads((contracts_dir() / "scenario.schema.json").read_text(encoding="utf-8"))
    unbounded = []
    for path in _schema_numeric_fields():
        node: Any = schema
        for part in path.split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        if "enum" not in node and not (
            "maximum" in node and ("minimum" in node or "exclusiveMinimum" in node)
        ):
            unbounded.append(path)
    assert not unbounded, unbounded
