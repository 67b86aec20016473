"""YAML loading with the C loader when available, and JSON renderings that spare start-up it.

Start-up time matters (issue #8): parsing YAML in Python is slow (the YouCam contract takes
~360 ms) and importing PyYAML alone costs ~20 ms. A YAML file that is read at every start
therefore ships with a JSON rendering next to it (``name.yaml`` -> ``name.json``, written by
``python -m contracts.render_json``) stamped with the hash of the YAML it came from;
:func:`load_yaml_file` uses the rendering only while the stamp matches, so the YAML stays the
source of truth. PyYAML itself is imported on first use.

The kit owns this format (its documents are the ones rendered) and needs nothing from the
server to read them; the server reads its own YAML files through it (mockserver.yamlio).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

SOURCE_HASH = "x-avatar-mock-source-sha256"


@cache
def _loader() -> type:
    """The fastest safe loader. PyYAML is imported here, not at module import: a default
    start reads only JSON renderings and never needs it."""
    import yaml

    try:
        return yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - libyaml missing
        return yaml.SafeLoader


def load_yaml(text: str) -> Any:
    import yaml  # lazy: see _loader

    return yaml.load(text, Loader=_loader())


def compose_yaml(text: str) -> yaml.Node | None:
    """The node tree, with line numbers, used to point at a bad key."""
    import yaml  # lazy: see _loader

    return yaml.compose(text, Loader=_loader())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _text(raw: bytes) -> str:
    """What ``path.read_text(encoding="utf-8")`` reads from the bytes ``raw``: universal
    newlines."""
    text = raw.decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def file_digest(raw: bytes) -> str:
    """``_digest`` of the text of a file whose bytes are ``raw``, hashing the bytes as they are
    where no newline needs translating: decoding and re-encoding the A2E contract's 640 kB
    cost ~1 ms of every start."""
    return hashlib.sha256(raw).hexdigest() if b"\r" not in raw else _digest(_text(raw))


def rendering_path(path: Path) -> Path:
    """Where the JSON rendering of the YAML file ``path`` lives."""
    return path.with_suffix(".json")


def render_json(path: Path) -> str:
    """The YAML mapping in ``path`` as JSON, stamped with the hash of the YAML text.

    Refuses a document JSON cannot carry unchanged (say, a non-string key), so a rendering
    never reads differently from its YAML.
    """
    text = path.read_text(encoding="utf-8")
    doc = load_yaml(text)
    if not isinstance(doc, dict) or SOURCE_HASH in doc:
        raise ValueError(f"{path}: only a mapping without {SOURCE_HASH!r} can be rendered")
    out = json.dumps({**doc, SOURCE_HASH: _digest(text)}, ensure_ascii=False, separators=(",", ":"))
    back = json.loads(out)
    back.pop(SOURCE_HASH)
    if back != doc:
        raise ValueError(f"{path}: JSON cannot carry this document unchanged")
    return out + "\n"


def load_yaml_file(path: Path) -> Any:
    """The document in the YAML file ``path``: from its JSON rendering while that carries the
    hash of this YAML text, else parsed from the YAML."""
    raw = path.read_bytes()
    rendered = rendering_path(path)
    if rendered.exists():
        doc = _json_loads(rendered.read_bytes())
        if isinstance(doc, dict) and doc.pop(SOURCE_HASH, None) == file_digest(raw):
            return doc
    return load_yaml(_text(raw))


def _json_loads(raw: bytes) -> Any:
    """orjson where it is installed (the server's own dependency: several times faster on
    the YouCam contract's 400 KB, read at every start), the standard library otherwise or
    where orjson refuses what json reads (an integer beyond 64 bits)."""
    try:
        import orjson
    except ImportError:  # the kit alone, without the server's dependencies
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
