"""Webhook deliveries on a state backend: kept through a restart, sent by one replica.

With ``--state sqlite:...`` or ``redis://...`` each planned delivery has a record of its own,
``webhook:[provider, task id, target, state, planned_for, n]``: the origin its body's links
use, how many attempts were made, the due time of the next and whether none is left. The
record is written with the request that planned it (the task's submit or force, in the same
transaction as the task), and again after each attempt. Records of their own rather than a
part of the task's record, because the engine writes them from the background, after a
receiver answered: rewriting the task then would lay this replica's copy of the task over a
force another replica made meanwhile, and two replicas finishing two deliveries of one task
would overwrite each other's marks.

What a delivery sends is not kept: its body and signature come from closures the provider's
planner makes, so a replica (or a restarted mock) plans the task again from its record and
matches the deliveries by their key. Every replica therefore schedules every delivery; an
attempt is made only under the delivery's lease (``Backend.acquire``, on the wall clock:
an attempt's timeout is real seconds and the mock's clock may stand still), and only when
the record says no replica made it already. A replica that finds the lease held waits for
it (its slot and the task's turn held, so one task's changes still go in order whichever
replica sends them), then reads what the holder did; a holder that died mid-send is taken
over once its lease runs out.

A kept delivery's id (``dlv_`` and 16 hex digits) is drawn from its record's key, so every
replica that plans it, and the mock restarted on the store, gives it the same id: a
redelivery asked of any replica sends that delivery. What is not kept (a redelivery's copy)
is numbered by its replica, with the replica's generation in it (``WebhookEngine.next_id``).

That is at-least-once, not exactly-once, where a crash falls between a receiver's answer and
the record's write: the restarted mock (or another replica) sends that attempt again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.backends import Backend, Record, Write

if TYPE_CHECKING:
    from mockserver.persist import Persistence
    from mockserver.state import MockState
    from mockserver.tasks import Task
    from mockserver.webhooks import Delivery

log = logging.getLogger("avatar_mock")

KIND = "webhook"  # records: webhook:[provider, task_id, target, state, planned_for, n]
INDEX = "webhooks"
LEASE_MARGIN = 5.0  # real seconds a lease outlives the attempt's timeout (the record's write)
RECHECK = 0.2  # real seconds between two tries at a lease another replica holds


def record_key(task: Task, delivery: Delivery, n: int) -> str:
    where = [task.provider, task.id, delivery.target, delivery.expect_state]
    return f"{KIND}:" + orjson.dumps([*where, delivery.planned_for, n]).decode()


def delivery_id(key: str) -> str:
    """The fleet's id of the kept delivery whose record is ``key``."""
    return "dlv_" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


class DeliveryRecords:
    """One replica's webhook deliveries in its state store: a part of :class:`Persistence`
    (its records go out with each write, come in with each pull) and the engine's lease."""

    kind = KIND
    index = INDEX

    def __init__(self, state: MockState, persist: Persistence) -> None:
        self.state = state
        self.persist = persist
        self._dirty: dict[str, Delivery | None] = {}  # record key -> delivery (None: delete)
        self._generation = 0  # moves on reset: a delivery waiting for a lease is dropped
        self._quiet = False  # planning what the store holds already: nothing to write
        state.webhooks.kept = self

    # -- the engine's side -------------------------------------------------------------------
    def planned(self, task: Task, origin: str, deliveries: list[Delivery]) -> None:
        """Give ``deliveries`` (just planned for ``task``, not scheduled yet) their keys and
        the ids drawn from them; written with the request that planned them."""
        seen: dict[tuple[Any, ...], int] = {}
        fresh = {id(d) for d in deliveries}
        for d in self.state.webhooks.tasks_deliveries(task.id):
            slot = (d.target, d.expect_state, d.planned_for)
            n = seen[slot] = seen.get(slot, -1) + 1
            if id(d) in fresh and d.expect_state is not None:  # a redelivery is not kept
                d.key, d.origin = record_key(task, d, n), origin
                d.id = delivery_id(d.key)
                if not self._quiet:
                    self._dirty[d.key] = d

    def forget(self, task: Task, deliveries: Any) -> None:
        """The task was evicted or deleted: its records go with the next write."""
        for d in deliveries:
            if d.key is not None:
                self._dirty[d.key] = None

    def reset(self) -> None:
        self._dirty.clear()
        self._generation += 1

    async def claim(self, delivery: Delivery) -> bool:
        """Whether this replica makes the delivery's next attempt now: it holds the lease
        and no replica made that attempt already (else what the record says is taken)."""
        backend = self.persist.backend
        key = delivery.key
        if key is None:  # a redelivery: sent by the replica asked
            return True
        if backend is None:  # the store closed (shutting down): a replica still open sends it
            return False
        # a pull may merge the holder's record while this waits: compare with what was
        # planned here, not with what the merge wrote into the delivery
        generation, attempt, told = self._generation, delivery.attempt, False
        while True:
            ttl = self.state.webhooks.settings.timeout + LEASE_MARGIN
            try:
                if await backend.acquire(key, self.persist.replica, now=time.time(), ttl=ttl):
                    record = await backend.get(key)
                    break
            except Exception:  # the store went away: try again, never send blind
                if not told:
                    log.exception("state: cannot lease webhook delivery %s", delivery.id)
                told = True
            await asyncio.sleep(RECHECK)  # real time: the holder's attempt runs in real time
            if generation != self._generation or delivery.cancelled:
                return False  # reset, evicted, or found sent meanwhile (a pull merged it)
        kept = orjson.loads(record.value) if record is not None else None
        if delivery.cancelled or generation != self._generation:  # found sent by a merge
            await self._release(backend, key)
            return False
        if kept is None or kept["attempt"] <= attempt:
            return True
        engine = self.state.webhooks
        if kept["finished"]:
            engine.sent_elsewhere(delivery, kept["attempt"])
        else:  # another replica made this attempt and planned the retry
            delivery.attempt, delivery.due = kept["attempt"], kept["due"]
            engine.push_again(delivery)
        await self._release(backend, key)
        return False

    async def sent(self, delivery: Delivery) -> None:
        """Keep what the attempt did, then let the lease go."""
        backend = self.persist.backend
        key = delivery.key
        if backend is None or key is None:
            return
        self._dirty[key] = delivery
        try:
            await self.persist.flush()
        except Exception:  # logged by flush; the lease runs out, another replica retries
            return
        await self._release(backend, key)

    async def _release(self, backend: Backend, key: str) -> None:
        try:
            await backend.release(key, self.persist.replica)
        except Exception:  # it runs out by itself
            log.exception("state: cannot release webhook lease %s", key)

    # -- Persistence's side ------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return bool(self._dirty)

    def pending(self, changes: Write) -> None:
        """Into ``changes``: the records of deliveries planned or attempted since the last."""
        for key, d in self._dirty.items():
            if d is None:
                changes.deletes.append(key)
                continue
            value = {"origin": d.origin, "attempt": d.attempt, "due": d.due, "finished": d.finished}
            changes.puts.append((key, orjson.dumps(value), (INDEX,)))
        self._dirty.clear()

    def merge(self, key: str, record: Record | None) -> None:
        """A record another replica wrote: plan the task's deliveries here too; one it
        finished is not sent again."""
        if record is None:  # its task was evicted there; here too, by the same clock
            return
        provider, task_id = orjson.loads(key[len(KIND) + 1 :])[:2]
        task = self.state.store.get_any(provider, task_id)
        if task is None:
            return
        kept = orjson.loads(record.value)
        engine = self.state.webhooks
        found = self._find(task_id, key)
        if found is None:
            self._quiet = True
            try:
                engine.adopt(task, kept["origin"])
            finally:
                self._quiet = False
            found = self._find(task_id, key)
        if found is not None and kept["finished"] and not found.finished:
            engine.sent_elsewhere(found, kept["attempt"])

    async def restore(self, backend: Backend, records: list[Record]) -> None:
        """At start-up, the tasks restored: plan their deliveries again; records whose task
        is gone are dropped."""
        gone = Write()
        for record in records:
            provider, task_id = orjson.loads(record.key[len(KIND) + 1 :])[:2]
            if self.state.store.get_any(provider, task_id) is None:
                gone.deletes.append(record.key)
            else:
                self.merge(record.key, record)
        if gone:
            await backend.write(gone)

    def _find(self, task_id: str, key: str) -> Delivery | None:
        for d in self.state.webhooks.tasks_deliveries(task_id):
            if d.key == key:
                return d
        return None
