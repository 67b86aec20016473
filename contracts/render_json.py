"""Write the fast-loading JSON renderings of the YAML files read at every start.

    python contracts/render_json.py

That is contracts/<provider>/openapi.json for each openapi.yaml, and features.json and
default.json for the YouCam feature table and the built-in scenario. Run it after editing (or
generating) any of those YAML files. The YAML stays the source of truth: the server uses a
rendering only when it carries the hash of the YAML next to it, and tests/test_spec_binding.py
and tests/test_renderings.py fail while a rendering is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver import yamlio
from mockserver.providers.youcam.features import TABLE
from mockserver.registry import providers
from mockserver.resources import scenario_preset
from mockserver.spec import render_json, rendering_path

if __name__ == "__main__":
    for name in sorted(providers()):
        path = rendering_path(name)
        path.write_text(render_json(name), encoding="utf-8")
        print(f"wrote {path}")
    for source in (TABLE, scenario_preset("default")):
        path = yamlio.rendering_path(source)
        path.write_text(yamlio.render_json(source), encoding="utf-8")
        print(f"wrote {path}")
