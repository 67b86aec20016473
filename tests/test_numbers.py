"""The one reader of numbers (mockserver.numbers) and of JSON (mockserver.jsonio)."""

from __future__ import annotations

import math

import pytest

from mockserver import jsonio
from mockserver.numbers import NumberError, parse_integer, parse_number, read_number


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, True, False, None, "5", [1], 10**400]
)
def test_read_number_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(NumberError) as info:
        read_number(value, "seconds")
    assert info.value.field == "seconds" and str(info.value).startswith("seconds: ")


def test_read_number_bounds_and_whole_numbers():
    assert read_number(5, "n", minimum=0, maximum=5) == 5.0
    assert read_number(2.0, "n", integer=True) == 2.0
    for value, bounds in [(-1, {"minimum": 0}), (6, {"maximum": 5}), (0, {"above": 0})]:
        with pytest.raises(NumberError):
            read_number(value, "n", **bounds)
    with pytest.raises(NumberError):
        read_number(2.5, "n", integer=True)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e309", "1_000", "", "0x10"])
def test_parse_number_reads_plain_decimals_only(text):
    with pytest.raises(NumberError):
        parse_number(text, "X-Mock-Delay")


def test_parse_number_reads_decimals():
    assert parse_number(" 1.5 ", "d") == 1.5 and parse_number("2e3", "d") == 2000.0


@pytest.mark.parametrize("text", ["1_0", "\u0663", "1e3", "2.0", "", "+", "9" * 31, "0x1"])
def test_parse_integer_reads_ascii_digits_only(text):
    with pytest.raises(NumberError):
        parse_integer(text, "pageSize")


def test_parse_integer_keeps_big_integers_exact():
    assert parse_integer("+12", "n") == 12 and parse_integer("-3", "n") == -3
    assert parse_integer("9007199254740993", "n") == 9007199254740993
    with pytest.raises(NumberError):
        parse_integer("-1", "n", minimum=0)


# --- jsonio ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": {"b": [1, NaN]}}', "a.b.1: the JSON holds a number that is not finite"),
        (b'{"seconds": 1e309}', "seconds: the JSON holds a number that is not finite"),
        (b'{"n": -Infinity}', "n: the JSON holds a number that is not finite"),
        (b'{"n": 1' + b"0" * 400 + b"}", "n: the JSON holds a number that is not finite"),
        (b'{"x": ["ok", "\\udc00"]}', "x.1: a string in the JSON is not valid Unicode"),
        (b'{"\\ud800": 1}', "\\ud800: a string in the JSON is not valid Unicode"),
        (b"[" * 65 + b"]" * 65, "the JSON nests more than 64 levels deep"),
        (b"[" * 5000 + b"]" * 5000, "the JSON nests more than 64 levels deep"),
        (b"\xff{}", "the request body is not valid UTF-8"),
        (b'{"a": ', "the request body is not valid JSON"),
        (b"[1]", "the request body must be a JSON object"),
    ],
)
def test_loads_object_refuses_and_names_the_field(raw, reason):
    with pytest.raises(jsonio.JsonError) as info:
        jsonio.loads_object(raw)
    assert str(info.value).startswith(reason), str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": NaN}',
        b'{"\\ud800": 1}',
        b'{"a": [' + b"[" * 70 + b"]" * 70 + b"]}",
        b"\xff{}",
        b"",
        b"  ",
        b"[1]",
        b'"text"',
    ],
)
def test_the_quick_read_leaves_every_refusal_to_loads_object(raw):
    """A status read's body takes the quick read; what it passes on is refused with a reason."""
    assert jsonio.plain_object(raw) is None


def test_the_quick_read_answers_as_loads_object_does():
    for raw in (b'{"_id":"66b0c1d2e3f4a5b6c7d8e9f0"}', b' {"n": 2.0, "a": [[1]]} ', b"{}"):
        assert jsonio.plain_object(raw) == jsonio.loads_object(raw)


def test_loads_keeps_what_is_fine():
    assert jsonio.loads_object(b'{"a": "\\ud83d\\ude00", "n": 1e308}') == {"a": "😀", "n": 1e308}
    assert jsonio.loads(b"[" * 64 + b"]" * 64) is not None
    wide = b'{"items": [' + b",".join(b'{"a": [1]}' for _ in range(300)) + b"]}"
    assert len(jsonio.loads_object(wide)["items"]) == 300  # many brackets, little depth
    with pytest.raises(jsonio.JsonError):  # deep after many shallow ones
        jsonio.loads(b"[" + b"[1]," * 100 + b"[" * 70 + b"]" * 70 + b"]")


@pytest.mark.parametrize("charset", ["foo", "latin-1", "utf-16", "utf-8\udcff", "x" * 500])
def test_a_charset_other_than_utf8_is_refused(charset):
    with pytest.raises(jsonio.JsonError) as info:
        jsonio.loads(b"{}", charset=charset)
    message = str(info.value)
    assert "charset" in message and len(message) < 120 and not jsonio.unencodable(message)


@pytest.mark.parametrize("charset", [None, "", "utf-8", "UTF-8", " utf8 ", "us-ascii", "ASCII"])
def test_utf8_charsets_are_read(charset):
    assert jsonio.loads(b'{"a": 1}', charset=charset) == {"a": 1}


def test_value_problems_names_each_bad_value_in_a_parsed_document():
    doc = {"a": [1, math.nan, {"\udc00": "x", "b": 10**400}], "c": "\udcff", "ok": 1e308}
    problems = dict((jsonio.dotted(path), reason) for path, reason in jsonio.value_problems(doc))
    assert set(problems) == {"a.1", "a.2.\\udc00", "a.2.b", "c"}
    assert "finite" in problems["a.1"] and "surrogate" in problems["c"]


def test_value_problems_refuses_too_deep_or_too_large_as_a_whole():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(jsonio.DocumentTooLarge):
        jsonio.value_problems({"x": deep})
    shared = ["x"] * 100
    bomb = [shared] * 100
    with pytest.raises(jsonio.DocumentTooLarge):  # aliases: 10,000 values, counted each use
        jsonio.value_problems({"a": [bomb] * 100})


def test_printable_escapes_surrogates_and_cuts_long_text():
    assert jsonio.printable("text/\udcff") == "text/\\udcff"
    assert len(jsonio.printable("x" * 500)) == 60
