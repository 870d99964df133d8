"""Generating reserve identities centrally: ``$generate-reserve-id`` and the downtime pack.

docs/domain.md §3.2: "only the central service may create reserve numbers, to avoid duplicates,
which would endanger patient safety". Kinds generated here: NRID (§2.2, default) and
LRID VGR (§2.3); every other kind is refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from app.adapters.reserve_id_repository import CounterState
from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.errors import BusinessRuleViolation, Conflict, InvalidRequest
from app.domain.fhirdate import utc_now
from app.identity import (
    Sex,
    is_main_identity_candidate,
    kind_for_system,
    lrid_vgr,
    nrid,
    priority,
)
from app.services import audit_events, patients
from app.services.transactions import run_write

MAX_COUNT = 50
AUDIT_SUBTYPE = "generate-reserve-id"
MAX_REQUEST_ID = 200
GENDERS = ("male", "female", "other", "unknown")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2})?$")


class ReserveIdsExhausted(Conflict):
    """Every number of a (kind, birth date, sex) has been handed out."""

    code = "conflict"


@dataclass(frozen=True)
class ReserveOrder:
    """What the caller asks for (the operation's parameters, as given)."""

    system: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    count: int | None = None
    patient: dict[str, Any] | None = None
    target_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class ReservePolicy:
    """The settings that shape generation (app.config.Settings)."""

    unknown_birth_date: str = "empty"
    series_capacity: int | None = None


@dataclass(frozen=True)
class ReserveResult:
    """The generated ids (in order) and the Patients that received them."""

    system: str
    values: list[str]
    patient_ids: list[str] = field(default_factory=list)
    replayed: bool = False


@dataclass(frozen=True)
class _Demographics:
    birth: date | None
    sex: Sex | None
    fill: dict[str, str]


@dataclass(frozen=True)
class _Allocation:
    values: list[str]
    assigned: dict[str, str | None]
    replayed: bool
    fill: dict[str, str]


def generate(engine: Engine, order: ReserveOrder, *, today: date, access: Access,
             policy: ReservePolicy, trace_id: str | None = None) -> ReserveResult:
    """Generate ``order.count`` reserve ids and, when asked, the Patients that hold them.

    Two transactions, in this order, so that an id counts as used once generated
    (docs/domain.md §2.2, Inera: "never handed out twice, even if the creating request failed"):

    1. *Allocate and record*, committed on its own: the (kind, birth date, sex) counter row
       is locked, advanced (NRID rolls over to the next series when one is used up) and
       every new value is written to the ``reserve_id`` log — with the caller's ``sub``,
       the request id and the time. Validation happens before or inside this transaction,
       so a refused request allocates nothing.
    2. *Create the Patients* (``patient`` parameter, N records from one template) or add
       the id to the existing Patient (instance level, the LRID → NRID transition), and fill
       ``reserve_id.patient_id``. If this fails, the ids stay in the log unassigned and are
       never handed out again.

    Idempotency: with ``order.request_id`` (the ``requestId`` parameter or the
    ``X-Request-Id`` header) the first request stores the key with a fingerprint of its
    parameters; a retry with the same key and parameters returns the same ids (and
    finishes step 2 if the first attempt did not), a retry with other parameters is a 422.

    Audit (issue 8): an AuditEvent (agent = the caller's ``sub``, entities = the Patients)
    is written in the last transaction of a request that generated ids — step 1 when no
    Patient is involved, so a plain generation costs one transaction.
    """
    subject = access.subject
    kind_code, system = _kind(order.system)
    count = _count(order)
    template = _template(order.patient, kind_code, system, count, today)
    key = _request_key(order.request_id)
    fingerprint = _fingerprint(order, subject)

    def allocate(uow: UnitOfWork) -> _Allocation:
        if key is not None:
            stored = uow.reserve_ids.get_request(key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise BusinessRuleViolation(
                        "This requestId was already used with other parameters; use a new "
                        "requestId for a new request")
                rows = uow.reserve_ids.of_request(key)
                source = _target(uow, order.target_id, None) if order.target_id else template
                fill = _demographics(order, source or {}, kind_code, today, policy).fill
                return _Allocation([r.value for r in rows], {r.value: r.patient_id for r in rows},
                                   True, fill)
        if order.target_id is not None:
            source = _target(uow, order.target_id, system)
        else:
            source = template or {}
            _check_template_identifiers(uow, source)
        demographics = _demographics(order, source, kind_code, today, policy)
        now = utc_now()
        values = _take_unused(uow, kind_code, system, demographics, count,
                              policy.series_capacity, now)
        uow.reserve_ids.record(system, values, now=now, subject=subject,
                               request_id=key or trace_id)
        if key is not None:
            uow.reserve_ids.add_request(key, fingerprint, subject, now)
        if order.target_id is None and template is None:
            audit_events.record(uow, access, "C", [], "0", AUDIT_SUBTYPE)
        return _Allocation(values, dict.fromkeys(values), False, demographics.fill)

    def audited(patient_ids: list[str], uow: UnitOfWork, action: str) -> list[str]:
        if not allocation.replayed:
            audit_events.record(uow, access, action, patient_ids, "0", AUDIT_SUBTYPE)
        return patient_ids

    allocation = run_write(engine, allocate)
    patient_ids: list[str] = []
    if order.target_id is not None:
        target_id = order.target_id

        def add(uow: UnitOfWork) -> list[str]:
            _add_to_target(uow, target_id, system, allocation)
            return audited([target_id], uow, "U")

        patient_ids = run_write(engine, add)
    elif template is not None:
        patient_ids = run_write(engine, lambda uow: audited(
            _create_patients(uow, template, system, allocation), uow, "C"))
    return ReserveResult(system, allocation.values, patient_ids, allocation.replayed)


def _kind(system: str | None) -> tuple[str, str]:
    if system is None:
        return nrid.CODE, nrid.SYSTEM
    kind = kind_for_system(system)
    if kind is None:
        raise BusinessRuleViolation(
            "Unknown identifier system; reserve ids can be generated for NRID "
            f"({nrid.SYSTEM}) and LRID VGR ({lrid_vgr.SYSTEM})", expression=["system"])
    if kind.CODE not in (nrid.CODE, lrid_vgr.CODE):
        raise BusinessRuleViolation(
            f"{kind.NAME} cannot be generated here; reserve ids can be generated for NRID "
            f"({nrid.SYSTEM}) and LRID VGR ({lrid_vgr.SYSTEM})", expression=["system"])
    return kind.CODE, kind.SYSTEM


def _count(order: ReserveOrder) -> int:
    count = 1 if order.count is None else order.count
    if not 1 <= count <= MAX_COUNT:
        raise BusinessRuleViolation(f"count must be 1–{MAX_COUNT}", expression=["count"])
    if order.target_id is not None:
        if count != 1:
            raise BusinessRuleViolation(
                "At instance level one reserve id is added to the Patient; count must be 1",
                expression=["count"])
        if order.patient is not None:
            raise BusinessRuleViolation(
                "At instance level the Patient is the one in the URL; leave out 'patient'",
                expression=["patient"])
    return count


def _template(body: dict[str, Any] | None, kind_code: str, system: str, count: int,
              today: date) -> dict[str, Any] | None:
    if body is None:
        return None
    resource = patients.prepare(body, today)
    resource.pop("id", None)
    held = [i for i in resource.get("identifier", []) if i.get("value") is not None]
    if any(i.get("system") == system for i in held):
        raise BusinessRuleViolation(
            "The given Patient already has an identifier of the kind to generate",
            expression=["patient"])
    if held and count > 1:
        raise BusinessRuleViolation(
            "A Patient with identifiers can be created only once; with count > 1 give a "
            "Patient without identifiers (each record gets its own new one)",
            expression=["patient"])
    return resource


def _check_template_identifiers(uow: UnitOfWork, resource: dict[str, Any]) -> None:
    # Refused before allocating: a Patient whose identifier another active Patient holds
    # would fail in step 2 and leave its new id unassigned.
    pairs = [(i.get("system", ""), i["value"]) for i in resource.get("identifier", [])
             if i.get("value") is not None]
    holders = uow.patients.identifier_holders(pairs)
    if holders:
        holder = next(iter(holders.values()))
        raise Conflict(
            f"An identifier of the given Patient is already held by Patient/{holder}; "
            "generate on that Patient instead (instance level)", expression=["patient"])


def _target(uow: UnitOfWork, target_id: str, system: str | None) -> dict[str, Any]:
    current = patients.read(uow, target_id)
    assert current.resource is not None
    resource: dict[str, Any] = json.loads(current.resource)
    if resource.get("active") is False:
        raise BusinessRuleViolation(
            f"Patient/{target_id} is inactive (merged away); generate on its survivor")
    if system is not None and any(
            i.get("system") == system for i in resource.get("identifier", [])):
        raise BusinessRuleViolation(
            f"Patient/{target_id} already holds an identifier of this kind")
    return resource


def _demographics(order: ReserveOrder, source: dict[str, Any], kind_code: str, today: date,
                  policy: ReservePolicy) -> _Demographics:
    """The birth date and sex the number encodes, from the order and the Patient (they must
    agree), and the elements the Patient gains from the order (``fill``)."""
    fill: dict[str, str] = {}
    birth = _birth_date(order, source, today, fill)
    gender = _gender(order, source, fill)
    if birth is None and policy.unknown_birth_date == "minus-120-years":
        # docs/domain.md §3.4: the alternative policy — today − 120 years, never today itself.
        birth = _years_before(today, 120)
        fill["birthDate"] = birth.isoformat()
    _check_encodable(birth, kind_code)
    sex: Sex | None = "male" if gender == "male" else "female" if gender == "female" else None
    return _Demographics(birth, sex, fill)


def _birth_date(order: ReserveOrder, source: dict[str, Any], today: date,
                fill: dict[str, str]) -> date | None:
    given = _birth(order.birth_date, "birthDate", today)
    held_value = source.get("birthDate")
    # A Patient's partial birth date (1980, 1980-05) cannot be encoded: for the number it is
    # an unknown date (NRID has a form for that, docs/domain.md §3.4); the Patient keeps it.
    partial = isinstance(held_value, str) and _PARTIAL_DATE.match(held_value) is not None
    held = None if partial else _birth(held_value, "patient.birthDate", today)
    if given is not None and (
            (held is not None and given != held)
            or (partial and not given.isoformat().startswith(str(held_value)))):
        raise BusinessRuleViolation(
            "birthDate differs from the Patient's birthDate", expression=["birthDate"])
    if given is not None and held_value is None:
        fill["birthDate"] = given.isoformat()
    return given or held


def _gender(order: ReserveOrder, source: dict[str, Any], fill: dict[str, str]) -> str | None:
    if order.gender is None:
        held: str | None = source.get("gender")
        return held
    if order.gender not in GENDERS:
        raise BusinessRuleViolation(
            "gender must be male, female, other or unknown", expression=["gender"])
    held_gender = source.get("gender")
    if held_gender is None:
        fill["gender"] = order.gender
    elif order.gender != held_gender:
        raise BusinessRuleViolation(
            "gender differs from the Patient's gender", expression=["gender"])
    return order.gender


def _check_encodable(birth: date | None, kind_code: str) -> None:
    if birth is None and kind_code == lrid_vgr.CODE:
        raise BusinessRuleViolation(
            "LRID VGR needs a birth date (YYYYMMDD is part of the number, a full date); give "
            "birthDate or generate an NRID, which has a form for an unknown birth date",
            expression=["birthDate"])
    if birth is not None and kind_code == nrid.CODE and not 1900 <= birth.year <= 2199:
        raise BusinessRuleViolation(
            "An NRID can encode birth years 1900–2199 only", expression=["birthDate"])


def _birth(value: Any, where: str, today: date) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _FULL_DATE.match(value):
        raise BusinessRuleViolation(
            f"{where} must be a full date (YYYY-MM-DD) to be encoded in a reserve id",
            expression=[where])
    try:
        birth = date.fromisoformat(value)
    except ValueError:
        raise BusinessRuleViolation(f"{where} is not a real calendar date",
                                    expression=[where]) from None
    if birth > today:
        raise BusinessRuleViolation(f"{where} is in the future", expression=[where])
    return birth


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _sex_key(sex: Sex | None) -> str:
    return sex or "unknown"


def _take_unused(uow: UnitOfWork, kind_code: str, system: str, who: _Demographics, count: int,
                 series_capacity: int | None, now: datetime) -> list[str]:
    """``count`` new numbers that no stored Patient carries yet.

    A number can exist before the counter reaches it — written by a client or a bulk load
    (NRIDs also come from Inera). Such numbers are logged as used (without a request, so
    an idempotent replay never returns them) and skipped: a generated id is never one that
    exists (docs/domain.md §3.2).
    """
    fresh: list[str] = []
    while len(fresh) < count:
        values = _take(uow, kind_code, who, count - len(fresh), series_capacity)
        held = uow.reserve_ids.held_by_patients(system, values)
        if held:
            uow.reserve_ids.record(system, sorted(held), now=now, subject=None, request_id=None)
        fresh += [value for value in values if value not in held]
    return fresh


def _take(uow: UnitOfWork, kind_code: str, who: _Demographics, count: int,
          series_capacity: int | None) -> list[str]:
    """Advance the counter of (kind, birth date, sex) by ``count`` numbers (the row stays
    locked until commit); a used-up NRID series rolls over to the next (docs/domain.md §2.2)."""
    when = who.birth.isoformat() if who.birth else "unknown"
    key = f"{when}|{_sex_key(who.sex)}"
    state = uow.reserve_ids.advance_counter(kind_code, key, count)
    make: Callable[[int, int], str]
    if kind_code == lrid_vgr.CODE:
        assert who.birth is not None
        birth = who.birth
        per_series, last_series = lrid_vgr.capacity(who.sex is not None), 1
        make = lambda running, _series: lrid_vgr.generate(birth, who.sex, running)  # noqa: E731
    else:
        per_series = nrid.capacity(who.birth is not None, who.sex is not None)
        last_series = nrid.SERIES if who.birth is not None else 1
        if who.birth is not None and series_capacity is not None:
            per_series = max(1, min(per_series, series_capacity))
        make = lambda running, series: nrid.generate(who.birth, who.sex, running, series)  # noqa: E731
    values = []
    series, running = state.series, state.next_value
    for _ in range(count):
        if running >= per_series:
            series, running = series + 1, 0
        if series > last_series:
            raise ReserveIdsExhausted(_exhausted(kind_code, who, per_series, last_series))
        values.append(make(running, series))
        running += 1
    if series != state.series:
        uow.reserve_ids.set_counter(kind_code, key, CounterState(series, running))
    return values


def _exhausted(kind_code: str, who: _Demographics, per_series: int, series: int) -> str:
    sex = {"female": "women", "male": "men", None: "unknown sex"}[who.sex]
    when = f"birth date {who.birth.isoformat()}" if who.birth else "an unknown birth date"
    if kind_code == lrid_vgr.CODE:
        numbers = {"female": "06–78 even", "male": "07–79 odd", None: "80–89"}[who.sex]
        return (f"All {per_series} LRID VGR numbers for {when} and {sex} (gg {numbers}) "
                "have been generated and a number is never reused; generate an NRID instead")
    return (f"All NRID numbers for {when} and {sex} ({series} series of {per_series}) have "
            "been generated and a number is never reused")


def _request_key(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip()
    if not key or len(key) > MAX_REQUEST_ID:
        raise InvalidRequest(f"requestId must be 1–{MAX_REQUEST_ID} characters",
                             expression=["requestId"])
    return key


def _fingerprint(order: ReserveOrder, subject: str | None) -> str:
    data = {"system": order.system, "birthDate": order.birth_date, "gender": order.gender,
            "count": order.count or 1, "patient": order.patient, "target": order.target_id,
            "subject": subject}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def mark_main_identity(resource: dict[str, Any]) -> None:
    """``use: official`` on the strongest identifier by docs/domain.md §3.5 (earliest wins a tie);
    other identifiers lose ``official``. Identifiers taken over in a merge (``old``) and
    kinds that are never a main identity (LMA) are left alone."""
    candidates = [
        (priority(ident.get("system")), position, ident)
        for position, ident in enumerate(resource.get("identifier", []))
        if ident.get("value") is not None and ident.get("use") != "old"
        and is_main_identity_candidate(ident.get("system"))
    ]
    if not candidates:
        return
    best = min(candidates, key=lambda c: (c[0], c[1]))[2]
    for _, _, ident in candidates:
        if ident is not best and ident.get("use") == "official":
            del ident["use"]
    best["use"] = "official"


def _with_identifier(resource: dict[str, Any], system: str, value: str,
                     fill: dict[str, str]) -> dict[str, Any]:
    for name, filled in fill.items():
        resource.setdefault(name, filled)
    resource.setdefault("identifier", []).append({"system": system, "value": value})
    mark_main_identity(resource)
    return resource


def _create_patients(uow: UnitOfWork, template: dict[str, Any], system: str,
                     allocation: _Allocation) -> list[str]:
    assigned = uow.reserve_ids.lock_ids(system, allocation.values)
    patient_ids = []
    for value in allocation.values:
        patient_id = assigned.get(value)
        if patient_id is None:
            patient_id = str(uuid.uuid4())
            resource = _with_identifier(copy.deepcopy(template), system, value,
                                        allocation.fill)
            patients.write(uow, patient_id, resource, None, "POST")
            uow.reserve_ids.assign_patient(system, value, patient_id)
        patient_ids.append(patient_id)
    return patient_ids


def _add_to_target(uow: UnitOfWork, target_id: str, system: str,
                   allocation: _Allocation) -> None:
    assigned = uow.reserve_ids.lock_ids(system, allocation.values)
    current = patients.read(uow, target_id, for_update=True)
    assert current.resource is not None
    resource: dict[str, Any] = json.loads(current.resource)
    held = {(i.get("system"), i.get("value")) for i in resource.get("identifier", [])}
    missing = [v for v in allocation.values
               if assigned.get(v) is None and (system, v) not in held]
    for value in missing:
        resource = _with_identifier(resource, system, value, allocation.fill)
    if missing:
        patients.write(uow, target_id, resource, current, "PUT")
    for value in allocation.values:
        if assigned.get(value) is None:
            uow.reserve_ids.assign_patient(system, value, target_id)
