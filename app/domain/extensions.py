"""The extensions this server defines, and the one check of them.

:data:`EXTENSIONS` is the definition of every extension of ours (docs/domain.md §2.1, §3.6–3.7):
where it may stand, how often, which ``value[x]`` type it carries and which of our
CodeSystems its codes come from. ``python -m app profiles`` writes each one's
StructureDefinition, CodeSystem and ValueSet in ``fhir_profiles/`` from this table
(:mod:`app.conformance`; a test fails when the files differ from it), and
:func:`check_extensions` holds every written Patient to the same table: an extension whose
url lies under this server's StructureDefinition base and breaks its definition is refused
with 422 (issue 14: a patient type "oklar" written as valueString was accepted, then read as
no type at all, and the person went unprotected).

Pure Python over the resource dict as ``fhir.resources`` dumps it; :func:`extension_problem`
never raises, whatever the shape, so that :mod:`app.domain.protection` can use it on stored
data too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.domain.errors import BusinessRuleViolation
from app.domain.text import json_text

#: Canonical base of the resources this server defines (as in its OperationDefinitions).
CANONICAL = "http://sweid.example/fhir"
STRUCTURE_DEFINITION_BASE = f"{CANONICAL}/StructureDefinition/"


@dataclass(frozen=True)
class Concept:
    """One code of a CodeSystem."""

    code: str
    display: str
    definition: str


@dataclass(frozen=True)
class Terminology:
    """One of our CodeSystems (case-sensitive codes) and the ValueSet of all its codes."""

    id: str
    title: str
    description: str
    concepts: tuple[Concept, ...]

    @property
    def system(self) -> str:
        """The CodeSystem's canonical url (``Coding.system``)."""
        return f"{CANONICAL}/CodeSystem/{self.id}"

    @property
    def value_set(self) -> str:
        """The url of the ValueSet of every code (the binding of the extension's value)."""
        return f"{CANONICAL}/ValueSet/{self.id}"

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """The codes in definition order."""
        return tuple(concept.code for concept in self.concepts)


@dataclass(frozen=True)
class Value:
    """The ``value[x]`` of an extension or of one of its parts: one FHIR type (``Coding`` or
    ``code``), bound (required) to one of our CodeSystems."""

    type: str
    terminology: Terminology

    @property
    def key(self) -> str:
        """The JSON property of the value: ``valueCoding``, ``valueCode``."""
        return f"value{self.type[0].upper()}{self.type[1:]}"


@dataclass(frozen=True)
class Part:
    """A part (sub-extension) of a complex extension; its url is its name."""

    name: str
    value: Value


@dataclass(frozen=True)
class ExtensionDefinition:
    """One extension of ours: a simple one carries ``value``, a complex one ``parts``
    (closed: no other part, no ``value[x]``). Like each of its parts, it occurs at most once
    on an element of its ``contexts`` (FHIR element paths), never as a modifier extension."""

    id: str
    title: str
    description: str
    contexts: tuple[str, ...]
    value: Value | None = None
    parts: tuple[Part, ...] = ()

    @property
    def url(self) -> str:
        """The canonical url, which is also ``Extension.url``."""
        return f"{STRUCTURE_DEFINITION_BASE}{self.id}"


PATIENT_TYPES = Terminology(
    "patient-type", "Patient type",
    "Type of a Patient record by how the person is identified (docs/domain.md §3.6). 'oklar' "
    "implies protection: the record is masked for callers without the protected-identity "
    "scope.",
    (Concept("folkbokford", "Folkbokförd",
             "Registered in the Swedish population register; identified by personnummer."),
     Concept("samordningsnummer", "Samordningsnummer",
             "Not population-registered; identified by a samordningsnummer."),
     Concept("reservnummer", "Reservnummer",
             "Identity not (yet) established; identified by a reserve number (NRID, LRID or a "
             "regional reserve id)."),
     Concept("oklar", "Oklar",
             "Unclear identity status, e.g. a former asylum seeker who says they are in hiding "
             "(docs/domain.md §3.6): keeps contact data, and is protected as if under "
             "sekretessmarkering.")))
PATIENT_GROUPS = Terminology(
    "patient-group", "Patient group",
    "Group of a reserve-number patient, coded with the kommun/län codes used in the patient "
    "administration system (docs/domain.md §3.7).",
    (Concept("01/99", "Asylsökande",
             "Asylum seeker (kommun 01, län 99). Address: Swedish residence."),
     Concept("07/99", "Gömd",
             "Undocumented person in hiding (kommun 07, län 99). Address: Swedish residence."),
     Concept("02/99", "EES/EU med kort eller intyg, nordisk konvention",
             "EEA/EU citizen with a European health insurance card or certificate, or covered "
             "by the Nordic convention (kommun 02, län 99). Address: home country."),
     Concept("03/99", "EES/EU utan kort",
             "EEA/EU citizen without card or certificate (kommun 03, län 99). Address: home "
             "country."),
     Concept("04/99", "Konventionsland",
             "Citizen of a country with a social security convention (kommun 04, län 99). "
             "Address: home country.")))
SNR_STATUSES = Terminology(
    "snr-status", "Samordningsnummer status",
    "Status of a samordningsnummer (docs/domain.md §2.1).",
    (Concept("active", "Aktiv", "The samordningsnummer is in use."),
     Concept("dormant", "Vilande",
             "Dormant after five years without renewal (delivered as deregistration code AN)."),
     Concept("deceased", "Avliden", "The person has died (deregistration code AV)."),
     Concept("deregistered", "Avregistrerad",
             "Deregistered for another reason; see the deregistration reason.")))
DEREGISTRATION_REASONS = Terminology(
    "deregistration-reason", "Deregistration reason",
    "The tax agency's deregistration codes of a personnummer or samordningsnummer "
    "(docs/domain.md §2.1).",
    (Concept("AN", "Annan orsak / vilande",
             "Other reason; for a samordningsnummer: dormant (vilande)."),
     Concept("AV", "Avliden", "Deceased."),
     Concept("GN", "Gammalt nummer", "Old personnummer replaced by a new one."),
     Concept("GS", "Gammalt samordningsnummer",
             "Old samordningsnummer replaced by a new number."),
     Concept("UV", "Utvandrad", "Emigrated."),
     Concept("OB", "Obefintlig", "Missing (no longer reachable in the register)."),
     Concept("TA", "Teknisk avregistrering", "Technical deregistration."),
     Concept("AS", "Annullerat samordningsnummer", "Annulled samordningsnummer.")))

PATIENT_TYPE = ExtensionDefinition(
    "patient-type", "Patient type",
    "The Patient's type (folkbokförd, samordningsnummer, reservnummer, oklar). Type 'oklar' "
    "makes the record protected. Search parameter: patient-type.",
    ("Patient",), value=Value("Coding", PATIENT_TYPES))
PATIENT_GROUP = ExtensionDefinition(
    "patient-group", "Patient group",
    "Group of a reserve-number patient with its kommun/län code (asylsökande 01/99, gömd "
    "07/99, EES/EU with card 02/99, EES/EU without card 03/99, convention country 04/99). "
    "Search parameter: patient-group.",
    ("Patient",), value=Value("Coding", PATIENT_GROUPS))
SNR_STATUS = ExtensionDefinition(
    "snr-status", "Samordningsnummer status",
    "Status of the samordningsnummer (active, dormant, deceased, deregistered) and the tax "
    "agency's deregistration reason code.",
    ("Patient", "Patient.identifier"),
    parts=(Part("status", Value("code", SNR_STATUSES)),
           Part("deregistrationReason", Value("code", DEREGISTRATION_REASONS))))

#: Every extension this server defines.
EXTENSIONS = (PATIENT_TYPE, PATIENT_GROUP, SNR_STATUS)
_BY_URL = {definition.url: definition for definition in EXTENSIONS}
_EXTENSION_KEYS = ("extension", "modifierExtension")


@dataclass(frozen=True)
class Placed:
    """An extension as found in a resource, with where it stands."""

    extension: Any
    #: FHIRPath of the extension itself, with positions: ``Patient.identifier[0].extension[1]``.
    expression: str
    #: The element it extends, without positions (what a definition's context names).
    context: str
    #: Found in ``modifierExtension``.
    modifier: bool

    @property
    def url(self) -> str | None:
        """``Extension.url`` when it is a string."""
        url = self.extension.get("url") if isinstance(self.extension, dict) else None
        return url if isinstance(url, str) else None


def placed_extensions(resource: Any, root: str = "Patient") -> Iterator[Placed]:
    """Every extension anywhere in ``resource`` (primitive ``_x`` extensions, contained
    resources and extensions inside extensions included), whatever its shape."""
    if _may_hold_extensions(resource):
        yield from _walk(resource, root, root)


def _may_hold_extensions(resource: Any) -> bool:
    """False when no object in ``resource`` has an extension key, as most Patients: their
    JSON text (a few µs) holds no key ending in ``xtension`` (the walk, naming the path of
    every object, took ~20 µs a Patient). A resource that is not JSON's types may."""
    text = json_text(resource)
    return text is None or b'xtension":' in text


def _walk(node: Any, expression: str, context: str) -> Iterator[Placed]:
    # Only objects and arrays are entered: a primitive holds no extension, and naming the
    # path of each (two strings) was most of the walk's cost.
    if isinstance(node, list):
        for position, item in enumerate(node):
            if isinstance(item, dict | list):
                yield from _walk(item, f"{expression}[{position}]", context)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _EXTENSION_KEYS:
            for position, item in enumerate(value if isinstance(value, list) else [value]):
                where = f"{expression}.{key}[{position}]"
                yield Placed(item, where, context, key == "modifierExtension")
                yield from _walk(item, where, f"{context}.{key}")
        elif isinstance(value, dict | list):
            name = key[1:] if isinstance(key, str) and key.startswith("_") else key
            yield from _walk(value, f"{expression}.{name}", f"{context}.{name}")


def extension_problem(placed: Placed) -> str | None:
    """The rule ``placed`` breaks as one of ours (None: it keeps its definition, or its
    url is not under this server's base). Never raises and never quotes the value."""
    url = placed.url
    if url is None or not url.startswith(STRUCTURE_DEFINITION_BASE):
        return None
    definition = _BY_URL.get(url)
    if definition is None:
        known = ", ".join(d.id for d in EXTENSIONS)
        return f"the url names no extension this server defines ({known})"
    if placed.modifier:
        return f"{definition.id} is not a modifier extension; it belongs in extension"
    if placed.context not in definition.contexts:
        return f"{definition.id} may only be used on {' or '.join(definition.contexts)}"
    if definition.value is not None:
        return _value_problem(placed.extension, definition.value, definition.id)
    return _parts_problem(placed.extension, definition)


def _value_problem(extension: dict[str, Any], value: Value, name: str) -> str | None:
    """A simple extension (or a part): exactly one ``value[x]`` of the defined type holding
    a code of its CodeSystem, and no extensions inside."""
    found = sorted(key for key in extension if key.startswith("value"))
    if found != [value.key]:
        shown = ", ".join(found) or "no value"
        return f"{name} takes exactly one {value.key} ({value.type}), not {shown}"
    if extension.get("extension"):
        return f"{name} is a simple extension: no extensions inside it"
    terminology = value.terminology
    given = extension[value.key]
    if value.type == "Coding":
        if not isinstance(given, dict):
            return f"{name}: {value.key} must be a Coding"
        if given.get("system") != terminology.system:
            return f"{name}: {value.key}.system must be {terminology.system}"
        given = given.get("code")
    if not isinstance(given, str) or given not in terminology.codes:
        return (f"{name}: the code must be one of {', '.join(terminology.codes)} "
                f"(CodeSystem {terminology.id}; codes are case-sensitive)")
    return None


def _parts_problem(extension: dict[str, Any], definition: ExtensionDefinition) -> str | None:
    """A complex extension: no ``value[x]``, at least one part, each a defined one at most
    once (closed slicing on url)."""
    names = ", ".join(part.name for part in definition.parts)
    if any(key.startswith("value") for key in extension):
        return f"{definition.id} is a complex extension: no value[x], only its parts ({names})"
    parts = extension.get("extension")
    if not isinstance(parts, list) or not parts:
        return f"{definition.id} needs at least one of its parts ({names})"
    by_name = {part.name: part for part in definition.parts}
    seen: Counter[str] = Counter()
    for item in parts:
        url = item.get("url") if isinstance(item, dict) else None
        part = by_name.get(url) if isinstance(url, str) else None
        if part is None:
            return f"{definition.id}: a part that is not one of {names}"
        seen[part.name] += 1
        if seen[part.name] > 1:
            return f"{definition.id}: part {part.name} may occur only once"
        problem = _value_problem(item, part.value, f"{definition.id}.{part.name}")
        if problem:
            return problem
    return None


def check_extensions(resource: dict[str, Any]) -> None:
    """Hold every extension of ours in a Patient to its definition (called on every write,
    ``app.services.patients.prepare``): raise :class:`BusinessRuleViolation` (422) naming
    the first broken rule, with the extension as the expression."""
    counts: Counter[tuple[str, str]] = Counter()
    for placed in placed_extensions(resource):
        problem = extension_problem(placed)
        if problem is None and placed.url in _BY_URL:
            definition = _BY_URL[placed.url]
            holder = placed.expression.rsplit(".", 1)[0]
            counts[(holder, definition.url)] += 1
            if counts[(holder, definition.url)] > 1:
                problem = f"{definition.id} may occur only once on {placed.context}"
        if problem is not None:
            raise BusinessRuleViolation(f"{placed.expression}: {problem}",
                                        expression=[placed.expression])


def coded_values(resource: dict[str, Any],
                 definition: ExtensionDefinition) -> list[tuple[str, str]]:
    """(system, code) of each well-formed occurrence of a simple coded extension of ours on
    the Patient itself (what its search parameter indexes)."""
    value = definition.value
    assert value is not None and value.type == "Coding"
    on_patient = resource.get("extension")
    placed = [Placed(item, f"Patient.extension[{position}]", "Patient", False)
              for position, item in enumerate(on_patient if isinstance(on_patient, list) else [])]
    return [(value.terminology.system, one.extension[value.key]["code"]) for one in placed
            if one.url == definition.url and extension_problem(one) is None]
