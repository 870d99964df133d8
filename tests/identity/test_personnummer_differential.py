"""Differential test against the PyPI package ``personnummer`` 3.2.x.

Thousands of random candidates (real dates, random birth numbers and check digits, with
and without day + 60) must be classified alike: valid PNR, valid SNR or invalid.

Deliberate disagreements, each pinned by a test below:

* a date part after ``today`` — ``personnummer`` accepts it; we refuse it when ``today``
  is given (no number is issued before birth). With ``today=None`` we agree.
* ``YYYYMMDD+NNNC`` — ``personnummer`` accepts ``+`` in the 12-digit form; for us ``+``
  belongs to the 10-digit form only (Skatteverket writes it there), so it is refused.
* ``personnummer`` reads the clock for 10-digit forms; we take ``today`` as an argument.
  With its clock pinned to the same day we agree on 10-digit forms too.

Both refuse birth number 000.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from personnummer import personnummer as pypi

from app.identity import personnummer as pnr
from app.identity import samordningsnummer as snr

TODAY = date(2024, 1, 17)


def ours(value: str, today: date | None) -> str:
    if pnr.is_valid(value, today=today):
        return "pnr"
    if snr.is_valid(value, today=today):
        return "snr"
    return "invalid"


def theirs(value: str) -> str:
    if not pypi.valid(value):
        return "invalid"
    return "snr" if pypi.parse(value).is_coordination_number() else "pnr"


def candidate(rng: random.Random) -> str:
    born = date(1900, 1, 1) + timedelta(days=rng.randrange(365 * 200))
    day = born.day + (60 if rng.random() < 0.5 else 0)
    number = rng.choice([0, rng.randrange(1000), rng.randrange(980, 1000)])
    body = f"{born:%y%m}{day:02d}{number:03d}"
    digits = [int(c) for c in body]
    correct = (10 - sum(sum(divmod(d * (2 - i % 2), 10)) for i, d in enumerate(digits)) % 10) % 10
    check = correct if rng.random() < 0.6 else rng.randrange(10)
    return f"{born.year // 100}{body}{check}"


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pypi, "_get_current_date", lambda: TODAY)


def test_thousands_of_random_twelve_digit_candidates_are_classified_alike() -> None:
    rng = random.Random(20240117)
    seen = {"pnr": 0, "snr": 0, "invalid": 0}
    for _ in range(6000):
        value = candidate(rng)
        verdict = theirs(value)
        assert ours(value, None) == verdict, value
        if date(int(value[:4]), 1, 1) <= date(TODAY.year - 1, 12, 31):
            assert ours(value, TODAY) == verdict, value
        seen[verdict] += 1
    assert min(seen.values()) > 500


@settings(max_examples=300)
@given(st.randoms(use_true_random=False), st.sampled_from(["-", "+"]))
def test_ten_digit_forms_agree_when_both_use_the_same_day(
    rng: random.Random, separator: str
) -> None:
    original = pypi._get_current_date
    pypi._get_current_date = lambda: TODAY
    try:
        value = candidate(rng)
        short = f"{value[2:8]}{separator}{value[8:]}"
        verdict = theirs(short)
        if verdict != "invalid":
            parsed = pypi.parse(short)
            if parsed.get_date() > TODAY:  # deliberate: we refuse future dates
                assert ours(short, TODAY) == "invalid"
                return
        assert ours(short, TODAY) == verdict, short
    finally:
        pypi._get_current_date = original


def test_disagreement_a_future_date_is_refused_by_us_when_today_is_given() -> None:
    value = "20991231-9986"
    assert theirs(value) == "pnr"
    assert ours(value, None) == "pnr"
    assert ours(value, TODAY) == "invalid"


def test_disagreement_plus_in_the_twelve_digit_form_is_refused_by_us() -> None:
    assert theirs("19651207+3245") == "pnr"
    assert ours("19651207+3245", None) == "invalid"


def test_agreement_birth_number_000_is_refused_by_both(pinned_clock: None) -> None:
    assert theirs("19651207-0004") == "invalid"
    assert ours("19651207-0004", TODAY) == "invalid"
    assert theirs("651207-0004") == ours("651207-0004", TODAY) == "invalid"
