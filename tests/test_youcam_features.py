"""Every YouCam feature of features.yaml, driven from the table: success with its result shape,
its refusals, its engine failures, its template list and its pre-process task."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from mockserver.providers.youcam.features import (
    PRE_RESULTS,
    Feature,
    by_key,
    catalog,
    example_body,
    features,
    results_schema,
    units_for,
)

FEATURES = features()
TEMPLATED = [f for f in FEATURES if f.templates]
PRE_PROCESS = [f for f in FEATURES if f.pre_process]
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "mp4": "video/mp4",
    "zip": "application/zip",
}


def ids(f: Feature) -> str:
    return f.key


def status_path(path: str, task_id: str) -> str:
    return path.replace("{task_id}", quote(task_id, safe=""))


async def units(mock, key="sk-test"):
    _, tenant = await mock.call("GET", f"/__mock/tenants/{key}", key=None)
    return tenant["balances"]["units"]


async def run(mock, feature: Feature, body=None, **kwargs) -> str:
    status, answer = await mock.call(
        "POST", feature.run_path, json=body or example_body(feature), **kwargs
    )
    assert status == 200, answer
    assert answer["status"] == 200 and set(answer) == {"status", "data"}
    return answer["data"]["task_id"]


async def poll(mock, feature: Feature, task_id: str, key="sk-test"):
    return await mock.call("GET", status_path(feature.status_path, task_id), key=key)


def expected_cost(mock, feature: Feature, body) -> float:
    override = mock.state.scenario.providers["youcam"].costs.get(feature.key)
    return units_for(feature, body, float(override) if override else None)


async def fetch(mock, url: str, media: str) -> None:
    resp = await mock.client.get(mock.local(url))
    assert resp.status == 200, url
    assert resp.content_type == CONTENT_TYPES[media]
    assert len(await resp.read()) > 0


async def check_results(mock, feature: Feature, body, results) -> None:
    Draft202012Validator(results_schema(feature)).validate(results)
    result = feature.result
    media = result.get("media", "jpg")
    kind = result["kind"]
    if kind == "url":
        await fetch(mock, results["url"], media)
        assert ("dst_id" in results) == bool(result.get("dst_id"))
    elif kind == "output":
        count = body[result["count_param"]] if "count_param" in result else result.get("count", 1)
        urls = [o["url"] for o in results["output"]]
        assert len(urls) == count == len(set(urls))
        await fetch(mock, urls[0], media)
    elif kind == "json":
        assert results == result["sample"]
    else:  # skin_analysis
        if body.get("format") == "json":
            assert [o["type"] for o in results["output"]] == body["dst_actions"]
            await fetch(mock, results["output"][0]["mask_urls"][0], "png")
        else:
            await fetch(mock, results["url"], "zip")


@pytest.mark.parametrize("feature", FEATURES, ids=ids)
async def test_feature_runs_to_success_with_its_result_shape(mock, feature):
    before = await units(mock)
    body = example_body(feature)
    task_id = await run(mock, feature, body)
    status, answer = await poll(mock, feature, task_id)
    assert status == 200
    assert answer["data"] == {"task_status": "running", "error": None, "results": None}
    assert await units(mock) == before  # nothing until it succeeds
    mock.advance(10)
    status, answer = await poll(mock, feature, task_id)
    data = answer["data"]
    assert data["task_status"] == "success" and data["error"] is None, data
    await check_results(mock, feature, body, data["results"])
    assert await units(mock) == before - expected_cost(mock, feature, body)


@pytest.mark.parametrize("feature", FEATURES, ids=ids)
async def test_feature_engine_failure_is_http_200_and_free(mock, feature):
    before = await units(mock)
    code = feature.errors[0]
    task_id = await run(mock, feature, headers={"X-Mock-Outcome": f"failure:{code}"})
    mock.advance(10)
    status, answer = await poll(mock, feature, task_id)
    assert status == 200
    data = answer["data"]
    assert data["task_status"] == "error" and data["error"] == code and data["results"] is None
    assert isinstance(data["error_message"], str)
    assert await units(mock) == before


@pytest.mark.parametrize("feature", FEATURES, ids=ids)
async def test_feature_refusals(mock, feature):
    body = example_body(feature)
    refusals = []
    if feature.has_block("src"):
        refusals.append(
            ({k: v for k, v in body.items() if not k.startswith("src_file")}, "InvalidParameters")
        )
        refusals.append(({**body, "src_file_id": "f", "src_file_url": "u"}, "InvalidParameters"))
    for name in feature.required:
        refusals.append(({k: v for k, v in body.items() if k != name}, "InvalidParameters"))
    if feature.templates:
        no_ref = {k: v for k, v in body.items() if not k.startswith("ref_file")}
        gate = feature.template_gate  # bg-replace reads template_id only under type template
        if gate:
            no_ref[gate["param"]] = gate["value"]
        refusals.append(({**no_ref, "template_id": "no_such_template"}, "InvalidTemplate"))
    if feature.strict:
        refusals.append(({**body, "mock_unexpected": 1}, "BadRequest"))
    for bad, code in refusals:
        mock.advance(1)  # paced under the documented 5 requests per second
        status, answer = await mock.call("POST", feature.run_path, json=bad)
        assert (status, answer.get("error_code")) == (400, code), (bad, answer)
        assert set(answer) == {"status", "error", "error_code"} and answer["status"] == 400
    assert len(mock.state.store) == 0  # a refused run makes no task
    if not feature.strict:  # params the catalog does not know are tolerated
        await run(mock, feature, {**body, "mock_unexpected": 1})


@pytest.mark.parametrize("feature", TEMPLATED, ids=ids)
async def test_template_list_pages_to_the_end(mock, feature):
    seen, token = [], None
    while True:
        params = {"page_size": "7", **({"starting_token": token} if token else {})}
        mock.advance(1)  # paced under the documented 5 requests per second
        status, answer = await mock.call("GET", feature.templates_path, params=params)
        assert status == 200
        seen += [t["id"] for t in answer["data"]["templates"]]
        token = answer["data"]["next_token"]
        if token is None:
            break
    assert seen == [t["id"] for t in catalog(feature.key)]
    assert example_body(feature).get("template_id", seen[0]) in seen


@pytest.mark.parametrize("feature", PRE_PROCESS, ids=ids)
async def test_pre_process_detects_targets(mock, feature):
    status, answer = await mock.call(
        "POST", feature.pre_path, json={"src_file_url": "https://e.x/a.jpg"}
    )
    assert status == 200
    task_id = answer["data"]["task_id"]
    path = feature.pre_path + "/{task_id}"
    mock.advance(10)
    status, answer = await mock.call("GET", status_path(path, task_id))
    assert status == 200 and answer["data"]["task_status"] == "success"
    Draft202012Validator(PRE_RESULTS[feature.pre_process]).validate(answer["data"]["results"])
    # a detection task is read on its own path only, and is not a run-endpoint task
    assert (await poll(mock, feature, task_id))[0] == 400
    status, answer = await mock.call("POST", "/s2s/v2.0/task/delete", json={"task_id": task_id})
    assert (status, answer["error_code"]) == (400, "OperationNotSupport")
    status, answer = await mock.call(
        "POST", feature.pre_path, json={"src_file_url": "u", "index": 0}
    )
    assert (status, answer["error_code"]) == (400, "BadRequest")


# --- shared machinery across features ---------------------------------------------------


async def test_a_task_is_read_only_through_its_own_feature_and_version(mock):
    sod, enhance = by_key()["sod"], by_key()["enhance"]
    v20, v21 = by_key()["hair-transfer"], by_key()["hair-transfer@v2.1"]
    task_id = await run(mock, sod)
    assert (await poll(mock, enhance, task_id))[1]["error_code"] == "InvalidTaskId"
    assert (await poll(mock, sod, task_id))[0] == 200
    task_id = await run(mock, v20)
    assert (await poll(mock, v21, task_id))[1]["error_code"] == "InvalidTaskId"


async def test_posting_twice_makes_two_tasks(mock):
    ring = by_key()["2d-vto/ring"]
    first, second = await run(mock, ring), await run(mock, ring)
    assert first != second and len(mock.state.store) == 2


async def test_status_urls_accept_encoded_ids(mock):
    feature = by_key()["text-to-image/youcam"]
    task_id = await run(mock, feature)
    encoded = "".join(f"%{ord(c):02X}" for c in task_id)
    status, answer = await mock.call("GET", feature.run_path + "/" + encoded)
    assert status == 200 and answer["data"]["task_status"] == "running"


async def test_every_answer_has_a_request_id_and_no_rate_limit_headers(mock):
    feature = by_key()["colorize/color-correct"]
    for resp in (
        await mock.client.post(feature.run_path, json=example_body(feature), headers=mock.auth()),
        await mock.client.post(feature.run_path, json={}, headers=mock.auth()),
        await mock.client.get(
            feature.status_path.replace("{task_id}", "nope"), headers=mock.auth()
        ),
    ):
        assert resp.headers["x-request-id"].isdigit()
        assert not any(
            h.lower().startswith(("ratelimit", "x-ratelimit", "retry-after")) for h in resp.headers
        )


@pytest.mark.parametrize(
    ("key", "body", "cost"),
    [
        (
            "face-attr-analysis",
            {"features": ["age", "gender", "eyeShape", "eyeSize", "eyelid", "lipShape"]},
            20,
        ),
        ("face-attr-analysis", {"features": ["age"]}, 10),
        ("2d-vto/bracelet", {"object_infos": [{"name": "a"}, {"name": "b"}]}, 2),
        ("image-to-video", {"dst_duration": 10, "mode": "pro"}, 60),
        ("image-to-video/youcam", {"resolution": "1080", "dst_duration": 5}, 15),
        ("text-to-video/youcam", {"resolution": "1080P", "dst_duration": 10}, 30),
        ("text-to-video/youcam", {"resolution": "720P", "dst_duration": 3}, 6),
        ("hair-transfer", {"template_id": "any_preset"}, 1),
        ("skin-analysis", {"dst_actions": ["wrinkle", "pore", "acne", "texture", "redness"]}, 12),
        ("ai-avatar", {"output_count": 9}, 3),
    ],
)
async def test_costs_follow_the_table(mock, key, body, cost):
    feature = by_key()[key]
    full = {**example_body(feature), **body}
    if "template_id" in body:
        full = {k: v for k, v in full.items() if not k.startswith("ref_file")}
    assert expected_cost(mock, feature, full) == cost
    before = await units(mock)
    task_id = await run(mock, feature, full)
    mock.advance(10)
    assert (await poll(mock, feature, task_id))[1]["data"]["task_status"] == "success"
    assert await units(mock) == before - cost


async def test_credit_insufficiency_for_any_feature(mock):
    await mock.call("PUT", "/__mock/tenants/poor", key=None, json={"balances": {"units": 19}})
    feature = by_key()["skin-tone-analysis"]  # 20 units
    status, answer = await mock.call(
        "POST", feature.run_path, key="poor", json=example_body(feature)
    )
    assert (status, answer["error_code"]) == (400, "CreditInsufficiency")


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (["wrinkle", "hd_pore"], "cannot mix HD and SD dst_actions"),
        (["abc123"], "Not available dst_action abc123"),
    ],
)
async def test_skin_analysis_concerns_are_checked_as_documented(mock, actions, message):
    feature = by_key()["skin-analysis"]
    status, answer = await mock.call(
        "POST", feature.run_path, json={**example_body(feature), "dst_actions": actions}
    )
    assert (status, answer) == (
        400,
        {"status": 400, "error": message, "error_code": "InvalidParameters"},
    )


async def test_skin_analysis_defaults_to_a_zip_and_needs_no_short_polling(make_mock):
    mock = await make_mock(
        "providers: {youcam: {families: {skin-analysis: {states: {running: 300}}}}}"
    )
    feature = by_key()["skin-analysis"]
    task_id = await run(
        mock, feature, {"src_file_url": "https://e.x/a.jpg", "dst_actions": ["hd_pore"]}
    )
    mock.advance(3600)  # never polled: skin analysis keeps results 24 h
    status, answer = await poll(mock, feature, task_id)
    assert status == 200 and answer["data"]["results"]["url"].endswith(".zip")


async def test_body_reshape_features_cannot_be_all_zero(mock):
    feature = by_key()["body-reshape"]
    body = {**example_body(feature), "features": {"waist": 0, "arm": 0}}
    status, answer = await mock.call("POST", feature.run_path, json=body)
    assert (status, answer["error_code"]) == (400, "InvalidParameters")


async def test_cloth_reference_needs_a_garment_category_but_a_template_does_not(mock):
    feature = by_key()["cloth"]
    body = {"src_file_url": "https://e.x/me.jpg", "ref_file_url": "https://e.x/shirt.jpg"}
    status, answer = await mock.call("POST", feature.run_path, json=body)
    assert (status, answer["error_code"]) == (400, "InvalidParameters")
    template = catalog("cloth")[0]["id"]
    await run(mock, feature, {"src_file_url": "https://e.x/me.jpg", "template_id": template})
    both = {**body, "garment_category": "auto", "template_id": template}
    assert (await mock.call("POST", feature.run_path, json=both))[0] == 400


async def test_unnamed_features_use_the_default_family_and_their_own_engine_errors(make_mock):
    mock = await make_mock("providers: {youcam: {families: {default: {failure_rate: 1.0}}}}")
    feature = by_key()["beard-style"]
    task_id = await run(mock, feature)
    mock.advance(10)
    _, answer = await poll(mock, feature, task_id)
    assert answer["data"]["task_status"] == "error"
    assert answer["data"]["error"] in feature.errors


async def test_an_unpolled_feature_task_expires_and_is_still_charged(make_mock):
    mock = await make_mock("providers: {youcam: {families: {default: {states: {running: 120}}}}}")
    feature = by_key()["2d-vto/watch"]
    before = await units(mock)
    task_id = await run(mock, feature)
    mock.advance(300)
    status, answer = await poll(mock, feature, task_id)
    assert (status, answer["error_code"]) == (400, "InvalidTaskId")
    assert await units(mock) == before - 1
