"""Comparison features: for each field, which agreement level a pair of records reaches.

Discrete levels as in Fellegi–Sunter / Splink: each level has an m probability (how often
true matches reach it) and a u probability (how often non-matches do) in
:mod:`app.domain.matching.weights`. ``None`` means the field is missing on either side
and contributes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from app.domain.matching.record import MatchRecord

Level = str | None


def _best_jw(left: Iterable[str], right: Iterable[str]) -> float:
    right = tuple(right)
    return max((JaroWinkler.similarity(a, b) for a in left for b in right), default=0.0)


def family_level(q: MatchRecord, c: MatchRecord) -> Level:
    """exact (also a double name written joined or hyphenated) / token (shares one part of a
    double name) / jw92 / jw80 / else."""
    if not q.family or not c.family:
        return None
    if set(q.family) & set(c.family):
        return "exact"
    if q.family_tokens & c.family_tokens:
        return "token"
    similarity = _best_jw(q.family, c.family)
    if similarity >= 0.92:
        return "jw92"
    if similarity >= 0.8:
        return "jw80"
    # The two name fields swapped (given written as family and vice versa).
    if q.given and c.given and q.family[0] == c.given[0] and c.family[0] == q.given[0]:
        return "swapped"
    return "else"


def given_level(q: MatchRecord, c: MatchRecord) -> Level:
    """exact (first given name, nicknames included) / token (another given name agrees) /
    jw92 / jw80 / else."""
    if not q.given or not c.given:
        return None
    if q.given[0] == c.given[0]:
        return "exact"
    if set(q.given) & set(c.given):
        return "token"
    similarity = JaroWinkler.similarity(q.given[0], c.given[0])
    if similarity >= 0.92:
        return "jw92"
    if similarity >= 0.8:
        return "jw80"
    if q.family and c.family and q.family[0] == c.given[0] and c.family[0] == q.given[0]:
        return "swapped"
    return "else"


def birth_level(q: MatchRecord, c: MatchRecord) -> Level:
    """exact / transposed (day and month swapped) / typo (one digit differs) / near (within
    a week: the number's date may differ from the birth date, domain.md §2.1) / year / else."""
    a, b = q.birth, c.birth
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return "transposed"
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return "typo"
    qd, cd = q.birth_date, c.birth_date
    assert qd is not None and cd is not None
    if abs((qd - cd).days) <= 7:
        return "near"
    if a[:4] == b[:4] or _one_adjacent_swap(a, b):
        return "year"
    return "else"


def _one_adjacent_swap(a: str, b: str) -> bool:
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and (
        a[diffs[1]] == b[diffs[0]])


def sex_level(q: MatchRecord, c: MatchRecord) -> Level:
    if not q.sex or not c.sex:
        return None
    return "exact" if q.sex == c.sex else "else"


def postal_level(q: MatchRecord, c: MatchRecord) -> Level:
    """exact / typo (one character differs) / else."""
    if not q.postal or not c.postal:
        return None
    if q.postal & c.postal:
        return "exact"
    for a in q.postal:
        for b in c.postal:
            if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
                return "typo"
    return "else"


def line_level(q: MatchRecord, c: MatchRecord) -> Level:
    """Street address: exact / close (token-set similarity ≥ 90) / partial (≥ 70) / else."""
    if not q.lines or not c.lines:
        return None
    if set(q.lines) & set(c.lines):
        return "exact"
    best = max(token_set_ratio(a, b) for a in q.lines for b in c.lines)
    if best >= 90:
        return "close"
    if best >= 70:
        return "partial"
    return "else"


def city_level(q: MatchRecord, c: MatchRecord) -> Level:
    if not q.cities or not c.cities:
        return None
    if q.cities & c.cities:
        return "exact"
    return "close" if _best_jw(q.cities, c.cities) >= 0.9 else "else"


def county_level(q: MatchRecord, c: MatchRecord) -> Level:
    if not q.counties or not c.counties:
        return None
    return "exact" if q.counties & c.counties else "else"


def phone_level(q: MatchRecord, c: MatchRecord) -> Level:
    if not q.phones or not c.phones:
        return None
    return "exact" if q.phones & c.phones else "else"


def email_level(q: MatchRecord, c: MatchRecord) -> Level:
    if not q.emails or not c.emails:
        return None
    return "exact" if q.emails & c.emails else "else"


Comparator = Callable[[MatchRecord, MatchRecord], Level]

#: Every scored feature, its comparator and its levels (strongest agreement first).
FEATURES: dict[str, tuple[Comparator, tuple[str, ...]]] = {
    "family": (family_level, ("exact", "token", "jw92", "jw80", "swapped", "else")),
    "given": (given_level, ("exact", "token", "jw92", "jw80", "swapped", "else")),
    "birth": (birth_level, ("exact", "transposed", "typo", "near", "year", "else")),
    "sex": (sex_level, ("exact", "else")),
    "postal": (postal_level, ("exact", "typo", "else")),
    "line": (line_level, ("exact", "close", "partial", "else")),
    "city": (city_level, ("exact", "close", "else")),
    "county": (county_level, ("exact", "else")),
    "phone": (phone_level, ("exact", "else")),
    "email": (email_level, ("exact", "else")),
}
#: Features that read withheld fields of protected persons (api.md "Access control").
CONTACT_FEATURES = frozenset({"postal", "line", "city", "phone", "email"})


def compare(q: MatchRecord, c: MatchRecord, *, use_contact: bool = True) -> dict[str, Level]:
    """The agreement level of every feature (None where a side lacks the field)."""
    return {
        name: None if (not use_contact and name in CONTACT_FEATURES) else comparator(q, c)
        for name, (comparator, _) in FEATURES.items()
    }

