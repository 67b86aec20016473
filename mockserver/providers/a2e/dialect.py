"""A2E's envelope, and how it words every refusal (a table of the pipeline's kinds).

Every answer, success or refusal, is ``{"code": ..., "data": ..., "trace_id": "<uuid>"}``;
a refusal has a non-zero integer ``code``, a human ``msg`` and ``data: null`` (catalog §1, §15:
``code != 0`` means error, text in ``msg``, ``trace_id`` on newer answers).

The catalog (§1 "HTTP status on errors", §16) documents no error code other than 1001 ("hosts
are occupied") and no fixed HTTP statuses, so these are the mock's choices, each tagged:

- auth refusal (missing, malformed or unknown ``Authorization: Bearer <token>``): HTTP status
  from the scenario's ``providers.a2e.settings.auth_error_status`` (default 401; 200 and 403
  are the other behaviours clients report), ``code: 401``, ``msg: "Unauthorized: ..."``.
  [guess; C18 claims HTTP 200 with a non-zero code, other clients handle 401/403]
- body or query fails its schema, body is not JSON, wrong Content-Type, unknown field:
  HTTP 400, ``code: 400``, ``msg: "Bad Request: <what is wrong>"``. [guess; D14 lists
  "Bad Request(400)", K1 says the server answers HTTP 400 for a bad send_tts body]
- unknown ``_id``, another key's ``_id``, or a deleted record: HTTP 404, ``code: 404``,
  ``msg: "Record not found"``; the same answer for all three, so ids do not leak across keys.
  [guess; clients handle 404 for unknown tasks]
- insufficient coins: HTTP **200**, ``code: 1002``, ``msg: "Insufficient coins: ..."``.
  Business refusals keep HTTP 200 the way §15 describes ("usually still HTTP 200"); 1002 sits
  beside the only documented code, 1001. [guess]
- request body over the limit: HTTP 413, ``code: 413``. [guess]
- no operation at the path / wrong method: HTTP 404 / 405 with ``code`` 404 / 405. [guess]
- rate limited (A2E documents no limits; only when a scenario sets some): HTTP 429,
  ``code: 429``, ``msg: "Too many requests, retry after 30 s"`` and ``Retry-After: 30`` when
  the wait is known (a scenario can turn the header off with the provider setting
  ``rate_limit_retry_after: false``). [guess]
- the mock's capacity reached (live tasks per key or in all, tenants; scenario ``limits``):
  HTTP 429, ``code: 429``, ``msg: "Too many tasks: ..."``, beside the rate limit. [guess]
- a defect in the mock: HTTP 500, ``code: 500``; an injected 5xx (chaos): ``code`` is the HTTP
  status and ``msg`` its phrase, so body and status agree. [guess]

Request bodies accept fields the contract does not name, as A2E's own back end evidently does
(clients send ``negative_prmpt`` beside ``negative_prompt``, undocumented ``isCaptionEnabled``).
[inf]

Coins: a task's cost is charged when it is submitted and refunded when the task ends in its
failure state (``fail`` / ``failed``). [guess; the catalog documents the ``coins`` field, not
when it is charged or refunded] A record deleted before it ended is not refunded [guess],
except where the reference documents it: image-to-video and head swap refund a deleted
``initialized`` task at once (tasks.delete_by_rule).

Other choices where the catalog is silent (the family modules say more):

- lists: ``pageSize`` defaults to 10 and ``pageNum``/``current`` to 1 where the docs do not make
  them required; a page number or size below 1 or above 2^31-1 is a 400. [guess]
- ``userFaceSwapTask/status``: the caller's tasks newest first (the newest 100); ``?_id=``
  narrows it to that task, or answers ``data: []`` when the id is unknown or another key's
  (a filter, not a lookup). [guess]
- avatar video: a failing render fails while in ``process``; the failed row keeps the
  progress it reached (``process: 99``); ``result_people_url``/``result_bg_url`` are mock
  links on success, ``""`` before. [guess] ``current_date`` is UTC+8 and ``diff_s`` the seconds
  since ``createdAt``, as the D2 example's numbers show. [inf]
- face swap: ``initialized_time``/``processing_time`` are ``null`` until entered;
  ``completed_time`` is set when the task ends, failed or not; ``duration`` is 1 (the served
  clip) or 0 for an image input. [guess]
- result URLs are signed once, when the task ends, and expire ``result_url_ttl`` later
  (default 3 days, catalog §1 "Retention"). [3p]
- DELETE works in any state [guess], except where the family's rule refuses one (400 "Task
  in processing": image-to-video while ``sent``/``pending``, head swap while
  ``sent``/``pending``/``processing``, photobook while ``processing``, as the reference
  says); a deleted record is gone from every view at once. [guess]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mockserver.errors import ApiError, reason

if TYPE_CHECKING:
    from mockserver.context import View

BAD_REQUEST = 400
UNAUTHORIZED = 401
NOT_FOUND = 404
METHOD_NOT_ALLOWED = 405
TOO_LARGE = 413
RATE_LIMITED = 429
INTERNAL = 500
INSUFFICIENT_COINS = 1002

NOT_FOUND_MESSAGE = "Record not found"
UNAUTHORIZED_MESSAGE = "Unauthorized: the token is missing, malformed or not valid"


def ok(view: View, data: Any) -> dict[str, Any]:
    """A2E's success envelope."""
    return {"code": 0, "data": data, "trace_id": view.trace_id}


def deleted(view: View) -> dict[str, Any]:
    """What a DELETE answers: ``{code: 0, data: {}}``."""
    return ok(view, {})


def _with(prefix: str, detail: str) -> str:
    return f"{prefix}: {detail}" if detail else prefix


def rate_limited(seconds: str = "") -> ApiError:
    """The 429; ``seconds`` (a whole number, as text) goes in the message and Retry-After."""
    if not seconds:
        return ApiError(429, RATE_LIMITED, "Too many requests")
    if not seconds.isdigit():
        return ApiError(429, RATE_LIMITED, f"Too many requests: {seconds}")
    return ApiError(
        429,
        RATE_LIMITED,
        f"Too many requests, retry after {seconds} s",
        headers={"Retry-After": seconds},
    )


def unauthorized(status: int) -> ApiError:
    return ApiError(status, UNAUTHORIZED, UNAUTHORIZED_MESSAGE)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, BAD_REQUEST, _with("Bad Request", detail))


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND, NOT_FOUND_MESSAGE)


def insufficient_coins(needed: float, available: float, currency: str = "coins") -> ApiError:
    """Too few coins, or diamonds (the same code; the text names the currency). [guess]"""
    return ApiError(
        200,
        INSUFFICIENT_COINS,
        f"Insufficient {currency}: this task needs {needed:g} {currency}, "
        f"{max(available, 0):g} available",
    )


def _internal(detail: str) -> ApiError:
    return ApiError(500, INTERNAL, _with("Internal Server Error", detail))


# Each pipeline refusal kind, worded A2E's way (the detail is the pipeline's reason).
KINDS: dict[str, Callable[[str], ApiError]] = {
    # authenticate() answers with the scenario's auth_error_status; this is the fallback.
    "unauthorized": lambda d: unauthorized(401),
    "rate_limited": rate_limited,
    "invalid_json": bad_request,
    "invalid_params": bad_request,
    "unexpected_param": lambda d: bad_request(_with("unexpected parameter", d)),
    "not_found": lambda d: not_found(),
    "no_route": lambda d: ApiError(404, NOT_FOUND, "Not Found"),
    "method_not_allowed": lambda d: ApiError(405, METHOD_NOT_ALLOWED, "Method Not Allowed"),
    "too_large": lambda d: ApiError(413, TOO_LARGE, _with("Request Entity Too Large", d)),
    "capacity": lambda d: ApiError(429, RATE_LIMITED, _with("Too many tasks", d)),
    "internal": _internal,
}


class A2EDialect:
    def pipeline_error(self, kind: str, detail: str = "") -> ApiError:
        return KINDS.get(kind, _internal)(detail)

    def fault(self, status: int, detail: str = "") -> ApiError:
        if status == 429:
            return rate_limited()
        return ApiError(status, status, detail or reason(status))

    def render(self, error: ApiError, trace_id: str) -> dict[str, Any]:
        if error.body is not None:
            return {**error.body, "trace_id": trace_id}
        return {"code": error.code, "msg": error.message, "data": None, "trace_id": trace_id}
