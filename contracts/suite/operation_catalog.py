"""A provider's operations as the suite sees them, and the task families among them.

Everything is read from the provider's OpenAPI document at run time, so operations added to a
contract are checked without touching the suite. Task families (submit an operation, read
another until a terminal state) are found three ways, first match wins:

1. ``x-task-family`` / ``x-task-role`` (``submit`` | ``status`` | ``list``) on an operation;
2. the flows documented in the research catalogs (:data:`DOCUMENTED`), matched by method and
   path, so an operationId may change freely;
3. the pattern every YouCam feature shares: ``POST /s2s/vX/task/{feature}`` read with
   ``GET /s2s/vX/task/{feature}/{task_id}``, and A2E's ``POST /api/v1/<family>/start`` read
   with ``GET /api/v1/<family>/{_id}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..openapi import Operation, contract

_PARAM = re.compile(r"\{[^}]+\}")


def shape(path: str) -> str:
    """A path template with its parameter names erased: ``/a/{x}`` -> ``/a/{}``."""
    return _PARAM.sub("{}", path)


@dataclass(frozen=True)
class Flow:
    """One documented task family: how it is started, read and listed, and its states."""

    provider: str
    name: str
    submit: tuple[str, str]
    status: tuple[str, str]
    lists: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] | None = None  # working states in documented order; None: unknown
    success: str = "success"
    failure: str = "error"
    also_terminal: tuple[str, ...] = ()
    client_family: str | None = None  # the reference client's name for it, if different
    # (a YouCam feature on another path version: "hair-transfer@v2.1" is "hair-transfer")
    expiry_setting: str | None = None  # scenario setting holding a polling window (mock only)


YOUCAM_STATES = ("running",)

# Flows documented in shared/research/*.md (section numbers in brackets).
DOCUMENTED: tuple[Flow, ...] = (
    # avatar-relay-api.md 3.1, 3.2, 4
    Flow(
        "relay",
        "avatar",
        ("POST", "/avatar/generation"),
        ("GET", "/avatar/task/{}"),
        states=("NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS"),
        success="SUCCESS",
        failure="FAILURE",
        also_terminal=("UNKNOWN",),
    ),
    # a2e-api.md 4.1, 4.2, 4.4, 14
    Flow(
        "a2e",
        "video",
        ("POST", "/api/v1/video/generate"),
        ("POST", "/api/v1/video/awsResult"),
        lists=(("GET", "/api/v1/video/awsList"),),
        states=("init", "start", "pending", "process", "copy"),
        success="success",
        failure="fail",
    ),
    # a2e-api.md 9.1-9.3, 14
    Flow(
        "a2e",
        "image2video",
        ("POST", "/api/v1/userImage2Video/start"),
        ("GET", "/api/v1/userImage2Video/{}"),
        lists=(("GET", "/api/v1/userImage2Video/allRecords"),),
        states=("sent", "pending"),
        success="completed",
        failure="failed",
    ),
    # a2e-api.md 7.6-7.9, 14
    Flow(
        "a2e",
        "faceswap",
        ("POST", "/api/v1/userFaceSwapTask/add"),
        ("GET", "/api/v1/userFaceSwapTask/{}"),
        lists=(
            ("GET", "/api/v1/userFaceSwapTask/records"),
            ("GET", "/api/v1/userFaceSwapTask/status"),
        ),
        states=("initialized", "processing"),
        success="completed",
        failure="failed",
    ),
)

# Families a polling window does not apply to although the provider's rule says it does.
# Stopgap: the mock's YouCam feature table exempts skin analysis (its results are kept 24 h),
# and the contract does not say so yet; once build_spec emits ``x-polling-window: false`` on
# the run operation (read below), this table can go.
NO_POLLING_WINDOW = {("youcam", "skin-analysis")}

_YOUCAM_TASK = re.compile(r"^/s2s/(v[0-9.]+)/task/(?!template/|delete$)(.+)$")
_A2E_START = re.compile(r"^/api/v1/(\w+)/(start|add|startDubbing)$")


class Op:
    """An operation as a test parameter, shown by its id (pytest prints parameters in every
    failure report, and a short id keeps 250 operations' worth of them readable)."""

    __slots__ = ("operation",)

    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    def __getattr__(self, name: str) -> Any:
        return getattr(self.operation, name)

    def __repr__(self) -> str:
        return f"<{self.operation.provider}.{self.operation.operation_id}>"


@dataclass(repr=False)
class Family:
    flow: Flow
    submit: Operation
    status: Operation
    lists: list[Operation] = field(default_factory=list)
    delete: Operation | None = None  # deletes a finished task (YouCam task/delete, A2E DELETE)

    def __repr__(self) -> str:
        return f"<family {self.flow.provider}/{self.flow.name}>"

    @property
    def provider(self) -> str:
        return self.flow.provider

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def client_name(self) -> str:
        """What the reference client calls it (a YouCam feature, an A2E family)."""
        return self.flow.client_family or self.flow.name

    @property
    def operation_ids(self) -> list[str]:
        ops = [self.submit, self.status, *self.lists, *([self.delete] if self.delete else [])]
        return [op.operation_id for op in ops]

    @property
    def terminal(self) -> tuple[str, ...]:
        return (self.flow.success, self.flow.failure, *self.flow.also_terminal)

    @property
    def youcam_version(self) -> str:
        match = _YOUCAM_TASK.match(self.submit.path)
        return match.group(1) if match else "v2.0"


@dataclass
class OperationCatalog:
    provider: str
    operations: list[Operation]
    families: list[Family]
    raw: dict[str, Any]

    def by_id(self, operation_id: str) -> Operation:
        return next(op for op in self.operations if op.operation_id == operation_id)

    def find(self, method: str, path: str) -> Operation | None:
        wanted = (method.upper(), shape(path))
        for op in self.operations:
            if (op.method, shape(op.path)) == wanted:
                return op
        return None

    def raw_operation(self, op: Operation) -> dict[str, Any]:
        return (self.raw.get("paths") or {}).get(op.path, {}).get(op.method.lower(), {})

    def needs_auth(self, op: Operation) -> bool:
        security = self.raw_operation(op).get("security", self.raw.get("security"))
        return bool(security) and any(bool(s) for s in security or ())

    def request_example(self, op: Operation) -> Any:
        """A documented example request body, if the contract gives one."""
        content = (self.raw_operation(op).get("requestBody") or {}).get("content") or {}
        for media in content.values():
            if "example" in media:
                return media["example"]
            for example in (media.get("examples") or {}).values():
                if isinstance(example, dict) and "value" in example:
                    return example["value"]
        return None

    def family_of(self, op: Operation) -> Family | None:
        for family in self.families:
            if op.operation_id in family.operation_ids:
                return family
        return None


def _by_extension(provider: str, operations: list[Operation]) -> list[Family]:
    roles: dict[str, dict[str, list[Operation]]] = {}
    for op in operations:
        name = op.extensions.get("x-task-family")
        role = op.extensions.get("x-task-role")
        if name and role:
            roles.setdefault(name, {}).setdefault(role, []).append(op)
    families = []
    for name, ops in roles.items():
        if ops.get("submit") and ops.get("status"):
            submit, status = ops["submit"][0], ops["status"][0]
            states = submit.extensions.get("x-task-states")
            flow = Flow(
                provider,
                name,
                (submit.method, submit.path),
                (status.method, status.path),
                states=tuple(states["working"]) if states else None,
                success=states["success"] if states else "success",
                failure=states["failure"] if states else "error",
            )
            families.append(Family(flow, submit, status, ops.get("list", [])))
    return families


def _by_pattern(provider: str, catalog: OperationCatalog) -> list[Flow]:
    flows = []
    for op in catalog.operations:
        if op.method != "POST":
            continue
        if provider == "youcam" and (m := _YOUCAM_TASK.match(op.path)):
            if catalog.find("GET", op.path + "/{}") is not None:
                version, feature = m.group(1), m.group(2)
                windowed = op.extensions.get("x-polling-window", True) and (
                    (provider, feature) not in NO_POLLING_WINDOW
                )
                flows.append(
                    Flow(
                        provider,
                        feature if version == "v2.0" else f"{feature}@{version}",
                        ("POST", op.path),
                        ("GET", op.path + "/{}"),
                        states=YOUCAM_STATES,
                        client_family=feature,
                        expiry_setting="polling_window" if windowed else None,
                    )
                )
        elif provider == "a2e" and (m := _A2E_START.match(op.path)):
            base = f"/api/v1/{m.group(1)}"
            if catalog.find("GET", base + "/{}") is not None:
                lists = tuple(
                    ("GET", base + tail)
                    for tail in ("/allRecords", "/records")
                    if catalog.find("GET", base + tail)
                )
                flows.append(
                    Flow(
                        provider,
                        m.group(1),
                        ("POST", op.path),
                        ("GET", base + "/{}"),
                        lists=lists,
                        success="completed",
                        failure="failed",
                    )
                )
    return flows


@cache
def operation_catalog(provider: str) -> OperationCatalog:
    """The provider's contract: every operation, and the task families found in it."""
    read = contract(provider)
    operations = list(read.operations)
    cat = OperationCatalog(provider, operations, [], read.document)
    families = _by_extension(provider, operations)
    taken = {f.submit.operation_id for f in families}
    flows = [f for f in DOCUMENTED if f.provider == provider] + _by_pattern(provider, cat)
    for flow in flows:
        submit, status = cat.find(*flow.submit), cat.find(*flow.status)
        if submit is None or status is None or submit.operation_id in taken:
            continue
        lists = [op for op in (cat.find(*pair) for pair in flow.lists) if op is not None]
        family = Family(flow, submit, status, lists)
        if provider == "youcam":
            # youcam-s2s-api.md 3.5: one delete for the tasks of run endpoints; a
            # pre-process task is not one (OperationNotSupport)
            if not submit.path.endswith("/pre-process"):
                family.delete = cat.find("POST", f"/s2s/{family.youcam_version}/task/delete")
        elif "{" in status.path:  # a DELETE beside the detail read (A2E)
            family.delete = cat.find("DELETE", status.path)
        families.append(family)
        taken.add(submit.operation_id)
    cat.families = families
    return cat
