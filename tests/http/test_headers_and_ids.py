"""Small HTTP helpers on the hot path: the Last-Modified date, the request/Bundle ids and
the query strings of paging links."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import http_date as werkzeug_http_date

from app.http.fhir_io import http_date
from app.http.presentation import query_string
from app.http.trace_ids import trace_id


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_http_date_is_werkzeugs(moment: datetime) -> None:
    assert http_date(moment) == werkzeug_http_date(moment.replace(tzinfo=UTC))


def test_http_date_example() -> None:
    assert http_date(datetime(2026, 3, 1, 7, 5, 9, 999999)) == "Sun, 01 Mar 2026 07:05:09 GMT"


def test_trace_ids_are_version_4_uuids_and_distinct() -> None:
    ids = [trace_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:100]:
        parsed = uuid.UUID(value)
        assert (parsed.version, str(parsed)) == (4, value)
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            value)


def test_trace_ids_differ_between_forked_workers() -> None:
    """gunicorn forks its workers from one master: each must draw its own ids."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover — runs in the child
        os.write(write_end, trace_id().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    from_child = os.read(read_end, 100).decode()
    os.close(read_end)
    assert from_child != trace_id()
    assert uuid.UUID(from_child).version == 4


@given(st.lists(st.tuples(st.text(), st.text()), max_size=6))
def test_query_string_is_urlencode(pairs: list[tuple[str, str]]) -> None:
    assert query_string(pairs) == urlencode(pairs)


def test_query_string_example() -> None:
    pairs = [("identifier", "urn:oid:1.2.752.129.2.1.3.1|194001019806"), ("family", "Åsa Ö"),
             ("_count", "20")]
    assert query_string(pairs) == ("identifier=urn%3Aoid%3A1.2.752.129.2.1.3.1%7C194001019806"
                                   "&family=%C3%85sa+%C3%96&_count=20")
