"""The client report card: how well does a client behave against a provider on a bad day?

Give it a factory for a small adapter around your client (``submit()`` one task, ``wait()`` for
it, see :class:`ClientUnderTest`), and it plays scenarios on a running mock (a 429 storm,
a tight polling window, failures, slow tasks, a forgotten task, webhook chaos), then grades the
client from the mock's journal: honoured back-off, stopped polling at terminal states, polled
within the window, survived InvalidTaskId, paced its polls, rejected a forged webhook.

    card = await grade_client(MyAdapter, provider="youcam", server=avatar_mock)
    print(card.table())          # for people
    card.to_json()               # for CI
    assert card.passed

Scenarios and grades are registries (``SCENARIOS``, ``GRADES`` with ``@grade``), so webhook
work fills the ``rejected a forged webhook`` slot without touching the runner. The card is a
client of the mock, like the contract suite: it drives it through :class:`MockControl` (the
pytest plugin's ``MockServer``) and the control API, and imports nothing from the server;
``mockserver.reportcard.grade_client`` starts an in-process mock for it.
"""

from .grades import GRADES, grade
from .model import Card, ClientUnderTest, Grade, Harness, MockControl, ScenarioRun
from .reference import reference_client
from .runner import grade_client
from .scenarios import SCENARIOS, CardScenario

__all__ = [
    "GRADES",
    "SCENARIOS",
    "Card",
    "CardScenario",
    "ClientUnderTest",
    "Grade",
    "Harness",
    "MockControl",
    "ScenarioRun",
    "grade",
    "grade_client",
    "reference_client",
]
