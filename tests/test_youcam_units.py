"""YouCam units: expiring lots (credit), the history of every charge, feature costs, and the
core balance kept in step with the lots."""

from __future__ import annotations

import pytest

from mockserver.providers.youcam.features import by_key, example_body, features, skus
from tests.test_youcam_features import poll, run, units

pytestmark = pytest.mark.backends  # memory, sqlite and redis (conftest.py)

CREDIT = "/s2s/v1.0/client/credit"
HISTORY = "/s2s/v1.0/client/credit/history"
COST = "/s2s/v2.0/credit/feature-cost"
JS_SAFE = 2**53


async def lots(mock, key="sk-test"):
    status, answer = await mock.call("GET", CREDIT, key=key)
    assert status == 200 and set(answer) == {"status", "results"}
    return answer["results"]


async def history(mock, key="sk-test", page_size=30):
    status, answer = await mock.call("GET", HISTORY, key=key, params={"page_size": str(page_size)})
    assert status == 200
    return answer["result"]["history"]


async def succeed(mock, key_name, body=None, key="sk-test"):
    feature = by_key()[key_name]
    task_id = await run(mock, feature, body, key=key)
    mock.advance(10)
    _, answer = await poll(mock, feature, task_id, key=key)
    assert answer["data"]["task_status"] == "success"
    return task_id


async def in_step(mock, key="sk-test"):
    """The credit API's lots add up to the core balance /__mock/tenants shows."""
    total = sum(lot["amount_dec"] for lot in await lots(mock, key))
    assert abs(total - await units(mock, key)) < 0.01
    return total


async def test_starting_units_are_two_lots_with_big_ids_nearest_expiry_first(mock):
    results = await lots(mock)
    assert [lot["type"] for lot in results] == ["ApiSubsToken", "ApiPaygToken"]
    assert [lot["amount_dec"] for lot in results] == [30.0, 70.0]
    assert all(lot["id"] > JS_SAFE and isinstance(lot["amount"], int) for lot in results)
    assert results[0]["expiry"] == int((mock.clock.now() + 30 * 86400) * 1000)
    assert await in_step(mock) == 100


async def test_units_after_every_charge_and_a_history_entry_per_charge(mock):
    expected = 100.0
    charged = []
    for key_name in ("sod", "aging", "bag", "skin-tone-analysis", "ai-avatar", "2d-vto/ring"):
        feature = by_key()[key_name]
        task_id = await succeed(mock, key_name)
        cost = skus(feature, 4 if key_name == "ai-avatar" else None)[0]["amount"]
        expected -= 1 if key_name == "ai-avatar" else cost
        charged.append((task_id, feature.action))
        assert await in_step(mock) == expected
    entries = await history(mock)
    charges = [(e["target_id"], e["action"]) for e in entries if e["target_id"] in dict(charged)]
    assert charges == list(reversed(charged))  # newest first
    first = next(e for e in entries if e["target_id"] == charged[0][0])
    assert first["action"] == "api_background_removal"
    assert first["info"]["credits"][0]["amount_dec"] == -1.0 and first["id"] > JS_SAFE


async def test_spending_takes_the_lot_nearest_expiry_first_then_the_next(make_mock):
    mock = await make_mock(
        """
providers:
  youcam:
    settings:
      unit_lots:
        - {type: ApiPaygToken, share: 0.9, expires_in: 31536000}
        - {type: ApiSubsToken, share: 0.1, expires_in: 864000}
"""
    )
    subs, payg = sorted(await lots(mock), key=lambda lot: lot["expiry"])
    assert (subs["amount_dec"], payg["amount_dec"]) == (10.0, 90.0)
    task_id = await succeed(mock, "face-attr-analysis", None)  # 10 units
    await succeed(mock, "bag")  # 2 more: the subscription lot is empty, so the PAYG lot pays
    assert [lot["amount_dec"] for lot in await lots(mock)] == [88.0]
    entry = next(e for e in await history(mock) if e["target_id"] == task_id)
    assert entry["info"]["credits"] == [{"id": subs["id"], "amount": -10, "amount_dec": -10.0}]
    await in_step(mock)


async def test_a_charge_across_two_lots_names_both(make_mock):
    mock = await make_mock(
        "providers: {youcam: {settings: {unit_lots: ["
        "{type: ApiSubsToken, share: 0.05, expires_in: 86400},"
        " {type: ApiPaygToken, share: 0.95, expires_in: 31536000}]}}}"
    )
    first, second = await lots(mock)
    task_id = await succeed(mock, "skin-tone-analysis")  # 20 units: 5 + 15
    entry = next(e for e in await history(mock) if e["target_id"] == task_id)
    assert [(c["id"], c["amount_dec"]) for c in entry["info"]["credits"]] == [
        (first["id"], -5.0),
        (second["id"], -15.0),
    ]


async def test_failed_tasks_cost_nothing_and_leave_no_history(mock):
    feature = by_key()["sod"]
    task_id = await run(mock, feature, headers={"X-Mock-Outcome": "failure"})
    mock.advance(10)
    await poll(mock, feature, task_id)
    assert await in_step(mock) == 100
    assert all(e["target_id"] != task_id for e in await history(mock))


async def test_a_task_lost_to_the_polling_window_is_charged_when_the_scenario_says_so(make_mock):
    for charge, left in (("true", 99), ("false", 100)):
        mock = await make_mock(
            "providers:\n  youcam:\n"
            f"    settings: {{charge_expired_tasks: {charge}}}\n"
            "    families: {default: {states: {running: 120}}}\n"
        )
        feature = by_key()["sod"]  # 1 unit
        task_id = await run(mock, feature)
        mock.advance(300)
        assert (await poll(mock, feature, task_id))[0] == 400
        assert await in_step(mock) == left
        assert any(e["target_id"] == task_id for e in await history(mock)) == (charge == "true")


async def test_skin_analysis_charges_record_their_concerns(mock):
    body = {**example_body(by_key()["skin-analysis"]), "dst_actions": ["hd_pore", "hd_wrinkle"]}
    task_id = await succeed(mock, "skin-analysis", body)
    entry = next(e for e in await history(mock) if e["target_id"] == task_id)
    assert entry["info"]["dst_actions"] == ["hd_pore", "hd_wrinkle"]


async def test_an_expired_lot_leaves_the_balance(mock):
    await lots(mock)  # the lots are dealt on first sight
    mock.advance(30 * 86400 + 1)
    assert await in_step(mock) == 70
    entries = await history(mock)
    assert (
        entries[0]["action"] == "expire" and entries[0]["info"]["credits"][0]["amount_dec"] == -30.0
    )


async def test_a_balance_set_through_the_control_api_shows_in_the_lots(mock):
    await mock.call("PUT", "/__mock/tenants/sk-test", key=None, json={"balances": {"units": 150}})
    assert await in_step(mock) == 150
    await mock.call("PUT", "/__mock/tenants/sk-test", key=None, json={"balances": {"units": 20}})
    assert await in_step(mock) == 20


async def test_history_pages_newest_first_with_tokens(mock):
    for _ in range(12):
        await succeed(mock, "sod")
    everything = await history(mock, page_size=30)
    assert len(everything) == 14  # two grants and twelve charges
    seen, token = [], None
    while True:
        params = {"page_size": "5", **({"starting_token": token} if token else {})}
        mock.advance(1)  # paced under the documented 5 requests per second
        status, answer = await mock.call("GET", HISTORY, params=params)
        assert status == 200
        seen += answer["result"]["history"]
        token = answer["result"]["next_token"]
        if token is None:
            break
    assert seen == everything
    timestamps = [e["timestamp"] for e in seen]
    assert timestamps == sorted(timestamps, reverse=True)
    for bad in ("0", "31", "x"):
        mock.advance(1)
        status, answer = await mock.call("GET", HISTORY, params={"page_size": bad})
        assert (status, answer["error_code"]) == (400, "InvalidParameters")


async def test_feature_cost_lists_every_sku_of_the_table(mock):
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": "20", **({"starting_token": token} if token else {})}
        status, answer = await mock.call("GET", COST, params=params)
        assert status == 200 and set(answer) == {"status", "result"}
        pages += 1
        seen += answer["result"]["skus"]
        token = answer["result"]["next_token"]
        if token is None:
            break
    expected = [s for f in features() for s in skus(f, 4 if f.key == "ai-avatar" else None)]
    assert [{k: v for k, v in s.items() if k != "run_task_url"} for s in seen] == expected
    assert pages == -(-len(expected) // 20)
    skin = [s for s in seen if s["description"].startswith("AI Skin Analysis for 1~4")]
    assert skin[0]["amount"] == 9 and skin[0]["run_task_url"].endswith(
        "/s2s/v2.0/task/skin-analysis"
    )
    avatar = next(s for s in seen if s["run_task_url"].endswith("/task/ai-avatar"))
    assert (avatar["amount"], avatar["unit"], avatar["proc_unit"]) == (1, "result_image", 4)
    video = [s for s in seen if s["run_task_url"].endswith("/task/image-to-video/youcam")]
    assert {s["amount"] for s in video} == {1, 2, 3} and {s["unit"] for s in video} == {"second"}
    mock_origin = str(mock.client.make_url("/")).rstrip("/")
    assert all(s["run_task_url"].startswith(mock_origin) for s in seen)
