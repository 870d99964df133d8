"""The one redaction of error texts and logs (app.masking.redact): every personnummer shape
loses its last four digits, wherever it stands, and so does every identity kind that starts
with a date; e-mail addresses go; resource and request ids (UUIDs) pass untouched even when
they happen to hold a run of ten digits. And what app.logs does to a log line and to a
logged exception."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.logs import safe_line, safe_traceback
from app.masking import redact
from tests.identity.test_domain_examples import VALID_EXAMPLES
from tests.support import make_pnr, unique_name

# Text that may surround a number in a message: letters, punctuation, spaces — no digits,
# since a digit right beside a number makes it a different (longer) number.
SURROUNDINGS = st.text(alphabet="abcxyzÅÄÖ /|=:?&'\"-_.,()", max_size=12)


def test_a_uuid_with_ten_digits_in_a_row_is_left_whole() -> None:
    """The CI failure of stop 9: ``…-6d2305315214`` lost its tail in a diagnostic."""
    text = "merged into Patient/56b70dd0-1cf1-47c2-9fee-6d2305315214; undo that merge first"
    assert redact(text) == text


@given(st.uuids())
def test_no_uuid_is_ever_changed(value: uuid.UUID) -> None:
    for text in (str(value), str(value).upper(), f"Patient/{value}/_history/2"):
        assert redact(text) == text


@given(before=SURROUNDINGS, after=SURROUNDINGS, form=st.sampled_from(["12", "10", "hyphen",
                                                                      "plus", "short-hyphen"]))
def test_every_personnummer_form_loses_its_last_four_digits(before: str, after: str,
                                                            form: str) -> None:
    pnr = make_pnr()
    shown = {"12": pnr, "10": pnr[2:], "hyphen": f"{pnr[:8]}-{pnr[8:]}",
             "plus": f"{pnr[2:8]}+{pnr[8:]}", "short-hyphen": f"{pnr[2:8]}-{pnr[8:]}"}[form]
    redacted = redact(f"{before}{shown}{after}")
    assert redacted == f"{before}{shown[:-4]}****{after}"


def test_a_personnummer_beside_a_uuid_is_redacted_and_the_uuid_kept() -> None:
    pnr, ident = make_pnr(), str(uuid.uuid4())
    assert redact(f"{ident} {pnr}") == f"{ident} {pnr[:8]}****"
    assert redact(f"x{pnr}") == f"x{pnr[:8]}****"


@pytest.mark.parametrize(("kind", "value"), [
    (kind, stored) for kind, _, stored in VALID_EXAMPLES if kind != "lma"])
def test_every_identity_kind_that_starts_with_a_date_loses_its_last_four(kind: str,
                                                                         value: str) -> None:
    for shown in (value, f"{value[:8]}-{value[8:]}", value.lower()):
        redacted = redact(f"GET /fhir/Patient/{shown} 404")
        assert value[8:].lower() not in redacted.lower(), (kind, redacted)


def test_an_e_mail_address_is_withheld() -> None:
    assert redact("sent to anna.b+x@example.se, then") == "sent to <e-mail>, then"


def test_a_log_line_loses_its_query_strings_and_gunicorns_quotes() -> None:
    assert safe_line("Error handling request GET /fhir/Patient?family=Svensson&given=Anna") \
        == "Error handling request GET /fhir/Patient?…"
    unparsed = "Invalid request from ip=127.0.0.1: Invalid HTTP Version"
    assert safe_line(f"{unparsed}: 'Svensson HTTP/1.1'") == unparsed
    assert safe_line("GET /fhir/metadata 200") == "GET /fhir/metadata 200"


def _store(record: str) -> None:
    try:
        {}[record]
    except KeyError as error:
        raise ValueError(f"could not store {record}") from error


def test_a_logged_exception_keeps_its_types_and_stack_and_loses_every_message() -> None:
    record = f"{unique_name('Loggsson')} {make_pnr()} anna@example.se"
    try:
        _store(record)
    except ValueError as error:
        text = safe_traceback(error)
    assert "builtins.KeyError" in text and "builtins.ValueError" in text
    assert "in _store" in text and "raise ValueError" in text  # frames and source lines
    for part in record.split():
        assert part not in text
