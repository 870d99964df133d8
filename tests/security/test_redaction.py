"""The one redaction of error texts and logs (app.masking.redact): every personnummer shape
loses its last four digits, wherever it stands; resource and request ids (UUIDs) pass
untouched even when they happen to hold a run of ten digits."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from app.masking import redact
from tests.support import make_pnr

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
