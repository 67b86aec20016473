"""The YouCam feature table (``features.yaml``) as typed rows, and everything a row implies
in the contract.

One row describes one AI feature at one path version: its operations and their ids, the flat
request body (JSON Schema built from shared building blocks plus the feature's own params), the
result shape, the unit cost and the sku lines ``feature-cost`` lists, its template catalog and
its documented engine errors. ``build_spec.py`` renders the OpenAPI document from the rows and
writes each row, as written, on its run operation (``x-feature``, with the table's defaults
once in ``x-feature-defaults``): the server binds its handlers from the rows it reads back out
of the document (:func:`rows_of`), so the contract is what it serves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from ..rendering import load_yaml

HERE = Path(__file__).resolve().parent
TABLE = HERE / "features.yaml"
ROW = "x-feature"  # on a run operation: its row as written in the table
DEFAULTS = "x-feature-defaults"  # on the document: the table's defaults

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
    """One row of the feature table: a YouCam task endpoint, as the contract declares it."""

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

    @cached_property  # every operationId below is made from it
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


F = TypeVar("F", bound=Feature)


def parse_row(raw: dict[str, Any], defaults: dict[str, Any], cls: type[F]) -> F:
    """One row of the table, its defaults filled in."""
    row = {**defaults, **raw}
    result = {**defaults["result"], **(raw.get("result") or {})}
    version = row["version"]
    templates = row.get("templates") or None
    return cls(
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


def _unique(rows: tuple[F, ...]) -> tuple[F, ...]:
    keys = [f.key for f in rows]
    if len(set(keys)) != len(keys):
        raise ValueError("features.yaml: a slug appears twice for the same version")
    return rows


def read_table() -> dict[str, Any]:
    """features.yaml as written: ``defaults`` and the ``features`` rows."""
    doc = load_yaml(TABLE.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{TABLE}: not a mapping")
    return doc


def load_table() -> tuple[Feature, ...]:
    """Every row of features.yaml, in table order (what build_spec writes the contract from)."""
    doc = read_table()
    return _unique(tuple(parse_row(raw, doc["defaults"], Feature) for raw in doc["features"]))


def raw_rows(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows the contract carries, as written, in table order (run operations are written
    in table order, and no two rows share one)."""
    for item in (document.get("paths") or {}).values():
        run = item.get("post") if isinstance(item, dict) else None
        if isinstance(run, dict) and ROW in run:
            yield run[ROW]


def rows_of(document: dict[str, Any], cls: type[F]) -> tuple[F, ...]:
    """The feature rows of a YouCam OpenAPI document (its ``x-feature`` extensions)."""
    defaults = document[DEFAULTS]
    return _unique(tuple(parse_row(raw, defaults, cls) for raw in raw_rows(document)))


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


def first_template(feature: Feature) -> str:
    """The id a template catalog starts with: its ``example`` (a catalog shipped as a data
    file of the mock names its first id), else the first id generated from ``prefix``."""
    spec = feature.templates or {}
    if "example" in spec:
        return str(spec["example"])
    if "file" in spec:
        raise ValueError(f"{feature.key}: a template file needs its first id as `example`")
    return f"{spec.get('prefix') or feature.slug.replace('-', '_') + '_'}001"


def example_body(feature: Feature) -> dict[str, Any]:
    """A documented-looking body the mock accepts: URLs for files, the first template."""
    body: dict[str, Any] = {}
    for block in feature.blocks:
        if block.optional:
            continue
        name = block.names[0]
        if name == "template":
            body["template_id"] = first_template(feature) if feature.templates else "t_001"
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
    props: dict[str, Any]
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
