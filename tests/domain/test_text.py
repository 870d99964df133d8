"""The characters a FHIR string may not hold, found in parsed documents and in
percent-encoded query strings alike."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from app.domain.matching.normalise import spelling_key
from app.domain.text import (
    REMEMBERED_LENGTH,
    fold,
    has_control_characters,
    has_encoded_control_characters,
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


def test_only_short_strings_are_remembered():
    """Long text is computed each time: a request cannot pin it in a worker's memory."""
    for function in (fold, spelling_key):
        # Look-ups counted, not entries: a full cache (earlier tests) stays full.
        before = function.cache_info().misses
        long = "x" * (REMEMBERED_LENGTH + 1) + unique_word()
        assert function(long) == function(long)
        assert function.cache_info().misses == before
        function(unique_word())
        assert function.cache_info().misses == before + 1


def unique_word() -> str:
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex)
