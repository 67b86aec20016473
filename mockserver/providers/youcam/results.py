"""What a successful YouCam task answers in ``data.results``, by the row's result kind.

``url`` (one file, optionally a ``dst_id`` to chain without re-uploading), ``output`` (a list of
files), ``json`` (the documented analysis sample) and ``skin_analysis`` (a ZIP, or per-concern
scores with mask URLs when ``format`` is ``json``). URLs are presigned-looking links to real
fixture files on the mock, valid for ``result_url_ttl`` and re-issued on every read.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from mockserver.context import RequestContext, View
from mockserver.families import Render
from mockserver.media import fixture_bytes
from mockserver.providers.youcam.features import Feature
from mockserver.providers.youcam.models import FileRecord, dst_id
from mockserver.providers.youcam.stores import FileStore
from mockserver.tasks import Task

MEDIA = {"jpg": "result.jpg", "png": "result.png", "mp4": "result.mp4", "zip": "result.zip"}


class Links:
    """Signed links for one answer, all with the same expiry."""

    def __init__(self, view: View, task: Task) -> None:
        ttl = view.settings.get("result_url_ttl")
        self.expires = None if ttl is None else view.now + ttl
        self.view = view
        self.stem = task.id[:16]

    def url(self, media: str, name: str) -> str:
        fixture = MEDIA[media]
        ext = fixture.rsplit(".", 1)[1]
        return self.view.links.url(
            self.view.origin, fixture, f"{self.stem}_{name}.{ext}", self.expires
        )


def _sample(field: dict[str, Any], index: int = 0) -> Any:
    value = field["sample"]
    return value[index % len(value)] if isinstance(value, list) else value


def keep_result_file(ctx: RequestContext, feature: Feature, task: Task) -> None:
    """Make the result's ``dst_id`` a file of the tenant, the first time the result is read
    (the renderer only names it; the file is kept here, beside the render)."""
    result = feature.result
    if result["kind"] != "url" or not result.get("dst_id"):
        return
    media = result.get("media", "jpg")
    file_id = dst_id(task)
    files = FileStore.of(ctx.state)
    if files.get(file_id, ctx.now) is None:
        fixture = MEDIA[media]
        data = fixture_bytes(fixture)
        retention = ctx.settings.get("file_retention")
        files.add(
            FileRecord(
                file_id=file_id,
                tenant=task.tenant,
                content_type="image/png" if media == "png" else "image/jpeg",
                file_name=f"{task.id[:16]}.{media}",
                file_size=len(data),
                created_at=ctx.now,
                token="",
                data=data,
                expires_at=None if retention is None else ctx.now + retention,
                fixture=fixture,
            )
        )


def _skin_analysis(links: Links, task: Task) -> dict[str, Any]:
    if task.params.get("format", "zip") != "json":
        return {"url": links.url("zip", "skinanalysisResult")}
    rng = random.Random(f"skin:{task.id}")
    output = []
    for action in task.params.get("dst_actions") or []:
        raw = round(rng.uniform(40, 98), 2)
        output.append(
            {
                "type": action,
                "ui_score": min(100, int(raw) + rng.randint(0, 12)),
                "raw_score": raw,
                "mask_urls": [links.url("png", f"{action}_output")],
            }
        )
    return {"output": output}


def build(view: View, feature: Feature, task: Task) -> dict[str, Any]:
    """The results of a successful task of ``feature``, as its status endpoint shows them."""
    result = feature.result
    kind = result["kind"]
    links = Links(view, task)
    media = result.get("media", "jpg")
    if kind == "json":
        return copy.deepcopy(result["sample"])
    if kind == "skin_analysis":
        return _skin_analysis(links, task)
    extras = {name: _sample(field) for name, field in (result.get("extra") or {}).items()}
    if kind == "url":
        out: dict[str, Any] = {"url": links.url(media, "result")}
        if result.get("dst_id"):
            out["dst_id"] = dst_id(task)
        return {**out, **extras}
    count_param = result.get("count_param")
    count = int(task.params.get(count_param, 1)) if count_param else int(result.get("count", 1))
    item = result.get("item") or {}
    output = [
        {"url": links.url(media, str(i)), **{k: _sample(f, i) for k, f in item.items()}}
        for i in range(count)
    ]
    return {"output": output, **extras}


def pre_process(view: View, kind: str, task: Task) -> dict[str, Any]:
    """The detection task's answer: candidate boxes (``boxes``) or faces with a preview."""
    rng = random.Random(f"pre:{task.id}")
    left, top = rng.randint(40, 200), rng.randint(40, 200)
    width, height = rng.randint(180, 320), rng.randint(220, 380)
    if kind == "faces":
        links = Links(view, task)
        return {
            "url": links.url("jpg", "faces"),
            "faces": [{"bbox": [left, top, left + width, top + height]}],
        }
    return {
        "timed": round(rng.uniform(0.2, 0.9), 3),
        "result": [{"left": left, "top": top, "width": width, "height": height}],
    }


def status_row(
    task: Task, view: View, results: Callable[[View, Any, Task], Any], what: Any
) -> dict[str, Any]:
    """A task's status ``data`` at ``view.now``; ``results(view, what, task)`` makes a
    success's results (no closure per poll: this is on every status poll's path)."""
    status = task.timeline.state_at(view.now)
    data: dict[str, Any] = {"task_status": status, "error": None, "results": None}
    if status == "success":
        data["results"] = results(view, what, task)
    elif status == "error":
        failure = task.timeline.failure or {}
        data["error"] = failure.get("error", "unknown_internal_error")
        data["error_message"] = failure.get("error_message", "")
    interval = view.settings.get("polling_interval_ms")
    if interval is not None:
        data["polling_interval"] = interval
    return data


def renderer(feature: Feature) -> Render:
    """The pure renderer of ``feature``'s status rows."""

    def render(task: Task, view: View) -> dict[str, Any]:
        return status_row(task, view, build, feature)

    return render


def pre_renderer(feature: Feature) -> Render:
    """The pure renderer of ``feature``'s detection (pre-process) status rows."""
    kind = feature.pre_process or "boxes"

    def render(task: Task, view: View) -> dict[str, Any]:
        return status_row(task, view, pre_process, kind)

    return render
