"""The YouCam contract is generated from the feature table: no drift, and every row's
operations, names, examples and result samples are where the table says."""

from __future__ import annotations

import dataclasses

import pytest
from jsonschema import Draft202012Validator
from mockserver.contracts.youcam.table import load_table

from contracts.youcam.build_spec import build, main
from mockserver.providers.youcam.features import (
    example_body,
    features,
    request_schema,
    results_schema,
)
from mockserver.spec import load_document, load_operations

OPS = {op.operation_id: op for op in load_operations("youcam")}


def test_committed_spec_is_what_build_spec_produces():
    """The drift check: the committed document is exactly what the script writes."""
    assert main(["--check"]) == 0, "run: python -m contracts.youcam.build_spec"
    assert load_document("youcam") == build()


def test_the_server_binds_the_rows_the_contract_carries():
    """The server reads its rows back out of the contract (x-feature), in table order: what it
    binds is what the document says, and the drift check above ties that to features.yaml."""
    served = [dataclasses.astuple(f) for f in features()]
    assert served == [dataclasses.astuple(f) for f in load_table()]
    rows = [op.extensions["x-feature"]["slug"] for op in OPS.values() if op.method == "POST"
            and "x-feature" in op.extensions]  # fmt: skip
    assert rows == [f.slug for f in features()]


def test_the_table_and_the_contract_agree_on_every_operation():
    expected = {"createFile", "deleteTask", "authenticateClient", "getCredit"}
    expected |= {"getCreditHistory", "getFeatureCost"}
    for f in features():
        expected |= {f.run_op, f.status_op}
        assert (OPS[f.run_op].method, OPS[f.run_op].path) == ("POST", f.run_path)
        assert (OPS[f.status_op].method, OPS[f.status_op].path) == ("GET", f.status_path)
        if f.templates:
            expected.add(f.templates_op)
            assert OPS[f.templates_op].path == f"/s2s/{f.version}/task/template/{f.slug}"
        if f.pre_process:
            expected |= {f.pre_run_op, f.pre_status_op}
            assert OPS[f.pre_run_op].path == f.run_path + "/pre-process"
    expected |= {f.file_op for f in features()}  # one file route per row, on its own version
    assert set(OPS) == expected
    assert len(features()) == 71 and len(OPS) == 248


def test_operation_ids_follow_the_naming():
    assert {
        "runAiAvatarTask",
        "getAiAvatarTask",
        "listAiAvatarTemplates",
        "createAiAvatarFile",
    } <= set(OPS)
    assert {"run2dVtoRingTask", "getTextToImageYoucamTask", "runHairTransferV21Task"} <= set(OPS)
    assert {
        "listHairTransferV21Templates",
        "runSkinAnalysisV21Task",
        "createColorizeColorCorrectFile",
    } <= set(OPS)
    assert "runFaceSwapPreProcessTask" in OPS and "getBodyReshapePreProcessTask" in OPS


@pytest.mark.parametrize("feature", features(), ids=lambda f: f.key)
def test_examples_and_samples_fit_their_schemas(feature):
    Draft202012Validator(request_schema(feature)).validate(example_body(feature))
    sample = feature.result.get("sample")
    if sample is not None:
        Draft202012Validator(results_schema(feature)).validate(sample)
    assert feature.errors and feature.evidence in ("DOC", "DOC-3P")
    assert feature.strict == (request_schema(feature).get("additionalProperties") is False)
    if feature.evidence == "DOC-3P":
        assert feature.guess, f"{feature.key}: say what is guessed"
