"""Start-up (issue #8): a plain start reads JSON renderings, never YAML, and imports neither
PyYAML nor jsonschema until a refusal must be explained or a user's scenario validated."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import yamlio
from mockserver.resources import scenario_preset

# The YAML files besides the contracts (see test_spec_binding) that every start reads. The
# YouCam feature rows travel in the YouCam contract (x-feature), so they need no file of theirs.
RENDERED = {"default scenario": scenario_preset("default")}


@pytest.mark.parametrize("source", RENDERED.values(), ids=RENDERED.keys())
def test_rendering_is_in_step_with_the_yaml(source: Path):
    path = yamlio.rendering_path(source)
    assert path.exists() and path.read_text(encoding="utf-8") == yamlio.render_json(source), (
        f"{path.name} is stale: run python contracts/render_json.py {source}"
    )
    text = source.read_text(encoding="utf-8")
    assert yamlio.load_yaml_file(source) == yamlio.load_yaml(text)


def test_a_stale_rendering_is_never_used(tmp_path: Path):
    source = tmp_path / "default.yaml"
    shutil.copy(RENDERED["default scenario"], source)
    yamlio.rendering_path(source).write_text(yamlio.render_json(source), encoding="utf-8")
    assert yamlio.load_yaml_file(source)["seed"] == 1
    source.write_text(source.read_text(encoding="utf-8").replace("seed: 1", "seed: 2"))
    assert yamlio.load_yaml_file(source)["seed"] == 2  # the YAML, not the JSON


def test_a_document_json_would_change_is_not_rendered(tmp_path: Path):
    source = tmp_path / "table.yaml"
    source.write_text("codes:\n  200: ok\n")  # an integer key: JSON would make it "200"
    with pytest.raises(ValueError, match="unchanged"):
        yamlio.render_json(source)


def test_a_plain_start_and_valid_requests_import_neither_yaml_nor_jsonschema():
    code = """
import asyncio, json, sys
from aiohttp.test_utils import TestClient, TestServer
from mockserver.app import create_app

async def main():
    auth = {"Authorization": "Bearer sk-startup"}
    async with TestClient(TestServer(create_app())) as client:
        resp = await client.get("/s2s/v2.0/task/template/ai-avatar?page_size=1", headers=auth)
        assert resp.status == 200, await resp.text()
        body = {"template_id": "female_manga_mood", "output_count": 4,
                "src_file_url": "https://example.com/me.jpg"}
        resp = await client.post("/s2s/v2.0/task/ai-avatar", json=body, headers=auth)
        assert resp.status == 200, await resp.text()
        before = sorted(m for m in ("yaml", "jsonschema") if m in sys.modules)
        resp = await client.post("/s2s/v2.0/task/ai-avatar", json={**body, "output_count": 0},
                                 headers=auth)
        refusal = await resp.json()
    print(json.dumps({"before": before, "refusal": refusal["error"],
                      "after": "jsonschema" in sys.modules}))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["before"] == []
    # a refusal is still explained by jsonschema, in the same words
    assert seen["after"] is True
    assert seen["refusal"] == (
        "Invalid parameter value: output_count: 0 is less than the minimum of 1"
    )


def test_lazy_routes_are_the_resources_aiohttp_would_build():
    from aiohttp import web

    from mockserver.app import create_app
    from mockserver.lazyroutes import LazyResource

    app = create_app()
    lazy = [r for r in app.router.resources() if isinstance(r, LazyResource)]
    assert len(lazy) > 100  # every templated path of the three contracts
    for resource in lazy:
        built = web.DynamicResource(resource._orig_path)
        assert resource.get_info() == built.get_info(), resource._orig_path
        assert resource.canonical == built.canonical
    # The control API's, mounted under its prefix.
    (mount,) = [r for r in app.router.resources() if isinstance(r, web.PrefixedSubAppResource)]
    prefix, control = mount.get_info()["prefix"], mount.get_info()["app"]
    mounted = [r for r in control.router.resources() if isinstance(r, LazyResource)]
    assert len(mounted) >= 5
    for resource in mounted:
        built = web.DynamicResource(resource._orig_path)
        built.add_prefix(prefix)
        assert resource.get_info() == built.get_info(), resource._orig_path
        assert resource.canonical == built.canonical
    # The same resources, in the same order, with the same methods, as router.add_route gives
    # (the control API's sub-application aside).
    own = [r for r in app.router.resources() if isinstance(r, web.Resource)]
    plain = web.Application().router
    for resource in own:
        path = resource.get_info().get("formatter") or resource.get_info()["path"]
        for route in resource:
            plain.add_route(route.method, path, route.handler)
    assert [(r.canonical, sorted(x.method for x in r)) for r in plain.resources()] == [
        (r.canonical, sorted(x.method for x in r)) for r in own
    ]


def test_a_lazy_route_compiles_its_pattern_on_the_first_match_only():
    from mockserver.lazyroutes import RouteAdder

    async def handler(request):
        raise AssertionError("not called")

    from aiohttp import web

    router = web.Application().router
    adder = RouteAdder(router)
    first = adder.add("GET", "/v1/tasks/{task_id}", handler)
    second = adder.add("DELETE", "/v1/tasks/{task_id}", handler)
    assert first.resource is second.resource  # one resource, two methods, as aiohttp does
    resource = first.resource
    assert "_pattern" not in vars(resource)
    assert resource._match("/v1/tasks/a%2Fb") == {"task_id": "a/b"}
    assert resource._match("/v1/tasks/a/b") is None
    assert "_pattern" in vars(resource)
    # A path with a regex of its own is aiohttp's to build, as before.
    custom = adder.add("GET", "/v1/files/{name:.+}", handler)
    assert type(custom.resource) is web.DynamicResource


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_rendering_stamp_is_the_hash_of_the_text_read(tmp_path: Path, newline: str):
    from mockserver.contracts.rendering import _digest, file_digest

    source = tmp_path / "doc.yaml"
    source.write_bytes(newline.join(["a: 1", "b: é", ""]).encode())
    assert file_digest(source.read_bytes()) == _digest(source.read_text(encoding="utf-8"))
    yamlio.rendering_path(source).write_text(yamlio.render_json(source), encoding="utf-8")
    assert yamlio.load_yaml_file(source) == {"a": 1, "b": "é"}
