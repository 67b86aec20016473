"""A2E's newer task families (dubbing, caption removal, talking video and photo): each
driven through the same client journey.

Every family here speaks ``current_status`` (initialized -> processing -> completed | failed),
``result_url`` on success, ``failed_message``/``failed_code`` on failure, pages its
``allRecords`` as ``{rows, count}``, lists unfinished tasks in ``processingRecord`` (where it
has one), reads by ``{_id}`` (and ``detail?_id=``), deletes, and charges its cost at submit,
refunding it on failure. A new family is one more entry in FAMILIES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.test_a2e import HEX24, ISO_MS, assert_refusal, coins, data_of, download, walk

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)


@dataclass(frozen=True)
class Family:
    name: str
    base: str  # /api/v1/<family>
    start: str  # the start path under base
    body: dict[str, Any]
    fields: frozenset[str]
    cost_key: str
    failure: dict[str, str]  # the scenario's first failure
    result_type: str = "video/mp4"
    processing: bool = True
    detail: bool = True
    bad_bodies: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    echo: dict[str, Any] = field(default_factory=dict)  # what the row shows of the body


COMMON = {
    "_id", "current_status", "result_url", "failed_message", "failed_code", "coins",
    "createdAt", "updatedAt",
}  # fmt: skip
DUBBING = Family(
    name="dubbing",
    base="/api/v1/userDubbing",
    start="startDubbing",
    body={"name": "dub", "source_url": "https://example.com/talk.mp4", "target_lang": "es"},
    fields=frozenset(
        COMMON
        | {"name", "source_url", "source_lang", "target_lang", "num_speakers"}
        | {"drop_background_audio"}
    ),
    cost_key="dubbing",
    failure={"failed_code": "2001", "failed_message": "no speech detected in the source"},
    bad_bodies=(
        {"source_url": "u"},
        {"target_lang": "en"},
        {"source_url": "u", "target_lang": "en", "num_speakers": 0},
    ),
    echo={"source_lang": "auto", "num_speakers": 1, "drop_background_audio": False},
)
CAPTION = Family(
    name="caption_removal",
    base="/api/v1/userCaptionRemoval",
    start="start",
    body={"name": "clean", "source_url": "https://example.com/subtitled.mp4"},
    fields=frozenset(COMMON | {"name", "source_url"}),
    cost_key="caption_removal",
    failure={"failed_code": "2101", "failed_message": "the video could not be decoded"},
    bad_bodies=({"name": "x"}, {"source_url": ""}),
)
TALKING = {"audio_url": "https://example.com/speech.mp3", "duration": 5, "prompt": "smile"}
TALKING_FIELDS = COMMON | {"name", "audio_url", "duration", "prompt", "negative_prompt"}
TALKING_VIDEO = Family(
    name="talking_video",
    base="/api/v1/talkingVideo",
    start="start",
    body={"name": "talk", "video_url": "https://example.com/face.mp4", **TALKING},
    fields=frozenset(TALKING_FIELDS | {"video_url", "cover_url"}),
    cost_key="talking_video",
    failure={"failed_code": "2201", "failed_message": "no face detected in the video"},
    processing=False,
    detail=False,
    bad_bodies=({"name": "x", "video_url": "v"}, {"name": "x", "audio_url": "a"}),
    echo={"negative_prompt": ""},
)
TALKING_PHOTO = Family(
    name="talking_photo",
    base="/api/v1/talkingPhoto",
    start="start",
    body={"name": "talk", "image_url": "https://example.com/face.png", **TALKING},
    fields=frozenset(TALKING_FIELDS | {"image_url", "cover_url"}),
    cost_key="talking_photo",
    failure={"failed_code": "2301", "failed_message": "no face detected in the image"},
    processing=False,
    detail=False,
    bad_bodies=(
        {"name": "x", "image_url": "i"},
        {"name": "x", "image_url": "i", "audio_url": "a", "duration": 11},
    ),
    echo={"negative_prompt": ""},
)
FAMILIES = [DUBBING, CAPTION, TALKING_VIDEO, TALKING_PHOTO]
DONE = 3600  # every family in the default scenario has ended by then


@pytest.fixture(params=FAMILIES, ids=[f.name for f in FAMILIES])
def fam(request):
    return request.param


@pytest.fixture
async def api(make_mock):
    return await make_mock(None, providers=("a2e",))


async def start(mock, fam, key="sk-test", headers=None, **fields):
    status, body = await mock.call(
        "POST", f"{fam.base}/{fam.start}", key=key, json={**fam.body, **fields},
        headers=headers or {},
    )  # fmt: skip
    return data_of(status, body)


async def read(mock, fam, task_id, key="sk-test"):
    return data_of(*await mock.call("GET", f"{fam.base}/{task_id}", key=key))


async def test_task_walks_to_completed_with_a_result_on_the_mock(api, fam):
    created = await start(api, fam)
    assert set(created) == fam.fields and HEX24.match(created["_id"])
    assert ISO_MS.match(created["createdAt"]) and created["current_status"] == "initialized"
    assert created["result_url"] == "" and created["failed_message"] == ""
    for key, value in {**fam.body, **fam.echo}.items():
        if key in fam.fields:
            assert created[key] == value, key
    seen, reads = await walk(api, lambda: read(api, fam, created["_id"]), ("completed", "failed"))
    assert seen == ["initialized", "processing", "completed"]
    done = reads[-1]
    assert done["failed_message"] == "" and done["failed_code"] == ""
    status, ctype, payload = await download(api, done["result_url"])
    assert status == 200 and ctype == fam.result_type and payload
    api.advance(DONE)
    assert (await read(api, fam, created["_id"]))["current_status"] == "completed"


async def test_task_forced_to_fail_shows_the_scenario_failure(api, fam):
    created = await start(api, fam, headers={"X-Mock-Outcome": "failure"})
    seen, reads = await walk(api, lambda: read(api, fam, created["_id"]), ("completed", "failed"))
    assert seen == ["initialized", "processing", "failed"]
    failed = reads[-1]
    assert failed["result_url"] == ""
    for key, value in fam.failure.items():
        assert failed[key] == value


async def test_lists_page_newest_first_and_agree_with_details(api, fam):
    made = []
    for _ in range(3):
        made.append((await start(api, fam))["_id"])
        api.advance(1)
    page = data_of(*await api.call("GET", f"{fam.base}/allRecords", params={"pageSize": 2}))
    assert page["count"] == 3 and [r["_id"] for r in page["rows"]] == made[:0:-1]
    rest = data_of(
        *await api.call("GET", f"{fam.base}/allRecords", params={"pageNum": 2, "pageSize": 2})
    )
    assert [r["_id"] for r in rest["rows"]] == made[:1]
    for row in page["rows"]:
        assert row == await read(api, fam, row["_id"])
        if fam.detail:
            detail = await api.call("GET", f"{fam.base}/detail", params={"_id": row["_id"]})
            assert data_of(*detail) == row
    other = data_of(*await api.call("GET", f"{fam.base}/allRecords", key="sk-other"))
    assert other == {"rows": [], "count": 0}


async def test_processing_record_holds_the_unfinished_tasks(api, fam):
    if not fam.processing:
        pytest.skip(f"{fam.name} has no processingRecord")
    first = (await start(api, fam))["_id"]
    api.advance(DONE)
    second = (await start(api, fam))["_id"]
    rows = data_of(*await api.call("GET", f"{fam.base}/processingRecord"))
    assert [r["_id"] for r in rows] == [second] and first != second
    api.advance(DONE)
    assert data_of(*await api.call("GET", f"{fam.base}/processingRecord")) == []
    assert_refusal(*await api.call("GET", f"{fam.base}/processingRecord", key=None), 401, 401)


async def test_delete_removes_the_task_from_every_view(api, fam):
    task_id = (await start(api, fam))["_id"]
    assert data_of(*await api.call("DELETE", f"{fam.base}/{task_id}")) == {}
    assert_refusal(*await api.call("GET", f"{fam.base}/{task_id}"), 404, 404)
    assert_refusal(*await api.call("DELETE", f"{fam.base}/{task_id}"), 404, 404)
    assert data_of(*await api.call("GET", f"{fam.base}/allRecords"))["count"] == 0
    if fam.detail:
        detail = await api.call("GET", f"{fam.base}/detail", params={"_id": task_id})
        assert_refusal(*detail, 404, 404)


async def test_refusals_for_bad_input_foreign_ids_and_missing_tokens(api, fam):
    for bad in fam.bad_bodies:
        assert_refusal(*await api.call("POST", f"{fam.base}/{fam.start}", json=bad), 400, 400)
    start_path = f"{fam.base}/{fam.start}"
    assert_refusal(*await api.call("POST", start_path, json=fam.body, key=None), 401, 401)
    theirs = (await start(api, fam, key="sk-other"))["_id"]
    assert_refusal(*await api.call("GET", f"{fam.base}/{theirs}"), 404, 404)
    assert_refusal(*await api.call("DELETE", f"{fam.base}/{theirs}"), 404, 404)
    assert_refusal(*await api.call("GET", f"{fam.base}/{theirs}", key=None), 401, 401)
    listing = await api.call("GET", f"{fam.base}/allRecords", params={"pageNum": 0})
    assert_refusal(*listing, 400, 400)
    if fam.detail:
        assert_refusal(*await api.call("GET", f"{fam.base}/detail"), 400, 400)
    assert (await read(api, fam, theirs, key="sk-other"))["_id"] == theirs


async def test_cost_is_charged_at_start_and_refunded_on_failure(make_mock, fam):
    mock = await make_mock(
        f"providers: {{a2e: {{costs: {{{fam.cost_key}: 25}}}}}}", providers=("a2e",)
    )
    kept = await start(mock, fam)
    assert kept["coins"] == 25
    await start(mock, fam, headers={"X-Mock-Outcome": "failure"})
    assert await coins(mock) == 10000 - 50
    mock.advance(DONE)
    assert await coins(mock) == 10000 - 25


async def test_start_without_coins_is_refused_and_creates_nothing(make_mock, fam):
    mock = await make_mock(
        f"balances: {{coins: 10}}\nproviders: {{a2e: {{costs: {{{fam.cost_key}: 25}}}}}}",
        providers=("a2e",),
    )
    status, body = await mock.call("POST", f"{fam.base}/{fam.start}", json=fam.body)
    assert_refusal(status, body, 200, 1002)
    assert await coins(mock) == 10
    assert data_of(*await mock.call("GET", f"{fam.base}/allRecords"))["count"] == 0


async def test_caption_removal_takes_video_url_as_well(api):
    body = {"name": "clean", "video_url": "https://example.com/other.mp4"}
    row = data_of(*await api.call("POST", "/api/v1/userCaptionRemoval/start", json=body))
    assert row["source_url"] == body["video_url"]


async def test_talking_video_costs_d17s_thirteen_coins_by_default(api):
    created = await start(api, TALKING_VIDEO)
    assert created["coins"] == 13 and await coins(api) == 10000 - 13
    status, ctype, _ = await download(api, created["cover_url"])
    assert status == 200 and ctype == "image/jpeg"
