"""A throwaway Redis server for the backend tests: on a free port, in a temp dir, no disk.

``AVATAR_MOCK_REDIS_URL`` names a server to use instead. Without it and without the
``redis-server`` binary the Redis tests skip and say how to run them; CI (``.ci/run``)
installs the binary, so there they always run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.serve_processes import free_port

ENV = "AVATAR_MOCK_REDIS_URL"
REQUIRE = "AVATAR_MOCK_REQUIRE_REDIS"  # set by .ci/run: no Redis is a failure, not a skip
SKIP_REASON = (
    "no Redis for the redis backend tests: install Debian's redis-server "
    f"(apt-get install redis-server) or set {ENV}=redis://HOST:PORT/DB"
)


def with_prefix(url: str, prefix: str) -> str:
    """``url`` with its keys under ``prefix``: tests sharing one server never see each other."""
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


@contextmanager
def redis_server(workdir: Path) -> Iterator[str | None]:
    """The url of a running server, or None when there is none to be had."""
    given = os.environ.get(ENV)
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get(REQUIRE):
            raise RuntimeError(f"{REQUIRE} is set and there is no redis-server: " + SKIP_REASON)
        yield None
        return
    for _ in range(5):  # another process may take the port between probe and bind
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        ready = False
        for line in proc.stdout:  # the server says when it is ready, or exits
            if "Ready to accept connections" in line:
                ready = True
                break
        if ready:
            # keep reading what it logs, so a full pipe never blocks the server
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            break
        proc.wait()
    else:
        raise RuntimeError("redis-server did not start on a free port in five tries")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
