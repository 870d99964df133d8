"""What the database indexes of a Patient: search keys extracted from its JSON.

Pure functions over the resource dict (already validated and normalised). The storage layer
writes the result into the index tables; search reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain.extensions import PATIENT_GROUP, PATIENT_TYPE, coded_values
from app.domain.fhirdate import date_range
from app.domain.matching import encode_record, record_from_patient, record_keys
from app.domain.protection import is_protected
from app.domain.references import link_target_id
from app.domain.text import fold

MAX_INDEXED = 255
#: Token param under which the $match blocking keys are indexed (no search parameter).
MATCH_KEY_PARAM = "match-key"
#: The standard extension IHE PDQm searches as ``mothersMaidenName``.
MOTHERS_MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"


@dataclass
class PatientIndex:
    """Search keys of one Patient version."""

    active: bool = True
    #: Protected by its own content (:func:`app.domain.protection.is_protected`); the write
    #: path adds the protection of linked records.
    protected: bool = False
    gender: str | None = None
    birth_lo: date | None = None
    birth_hi: date | None = None
    sort_family: str | None = None
    sort_given: str | None = None
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    strings: list[tuple[str, str, str]] = field(default_factory=list)
    tokens: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    #: The $match record (:func:`app.domain.matching.encode_record`), stored on the row.
    match_record: bytes | None = None


def index_patient(resource: dict[str, Any]) -> PatientIndex:
    """Extract every search key of ``resource``."""
    index = PatientIndex(
        active=resource.get("active", True) is not False,
        protected=is_protected(resource),
        gender=resource.get("gender"),
    )
    if birth := resource.get("birthDate"):
        index.birth_lo, index.birth_hi = date_range(birth)
    _index_identifiers(index, resource)
    _index_names(index, resource)
    _index_addresses(index, resource)
    _index_telecom(index, resource)
    for extension in resource.get("extension", []):
        if extension.get("url") == MOTHERS_MAIDEN_NAME:
            _add_string(index, "mothersMaidenName", extension.get("valueString"))
    for label in resource.get("meta", {}).get("security", []):
        _add_token(index, "_security", label.get("system", ""), label.get("code"))
    for system, code in coded_values(resource, PATIENT_TYPE):
        _add_token(index, "patient-type", system, code)
    for system, code in coded_values(resource, PATIENT_GROUP):
        _add_token(index, "patient-group", system, code)
    # $match: the record candidates are scored on, and its blocking keys
    # (app.domain.matching.blocking), looked up by (param, code).
    record = record_from_patient(resource)
    index.match_record = encode_record(record)
    for key in sorted(record_keys(record)):
        _add_token(index, MATCH_KEY_PARAM, "", key)
    for link in resource.get("link", []):
        if target := link_target_id(link):
            index.links.append((target, link.get("type", "")))
    # Duplicates go once at the end, first occurrences kept in order: a membership test per
    # entry made indexing quadratic (issue 14: 40,000 telecom entries took minutes).
    index.identifiers = list(dict.fromkeys(index.identifiers))
    index.strings = list(dict.fromkeys(index.strings))
    index.tokens = list(dict.fromkeys(index.tokens))
    index.links = list(dict.fromkeys(index.links))
    return index


def _index_identifiers(index: PatientIndex, resource: dict[str, Any]) -> None:
    for ident in resource.get("identifier", []):
        value = ident.get("value")
        if value is not None:
            index.identifiers.append((ident.get("system", ""), value))


def _index_names(index: PatientIndex, resource: dict[str, Any]) -> None:
    for name in resource.get("name", []):
        family = name.get("family")
        givens = name.get("given", [])
        if family:
            _add_string(index, "family", family)
            _add_string(index, "name", family)
            index.sort_family = index.sort_family or fold(family)[:200]
        for given in givens:
            _add_string(index, "given", given)
            _add_string(index, "name", given)
        if givens:
            index.sort_given = index.sort_given or fold(givens[0])[:200]
        for part in [*name.get("prefix", []), *name.get("suffix", []), name.get("text")]:
            if part:
                _add_string(index, "name", part)


def _index_addresses(index: PatientIndex, resource: dict[str, Any]) -> None:
    for address in resource.get("address", []):
        parts = [*address.get("line", [])]
        parts += [address.get(k) for k in ("city", "district", "state", "postalCode", "country")]
        parts.append(address.get("text"))
        for part in parts:
            if part:
                _add_string(index, "address", part)
        if city := address.get("city"):
            _add_string(index, "address-city", city)
        if postal := address.get("postalCode"):
            _add_string(index, "address-postalcode", postal)
        if country := address.get("country"):
            _add_string(index, "address-country", country)
        if state := address.get("state"):
            _add_string(index, "address-state", state)


def _index_telecom(index: PatientIndex, resource: dict[str, Any]) -> None:
    for point in resource.get("telecom", []):
        system, value = point.get("system", ""), point.get("value")
        if not value:
            continue
        code = telecom_code(system, value)
        _add_token(index, "telecom", system, code)
        if system in ("phone", "email"):
            _add_token(index, system, system, code)


def telecom_code(system: str | None, value: str) -> str:
    """How a telecom value is compared: e-mail case-insensitive, phone without spacing."""
    if system == "email":
        return value.strip().casefold()
    if system in ("phone", "fax", "sms"):
        return re.sub(r"[\s\-().]", "", value)
    return value.strip()


def _add_string(index: PatientIndex, param: str, value: str | None) -> None:
    if not isinstance(value, str):
        return  # a null array item that only carries an extension (FHIR JSON _x alignment)
    index.strings.append((param, fold(value)[:MAX_INDEXED], value[:MAX_INDEXED]))


def _add_token(index: PatientIndex, param: str, system: str, code: str | None) -> None:
    if code:
        index.tokens.append((param, system[:MAX_INDEXED], code[:MAX_INDEXED]))
