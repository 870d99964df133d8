"""The characters a FHIR string may not hold, found in parsed documents and in
percent-encoded query strings alike."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.matching.normalise import given_key, spelling_key
from app.domain.text import (
    REMEMBERED_LENGTH,
    fold,
    has_control_characters,
    has_encoded_control_characters,
    parse_json,
)


def _forbidden(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r" for c in text)


@given(st.text())
def test_a_string_is_refused_exactly_when_fhir_forbids_a_character_of_it(text: str) -> None:
    assert has_control_characters(text) == _forbidden(text)
    assert has_control_characters({"resourceType": "Patient", "name": [{"given": [text]}]}) \
        == _forbidden(text)
    assert has_control_characters([("family", text)]) == _forbidden(text)


@given(st.text(), st.text())
def test_an_encoded_query_is_refused_exactly_when_its_values_would_be(key: str,
                                                                      value: str) -> None:
    encoded = urlencode([(key, value)])
    assert has_encoded_control_characters(encoded) == (_forbidden(key) or _forbidden(value))


def test_keys_count_too() -> None:
    assert has_control_characters({"fam\x07ily": "x"})


def _forbidden_anywhere(node: Any) -> bool:
    if isinstance(node, str):
        return _forbidden(node)
    if isinstance(node, dict):
        return any(_forbidden_anywhere(key) or _forbidden_anywhere(value)
                   for key, value in node.items())
    if isinstance(node, list | tuple):
        return any(_forbidden_anywhere(item) for item in node)
    return False


#: Parsed JSON documents, and the odd shapes a document that did not come from JSON text
#: may have: tuples, keys that are not strings, numbers wider than 64 bits.
_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (st.lists(children, max_size=4)
                      | st.tuples(children, children)
                      | st.dictionaries(st.text() | st.integers(), children, max_size=4)),
    max_leaves=20)


@given(_DOCUMENTS)
def test_a_document_is_refused_exactly_when_one_of_its_strings_would_be(document: Any) -> None:
    """The shortcut through the document's JSON text answers as the walk over its strings."""
    assert has_control_characters(document) == _forbidden_anywhere(document)


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\\ud800"}',
                                  b'{"a": "x\x01y"}', b'{"a": 1,}'])
def test_json_text_is_read_strictly(text: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(text)


def test_an_escaped_control_character_is_read_and_then_found() -> None:
    assert has_control_characters(parse_json(b'{"family": "A\\u0007b"}'))
    assert not has_control_characters(parse_json(b'{"family": "A\\tb\\\\u0007"}'))


def test_only_short_strings_are_remembered():
    """Long text is computed each time: a request cannot pin it in a worker's memory."""
    for function in (fold, spelling_key, given_key):
        # Look-ups counted, not entries: a full cache (earlier tests) stays full.
        before = function.cache_info().misses
        long = "x" * (REMEMBERED_LENGTH + 1) + unique_word()
        assert function(long) == function(long)
        assert function.cache_info().misses == before
        function(unique_word())
        assert function.cache_info().misses == before + 1


def unique_word() -> str:
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex)
