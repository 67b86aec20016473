"""Parameters are read the way each operation declares them."""

import pytest
from aiohttp.test_utils import make_mocked_request

from mockserver.params import ParamsError, params_reader
from mockserver.spec import Operation


def operation(path: str, params: list[dict]) -> Operation:
    raw = {"operationId": "op", "parameters": params, "responses": {"200": {}}}
    return Operation("p", "op", "GET", path, raw, [], {})


def path_id(schema: dict) -> list[dict]:
    return [{"name": "id", "in": "path", "required": True, "schema": schema}]


def read(op: Operation, url: str, match: dict[str, str]) -> dict:
    reader = params_reader(op)
    assert reader is not None
    return reader(make_mocked_request("GET", url, match_info=match))


def test_a_path_id_the_route_already_checks_is_read_as_is():
    op = operation(
        "/t/{id}",
        [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
        ],
    )
    assert read(op, "/t/abc?id=other", {"id": "abc"}) == {"id": "abc"}


def test_a_path_id_with_a_stricter_schema_is_still_checked():
    op = operation(
        "/t/{id}",
        [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            }
        ],
    )
    assert read(op, "/t/" + "a" * 24, {"id": "a" * 24}) == {"id": "a" * 24}
    with pytest.raises(ParamsError, match="id"):
        read(op, "/t/nothex", {"id": "nothex"})


def test_query_values_are_converted_and_checked():
    op = operation(
        "/t",
        [{"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
    )
    assert read(op, "/t?pageSize=5", {}) == {"pageSize": 5}
    with pytest.raises(ParamsError, match="pageSize"):
        read(op, "/t?pageSize=0", {})


def test_an_operation_without_parameters_has_no_reader():
    assert params_reader(operation("/t", [])) is None
