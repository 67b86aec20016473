"""The fast id formatters say exactly what the standard library would."""

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mockserver.ids import uuid4
from mockserver.providers.a2e.models import iso_ms


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid4_is_the_standard_librarys_uuid4_of_the_same_bits(bits):
    assert uuid4(bits) == str(uuid.UUID(int=bits, version=4))


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_iso_ms_is_utc_with_milliseconds_and_z(t):
    seconds, millis = divmod(round(t * 1000), 1000)
    expected = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert iso_ms(t) == f"{expected}.{millis:03d}Z"


def test_iso_ms_matches_a2e_documented_shape():
    assert iso_ms(1718940022.436) == "2024-06-21T03:20:22.436Z"
