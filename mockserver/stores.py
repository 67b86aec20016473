"""Typed provider stores: what a provider keeps beside its tasks, declared on its Provider.

A provider lists its store classes (``Provider.stores``); each running mock holds one instance
per class, made on first use and reached by class, so a handler gets a typed object
(``TokenStore.of(state)``) instead of a dict under a string key. Every store says how it is
reset, what goes with an evicted task and whether it holds anything for an API key (a key it
holds something for is never forgotten by the idle sweep).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mockserver.state import MockState
    from mockserver.tasks import Task

S = TypeVar("S", bound="Store")


class Store(ABC):
    """Base of a provider store; a store that cannot be cleared or counted is not made."""

    @abstractmethod
    def clear(self) -> None:
        """Forget everything (``POST /__mock/reset``)."""

    def drop_task(self, task: Task, deleted: bool = False) -> None:
        """Forget what belongs to ``task``, evicted past its retention or ``deleted``
        through its provider's API (what outlives an eviction may go with a delete)."""
        return None  # by default a store keeps nothing per task

    def drop_tenant(self, tenant: str) -> None:
        """Forget what belongs to the API key ``tenant``."""
        return None  # by default a store keeps nothing per tenant

    def holds(self, tenant: str) -> bool:
        """Whether something is kept for ``tenant`` (then the key is never forgotten)."""
        return False

    def describe_task(self, task: Task) -> dict[str, Any]:
        """What the control API shows of ``task`` from this store (YouCam's polling window)."""
        return {}

    def sweep(self, now: float) -> None:
        """Drop what outlived its own retention by ``now`` (YouCam's result files), on the
        housekeeping tick: a store nobody reads still shrinks."""
        return None  # by default a store keeps nothing that expires on its own

    @abstractmethod
    def __len__(self) -> int:
        """How many things the store keeps (tests check that bad input leaves none)."""

    # A state backend (``--state sqlite:...``/``redis://...``, mockserver.persist) keeps a
    # store that can say what it holds: ``dump`` returns it as JSON-able data (None: this
    # store is not kept), ``load`` takes it back at start-up or from another replica. A
    # store that changed sets ``dirty``; it is written with the request that changed it.
    dirty = False

    def dump(self) -> Any:
        return None

    def load(self, data: Any) -> None:
        return None

    # A store of many small records that outlive their tasks (YouCam's result files) is kept
    # record by record instead, so that a change writes one record, not the whole store:
    # ``by_record`` says so; ``changed`` holds the keys changed since the last write (taken
    # and emptied by the write); ``record(key)`` says one as JSON-able data (None: gone) and
    # ``load_record`` takes one back (None: gone), at start-up or from another replica,
    # without marking it changed.
    by_record = False
    changed: dict[str, None]

    def record(self, key: str) -> Any:
        return None

    def load_record(self, key: str, data: Any) -> None:
        return None

    # What a store keeps for one task (A2E's task records) travels with that task instead: in
    # a state backend's record of the task and in a snapshot's. ``task_data`` says it as JSON
    # values, where a Task it names may stand (mockserver.taskrefs writes it as a reference);
    # ``load_task_data`` takes it back, those Tasks resolved.
    def task_data(self, task: Task) -> Any:
        return None

    def load_task_data(self, task: Task, data: Any) -> None:
        return None

    @classmethod
    def of(cls: type[S], state: MockState) -> S:
        try:  # the common case, on a poll's path: the store exists, one lookup, no call
            return state.stores._by_class[cls]  # type: ignore[return-value]  # keyed by class
        except KeyError:
            return state.stores.get(cls)


class RecordStore(Store):
    """A store kept record by record (``by_record``): on a state backend (``kept``, set by
    it) each key it changes is noted in ``changed``, dirty until written; with the memory
    backend nothing is noted, so nothing grows."""

    by_record = True
    kept = False

    def __init__(self) -> None:
        self.changed: dict[str, None] = {}
        # Set with each noted key, cleared by the write that takes them: a plain attribute,
        # not a property over ``changed``, as ``Stores.dirty`` asks every store before each
        # answer on a state backend (the property cost ~7 k instructions a poll there).
        self.dirty = False

    def note(self, key: str) -> None:
        """``key`` changed: its record is written with this answer (on a state backend)."""
        if self.kept:
            self.changed[key] = None
            self.dirty = True


class Stores:
    """The stores of one running mock, one per class."""

    def __init__(self) -> None:
        self._by_class: dict[type[Store], Store] = {}

    def get(self, cls: type[S]) -> S:
        try:  # a poll reaches its stores here: no call to typing.cast on the way
            return self._by_class[cls]  # type: ignore[return-value]  # keyed by its own class
        except KeyError:
            store = self._by_class[cls] = cls()
            return store

    def declare(self, classes: tuple[type[Store], ...]) -> None:
        """Make the declared stores now, so eviction and reset reach them before first use."""
        for cls in classes:
            self.get(cls)

    def sizes(self) -> dict[str, int]:
        """What each store holds, by name, leaving out the empty ones."""
        out = {cls.__name__: len(store) for cls, store in self._by_class.items()}
        return {name: n for name, n in out.items() if n}

    def clear(self) -> None:
        for store in self._by_class.values():
            store.clear()

    def drop_task(self, task: Task, deleted: bool = False) -> None:
        for store in self._by_class.values():
            store.drop_task(task, deleted)

    def drop_tenant(self, tenant: str) -> None:
        for store in self._by_class.values():
            store.drop_tenant(tenant)

    def holds(self, tenant: str) -> bool:
        return any(store.holds(tenant) for store in self._by_class.values())

    def sweep(self, now: float) -> None:
        for store in self._by_class.values():
            store.sweep(now)

    def dirty(self) -> bool:
        """Whether a store changed since it was last written (asked after every answer on a
        state backend: no dict is built for it)."""
        return any(store.dirty for store in self._by_class.values())

    def kept(self) -> dict[str, Store]:
        """The stores by class name, for a state backend."""
        return {cls.__name__: store for cls, store in self._by_class.items()}

    def by_record(self) -> dict[str, Store]:
        """The stores kept record by record (``Store.by_record``), by class name."""
        return {name: store for name, store in self.kept().items() if store.by_record}

    def task_data(self, task: Task) -> dict[str, Any]:
        """What the stores keep for ``task``, by store name (empty: nothing)."""
        out: dict[str, Any] = {}
        for cls, store in self._by_class.items():
            data = store.task_data(task)
            if data is not None:
                out[cls.__name__] = data
        return out

    def load_task_data(self, task: Task, data: dict[str, Any]) -> None:
        """Give each named store back what it kept for ``task`` (unknown names are skipped)."""
        by_name = self.kept()
        for name, value in data.items():
            store = by_name.get(name)
            if store is not None:
                store.load_task_data(task, value)

    def describe_task(self, task: Task) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for store in self._by_class.values():
            out.update(store.describe_task(task))
        return out
