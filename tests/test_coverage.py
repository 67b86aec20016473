"""Coverage is visible: every provider's page is generated and current, ``avatar-mock coverage``
prints it from the contracts package, the relay's page knows how every operation is known,
and the README's counts are the pages' own."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from contracts import coverage
from mockserver.cli import main
from mockserver.resources import contracts_dir

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
PROVIDERS = ("youcam", "relay", "a2e")


def _generator(provider: str):
    script = CONTRACTS / provider / "coverage.py"
    spec = importlib.util.spec_from_file_location(f"{provider}_coverage_page", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_committed_page_is_current(provider):
    assert _generator(provider).main(["--check"]) == 0, (
        f"run python contracts/{provider}/coverage.py"
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_command_prints_the_page_from_the_contracts_package(provider, capsys):
    assert main(["coverage", provider]) == 0
    printed = capsys.readouterr().out
    assert printed == (contracts_dir() / provider / "COVERAGE.md").read_text(encoding="utf-8")
    assert printed.startswith("# ") and "**" in printed


def test_an_unknown_provider_has_no_page(capsys):
    assert main(["coverage", "heygen"]) == 2
    assert "no coverage page for 'heygen'" in capsys.readouterr().err


def test_every_relay_operation_says_how_it_is_known_and_where():
    relay = _generator("relay")
    for op in relay.operations():
        assert op["source"] in relay.SOURCES, op["operation_id"]
        assert op["evidence"] and len(op["evidence"]) > 20, op["operation_id"]
    page = relay.render()
    for op in relay.operations():
        assert f"| {op['operation_id']} |" in page


def test_the_relay_page_lists_the_video_object_in_openais_envelope():
    page = _generator("relay").render()
    for op_id in ("createVideo", "getVideo", "getVideoContent", "remixVideo", "listVideos"):
        row = next(line for line in page.splitlines() if f"| {op_id} |" in line)
        assert "| OpenAI |" in row
    assert "| new-api |" in next(line for line in page.splitlines() if "| getAvatarTask |" in line)


def test_the_readme_counts_come_from_the_pages():
    assert coverage.main(["--readme", "--check"]) == 0, "run python contracts/coverage.py --readme"
    table = coverage.table()
    for provider in PROVIDERS:
        assert coverage.summary(provider) in table
        assert f"| {coverage.operation_count(provider)} |" in table
