"""The client report card: reference clients get full marks, a naive client what it deserves.

Every card runs on an in-process mock whose virtual clock only the client's ``sleep`` moves,
so the scenarios' minutes of provider time take milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from mockserver.contracts.reportcard.model import FAIL, NOT_APPLICABLE, PASS

from mockserver.registry import providers
from mockserver.reportcard import GRADES, SCENARIOS, Harness, grade_client, reference_client

WEBHOOK_GRADE = "rejected a forged webhook"
FAMILIES = [("youcam", "ai-avatar"), ("relay", "avatar"), ("a2e", "image2video"), ("a2e", "video")]


class NaiveYouCamClient:
    """The client many integrations start as: no back-off, only "success" ends the wait,
    one poll every 15 s "to save requests", and it trusts every answer to have ``data``."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {harness.api_key}"})

    async def submit(self) -> str:
        body = {"template_id": "female_manga_mood", "output_count": 1, "src_file_url": "x.jpg"}
        for _ in range(10):  # retries a 429 at once
            async with self.session.post(
                f"{self.h.base_url}/s2s/v2.0/task/ai-avatar", json=body
            ) as r:
                answer = await r.json()
            if r.status != 429:
                return answer["data"]["task_id"]
        raise RuntimeError("rate limited")

    async def wait(self, task_id: str) -> Any:
        for _ in range(40):
            url = f"{self.h.base_url}/s2s/v2.0/task/ai-avatar/{task_id}"
            async with self.session.get(url) as r:
                answer = await r.json()
            if r.status == 429:
                continue
            if answer["data"]["task_status"] == "success":
                return answer["data"]["results"]
            await self.h.sleep(15)
        return None

    async def receive_webhook(self, body: bytes, headers: Any) -> bool:
        """Trusts whatever arrives: parses the body, never checks the signature."""
        json.loads(body)
        return True

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
def grade(avatar_mock):
    async def run(factory, **kw):
        return await grade_client(factory, server=avatar_mock, **kw)

    return run


@pytest.mark.parametrize(("provider", "family"), FAMILIES, ids=lambda v: v)
async def test_reference_clients_get_full_marks(grade, provider: str, family: str) -> None:
    if provider not in providers():
        pytest.skip(f"the {provider} provider package is not there yet")
    card = await grade(reference_client(), provider=provider, family=family)
    assert card.passed, card.table()
    graded = {g.name for g in card.graded}
    assert {"honoured back-off", "stopped polling at terminal states"} <= graded
    assert {"survived InvalidTaskId", "paced its polls"} <= graded
    if provider == "youcam":
        assert card.verdict("polled within the window") == PASS
    else:  # relay and A2E document no polling window
        assert card.verdict("polled within the window") == "n/a"


async def test_naive_client_gets_the_failures_it_deserves(grade) -> None:
    card = await grade(NaiveYouCamClient, provider="youcam", client_name="naive")
    verdicts = {g.name: g.verdict for g in card.grades}
    assert verdicts == {
        "honoured back-off": FAIL,  # retried a 429 at once
        "stopped polling at terminal states": FAIL,  # kept polling an "error" task
        "polled within the window": FAIL,  # 15 s between polls, the window is 10 s
        "survived InvalidTaskId": FAIL,  # KeyError on the error body
        "paced its polls": PASS,  # slow, but it never hammered
        "no duplicate submits": FAIL,  # KeyError on the 503 of a submit that did start a task
        WEBHOOK_GRADE: FAIL,  # took every forgery
    }, card.table()
    details = {g.name: g.detail for g in card.grades}
    assert "came back after 0 s, not 5 s" in details["honoured back-off"]
    assert "more time(s) after it was error" in details["stopped polling at terminal states"]
    assert "KeyError" in details["survived InvalidTaskId"]
    assert details[WEBHOOK_GRADE] == (
        "accepted forged deliveries: bad_signature, tampered_body, stale_timestamp"
    )
    assert "lost-submit-answer: the client crashed: KeyError" in details["no duplicate submits"]
    assert card.score == "1/7" and not card.passed


async def test_card_has_a_table_for_people_and_json_for_ci(grade) -> None:
    card = await grade(reference_client(), provider="youcam", client_name="reference")
    table = card.table()
    assert table.splitlines()[0] == "report card: reference on youcam/ai-avatar: 7/7"
    assert "honoured back-off" in table and "PASS" in table
    data = json.loads(card.to_json())
    assert data["passed"] is True and data["score"] == "7/7"
    assert [g["name"] for g in data["grades"]] == list(GRADES)
    ran = {s["scenario"] for s in data["scenarios"]}
    assert ran == set(SCENARIOS)
    lost = {s["scenario"]: s["error"] for s in data["scenarios"] if "lost-submit" in s["scenario"]}
    assert lost["lost-submit-answer"] == "ProviderError: 503 None: Service Unavailable"
    assert lost["lost-submit-connection"].startswith(("ClientOSError", "ServerDisconnected"))
    assert all(
        s["requests"] > 0 and s["error"] in (None, "TaskLost: 400 InvalidTaskId: Invalid task ID")
        for s in data["scenarios"]
        if s["scenario"] not in lost
    )


async def test_webhook_grade_reads_what_the_receiver_did(grade) -> None:
    card = await grade(reference_client(), provider="youcam", scenarios=["webhook-chaos"])
    (run,) = card.runs
    kinds = [(d["kind"], d["accepted"]) for d in run.notes["webhooks"]]
    assert kinds == [
        ("genuine", True),
        ("duplicate", True),  # the mock sent it twice: acknowledged, not refused
        ("bad_signature", False),
        ("tampered_body", False),
        ("stale_timestamp", False),
    ]
    slot = next(g for g in card.grades if g.name == WEBHOOK_GRADE)
    assert slot.verdict == PASS and "refused 3 forgeries" in slot.detail


async def test_webhook_grade_needs_a_receiver_and_a_signing_provider(grade) -> None:
    class NoReceiver:  # submits and waits, but the application has no webhook endpoint
        def __init__(self, harness: Harness) -> None:
            self.inner = NaiveYouCamClient(harness)

        async def submit(self) -> str:
            return await self.inner.submit()

        async def wait(self, task_id: str) -> Any:
            return await self.inner.wait(task_id)

        async def close(self) -> None:
            await self.inner.close()

    card = await grade(NoReceiver, provider="youcam", scenarios=["webhook-chaos"])
    slot = next(g for g in card.grades if g.name == WEBHOOK_GRADE)
    assert slot.verdict == NOT_APPLICABLE and "receive_webhook" in slot.detail
    card = await grade(reference_client(), provider="relay", scenarios=["webhook-chaos"])
    slot = next(g for g in card.grades if g.name == WEBHOOK_GRADE)
    assert slot.verdict == NOT_APPLICABLE and "does not sign" in slot.detail


async def test_a_client_that_hangs_is_cut_off_and_failed(grade) -> None:
    class Sleepy(NaiveYouCamClient):
        async def wait(self, task_id: str) -> Any:
            while True:  # polls forever, never sleeping through the harness
                async with self.session.get(f"{self.h.base_url}/__mock/health") as r:
                    await r.read()

    card = await grade(Sleepy, provider="youcam", scenarios=["slow-task"], wall_timeout=0.3)
    assert card.verdict("stopped polling at terminal states") == FAIL
    assert "never finished" in next(g.detail for g in card.grades if g.verdict == FAIL)


class BlindRetryClient(NaiveYouCamClient):
    """Re-submits whenever a submit does not come back 200, as many integrations do."""

    async def submit(self) -> str:
        body = {"template_id": "female_manga_mood", "output_count": 1, "src_file_url": "x.jpg"}
        for _ in range(3):
            try:
                async with self.session.post(
                    f"{self.h.base_url}/s2s/v2.0/task/ai-avatar", json=body
                ) as r:
                    if r.status == 200:
                        return (await r.json())["data"]["task_id"]
            except aiohttp.ClientError:
                pass
        raise RuntimeError("the provider kept failing")


async def test_a_client_that_resubmits_after_a_lost_answer_is_caught_paying_twice(grade) -> None:
    scenarios = ["lost-submit-answer", "lost-submit-connection"]
    card = await grade(BlindRetryClient, provider="youcam", scenarios=scenarios)
    slot = next(g for g in card.grades if g.name == "no duplicate submits")
    assert slot.verdict == FAIL, card.table()
    assert "lost-submit-answer: started 2 tasks for one job" in slot.detail
    assert "lost-submit-connection: started 2 tasks for one job" in slot.detail
    for run in card.runs:  # the journal and the mock agree: two tasks for the one job
        submits = [e for e in run.journal if e["operation_id"] == "runAiAvatarTask"]
        assert [e["status"] for e in submits][:2] in ([503, 200], [0, 200])
    card = await grade(reference_client(), provider="youcam", scenarios=scenarios)
    slot = next(g for g in card.grades if g.name == "no duplicate submits")
    assert slot.verdict == PASS and "did not re-submit" in slot.detail
