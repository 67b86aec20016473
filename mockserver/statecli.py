"""``avatar-mock state export FILE`` and ``state import FILE``: snapshots of a running mock.

Both talk to the server's control API (``GET`` / ``PUT /__mock/state``) with its admin-token
rules, so they work against any running mock, whichever state backend it uses, and the file
means the same thing everywhere. A file is checked against its schema here before it is sent,
so a bad one is refused without a round trip, in the same words the server would use.
``FILE`` ``-`` is standard output or input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"


def add_parser(sub: Any, admin_token_env: str, default_token: str | None) -> None:
    """The ``state`` command and its two verbs, on the CLI's subparsers."""
    state = sub.add_parser(
        "state",
        help="export or import a running mock's state (a versioned JSON snapshot)",
        description="Snapshots through the control API of a running mock: "
        "GET /__mock/state (export) and PUT /__mock/state (import: reset, then load; no "
        "webhook fires for imported tasks).",
    )
    verbs = state.add_subparsers(dest="verb", required=True)
    for verb, help_text in (
        ("export", "write the mock's state to FILE (- for standard output)"),
        ("import", "reset the mock and load FILE (- for standard input)"),
    ):
        p = verbs.add_parser(verb, help=help_text)
        p.add_argument("file", metavar="FILE")
        p.add_argument("--url", default=DEFAULT_URL, help=f"the mock (default {DEFAULT_URL})")
        p.add_argument(
            "--admin-token",
            default=default_token,
            help=f"bearer token for /__mock/ off loopback (or ${admin_token_env})",
        )


def run(args: argparse.Namespace) -> int:
    """0: done; 1: the server or the file refused; 2: the server could not be reached."""
    return _export(args) if args.verb == "export" else _import(args)


def _request(args: argparse.Namespace, method: str, body: bytes | None = None) -> tuple[int, Any]:
    import urllib.error  # not at import: `avatar-mock serve` starts without it
    import urllib.request

    headers = {"Content-Type": "application/json"} if body is not None else {}
    if args.admin_token:
        headers["Authorization"] = f"Bearer {args.admin_token}"
    url = f"{args.url.rstrip('/')}/__mock/state"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, {"error": raw.decode("utf-8", "replace")[:200] or err.reason}


def _refused(status: int, answer: Any) -> int:
    problems = answer.get("problems", []) if isinstance(answer, dict) else []
    error = answer.get("error", answer) if isinstance(answer, dict) else answer
    print(f"avatar-mock: the server refused ({status}): {error}", file=sys.stderr)
    for problem in problems:
        if problem != error:
            print(f"  - {problem}", file=sys.stderr)
    return 1


def _unreachable(args: argparse.Namespace, exc: OSError) -> int:
    print(
        f"avatar-mock: cannot reach a mock at {args.url}: {exc}; start one with "
        "`avatar-mock serve` or give --url",
        file=sys.stderr,
    )
    return 2


def _export(args: argparse.Namespace) -> int:
    try:
        status, doc = _request(args, "GET")
    except OSError as exc:
        return _unreachable(args, exc)
    if status != 200:
        return _refused(status, doc)
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        tasks, tenants = len(doc["tasks"]), len(doc["tenants"])
        print(f"{args.file}: {tasks} tasks, {tenants} tenants, {len(doc['uploads'])} uploads")
    return 0


def _import(args: argparse.Namespace) -> int:
    from mockserver.jsonio import JsonError, loads
    from mockserver.snapshot import SnapshotError, check

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"avatar-mock: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        check(loads(raw))
    except (JsonError, SnapshotError) as exc:
        print(f"avatar-mock: {args.file}: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", []):
            if problem != str(exc):
                print(f"  - {problem}", file=sys.stderr)
        return 1
    try:
        status, answer = _request(args, "PUT", raw)
    except OSError as exc:
        return _unreachable(args, exc)
    if status != 200:
        return _refused(status, answer)
    done = answer["imported"]
    print(
        f"{args.file}: imported {done['tasks']} tasks, {done['tenants']} tenants, "
        f"{done['uploads']} uploads; clock at {answer['clock']['now']}"
    )
    return 0
