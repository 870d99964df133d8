"""Hypothesis strategies that build valid identities of every kind from their parts.

The check digits here come from :func:`reference_luhn`, written independently of
``app.identity.luhn`` (string digit sums, explicit weights), so a property test is not
the implementation checking itself. Test data is generated only (domain.md §3.9).
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

TODAY = date(2024, 1, 17)
NRID_LETTERS = "ABCDEFGHJKLMNPRSTUXYZ"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


def reference_luhn(values: list[int]) -> int:
    """Check digit for ``values``: weights 2,1,2,1… from the rightmost value leftwards."""
    total = 0
    for index, value in enumerate(reversed(values)):
        weighted = value * (2 if index % 2 == 0 else 1)
        total += sum(int(char) for char in str(weighted))
    return (10 - total % 10) % 10


def luhn_digits(text: str) -> str:
    """``text`` followed by its Luhn check digit."""
    return text + str(reference_luhn([int(c) for c in text]))


def chars(alphabet: str) -> st.SearchStrategy[str]:
    return st.sampled_from(alphabet)


past_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
birth_numbers = st.integers(min_value=1, max_value=999)


@st.composite
def personnummer(draw: st.DrawFn, day_offset: int = 0) -> str:
    born = draw(past_dates)
    body = f"{born:%y%m}{born.day + day_offset:02d}{draw(birth_numbers):03d}"
    return f"{born.year // 100}{luhn_digits(body)}"


def samordningsnummer() -> st.SearchStrategy[str]:
    return personnummer(day_offset=60)


@st.composite
def nrid(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
        series = draw(st.integers(min_value=1, max_value=26))
        head = f"{born.year // 100 + 3 * series}{born:%y%m%d}"
    else:
        yy = draw(st.integers(0, 99))
        mm = draw(st.integers(20, 99))
        dd = draw(st.integers(40, 59))
        head = f"00{yy:02d}{mm:02d}{dd:02d}"
    pair = draw(chars(NRID_LETTERS)) + draw(chars(NRID_LETTERS))
    g = draw(chars(DIGITS + NRID_LETTERS))
    body = head + pair + g
    values = [int(c) if c.isdigit() else ord(c) for c in body]
    return body + str(reference_luhn(values))


LRID_VALUES = {"K": 5, "M": 7, "X": 8}
LRID_RUNNING = {"K": range(6, 80, 2), "M": range(7, 80, 2), "X": range(80, 90)}


@st.composite
def lrid_vgr(draw: st.DrawFn) -> str:
    born = draw(past_dates)
    letter = draw(chars("KMX"))
    gg = draw(st.sampled_from(LRID_RUNNING[letter]))
    body = f"{born:%y%m%d}{letter}{gg:02d}"
    values = [LRID_VALUES.get(c, 0) if c.isalpha() else int(c) for c in body]
    return f"{born.year // 100}{body}{reference_luhn(values)}"


@st.composite
def stockholm(draw: st.DrawFn) -> str:
    year = draw(st.integers(1900, 2299))
    running = draw(st.integers(0, 99999))
    text = f"99{year}{running:05d}"
    return text[:4] + luhn_digits(text[4:])


@st.composite
def carelink(draw: st.DrawFn) -> str:
    year = draw(st.integers(1900, 2099))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(32, 59))
    running = draw(st.integers(0, 999))
    text = f"{year}{month:02d}{day}{running:03d}"
    return text[:2] + luhn_digits(text[2:])


def dated(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A real past ``YYYYMMDD`` followed by one drawn character per part."""
    return st.tuples(past_dates, *parts).map(
        lambda drawn: f"{drawn[0]:%Y%m%d}" + "".join(drawn[1:])
    )


def digit_run(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=count, max_size=count)


PATTERN_KINDS: dict[str, st.SearchStrategy[str]] = {
    "stockholm": stockholm(),
    "carelink": carelink(),
    "halland": carelink(),
    "varmland": dated(
        st.just("S"), chars("FUXPL"), chars(DIGITS), chars(UPPER.replace("V", "") + "123456789")
    ),
    "orebro": st.tuples(
        digit_run(8), st.just("T"), chars(UPPER + DIGITS), chars(DIGITS), chars(UPPER + DIGITS)
    ).map("".join),
    "skane": dated(chars("DEF"), chars(UPPER), chars("01"), chars(UPPER)),
    "blekinge": dated(chars(UPPER), chars(UPPER), chars(DIGITS), chars(UPPER)),
    "vasternorrland": dated(digit_run(3), st.just("R")),
    "vasterbotten": dated(chars("REKA"), digit_run(3)),
    "dalarna": dated(chars(UPPER), digit_run(3)),
    "gavleborg": dated(digit_run(2), chars("MKX"), chars(DIGITS)),
    "grid-vgr": st.text(alphabet=UPPER + DIGITS, min_size=12, max_size=12),
    "lma": st.text(
        alphabet=st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=64
    ),
}

CHECKED_KINDS: dict[str, st.SearchStrategy[str]] = {
    "pnr": personnummer(),
    "snr": samordningsnummer(),
    "nrid": nrid(),
    "lrid-vgr": lrid_vgr(),
}

ALL_KINDS = {**CHECKED_KINDS, **PATTERN_KINDS}


def a_day_after(day: date) -> date:
    return day + timedelta(days=1)
