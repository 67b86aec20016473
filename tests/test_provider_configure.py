"""A provider is configured when a scenario is put in force, not by the traffic after it."""

from __future__ import annotations

from mockserver.providers.youcam.features import by_key
from tests.test_youcam_features import run

FACE_SWAP = by_key()["face-swap"]


async def test_a_replaced_scenario_lets_force_work_before_any_provider_request(mock):
    """YouCam's per-feature family configs were filled on the way through its auth, so a
    ``PUT /__mock/scenario`` left force answering 409 until some YouCam request came."""
    task_id = await run(mock, FACE_SWAP, key="sk-a")
    status, _ = await mock.call("PUT", "/__mock/scenario", key=None, data=b"seed: 7")
    assert status == 200
    status, forced = await mock.call(
        "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "success"}
    )
    assert status == 200, forced
    assert forced["state"] == "success"


async def test_a_fresh_mock_can_force_before_any_provider_request(make_mock):
    mock = await make_mock("seed: 11")
    task_id = await run(mock, FACE_SWAP, key="sk-a")
    await mock.call("POST", "/__mock/reset", key=None)
    task_id = await run(mock, FACE_SWAP, key="sk-a")
    status, forced = await mock.call(
        "POST", f"/__mock/tasks/{task_id}/force", key=None, json={"outcome": "failure"}
    )
    assert status == 200 and forced["state"] == "error"
