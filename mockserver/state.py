"""Everything the running mock holds, in one place, and how to reset it."""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.accounts import Accounts
from mockserver.chaos import ChaosEngine
from mockserver.clock import Clock
from mockserver.issuer import SecretIssuer
from mockserver.journal import Journal
from mockserver.media import MediaLinks
from mockserver.ratelimit import FixedWindows
from mockserver.retention import Bounds, Retention
from mockserver.scenario import Scenario
from mockserver.stateurl import MEMORY
from mockserver.stores import Stores
from mockserver.tasks import Task, TaskStore
from mockserver.uploads import UploadStore
from mockserver.webhooks import WebhookEngine

if TYPE_CHECKING:
    from mockserver.persist import Persistence
    from mockserver.registry import Provider


@dataclass
class ServerOptions:
    """How this process serves the mock: what its flags say beyond the scenario."""

    strict: bool = False  # validate every response against its schema
    providers: tuple[str, ...] | None = None  # None: every registered provider
    bind_host: str = "127.0.0.1"
    admin_token: str | None = None
    admin_open: bool = False  # open the control API off loopback without a token
    public_url: str | None = None  # origin for links; default: the request's own
    secret: str | None = None  # shared by replicas that verify each other's links; None: random
    state: str = MEMORY  # where state lives: memory, sqlite:PATH or redis://HOST:PORT/DB


@dataclass
class MockState:
    """Everything one running mock holds: clock, scenario, stores and engines."""

    clock: Clock
    scenario: Scenario
    options: ServerOptions
    store: TaskStore = field(default_factory=TaskStore)
    windows: FixedWindows = field(default_factory=FixedWindows)
    # Provider-owned typed stores (uploaded files, sessions...), cleared on reset.
    stores: Stores = field(default_factory=Stores)

    def __post_init__(self) -> None:
        # The link to a state backend (mockserver.persist); None with memory, the default.
        self.persist: Persistence | None = None
        # Which opening of its state store this mock is (0: the first, and memory): mixed
        # into every id stream, so no replica or restart draws ids another opening did.
        self.generation = 0
        self.id_salt = ""
        self.bounds = Bounds.parse(self.scenario.raw.get("limits"))
        # contract violations seen in --strict mode: a ring, the newest kept
        self.violations: deque[dict[str, Any]] = deque(maxlen=self.bounds.violations_kept)
        self.retention = Retention(self)
        self.journal = Journal(self.scenario.journal_size)
        # Secrets never come from the seed: a tenant could compute them (mockserver/issuer.py).
        self.secrets = SecretIssuer(self.options.secret)
        self.links = MediaLinks(self.secrets.key("media-links"))
        self.uploads = UploadStore()
        self._reset_counters()
        self.accounts = self._new_accounts()
        self.chaos = ChaosEngine(
            self.scenario.raw.get("chaos"), self.scenario.seed, self.clock.now()
        )
        self.webhooks = WebhookEngine(self)
        self.configure()

    def describe_task(self, task: Task, now: float) -> dict[str, Any]:
        """The control API's view of ``task``, with what provider stores add (YouCam's
        polling window: ``last_polled_at``, ``expired_at``)."""
        return task.describe(now) | self.stores.describe_task(task)

    def delete_task(self, task: Task, now: float, *, refund: bool = False) -> None:
        """A task deleted through a provider's API at ``now``: it goes with what eviction
        takes (``Retention.release`` says what differs: the uploads, and ``refund``: its
        pending refunds apply now instead of lapsing). On a state backend the records go
        with the request's write; the other replicas drop theirs when they read the task
        gone."""
        self.retention.release([task], now, deleted=True, refund=refund)

    def providers(self) -> dict[str, Provider]:
        """The registered providers this scenario configures."""
        from mockserver.registry import providers  # registry discovery imports the packages

        registered = providers()
        return {name: registered[name] for name in self.scenario.providers if name in registered}

    def configure(self) -> None:
        """Tell every provider its config and declare its stores: at start, on a new scenario.

        Whatever a provider derives from its config (YouCam's per-feature family configs) is
        ready before the first request, so the control API never depends on earlier traffic.
        """
        for name, provider in self.providers().items():
            self.stores.declare(provider.stores)
            if provider.configure is not None:
                provider.configure(self.scenario.providers[name])

    def _new_accounts(self) -> Accounts:
        s = self.scenario
        return Accounts(
            s.default_balances,
            s.tenants,
            only_listed=s.auth_mode == "listed",
            max_tenants=self.bounds.max_tenants,
            history_size=self.bounds.history_per_tenant,
        )

    def _reset_counters(self) -> None:
        self._seq: dict[str, int] = defaultdict(int)
        self._id_rngs: dict[str, random.Random] = {}

    def next_seq(self, provider: str) -> int:
        self._seq[provider] += 1
        return self._seq[provider]

    def take_generation(self, number: int) -> None:
        """This mock is the ``number``-th opening of its store (taken compare-and-set): ids
        drawn from now on (tasks', deliveries') are its own; 0 draws what the seed
        draws alone."""
        self.generation = number
        self.id_salt = f":{number}" if number else ""
        self._id_rngs.clear()

    def id_rng(self, provider: str) -> random.Random:
        """Seeded ids: the same seed and request order give the same ids."""
        rng = self._id_rngs.get(provider)
        if rng is None:
            seed = f"{self.scenario.seed}:ids:{provider}{self.id_salt}"
            rng = self._id_rngs[provider] = random.Random(seed)
        return rng

    def id_streams(self) -> dict[str, dict[str, Any]]:
        """Where each id stream stands (its sequence, its RNG's state), for a snapshot."""
        names = sorted(set(self._seq) | set(self._id_rngs))
        return {
            name: {
                "seq": self._seq.get(name, 0),
                "rng": self._id_rngs[name].getstate() if name in self._id_rngs else None,
            }
            for name in names
        }

    def restore_id_streams(self, streams: dict[str, dict[str, Any]]) -> None:
        """Put each id stream where ``id_streams`` found it: new ids follow the imported ones
        as they would have followed them in the exporting run (and never repeat them)."""
        for name, stream in streams.items():
            self._seq[name] = stream["seq"]
            if stream["rng"] is not None:
                self._id_rngs[name] = rng = random.Random()
                rng.setstate(stream["rng"])

    def reset(self) -> None:
        """Forget tasks, tenants, uploads, windows and the journal; keep clock and scenario."""
        self.store.clear()
        self.windows.clear()
        self.journal.clear()
        self.violations.clear()
        self.stores.clear()
        self.uploads.clear()
        self._reset_counters()
        self.accounts = self._new_accounts()
        self.chaos.reset(self.clock.now())
        self.webhooks.reset()
        self.configure()
        if self.persist is not None:
            self.persist.reset()

    def replace_scenario(self, scenario: Scenario) -> None:
        """Put a new scenario in force without losing tasks, tenants, presets or the journal.

        Running tasks keep the timelines they were planned with; new tasks, new tenants,
        limits and fault rules follow the new scenario from now on.
        """
        presets = self.chaos.presets
        self.scenario = scenario
        self.bounds = Bounds.parse(scenario.raw.get("limits"))
        if self.violations.maxlen != self.bounds.violations_kept:
            self.violations = deque(self.violations, maxlen=self.bounds.violations_kept)
        self.journal.resize(scenario.journal_size)
        last_preset_id = self.chaos.last_preset_id
        self.chaos = ChaosEngine(scenario.raw.get("chaos"), scenario.seed, self.clock.now())
        self.chaos.presets, self.chaos.last_preset_id = presets, last_preset_id
        self.webhooks.reconfigure()
        self.accounts.reconfigure(
            scenario.default_balances, scenario.tenants, scenario.auth_mode == "listed"
        )
        self.accounts.bound(self.bounds.max_tenants, self.bounds.history_per_tenant)
        self.configure()
