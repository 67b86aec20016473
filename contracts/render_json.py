"""Write contracts/<provider>/openapi.json, the fast-loading rendering of each openapi.yaml.

    python contracts/render_json.py

Run it after editing (or generating) a provider's openapi.yaml. The YAML stays the source of
truth: the server uses a rendering only when it carries the hash of the YAML next to it, and
tests/test_spec_binding.py fails while a rendering is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.registry import providers
from mockserver.spec import render_json, rendering_path

if __name__ == "__main__":
    for name in sorted(providers()):
        path = rendering_path(name)
        path.write_text(render_json(name), encoding="utf-8")
        print(f"wrote {path}")
