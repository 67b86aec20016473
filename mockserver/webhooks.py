"""The webhook delivery engine: scheduled on the mock clock, signed, retried, journaled.

Providers plan deliveries when a task is submitted (``WebhookPlanner``), for the moments the
task's timeline says it changes. The engine sends what falls due, in due order, from a
background task, so request handling never waits on a receiver. Advancing the virtual clock
wakes it; ``flush()`` delivers everything due now and waits (tests, and the control API's
``advance`` with ``"deliver": true``). A failed attempt (timeout, connection error, non-2xx) is
retried after each delay of ``retry_schedule`` in turn, with a fresh timestamp and signature.

Receivers cannot hurt each other. A due delivery waits in its target's queue (per origin:
scheme, host and port) until that target has fewer than ``per_target`` attempts in flight and
the engine fewer than ``concurrency``; only then is it sent, and its ``timeout`` runs from that
moment, never while it waits. A receiver that never answers therefore holds at most
``per_target`` slots and delays only its own deliveries. One task's deliveries go one at a
time, in the order they fell due: a receiver sees a task's changes in order even when several
fall due in one clock jump (chaos ``reorder`` still reorders). What waits is bounded too: past
``queue_size`` deliveries scheduled or waiting, a new one (or a retry) is dropped, with an
attempt entry that says so. Attempts are a ring of ``attempts_kept``; finished deliveries are
kept (for redelivery) up to ``attempts_kept`` as well, and a task's go when it is evicted.

Webhook chaos (duplicate, delay, reorder, drop, bad_signature, stale_timestamp, tampered_body)
is drawn per delivery from the scenario's seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from mockserver.ids import uuid4
from mockserver.numbers import MAX_SECONDS, read_number
from mockserver.quietlog import QuietLog

if TYPE_CHECKING:
    from mockserver.delivery_store import DeliveryRecords
    from mockserver.state import MockState
    from mockserver.tasks import Task

log = logging.getLogger("avatar_mock")

CHAOS_EFFECTS = (
    "duplicate",
    "delay",
    "reorder",
    "drop",
    "bad_signature",
    "stale_timestamp",
    "tampered_body",
)


@dataclass
class Message:
    """What one attempt sends: the body bytes and the headers (signature included)."""

    body: bytes
    headers: dict[str, str]
    signature: str | None = None


class Signer(Protocol):
    def __call__(
        self, message_id: str, timestamp: int, body: bytes
    ) -> tuple[dict[str, str], str | None]:
        """Headers that authenticate ``body``, and the signature string for the journal."""
        ...


@dataclass
class Delivery:
    """One notification to one target, and its attempts."""

    id: str
    provider: str
    tenant: str
    target: str
    due: float  # on the mock clock
    render: Callable[[float], dict[str, Any]]  # mock time -> body object
    message_id: str  # stable across retries (Standard Webhooks' webhook-id)
    sign: Signer | None = None
    task: Task | None = None
    expect_state: str | None = None  # skip if the task's timeline no longer enters this state
    attempt: int = 0
    chaos: list[str] = field(default_factory=list)
    cancelled: bool = False
    body_override: bytes | None = None  # a redelivery sends exactly what was sent before
    retry_schedule: tuple[float, ...] | None = None  # None: the scenario's webhooks schedule
    planned_for: float = 0.0  # the moment the task enters expect_state (due moves on retry)
    finished: bool = False  # no attempt left to make (sent, given up, dropped, or skipped)
    # On a state backend (mockserver.delivery_store): its record and lease, and the origin
    # the planner was given (a replica that did not plan it plans it again with that).
    key: str | None = None
    origin: str = ""

    def __post_init__(self) -> None:
        self.planned_for = self.due

    def still_planned(self) -> bool:
        """False once the task was forced away from the change this delivery announces."""
        if self.cancelled:
            return False
        if self.task is None or self.expect_state is None or self.attempt > 0:
            return True
        return self.task.timeline.entered_at(self.expect_state) == self.planned_for


class WebhookPlanner(Protocol):
    """A provider's rule for which deliveries a task gets (its ``Provider.webhooks`` slot)."""

    def plan(self, state: MockState, task: Task, origin: str) -> list[Delivery]: ...


@dataclass
class WebhookSettings:
    timeout: float = 10.0  # real seconds an attempt may take, from when it is sent
    retry_schedule: tuple[float, ...] = (5.0, 30.0, 300.0)
    concurrency: int = 64  # attempts in flight at once, every target together
    per_target: int = 4  # attempts in flight at once to one origin
    queue_size: int = 100_000  # deliveries scheduled or waiting; past it new ones are dropped
    timestamp_clock: str = "wall"  # what receivers' verifiers compare against
    attempts_kept: int = 10_000
    chaos: tuple[dict[str, Any], ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> WebhookSettings:
        raw = raw or {}
        return cls(
            timeout=float(raw.get("timeout", cls.timeout)),
            retry_schedule=tuple(float(s) for s in raw.get("retry_schedule", (5, 30, 300))),
            concurrency=int(raw.get("concurrency", cls.concurrency)),
            per_target=int(raw.get("per_target", cls.per_target)),
            queue_size=int(raw.get("queue_size", cls.queue_size)),
            timestamp_clock=raw.get("timestamp_clock", "wall"),
            attempts_kept=int(raw.get("attempts_kept", cls.attempts_kept)),
            chaos=tuple(_chaos_rule(r, i) for i, r in enumerate(raw.get("chaos") or ())),
        )


def _chaos_rule(raw: dict[str, Any], index: int) -> dict[str, Any]:
    """A webhook-chaos rule with its numbers checked (NumberError names the field): a NaN
    probability or an infinite delay would otherwise stall the delivery queue."""
    where = f"webhooks.chaos.{index}"
    rule = dict(raw)
    if "probability" in rule:
        rule["probability"] = read_number(
            rule["probability"], f"{where}.probability", minimum=0.0, maximum=1.0
        )
    if "seconds" in rule:
        rule["seconds"] = read_number(
            rule["seconds"], f"{where}.seconds", minimum=0.0, maximum=MAX_SECONDS
        )
    return rule


def origin_of(url: str) -> str:
    """The target a delivery counts against: scheme, host and port of its URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port or ''}"


def _planner(provider: str) -> WebhookPlanner | None:
    """The planner the provider names in its ``Provider.webhooks`` slot (None: no webhooks)."""
    from mockserver.registry import providers  # registry discovery imports the packages

    found = providers().get(provider)
    return found.webhooks if found is not None else None


class WebhookEngine:
    def __init__(self, state: MockState) -> None:
        self.state = state
        self.settings = WebhookSettings.parse(state.scenario.raw.get("webhooks"))
        self._heap: list[tuple[float, int, Delivery]] = []  # scheduled, by due time
        self._seq = 0
        self._ids = 0
        self._attempt_ids = 0
        self.attempts: deque[dict[str, Any]] = deque(maxlen=self.settings.attempts_kept)
        self.deliveries: dict[str, Delivery] = {}
        self._by_task: dict[str, list[Delivery]] = {}
        self._finished: deque[str] = deque()  # ids of finished deliveries, oldest first
        # Due deliveries waiting for a slot, per target; targets that may start one, in turn;
        # attempts in flight per target and in all.
        self._waiting: dict[str, deque[Delivery]] = {}
        self._waiting_count = 0
        self._ready: dict[str, None] = {}
        self._active: dict[str, int] = {}
        self._running = 0
        # Tasks with an attempt in flight, and the targets holding a delivery back for each.
        self._sending: dict[str, set[str]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._inflight: set[asyncio.Task] = set()
        self._stopping = False
        self._quiet = QuietLog(log)  # drops are logged once per 10 s, with a count
        self._rng = random.Random(f"{state.scenario.seed}:webhooks")
        self._planners: dict[str, WebhookPlanner | None] = {}
        # On a state backend: where deliveries are kept and who sends each (None: memory).
        self.kept: DeliveryRecords | None = None

    # --- configuration -----------------------------------------------------------------

    def reconfigure(self) -> None:
        self.settings = WebhookSettings.parse(self.state.scenario.raw.get("webhooks"))
        if self.attempts.maxlen != self.settings.attempts_kept:
            self.attempts = deque(self.attempts, maxlen=self.settings.attempts_kept)

    def reset(self) -> None:
        """Forget every delivery; attempts in flight finish, unrecorded."""
        self._heap.clear()
        self.attempts.clear()
        self.deliveries.clear()
        self._by_task.clear()
        self._finished.clear()
        self._waiting.clear()
        self._waiting_count = 0
        self._ready.clear()
        self._sending.clear()
        self._ids = self._attempt_ids = 0
        self._rng = random.Random(f"{self.state.scenario.seed}:webhooks")
        if self.kept is not None:
            self.kept.reset()

    # --- planning ----------------------------------------------------------------------

    def next_id(self) -> str:
        """``dlv_000001``, ``dlv_000002``...: numbered per replica, so on a store a later
        opening (another replica, a restart) puts its generation in: ``dlv_3_000001``, and
        no two replicas number two deliveries alike. (A delivery kept on a store takes the
        id its record gives it instead: ``delivery_store.delivery_id``.)"""
        self._ids += 1
        generation = self.state.generation
        if generation:
            return f"dlv_{generation}_{self._ids:06d}"
        return f"dlv_{self._ids:06d}"

    def _planner_for(self, provider: str) -> WebhookPlanner | None:
        """The provider's planner, looked up once: a forced or adopted task may be the first
        of its provider this engine sees (after a snapshot import, say)."""
        planner = self._planners.get(provider, ...)
        if planner is ...:
            planner = self._planners[provider] = _planner(provider)
        return planner

    def task_submitted(self, task: Task, origin: str) -> None:
        planner = self._planner_for(task.provider)
        if planner is None:
            return
        planned = planner.plan(self.state, task, origin)
        for delivery in planned:
            delivery.origin = origin
        if planned:
            self._by_task.setdefault(task.id, []).extend(planned)
            if self.kept is not None:
                self.kept.planned(task, origin, planned)
            for delivery in planned:
                self.schedule(delivery)

    def task_changed(self, task: Task, origin: str | None = None) -> None:
        """The task was forced: drop what no longer matches its timeline, plan what is new.

        Links in new bodies point at ``origin`` (the forcing request's), else at the origin
        the task's earlier deliveries were planned with."""
        old = self._by_task.pop(task.id, [])
        kept = [d for d in old if d.attempt > 0 or d.still_planned()]
        for d in old:
            if d not in kept:
                d.cancelled = True
        origin = origin or next((d.origin for d in old if d.origin), "")
        planner = self._planner_for(task.provider)
        if planner is None:
            self._by_task[task.id] = kept
            return
        fresh = planner.plan(self.state, task, origin)
        for delivery in fresh:
            delivery.origin = origin
        sent_or_pending = {(d.target, d.expect_state) for d in kept}
        new = [d for d in fresh if (d.target, d.expect_state) not in sent_or_pending]
        self._by_task[task.id] = kept + new
        if self.kept is not None and new:
            self.kept.planned(task, origin, new)
        for delivery in new:
            self.schedule(delivery)

    def adopt(self, task: Task, origin: str) -> None:
        """Plan here what another replica (or this store's earlier run) planned for ``task``:
        its deliveries, or those its timeline gained since."""
        if task.id in self._by_task:
            self.task_changed(task, origin)
        else:
            self.task_submitted(task, origin)

    def tasks_deliveries(self, task_id: str) -> list[Delivery]:
        """The deliveries planned for the task ``task_id``, in plan order."""
        return self._by_task.get(task_id, [])

    def schedule(self, delivery: Delivery) -> None:
        self.deliveries[delivery.id] = delivery
        self._push(delivery)

    def _push(self, delivery: Delivery) -> None:
        """Into the schedule, unless the queue is full: then dropped, with an attempt entry."""
        limit = self.settings.queue_size
        if len(self._heap) + self._waiting_count >= limit:
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
        if len(self._heap) + self._waiting_count >= limit:
            error = f"dropped: the delivery queue is full ({limit} waiting)"
            self._record(delivery, Message(b"", {}), None, error, 0.0, [])
            self._finish(delivery)
            self._quiet.warning(
                "webhook-queue-full", "webhook %s to %s %s", delivery.id, delivery.target, error
            )
            return
        self._seq += 1
        heapq.heappush(self._heap, (delivery.due, self._seq, delivery))
        self._wake.set()

    def forget_task(self, task: Task) -> None:
        """The task was evicted or deleted: its deliveries are cancelled and forgotten."""
        if self.kept is not None:
            self.kept.forget(task, self._by_task.get(task.id, ()))
        for delivery in self._by_task.pop(task.id, ()):
            delivery.cancelled = True
            self.deliveries.pop(delivery.id, None)

    def _finish(self, delivery: Delivery) -> None:
        """No attempt is left for ``delivery``; keep it (for redelivery) while room lasts."""
        if delivery.finished:
            return
        delivery.finished = True
        finished = self._finished
        finished.append(delivery.id)
        while len(finished) > self.settings.attempts_kept:
            old = self.deliveries.pop(finished.popleft(), None)
            if old is not None and old.task is not None:
                siblings = self._by_task.get(old.task.id)
                if siblings is not None:
                    siblings[:] = [d for d in siblings if d is not old]
                    if not siblings:
                        del self._by_task[old.task.id]

    def pending(self) -> int:
        """Deliveries scheduled or waiting for a slot, not cancelled."""
        waiting = sum(1 for q in self._waiting.values() for d in q if not d.cancelled)
        return waiting + sum(1 for _, _, d in self._heap if not d.cancelled)

    # --- running -----------------------------------------------------------------------

    async def start(self, app: Any = None) -> None:
        self._stopping = False
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, app: Any = None) -> None:
        self._stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for task in list(self._inflight):
            task.cancel()
        if self._session is not None:
            await self._session.close()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before dispatching, so a wake during it is not lost
            self._dispatch_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._real_wait())

    def _real_wait(self) -> float | None:
        if not self._heap:
            return None
        clock = self.state.clock
        speed = clock.speed
        if speed <= 0:
            return None
        return max((self._heap[0][0] - clock.now()) / speed, 0.0) + 0.001

    def _dispatch_due(self) -> int:
        """Move what fell due to its target's queue and start what slots allow; how many
        fell due."""
        now = self.state.clock.now()
        due: list[Delivery] = []
        while self._heap and self._heap[0][0] <= now:
            _, _, delivery = heapq.heappop(self._heap)
            if delivery.still_planned():
                due.append(delivery)
            else:
                self._finish(delivery)
        for delivery in self._apply_order_chaos(due):
            target = origin_of(delivery.target)
            queue = self._waiting.get(target)
            if queue is None:
                queue = self._waiting[target] = deque()
            queue.append(delivery)
            self._waiting_count += 1
            if self._active.get(target, 0) < self.settings.per_target:
                self._ready[target] = None
        self._pump()
        return len(due)

    def _pump(self) -> None:
        """Start waiting deliveries, targets in turn, while the slots allow."""
        per_target = self.settings.per_target
        while self._ready and self._running < self.settings.concurrency and not self._stopping:
            target = next(iter(self._ready))
            del self._ready[target]
            queue = self._waiting[target]
            delivery = self._next_free(queue, target)
            if delivery is None:  # each waits for its task's attempt in flight
                continue
            self._waiting_count -= 1
            if not queue:
                del self._waiting[target]
            if delivery.cancelled:  # its task was evicted while it waited
                self._finish(delivery)
                if target in self._waiting:
                    self._ready[target] = None
                continue
            active = self._active[target] = self._active.get(target, 0) + 1
            self._running += 1
            if delivery.task is not None:
                self._sending[delivery.task.id] = set()
            if target in self._waiting and active < per_target:
                self._ready[target] = None  # to the back: the next target goes first
            task = asyncio.get_running_loop().create_task(self._attempt(delivery, target))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _next_free(self, queue: deque[Delivery], target: str) -> Delivery | None:
        """Take the first delivery whose task has no attempt in flight; None when there is
        none (the target is then started again when such an attempt ends)."""
        sending = self._sending
        for index, delivery in enumerate(queue):
            if delivery.task is None or delivery.task.id not in sending:
                del queue[index]
                return delivery
            sending[delivery.task.id].add(target)
        return None

    async def _attempt(self, delivery: Delivery, target: str) -> None:
        try:
            if self.kept is None:
                await self._send(delivery)
            else:
                await self._send_kept(delivery, self.kept)
        finally:
            if delivery.task is not None:
                for held in self._sending.pop(delivery.task.id, ()):
                    if held in self._waiting:
                        self._ready[held] = None
            self._running -= 1
            left = self._active.get(target, 1) - 1
            if left > 0:
                self._active[target] = left
            else:
                self._active.pop(target, None)
            if target in self._waiting and left < self.settings.per_target:
                self._ready[target] = None
            self._pump()

    async def flush(self) -> None:
        """Deliver everything due at the clock's now, retries that fall due included."""
        for _ in range(1000):
            fell_due = self._dispatch_due()
            if self._inflight:
                await asyncio.gather(*list(self._inflight), return_exceptions=True)
            elif self._waiting:  # slots full of attempts this loop did not start: wait
                await asyncio.sleep(0.001)
            if not fell_due and not self._inflight and not self._waiting:
                return

    # --- sending -----------------------------------------------------------------------

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No pool limit: the engine's own slots bound what is in flight, so an attempt
            # never waits in the connector's queue with its timeout running.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def _timestamp(self) -> int:
        if self.settings.timestamp_clock == "mock":
            return int(self.state.clock.now())
        return int(time.time())

    def _draw_chaos(self, delivery: Delivery) -> list[dict[str, Any]]:
        fired = []
        for rule in self.settings.chaos:
            match = rule.get("match") or {}
            if match.get("provider") not in (None, delivery.provider):
                continue
            if match.get("tenant") not in (None, delivery.tenant):
                continue
            if self._rng.random() < float(rule.get("probability", 1.0)):
                fired.append(rule)
        return fired

    def _apply_order_chaos(self, due: list[Delivery]) -> list[Delivery]:
        """``delay`` pushes a first attempt later; ``reorder`` swaps it with its successor."""
        out: list[Delivery] = []
        for delivery in due:
            if delivery.attempt > 0 or delivery.chaos:
                out.append(delivery)
                continue
            rules = self._draw_chaos(delivery)
            delivery.chaos = [r["effect"] for r in rules] or ["none"]
            delayed = next((r for r in rules if r["effect"] == "delay"), None)
            if delayed is not None:
                delivery.due += float(delayed.get("seconds", 30))
                self._push(delivery)
                continue
            out.append(delivery)
        for i in range(len(out) - 1):
            if "reorder" in out[i].chaos:
                out[i], out[i + 1] = out[i + 1], out[i]
        return out

    def _message(self, delivery: Delivery, chaos: list[str]) -> Message:
        if delivery.body_override is not None:
            body = delivery.body_override
        else:
            body = json.dumps(
                delivery.render(delivery.due), separators=(",", ":"), ensure_ascii=False
            ).encode()
        timestamp = self._timestamp()
        if "stale_timestamp" in chaos:
            timestamp -= 3600
        headers = {"Content-Type": "application/json", "User-Agent": "avatar-mock-webhooks/0.1"}
        signature = None
        if delivery.sign is not None:
            signed_body = body
            extra, signature = delivery.sign(delivery.message_id, timestamp, signed_body)
            if "bad_signature" in chaos and signature:
                signature = "v1," + "A" * 43 + "="
                extra = {**extra, "webhook-signature": signature}
            headers.update(extra)
        if "tampered_body" in chaos:  # the receiver gets a body other than the one signed
            tampered = body.replace(b'"success"', b'"error"', 1)
            body = tampered if tampered != body else body + b" "
        return Message(body, headers, signature)

    async def _send(self, delivery: Delivery) -> None:
        delivery.attempt += 1
        chaos = [c for c in delivery.chaos if c != "none"] if delivery.attempt == 1 else []
        message = self._message(delivery, chaos)
        if "drop" in chaos:
            self._record(delivery, message, None, "dropped by chaos", 0.0, chaos)
            self._finish(delivery)
            return
        copies = 2 if "duplicate" in chaos else 1
        for _ in range(copies):
            status, error, latency = await self._post(delivery.target, message)
            self._record(delivery, message, status, error, latency, chaos)
        if error is not None or status is None or not 200 <= status < 300:
            self._retry(delivery)
        else:
            self._finish(delivery)

    async def _send_kept(self, delivery: Delivery, kept: DeliveryRecords) -> None:
        """On a state backend: the attempt only under this delivery's lease, and only if no
        replica made it already; what it did is kept before the lease goes."""
        if not await kept.claim(delivery):
            return
        await self._send(delivery)
        await kept.sent(delivery)

    def sent_elsewhere(self, delivery: Delivery, attempts: int) -> None:
        """Another replica (or this store's earlier run) made the delivery's last attempt."""
        delivery.attempt = max(delivery.attempt, attempts)
        delivery.cancelled = True  # out of the schedule, and never planned again
        self._finish(delivery)

    def push_again(self, delivery: Delivery) -> None:
        """Back into the schedule: the retry another replica planned after its attempt."""
        if not delivery.cancelled and not delivery.finished:
            self._push(delivery)

    async def _post(self, url: str, message: Message) -> tuple[int | None, str | None, float]:
        """One attempt, timed from now: the caller holds its slots already."""
        started = time.perf_counter()
        try:
            session = self._session_for_loop()
            async with asyncio.timeout(self.settings.timeout):
                async with session.post(url, data=message.body, headers=message.headers) as resp:
                    await resp.read()
                    return resp.status, None, time.perf_counter() - started
        except TimeoutError:
            return None, "timeout", time.perf_counter() - started
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started

    def trace_id(self) -> str:
        """A seeded uuid4 for bodies that carry one (A2E's envelope)."""
        return uuid4(self._rng.getrandbits(128))

    def _retry(self, delivery: Delivery) -> None:
        schedule = self.settings.retry_schedule
        if delivery.retry_schedule is not None:
            schedule = delivery.retry_schedule
        if delivery.attempt > len(schedule) or delivery.cancelled:
            self._finish(delivery)
            return
        delivery.due = self.state.clock.now() + schedule[delivery.attempt - 1]
        self._push(delivery)

    def _record(
        self,
        delivery: Delivery,
        message: Message,
        status: int | None,
        error: str | None,
        latency: float,
        chaos: list[str],
    ) -> None:
        self._attempt_ids += 1
        self.attempts.append(
            {
                "id": self._attempt_ids,
                "delivery_id": delivery.id,
                "provider": delivery.provider,
                "tenant": delivery.tenant,
                "task_id": delivery.task.id if delivery.task is not None else None,
                "target": delivery.target,
                "attempt": delivery.attempt,
                "at": self.state.clock.now(),
                "status": status,
                "error": error,
                "latency_ms": round(latency * 1000, 3),
                "message_id": delivery.message_id,
                "signature": message.signature,
                "headers": message.headers,
                "body": message.body.decode("utf-8", errors="replace"),
                "chaos": chaos or None,
            }
        )

    # --- control API -------------------------------------------------------------------

    def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send a delivery again now, the same body, a fresh timestamp and signature."""
        original = self.deliveries.get(delivery_id)
        if original is None:
            return None
        last_body = next(
            (a["body"] for a in reversed(self.attempts) if a["delivery_id"] == delivery_id), None
        )
        copy = Delivery(
            id=self.next_id(),
            provider=original.provider,
            tenant=original.tenant,
            target=original.target,
            due=self.state.clock.now(),
            render=original.render,
            message_id=original.message_id,
            sign=original.sign,
            task=original.task,
            chaos=["none"],
            body_override=last_body.encode() if last_body is not None else None,
        )
        if copy.task is not None:  # evicted with its task, like the original
            self._by_task.setdefault(copy.task.id, []).append(copy)
        self.schedule(copy)
        return copy
