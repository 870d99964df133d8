"""What the matcher compares: a Patient reduced to normalised, comparable fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from app.domain.matching.normalise import (
    email_key,
    given_key,
    name_tokens,
    phone_key,
    postal_key,
    spelling_key,
    text_key,
)
from app.identity import kind_for_system
from app.identity.base import IdentityKind

#: Kinds whose values are one person's lifelong number: a different value is evidence
#: against (domain.md §2.1).
PERSON_NUMBER_KINDS = frozenset({"pnr", "snr"})
#: Version of :func:`encode_record`'s output. Bump it whenever the normalisation or the
#: fields change: stored records of another version are then rebuilt from the Patient.
RECORD_FORMAT = 3


@dataclass(frozen=True)
class MatchRecord:
    """Normalised matching fields of one Patient."""

    id: str | None = None
    #: Family names as spelling keys; a double name also as its joined form
    #: ("Ström-Berg" → "strom berg", "stromberg").
    family: tuple[str, ...] = ()
    family_tokens: frozenset[str] = frozenset()
    #: Given names: first given name's key, then every given token key.
    given: tuple[str, ...] = ()
    #: Spelling keys of the given names before nicknames are mapped ("Lotta" stays "lota"),
    #: first given name first: typing errors are judged on what was typed.
    given_forms: tuple[str, ...] = ()
    birth: str | None = None  # YYYYMMDD of a full birthDate
    sex: str | None = None  # male / female; other/unknown count as missing
    postal: frozenset[str] = frozenset()
    lines: tuple[str, ...] = ()
    cities: frozenset[str] = frozenset()
    counties: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    #: (system, value) of every identifier.
    identifiers: frozenset[tuple[str, str]] = frozenset()
    #: kind code → values, for identifiers of person-number kinds (PNR, SNR).
    person_numbers: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Whether every identifier system is of a known kind (for the certain rule).
    known_identifiers: frozenset[tuple[str, str]] = frozenset()

    @property
    def birth_date(self) -> date | None:
        if not self.birth:
            return None
        return date(int(self.birth[:4]), int(self.birth[4:6]), int(self.birth[6:]))


def record_from_patient(resource: dict[str, Any]) -> MatchRecord:
    """Build the matching view of a (validated, identifier-normalised) Patient dict."""
    birth = resource.get("birthDate")
    birth_key = birth.replace("-", "") if isinstance(birth, str) and len(birth) == 10 else None
    identifiers = _identifiers(resource.get("identifier") or [])
    dated = identifiers.pop("dated_numbers")
    gender = resource.get("gender")
    return MatchRecord(
        id=resource.get("id"),
        **_names(resource.get("name") or []),
        birth=birth_key or next(filter(None, (_number_date(*n) for n in dated)), None),
        sex=gender if gender in ("male", "female") else None,
        **_places(resource.get("address") or []),
        **_telecom(resource.get("telecom") or []),
        **identifiers,
    )


def _names(names: list[dict[str, Any]]) -> dict[str, Any]:
    """Family names (joined and spaced forms of a double name) and their tokens, given names
    as nickname-mapped keys and as typed; a name of use ``old`` only when nothing else."""
    # Dicts as insertion-ordered sets: the first spelling stays first, and no membership
    # test in a list per name (issue 14: quadratic in the number of names).
    family: dict[str, None] = {}
    family_tokens: set[str] = set()
    given: dict[str, None] = {}
    given_forms: dict[str, None] = {}
    for name in names:
        if name.get("use") == "old" and family:
            continue
        tokens = [spelling_key(t) for t in name_tokens(name.get("family"))]
        if tokens:
            family.update(dict.fromkeys((" ".join(tokens), "".join(tokens))))
            family_tokens.update(tokens)
        for part in name.get("given") or []:
            given_tokens = name_tokens(part)
            if len(given_tokens) > 1 and not given:
                # A hyphenated first given name is one name: Anna-Karin is not Anna-Lena.
                whole = "".join(spelling_key(token) for token in given_tokens)
                given[whole] = given_forms[whole] = None
            given.update(dict.fromkeys(given_key(token) for token in given_tokens))
            given_forms.update(dict.fromkeys(spelling_key(token) for token in given_tokens))
    return {"family": tuple(family), "family_tokens": frozenset(family_tokens),
            "given": tuple(given), "given_forms": tuple(given_forms)}


def _places(addresses: list[dict[str, Any]]) -> dict[str, Any]:
    """Postal codes, street lines, cities and counties (district and state)."""
    postal: set[str] = set()
    lines: list[str] = []
    cities: set[str] = set()
    counties: set[str] = set()
    for address in addresses:
        if code := postal_key(address.get("postalCode")):
            postal.add(code)
        if line := text_key(" ".join(p for p in address.get("line") or []
                                     if isinstance(p, str))):
            lines.append(line)
        if city := text_key(address.get("city")):
            cities.add(city)
        counties.update(county for part in ("district", "state")
                        if (county := text_key(address.get(part))))
    return {"postal": frozenset(postal), "lines": tuple(lines), "cities": frozenset(cities),
            "counties": frozenset(counties)}


def _telecom(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Telephone numbers (phone and sms) and e-mail addresses."""
    phones = {phone for point in points if point.get("system") in ("phone", "sms")
              and (phone := phone_key(point.get("value")))}
    emails = {email for point in points if point.get("system") == "email"
              and (email := email_key(point.get("value")))}
    return {"phones": frozenset(phones), "emails": frozenset(emails)}


def _identifiers(idents: list[dict[str, Any]]) -> dict[str, Any]:
    """Every (system, value), those of known kinds, the person numbers by kind, and under
    ``dated_numbers`` the current numbers of a known kind in order: the first date one of
    them carries is a default for an absent birthDate (domain.md §2.1), read only then."""
    identifiers: set[tuple[str, str]] = set()
    known: set[tuple[str, str]] = set()
    numbers: dict[str, set[str]] = {}
    dated: list[tuple[IdentityKind, str]] = []
    for ident in idents:
        system, value = ident.get("system"), ident.get("value")
        if not value or not system:
            continue  # an identifier without its system says nothing about identity
        identifiers.add((system, value))
        kind = kind_for_system(system)
        if kind is None:
            continue
        known.add((system, value))
        if ident.get("use") == "old":
            continue
        dated.append((kind, value))
        if kind.CODE in PERSON_NUMBER_KINDS:
            numbers.setdefault(kind.CODE, set()).add(value)
    return {"identifiers": frozenset(identifiers), "known_identifiers": frozenset(known),
            "person_numbers": {k: frozenset(v) for k, v in numbers.items()},
            "dated_numbers": dated}


def _number_date(kind: IdentityKind, value: str) -> str | None:
    """YYYYMMDD of the date a number of a known kind carries, if any."""
    try:
        described = kind.describe(value).birth_date
    except Exception:  # noqa: BLE001 - an undescribable value just gives no date
        return None
    return None if described is None else f"{described:%Y%m%d}"


#: Fields stored as sorted lists (sets) and as lists in order (tuples) by
#: :func:`encode_record`; the person numbers are a mapping of sets.
_SETS = ("family_tokens", "postal", "cities", "counties", "phones", "emails")
_PAIRS = ("identifiers", "known_identifiers")
_SEQUENCES = ("family", "given", "given_forms", "lines")


def encode_record(record: MatchRecord) -> bytes:
    """The record (without its id) as compact JSON bytes, to store beside the Patient so
    that candidates are scored without parsing and normalising their resources again."""
    fields: dict[str, object] = {"format": RECORD_FORMAT, "birth": record.birth,
                                 "sex": record.sex}
    fields.update({name: sorted(getattr(record, name)) for name in _SETS + _PAIRS})
    fields.update({name: getattr(record, name) for name in _SEQUENCES})
    fields["person_numbers"] = {k: sorted(v) for k, v in record.person_numbers.items()}
    return orjson.dumps(fields)


def decode_record(data: bytes | None, record_id: str) -> MatchRecord | None:
    """The record :func:`encode_record` stored, or None when there is none or it has
    another :data:`RECORD_FORMAT` (rebuild it with :func:`record_from_patient`)."""
    if not data:
        return None
    fields = orjson.loads(data)
    if not isinstance(fields, dict) or fields.get("format") != RECORD_FORMAT:
        return None
    values: dict[str, Any] = {name: frozenset(fields[name]) for name in _SETS}
    values.update({name: frozenset(map(tuple, fields[name])) for name in _PAIRS})
    values.update({name: tuple(fields[name]) for name in _SEQUENCES})
    return MatchRecord(
        id=record_id, birth=fields["birth"], sex=fields["sex"],
        person_numbers={k: frozenset(v) for k, v in fields["person_numbers"].items()},
        **values)
