"""Give every documented A2E operation the reference's operationId, across the repo.

    python contracts/a2e/adopt_reference_ids.py          # rename, then regenerate the pages
    python contracts/a2e/adopt_reference_ids.py --check  # exit 1 while an old id is served

Issue 15: "Where the reference names an operationId, the OpenAPI document uses it." The
mapping is read, not written down: for each operation of reference.yaml, the id openapi.yaml
serves at the same method and path (parameter names ignored) is renamed to the reference's.
So the script can be run again after a merge brings operations under older names, and a run
with nothing to rename changes nothing.

An old id is replaced where it stands as a name: in openapi.yaml after ``operationId:`` (the
operations and their link targets), in reference.yaml after ``served_by_mock:`` (never in the
reference's own words), and as a name in A2E's handler modules, the tests, bench and the
scenario presets. It is left alone inside a path (``/startDubbing``; ``|startDubbing)`` in a
regex; a test's ``start="startDubbing"`` path fragment) and in the other providers' folders
(YouCam has a ``getFaceSwapTask`` of its own). The flaky preset's ``"start*"`` glob matched
only A2E's old start ids; it becomes ``"postApiV1*Start*"``, which matches the reference's.
No alias is kept: after the rename nothing in the repo names an old id (``--check`` says so).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
METHODS = ("get", "put", "post", "delete", "patch")
# Where an old id may stand as a name (globs under ROOT); other providers' folders are not.
SCOPE = (
    "contracts/a2e/openapi.yaml",
    "contracts/a2e/reference.yaml",
    "contracts/a2e/*.md",
    "mockserver/providers/a2e/**/*.py",
    "mockserver/*.py",
    "contracts/suite/*.py",
    "contracts/reportcard/**/*.py",
    "tests/**/*.py",
    "bench/**/*.py",
    "fixtures/scenarios/*.yaml",
    "README.md",
)
GENERATED = ("contracts/a2e/COVERAGE.md",)  # rewritten by its own generator afterwards
GLOBS = {'"start*"': '"postApiV1*Start*"'}  # in fixtures/scenarios: A2E's start operations
# In these files only the value after the key is a name; the rest is prose or the reference's.
KEYED = {"openapi.yaml": "operationId", "reference.yaml": "served_by_mock"}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def renames() -> dict[str, str]:
    """old operationId -> the reference's, for every documented operation served otherwise."""
    doc = yaml.load((HERE / "openapi.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    served = {
        (method.upper(), _shape(path)): op["operationId"]
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }
    ref = yaml.load((HERE / "reference.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    mapping = {}
    for group in ref["groups"]:
        for section in group["sections"]:
            for op in section["operations"]:
                old = served.get((op["method"], _shape(op["path"])))
                if old is not None and old != op["operationId"]:
                    mapping[old] = op["operationId"]
    return mapping


def _pattern(mapping: dict[str, str], key: str | None = None) -> re.Pattern[str]:
    names = "|".join(sorted(map(re.escape, mapping), key=len, reverse=True))
    if key is not None:  # the value of ``key:``, in block or flow style
        return re.compile(rf"(?<=\b{key}: )({names})(?![\w/$-])")
    # a name, not part of a longer name, a path segment or a regex alternation
    return re.compile(rf'(?<![\w/|.$-])(?<!start=")({names})(?![\w/$-])')


def files() -> list[Path]:
    found: set[Path] = set()
    for pattern in SCOPE:
        found.update(p for p in ROOT.glob(pattern) if p.is_file())
    skip = {ROOT / g for g in GENERATED} | {Path(__file__).resolve()}
    return sorted(p for p in found if p not in skip and ".venv" not in p.parts)


def rename(mapping: dict[str, str]) -> list[Path]:
    changed = []
    for path in files():
        text = path.read_text(encoding="utf-8")
        keyed = KEYED.get(path.name) if path.parent == HERE else None
        pattern = _pattern(mapping, keyed)
        new = pattern.sub(lambda m: mapping[m.group(1)], text) if mapping else text
        if path.parent.name == "scenarios":
            for old, glob in GLOBS.items():
                new = new.replace(old, glob)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def regenerate() -> None:
    for script in ("contracts/a2e/coverage.py", "contracts/render_json.py"):
        subprocess.run([sys.executable, str(ROOT / script)], check=True, cwd=ROOT)


def main(argv: list[str]) -> int:
    mapping = renames()
    if "--check" in argv:
        for old, new in sorted(mapping.items()):
            print(f"{old} is served for the reference's {new}", file=sys.stderr)
        return 1 if mapping else 0
    changed = rename(mapping)
    print(f"{len(mapping)} operationIds renamed in {len(changed)} files")
    for path in changed:
        print(f"  {path.relative_to(ROOT)}")
    regenerate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
