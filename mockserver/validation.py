"""Request and response checks against the operation's JSON Schemas (compiled on first use).

A request the compiled fast check accepts never touches jsonschema; jsonschema (~50 ms to
import) is loaded only to explain a refusal, or where no fast check exists for a schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.spec import Operation

if TYPE_CHECKING:
    from jsonschema import ValidationError


def _best_match(errors: list[ValidationError]) -> ValidationError:
    """jsonschema's choice of the most relevant error; imported with jsonschema, lazily."""
    from jsonschema.exceptions import best_match

    return best_match(errors)


def describe(error: ValidationError) -> str:
    """A one-line, client-facing reason: where, then what."""
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed) if isinstance(error.instance, dict) else []
        names = ", ".join(extra)
        prefix = f"{where}: " if where else ""
        return f"{prefix}unexpected parameter{'s' if len(extra) > 1 else ''} {names}"
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        prefix = f"{where}." if where else ""
        return f"{prefix}{missing[0]} is required" if missing else error.message
    if error.validator in ("oneOf", "anyOf"):
        reason = error.schema.get("description") or error.message
        return f"{where}: {reason}" if where else reason
    return f"{where}: {error.message}" if where else error.message


def body_error(op: Operation, body: Any, form: bool = False) -> tuple[str, str] | None:
    """``(kind, reason)`` when ``body`` breaks the schema (the form's, for a multipart body):
    unexpected_param or invalid_params.

    An unexpected field wins over other problems, since providers such as YouCam name that
    case with its own code.
    """
    schema = op.form_schema if form else op.body_schema
    if schema is None:  # checked before the validator, which builds a jsonschema one
        return None
    is_valid = op.form_is_valid if form else op.body_is_valid
    if is_valid is not None and is_valid(body):
        return None
    validator = op.form_validator if form else op.body_validator
    assert validator is not None  # there is a body schema
    errors = list(validator.iter_errors(body))
    if not errors:
        return None
    extras = [e for e in errors if e.validator == "additionalProperties" and not e.path]
    if extras:
        allowed = set(extras[0].schema.get("properties", {}))
        return "unexpected_param", ", ".join(sorted(set(body) - allowed))
    return "invalid_params", describe(_best_match(errors))


def params_error(op: Operation, params: dict[str, Any]) -> str | None:
    if op.query_schema is None:  # as in body_error: no jsonschema validator built yet
        return None
    if op.query_is_valid is not None and op.query_is_valid(params):
        return None
    validator = op.query_validator
    assert validator is not None  # there is a query schema
    errors = list(validator.iter_errors(params))
    return describe(_best_match(errors)) if errors else None


def response_problem(op: Operation, status: int, body: Any) -> str | None:
    """Why ``body`` is not what the contract says ``op`` answers with ``status``."""
    if status not in op.responses:
        return f"status {status} is not documented for {op.operation_id}"
    validator = op.response_validators.get(status)
    if validator is None:
        return None
    errors = list(validator.iter_errors(body))
    return describe(_best_match(errors)) if errors else None
