"""What bench/peers.py needs, installed on demand into a cache outside the repository.

Nothing here is a dependency of the package: WireMock's standalone jar (the npm package
``wiremock`` ships it), Prism and Mockoon come from npm into ``<cache>/npm``; wrk comes from
Debian (``apt-get install wrk``, as root); WireMock runs on the machine's ``java`` (17+), which
is installed from Debian too when missing. Each tool that cannot be had is reported, and the
benchmark goes on without the servers that need it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("AVATAR_MOCK_BENCH_CACHE", "~/.cache/avatar-mock-bench")).expanduser()
# Pinned, so two runs measure the same peers; bump deliberately.
NPM_PACKAGES = {
    "wiremock": "3.13.2",
    "@stoplight/prism-cli": "5.16.0",
    "@mockoon/cli": "9.9.0",
}


@dataclass
class Tools:
    """Paths of what was found or installed; ``missing`` says why a tool is absent."""

    wrk: str | None = None
    taskset: str | None = None
    java: str | None = None
    wiremock_jar: Path | None = None
    prism: Path | None = None
    mockoon: Path | None = None
    missing: dict[str, str] = field(default_factory=dict)


def _run(argv: list[str], what: str, log: list[str]) -> bool:
    print(f"  installing {what}: {' '.join(argv)}", flush=True)
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode:
        log.append(f"{what}: {' '.join(argv)} exited {proc.returncode}: {proc.stderr[-400:]}")
    return proc.returncode == 0


def _apt(package: str, log: list[str]) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log.append(f"{package}: not installed, and apt-get as root is not available here")
        return False
    ok = _run(["apt-get", "install", "-y", "-q", package], package, log)
    if not ok:  # an old package list; refresh once and retry
        _run(["apt-get", "update", "-q"], "the package list", log)
        ok = _run(["apt-get", "install", "-y", "-q", package], package, log)
    return ok


def _npm_bin(name: str) -> Path:
    return CACHE / "npm" / "node_modules" / ".bin" / name


def _npm_installed(package: str, version: str) -> bool:
    manifest = CACHE / "npm" / "node_modules" / package / "package.json"
    return manifest.exists() and f'"version": "{version}"' in manifest.read_text()


def ensure(need_npm: bool = True, need_java: bool = True) -> Tools:
    """Find or install everything; never raises for a missing tool."""
    tools = Tools()
    log: list[str] = []
    tools.taskset = shutil.which("taskset")
    tools.wrk = shutil.which("wrk") or (_apt("wrk", log) and shutil.which("wrk")) or None
    if not tools.wrk:
        tools.missing["wrk"] = "no wrk (Debian package wrk); nothing can be measured"
    if need_java:
        tools.java = shutil.which("java") or (
            (_apt("openjdk-17-jre-headless", log) and shutil.which("java")) or None
        )
        if not tools.java:
            tools.missing["java"] = "no java (Debian openjdk-17-jre-headless)"
    if need_npm:
        if not shutil.which("npm"):
            tools.missing["npm"] = "no npm: WireMock's jar, Prism and Mockoon come from npm"
        else:
            wanted = [f"{p}@{v}" for p, v in NPM_PACKAGES.items() if not _npm_installed(p, v)]
            if wanted:
                (CACHE / "npm").mkdir(parents=True, exist_ok=True)
                npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE / "npm")]
                _run([*npm, *wanted], ", ".join(wanted), log)
            jars = sorted((CACHE / "npm" / "node_modules" / "wiremock").glob("**/*standalone*.jar"))
            tools.wiremock_jar = jars[-1] if jars else None
            tools.prism = _npm_bin("prism") if _npm_bin("prism").exists() else None
            tools.mockoon = _npm_bin("mockoon-cli") if _npm_bin("mockoon-cli").exists() else None
            for name, found in (
                ("wiremock", tools.wiremock_jar),
                ("prism", tools.prism),
                ("mockoon", tools.mockoon),
            ):
                if found is None:
                    tools.missing[name] = f"npm did not install it ({'; '.join(log)[-300:]})"
    for line in log:
        print(f"  ! {line}", flush=True)
    return tools
