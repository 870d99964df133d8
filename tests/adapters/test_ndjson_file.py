"""NdjsonLines: a file's non-blank lines, read from where the file lies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters.ndjson_file import NdjsonLines, ParsedLines

#: Line content: JSON-ish text, blanks, and whitespace-only lines (no line break inside).
_LINE = st.one_of(
    st.just(b""),
    st.sampled_from([b" ", b"\t", b"  \t ", b"\r"]),
    st.builds(lambda inner: b'{"a":"' + inner + b'"}',
              st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))),
    st.text(alphabet="xyz {}[]:,\"åö", max_size=20).map(lambda t: t.encode()),
)


def lines_of(tmp_path, content: bytes) -> NdjsonLines:
    path = tmp_path / "source.ndjson"
    path.write_bytes(content)
    return NdjsonLines(str(path))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, max_size=12), crlf=st.booleans(), final_break=st.booleans())
def test_the_lines_are_those_split_in_memory(tmp_path_factory, lines, crlf, final_break):
    """The same non-blank lines as reading the whole file and splitting it (an ``\\r``
    before the break stays: JSON whitespace), whatever the breaks and blank lines."""
    content = (b"\r\n" if crlf else b"\n").join(lines) + (b"\n" if final_break else b"")
    expected = [line for line in content.split(b"\n") if line.strip()]
    found = lines_of(tmp_path_factory.mktemp("lines"), content)
    assert len(found) == len(expected)
    assert list(found) == expected
    assert found[1:3] == expected[1:3] and found[::2] == expected[::2]
    if expected:
        assert found[-1] == expected[-1]


def test_an_empty_file_has_no_lines(tmp_path):
    assert len(lines_of(tmp_path, b"")) == 0
    assert len(lines_of(tmp_path, b"\n \n\t\n")) == 0


def test_a_line_number_counts_the_blank_lines_before_it(tmp_path):
    found = lines_of(tmp_path, b'{"a":1}\n\n  \n{"b":2}\nnot json')
    assert list(found) == [b'{"a":1}', b'{"b":2}', b"not json"]
    assert [found.line_number(at) for at in range(3)] == [1, 4, 5]


def test_a_position_past_the_end_is_an_index_error(tmp_path):
    found = lines_of(tmp_path, b'{"a":1}\n')
    with pytest.raises(IndexError):
        found[1]


def test_parsed_lines_are_parsed_when_read(tmp_path):
    found = ParsedLines(lines_of(tmp_path, b'{"a":1}\n\n[2]\r\n"x"'))
    assert len(found) == 3
    assert found[0] == {"a": 1} and found[1:] == [[2], "x"]
    assert found[0] is not found[0]  # each read is its own: nothing parsed is kept
