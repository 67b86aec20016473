"""Every number a user gives the mock, read in one place.

Headers (``X-Mock-Delay``, ``X-Mock-Fault``), control-API bodies (clock advance and speed,
tenant balances, presets) and scenario files all hand the mock numbers, and one NaN or
1e309 that slips through poisons what it touches: a sleep that never ends, a clock that turns
every submit into a 500, a balance that is not JSON. Each reader here refuses booleans,
non-numbers, non-finite values and values outside the bounds its caller names, with a
:class:`NumberError` whose message names the field, so every caller can answer a 400 in its
own dialect and keep nothing of the request.
"""

from __future__ import annotations

import math
from typing import Any

# Bounds shared by several callers. A virtual clock may run far ahead, but not past what a
# timestamp can hold; a balance is an amount of credits, not an overflow.
MAX_SECONDS = 100 * 365 * 24 * 3600.0  # a century: any advance, delay or window beyond is a typo
MAX_WAIT = 600.0  # seconds: no fault makes the mock wait longer than this (real time)
MAX_SPEED = 1_000_000.0  # virtual-clock speed: a day in a tenth of a second
MAX_BALANCE = 1e15


class NumberError(ValueError):
    """A number the mock cannot use; ``field`` names it, ``str(err)`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def read_number(
    value: Any,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    integer: bool = False,
) -> float:
    """``value`` as a finite float within the bounds, else NumberError.

    ``minimum``/``maximum`` are inclusive, ``above`` is an exclusive lower bound (a duration
    that must be positive). ``integer`` refuses fractions (``2.0`` is accepted as 2).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NumberError(field, f"{_shown(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int beyond what a float holds
        raise NumberError(field, "is too large") from None
    if not math.isfinite(number):
        raise NumberError(field, f"{_shown(value)} is not a finite number")
    if integer and not number.is_integer():
        raise NumberError(field, f"{_shown(value)} is not a whole number")
    if minimum is not None and number < minimum:
        raise NumberError(field, f"{_shown(value)} is less than the minimum of {_shown(minimum)}")
    if above is not None and number <= above:
        raise NumberError(field, f"{_shown(value)} must be greater than {_shown(above)}")
    if maximum is not None and number > maximum:
        raise NumberError(field, f"{_shown(value)} is more than the maximum of {_shown(maximum)}")
    return number


def parse_number(
    text: str,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    integer: bool = False,
) -> float:
    """A number written as text (a header, a query value), with the bounds of read_number.

    Python's float() reads ``nan``, ``inf`` and ``1_000``; none of them is a number a client
    means to send, so only plain decimal notation is accepted.
    """
    stripped = text.strip()
    if not stripped or not _looks_decimal(stripped):
        raise NumberError(field, f"{_shown(text)} is not a number")
    try:
        value = int(stripped) if stripped.lstrip("+-").isdigit() else float(stripped)
    except ValueError:
        raise NumberError(field, f"{_shown(text)} is not a number") from None
    if isinstance(value, float) and not math.isfinite(value):  # 1e309 overflows to inf
        raise NumberError(field, f"{_shown(text)} is not a finite number")
    return read_number(value, field, minimum=minimum, maximum=maximum, above=above, integer=integer)


def parse_integer(
    text: str, field: str, *, minimum: float | None = None, maximum: float | None = None
) -> int:
    """A whole number written as text: ASCII digits after an optional sign, nothing else.

    ``int()`` also reads ``1_000`` and other scripts' digits (``"\u0663"`` is 3), which no
    client means and no provider's parser takes.
    """
    stripped = text.strip()
    digits = stripped[1:] if stripped[:1] in ("+", "-") else stripped
    if not digits or len(digits) > _MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
        raise NumberError(field, f"{_shown(text)} is not a whole number")
    value = int(stripped)
    read_number(value, field, minimum=minimum, maximum=maximum, integer=True)
    return value


_MAX_DIGITS = 30  # beyond any bound a caller names; int() of a long string is slow
_DECIMAL_CHARS = frozenset("0123456789+-.eE")


def _looks_decimal(text: str) -> bool:
    return all(c in _DECIMAL_CHARS for c in text) and any(c.isdigit() for c in text)


def _shown(value: Any) -> str:
    """A value as a refusal quotes it: short, and never an unencodable string."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 40 else text[:37] + "..."
