"""Comparison features: for each field, which agreement level a pair of records reaches.

Discrete levels as in Fellegi–Sunter / Splink: each level has an m probability (how often
true matches reach it) and a u probability (how often non-matches do) in the model
(:mod:`app.domain.matching.model`). A comparison also names the *term* that agreed (the
family name, given name, postal code or city both records share) so that the model can
weigh a common value ("Andersson", "Stockholm") less than a rare one (term-frequency
adjustment). ``Agreement(None)`` means the field is missing on either side and contributes
nothing.

Address, telephone and e-mail are one feature, ``place``, at the most specific level both
records reach — the same dwelling, postal code, city or county — because a shared street,
postal code and city are one fact, not three, and a dwelling is shared by a household.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from app.domain.matching.record import MatchRecord


@dataclass(frozen=True)
class Agreement:
    """The level one feature reaches, and the shared term where the level has one."""

    level: str | None
    term: str | None = None


MISSING = Agreement(None)
_NUMBER = re.compile(r"\d+")


def _best_jw(left: Iterable[str], right: Iterable[str]) -> float:
    right = tuple(right)
    return max((JaroWinkler.similarity(a, b) for a in left for b in right), default=0.0)


def _typo(left: Iterable[str], right: Iterable[str]) -> bool:
    """One character substituted, inserted, deleted or two adjacent swapped — but the first
    letter only swapped with the second: a first letter replaced, added or dropped is what
    sets rhyming names apart (Anna and Hanna, Leo and Teo are often twins)."""
    right = tuple(right)
    return any((a[0] == b[0] or a[:2] == b[1::-1]) and (
        DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1)
        for a in left for b in right if min(len(a), len(b)) >= 2 and max(len(a), len(b)) >= 3)


def _similarity(left: tuple[str, ...], right: tuple[str, ...]) -> str:
    """typo (see :func:`_typo`) / similar (Jaro–Winkler ≥ 0.8) / else."""
    if _typo(left, right):
        return "typo"
    return "similar" if _best_jw(left, right) >= 0.8 else "else"


def _swapped(q: MatchRecord, c: MatchRecord) -> bool:
    """The given and family name fields written in each other's place (a double given name
    written as the family name counts too, and so does a name typed with a space inside),
    each crossed pair the same or one typo apart (:func:`_typo`): the swap and a slip of the
    hand are independent errors of one registration."""
    return (_alike(_family_names(q), _given_names(c))
            and _alike(_family_names(c), _given_names(q)))


def _family_names(record: MatchRecord) -> set[str]:
    return set(record.family) | record.family_tokens


def _given_names(record: MatchRecord) -> set[str]:
    joined = _joined(record)
    return set(record.given_forms or record.given) | ({joined} if joined else set())


def _alike(left: set[str], right: set[str]) -> bool:
    return bool(left & right) or _typo(left, right)


def family_level(q: MatchRecord, c: MatchRecord) -> Agreement:
    """exact (also a double name written joined or hyphenated) / token (shares one part of a
    double name) / typo / similar / swapped / else. The term is the shared name."""
    if not q.family or not c.family:
        return MISSING
    shared = [name for name in q.family if name in c.family]
    if shared:
        return Agreement("exact", shared[0])
    if tokens := sorted(q.family_tokens & c.family_tokens):
        return Agreement("token", tokens[0])
    if _swapped(q, c):
        return Agreement("swapped", sorted(c.family_tokens)[0])
    return Agreement(_similarity(q.family, c.family))


def given_level(q: MatchRecord, c: MatchRecord) -> Agreement:
    """exact (first given name, nicknames included) / token (another given name agrees) /
    typo / similar / swapped / else. The term is the shared given name."""
    if not q.given or not c.given:
        return MISSING
    if q.given[0] == c.given[0] or _joined(q) == c.given[0] or _joined(c) == q.given[0]:
        return Agreement("exact", c.given[0])
    shared = [name for name in q.given if name in c.given]
    if shared and (q.given[0] in c.given or c.given[0] in q.given):
        # One side's first given name is among the other's: a second name used, one left
        # out, or the order swapped. Two different first names that share a second one
        # (Anna Maria and Eva Maria) are two people.
        return Agreement("token", shared[0])
    if _swapped(q, c):
        return Agreement("swapped", c.given[0])
    return Agreement(_similarity(_first_given(q), _first_given(c)))


def _joined(record: MatchRecord) -> str | None:
    """The first two given names as one (Anna Karin written for Anna-Karin)."""
    return "".join(record.given_forms[:2]) if len(record.given_forms) > 1 else None


def _first_given(record: MatchRecord) -> tuple[str, ...]:
    """The first given name as mapped (nicknames to the full name) and as typed."""
    return record.given[:1] + record.given_forms[:1]


def birth_level(q: MatchRecord, c: MatchRecord) -> Agreement:
    """exact / transposed (day and month swapped) / typo (one digit differs, or two adjacent
    digits swapped) / near (within a week: the number's date may differ from the birth date,
    domain.md §2.1) / year (same year, another day) / else."""
    a, b = q.birth, c.birth
    if not a or not b:
        return MISSING
    if a == b:
        return Agreement("exact")
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return Agreement("transposed")
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1 or _one_adjacent_swap(a, b):
        return Agreement("typo")
    qd, cd = q.birth_date, c.birth_date
    assert qd is not None and cd is not None
    if abs((qd - cd).days) <= 7:
        return Agreement("near")
    return Agreement("year" if a[:4] == b[:4] else "else")


def _one_adjacent_swap(a: str, b: str) -> bool:
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and (
        a[diffs[1]] == b[diffs[0]])


def sex_level(q: MatchRecord, c: MatchRecord) -> Agreement:
    if not q.sex or not c.sex:
        return MISSING
    return Agreement("exact" if q.sex == c.sex else "else")


def place_level(q: MatchRecord, c: MatchRecord) -> Agreement:
    """household (same street address, telephone or e-mail) / street (the same street in the
    same or a like-spelt place, another house or flat number: a neighbour, or a mistyped
    number) / postal (same postal code, term: the code) / city (term: the city) / county /
    else; missing when either side has no address or contact data."""
    if not _has_place(q) or not _has_place(c):
        return MISSING
    same_area = bool(q.postal & c.postal) or bool(q.cities & c.cities)
    if _same_contact(q, c) or (same_area and _same_street(q, c)):
        return Agreement("household")
    alike_city = bool(q.cities and c.cities) and _best_jw(q.cities, c.cities) >= 0.9
    if _same_street_name(q, c) and (same_area or alike_city or _postal_typo(q, c)):
        return Agreement("street")
    return _area_level(q, c, alike_city)


def _has_place(r: MatchRecord) -> bool:
    """Whether the record has any address or contact data."""
    return bool(r.lines or r.postal or r.cities or r.counties or r.phones or r.emails)


def _same_contact(q: MatchRecord, c: MatchRecord) -> bool:
    """A telephone number or e-mail address in common."""
    return bool(q.phones & c.phones) or bool(q.emails & c.emails)


def _area_level(q: MatchRecord, c: MatchRecord, alike_city: bool) -> Agreement:
    """postal / city / county / else, for records not in one household or street."""
    if shared := sorted(q.postal & c.postal):
        return Agreement("postal", shared[0])
    if shared := sorted(q.cities & c.cities):
        return Agreement("city", shared[0])
    if alike_city:
        return Agreement("city", sorted(c.cities)[0])
    if q.counties & c.counties:
        return Agreement("county")
    return Agreement("else")


def _same_street_name(q: MatchRecord, c: MatchRecord) -> bool:
    """Street lines alike in their words, whatever their numbers."""
    names_q = [_NUMBER.sub("", line).strip() for line in q.lines]
    names_c = [_NUMBER.sub("", line).strip() for line in c.lines]
    return any(a and b and token_set_ratio(a, b) >= 90 for a in names_q for b in names_c)


def _postal_typo(q: MatchRecord, c: MatchRecord) -> bool:
    """Postal codes one character apart."""
    return any(len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
               for a in q.postal for b in c.postal)


def _same_street(q: MatchRecord, c: MatchRecord) -> bool:
    """The same street address: equal lines, or lines alike in their words (a misspelt
    street name) whose numbers — house number, flat number — are all the same."""
    if not q.lines or not c.lines:
        return False
    if set(q.lines) & set(c.lines):
        return True
    return any(_NUMBER.findall(a) == _NUMBER.findall(b) and token_set_ratio(a, b) >= 90
               for a in q.lines for b in c.lines)


Comparator = Callable[[MatchRecord, MatchRecord], Agreement]

#: Every scored feature, its comparator and its levels (strongest agreement first).
FEATURES: dict[str, tuple[Comparator, tuple[str, ...]]] = {
    "family": (family_level, ("exact", "token", "typo", "similar", "swapped", "else")),
    "given": (given_level, ("exact", "token", "typo", "similar", "swapped", "else")),
    "birth": (birth_level, ("exact", "transposed", "typo", "near", "year", "else")),
    "sex": (sex_level, ("exact", "else")),
    "place": (place_level, ("household", "street", "postal", "city", "county", "else")),
}
#: Levels whose weight depends on the shared term's frequency, and the frequency table used.
TERM_FREQUENCY: dict[tuple[str, str], str] = {
    ("family", "exact"): "family", ("family", "token"): "family",
    ("family", "swapped"): "family", ("given", "exact"): "given",
    ("given", "token"): "given", ("given", "swapped"): "given",
    ("place", "postal"): "postal", ("place", "city"): "city",
}
#: Features that read withheld fields of protected persons (api.md "Access control").
CONTACT_FEATURES = frozenset({"place"})


def compare(q: MatchRecord, c: MatchRecord, *, use_contact: bool = True
            ) -> dict[str, Agreement]:
    """The agreement of every feature (level None where a side lacks the field)."""
    return {
        name: MISSING if (not use_contact and name in CONTACT_FEATURES) else comparator(q, c)
        for name, (comparator, _) in FEATURES.items()
    }
