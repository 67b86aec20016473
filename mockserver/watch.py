"""``serve --watch``: replace the scenario when its file changes, keeping all live state.

Polls the file's modification time (a scenario file is small and rarely written; polling needs
no extra dependency and works on every filesystem, bind mounts included). An invalid file is
reported and the scenario in force stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from aiohttp import web

from mockserver.keys import STATE_KEY
from mockserver.scenario import ScenarioError, load

log = logging.getLogger("avatar_mock")


class ScenarioWatcher:
    def __init__(self, app: web.Application, path: str | Path, interval: float = 0.5) -> None:
        self.app = app
        self.path = Path(path)
        self.interval = interval
        self._mtime = self._stat()
        self._task: asyncio.Task | None = None

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def check(self) -> str | None:
        """Reload if the file changed: "reloaded", "refused" (invalid), or None (unchanged)."""
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            scenario = load(self.path)
        except ScenarioError as exc:
            log.warning("scenario %s not reloaded: %s", self.path, "; ".join(exc.problems))
            return "refused"
        self.app[STATE_KEY].replace_scenario(scenario)
        log.warning("scenario %s reloaded", self.path)
        return "reloaded"

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.check()

    async def start(self, app: web.Application) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, app: web.Application) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def watch(app: web.Application, path: str | Path) -> ScenarioWatcher:
    watcher = ScenarioWatcher(app, path)
    app.on_startup.append(watcher.start)
    app.on_cleanup.append(watcher.stop)
    return watcher
