"""The kit's own reading of a provider's OpenAPI document, and its oracle for answers.

Written apart from the server's spec.py and validation.py on purpose: the suite judges the
server, so it must not share the code that could make both agree on a wrong answer. Schemas
the suite builds requests from are inlined here; answers are checked by jsonschema against the
whole document, with ``$ref`` resolved by ``referencing`` (the server inlines refs itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .rendering import load_yaml_file

HERE = Path(__file__).resolve().parent
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class ContractError(Exception):
    """The document cannot be read as an OpenAPI contract."""


def spec_path(provider: str) -> Path:
    """``contracts/<provider>/openapi.yaml``, beside this module wherever the kit is installed."""
    return HERE / provider / "openapi.yaml"


def providers() -> list[str]:
    """Every provider the kit holds a contract for."""
    return sorted(p.parent.name for p in HERE.glob("*/openapi.yaml"))


@cache
def load_document(provider: str) -> dict[str, Any]:
    path = spec_path(provider)
    if not path.exists():
        raise ContractError(f"no OpenAPI document for provider {provider!r} at {path}")
    doc = load_yaml_file(path)
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: not a mapping")
    return doc


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _walk(root: dict[str, Any], pointer: str) -> Any:
    node: Any = root
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else ():
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(root: dict[str, Any], pointer: str) -> tuple[str, Any]:
    """The node at ``pointer``, through local ``$ref`` hops: ``(its pointer, the node)``."""
    node = _walk(root, pointer)
    seen = {pointer}
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ContractError(f"only local $ref is supported, got {ref!r}")
        pointer = ref[1:]
        if pointer in seen:
            raise ContractError(f"recursive $ref {ref!r}")
        seen.add(pointer)
        node = _walk(root, pointer)
    return pointer, node


def inline(node: Any, root: dict[str, Any], trail: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by its target (for building requests)."""
    if isinstance(node, list):
        return [inline(v, root, trail) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in trail:
            raise ContractError(f"recursive $ref {ref!r}")
        _, target = _follow(root, ref[1:] if ref.startswith("#") else ref)
        merged = inline(target, root, (*trail, ref))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**merged, **inline(siblings, root, trail)} if siblings else merged
    return {k: inline(v, root, trail) for k, v in node.items()}


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "query" | "path" | "header"
    required: bool
    schema: dict[str, Any]


@dataclass(repr=False)
class Operation:
    """One operation of the contract as the kit sees it; everything is read on first use."""

    provider: str
    operation_id: str
    method: str  # upper case
    path: str  # the OpenAPI template, e.g. /s2s/v2.0/task/ai-avatar/{task_id}
    pointer: str  # JSON pointer of the operation object in the document
    contract: Contract = field(repr=False)

    def __repr__(self) -> str:
        return f"<{self.provider}.{self.operation_id}>"

    @property
    def raw(self) -> dict[str, Any]:
        """The operation as written, ``$ref``s unresolved."""
        return _walk(self.contract.document, self.pointer)

    @cached_property
    def params(self) -> list[Param]:
        item = _walk(self.contract.document, self.pointer.rsplit("/", 1)[0])
        raw = [*item.get("parameters", []), *self.raw.get("parameters", [])]
        resolved = inline(raw, self.contract.document)
        return [
            Param(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
            for p in resolved
        ]

    @cached_property
    def _body(self) -> dict[str, Any]:
        body = self.raw.get("requestBody")
        return inline(body, self.contract.document) if body else {}

    @cached_property
    def body_schema(self) -> dict[str, Any] | None:
        """The JSON request body's schema, refs inlined, or None."""
        media = _json_media(self._body.get("content"))
        return None if media is None else media[1].get("schema")

    @cached_property
    def extensions(self) -> dict[str, Any]:
        doc = self.contract.document
        return {k: inline(v, doc) for k, v in self.raw.items() if k.startswith("x-")}

    @cached_property
    def responses(self) -> dict[int, str | None]:
        """Documented status -> JSON pointer of its JSON body schema (None: no JSON body)."""
        out: dict[int, str | None] = {}
        base = f"{self.pointer}/responses"
        for code in self.raw.get("responses") or {}:
            if not str(code).isdigit():
                continue
            where, response = _follow(self.contract.document, f"{base}/{_escape(str(code))}")
            media = _json_media(response.get("content"))
            if media is None or "schema" not in media[1]:
                out[int(code)] = None
            else:
                out[int(code)] = f"{where}/content/{_escape(media[0])}/schema"
        return out

    def expects_json(self, status: int) -> bool:
        return self.responses.get(status) is not None

    def validator(self, status: int) -> Draft202012Validator | None:
        """A validator for the body documented with ``status``, or None (no JSON body)."""
        pointer = self.responses.get(status)
        return None if pointer is None else self.contract.validator(pointer)

    def answer_problem(self, status: int, body: Any) -> str | None:
        """Why ``body`` is not what the contract says this operation answers with ``status``."""
        if status not in self.responses:
            return f"status {status} is not documented for {self.operation_id}"
        validator = self.validator(status)
        if validator is None:
            return None
        error = best_match(validator.iter_errors(body))
        if error is None:
            return None
        where = ".".join(str(p) for p in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message


def _json_media(content: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    for media_type, media in (content or {}).items():
        if "json" in media_type:
            return media_type, media
    return None


class Contract:
    """A provider's document, its operations, and one ``referencing`` registry for its refs."""

    def __init__(self, provider: str, document: dict[str, Any]) -> None:
        self.provider = provider
        self.document = document
        self.uri = f"urn:avatar-mock:contract:{provider}"
        resource = DRAFT202012.create_resource(document)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self.operations = list(self._operations())

    def _operations(self) -> Iterator[Operation]:
        seen: set[str] = set()
        for path, item in (self.document.get("paths") or {}).items():
            for method in METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                op_id = raw.get("operationId")
                if not op_id or op_id in seen:
                    raise ContractError(f"{self.provider}: {method} {path}: missing or reused id")
                seen.add(op_id)
                pointer = f"/paths/{_escape(path)}/{method}"
                yield Operation(self.provider, op_id, method.upper(), path, pointer, self)

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at ``pointer``, its refs resolved within the document."""
        if pointer not in self._validators:
            ref = {"$ref": f"{self.uri}#{quote(pointer, safe='/~')}"}
            self._validators[pointer] = Draft202012Validator(ref, registry=self.registry)
        return self._validators[pointer]


@cache
def contract(provider: str) -> Contract:
    """The provider's contract, read once per process."""
    return Contract(provider, load_document(provider))


def load_operations(provider: str) -> list[Operation]:
    return list(contract(provider).operations)
