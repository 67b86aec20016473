"""The YouCam feature table (``features.yaml``) as typed rows, and everything a row implies.

One row describes one AI feature at one path version: its operations and their ids, the flat
request body (JSON Schema built from shared building blocks plus the feature's own params), the
result shape, the unit cost and the sku lines ``feature-cost`` lists, its template catalog and
its documented engine errors. ``contracts/youcam/build_spec.py`` renders the OpenAPI document
from the same rows the handlers are bound from, so the two cannot disagree.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.lifecycle import TaskFamily
from mockserver.yamlio import load_yaml_file

HERE = Path(__file__).parent
TABLE = HERE / "features.yaml"
DATA = HERE / "data"

MB = 1024 * 1024
IMAGE_LIMIT = 10 * MB
VIDEO_LIMIT = 100 * MB
IMAGE_TYPES = ("image/jpg", "image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
EXAMPLE_URLS = {
    "image": "https://example.com/selfie.jpg",
    "video": "https://example.com/clip.mp4",
    "ref": "https://example.com/reference.jpg",
    "msk": "https://example.com/mask.png",
}

# Building block -> (url field, file-id field, is a list). ``template`` is template_id alone.
BLOCKS: dict[str, tuple[str, str, bool]] = {
    "src": ("src_file_url", "src_file_id", False),
    "srcs": ("src_file_urls", "src_file_ids", True),
    "ref": ("ref_file_url", "ref_file_id", False),
    "refs": ("ref_file_urls", "ref_file_ids", True),
    "msk": ("msk_file_url", "msk_file_id", False),
    "srcmsk": ("srcmsk_file_url", "srcmsk_file_id", False),
    "refmsks": ("refmsk_file_urls", "refmsk_file_ids", True),
}

# The base engine error codes every bundle lists, and the platform-wide additions.
ENGINE_ERRORS = (
    "error_exceed_max_image_size",
    "exceed_max_filesize",
    "invalid_parameter",
    "error_download_image",
    "error_download_mask",
    "error_decode_image",
    "error_decode_mask",
    "error_nsfw_content_detected",
    "error_no_face",
    "error_pose",
    "error_face_parsing",
    "error_inference",
    "exceed_nsfw_retry_limits",
    "error_upload",
    "unknown_internal_error",
    "error_multiple_people",
    "error_large_face_angle",
    "error_no_shoulder",
    "error_hair_too_short",
    "error_bald_image",
    "error_unsupport_ratio",
    "error_download_video",
    "error_decode_video",
    "error_unexpected_video_duration",
)


def camel(slug: str) -> str:
    """``2d-vto/ring`` -> ``2dVtoRing``; ``text-to-image/youcam`` -> ``TextToImageYoucam``."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[-/]", slug) if p)


@dataclass(frozen=True)
class Block:
    """One input building block of a row: ``src``, ``ref?``, or ``ref|template``."""

    names: tuple[str, ...]  # one name, or the alternatives of "a|b"
    optional: bool

    @classmethod
    def parse(cls, token: str) -> Block:
        optional = token.endswith("?")
        return cls(tuple(token.rstrip("?").split("|")), optional)

    def fields(self, name: str) -> tuple[str, ...]:
        if name == "template":
            return ("template_id",)
        url, file_id, _ = BLOCKS[name]
        return (url, file_id)


@dataclass(frozen=True)
class Feature:
    slug: str
    version: str
    title: str
    engine: str
    evidence: str
    blocks: tuple[Block, ...]
    src_kind: str
    params: dict[str, Any]
    required: tuple[str, ...]
    dependent: dict[str, Any]
    strict: bool
    checks: tuple[str, ...]
    templates: dict[str, Any] | None
    pre_process: str | None
    result: dict[str, Any]
    cost: dict[str, Any]
    action: str
    errors: tuple[str, ...]
    polling_window: bool
    example: dict[str, Any]
    file_types: tuple[str, ...] | None
    guess: tuple[str, ...]
    source: str
    rules: tuple[dict[str, Any], ...]
    template_gate: dict[str, Any] | None

    # --- names -------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The task family name: the slug, with ``@v2.1`` for the v2.1 path."""
        return self.slug if self.version == "v2.0" else f"{self.slug}@{self.version}"

    @property
    def pre_key(self) -> str:
        return f"{self.key}/pre-process"

    @property
    def camel(self) -> str:
        suffix = "" if self.version == "v2.0" else "V" + self.version[1:].replace(".", "")
        return camel(self.slug) + suffix

    @property
    def run_op(self) -> str:
        return f"run{self.camel}Task"

    @property
    def status_op(self) -> str:
        return f"get{self.camel}Task"

    @property
    def templates_op(self) -> str:
        return f"list{self.camel}Templates"

    @property
    def pre_run_op(self) -> str:
        return f"run{self.camel}PreProcessTask"

    @property
    def pre_status_op(self) -> str:
        return f"get{self.camel}PreProcessTask"

    @property
    def file_op(self) -> str:
        return f"create{self.camel}File"  # one per row: v2.1 rows upload on their own path

    @property
    def run_path(self) -> str:
        return f"/s2s/{self.version}/task/{self.slug}"

    @property
    def status_path(self) -> str:
        return self.run_path + "/{task_id}"

    @property
    def templates_path(self) -> str:
        return f"/s2s/{self.version}/task/template/{self.slug}"

    @property
    def pre_path(self) -> str:
        return self.run_path + "/pre-process"

    @property
    def file_path(self) -> str:
        return f"/s2s/{self.version}/file/{self.slug}"

    # --- inputs and files --------------------------------------------------------------

    def has_block(self, name: str) -> bool:
        return any(name in b.names for b in self.blocks)

    @property
    def template_required(self) -> bool:
        return any(b.names == ("template",) and not b.optional for b in self.blocks)

    def id_fields(self) -> list[tuple[str, str, bool]]:
        """``(file-id field, expected kind, is a list)`` for every file id the body may hold."""
        out = []
        for block in self.blocks:
            for name in block.names:
                if name in BLOCKS:
                    _, field, many = BLOCKS[name]
                    kind = (
                        self.src_kind if name.startswith("src") and "msk" not in name else "image"
                    )
                    out.append((field, kind, many))
        return out

    @property
    def upload_types(self) -> tuple[str, ...]:
        """Content types the feature's own file endpoint accepts."""
        if self.file_types:
            return self.file_types
        if self.src_kind == "video":
            return VIDEO_TYPES + (IMAGE_TYPES if len(self.id_fields()) > 1 else ())
        return IMAGE_TYPES

    @property
    def upload_limit(self) -> int:
        return (
            VIDEO_LIMIT if any(t.startswith("video/") for t in self.upload_types) else IMAGE_LIMIT
        )

    # --- results and costs -------------------------------------------------------------

    @property
    def result_kind(self) -> str:
        return self.result["kind"]

    @property
    def engine_errors(self) -> tuple[str, ...]:
        """Every engine code the status answer may carry for this feature."""
        return tuple(dict.fromkeys((*ENGINE_ERRORS, *self.errors)))

    def family(self) -> TaskFamily:
        return TaskFamily(
            provider="youcam",
            name=self.key,
            states=("running",),
            success="success",
            failure="error",
        )

    def pre_family(self) -> TaskFamily:
        return TaskFamily(
            provider="youcam",
            name=self.pre_key,
            states=("running",),
            success="success",
            failure="error",
        )


def _row(raw: dict[str, Any], defaults: dict[str, Any]) -> Feature:
    row = {**defaults, **raw}
    result = {**defaults["result"], **(raw.get("result") or {})}
    version = row["version"]
    templates = row.get("templates") or None
    return Feature(
        slug=row["slug"],
        version=version,
        title=row["title"],
        engine=row["engine"],
        evidence=row["evidence"],
        blocks=tuple(Block.parse(t) for t in row["inputs"]),
        src_kind=row["src_kind"],
        params=dict(row["params"] or {}),
        required=tuple(row["required"] or ()),
        dependent=dict(row.get("dependent") or {}),
        strict=bool(row["strict"]),
        checks=tuple(row.get("checks") or ()),
        templates=dict(templates) if templates else None,
        pre_process=row.get("pre_process") or None,
        result=result,
        cost=dict(row["cost"]),
        action=row.get("action") or "api_" + re.sub(r"[-/]", "_", row["slug"]),
        errors=tuple(row["errors"]),
        polling_window=bool(row["polling_window"]),
        example=dict(row.get("example") or {}),
        file_types=tuple(row["file_types"]) if row.get("file_types") else None,
        guess=tuple(str(g) for g in row.get("guess") or ()),
        source=str(row.get("source") or ""),
        rules=tuple(row.get("rules") or ()),
        template_gate=dict(row["template_gate"]) if row.get("template_gate") else None,
    )


@cache
def features() -> tuple[Feature, ...]:
    """Every row of the table, in table order.

    Read at import by the handler modules, so at every start: from features.json, the
    table's JSON rendering, while that is in step with features.yaml (see yamlio).
    """
    doc = load_yaml_file(TABLE)
    rows = tuple(_row(raw, doc["defaults"]) for raw in doc["features"])
    keys = [f.key for f in rows]
    if len(set(keys)) != len(keys):  # pragma: no cover - guarded by the table test
        raise ValueError("features.yaml: a slug appears twice for the same version")
    return rows


@cache
def by_key() -> dict[str, Feature]:
    return {f.key: f for f in features()}


# --- template catalogs -------------------------------------------------------------------


@cache
def catalog(key: str) -> tuple[dict[str, str], ...]:
    """A feature's templates: a shipped data file, or a catalog generated from its row."""
    feature = by_key()[key]
    spec = feature.templates or {}
    if "file" in spec:
        return tuple(json.loads((DATA / spec["file"]).read_text(encoding="utf-8")))
    categories = spec.get("categories") or ["General"]
    prefix = spec.get("prefix") or feature.slug.replace("-", "_") + "_"
    out = []
    for i in range(int(spec.get("count", 20))):
        category = categories[i % len(categories)]
        out.append(
            {
                "id": f"{prefix}{i + 1:03d}",
                "title": f"{category} {i // len(categories) + 1}",
                "category_name": category,
            }
        )
    return tuple(out)


@cache
def template_ids(key: str) -> frozenset[str]:
    return frozenset(t["id"] for t in catalog(key))


# --- request bodies ----------------------------------------------------------------------


def _exactly_one(fields: tuple[str, ...]) -> dict[str, Any]:
    """One and only one of ``fields`` (a oneOf whose description is the client's message)."""
    return {
        "description": f"exactly one of {' or '.join(fields)}",
        "oneOf": [{"required": [f], "not": _any_of([o for o in fields if o != f])} for f in fields],
    }


def _any_of(fields: list[str]) -> dict[str, Any]:
    if len(fields) == 1:
        return {"required": fields}
    return {"anyOf": [{"required": [f]} for f in fields]}


def _at_most_one(fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        "description": f"at most one of {' or '.join(fields)}",
        "not": {"required": list(fields)},
    }


def _block_properties(name: str) -> dict[str, Any]:
    if name == "template":
        return {"template_id": {"type": "string", "minLength": 1}}
    url, file_id, many = BLOCKS[name]
    if many:
        item = {"type": "string", "minLength": 1}
        return {
            url: {"type": "array", "minItems": 1, "items": item},
            file_id: {"type": "array", "minItems": 1, "items": item},
        }
    return {url: {"type": "string", "minLength": 1}, file_id: {"type": "string", "minLength": 1}}


def request_schema(feature: Feature) -> dict[str, Any]:
    """The run body: flat building blocks plus the feature's own params."""
    properties: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    required: list[str] = []
    for block in feature.blocks:
        fields: tuple[str, ...] = ()
        for name in block.names:
            properties.update(_block_properties(name))
            fields += block.fields(name)
        if len(fields) == 1:
            if not block.optional:
                required.append(fields[0])
        elif block.optional:
            groups.append(_at_most_one(fields))
        else:
            groups.append(_exactly_one(fields))
    properties.update(feature.params)
    required += [r for r in feature.required if r not in required]
    schema: dict[str, Any] = {"type": "object"}
    if feature.strict:
        schema["additionalProperties"] = False
    if required:
        schema["required"] = required
    schema["properties"] = properties
    if feature.dependent:
        schema["dependentRequired"] = feature.dependent
    groups += feature.rules
    if len(groups) == 1:
        schema.update(groups[0])
    elif groups:
        schema["allOf"] = groups
    return schema


def example_body(feature: Feature) -> dict[str, Any]:
    """A documented-looking body the mock accepts: URLs for files, the first template."""
    body: dict[str, Any] = {}
    for block in feature.blocks:
        if block.optional:
            continue
        name = block.names[0]
        if name == "template":
            body["template_id"] = catalog(feature.key)[0]["id"] if feature.templates else "t_001"
            continue
        url, _, many = BLOCKS[name]
        if name in ("src", "srcs"):
            value = EXAMPLE_URLS[feature.src_kind]
        else:
            value = EXAMPLE_URLS["msk" if "msk" in name else "ref"]
        body[url] = [value] if many else value
    body.update(feature.example)
    return body


# --- results -----------------------------------------------------------------------------

URL = {"type": "string", "format": "uri"}


def _extras(spec: dict[str, Any] | None) -> dict[str, Any]:
    return {name: field["schema"] for name, field in (spec or {}).items()}


def results_schema(feature: Feature) -> dict[str, Any]:
    """The ``results`` object of a successful status answer."""
    result = feature.result
    kind = result["kind"]
    if kind in ("json", "skin_analysis"):
        return result["schema"]
    extras = _extras(result.get("extra"))
    if kind == "url":
        props = {"url": URL, **({"dst_id": {"type": "string"}} if result.get("dst_id") else {})}
        required = ["url", *(["dst_id"] if result.get("dst_id") else [])]
    else:  # output
        item = {
            "type": "object",
            "additionalProperties": False,
            "required": ["url", *result.get("item", {})],
            "properties": {"url": URL, **_extras(result.get("item"))},
        }
        props = {"output": {"type": "array", "minItems": 1, "items": item}}
        required = ["output"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [*required, *extras],
        "properties": {**props, **extras},
    }


PRE_RESULTS: dict[str, dict[str, Any]] = {
    "boxes": {
        "type": "object",
        "additionalProperties": False,
        "required": ["result"],
        "properties": {
            "timed": {"type": "number"},
            "result": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["left", "top", "width", "height"],
                    "properties": {
                        k: {"type": "number"} for k in ("left", "top", "width", "height")
                    },
                },
            },
        },
    },
    "faces": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url", "faces"],
        "properties": {
            "url": URL,
            "faces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["bbox"],
                    "properties": {
                        "bbox": {
                            "type": "array",
                            "minItems": 4,
                            "maxItems": 4,
                            "items": {"type": "integer"},
                        }
                    },
                },
            },
        },
    },
}


# --- units -------------------------------------------------------------------------------


def quantity(feature: Feature, body: dict[str, Any]) -> int:
    spec = feature.cost.get("quantity")
    if not spec:
        return 1
    value = body.get(spec["param"]) if "param" in spec else None
    if spec.get("len"):
        return len(value) if isinstance(value, list) else int(spec.get("default", 1))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return int(spec.get("default", 1))


def _by_amount(cost: dict[str, Any], body: dict[str, Any]) -> float:
    by = cost.get("by")
    if not by:
        return float(cost["amount"])
    if "present" in by:
        return float(by["present"] if by["param"] in body else by["absent"])
    value = body.get(by["param"])
    return float(by["amounts"].get(str(value), cost["amount"]))


def _variant(cost: dict[str, Any], body: dict[str, Any]) -> bool:
    """True when the body asks for the tiers' variant price (skin analysis: any HD concern)."""
    spec = cost.get("variant")
    if not spec:
        return False
    value = body.get(spec["param"])
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v.startswith(spec["prefix"]) for v in items)


def units_for(feature: Feature, body: dict[str, Any], proc_unit: float | None = None) -> float:
    """Units a successful task costs: amount x ceil(quantity / proc_unit), or its tier."""
    cost = feature.cost
    q = quantity(feature, body)
    tiers = cost.get("tiers")
    if tiers:
        key = "variant_amount" if _variant(cost, body) else "amount"
        for tier in tiers:
            if tier["upto"] is None or q <= tier["upto"]:
                return float(tier[key])
    per = proc_unit or cost.get("proc_unit", 1)
    return _by_amount(cost, body) * math.ceil(q / per)


def skus(feature: Feature, proc_unit: float | None = None) -> list[dict[str, Any]]:
    """The ``feature-cost`` lines for a feature (run_task_url added by the handler)."""
    cost = feature.cost
    name = f"{feature.title} {feature.engine}"
    unit = cost.get("unit", "result_image")
    per = int(proc_unit or cost.get("proc_unit", 1))
    base = {"unit": unit, "proc_unit": per}
    variant = cost.get("variant")
    if cost.get("tiers") and variant:
        return [
            {"description": f"{feature.title} for {t['label']} ({label})", "amount": t[key], **base}
            for t in cost["tiers"]
            for label, key in (
                (variant["base_label"], "amount"),
                (variant["label"], "variant_amount"),
            )
        ]
    if cost.get("tiers"):
        return [
            {"description": f"{feature.title} for {t['label']}", "amount": t["amount"], **base}
            for t in cost["tiers"]
        ]
    by = cost.get("by")
    if by and "present" in by:
        labels = by.get("labels", {})
        return [
            {"description": f"{name} ({labels.get(k, k)})", "amount": by[k], **base}
            for k in ("present", "absent")
        ]
    if by:
        labels = by.get("labels", {})
        return [
            {"description": f"{name} ({labels.get(k, k)})", "amount": v, **base}
            for k, v in by["amounts"].items()
        ]
    return [{"description": name, "amount": cost["amount"], **base}]
