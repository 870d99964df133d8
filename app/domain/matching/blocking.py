"""Blocking keys: which stored records a query is compared with.

Every stored Patient gets a handful of short keys (:func:`record_keys`), indexed in the
database; a query looks up its own keys (:func:`query_keys`: the same, plus the birth-date
variants a typist or the tax agency produces) with a bounded number of hits per key
(:data:`PER_KEY_LIMIT`), so the work per query does not grow with the database. Each key
combines two fields, so a record is still found when any single field is wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

from app.domain.matching.record import MatchRecord

#: At most this many records per key are read (bounded cost on any database size).
PER_KEY_LIMIT = 40
#: At most this many distinct candidates are scored, those hit by the most keys first.
#: On FEBRL4 the true original, when blocked, ranks among the first 4 (at most 10
#: candidates per query); on 100 k synthetic records it ranks first among up to 120.
MAX_CANDIDATES = 50
#: The number's date may be a nearby day (domain.md §2.1): look this many days around.
NEAR_DAYS = 3
MAX_KEY = 120
#: Prefixes of the keys made from fields withheld from callers without protected-identity
#: (telecom and address below county level, app.masking): phone, e-mail, postal code, city.
WITHHELD_KEY_PREFIXES = ("t:", "e:", "pf:", "pg:", "pc:", "cf:", "cg:")


def withheld_key(key: str) -> bool:
    """Whether ``key`` is made from a withheld field (see :data:`WITHHELD_KEY_PREFIXES`)."""
    return key.startswith(WITHHELD_KEY_PREFIXES)


def _names(record: MatchRecord) -> tuple[list[str], list[str]]:
    families = [f.replace(" ", "") for f in record.family[:2]]
    families += [token for token in sorted(record.family_tokens) if token not in families]
    return families[:3], list(record.given[:2])


def record_keys(record: MatchRecord) -> set[str]:
    """The keys a stored record is indexed under."""
    families, givens = _names(record)
    keys: set[str] = set()
    for family in families:
        for given in givens:
            keys.add(f"n:{family}|{given}")
    if record.birth:
        keys.update(_date_keys(record.birth, families, givens))
    for given in givens[:1]:
        keys.update(f"gf:{given}|{family[:2]}" for family in families)
    for postal in record.postal:
        keys.update(f"pf:{postal}|{family[:3]}" for family in families)
        keys.update(f"pg:{postal}|{given[:3]}" for given in givens[:1])
        keys.update(f"pc:{postal}|{city[:4]}" for city in record.cities)
    for city in record.cities:
        keys.update(f"cf:{city}|{family[:3]}" for family in families)
        keys.update(f"cg:{city}|{given[:3]}" for given in givens[:1])
    keys.update(f"t:{phone}" for phone in record.phones)
    keys.update(f"e:{email}" for email in record.emails)
    return {key[:MAX_KEY] for key in keys}


def _date_keys(birth: str, families: Sequence[str], givens: Sequence[str]) -> set[str]:
    keys = {f"d:{birth}"}
    keys.update(f"df:{birth}|{family[:2]}" for family in families)
    keys.update(f"dg:{birth}|{given[:2]}" for given in givens[:1])
    keys.update(f"yf:{birth[:4]}|{family[:4]}|{given[:1]}"
                for family in families[:1] for given in givens[:1])
    return keys


def query_keys(record: MatchRecord) -> list[str]:
    """The keys a query looks up: its own record keys and its birth-date variants
    (transposed day/month, a few days around), most selective first."""
    families, givens = _names(record)
    keys = set(record_keys(record))
    # Given and family names written in each other's fields.
    family_tokens = tuple(sorted(record.family_tokens))
    keys |= record_keys(replace(record, family=record.given[:1], given=family_tokens[:2],
                                family_tokens=frozenset(record.given[:1])))
    if record.birth:
        for variant in birth_variants(record.birth):
            keys.update(key for key in _date_keys(variant, families, givens)
                        if not key.startswith("d:") or variant == _transposed(record.birth))
    return sorted({key[:MAX_KEY] for key in keys}, key=_selectivity)


def _selectivity(key: str) -> tuple[int, str]:
    order = ("t:", "e:", "n:", "df:", "dg:", "gf:", "pf:", "pg:", "cf:", "cg:", "yf:", "pc:",
             "d:")
    return next(i for i, prefix in enumerate(order) if key.startswith(prefix)), key


def birth_variants(birth: str) -> list[str]:
    """Transposed day/month and the days around the date (YYYYMMDD strings)."""
    variants: list[str] = []
    if (transposed := _transposed(birth)) and transposed != birth:
        variants.append(transposed)
    day = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    for delta in range(1, NEAR_DAYS + 1):
        for sign in (-1, 1):
            try:
                variants.append(f"{day + timedelta(days=sign * delta):%Y%m%d}")
            except OverflowError:  # a day beside 0001-01-01 or 9999-12-31
                continue
    return variants


def _transposed(birth: str) -> str | None:
    try:
        return f"{date(int(birth[:4]), int(birth[6:]), int(birth[4:6])):%Y%m%d}"
    except ValueError:
        return None


def choose(hits: Iterable[str]) -> list[str]:
    """The candidates to score from the ids the keys returned (one id per key hit):
    most hits first, at most :data:`MAX_CANDIDATES`."""
    counted = Counter(hits)
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [candidate for candidate, _ in ranked[:MAX_CANDIDATES]]


class MemoryIndex:
    """The blocking keys of records held in memory (evaluation and tests): the same keys and
    limits as the database adapter."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.records: dict[str, MatchRecord] = {}

    def add(self, record: MatchRecord) -> None:
        assert record.id is not None
        self.records[record.id] = record
        for key in sorted(record_keys(record)):
            self.by_key.setdefault(key, []).append(record.id)

    def candidates(self, query: MatchRecord) -> list[MatchRecord]:
        hits: list[str] = []
        for key in query_keys(query):
            hits.extend(self.by_key.get(key, ())[:PER_KEY_LIMIT])
        return [self.records[i] for i in choose(hits)]

    @property
    def size(self) -> Mapping[str, int]:
        return {"records": len(self.records), "keys": len(self.by_key)}
