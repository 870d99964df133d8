"""The characters a FHIR string may not hold, found in parsed documents and in
percent-encoded query strings alike."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from app.domain.text import has_control_characters, has_encoded_control_characters


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
