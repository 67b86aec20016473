"""Options and fixtures of the black-box contract suite.

Run it as ``avatar-mock contract --provider youcam --base-url URL --api-key KEY`` or as plain
pytest: ``pytest <suite dir> --provider youcam --base-url URL --api-key KEY``. Add
``--allow-spend`` to run the checks that start paid tasks on a real provider, ``--report-json
FILE`` for CI, and pytest's own ``--junitxml FILE`` for JUnit XML.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..openapi import spec_path
from .checks import applies
from .operation_catalog import Op, OperationCatalog, operation_catalog
from .report import ContractReport
from .target import Target

REPORT = pytest.StashKey[ContractReport]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("avatar-mock contract")
    group.addoption("--provider", help="provider whose contract to check: youcam, relay, a2e")
    group.addoption("--base-url", default="http://127.0.0.1:8080", help="server under test")
    group.addoption("--api-key", default="sk-contract-suite", help="bearer key to use")
    group.addoption(
        "--other-api-key", help="a second key, for tenant isolation (default on the mock: derived)"
    )
    group.addoption(
        "--allow-spend", action="store_true", help="run the checks that start paid tasks"
    )
    group.addoption(
        "--target",
        choices=("auto", "mock", "real"),
        default="auto",
        help="auto: the mock when /__mock/health answers",
    )
    group.addoption(
        "--poll-timeout", type=float, default=1800.0, help="seconds to wait for one task"
    )
    group.addoption("--report-json", metavar="FILE", help="write the per-operation verdict here")


def _provider(config: pytest.Config) -> str:
    provider = config.getoption("provider")
    if not provider:
        raise pytest.UsageError("give --provider (youcam, relay or a2e)")
    if not spec_path(provider).exists():
        raise pytest.UsageError(f"no contract for provider {provider!r} at {spec_path(provider)}")
    return provider


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(name): the contract check a test performs")
    if not config.getoption("provider", None) or config.getoption("help"):
        return
    provider = _provider(config)
    report = ContractReport(
        config,
        provider,
        {
            "base_url": config.getoption("base_url"),
            "target": config.getoption("target"),
            "allow_spend": bool(config.getoption("allow_spend")),
        },
    )
    for op in operation_catalog(provider).operations:
        report.add_operation(op.operation_id, op.method, op.path)
    config.stash[REPORT] = report
    config.pluginmanager.register(report, "avatar-mock-contract-report")


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> OperationCatalog:
    return operation_catalog(_provider(pytestconfig))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config, contract: OperationCatalog) -> Iterator[Target]:
    opt = pytestconfig.getoption
    tgt = Target(
        contract.provider,
        opt("base_url"),
        opt("api_key"),
        kind=opt("target"),
        allow_spend=bool(opt("allow_spend")),
        poll_timeout=float(opt("poll_timeout")),
        other_api_key=opt("other_api_key"),
    )
    report = pytestconfig.stash.get(REPORT, None)
    if report is not None:
        report.meta["target"] = "mock" if tgt.is_mock else "real"
    if tgt.is_mock and contract.provider not in (tgt.health or {})["providers"]:
        tgt.close()
        pytest.skip(f"the mock at {tgt.base_url} does not serve {contract.provider}")
    yield tgt
    tgt.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    provider = metafunc.config.getoption("provider", None)
    if not provider:
        return
    cat = operation_catalog(_provider(metafunc.config))
    if "op" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("check")
        check = marker.args[0] if marker else ""
        ops = [Op(op) for op in cat.operations if applies(check, cat, op)]
        metafunc.parametrize("op", ops, ids=[op.operation_id for op in ops])
    if "family" in metafunc.fixturenames:
        fams = cat.families
        metafunc.parametrize("family", fams, ids=[f.name for f in fams])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Name each test's check and operations, for the per-operation table."""
    for item in items:
        marker = item.get_closest_marker("check")
        if marker is None or not hasattr(item, "callspec"):
            continue
        params = item.callspec.params
        ops = [params["op"].operation_id] if "op" in params else params["family"].operation_ids
        item.user_properties.append(("check", marker.args[0]))
        item.user_properties.append(("operations", ",".join(ops)))
