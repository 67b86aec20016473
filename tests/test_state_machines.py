"""Stateful properties: the server against a small model, one RuleBasedStateMachine per family.

Hypothesis interleaves submits by two tenants, jumps of the virtual clock, polls by the owner
and by the other tenant, and checks after every step what a client relies on:

- states only move forward in the documented order, and a terminal state never changes;
- a result exists exactly when the task succeeded; a failure carries the provider's fields;
- YouCam: a task not polled within the polling window is gone (InvalidTaskId) for good, and
  is not charged (``charge_expired_tasks: false``); units are charged on success only;
- relay: quota is taken at submit and given back when the task fails;
- A2E (image-to-video, avatar video, face swap): coins likewise; each family's own words
  (``process`` 100 from ``copy`` on, face swap's ``error_code`` "0" and ``faild_message``);
- a tenant never sees another tenant's task.

The model knows each task's planned end (read from the control plane, as a test would) and
the documented rules; everything else it checks comes through the public HTTP API.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from mockserver.pytest_plugin import MockServer
from mockserver.registry import providers

TENANTS = ("sk-model-a", "sk-model-b")
STEPS = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def http(server: MockServer, method: str, path: str, key: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.url(path),
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@dataclass
class ModelTask:
    id: str
    tenant: str
    created_at: float
    ends_at: float  # the plan's end (inf: stuck)
    succeeds: bool
    cost: int
    last_poll: float
    seen: list[str] = field(default_factory=list)
    lost: bool = False


class FamilyMachine(RuleBasedStateMachine):
    """What every family shares: tenants, a clock, tasks, monotone states, isolation."""

    server: MockServer
    scenario = ""
    order: tuple[str, ...] = ()  # working states, then the terminal ones
    terminal: tuple[str, ...] = ()
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, ModelTask] = {}

    @initialize()
    def fresh_server(self) -> None:
        self.server.restore()
        self.server.use_scenario(self.scenario)
        self.start = {t: self.balance(t) for t in TENANTS}

    @property
    def now(self) -> float:
        return self.server.now()

    currency = ""

    def balance(self, tenant: str) -> float:
        _, body = http(self.server, "GET", f"/__mock/tenants/{tenant}", tenant)
        return body["balances"][self.currency]

    def plan(self, task_id: str) -> tuple[float, bool]:
        described = self.server.task(task_id)
        assert described is not None
        return described["timeline"][-1]["at"], described["outcome"] == "success"

    @rule(seconds=st.sampled_from([1, 3, 7, 12, 25, 60]))
    def time_passes(self, seconds: int) -> None:
        self.server.advance(seconds)

    def observe(self, task: ModelTask, state: str) -> None:
        """Monotone, documented, and terminal states are final."""
        assert state in self.order, f"{state} is not a documented state"
        if task.seen:
            last = task.seen[-1]
            if last in self.terminal:
                assert state == last, f"{task.id}: terminal {last} became {state}"
            else:
                assert self.order.index(state) >= self.order.index(last), (
                    f"{task.id}: went back from {last} to {state}"
                )
        task.seen.append(state)
        done = self.now >= task.ends_at
        assert (state in self.terminal) == done, f"{task.id}: {state} at {self.now}"
        if done:
            assert state == self.terminal[0 if task.succeeds else 1]


class YouCamAvatarMachine(FamilyMachine):
    scenario = """
providers:
  youcam:
    settings: {polling_window: 20, charge_expired_tasks: false}
    rate_limits: []   # the model is of task states; rate limits have their own tests
    families:
      ai-avatar:
        states: {running: {min: 5, max: 45}}
        failure_rate: 0.3
"""
    order = ("running", "success", "error")
    terminal = ("success", "error")
    currency = "units"
    window = 20.0

    @rule(target=FamilyMachine.tasks, tenant=st.sampled_from(TENANTS), count=st.integers(1, 8))
    def submit(self, tenant: str, count: int) -> str:
        body = {"template_id": "female_manga_mood", "output_count": count, "src_file_url": "x"}
        status, answer = http(self.server, "POST", "/s2s/v2.0/task/ai-avatar", tenant, body)
        assert status == 200, answer
        task_id = answer["data"]["task_id"]
        ends_at, succeeds = self.plan(task_id)
        now = self.now
        self.model[task_id] = ModelTask(
            task_id, tenant, now, ends_at, succeeds, math.ceil(count / 4), now
        )
        return task_id

    @rule(task_id=FamilyMachine.tasks, by_owner=st.booleans())
    def poll(self, task_id: str, by_owner: bool) -> None:
        task = self.model[task_id]
        key = task.tenant if by_owner else next(t for t in TENANTS if t != task.tenant)
        status, body = http(self.server, "GET", f"/s2s/v2.0/task/ai-avatar/{task_id}", key)
        if not by_owner:
            assert (status, body.get("error_code")) == (400, "InvalidTaskId")
            return
        now = self.now
        deadline = task.last_poll + self.window
        if not task.lost and now > deadline and task.ends_at > deadline:
            task.lost = True
        if task.lost:
            assert (status, body.get("error_code")) == (400, "InvalidTaskId"), body
            return
        assert status == 200, body
        if now < task.ends_at:
            task.last_poll = now
        data = body["data"]
        self.observe(task, data["task_status"])
        if data["task_status"] == "success":
            assert data["results"]["output"] and data["error"] is None
        else:
            assert data["results"] is None
        if data["task_status"] == "error":
            assert data["error"] and "error_message" in data

    @invariant()
    def units_charged_on_success_only(self) -> None:
        if not hasattr(self, "start"):
            return
        now = self.now
        for tenant in TENANTS:
            charged = sum(
                t.cost
                for t in self.model.values()
                if t.tenant == tenant
                and t.succeeds
                and t.ends_at <= now
                and t.ends_at <= t.last_poll + self.window  # lost tasks are not charged
            )
            assert self.balance(tenant) == self.start[tenant] - charged


class RelayAvatarMachine(FamilyMachine):
    scenario = """
providers:
  relay:
    families:
      avatar:
        states: {NOT_START: 1, SUBMITTED: {min: 0, max: 5}, QUEUED: {min: 0, max: 20},
                 IN_PROGRESS: {min: 5, max: 60}}
        failure_rate: 0.3
"""
    order = ("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE")
    terminal = ("SUCCESS", "FAILURE")
    currency = "quota"

    @rule(target=FamilyMachine.tasks, tenant=st.sampled_from(TENANTS))
    def submit(self, tenant: str) -> str:
        body = {"avatar_url": "https://e.x/face.jpg", "audio_url": "https://e.x/a.mp3"}
        status, answer = http(self.server, "POST", "/avatar/generation", tenant, body)
        assert status == 200 and answer["code"] == "success", answer
        task_id = answer["data"]
        ends_at, succeeds = self.plan(task_id)
        now = self.now
        self.model[task_id] = ModelTask(task_id, tenant, now, ends_at, succeeds, 1, now)
        return task_id

    @rule(task_id=FamilyMachine.tasks, by_owner=st.booleans())
    def poll(self, task_id: str, by_owner: bool) -> None:
        task = self.model[task_id]
        key = task.tenant if by_owner else next(t for t in TENANTS if t != task.tenant)
        status, body = http(self.server, "GET", f"/avatar/task/{task_id}", key)
        if not by_owner:
            assert (status, body.get("code")) == (400, "task_not_exist"), body
            return
        assert status == 200, body
        data = body["data"]
        self.observe(task, data["status"])
        if data["status"] == "SUCCESS":
            assert data["data"] and data["fail_reason"] == "" and data["progress"] == "100%"
        else:
            assert data["data"] is None
        if data["status"] == "FAILURE":
            assert data["fail_reason"]

    @invariant()
    def quota_taken_at_submit_and_refunded_on_failure(self) -> None:
        if not hasattr(self, "start"):
            return
        now = self.now
        for tenant in TENANTS:
            mine = [t for t in self.model.values() if t.tenant == tenant]
            refunded = sum(t.cost for t in mine if not t.succeeds and t.ends_at <= now)
            taken = sum(t.cost for t in mine)
            assert self.balance(tenant) == self.start[tenant] - taken + refunded


class A2EMachine(FamilyMachine):
    """A2E: coins taken at submit and given back when the task fails; 404 for a foreign id.

    Each family defines ``read(task_id, key) -> (status, row)`` for its own status endpoint
    and ``check_row(row, state)`` for its own vocabulary.
    """

    currency = "coins"
    submit_path = ""
    body: dict[str, Any] = {}
    cost = 0
    status_key = "current_status"

    @rule(target=FamilyMachine.tasks, tenant=st.sampled_from(TENANTS))
    def submit(self, tenant: str) -> str:
        status, answer = http(self.server, "POST", self.submit_path, tenant, self.body)
        assert status == 200 and answer["code"] == 0, answer
        task_id = answer["data"]["_id"]
        ends_at, succeeds = self.plan(task_id)
        now = self.now
        self.model[task_id] = ModelTask(task_id, tenant, now, ends_at, succeeds, self.cost, now)
        return task_id

    @rule(task_id=FamilyMachine.tasks, by_owner=st.booleans())
    def poll(self, task_id: str, by_owner: bool) -> None:
        task = self.model[task_id]
        key = task.tenant if by_owner else next(t for t in TENANTS if t != task.tenant)
        status, row = self.read(task_id, key)
        if not by_owner:
            assert status == 404, row
            return
        assert status == 200, row
        assert row["_id"] == task_id
        self.observe(task, row[self.status_key])
        self.check_row(row, row[self.status_key])

    @invariant()
    def coins_taken_at_submit_and_refunded_on_failure(self) -> None:
        if not hasattr(self, "start"):
            return
        now = self.now
        for tenant in TENANTS:
            mine = [t for t in self.model.values() if t.tenant == tenant]
            refunded = sum(t.cost for t in mine if not t.succeeds and t.ends_at <= now)
            assert self.balance(tenant) == self.start[tenant] - sum(t.cost for t in mine) + refunded


class A2EImageToVideoMachine(A2EMachine):
    scenario = """
providers:
  a2e:
    families:
      image2video: {states: {sent: {min: 0, max: 5}, pending: {min: 5, max: 60}}, failure_rate: 0.3}
"""
    order = ("sent", "pending", "completed", "failed")
    terminal = ("completed", "failed")
    submit_path = "/api/v1/userImage2Video/start"
    body = {"name": "m", "image_url": "https://e.x/face.png", "prompt": "speaking"}
    cost = 100

    def read(self, task_id: str, key: str) -> tuple[int, Any]:
        status, body = http(self.server, "GET", f"/api/v1/userImage2Video/{task_id}", key)
        return status, body.get("data") if status == 200 else body

    def check_row(self, row: dict[str, Any], state: str) -> None:
        assert bool(row["result_url"]) == (state == "completed")
        assert bool(row["failed_message"]) == (state == "failed")


class A2EVideoMachine(A2EMachine):
    scenario = """
providers:
  a2e:
    families:
      video:
        states: {init: 1, start: {min: 0, max: 3}, pending: {min: 0, max: 10},
                 process: {min: 5, max: 40}, copy: {min: 0, max: 3}}
        failure_rate: 0.3
"""
    order = ("init", "start", "pending", "process", "copy", "success", "fail")
    terminal = ("success", "fail")
    status_key = "status"
    submit_path = "/api/v1/video/generate"
    body = {
        "anchor_id": "63de16f26c6193fa4ca7a486",
        "anchor_type": 0,
        "audioSrc": "https://e.x/a.mp3",
    }
    cost = 10

    def read(self, task_id: str, key: str) -> tuple[int, Any]:
        status, body = http(self.server, "POST", "/api/v1/video/awsResult", key, {"_id": task_id})
        return status, body["data"][0] if status == 200 else body

    def check_row(self, row: dict[str, Any], state: str) -> None:
        assert bool(row["result"]) == (state == "success")
        assert 0 <= row["process"] <= 100
        assert (row["process"] == 100) == (state in ("copy", "success"))
        if state == "fail":
            assert row["msg"]


class A2EFaceSwapMachine(A2EMachine):
    scenario = """
providers:
  a2e:
    families:
      faceswap: {states: {initialized: {min: 0, max: 3}, processing: {min: 5, max: 40}},
                 failure_rate: 0.3}
"""
    order = ("initialized", "processing", "completed", "failed")
    terminal = ("completed", "failed")
    submit_path = "/api/v1/userFaceSwapTask/add"
    body = {"name": "m", "face_url": "https://e.x/face.png", "video_url": "https://e.x/v.mp4"}
    cost = 10

    def read(self, task_id: str, key: str) -> tuple[int, Any]:
        status, body = http(self.server, "GET", f"/api/v1/userFaceSwapTask/{task_id}", key)
        return status, body.get("data") if status == 200 else body

    def check_row(self, row: dict[str, Any], state: str) -> None:
        assert bool(row["result_url"]) == (state == "completed")
        if state == "completed":
            assert row["error_code"] == "0" and row["faild_message"] is None
        if state == "failed":
            assert row["faild_message"] and row["error_code"] != "0"


def _run(machine: type[FamilyMachine], server: MockServer, provider: str) -> None:
    import pytest

    if provider not in providers():
        pytest.skip(f"the {provider} provider package is not there yet")
    machine.server = server
    run_state_machine_as_test(machine, settings=STEPS)


def test_youcam_ai_avatar_against_its_model(avatar_mock_server: MockServer) -> None:
    _run(YouCamAvatarMachine, avatar_mock_server, "youcam")


def test_relay_avatar_against_its_model(avatar_mock_server: MockServer) -> None:
    _run(RelayAvatarMachine, avatar_mock_server, "relay")


def test_a2e_image_to_video_against_its_model(avatar_mock_server: MockServer) -> None:
    _run(A2EImageToVideoMachine, avatar_mock_server, "a2e")


def test_a2e_avatar_video_against_its_model(avatar_mock_server: MockServer) -> None:
    _run(A2EVideoMachine, avatar_mock_server, "a2e")


def test_a2e_face_swap_against_its_model(avatar_mock_server: MockServer) -> None:
    _run(A2EFaceSwapMachine, avatar_mock_server, "a2e")
