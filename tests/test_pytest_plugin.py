"""The pytest plugin as a user meets it: a test file that asks for ``avatar_mock``.

Each test writes a small test file and runs it with ``pytester`` (the plugin comes in through
its ``pytest11`` entry point, as it does for a user), including every example of
contracts/clients/README.md, so the documentation cannot rot.
"""

from __future__ import annotations

import re

import pytest

from mockserver.resources import contracts_dir

pytest_plugins = ["pytester"]

README = contracts_dir() / "clients" / "README.md"
ASYNC_INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

HELPERS = """
import json
import urllib.error
import urllib.request

RUN = "/s2s/v2.0/task/ai-avatar"
BODY = {"template_id": "female_manga_mood", "output_count": 4, "src_file_url": "https://e.x/a.jpg"}


def call(mock, method, path, body=None, key="sk-a"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        mock.url(path), data=data, method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def submit(mock, key="sk-a"):
    return call(mock, "POST", RUN, BODY, key)[1]["data"]["task_id"]


def state(mock, task_id, key="sk-a"):
    status, body = call(mock, "GET", f"{RUN}/{task_id}", key=key)
    return body["data"]["task_status"] if status == 200 else body.get("error_code")
"""


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Run ``source`` as a user's test file, in-process (xdist: in its own processes)."""
    pytester.makeini(ASYNC_INI)
    pytester.makepyfile(helpers=HELPERS, test_user=source)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_fixture_serves_a_real_port_on_a_frozen_clock(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
from helpers import state, submit

def test_task_moves_only_when_the_test_advances_time(avatar_mock):
    assert avatar_mock.base_url.startswith("http://127.0.0.1:")
    task_id = submit(avatar_mock)
    assert state(avatar_mock, task_id) == "running"
    assert state(avatar_mock, task_id) == "running"  # frozen: nothing moves by itself
    avatar_mock.advance(30)
    assert state(avatar_mock, task_id) == "success"
    polls = avatar_mock.journal(operation="getAiAvatarTask")
    assert [e["status"] for e in polls] == [200, 200, 200]
    assert polls[-1]["at"] - polls[0]["at"] == 30
""",
    )
    result.assert_outcomes(passed=1)


def test_every_test_starts_from_a_fresh_mock(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
from helpers import call, state, submit

IDS = []

def test_first_leaves_a_mess(avatar_mock):
    IDS.append(submit(avatar_mock))
    avatar_mock.advance(1000)
    avatar_mock.use_scenario("providers: {youcam: {settings: {polling_window: 5}}}")
    avatar_mock.set_balances("sk-a", units=0)

def test_second_sees_none_of_it(avatar_mock):
    assert avatar_mock.journal() == []
    assert avatar_mock.now() == 1_750_000_000.0           # the clock restarted
    assert state(avatar_mock, IDS[0]) == "InvalidTaskId"  # the task is forgotten
    assert submit(avatar_mock) == IDS[0]                  # and ids repeat after a reset
    avatar_mock.advance(30)                               # default window (60 s) is back
    status, body = call(avatar_mock, "GET", "/__mock/tenants/sk-a")
    assert body["balances"]["units"] == 99                # default balance, one unit charged
""",
    )
    result.assert_outcomes(passed=2)


def test_scenarios_by_yaml_or_preset_and_forcing_tasks(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
import pytest
from helpers import state, submit

def test_yaml_scenario_tightens_the_polling_window(avatar_mock):
    avatar_mock.use_scenario(
        "providers: {youcam: {settings: {polling_window: 5},"
        " families: {ai-avatar: {states: {running: 60}}}}}"
    )
    task_id = submit(avatar_mock)
    avatar_mock.advance(6)
    assert state(avatar_mock, task_id) == "InvalidTaskId"

def test_preset_by_name(avatar_mock):
    scenario = avatar_mock.use_scenario("default")
    assert scenario.seed == 1

def test_unknown_preset_is_refused(avatar_mock):
    with pytest.raises(Exception, match="no such preset"):
        avatar_mock.use_scenario("no-such-preset")

def test_force_a_failure(avatar_mock):
    task_id = submit(avatar_mock)
    described = avatar_mock.force(task_id, outcome="failure")
    assert described["state"] == "error"
    assert state(avatar_mock, task_id) == "error"
    assert avatar_mock.task(task_id)["outcome"] == "failure"
    with pytest.raises(ValueError, match="already ended"):
        avatar_mock.force(task_id, state="running")
""",
    )
    result.assert_outcomes(passed=4)


def test_session_scenario_from_the_ini_is_what_each_test_is_reset_to(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".yaml",
        tight="providers: {youcam: {settings: {polling_window: 5},"
        " families: {ai-avatar: {states: {running: 60}}}}}",
    )
    pytester.makeini(ASYNC_INI + "avatar_mock_scenario = tight.yaml\n")
    pytester.makepyfile(
        helpers=HELPERS,
        test_user="""
from helpers import state, submit

def test_window_from_the_ini(avatar_mock):
    task_id = submit(avatar_mock)
    avatar_mock.advance(6)
    assert state(avatar_mock, task_id) == "InvalidTaskId"
    avatar_mock.use_scenario("providers: {youcam: {settings: {polling_window: 600}}}")

def test_still_the_ini_scenario_after_use_scenario(avatar_mock):
    task_id = submit(avatar_mock)
    avatar_mock.advance(6)
    assert state(avatar_mock, task_id) == "InvalidTaskId"
""",
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_each_xdist_worker_gets_its_own_server(pytester: pytest.Pytester) -> None:
    """``--dist each`` runs every test on both workers, so both surely start a server (with
    ``load`` one fast worker may take them all); each test writes its own file (appending to
    one shared file from two processes loses lines)."""
    pytest.importorskip("xdist")
    tests = "\n".join(
        f"""
def test_{i}(avatar_mock, worker_id):
    task_id = submit(avatar_mock)
    pathlib.Path(f"port-{{worker_id}}-{i}.txt").write_text(avatar_mock.base_url)
    assert avatar_mock.journal()[0]["path"].endswith("ai-avatar")
    assert len(avatar_mock.journal()) == 1  # no other worker's requests
"""
        for i in range(6)
    )
    source = f"import pathlib\nfrom helpers import submit\n{tests}"
    result = _run(pytester, source, "-n", "2", "--dist", "each")
    result.assert_outcomes(passed=12)
    by_worker: dict[str, set[str]] = {}
    for path in pytester.path.glob("port-*.txt"):
        worker = path.name.split("-")[1]
        by_worker.setdefault(worker, set()).add(path.read_text())
    assert len(by_worker) == 2
    urls = [next(iter(u)) for u in by_worker.values()]
    assert all(len(u) == 1 for u in by_worker.values()) and urls[0] != urls[1]


def _readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_example_runs(pytester: pytest.Pytester, index: int) -> None:
    source = _readme_blocks()[index]
    result = _run(pytester, source)
    tests = len(re.findall(r"^(?:async )?def test_", source, re.M))
    result.assert_outcomes(passed=tests)
