"""Write the fast-loading JSON renderings of the YAML files read at every start.

    python contracts/render_json.py [FILE.yaml ...]

With no argument: contracts/<provider>/openapi.json for each openapi.yaml of the kit. Give a
file to render it instead (the server's built-in scenario: fixtures/scenarios/default.yaml).
Run it after editing any of those YAML files (build_spec renders the YouCam contract itself).
The YAML stays the source of truth: a rendering is used only while it carries the hash of the
YAML next to it, and tests/test_spec_binding.py and tests/test_startup.py fail while one is
stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.rendering import render_json, rendering_path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    sources = [Path(a) for a in argv] or sorted(HERE.glob("*/openapi.yaml"))
    for source in sources:
        path = rendering_path(source)
        path.write_text(render_json(source), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
