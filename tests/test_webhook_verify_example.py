"""contracts/clients/WEBHOOKS.md: its example receiver, run against the mock's deliveries."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestServer

from mockserver.resources import contracts_dir
from tests.test_youcam_ai_avatar import run

pytestmark = pytest.mark.loop  # CI runs these on uvloop too

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the one in WEBHOOKS.md


def example_namespace() -> dict:
    text = (contracts_dir() / "clients" / "WEBHOOKS.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(compile(code, "WEBHOOKS.md", "exec"), namespace)  # our own README's example
    return namespace


async def statuses(mock) -> list[int]:
    _, journal = await mock.call("GET", "/__mock/webhooks", key=None)
    return [a["status"] for a in journal["attempts"]]


async def test_readme_receiver_accepts_real_and_refuses_forged_deliveries(make_mock):
    example = example_namespace()
    server = TestServer(example["app"])
    await server.start_server()
    url = str(server.make_url("/webhooks/youcam"))
    try:
        scenario = (
            "providers:\n  youcam:\n    settings:\n"
            f"      webhooks: [{{url: '{url}', secrets: [{SECRET}]}}]\n"
        )
        mock = await make_mock(scenario)
        good = await run(mock)
        mock.advance(30)
        await mock.state.webhooks.flush()
        assert example["finished"] == {good: "success"}
        assert await statuses(mock) == [204]

        for seed, effect in enumerate(("bad_signature", "stale_timestamp", "tampered_body"), 2):
            chaos = f"seed: {seed}\nwebhooks: {{chaos: [{{effect: {effect}}}]}}\n"
            forged = await make_mock(scenario + chaos)
            task_id = await run(forged, headers={"X-Mock-Outcome": "failure"})
            assert task_id != good
            forged.advance(30)
            await forged.state.webhooks.flush()
            assert task_id not in example["finished"], effect
            assert await statuses(forged) == [400], effect

        dup = await make_mock(scenario + "seed: 9\nwebhooks: {chaos: [{effect: duplicate}]}\n")
        task_id = await run(dup, headers={"X-Mock-Outcome": "failure"})
        dup.advance(30)
        await dup.state.webhooks.flush()
        assert await statuses(dup) == [204, 204]  # both acknowledged, recorded once
        assert example["finished"][task_id] == "error"
    finally:
        await server.close()
