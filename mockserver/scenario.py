"""Load a scenario file, validate it against contracts/scenario.schema.json, type it.

A user's file is laid over the built-in default (fixtures/scenarios/default.yaml), so it only
names what it changes. A bad file is refused with messages that name the key and its line.

JSON Schema bounds every number but cannot refuse NaN (``{"type": "number"}`` accepts it, and
``.nan`` passes any ``minimum``), so every value is checked again after the schema
(jsonio.value_problems): a non-finite or oversized number, a string no encoder can write, a
document too deep or, through YAML aliases, too large, each named with its key and line.

The built-in default is trusted as shipped (tests validate it) and read from its JSON
rendering, so a plain start imports neither PyYAML nor jsonschema: both are imported here
only for a user's file or preset, or a preset queued through the control API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.jsonio import DocumentTooLarge, ValuePath, dotted, value_problems
from mockserver.lifecycle import FamilyConfig
from mockserver.ratelimit import Limit
from mockserver.resources import contracts_dir, scenario_preset
from mockserver.yamlio import compose_yaml, load_yaml, load_yaml_file

if TYPE_CHECKING:
    import yaml
    from jsonschema import Draft202012Validator


class ScenarioError(Exception):
    """The scenario file is invalid; ``problems`` lists each one with its location."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class RateLimitRule:
    """A provider's rate limit, counted per API key or per client address."""

    per: str  # "key" | "ip"
    limit: Limit


@dataclass
class ProviderConfig:
    """One provider's part of a scenario: family timings, rate limits, settings, costs."""

    families: dict[str, FamilyConfig]
    rate_limits: tuple[RateLimitRule, ...]
    settings: dict[str, Any]
    costs: dict[str, Any]


@dataclass
class Scenario:
    """A parsed scenario: what the mock is set up to do, checked once as it is loaded."""

    seed: int
    auth_mode: str  # "any" | "listed"
    tenants: dict[str, dict[str, float]]
    default_balances: dict[str, float]
    journal_size: int
    max_body_bytes: int
    providers: dict[str, ProviderConfig]
    raw: dict[str, Any] = field(repr=False)

    def provider(self, name: str) -> ProviderConfig:
        return self.providers[name]


@cache
def _schema() -> dict[str, Any]:
    return json.loads((contracts_dir() / "scenario.schema.json").read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # lazy: only a user's scenario is validated

    return Draft202012Validator(_schema())


@cache
def preset_validator() -> Draft202012Validator:
    """Validates a preset queued through the control API (its schema is in scenario.schema)."""
    from jsonschema import Draft202012Validator  # lazy: see _validator

    schema = _schema()
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/preset"})


def _line_of(root: yaml.Node | None, path: list[Any]) -> int | None:
    """1-based line of the node at ``path`` (or its nearest existing parent)."""
    import yaml  # lazy: only a refused file is pointed into

    node = root
    line = None if node is None else node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    node, line = value_node, key_node.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _node_tree(text: str | None) -> yaml.Node | None:
    """The text's node tree for line numbers, or None (a JSON text YAML cannot read)."""
    import yaml  # lazy: see _line_of

    if text is None:
        return None
    try:
        return compose_yaml(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


def _located(root: yaml.Node | None, path: ValuePath, message: str) -> tuple[int, str]:
    """``(line, "where (line N): message")``; line 0 when the text does not place it."""
    where = dotted(path) or "(top level)"
    line = _line_of(root, path)
    return line or 0, f"{where}{f' (line {line})' if line else ''}: {message}"


def _problems(data: Any, text: str | None) -> list[str]:
    """Every problem in ``data``, in the order of the text: the schema's, and after it the
    values no schema can judge (NaN passes ``minimum``), unless the schema named them."""
    root = _node_tree(text)
    try:
        values = value_problems(data)
    except DocumentTooLarge as exc:  # validating it is what would hang or exhaust the stack
        return [_located(root, exc.path, str(exc))[1]]
    problems = []
    refused = set()
    for err in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = list(err.absolute_path)
        refused.add(tuple(path))
        message = err.message
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra:
                path = [*path, extra[0]]
                message = f"unknown key {extra[0]!r}"
        problems.append(_located(root, path, message))
    problems.extend(
        _located(root, path, message)
        for path, message in values
        if tuple(path) not in refused  # the schema said it already: `.nan is not an integer`
    )
    return [text for _, text in sorted(problems, key=lambda p: p[0])]  # stable: schema first


def _chaos_problems(data: dict[str, Any]) -> list[str]:
    """Chaos numbers no JSON Schema bound refuses (a NaN passes every one), read as the mock
    will read them: fault rules (chaos.scenario_problems) and webhook chaos."""
    from mockserver.chaos import scenario_problems
    from mockserver.numbers import NumberError
    from mockserver.webhooks import WebhookSettings

    problems = scenario_problems(data.get("chaos"))
    try:
        WebhookSettings.parse(data.get("webhooks"))
    except NumberError as err:
        problems.append(str(err))
    return problems


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


@cache
def _default_raw() -> dict[str, Any]:
    return load_yaml_file(scenario_preset("default"))


def parse_text(text: str, source: str = "<scenario>") -> Scenario:
    """The scenario in YAML (or JSON) ``text``, laid over the default; ScenarioError if bad."""
    import yaml  # lazy: a plain start reads no scenario text (see the module docstring)

    try:
        data = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [f"not valid YAML: {exc}"]) from exc
    except (ValueError, RecursionError) as exc:  # an int of 5,000 digits; nesting, pure loader
        raise ScenarioError(source, [f"not a YAML document the mock can read: {exc}"]) from None
    return parse_data(data, source, text)


def parse_data(data: Any, source: str = "<scenario>", text: str | None = None) -> Scenario:
    """The scenario in an already parsed document (``text``, if given, places the problems)."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): a scenario is a mapping of keys"])
    problems = _problems(data, text) or _chaos_problems(data)
    if problems:
        raise ScenarioError(source, problems)
    merged = _merge(_default_raw(), data)
    problems = _problems(merged, None) or _profile_problems(merged)
    if problems:
        raise ScenarioError(source, problems)
    return _typed(merged)


def _profile_problems(raw: dict[str, Any]) -> list[str]:
    """A ``rate_limits`` that names a profile must name one the provider declares."""
    problems = []
    for name, cfg in raw["providers"].items():
        chosen = cfg.get("rate_limits")
        known = cfg.get("rate_limit_profiles") or {}
        if isinstance(chosen, str) and chosen not in known:
            names = ", ".join(sorted(known)) or "none"
            problems.append(f"providers.{name}.rate_limits: no profile {chosen!r} (known: {names})")
    return problems


def _rules(cfg: dict[str, Any]) -> tuple[RateLimitRule, ...]:
    """The provider's rules: its list, or the profile its ``rate_limits`` names."""
    rules = cfg.get("rate_limits") or ()
    if isinstance(rules, str):
        rules = cfg["rate_limit_profiles"][rules]
    return tuple(RateLimitRule(r["per"], Limit(int(r["limit"]), float(r["window"]))) for r in rules)


def load(path: str | Path | None = None, preset: str | None = None) -> Scenario:
    """The scenario in ``path``, the named preset, or the built-in default."""
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(str(p), [f"cannot read: {exc.strerror}"]) from exc
        return parse_text(text, str(p))
    if preset is not None:
        p = scenario_preset(preset)
        if not p.exists():
            raise ScenarioError(preset, ["no such preset"])
        return parse_text(p.read_text(encoding="utf-8"), str(p))
    return _typed(_default_raw())


def _typed(raw: dict[str, Any]) -> Scenario:
    providers = {}
    for name, cfg in raw["providers"].items():
        providers[name] = ProviderConfig(
            families={f: FamilyConfig.parse(c) for f, c in (cfg.get("families") or {}).items()},
            rate_limits=_rules(cfg),
            settings=dict(cfg.get("settings") or {}),
            costs=dict(cfg.get("costs") or {}),
        )
    auth = raw.get("auth") or {}
    return Scenario(
        seed=int(raw["seed"]),
        auth_mode=auth.get("mode", "any"),
        tenants={k: dict(v or {}) for k, v in (auth.get("tenants") or {}).items()},
        default_balances=dict(raw["balances"]),
        journal_size=int(raw["journal"]["size"]),
        max_body_bytes=int(raw["limits"]["max_body_bytes"]),
        providers=providers,
        raw=raw,
    )
