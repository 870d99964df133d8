"""What the console shows of a Patient, in Swedish: pure functions from a (possibly masked)
resource to display rows. No Flask, no SQL: the views pass resources the service layer read
and :func:`app.masking.present_dict` already shaped for the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.extensions import PATIENT_GROUP, PATIENT_GROUPS, PATIENT_TYPE, PATIENT_TYPES
from app.domain.merge import OLD, rank
from app.domain.protection import SECURITY_LABEL_SYSTEM
from app.identity.registry import kind_for_system, priority

GENDERS = {"female": "Kvinna", "male": "Man", "other": "Annat", "unknown": "Okänt"}
LINK_TYPES = {"replaced-by": "Ersatt av", "replaces": "Ersätter", "seealso": "Se även",
              "refer": "Hänvisar till"}
PROTECTION_REASONS = {"sekretessmarkering": "Sekretessmarkering",
                      "skyddadFolkbokforing": "Skyddad folkbokföring"}
TELECOM_SYSTEMS = {"phone": "Telefon", "email": "E-post", "sms": "SMS", "fax": "Fax"}


@dataclass(frozen=True)
class Identity:
    """One identifier as a row: kind, display form, whether it is the main one, validity."""

    kind: str
    title: str
    value: str
    system: str
    main: bool
    taken_over: bool
    valid: str


@dataclass(frozen=True)
class Link:
    """One ``Patient.link`` as a row."""

    type: str
    label: str
    patient_id: str


@dataclass
class PersonView:
    """Everything the console shows of one record."""

    id: str
    name: str
    birth_date: str
    gender: str
    active: bool
    identities: list[Identity]
    links: list[Link]
    masked: bool
    protection: str | None
    contacts: list[tuple[str, str]] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    patient_type: str | None = None
    patient_group: str | None = None
    version: str = ""

    @property
    def survivor(self) -> str | None:
        """The record this one was merged into."""
        return next((link.patient_id for link in self.links if link.type == "replaced-by"),
                    None)

    @property
    def main_identity(self) -> Identity | None:
        """The identity the person is known by (domain.md §3.5)."""
        return self.identities[0] if self.identities else None


#: The short names staff use for the national and VGR kinds; other kinds show their name.
SHORT_NAMES = {"pnr": "PNR", "snr": "SNR", "nrid": "NRID", "lrid-vgr": "LRID", "grid-vgr": "GRID",
               "lma": "LMA"}


def kind_name(system: str | None) -> str:
    """The short name of an identity kind (``PNR``, ``NRID`` …), its name, or the system."""
    kind = kind_for_system(system)
    if kind is not None:
        return SHORT_NAMES.get(kind.CODE, kind.NAME)
    return system or "okänt system"


def kind_title(system: str | None) -> str:
    """The full name of an identity kind (``Personnummer``) or the system itself."""
    kind = kind_for_system(system)
    return kind.NAME if kind is not None else system or "okänt system"


def display_value(system: str | None, value: str) -> str:
    """A value in its kind's display form (``19980101-9980``), else as stored."""
    kind = kind_for_system(system)
    if kind is None:
        return value
    try:
        return kind.format(value)
    except Exception:  # noqa: BLE001 — a stored value the kind cannot format shows as is
        return value


def identities(resource: dict[str, Any]) -> list[Identity]:
    """Every identifier, the main identity first by the priority rule (domain.md §3.5:
    PNR > SNR > NRID > LRID VGR > other regional reserve > GRID; LMA never main); identities
    taken over in a merge (``use=old``) last."""
    items = [i for i in resource.get("identifier") or [] if isinstance(i, dict)
             and isinstance(i.get("value"), str)]
    ordered = sorted(items, key=lambda i: (i.get("use") == OLD, priority(i.get("system"))))
    best = rank(resource)
    rows = []
    for position, ident in enumerate(ordered):
        system = ident.get("system") or ""
        period = ident.get("period") or {}
        valid = " – ".join(part for part in (period.get("start", ""), period.get("end", ""))
                           if part) if period else ""
        rows.append(Identity(
            kind=kind_name(system), title=kind_title(system),
            value=display_value(system, ident["value"]), system=system,
            main=position == 0 and ident.get("use") != OLD and priority(system) == best,
            taken_over=ident.get("use") == OLD, valid=valid or "tills vidare"))
    return rows


def links(resource: dict[str, Any]) -> list[Link]:
    """The record's links as rows."""
    rows = []
    for link in resource.get("link") or []:
        reference = str((link.get("other") or {}).get("reference", ""))
        patient_id = reference.rpartition("/")[2]
        kind = str(link.get("type", ""))
        if patient_id:
            rows.append(Link(kind, LINK_TYPES.get(kind, kind), patient_id))
    return rows


def full_name(resource: dict[str, Any]) -> str:
    """``Given Family`` of the first name, or a dash."""
    for name in resource.get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("given", []), name.get("family", "")]
        text = " ".join(str(p) for p in parts if p)
        if text:
            return text
    return "–"


def protection_reason(resource: dict[str, Any], protected: bool) -> str | None:
    """Why a record is protected, in Swedish (None when it is not)."""
    if not protected:
        return None
    labels = [PROTECTION_REASONS.get(str(label.get("code")), str(label.get("code")))
              for label in (resource.get("meta") or {}).get("security", [])
              if label.get("system") == SECURITY_LABEL_SYSTEM]
    if labels:
        return ", ".join(labels)
    if _coding(resource, PATIENT_TYPE.url) == "oklar":
        return "Patienttyp Oklar"
    return "Kopplad till en skyddad person"


def _coding(resource: dict[str, Any], url: str) -> str | None:
    for extension in resource.get("extension") or []:
        if extension.get("url") == url:
            code = (extension.get("valueCoding") or {}).get("code")
            return str(code) if code is not None else None
    return None


def _display(terminology: Any, code: str | None) -> str | None:
    if code is None:
        return None
    found = next((c for c in terminology.concepts if c.code == code), None)
    return f"{found.display} ({code})" if found else code


def person(resource: dict[str, Any], *, protected: bool, masked: bool) -> PersonView:
    """The display model of a record as the caller may see it."""
    contacts = [(TELECOM_SYSTEMS.get(str(t.get("system")), str(t.get("system", "Kontakt"))),
                 str(t.get("value", ""))) for t in resource.get("telecom") or []]
    addresses = []
    for address in resource.get("address") or []:
        parts = [*address.get("line", []), address.get("postalCode", ""), address.get("city", ""),
                 address.get("district", ""), address.get("state", ""),
                 address.get("country", "")]
        text = ", ".join(str(p) for p in parts if p)
        if text:
            addresses.append(text)
    return PersonView(
        id=str(resource.get("id", "")),
        name=full_name(resource),
        birth_date=str(resource.get("birthDate") or "okänt"),
        gender=GENDERS.get(str(resource.get("gender")), "–"),
        active=resource.get("active", True) is not False,
        identities=identities(resource),
        links=links(resource),
        masked=masked,
        protection=protection_reason(resource, protected),
        contacts=contacts,
        addresses=addresses,
        patient_type=_display(PATIENT_TYPES, _coding(resource, PATIENT_TYPE.url)),
        patient_group=_display(PATIENT_GROUPS, _coding(resource, PATIENT_GROUP.url)),
        version=str((resource.get("meta") or {}).get("versionId", "")),
    )
