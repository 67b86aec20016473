"""The client report card: how well does a client behave against a provider on a bad day?

Give it a factory for a small adapter around your client (``submit()`` one task, ``wait()`` for
it, see :class:`ClientUnderTest`), and it plays scenarios on an in-process mock (a 429 storm,
a tight polling window, failures, slow tasks, a forgotten task, webhook chaos), then grades the
client from the mock's journal: honoured back-off, stopped polling at terminal states, polled
within the window, survived InvalidTaskId, paced its polls, rejected a forged webhook.

    card = await grade_client(MyAdapter, provider="youcam")
    print(card.table())          # for people
    card.to_json()               # for CI
    assert card.passed

Scenarios and grades are registries (``SCENARIOS``, ``GRADES`` with ``@grade``), so webhook
work fills the ``rejected a forged webhook`` slot without touching the runner.
"""

from mockserver.reportcard.grades import GRADES, grade
from mockserver.reportcard.model import Card, ClientUnderTest, Grade, Harness, ScenarioRun
from mockserver.reportcard.reference import reference_client
from mockserver.reportcard.runner import grade_client
from mockserver.reportcard.scenarios import SCENARIOS, Scenario

__all__ = [
    "GRADES",
    "SCENARIOS",
    "Card",
    "ClientUnderTest",
    "Grade",
    "Harness",
    "Scenario",
    "ScenarioRun",
    "grade",
    "grade_client",
    "reference_client",
]
