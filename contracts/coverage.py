"""Every provider's coverage page, and the README table of their counts.

    python contracts/coverage.py --readme          # rewrite README.md's coverage table
    python contracts/coverage.py --readme --check  # exit 1 if that table is stale

Each provider writes its own page, ``contracts/<provider>/COVERAGE.md`` (its
``coverage.py`` beside it): every operation, whether documented, seen in client code, inferred
or guessed, and where the evidence is. The page's first bold line is its count;
``avatar-mock coverage PROVIDER`` prints the page, and the README's table is built from the
pages and the documents, so after a provider's page is regenerated one command brings the
README's numbers along.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
NAMES = {"youcam": "YouCam", "relay": "Avatar relay", "a2e": "A2E"}
START = "<!-- coverage table: python contracts/coverage.py --readme; do not edit -->"
END = "<!-- end of coverage table -->"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_BOLD = re.compile(r"^\*\*(.+)\*\*$", re.M)


def page_path(provider: str) -> Path:
    return HERE / provider / "COVERAGE.md"


def providers() -> list[str]:
    """The providers that publish a coverage page, in the README's order."""
    found = {p.parent.name for p in HERE.glob("*/COVERAGE.md")}
    return [*(p for p in NAMES if p in found), *sorted(found - set(NAMES))]


def page(provider: str) -> str:
    return page_path(provider).read_text(encoding="utf-8")


def summary(provider: str) -> str:
    """The page's count line, without its bold marks."""
    match = _BOLD.search(page(provider))
    return match.group(1).rstrip(".") if match else ""


def operation_count(provider: str) -> int:
    """The operations of the provider's OpenAPI document (read as YAML: this file runs as a
    script too, outside any package)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load((HERE / provider / "openapi.yaml").read_text(encoding="utf-8"), Loader=loader)
    return sum(1 for item in doc["paths"].values() for method in item if method in METHODS)


def table() -> str:
    lines = [
        START,
        "| provider | operations served | coverage (`avatar-mock coverage PROVIDER`) |",
        "|---|---|---|",
    ]
    for provider in providers():
        link = f"[contracts/{provider}/COVERAGE.md](contracts/{provider}/COVERAGE.md)"
        lines.append(
            f"| {NAMES.get(provider, provider)} | {operation_count(provider)} | "
            f"{summary(provider)} ({link}) |"
        )
    lines.append(END)
    return "\n".join(lines)


def readme_with_table(text: str) -> str:
    """README's text with its coverage table replaced (the markers stay where they are)."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + table() + text[end:]


def main(argv: list[str]) -> int:
    if "--readme" not in argv:
        print("usage: python contracts/coverage.py --readme [--check]", file=sys.stderr)
        return 2
    current = README.read_text(encoding="utf-8")
    wanted = readme_with_table(current)
    if "--check" in argv:
        if wanted != current:
            print(
                "README.md's coverage table is stale: run python contracts/coverage.py --readme",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
