"""How each provider says "no": what the suite expects of a refusal, from the catalogs.

The OpenAPI documents give the shape of every answer; these add what a schema cannot say:
whether an answer is a refusal at all (A2E refuses with HTTP 200 and ``code != 0``), and which
code a documented refusal carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dialect:
    name: str
    unauthorized_status: int | None  # None: any refusal will do (not documented)
    unauthorized_codes: tuple[Any, ...]  # empty: not documented
    lost_codes: tuple[Any, ...]  # the code for an unknown task id; empty: not documented

    def is_error(self, status: int, body: Any) -> bool:
        if status >= 400:
            return True
        if not isinstance(body, dict):
            return False
        if self.name == "relay":
            # new-api's task envelope says "success"; the routes that answer like their
            # upstream (a bare video object, Kling's numeric code) carry no string code.
            code = body.get("code")
            return isinstance(code, str) and code != "success"
        if self.name == "a2e":
            return body.get("code") not in (0, None)
        return False

    def code(self, body: Any) -> Any:
        if not isinstance(body, dict):
            return None
        if self.name == "youcam":
            return body.get("error_code")
        if isinstance(body.get("error"), dict):  # new-api gateway shape
            return body["error"].get("code") or body["error"].get("type")
        return body.get("code")


DIALECTS = {
    # youcam-s2s-api.md 2.1, 2.2, 3.4: 401 InvalidApiKey (v2 keys) or InvalidAccessToken (v1
    # access tokens); unknown/expired task: 400 InvalidTaskId.
    "youcam": Dialect("youcam", 401, ("InvalidApiKey", "InvalidAccessToken"), ("InvalidTaskId",)),
    # avatar-relay-api.md 2, 6: 401 (gateway shape); unknown task: 400 task_not_exist.
    "relay": Dialect("relay", 401, (), ("task_not_exist",)),
    # a2e-api.md 1, 16: refusals are code != 0; exact codes are not documented.
    "a2e": Dialect("a2e", None, (), ()),
}


def dialect(provider: str) -> Dialect:
    return DIALECTS.get(provider) or Dialect(provider, None, (), ())
