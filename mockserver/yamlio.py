"""YAML loading and the stamped JSON renderings that spare start-up it.

The format belongs to the contract kit, whose documents are the ones rendered
(contracts/rendering.py); the server reads its contracts and scenarios through it. The server
may depend on the kit, never the reverse.
"""

from __future__ import annotations

from mockserver.contracts.rendering import (
    SOURCE_HASH,
    compose_yaml,
    load_yaml,
    load_yaml_file,
    render_json,
    rendering_path,
)

__all__ = [
    "SOURCE_HASH",
    "compose_yaml",
    "load_yaml",
    "load_yaml_file",
    "render_json",
    "rendering_path",
]
