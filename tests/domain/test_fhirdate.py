"""FHIR instants written from stored (naive UTC, millisecond) datetimes, and read back."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from app.domain.fhirdate import instant, parse_range

INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_an_instant_is_written_to_the_millisecond_and_reads_back(value: datetime) -> None:
    stored = value.replace(microsecond=value.microsecond // 1000 * 1000)
    written = instant(stored)
    assert INSTANT.fullmatch(written), written
    assert parse_range(written)[0] == stored
