"""The conformance resources in ``fhir_profiles/``: loading them, and generating our own.

Every JSON file in ``fhir_profiles/`` is served read-only under ``/fhir`` by resource type
and id (api.md "Conformance resources"); :func:`resources` loads them once per process.
Operation owners add their OperationDefinitions by hand; the files that follow from the
identity registry, the extension table and the search parameters — the Patient profile, one
NamingSystem per identity kind, each extension of :data:`app.domain.extensions.EXTENSIONS`
with its CodeSystems and ValueSets, the SearchParameters of the server's own parameters —
are written by :func:`generate` (``python -m app profiles``) and a test checks the files
equal its output, so a new kind in :data:`app.identity.registry.KINDS` cannot be forgotten
here, and the extensions the server validates are the ones it publishes.

The standard parameters the server supports keep their HL7 definitions: verbatim copies of
the FHIR 4.0.1 SearchParameters (``SearchParameter-<hl7 id>.json``) are served too, so that
every ``definition`` in the CapabilityStatement resolves on this server
(:func:`search_parameter_url`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from app.domain.extensions import (
    CANONICAL,
    EXTENSIONS,
    PATIENT_GROUP,
    PATIENT_TYPE,
    ExtensionDefinition,
    Terminology,
    Value,
)
from app.domain.search import MODIFIERS, PARAMETER_DOCS, PARAMETERS
from app.identity.base import IdentityKind
from app.identity.registry import KINDS

PROFILES = Path(__file__).resolve().parent.parent / "fhir_profiles"
#: The resource types that ``fhir_profiles/`` may hold and the server serves.
TYPES = ("StructureDefinition", "NamingSystem", "OperationDefinition", "CodeSystem",
         "ValueSet", "SearchParameter")
PATIENT_PROFILE = f"{CANONICAL}/StructureDefinition/sweid-patient"
DATE = "2026-11-23"
VERSION = "0.1.0"
_COMMON = {"version": VERSION, "status": "active", "date": DATE, "publisher": "sweid-fhir"}

# HL7 Sweden's aliases (docs/domain.md §2): the systems a NamingSystem lists as type ``uri``.
_DATE = r"[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
_NRID_LETTER = "[ABCDEFGHJKLMNPRSTUXYZ]"
#: The stored form of each kind as a regular expression (shape only; check digits and
#: calendar dates are the kind module's job). Pattern kinds take their module's own shape.
_EXPLICIT_SHAPES = {
    "pnr": _DATE + "[0-9]{4}",
    "snr": r"[0-9]{4}(0[1-9]|1[0-2])(6[1-9]|[78][0-9]|9[01])[0-9]{4}",
    "nrid": rf"(00|2[2-9]|[3-9][0-9])[0-9]{{6}}{_NRID_LETTER}{{2}}[0-9ABCDEFGHJKLMNPRSTUXYZ][0-9]",
    "lrid-vgr": _DATE + "[KMX][0-9]{3}",
    "grid-vgr": "[0-9A-Z]{12}",
    "lma": r"\S(.{0,62}\S)?",
}


def format_regex(kind: IdentityKind) -> str:
    """The regular expression (anchored, FHIRPath/JavaScript syntax) of a kind's stored form."""
    shape = _EXPLICIT_SHAPES.get(kind.CODE)
    if shape is None:
        rule = getattr(kind, "_RULE", None)
        if rule is None:
            raise LookupError(f"no format regex for identity kind {kind.CODE}")
        shape = re.sub(r"\(\?P<\w+>", "(", rule.pattern.pattern)
    return f"^{shape}$"


def keeps_other_shapes(kind: IdentityKind) -> bool:
    """Whether the kind stores values of another shape as given (Gävleborg, seed 002)."""
    return bool(getattr(getattr(kind, "_RULE", None), "other_shapes_opaque", False))


def _shape_constraint(kind: IdentityKind, key: str) -> dict[str, str]:
    """The slice invariant on the stored form: an error, or for a kind that keeps other
    shapes as given a warning (the usual form, not the only one)."""
    if keeps_other_shapes(kind):
        return {"key": key, "severity": "warning",
                "human": f"{kind.NAME}: the value usually has the stored form "
                         f"{format_regex(kind)}; values of another shape are kept as given",
                "expression": f"value.matches('{format_regex(kind)}')"}
    return {"key": key, "severity": "error",
            "human": f"{kind.NAME}: the value has the stored form {format_regex(kind)}",
            "expression": f"value.matches('{format_regex(kind)}')"}


def format_description(kind: IdentityKind) -> str:
    """The prose of a kind's module docstring (up to its doctests), without reST markup."""
    text = (kind.__doc__ or kind.NAME).split(">>>")[0]
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")
    return " ".join(text.split())


# --- loading -------------------------------------------------------------------------------

@cache
def resources() -> dict[tuple[str, str], dict[str, Any]]:
    """Every ``fhir_profiles/*.json`` by (resourceType, id); loaded once per process."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(PROFILES.glob("*.json")):
        resource = json.loads(path.read_text("utf-8"))
        key = (resource["resourceType"], resource["id"])
        if key in found:
            raise ValueError(f"{path.name}: {key[0]}/{key[1]} is defined twice")
        found[key] = resource
    return found


def of_type(resource_type: str) -> list[dict[str, Any]]:
    """The loaded resources of one type, in file order."""
    return [res for (rtype, _), res in resources().items() if rtype == resource_type]


@cache
def _search_parameters_by_base() -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in of_type("SearchParameter"):
        for base in parameter["base"]:
            if found.setdefault((base, parameter["code"]), parameter) is not parameter:
                raise ValueError(f"two SearchParameters define {base}?{parameter['code']}")
    return found


def served_search_parameter(resource_type: str, code: str) -> dict[str, Any]:
    """The served SearchParameter that defines ``code`` on ``resource_type`` (or on every
    Resource); LookupError when ``fhir_profiles/`` has none."""
    by_base = _search_parameters_by_base()
    found = by_base.get((resource_type, code)) or by_base.get(("Resource", code))
    if found is None:
        raise LookupError(f"no SearchParameter in fhir_profiles/ defines {resource_type}?{code}")
    return found


def search_parameter_url(resource_type: str, code: str) -> str:
    """The canonical url of :func:`served_search_parameter`."""
    return str(served_search_parameter(resource_type, code)["url"])


# --- generation ----------------------------------------------------------------------------

def naming_system(kind: IdentityKind) -> dict[str, Any]:
    """The NamingSystem of one identity kind (api.md "Conformance resources")."""
    unique: list[dict[str, Any]] = []
    if kind.OID:
        unique.append({"type": "oid", "value": kind.OID, "preferred": False})
    unique.append({"type": "uri", "value": kind.SYSTEM, "preferred": True,
                   "comment": "The system this server emits."})
    unique += [{"type": "uri", "value": alias, "preferred": False,
                "comment": "HL7 Sweden alias; accepted on input and search."}
               for alias in kind.ALIASES]
    issuer = "Skatteverket" if kind.CODE in ("pnr", "snr") else None
    resource: dict[str, Any] = {
        "resourceType": "NamingSystem",
        "id": kind.CODE,
        # R4 NamingSystem has no url, version or title (they came in R5): the
        # independent validator refused them. The kind's name is in ``description``.
        "name": _pascal(kind.CODE),
        "status": "active",
        "kind": "identifier",
        "date": DATE,
        "publisher": "sweid-fhir",
        "responsible": issuer,
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "NI" if kind.CODE in ("pnr", "snr") else "PRN"}]},
        "description": f"{kind.NAME}. {format_description(kind)}",
        "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "SE"}]}],
        "usage": (f"Stored form matches {format_regex(kind)}"
                  + (" (values of another shape are stored as given). "
                     if keeps_other_shapes(kind) else ". ")
                  + f"Main-record priority {kind.PRIORITY} "
                  + "(lower is stronger, docs/domain.md §3.5); "
                  + ("generated by $generate-reserve-id." if kind.GENERATABLE
                     else "never generated by this server.")),
        "uniqueId": unique,
    }
    if issuer is None:
        del resource["responsible"]
    return resource


def code_system(terminology: Terminology) -> dict[str, Any]:
    """A complete CodeSystem with its all-codes ValueSet url."""
    return {
        "resourceType": "CodeSystem", "id": terminology.id, "url": terminology.system,
        **_COMMON, "name": _pascal(terminology.id), "title": terminology.title,
        "description": terminology.description, "caseSensitive": True,
        "valueSet": terminology.value_set, "content": "complete",
        "count": len(terminology.concepts),
        "concept": [{"code": c.code, "display": c.display, "definition": c.definition}
                    for c in terminology.concepts],
    }


def value_set(terminology: Terminology) -> dict[str, Any]:
    """The ValueSet of every code in one of our CodeSystems."""
    return {
        "resourceType": "ValueSet", "id": terminology.id, "url": terminology.value_set,
        **_COMMON, "name": _pascal(terminology.id), "title": terminology.title,
        "description": f"All codes of {terminology.system}.",
        "compose": {"include": [{"system": terminology.system}]},
    }


def _value_element(path: str, value: Value) -> dict[str, Any]:
    return {"id": f"{path}.value[x]", "path": f"{path.split(':')[0]}.value[x]", "min": 1,
            "type": [{"code": value.type}],
            "binding": {"strength": "required", "valueSet": value.terminology.value_set}}


def extension_definition(extension: ExtensionDefinition) -> dict[str, Any]:
    """The StructureDefinition of one extension of ours (app.domain.extensions)."""
    base = "Extension.extension"
    value = extension.value
    short = " | ".join(value.terminology.codes) if value is not None else extension.title
    elements: list[dict[str, Any]] = [
        {"id": "Extension", "path": "Extension", "short": short,
         "definition": extension.description, "max": "1"}]
    if value is not None:
        elements.append({"id": base, "path": base, "max": "0"})
    else:
        elements.append({"id": base, "path": base, "slicing": {
            "discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}})
    for part in extension.parts:
        path = f"{base}:{part.name}"
        elements += [
            {"id": path, "path": base, "sliceName": part.name,
             "short": " | ".join(part.value.terminology.codes), "min": 0, "max": "1"},
            {"id": f"{path}.url", "path": f"{base}.url", "fixedUri": part.name},
            _value_element(path, part.value),
        ]
    elements.append({"id": "Extension.url", "path": "Extension.url", "fixedUri": extension.url})
    if value is not None:
        elements.append(_value_element("Extension", value))
    else:
        elements.append({"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"})
    return {
        "resourceType": "StructureDefinition", "id": extension.id, "url": extension.url,
        **_COMMON, "name": _pascal(extension.id), "title": extension.title,
        "description": extension.description, "fhirVersion": "4.0.1",
        "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": context}
                    for context in extension.contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint", "differential": {"element": elements},
    }


def patient_profile(extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """The Patient profile: identifier sliced by system, one slice per identity kind with
    its format as an invariant, and the extensions whose context is Patient."""
    elements: list[dict[str, Any]] = [
        {"id": "Patient", "path": "Patient",
         "short": "A person identified by Swedish person identities",
         "definition": "Patient whose identifiers are Swedish person identities, each "
                       "with its issuing domain as urn:oid:<OID> (docs/domain.md §2)."},
    ]
    ext_urls = sorted(ext["url"] for ext in extensions
                      if any(c.get("expression") == "Patient" for c in ext.get("context", [])))
    if ext_urls:
        elements.append({"id": "Patient.extension", "path": "Patient.extension", "slicing": {
            "discriminator": [{"type": "value", "path": "url"}], "rules": "open"}})
        for url in ext_urls:
            name = url.rsplit("/", 1)[-1]
            elements.append({"id": f"Patient.extension:{name}", "path": "Patient.extension",
                             "sliceName": name, "min": 0, "max": "1",
                             "type": [{"code": "Extension", "profile": [url]}]})
    elements.append({
        "id": "Patient.identifier", "path": "Patient.identifier",
        "slicing": {"discriminator": [{"type": "value", "path": "system"}],
                    "ordered": False, "rules": "open",
                    "description": "One slice per known identity kind; other systems are "
                                   "stored opaque."},
        "constraint": [{
            "key": "sweid-1", "severity": "error",
            "human": "An identifier that names its system has a value",
            "expression": "system.exists() implies value.exists()",
        }],
    })
    for index, kind in enumerate(KINDS, start=2):
        slice_id = f"Patient.identifier:{kind.CODE}"
        elements += [
            {"id": slice_id, "path": "Patient.identifier", "sliceName": kind.CODE,
             "short": kind.NAME, "definition": format_description(kind), "min": 0,
             "max": "*",
             "constraint": [_shape_constraint(kind, f"sweid-{index}")]},
            {"id": f"{slice_id}.system", "path": "Patient.identifier.system", "min": 1,
             "fixedUri": kind.SYSTEM},
            {"id": f"{slice_id}.value", "path": "Patient.identifier.value", "min": 1},
        ]
    return {
        "resourceType": "StructureDefinition", "id": "sweid-patient", "url": PATIENT_PROFILE,
        **_COMMON, "name": "SweidPatient", "title": "Patient with Swedish person identities",
        "description": "Profile on R4 Patient: identifier sliced by system, one slice per "
                       "identity kind this server knows (personnummer, samordningsnummer, "
                       "national and regional reserve identities, LMA-nummer) with the "
                       "stored form as an invariant.",
        "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "differential": {"element": elements},
    }


#: The server's own Patient search parameters (app.domain.search): code → the extension
#: they search (docs/domain.md §3.6–3.7). Every other parameter is FHIR's own.
CUSTOM_SEARCH_PARAMETERS = {"patient-type": PATIENT_TYPE.url,
                            "patient-group": PATIENT_GROUP.url}


def custom_search_parameter(code: str, extension_url: str) -> dict[str, Any]:
    """The SearchParameter of one of the server's own Patient parameters (a token on a
    coded extension)."""
    ptype, documentation = PARAMETER_DOCS[code]
    parameter_id = f"Patient-{code}"
    return {
        "resourceType": "SearchParameter", "id": parameter_id,
        "url": f"{CANONICAL}/SearchParameter/{parameter_id}", **_COMMON,
        "name": _pascal(code), "experimental": False,
        "description": f"{documentation}. Searches the extension {extension_url} "
                       "(valueCoding, system|code or code).",
        "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "SE"}]}],
        "code": code, "base": ["Patient"], "type": ptype,
        "expression": f"Patient.extension.where(url='{extension_url}').value",
        "multipleOr": True, "multipleAnd": True,
        "modifier": sorted(MODIFIERS[PARAMETERS[code]]),
    }


def generate() -> dict[str, dict[str, Any]]:
    """The generated files of ``fhir_profiles/``: file name → resource."""
    out: dict[str, dict[str, Any]] = {}
    extensions = [extension_definition(extension) for extension in EXTENSIONS]
    for definition in extensions:
        out[f"StructureDefinition-extension-{definition['id']}.json"] = definition
    for extension in EXTENSIONS:
        values = [extension.value] if extension.value else [p.value for p in extension.parts]
        for terminology in (value.terminology for value in values):
            out[f"CodeSystem-{terminology.id}.json"] = code_system(terminology)
            out[f"ValueSet-{terminology.id}.json"] = value_set(terminology)
    out["StructureDefinition-sweid-patient.json"] = patient_profile(extensions)
    for kind in KINDS:
        out[f"NamingSystem-{kind.CODE}.json"] = naming_system(kind)
    for code, extension_url in CUSTOM_SEARCH_PARAMETERS.items():
        out[f"SearchParameter-Patient-{code}.json"] = custom_search_parameter(code, extension_url)
    return out


def dumps(resource: dict[str, Any]) -> str:
    """The file text of a resource (stable, diff-friendly)."""
    return json.dumps(resource, ensure_ascii=False, indent=2) + "\n"


def write_generated(directory: Path = PROFILES) -> list[str]:
    """Write every generated file whose content differs; the names written."""
    changed = []
    for name, resource in generate().items():
        path = directory / name
        text = dumps(resource)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            changed.append(name)
    return changed


def stale_files(directory: Path = PROFILES) -> list[str]:
    """Generated files that are missing or differ from the generator's output."""
    return [name for name, resource in generate().items()
            if not (directory / name).exists()
            or (directory / name).read_text("utf-8") != dumps(resource)]


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", code))
